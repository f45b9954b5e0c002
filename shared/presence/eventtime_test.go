package presence

import (
	"strings"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/eventtime"
	"github.com/omnibridge/omnibridge/shared/rules"
)

// The event times every path is tested with, relative to the decision time at(5).
var (
	farFuture = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	endOfTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	farPast   = time.Date(1971, 1, 1, 0, 0, 0, 0, time.UTC)
)

func justInside() time.Time  { return at(5).Add(eventtime.DefaultMaxSkew) }
func justOutside() time.Time { return at(5).Add(eventtime.DefaultMaxSkew + time.Second) }

func withTime(ev Event, t time.Time) Event {
	ev.Time = t
	return ev
}

func TestDecideBoundsEventTimes(t *testing.T) {
	set := compile(t, []config.Rule{c2s("lunch", "Lunch", "Away"), s2c("away", "Away", "Break")})
	refused := func(t *testing.T, in AgentState, d Decision) {
		t.Helper()
		if len(d.Commands) != 0 || d.State.Connect.EventID != in.Connect.EventID || d.State.Salesforce.EventID != in.Salesforce.EventID {
			t.Errorf("a refused event left a trace: %+v", d.State)
		}
		if !d.Audit.EventTime.IsZero() {
			t.Errorf("the audit is filed at the event's time %s, not the decision's", d.Audit.EventTime)
		}
	}
	applied := func(t *testing.T, _ AgentState, d Decision) {
		if d.State.Connect.EventID != "e1" && d.State.Salesforce.EventID != "e1" {
			t.Errorf("the event was not applied: %+v", d.State)
		}
	}
	runDecide(t, []decideCase{
		{name: "Connect far future", set: set, ev: withTime(connectEvent("e1", 0, "Lunch"), farFuture), now: 5,
			outcome: OutcomeInvalid, check: refused,
			explain: []string{"invalid event: event time 2099-01-01T00:00:00Z is", "days ahead of the bridge's clock (2026-01-05T09:00:05Z); at most 5m0s of clock skew is allowed (settings.maxClockSkewSeconds); refused for good, nothing stored"}},
		{name: "Connect 9999-12-31", set: set, ev: withTime(connectEvent("e1", 0, "Lunch"), endOfTime), now: 5,
			outcome: OutcomeInvalid, check: refused},
		{name: "Connect just inside the skew", set: set, ev: withTime(connectEvent("e1", 0, "Lunch"), justInside()), now: 5,
			outcome: OutcomeApplied, commands: []wantCmd{{rules.Salesforce, "Away", ModeNow}}, check: applied},
		{name: "Connect just outside the skew", set: set, ev: withTime(connectEvent("e1", 0, "Lunch"), justOutside()), now: 5,
			outcome: OutcomeInvalid, check: refused, explain: []string{"is 5m1s ahead"}},
		{name: "Connect far past is stale, not refused", set: set, ev: withTime(connectEvent("e1", 0, "Lunch"), farPast), now: 5,
			outcome: OutcomeStale},
		{name: "Connect far past on a new agent applies", set: set, ev: withTime(connectEvent("e1", 0, "Lunch"), farPast), now: 5,
			state:   func(s *AgentState) { s.Connect = ConnectMirror{} },
			outcome: OutcomeApplied, commands: []wantCmd{{rules.Salesforce, "Away", ModeNow}}},
		{name: "Salesforce far future", set: set, ev: withTime(sfEvent("e1", 0, "Away"), farFuture), now: 5,
			outcome: OutcomeInvalid, check: refused},
		{name: "Salesforce just inside the skew", set: set, ev: withTime(sfEvent("e1", 0, "Away"), justInside()), now: 5,
			outcome: OutcomeApplied, commands: []wantCmd{{rules.Connect, "Break", ModeNow}}, check: applied},
		{name: "Salesforce just outside the skew", set: set, ev: withTime(sfEvent("e1", 0, "Away"), justOutside()), now: 5,
			outcome: OutcomeInvalid, check: refused},
		{name: "a larger configured skew lets it in", set: set, ev: withTime(sfEvent("e1", 0, "Away"), justOutside()), now: 5,
			settings: func(s *config.Settings) { s.MaxClockSkewSeconds = 600 },
			outcome:  OutcomeApplied, commands: []wantCmd{{rules.Connect, "Break", ModeNow}}},
		{name: "a smaller configured skew keeps more out", set: set, ev: withTime(sfEvent("e1", 0, "Away"), at(5).Add(2*time.Second)), now: 5,
			settings: func(s *config.Settings) { s.MaxClockSkewSeconds = 1 },
			outcome:  OutcomeInvalid, check: refused, explain: []string{"at most 1s of clock skew"}},
		{name: "availability request from the future", set: set,
			ev: withTime(availability("s1", 0, rules.Salesforce, "Offline", ""), farFuture), now: 5, outcome: OutcomeInvalid, check: refused},
		// A time stored before the bound was enforced must not freeze the agent.
		{name: "stored Connect time in 2099 no longer counts", set: set, ev: connectEvent("e1", 5, "Lunch"),
			state:   func(s *AgentState) { s.Connect.EventTime, s.Connect.EventID = farFuture, "future" },
			outcome: OutcomeApplied, commands: []wantCmd{{rules.Salesforce, "Away", ModeNow}}, check: applied,
			explain: []string{"the last Connect event stored (future at 2099-01-01T00:00:00Z) is dated beyond the allowed clock skew and no longer counts"}},
		{name: "stored Salesforce time in 9999 no longer counts", set: set, ev: sfEvent("e1", 5, "Away"),
			state:   func(s *AgentState) { s.Salesforce.EventTime, s.Salesforce.EventID = endOfTime, "future" },
			outcome: OutcomeApplied, commands: []wantCmd{{rules.Connect, "Break", ModeNow}}, check: applied},
		{name: "stored time just inside the skew still counts", set: set, ev: connectEvent("e1", 5, "Lunch"),
			state:   func(s *AgentState) { s.Connect.EventTime = justInside() },
			outcome: OutcomeStale},
	})
}

