package session

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/eventtime"
)

const user = "005xx000001SvUeAAK"

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// at returns t0 plus the given minutes.
func at(min float64) time.Time { return t0.Add(time.Duration(min * float64(time.Minute))) }

func login(id string, min float64) Event {
	return Event{ID: id, Kind: KindLogin, UserID: user, At: at(min), Source: SourceWebhook}
}

func logout(id string, min float64) Event {
	return Event{ID: id, Kind: KindLogout, UserID: user, At: at(min), Source: SourceWebhook}
}

// pollID is the poll's event id for a run at the given minute.
func pollID(min float64) string { return "poll/" + at(min).Format(time.RFC3339) + "/" + user }

func pollActive(min, expires float64, presence *Presence) Event {
	return Event{ID: pollID(min), Kind: KindPollActive, UserID: user, At: at(min), Source: SourcePoll,
		SessionExpires: at(expires), Presence: presence}
}

func pollInactive(min float64) Event {
	return Event{ID: pollID(min), Kind: KindPollInactive, UserID: user, At: at(min), Source: SourcePoll}
}

var (
	omniAvailable = &Presence{StatusDeveloperName: "Available", Available: true}
	omniAway      = &Presence{StatusDeveloperName: "Away", Available: false}
	omniOffline   = &Presence{StatusDeveloperName: "Offline", Available: false}
)

// active is a user logged in as of the given minute, switched on by event id.
func active(id string, min float64) State {
	return State{UserID: user, Active: true, At: at(min), Source: sourceOf(id), LastEventID: id, Available: ptr(true)}
}

// inactive is a user logged out as of the given minute, switched off by event id.
func inactive(id string, min float64) State {
	return State{UserID: user, At: at(min), Source: sourceOf(id), LastEventID: id, Available: ptr(false)}
}

func sourceOf(id string) Source {
	if strings.HasPrefix(id, "poll/") {
		return SourcePoll
	}
	return SourceWebhook
}

// with returns s changed by f.
func with(s State, f func(*State)) State {
	f(&s)
	return s
}

// allTargets is a session with every target enabled, defaults filled.
func allTargets() config.Session {
	return config.Session{
		Enabled: true,
		Targets: config.SessionTargets{
			Distribution: config.DistributionTarget{Enabled: true, Action: "Omnibridge_ToggleUsers"},
			OmniChannel:  config.OmniChannelTarget{Enabled: true, OnLoginStatus: "Available"},
			Connect:      config.ConnectTarget{Enabled: true, OnLogoutStatus: "Offline", WhileOnContact: "defer"},
		},
	}.WithDefaults()
}

const (
	loggedIn  = config.DefaultReasonLoggedIn
	loggedOut = config.DefaultReasonLoggedOut
	noSession = config.DefaultReasonNoSession
)

func act(t Target, on bool, status, reason string, ev Event) Action {
	return Action{Target: t, UserID: user, Online: on, Status: status, Reason: reason, CausedBy: ev.ID}
}

// onActions are the actions allTargets sends to switch on.
func onActions(reason string, ev Event) []Action {
	return []Action{act(TargetDistribution, true, "", reason, ev), act(TargetOmniChannel, true, "Available", reason, ev)}
}

// offActions are the actions allTargets sends to switch off.
func offActions(reason string, ev Event) []Action {
	return []Action{
		act(TargetDistribution, false, "", reason, ev),
		act(TargetOmniChannel, false, OfflineStatus, reason, ev),
		act(TargetConnect, false, "Offline", reason, ev),
	}
}

// audit builds the expected audit for ev, decided one second after it, with the state after.
func audit(ev Event, o Outcome, record bool, reason string, after State) Audit {
	return Audit{Record: record, Outcome: o, Reason: reason, UserID: ev.UserID, EventID: ev.ID, Kind: ev.Kind,
		Source: ev.Source, EventAt: ev.At, DecidedAt: ev.At.Add(time.Second), Active: after.Active, Available: after.Available}
}

// observedBy returns s as written for ev.
func observedBy(s State, ev Event) State {
	s.UserID, s.At, s.Source, s.LastEventID = ev.UserID, ev.At, ev.Source, ev.ID
	return s
}

type decideCase struct {
	name    string
	cfg     func(*config.Session) // changes allTargets()
	st      State
	ev      Event
	want    Decision
	explain []string // fragments of the explanation, which is otherwise not compared
}

