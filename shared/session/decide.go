package session

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/eventtime"
)

// Decision is what Decide concluded for one event.
type Decision struct {
	// State is the user's next state: an unchanged copy of the input when nothing changes.
	State State `json:"state"`
	// Write says the state must be written, conditionally: only over a state whose At is not
	// newer than State.At (newer wins). False means there is nothing to write; the vast
	// majority of poll events, which confirm what is known, cost no write at all.
	Write bool `json:"write"`
	// Actions are the availability changes to carry out, one per enabled target concerned, in
	// the order distribution, omniChannel, connect. Each carries CausedBy = the event id as its
	// idempotency key.
	Actions []Action `json:"actions,omitempty"`
	// Audit is the record of the decision.
	Audit Audit `json:"audit"`
}

// Audit describes a decision for the audit log.
type Audit struct {
	// Record says the decision is worth an audit entry: every toggle, every deliberate
	// non-toggle (a manual switch-off left alone, a stale or invalid event). False for
	// duplicates and for events that only confirm or refresh what is known.
	Record bool `json:"record"`
	// Outcome classifies the decision.
	Outcome Outcome `json:"outcome"`
	// Reason is the decision's reason as sent to the targets, such as "Logged out of
	// Salesforce", or why nothing was toggled, such as ReasonLeftOff.
	Reason string `json:"reason,omitempty"`
	// Explanation tells a person what was seen and done.
	Explanation string `json:"explanation"`

	UserID    string    `json:"userId"`
	EventID   string    `json:"eventId"`
	Kind      Kind      `json:"kind"`
	Source    Source    `json:"source"`
	EventAt   time.Time `json:"eventAt"`
	DecidedAt time.Time `json:"decidedAt"`
	// Active is the user's session state after the decision.
	Active bool `json:"active"`
	// Available is the user's availability after the decision; nil before the first toggle.
	Available *bool `json:"available,omitempty"`
}

// Outcome classifies a decision. The values follow the audit log's other outcomes.
type Outcome string

// The outcomes.
const (
	// OutcomeToggledOn: the user was switched on (login, or a poll that found a session the
	// bridge did not know of).
	OutcomeToggledOn Outcome = "toggled-on"
	// OutcomeToggledOff: the user was switched off (logout, or a poll that found no session).
	OutcomeToggledOff Outcome = "toggled-off"
	// OutcomeLeftOff: the user switched themselves off while logged in and is left off
	// (manualOverride "respect").
	OutcomeLeftOff Outcome = "left-off"
	// OutcomeReasserted: the user switched themselves off while logged in and was switched
	// back on (manualOverride "reassert").
	OutcomeReasserted Outcome = "reasserted"
	// OutcomeSwitchedBackOn: a user noted as switched off manually is available again by their
	// own doing; nothing is sent.
	OutcomeSwitchedBackOn Outcome = "switched-back-on"
	// OutcomeUnchanged: the event confirms the known state; nothing is sent (the state may
	// still be written, for instance a later session expiry).
	OutcomeUnchanged Outcome = "unchanged"
	// OutcomeStale: the event is older than the known state and is ignored.
	OutcomeStale Outcome = "stale"
	// OutcomeDuplicate: the event was already applied.
	OutcomeDuplicate Outcome = "duplicate"
	// OutcomeInvalid: the event lacks an id, a user or a known kind, or belongs to another
	// user than the state; nothing is done.
	OutcomeInvalid Outcome = "invalid"
)

// Reasons Decide gives beside the configured ones (config.Session.Reasons, whose defaults are
// config.DefaultReasonLoggedIn, config.DefaultReasonLoggedOut and config.DefaultReasonNoSession).
const (
	// ReasonLeftOff is the audited reason for not switching back on a user who switched
	// themselves off while logged in.
	ReasonLeftOff = "user switched off manually; left off"
	// ReasonSwitchedBackOn is the audited reason for clearing the manual switch-off note.
	ReasonSwitchedBackOn = "user switched back on"
	// ReasonReassertedSuffix is appended to the logged-in reason when the reassert policy
	// switches such a user back on.
	ReasonReassertedSuffix = "; manual off overridden (manualOverride=reassert)"
)

// OfflineStatus is the Omni-Channel status sent when a user is switched off.
const OfflineStatus = "Offline"