// TestTrialReplay replays the trial on the presence webhook's and the stream's events: a signed
// event dated 2099, then real events, the logout included, which must apply.
func TestTrialReplay(t *testing.T) {
	set := compile(t, nil, pair("Available", "Available", true, true), pair("Away", "Break", true, true), pair("Offline", "Offline", true, true))
	for _, side := range []struct {
		name   string
		future Event
		real   []Event
	}{
		{"Salesforce", withTime(sfEvent("future", 0, "Away"), farFuture), []Event{
			sfEvent("real-1", 10, "Away"),
			{ID: "logout", Kind: rules.EventSalesforceAgentLogout, Time: at(20), Origin: OriginWebhook},
		}},
		{"Connect", withTime(connectEvent("future", 0, "Break"), farFuture), []Event{
			connectEvent("real-1", 10, "Break"),
			connectEvent("logout", 20, "Offline"),
		}},
	} {
		t.Run(side.name, func(t *testing.T) {
			st := linked()
			d := Decide(st, side.future, set, settings(), at(1))
			if d.Audit.Outcome != OutcomeInvalid {
				t.Fatalf("the 2099 event: %s: %s", d.Audit.Outcome, d.Audit.Explanation)
			}
			st = d.State
			for _, ev := range side.real {
				d := Decide(st, ev, set, settings(), ev.Time)
				if d.Audit.Outcome != OutcomeApplied || len(d.Commands) != 1 {
					t.Fatalf("%s after the 2099 event: %s: %s", ev.ID, d.Audit.Outcome, d.Audit.Explanation)
				}
				st = d.State
			}
			if side.name == "Salesforce" && st.Salesforce.StatusName != rules.Offline {
				t.Errorf("mirror after the logout: %+v", st.Salesforce)
			}
			if side.name == "Connect" && st.Connect.Status != "Offline" {
				t.Errorf("mirror after the logout: %+v", st.Connect)
			}
		})
	}
}

func sessionEnd(id string, sec float64) Event {
	ev := availability(id, sec, rules.Salesforce, rules.Offline, "")
	ev.Availability.Reason, ev.Availability.SessionEnded = "No active session", true
	return ev
}

func login(id string, sec float64) Event {
	ev := availability(id, sec, rules.Salesforce, "Available", "")
	ev.Availability.Reason = "Logged in to Salesforce"
	return ev
}