func TestDecide(t *testing.T) {
	var (
		li1   = login("li-1", 0)
		lo1   = logout("lo-1", 30)
		pa10  = pollActive(10, 120, nil)
		pi40  = pollInactive(40)
		onTo  = func(ev Event) State { return observedBy(State{Active: true, Available: ptr(true)}, ev) }
		offTo = func(ev Event) State { return observedBy(State{Available: ptr(false)}, ev) }
	)
	tests := []decideCase{
		// Login.
		{
			name: "login of an unknown user switches on",
			ev:   li1,
			want: Decision{State: onTo(li1), Write: true, Actions: onActions(loggedIn, li1),
				Audit: audit(li1, OutcomeToggledOn, true, loggedIn, onTo(li1))},
			explain: []string{"login event (no state known); switched on: distribution, omniChannel Available"},
		},
		{
			name: "login after logout switches on and drops the pending offline retries",
			st: with(inactive("lo-0", -5), func(s *State) {
				s.Retry = offActions(loggedOut, logout("lo-0", -5))
			}),
			ev: li1,
			want: Decision{State: onTo(li1), Write: true, Actions: onActions(loggedIn, li1),
				Audit: audit(li1, OutcomeToggledOn, true, loggedIn, onTo(li1))},
			explain: []string{"logged out as of 2026-03-02T08:55:00Z"},
		},
		{
			name: "login while logged in only advances the state's time, keeping the manual switch-off",
			st:   with(active("li-0", -5), func(s *State) { s.ManualOff = true; s.PresenceAvailable = ptr(false) }),
			ev:   li1,
			want: Decision{
				State: with(active("li-1", 0), func(s *State) { s.ManualOff = true; s.PresenceAvailable = ptr(false) }), Write: true,
				Audit: audit(li1, OutcomeUnchanged, false, "", active("", 0)),
			},
			explain: []string{"while logged in (another session); nothing to switch"},
		},
		{
			name: "login with Omni-Channel but no login status sends nothing to Omni-Channel",
			cfg:  func(s *config.Session) { s.Targets.OmniChannel.OnLoginStatus = "" },
			ev:   li1,
			want: Decision{State: onTo(li1), Write: true, Actions: []Action{act(TargetDistribution, true, "", loggedIn, li1)},
				Audit: audit(li1, OutcomeToggledOn, true, loggedIn, onTo(li1))},
		},
		{
			name: "targets subset: only distribution enabled, one action",
			cfg: func(s *config.Session) {
				s.Targets.OmniChannel.Enabled = false
				s.Targets.Connect.Enabled = false
			},
			st: active("li-0", -5),
			ev: lo1,
			want: Decision{State: offTo(lo1), Write: true, Actions: []Action{act(TargetDistribution, false, "", loggedOut, lo1)},
				Audit: audit(lo1, OutcomeToggledOff, true, loggedOut, offTo(lo1))},
		},
		{
			name: "custom reasons are sent",
			cfg:  func(s *config.Session) { s.Reasons.LoggedIn = "Signed in" },
			ev:   li1,
			want: Decision{State: onTo(li1), Write: true, Actions: onActions("Signed in", li1),
				Audit: audit(li1, OutcomeToggledOn, true, "Signed in", onTo(li1))},
		},
		{
			name: "a disabled feature tracks the state but sends nothing",
			cfg:  func(s *config.Session) { s.Enabled = false },
			ev:   li1,
			want: Decision{State: onTo(li1), Write: true,
				Audit: audit(li1, OutcomeToggledOn, true, loggedIn, onTo(li1))},
			explain: []string{"no enabled target concerned"},
		},

		// Logout.
		{
			name: "logout while logged in switches off everywhere and ends the session's notes",
			st: with(active("li-0", 0), func(s *State) {
				s.ManualOff, s.PresenceAvailable, s.SessionExpires = true, ptr(false), at(120)
			}),
			ev: lo1,
			want: Decision{State: offTo(lo1), Write: true, Actions: offActions(loggedOut, lo1),
				Audit: audit(lo1, OutcomeToggledOff, true, loggedOut, offTo(lo1))},
			explain: []string{"logout event (logged in as of 2026-03-02T09:00:00Z); switched off: distribution, omniChannel Offline, connect Offline"},
		},
		{
			name: "logout of an unknown user switches off: a logout implies a session",
			ev:   lo1,
			want: Decision{State: offTo(lo1), Write: true, Actions: offActions(loggedOut, lo1),
				Audit: audit(lo1, OutcomeToggledOff, true, loggedOut, offTo(lo1))},
		},
		{
			name: "logout while logged out only advances the state's time",
			st:   inactive(pollID(20), 20),
			ev:   lo1,
			want: Decision{State: inactive("lo-1", 30), Write: true,
				Audit: audit(lo1, OutcomeUnchanged, false, "", inactive("", 0))},
		},
		{
			name: "logout supersedes retries: opposite ones dropped, same target replaced, others kept",
			cfg:  func(s *config.Session) { s.Targets.Connect.Enabled = false },
			st: with(active("li-0", 0), func(s *State) {
				old := logout("lo-0", -10)
				s.Retry = []Action{
					act(TargetDistribution, true, "", loggedIn, login("li-0", 0)),
					act(TargetOmniChannel, false, OfflineStatus, loggedOut, old),
					act(TargetConnect, false, "Offline", loggedOut, old),
				}
			}),
			ev: lo1,
			want: Decision{
				State: with(offTo(lo1), func(s *State) {
					s.Retry = []Action{act(TargetConnect, false, "Offline", loggedOut, logout("lo-0", -10))}
				}),
				Write: true,
				Actions: []Action{
					act(TargetDistribution, false, "", loggedOut, lo1),
					act(TargetOmniChannel, false, OfflineStatus, loggedOut, lo1),
				},
				Audit: audit(lo1, OutcomeToggledOff, true, loggedOut, offTo(lo1)),
			},
		},

		// Poll finding a session.
		{
			name: "first sight via poll switches on and records expiry and presence",
			ev:   pollActive(10, 120, omniOffline),
			want: func() Decision {
				ev := pollActive(10, 120, omniOffline)
				s := with(onTo(ev), func(s *State) { s.SessionExpires, s.PresenceAvailable = at(120), ptr(false) })
				return Decision{State: s, Write: true, Actions: onActions(loggedIn, ev), Audit: audit(ev, OutcomeToggledOn, true, loggedIn, s)}
			}(),
			explain: []string{"poll found a session (no state known); switched on"},
		},
		{
			name: "poll repairs a missed login",
			st:   inactive("lo-0", -30),
			ev:   pa10,
			want: func() Decision {
				s := with(onTo(pa10), func(s *State) { s.SessionExpires = at(120) })
				return Decision{State: s, Write: true, Actions: onActions(loggedIn, pa10), Audit: audit(pa10, OutcomeToggledOn, true, loggedIn, s)}
			}(),
		},
		{
			name: "poll confirming a logged-in user with the same expiry costs nothing",
			st:   with(active("li-0", 0), func(s *State) { s.SessionExpires = at(120) }),
			ev:   pa10,
			want: Decision{State: with(active("li-0", 0), func(s *State) { s.SessionExpires = at(120) }),
				Audit: audit(pa10, OutcomeUnchanged, false, "", active("", 0))},
			explain: []string{"nothing changed"},
		},
		{
			name: "poll confirming a logged-in user with unchanged presence costs nothing",
			st:   with(active("li-0", 0), func(s *State) { s.SessionExpires, s.PresenceAvailable = at(120), ptr(true) }),
			ev:   pollActive(10, 120, omniAvailable),
			want: Decision{State: with(active("li-0", 0), func(s *State) { s.SessionExpires, s.PresenceAvailable = at(120), ptr(true) }),
				Audit: audit(pollActive(10, 120, omniAvailable), OutcomeUnchanged, false, "", active("", 0))},
		},
		{
			name: "poll seeing a later expiry writes it without an audit record",
			st:   with(active("li-0", 0), func(s *State) { s.SessionExpires = at(120) }),
			ev:   pollActive(10, 130, nil),
			want: Decision{
				State: with(active(pollID(10), 10), func(s *State) { s.SessionExpires = at(130) }), Write: true,
				Audit: audit(pollActive(10, 130, nil), OutcomeUnchanged, false, "", active("", 0)),
			},
		},
		{
			name: "presence unavailable before it was ever seen available is not a manual switch-off",
			st:   with(active("li-0", 0), func(s *State) { s.SessionExpires = at(120) }),
			ev:   pollActive(10, 120, omniOffline),
			want: Decision{
				State: with(active(pollID(10), 10), func(s *State) { s.SessionExpires, s.PresenceAvailable = at(120), ptr(false) }), Write: true,
				Audit: audit(pollActive(10, 120, omniOffline), OutcomeUnchanged, false, "", active("", 0)),
			},
		},
		{
			name: "manual switch-off is respected: left off, online retries dropped",
			st: with(active("li-0", 0), func(s *State) {
				s.SessionExpires, s.PresenceAvailable = at(120), ptr(true)
				s.Retry = []Action{act(TargetDistribution, true, "", loggedIn, login("li-0", 0))}
			}),
			ev: pollActive(10, 120, omniAway),
			want: func() Decision {
				s := with(active(pollID(10), 10), func(s *State) { s.SessionExpires, s.PresenceAvailable, s.ManualOff = at(120), ptr(false), true })
				return Decision{State: s, Write: true, Audit: audit(pollActive(10, 120, omniAway), OutcomeLeftOff, true, ReasonLeftOff, s)}
			}(),
			explain: []string{"the user switched themselves off in Omni-Channel (Away) while logged in; left off"},
		},
		{
			name: "manual switch-off with the reassert policy switches back on",
			cfg:  func(s *config.Session) { s.ManualOverride = config.ManualOverrideReassert },
			st:   with(active("li-0", 0), func(s *State) { s.SessionExpires, s.PresenceAvailable = at(120), ptr(true) }),
			ev:   pollActive(10, 120, omniAway),
			want: func() Decision {
				ev := pollActive(10, 120, omniAway)
				reason := "Logged in to Salesforce; manual off overridden (manualOverride=reassert)"
				s := with(active(pollID(10), 10), func(s *State) { s.SessionExpires, s.PresenceAvailable = at(120), ptr(false) })
				return Decision{State: s, Write: true, Actions: onActions(reason, ev), Audit: audit(ev, OutcomeReasserted, true, reason, s)}
			}(),
			explain: []string{"switched back on (manualOverride=reassert): distribution, omniChannel Available"},
		},
		{
			name: "reassert with no target able to switch on leaves the user off",
			cfg: func(s *config.Session) {
				s.ManualOverride = config.ManualOverrideReassert
				s.Targets.Distribution.Enabled = false
				s.Targets.OmniChannel.Enabled = false
			},
			st: with(active("li-0", 0), func(s *State) { s.SessionExpires, s.PresenceAvailable = at(120), ptr(true) }),
			ev: pollActive(10, 120, omniAway),
			want: func() Decision {
				s := with(active(pollID(10), 10), func(s *State) { s.SessionExpires, s.PresenceAvailable, s.ManualOff = at(120), ptr(false), true })
				return Decision{State: s, Write: true, Audit: audit(pollActive(10, 120, omniAway), OutcomeLeftOff, true, ReasonLeftOff, s)}
			}(),
			explain: []string{"no enabled target can switch the user back on"},
		},
		{
			name: "a user noted as switched off who stays off costs nothing",
			st:   with(active("li-0", 0), func(s *State) { s.SessionExpires, s.PresenceAvailable, s.ManualOff = at(120), ptr(false), true }),
			ev:   pollActive(10, 120, omniAway),
			want: Decision{State: with(active("li-0", 0), func(s *State) { s.SessionExpires, s.PresenceAvailable, s.ManualOff = at(120), ptr(false), true }),
				Audit: audit(pollActive(10, 120, omniAway), OutcomeUnchanged, false, "", active("", 0))},
		},
		{
			name: "a user noted as switched off who switches back on is noted, nothing sent",
			st:   with(active("li-0", 0), func(s *State) { s.SessionExpires, s.PresenceAvailable, s.ManualOff = at(120), ptr(false), true }),
			ev:   pollActive(10, 120, omniAvailable),
			want: func() Decision {
				s := with(active(pollID(10), 10), func(s *State) { s.SessionExpires, s.PresenceAvailable = at(120), ptr(true) })
				return Decision{State: s, Write: true, Audit: audit(pollActive(10, 120, omniAvailable), OutcomeSwitchedBackOn, true, ReasonSwitchedBackOn, s)}
			}(),
		},

		// Poll finding no session.
		{
			name: "expired session without a logout event switches off with No active session",
			st:   with(active("li-0", 0), func(s *State) { s.SessionExpires, s.PresenceAvailable = at(35), ptr(true) }),
			ev:   pi40,
			want: Decision{State: offTo(pi40), Write: true, Actions: offActions(noSession, pi40),
				Audit: audit(pi40, OutcomeToggledOff, true, noSession, offTo(pi40))},
			explain: []string{"poll found no session (logged in as of"},
		},
		{
			name: "logout event before the poll: the poll confirms, nothing sent or written",
			st:   inactive("lo-1", 30),
			ev:   pi40,
			want: Decision{State: inactive("lo-1", 30), Audit: audit(pi40, OutcomeUnchanged, false, "", inactive("", 0))},
		},
		{
			name: "poll finding no session for an unknown user does nothing",
			ev:   pi40,
			want: Decision{Audit: audit(pi40, OutcomeUnchanged, false, "", State{})},
		},

		// Ordering.
		{
			name: "logout older than the poll observation is stale and ignored",
			st:   with(active(pollID(10), 10), func(s *State) { s.SessionExpires = at(120) }),
			ev:   logout("lo-0", 9),
			want: Decision{State: with(active(pollID(10), 10), func(s *State) { s.SessionExpires = at(120) }),
				Audit: audit(logout("lo-0", 9), OutcomeStale, true, "older than the state from poll at 2026-03-02T09:10:00Z", active("", 0))},
			explain: []string{"logout event at 2026-03-02T09:09:00Z is older than the state from poll at 2026-03-02T09:10:00Z, which has the user logged in; ignored"},
		},
		{
			name: "logout newer than the poll observation applies",
			st:   with(active(pollID(10), 10), func(s *State) { s.SessionExpires = at(120) }),
			ev:   logout("lo-2", 11),
			want: Decision{State: offTo(logout("lo-2", 11)), Write: true, Actions: offActions(loggedOut, logout("lo-2", 11)),
				Audit: audit(logout("lo-2", 11), OutcomeToggledOff, true, loggedOut, offTo(logout("lo-2", 11)))},
		},
		{
			name: "a poll older than a logout is stale",
			st:   inactive("lo-1", 30),
			ev:   pollActive(29, 120, nil),
			want: Decision{State: inactive("lo-1", 30),
				Audit: audit(pollActive(29, 120, nil), OutcomeStale, true, "older than the state from webhook at 2026-03-02T09:30:00Z", inactive("", 0))},
		},
		{
			name: "an event at the same time as the state, with another id, applies",
			st:   active("li-0", 30),
			ev:   lo1,
			want: Decision{State: offTo(lo1), Write: true, Actions: offActions(loggedOut, lo1),
				Audit: audit(lo1, OutcomeToggledOff, true, loggedOut, offTo(lo1))},
		},
		{
			name: "duplicate event id",
			st:   inactive("lo-1", 30),
			ev:   lo1,
			want: Decision{State: inactive("lo-1", 30), Audit: audit(lo1, OutcomeDuplicate, false, "", inactive("", 0))},
		},
		{
			name: "duplicate of an event older than the state",
			st:   inactive("lo-1", 30),
			ev:   logout("lo-1", 20),
			want: Decision{State: inactive("lo-1", 30), Audit: audit(logout("lo-1", 20), OutcomeDuplicate, false, "", inactive("", 0))},
		},

		// Invalid events.
		{
			name:    "event without an id",
			ev:      login("", 0),
			want:    Decision{Audit: audit(login("", 0), OutcomeInvalid, true, "", State{})},
			explain: []string{"invalid event: no event id; nothing done"},
		},
		{
			name:    "event of an unknown kind",
			ev:      Event{ID: "x", Kind: "relogin", UserID: user, At: at(0)},
			want:    Decision{Audit: audit(Event{ID: "x", Kind: "relogin", UserID: user, At: at(0)}, OutcomeInvalid, true, "", State{})},
			explain: []string{`unknown kind "relogin"`},
		},
		{
			name: "event for another user",
			st:   active("li-0", 0),
			ev:   with2(logout("lo-1", 30), func(e *Event) { e.UserID = "005xx000001OtherAAA" }),
			want: Decision{State: active("li-0", 0),
				Audit: audit(with2(logout("lo-1", 30), func(e *Event) { e.UserID = "005xx000001OtherAAA" }), OutcomeInvalid, true, "", active("", 0))},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := allTargets()
			if tc.cfg != nil {
				tc.cfg(&s)
			}
			runCase(t, tc, s, tc.ev.At.Add(time.Second))
		})
	}
}