// Decide applies one session observation to a user's state at b.Now, the bridge's clock. It is
// pure: no I/O, no clock, and the input state is not modified. s must have its defaults filled
// (config.Session.WithDefaults or config.Document.EffectiveSession); a disabled s yields no
// actions.
//
// An event dated further ahead of b.Now than b allows (settings.maxClockSkewSeconds) is invalid:
// refused for good and audited, never stored, so a login dated 2099 cannot make every later
// logout stale.
//
// Only transitions of the session state toggle anything:
//   - login, or a poll that finds a session, for a user not known to be logged in: switch on
//     (reason Reasons.LoggedIn; distribution online, Omni-Channel OnLoginStatus when set,
//     nothing for Connect);
//   - logout for a user not known to be logged out (an unknown user included: a logout
//     implies a session): switch off (Reasons.LoggedOut; distribution offline, Omni-Channel
//     Offline, Connect OnLogoutStatus);
//   - a poll that finds no session for a user known to be logged in: switch off
//     (Reasons.NoSession, same actions);
//   - anything else toggles nothing. A login or logout that repeats the known state only
//     advances the state's time; a poll that confirms it writes only when the session expiry
//     or the observed presence changed, and audits nothing.
//
// Before that, an event whose id is the state's LastEventID is a duplicate, and one older than
// the state is stale (newer wins; equal times are applied; eventtime.Bound.NotOlder, so a
// stored time beyond the bound no longer counts). An event without a time is taken to happen at
// b.Now.
//
// Manual switch-off: while a user is logged in, a poll seeing their Omni-Channel presence go
// from available to unavailable, although the bridge switched them on, means they switched
// themselves off. With manualOverride "respect" they are left off (ManualOff noted, audited as
// left-off); with "reassert" they are switched back on at once (audited as reasserted), unless
// no target can do that, in which case they are left off. Presence observed unavailable before
// it was ever seen available is no switch-off: the user has not gone online yet.
//
// Retries: Decide does not deliver; the shell delivers Actions and keeps failed ones in
// State.Retry for the next run. A decision that switches the user supersedes the retries it
// contradicts: it drops every retry with the opposite Online, and every retry for a target it
// sends a new action to. Noting a manual switch-off drops the pending online retries, which
// would otherwise switch the user back on.
func Decide(st State, ev Event, s config.Session, b eventtime.Bound) Decision {
	now := b.Now
	d := decider{cur: st, next: st.clone(), ev: ev, s: s, bound: b}
	if d.ev.At.IsZero() {
		d.ev.At = now
	}
	if d.ev.Source == "" {
		d.ev.Source = d.ev.Kind.source()
	}
	d.decide()
	ev = d.ev
	next := d.next
	if d.ahead {
		// Filed at the decision time: at the event's, the entry would top the user's audit
		// until that date.
		ev.At = time.Time{}
	}
	return Decision{
		State:   next,
		Write:   d.write,
		Actions: d.actions,
		Audit: Audit{
			Record: d.record, Outcome: d.outcome, Reason: d.reason, Explanation: d.explain,
			UserID: ev.UserID, EventID: ev.ID, Kind: ev.Kind, Source: ev.Source, EventAt: ev.At, DecidedAt: now,
			Active: next.Active, Available: clonePtr(next.Available),
		},
	}
}

// decider carries one decision's working values.
type decider struct {
	cur, next State
	ev        Event
	s         config.Session
	bound     eventtime.Bound
	// ahead: the event is dated beyond the bound.
	ahead bool

	write, record bool
	outcome       Outcome
	reason        string
	explain       string
	actions       []Action
}