func TestSessionEndedIsNotApplicable(t *testing.T) {
	set := compile(t, nil, pair("Available", "Available", true, true))
	st := linked()
	d := Decide(st, sessionEnd("off", 5), set, settings(), at(5))
	if d.Audit.Outcome != OutcomeNotApplicable || len(d.Commands) != 0 {
		t.Fatalf("session end: %s, %d commands: %s", d.Audit.Outcome, len(d.Commands), d.Audit.Explanation)
	}
	if !strings.Contains(d.Audit.Explanation, "not applicable: user logged out") || strings.Contains(d.Audit.Explanation, "console not open") {
		t.Errorf("explanation: %s", d.Audit.Explanation)
	}
	sf := d.State.Salesforce
	if sf.StatusName != rules.Offline || sf.StatusID != rules.OfflineStatusID || !sf.LoggedOutAt.Equal(at(5)) || len(d.State.Pending) != 0 {
		t.Errorf("mirror after the session ended: %+v, pending %+v", sf, d.State.Pending)
	}
	// The re-login is decided on the truth: Salesforce is Offline, so Available is sent.
	d = Decide(d.State, login("on", 1500), set, settings(), at(1500))
	if d.Audit.Outcome != OutcomeApplied || len(d.Commands) != 1 || d.Commands[0].Target.State() != "Available" {
		t.Fatalf("re-login: %s: %s", d.Audit.Outcome, d.Audit.Explanation)
	}
	if !d.State.Salesforce.LoggedOutAt.IsZero() {
		t.Error("a login clears the logged-out mark")
	}
}

func TestExpiryFallsBackToWhatSalesforceConfirmed(t *testing.T) {
	set := compile(t, []config.Rule{c2s("lunch", "Lunch", "Away"), c2s("back", "Available", "Available")})
	for _, tt := range []struct {
		name     string
		between  []Event // after the command, before its deadline
		outcome  Outcome
		explain  []string
		fallback string
	}{
		{name: "console closed", outcome: OutcomeNotApplied, fallback: "Available",
			explain: []string{"not applied: console not open;", `the mirror falls back to the last state Salesforce confirmed: "Available" (event s0 at 2026-01-05T09:00:00Z)`}},
		{name: "user logged out meanwhile", between: []Event{sessionEnd("off", 30)}, outcome: OutcomeNotApplicable, fallback: rules.Offline,
			explain: []string{"not applicable: user logged out (the Salesforce session ended at 2026-01-05T09:00:30Z);",
				`the mirror falls back to the last state Salesforce confirmed: "Offline" (the session ended at 2026-01-05T09:00:30Z)`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(linked(), connectEvent("e1", 5, "Lunch"), set, settings(), at(5))
			if len(d.Commands) != 1 {
				t.Fatalf("setup: %s", d.Audit.Explanation)
			}
			st := d.State
			for _, ev := range tt.between {
				st = Decide(st, ev, set, settings(), ev.Time).State
			}
			st, audits := ExpireCommands(st, at(200))
			if len(audits) != 1 || audits[0].Outcome != tt.outcome || audits[0].Results[0].Outcome != tt.outcome {
				t.Fatalf("audits %+v", audits)
			}
			for _, frag := range tt.explain {
				if !strings.Contains(audits[0].Explanation, frag) {
					t.Errorf("explanation lacks %q:\n%s", frag, audits[0].Explanation)
				}
			}
			if st.Salesforce.StatusName != tt.fallback {
				t.Errorf("mirror %q, want %q", st.Salesforce.StatusName, tt.fallback)
			}
			// The next decision is taken on that state, never on the expired command.
			cur, _ := st.intended(rules.Salesforce)
			if cur != tt.fallback {
				t.Errorf("the next decision sees %q, want %q", cur, tt.fallback)
			}
		})
	}
}

func TestConsoleActivityClearsLoggedOut(t *testing.T) {
	set := compile(t, nil)
	st := Decide(linked(), sessionEnd("off", 5), set, settings(), at(5)).State
	for _, tt := range []struct {
		name  string
		apply func(AgentState) AgentState
		clear bool
	}{
		{"a status other than Offline", func(s AgentState) AgentState {
			return Decide(s, sfEvent("e1", 10, "Away"), set, settings(), at(10)).State
		}, true},
		{"an Offline status", func(s AgentState) AgentState {
			return Decide(s, sfEvent("e1", 10, "Offline"), set, settings(), at(10)).State
		}, false},
		{"an applied acknowledgement", func(s AgentState) AgentState {
			s.Pending = []PendingCommand{{Command: Command{ID: "c1", Destination: rules.Salesforce}, Deadline: at(100)}}
			s, _ = Acknowledge(s, Ack{CommandID: "c1", Applied: true}, at(10))
			return s
		}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.apply(st.clone())
			if cleared := got.Salesforce.LoggedOutAt.IsZero(); cleared != tt.clear {
				t.Errorf("logged-out mark cleared = %v, want %v", cleared, tt.clear)
			}
		})
	}
}