func with2(e Event, f func(*Event)) Event {
	f(&e)
	return e
}

func runCase(t *testing.T, tc decideCase, s config.Session, now time.Time) {
	t.Helper()
	before := asJSON(t, tc.st)
	got := Decide(tc.st, tc.ev, s, eventtime.New(now, 0))
	if asJSON(t, tc.st) != before {
		t.Error("Decide modified its input state")
	}
	if again := Decide(tc.st, tc.ev, s, eventtime.New(now, 0)); !reflect.DeepEqual(got, again) {
		t.Error("Decide is not deterministic")
	}
	for _, frag := range tc.explain {
		if !strings.Contains(got.Audit.Explanation, frag) {
			t.Errorf("explanation lacks %q:\n%s", frag, got.Audit.Explanation)
		}
	}
	if got.Audit.Explanation == "" {
		t.Error("no explanation")
	}
	got.Audit.Explanation = ""
	if !reflect.DeepEqual(got, tc.want) {
		t.Errorf("decision differs\n--- got\n%s\n--- want\n%s", asJSON(t, got), asJSON(t, tc.want))
	}
	if !got.Write && !reflect.DeepEqual(got.State, tc.st) {
		t.Errorf("no write, but the state changed")
	}
}

func TestDecideZeroEventTimeIsNow(t *testing.T) {
	ev := login("li-1", 0)
	ev.At, ev.Source = time.Time{}, ""
	now := at(5)
	d := Decide(State{}, ev, allTargets(), eventtime.New(now, 0))
	if !d.State.At.Equal(now) || d.State.Source != SourceWebhook || d.Audit.Source != SourceWebhook || !d.Audit.EventAt.Equal(now) {
		t.Fatalf("state %+v, audit %+v; want the event timed at now, from the webhook", d.State, d.Audit)
	}
}