func (d *decider) decide() {
	cur, ev := d.cur, d.ev
	if msg := d.invalid(); msg != "" {
		d.settle(OutcomeInvalid, true, "", "invalid event: %s; nothing done", msg)
		return
	}
	if err := d.bound.Check(ev.At); err != nil {
		d.ahead = true
		d.settle(OutcomeInvalid, true, "", "invalid event: %s time %s; refused for good, nothing stored", ev.Kind.label(), err)
		return
	}
	if ev.ID == cur.LastEventID {
		d.settle(OutcomeDuplicate, false, "", "%s %s was already applied", ev.Kind.label(), ev.ID)
		return
	}
	if !d.bound.NotOlder(ev.At, cur.At) {
		from := ""
		if cur.Source != "" {
			from = " from " + string(cur.Source)
		}
		reason := fmt.Sprintf("older than the state%s at %s", from, stamp(cur.At))
		d.settle(OutcomeStale, true, reason, "%s at %s is %s, which has the user logged %s; ignored",
			ev.Kind.label(), stamp(ev.At), reason, map[bool]string{true: "in", false: "out"}[cur.Active])
		return
	}
	switch ev.Kind {
	case KindLogin:
		if cur.Active {
			d.observed()
			d.settle(OutcomeUnchanged, false, "", "%s while logged in (another session); nothing to switch", ev.Kind.label())
			return
		}
		d.toggle(true, d.s.Reasons.LoggedIn)
	case KindLogout:
		if !cur.Active && !cur.At.IsZero() {
			d.observed()
			d.settle(OutcomeUnchanged, false, "", "%s while logged out; nothing to switch", ev.Kind.label())
			return
		}
		d.toggle(false, d.s.Reasons.LoggedOut)
	case KindPollInactive:
		if !cur.Active {
			d.settle(OutcomeUnchanged, false, "", "%s and none was known (%s); nothing to do", ev.Kind.label(), cur.describe())
			return
		}
		d.toggle(false, d.s.Reasons.NoSession)
	case KindPollActive:
		if !cur.Active {
			d.toggle(true, d.s.Reasons.LoggedIn)
			return
		}
		d.confirmActive()
	}
}

// invalid says what makes the event unusable, or returns "".
func (d *decider) invalid() string {
	ev := d.ev
	switch {
	case ev.ID == "":
		return "no event id"
	case ev.UserID == "":
		return "no user id"
	case ev.Kind.source() == "":
		return fmt.Sprintf("unknown kind %q", ev.Kind)
	case d.cur.UserID != "" && d.cur.UserID != ev.UserID:
		return fmt.Sprintf("event for user %s given the state of user %s", ev.UserID, d.cur.UserID)
	}
	return ""
}

// settle ends the decision with an outcome.
func (d *decider) settle(o Outcome, record bool, reason, format string, args ...any) {
	d.outcome, d.record, d.reason = o, record, reason
	d.explain = fmt.Sprintf(format, args...)
}

// observed stamps the next state with the event, for a write.
func (d *decider) observed() {
	d.next.UserID = d.ev.UserID
	d.next.At = d.ev.At
	d.next.Source = d.ev.Source
	d.next.LastEventID = d.ev.ID
	d.write = true
}

// toggle switches the user on or off: a session transition.
func (d *decider) toggle(on bool, reason string) {
	cur, ev, n := d.cur, d.ev, &d.next
	d.observed()
	n.Active = on
	n.Available = &on
	n.ManualOff = false
	n.PresenceAvailable = nil
	n.SessionExpires = time.Time{}
	if ev.Kind == KindPollActive {
		n.SessionExpires = ev.SessionExpires
		if ev.Presence != nil {
			n.PresenceAvailable = ptr(ev.Presence.Available)
		}
	}
	d.actions = availabilityActions(d.s, ev, on, reason)
	n.Retry = supersede(cur.Retry, on, d.actions)
	o, verb := OutcomeToggledOff, "switched off"
	if on {
		o, verb = OutcomeToggledOn, "switched on"
	}
	d.settle(o, true, reason, "%s (%s); %s: %s", ev.Kind.label(), cur.describe(), verb, summarize(d.actions))
}

// confirmActive handles a poll that finds a session for a user known to be logged in: nothing is
// toggled by the session, but the expiry and presence are tracked, and a manual switch-off is
// noted (or overridden).
func (d *decider) confirmActive() {
	cur, ev, n := d.cur, d.ev, &d.next
	changed := false
	if !ev.SessionExpires.IsZero() && !ev.SessionExpires.Equal(cur.SessionExpires) {
		n.SessionExpires = ev.SessionExpires
		changed = true
	}
	if p := ev.Presence; p != nil {
		prev := cur.PresenceAvailable
		if prev == nil || *prev != p.Available {
			n.PresenceAvailable = ptr(p.Available)
			changed = true
		}
		switch {
		case !p.Available && prev != nil && *prev && isTrue(cur.Available) && !cur.ManualOff:
			d.observed()
			d.manualOff(p)
			return
		case p.Available && cur.ManualOff:
			d.observed()
			n.ManualOff = false
			d.settle(OutcomeSwitchedBackOn, true, ReasonSwitchedBackOn,
				"%s; the user, noted as switched off manually, is available again (%s); nothing sent", ev.Kind.label(), p.StatusDeveloperName)
			return
		}
	}
	if !changed {
		d.settle(OutcomeUnchanged, false, "", "%s (%s); nothing changed", ev.Kind.label(), cur.describe())
		return
	}
	d.observed()
	d.settle(OutcomeUnchanged, false, "", "%s (%s); session expiry or presence updated, nothing to switch", ev.Kind.label(), cur.describe())
}