func TestDecideDoesNotAliasInput(t *testing.T) {
	st := with(inactive("lo-0", 0), func(s *State) {
		s.Retry = []Action{act(TargetConnect, false, "Offline", loggedOut, logout("lo-0", 0))}
	})
	d := Decide(st, pollInactive(10), allTargets(), eventtime.New(at(10), 0))
	d.State.Available = ptr(true)
	d.State.Retry[0].Attempts = 9
	if *st.Available || st.Retry[0].Attempts != 0 {
		t.Fatal("the decision's state shares memory with the input")
	}
}

// TestDecideSequence runs a day of one user's events through Decide, feeding each decision's
// state (when written) to the next, as the shell does.
func TestDecideSequence(t *testing.T) {
	type step struct {
		ev      Event
		outcome Outcome
		write   bool
		record  bool
		actions int
	}
	steps := []step{
		{login("li-1", 0), OutcomeToggledOn, true, true, 2},
		{pollActive(5, 120, omniOffline), OutcomeUnchanged, true, false, 0}, // presence first seen: console not yet applied
		{pollActive(10, 120, omniAvailable), OutcomeUnchanged, true, false, 0},
		{pollActive(15, 120, omniAvailable), OutcomeUnchanged, false, false, 0}, // the common case: free
		{pollActive(20, 120, omniAway), OutcomeLeftOff, true, true, 0},
		{pollActive(25, 120, omniAway), OutcomeUnchanged, false, false, 0},
		{pollActive(30, 120, omniAvailable), OutcomeSwitchedBackOn, true, true, 0},
		{logout("lo-1", 40), OutcomeToggledOff, true, true, 3},
		{pollActive(39, 120, omniAvailable), OutcomeStale, false, true, 0}, // a slow poll that started before the logout
		{pollInactive(45), OutcomeUnchanged, false, false, 0},              // the poll confirms the logout
		{logout("lo-1", 40), OutcomeDuplicate, false, false, 0},            // webhook retry
		{pollActive(50, 170, nil), OutcomeToggledOn, true, true, 2},        // logged in again, login event lost: repaired
		{pollInactive(180), OutcomeToggledOff, true, true, 3},              // session expired, no logout event
	}
	var st State
	s := allTargets()
	for i, sp := range steps {
		d := Decide(st, sp.ev, s, eventtime.New(sp.ev.At.Add(time.Second), 0))
		if d.Audit.Outcome != sp.outcome || d.Write != sp.write || d.Audit.Record != sp.record || len(d.Actions) != sp.actions {
			t.Fatalf("step %d (%s %s): outcome %s write %v record %v actions %d; want %s %v %v %d\n%s",
				i, sp.ev.Kind, sp.ev.ID, d.Audit.Outcome, d.Write, d.Audit.Record, len(d.Actions),
				sp.outcome, sp.write, sp.record, sp.actions, d.Audit.Explanation)
		}
		if d.Write {
			st = d.State
		}
	}
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