// manualOff handles a user who switched themselves off while logged in.
func (d *decider) manualOff(p *Presence) {
	ev, n := d.ev, &d.next
	seen := fmt.Sprintf("%s; the user switched themselves off in Omni-Channel (%s) while logged in", ev.Kind.label(), p.StatusDeveloperName)
	if d.s.ManualOverride == config.ManualOverrideReassert {
		reason := d.s.Reasons.LoggedIn + ReasonReassertedSuffix
		if acts := availabilityActions(d.s, ev, true, reason); len(acts) > 0 {
			d.actions = acts
			n.Retry = supersede(d.cur.Retry, true, acts)
			d.settle(OutcomeReasserted, true, reason, "%s; switched back on (manualOverride=reassert): %s", seen, summarize(acts))
			return
		}
		seen += "; manualOverride=reassert, but no enabled target can switch the user back on"
	}
	n.ManualOff = true
	n.Retry = supersede(d.cur.Retry, false, nil)
	d.settle(OutcomeLeftOff, true, ReasonLeftOff, "%s; left off", seen)
}

// availabilityActions returns the actions that switch the user on or off on the enabled targets.
func availabilityActions(s config.Session, ev Event, on bool, reason string) []Action {
	if !s.Enabled {
		return nil
	}
	var acts []Action
	add := func(t Target, status string) {
		acts = append(acts, Action{Target: t, UserID: ev.UserID, Online: on, Status: status, Reason: reason, CausedBy: ev.ID})
	}
	t := s.Targets
	if t.Distribution.Enabled {
		add(TargetDistribution, "")
	}
	if t.OmniChannel.Enabled {
		switch {
		case !on:
			add(TargetOmniChannel, OfflineStatus)
		case t.OmniChannel.OnLoginStatus != "":
			add(TargetOmniChannel, t.OmniChannel.OnLoginStatus)
		}
	}
	if t.Connect.Enabled && !on {
		add(TargetConnect, t.Connect.OnLogoutStatus)
	}
	return acts
}

// supersede returns the retries a decision leaves pending: those with the decision's Online,
// for targets it sends no new action to. nil when none are left.
func supersede(retry []Action, on bool, acts []Action) []Action {
	var keep []Action
	for _, r := range retry {
		covered := slices.ContainsFunc(acts, func(a Action) bool { return a.Target == r.Target })
		if r.Online == on && !covered {
			keep = append(keep, r)
		}
	}
	return keep
}

// summarize lists actions for an explanation.
func summarize(acts []Action) string {
	if len(acts) == 0 {
		return "no enabled target concerned"
	}
	parts := make([]string, len(acts))
	for i, a := range acts {
		parts[i] = string(a.Target)
		if a.Status != "" {
			parts[i] += " " + a.Status
		}
	}
	return strings.Join(parts, ", ")
}

// describe renders what was known before the event.
func (s State) describe() string {
	switch {
	case s.At.IsZero():
		return "no state known"
	case s.Active:
		return fmt.Sprintf("logged in as of %s", stamp(s.At))
	default:
		return fmt.Sprintf("logged out as of %s", stamp(s.At))
	}
}

// label names the event kind for explanations.
func (k Kind) label() string {
	switch k {
	case KindLogin:
		return "login event"
	case KindLogout:
		return "logout event"
	case KindPollActive:
		return "poll found a session"
	case KindPollInactive:
		return "poll found no session"
	}
	return string(k) + " event"
}

// source returns where events of kind k come from, or "" for an unknown kind.
func (k Kind) source() Source {
	switch k {
	case KindLogin, KindLogout:
		return SourceWebhook
	case KindPollActive, KindPollInactive:
		return SourcePoll
	}
	return ""
}

// clone deep-copies s, so that Decide never writes through the caller's pointers and slices.
func (s State) clone() State {
	s.Available = clonePtr(s.Available)
	s.PresenceAvailable = clonePtr(s.PresenceAvailable)
	s.Retry = slices.Clone(s.Retry)
	return s
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func ptr[T any](v T) *T { return &v }

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	return ptr(*p)
}

func isTrue(p *bool) bool { return p != nil && *p }
