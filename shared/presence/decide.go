package presence

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/eventtime"
	"github.com/omnibridge/omnibridge/shared/rules"
)

// Decide is the functional core: given the agent's state, one event, the compiled rules, the
// settings and the current time, it returns the commands to send, the agent's next state and
// the audit record. It is pure: no I/O, no clock, and the input state is not modified.
//
// Steps, each of which may end the decision:
//  1. invalid: the event lacks an id, a known kind, a time or its state, or its time is further
//     ahead of now than settings.maxClockSkewSeconds (a final, audited refusal: nothing of the
//     event is stored, so no clock error can make it win every later comparison);
//  2. stale: the event is not newer than the last event applied from its system (state returned
//     unchanged, so the shell can skip the write). The comparison is eventtime.Bound.Newer: a
//     stored time beyond the bound (written before the bound was enforced) no longer counts;
//  3. the event's system mirror is updated;
//  4. echo: the event reports a change the bridge commanded (an unexpired expected echo, a
//     deferred next status, or the event's CommandID); the echo is consumed and no rule fires,
//     because every rule would point back at the system that caused it;
//  5. unchanged: the state is the one already known (a poll, a heartbeat); no rule fires;
//  6. the loop guard's chain is continued or restarted (see Chain);
//  7. the rules are evaluated; per destination, the outcome is no-rule, unlinked,
//     already-in-state, ignored-on-contact, loop-cut, deferred or applied.
//
// A nil set behaves as an empty one. Zero settings fall back to config.Defaults.
func Decide(state AgentState, ev Event, set *rules.Set, settings config.Settings, now time.Time) Decision {
	s := normalize(settings)
	st := state.clone()
	a := Audit{
		EventID: ev.ID, EventKind: ev.Kind, Origin: ev.Origin, EventTime: ev.Time, DecidedAt: now,
		ConnectUserID: st.ConnectUserID, SalesforceUserID: st.SalesforceUserID,
	}
	if msg := ev.problem(); msg != "" {
		a.Outcome = OutcomeInvalid
		a.Explanation = "invalid event: " + msg + "; nothing done"
		return Decision{State: st, Audit: a}
	}
	bound := eventtime.New(now, s.MaxClockSkew())
	if err := bound.Check(ev.Time); err != nil {
		// The audit is filed at the decision time: filed at the event's, it would sort above
		// every real entry of the agent until that date.
		a.EventTime = time.Time{}
		a.Outcome = OutcomeInvalid
		a.Explanation = "invalid event: event time " + err.Error() + "; refused for good, nothing stored"
		return Decision{State: st, Audit: a}
	}
	if ev.Availability != nil {
		return decideAvailability(st, ev, set, s, now, a)
	}
	side := ev.Kind.System()
	last, lastID := st.lastEvent(side)
	if !bound.Newer(ev.Time, last) {
		a.Outcome = OutcomeStale
		a.Explanation = fmt.Sprintf("stale: %s event at %s is not newer than the last one applied (%s at %s); dropped",
			side.Label(), stamp(ev.Time), lastID, stamp(last))
		return Decision{State: st, Audit: a}
	}
	st.prune(now, s)

	var obs observation
	if side == rules.Connect {
		obs = st.observeConnect(ev, now)
	} else {
		obs = st.observeSalesforce(ev, set, now)
	}
	var b strings.Builder
	b.WriteString(obs.summary)
	b.WriteString(obs.note)
	if !last.IsZero() && !bound.Holds(last) {
		fmt.Fprintf(&b, "; the last %s event stored (%s at %s) is dated beyond the allowed clock skew and no longer counts",
			side.Label(), lastID, stamp(last))
	}
	b.WriteString(". ")
	switch {
	case obs.echo != "":
		a.Outcome = OutcomeEcho
		fmt.Fprintf(&b, "Echo of %s; mirror updated, no rules fired back toward %s.", obs.echo, side.Other().Label())
		a.Explanation = b.String()
		return Decision{State: st, Audit: a}
	case !obs.changed:
		a.Outcome = OutcomeUnchanged
		b.WriteString("Nothing changed; no rules evaluated.")
		a.Explanation = b.String()
		return Decision{State: st, Audit: a}
	}

	window := time.Duration(s.LoopGuard.WindowSeconds) * time.Second
	// Contacts are not the bridge's doing, so a Connect event that only changes contacts is
	// always a new stimulus.
	if !st.Chain.continues(side, now, window) || (side == rules.Connect && !obs.statusChanged) {
		st.Chain = Chain{ID: ev.ID}
	}
	a.ChainID = st.Chain.ID

	o, trace := set.Decide(obs.facts, &b)
	a.Trace = trace
	var cmds []Command
	r, cmd := st.resolve(o, ev, s, now)
	a.Results = []Result{r}
	if cmd != nil {
		cmds = append(cmds, *cmd)
	}
	writeResult(&b, r)
	a.Outcome = summarize(a.Results)
	a.Explanation = b.String()
	return Decision{Commands: cmds, State: st, Audit: a}
}

// decideAvailability turns an availability request into at most one command. Each request starts
// its own causal chain: it answers a Salesforce session change, not a presence change, so no
// earlier crossing counts against it. Its echo, when the status comes back, is suppressed like
// any other command's.
func decideAvailability(st AgentState, ev Event, set *rules.Set, s config.Settings, now time.Time, a Audit) Decision {
	req := ev.Availability
	st.prune(now, s)
	st.Chain = Chain{ID: ev.ID}
	a.ChainID = st.Chain.ID
	target, ok := set.TargetFor(req.Destination, req.Status)
	if !ok {
		a.Outcome = OutcomeInvalid
		a.Explanation = fmt.Sprintf("availability: %q is not a %s status in the catalog; nothing sent", req.Status, req.Destination.Label())
		return Decision{State: st, Audit: a}
	}
	o := rules.Outcome{
		Destination: req.Destination, Source: rules.SourceAvailability, Target: target, WhileOnContact: req.WhileOnContact,
		Reason: fmt.Sprintf("session availability (%s) → %s", req.Reason, target),
	}
	if req.Destination == rules.Salesforce {
		if req.SessionEnded {
			return sessionEnded(st, o, now, a)
		}
		st.Salesforce.LoggedOutAt = time.Time{}
	}
	r, cmd := st.resolve(o, ev, s, now)
	a.Results = []Result{r}
	a.Outcome = r.Outcome
	a.Explanation = fmt.Sprintf("%s: %s: %s.", r.Destination.Label(), r.Outcome, r.Detail)
	var cmds []Command
	if cmd != nil {
		cmd.Reason = req.Reason
		if len(st.Pending) > 0 && st.Pending[len(st.Pending)-1].Command.ID == cmd.ID {
			st.Pending[len(st.Pending)-1].Command.Reason = req.Reason
		}
		cmds = append(cmds, *cmd)
	}
	return Decision{Commands: cmds, State: st, Audit: a}
}

// sessionEnded records that the user's Salesforce session ended. Salesforce ends Omni-Channel
// presence with the session, and the console that would apply a command is gone with it: the
// mirror is set to Offline, as Salesforce confirmed by ending the session, and nothing is sent.
// Commands still pending stay so until their deadline, when ExpireCommands audits them as not
// applicable.
func sessionEnded(st AgentState, o rules.Outcome, now time.Time, a Audit) Decision {
	prev := st.Salesforce.StatusName
	st.Salesforce.StatusID, st.Salesforce.StatusName = rules.OfflineStatusID, rules.Offline
	st.Salesforce.ObservedAt, st.Salesforce.LoggedOutAt = now, now
	st.settle(rules.Salesforce)
	r := Result{Destination: o.Destination, Source: o.Source, Target: o.Target, Outcome: OutcomeNotApplicable,
		Detail: fmt.Sprintf("%s; not applicable: user logged out. Salesforce ends Omni-Channel presence with the session, so the mirror now reads Offline (was %q) and nothing is sent",
			o.Reason, prev)}
	a.Results = []Result{r}
	a.Outcome = r.Outcome
	a.Explanation = fmt.Sprintf("%s: %s: %s.", r.Destination.Label(), r.Outcome, r.Detail)
	return Decision{State: st, Audit: a}
}

// normalize fills zero or out-of-range settings with the defaults, so that Decide works on a
// settings value the shell built by hand.
func normalize(s config.Settings) config.Settings {
	d := config.Defaults()
	switch rules.Policy(s.WhileOnContact) {
	case rules.PolicyIgnore, rules.PolicyDefer, rules.PolicyApply:
	default:
		s.WhileOnContact = d.WhileOnContact
	}
	if s.EchoWindowSeconds <= 0 {
		s.EchoWindowSeconds = d.EchoWindowSeconds
	}
	if s.LoopGuard.MaxCrossings <= 0 {
		s.LoopGuard.MaxCrossings = d.LoopGuard.MaxCrossings
	}
	if s.LoopGuard.WindowSeconds <= 0 {
		s.LoopGuard.WindowSeconds = d.LoopGuard.WindowSeconds
	}
	if s.CommandAckTimeoutSeconds <= 0 {
		s.CommandAckTimeoutSeconds = d.CommandAckTimeoutSeconds
	}
	return s
}

// problem returns what makes ev unusable, or "".
func (ev Event) problem() string {
	switch {
	case ev.ID == "":
		return "missing event id"
	case (ev.Kind == KindAvailability) != (ev.Availability != nil):
		return "an availability request needs kind " + string(KindAvailability) + " and its availability field"
	case ev.Availability != nil:
		if ev.Availability.Destination != rules.Connect && ev.Availability.Destination != rules.Salesforce {
			return "availability destination must be connect or salesforce"
		}
		if ev.Availability.Status == "" {
			return "missing availability status"
		}
		if ev.Time.IsZero() {
			return "missing event time"
		}
	case !ev.Kind.Valid():
		return "unknown event kind " + strconv.Quote(string(ev.Kind))
	case ev.Time.IsZero():
		return "missing event time"
	case ev.Kind == rules.EventConnectAgentStateChanged && ev.Connect.StatusName == "":
		return "missing Connect status name"
	case ev.Kind == rules.EventSalesforceAgentStateChanged && ev.Salesforce.StatusID == "" && ev.Salesforce.StatusName == "":
		return "missing Salesforce status id and name"
	}
	return ""
}

func (s *AgentState) lastEvent(side rules.Destination) (time.Time, string) {
	if side == rules.Connect {
		return s.Connect.EventTime, s.Connect.EventID
	}
	return s.Salesforce.EventTime, s.Salesforce.EventID
}

// prune drops expired echoes and crossings outside the loop window, keeping the state small.
func (s *AgentState) prune(now time.Time, set config.Settings) {
	s.Echoes = slices.DeleteFunc(s.Echoes, func(e ExpectedEcho) bool { return now.After(e.Expires) })
	from := now.Add(-time.Duration(set.LoopGuard.WindowSeconds) * time.Second)
	s.Chain.Crossings = slices.DeleteFunc(s.Chain.Crossings, func(t time.Time) bool { return t.Before(from) })
}

// observation is what an event tells about its system.
type observation struct {
	facts         rules.Facts
	changed       bool
	statusChanged bool // Connect only: the raw status changed
	summary       string
	note          string
	echo          string // what the echo confirmed, when the event is one
}

func (s *AgentState) observeConnect(ev Event, now time.Time) observation {
	prev := s.Connect
	status := ev.Connect.StatusName
	state := EffectiveState(status, ev.Connect.Contacts)
	o := observation{facts: rules.Facts{Event: ev.Kind, ConnectNewState: state, ConnectNewStatus: status}}
	if p := ev.ConnectPrevious; p != nil {
		o.facts.ConnectOldStatus, o.facts.ConnectOldState = p.StatusName, EffectiveState(p.StatusName, p.Contacts)
	} else {
		o.facts.ConnectOldStatus, o.facts.ConnectOldState = prev.Status, prev.State
	}
	statusChanged := prev.Status != status
	o.statusChanged = statusChanged
	// A change is either news to the bridge (the mirror differs) or a transition the event itself
	// reports (its previous snapshot differs), which rules on the old state must see even when
	// the bridge missed the event that led there.
	o.changed = statusChanged || prev.State != state ||
		o.facts.ConnectOldStatus != status || o.facts.ConnectOldState != state
	s.Connect = ConnectMirror{
		Status: status, StatusType: ev.Connect.StatusType, State: state,
		Contacts: slices.Clone(ev.Connect.Contacts), EventID: ev.ID, EventTime: ev.Time, ObservedAt: prev.ObservedAt,
	}
	o.summary = "Connect status " + strconv.Quote(status) + " (state " + state + "), was " +
		strconv.Quote(o.facts.ConnectOldStatus) + " (state " + o.facts.ConnectOldState + ")"
	if !statusChanged {
		return o
	}
	s.Connect.ObservedAt = now
	// Any status change settles a deferred next status: either it is the one the bridge set, or
	// Connect applied something else and the next status is gone.
	if d := s.Deferred; d != nil {
		s.Deferred = nil
		if d.Status == status || (ev.CommandID != "" && ev.CommandID == d.CommandID) {
			o.echo = fmt.Sprintf("deferred command %s (next status %q)", d.CommandID, d.Status)
			s.settle(rules.Connect)
			return o
		}
		o.note = fmt.Sprintf("; deferred next status %q (command %s) was superseded", d.Status, d.CommandID)
	}
	if e, ok := s.takeEcho(rules.Connect, ev.CommandID, func(t rules.Target) bool { return t.ConnectStatus == status }); ok {
		o.echo = fmt.Sprintf("command %s (%s)", e.CommandID, e.Target)
		s.settle(rules.Connect)
	}
	return o
}

func (s *AgentState) observeSalesforce(ev Event, set *rules.Set, now time.Time) observation {
	prev := s.Salesforce
	o := observation{facts: rules.Facts{Event: ev.Kind}}
	s.Salesforce.EventID, s.Salesforce.EventTime = ev.ID, ev.Time
	switch ev.Kind {
	case rules.EventSalesforceAgentStateChanged, rules.EventSalesforceAgentLogout:
		id, name := resolveStatus(set, ev)
		o.facts.SalesforceNewState = name
		o.changed = prev.StatusName != name || (prev.StatusID != "" && id != "" && prev.StatusID != id)
		s.Salesforce.StatusID, s.Salesforce.StatusName = id, name
		if name != rules.Offline {
			s.Salesforce.LoggedOutAt = time.Time{} // a console is open again
		}
		o.summary = "Salesforce status " + strconv.Quote(name) + ", was " + strconv.Quote(prev.StatusName)
		if !o.changed {
			return o
		}
		s.Salesforce.ObservedAt = now
		if e, ok := s.takeEcho(rules.Salesforce, ev.CommandID, func(t rules.Target) bool {
			if id != "" && t.SalesforceStatusID != "" {
				return t.SalesforceStatusID == id
			}
			return t.SalesforceStatus == name
		}); ok {
			o.echo = fmt.Sprintf("command %s (%s)", e.CommandID, e.Target)
			s.settle(rules.Salesforce)
		}
	case rules.EventSalesforceWorkAccepted:
		o.facts.SalesforceChannel = ev.Salesforce.Channel
		s.Salesforce.Channel = ev.Salesforce.Channel
		o.changed = true // accepting work is itself the change
		o.summary = fmt.Sprintf("Salesforce work accepted on channel %q", ev.Salesforce.Channel)
	case rules.EventSalesforceWorkloadChanged:
		d := ev.Salesforce
		// A source that sends only the new workload still gets a previous one from the mirror.
		previous, capacity := d.PreviousWorkload, d.ConfiguredCapacity
		if !previous.Valid {
			previous = prev.Workload
		}
		if !capacity.Valid {
			capacity = prev.Capacity
		}
		o.facts.PreviousWorkload, o.facts.NewWorkload, o.facts.ConfiguredCapacity = previous, d.NewWorkload, capacity
		if d.NewWorkload.Valid {
			s.Salesforce.Workload = d.NewWorkload
		}
		s.Salesforce.Capacity = capacity
		o.changed = true
		o.summary = fmt.Sprintf("Salesforce workload %s → %s of capacity %s", number(previous), number(d.NewWorkload), number(capacity))
	}
	return o
}

// resolveStatus names a Salesforce status event's status by catalog DeveloperName, so that rules
// and mappings compare one spelling whatever the source sent. Unknown statuses keep what the
// event said.
func resolveStatus(set *rules.Set, ev Event) (id, name string) {
	if ev.Kind == rules.EventSalesforceAgentLogout {
		return rules.OfflineStatusID, rules.Offline
	}
	id, name = ev.Salesforce.StatusID, ev.Salesforce.StatusName
	if id != "" {
		if st, ok := set.SalesforceStatusByID(id); ok {
			return st.ID, st.DeveloperName
		}
	}
	if name != "" {
		if st, ok := set.SalesforceStatusByName(name); ok {
			return st.ID, st.DeveloperName
		}
	}
	return id, name
}

// takeEcho consumes the expected echo that matches, with any older echo toward the same system
// (they were overtaken), and the pending acknowledgement of the matched command, which the echo
// confirms.
func (s *AgentState) takeEcho(dest rules.Destination, commandID string, match func(rules.Target) bool) (ExpectedEcho, bool) {
	i := slices.IndexFunc(s.Echoes, func(e ExpectedEcho) bool {
		return e.Target.Destination == dest && ((commandID != "" && e.CommandID == commandID) || match(e.Target))
	})
	if i < 0 {
		return ExpectedEcho{}, false
	}
	e := s.Echoes[i]
	s.Echoes = slices.DeleteFunc(s.Echoes, func(x ExpectedEcho) bool {
		return x.Target.Destination == dest && !x.IssuedAt.After(e.IssuedAt)
	})
	s.Pending = slices.DeleteFunc(s.Pending, func(p PendingCommand) bool { return p.Command.ID == e.CommandID })
	return e, true
}

// settle notes that dest no longer has a command of the chain in flight (it echoed, failed or
// expired), unless a newer one is still expected. Later events from dest are then the agent's
// own doing and start new chains; without this, an agent who changes status a few times within
// the window after one bridge command would be cut as a loop.
func (s *AgentState) settle(dest rules.Destination) {
	inFlight := slices.ContainsFunc(s.Echoes, func(e ExpectedEcho) bool { return e.Target.Destination == dest }) ||
		(dest == rules.Connect && s.Deferred != nil)
	if inFlight {
		return
	}
	if dest == rules.Connect {
		s.Chain.ConnectAt = time.Time{}
	} else {
		s.Chain.SalesforceAt = time.Time{}
	}
}

// continues reports whether an event from side belongs to the current chain: the chain
// commanded that system within the window and the system has not yet settled that command.
func (c Chain) continues(side rules.Destination, now time.Time, window time.Duration) bool {
	at := c.ConnectAt
	if side == rules.Salesforce {
		at = c.SalesforceAt
	}
	return c.ID != "" && !at.IsZero() && now.Sub(at) <= window
}

// resolve turns one destination's rule outcome into a result and maybe a command, recording the
// command's expectations in s.
func (s *AgentState) resolve(o rules.Outcome, ev Event, set config.Settings, now time.Time) (Result, *Command) {
	r := Result{Destination: o.Destination, Source: o.Source, RuleID: o.RuleID, Target: o.Target, Detail: o.Reason}
	dest := o.Destination
	if o.Source == rules.SourceNone {
		r.Outcome = OutcomeNoRule
		r.Detail = o.Reason + "; nothing sent"
		return r, nil
	}
	userID := s.ConnectUserID
	if dest == rules.Salesforce {
		userID = s.SalesforceUserID
	}
	if userID == "" {
		r.Outcome = OutcomeUnlinked
		r.Detail = fmt.Sprintf("%s; the agent has no linked %s user, so nothing sent", o.Reason, dest.Label())
		return r, nil
	}
	if cur, why := s.intended(dest); cur == o.Target.State() {
		r.Outcome = OutcomeAlreadyInState
		r.Detail = fmt.Sprintf("%s; %s is already %s, so nothing sent", o.Reason, dest.Label(), why)
		return r, nil
	}
	mode := ModeNow
	if dest == rules.Connect && OnContact(s.Connect.Contacts) {
		policy, from := o.WhileOnContact, "rule"
		if policy == "" {
			policy, from = rules.Policy(set.WhileOnContact), "default"
		}
		switch policy {
		case rules.PolicyIgnore:
			r.Outcome = OutcomeIgnoredOnContact
			r.Detail = fmt.Sprintf("%s; the agent is on a contact and the %s while-on-contact policy is ignore", o.Reason, from)
			return r, nil
		case rules.PolicyDefer:
			mode = ModeNextStatus
		}
	}
	crossing := len(s.Chain.Crossings) + 1 // prune kept only crossings within the window
	if crossing > set.LoopGuard.MaxCrossings {
		r.Outcome = OutcomeLoopCut
		r.Detail = fmt.Sprintf("%s; loop cut: chain %s would cross systems %d times within %ds (max %d), so nothing sent",
			o.Reason, s.Chain.ID, crossing, set.LoopGuard.WindowSeconds, set.LoopGuard.MaxCrossings)
		return r, nil
	}
	cmd := Command{
		ID: CommandID(ev.ID, dest), Destination: dest, UserID: userID, Target: o.Target, Mode: mode,
		Reason: o.Reason, RuleID: o.RuleID, CausedBy: ev.ID, ChainID: s.Chain.ID, IssuedAt: now,
	}
	s.record(cmd, set, now)
	r.CommandID = cmd.ID
	r.Outcome = OutcomeApplied
	how := "to apply now"
	if mode == ModeNextStatus {
		r.Outcome = OutcomeDeferred
		how = "as next status, since the agent is on a contact"
	}
	r.Detail = o.Reason + "; command " + cmd.ID + " sent " + how + " (crossing " + strconv.Itoa(crossing) +
		" of max " + strconv.Itoa(set.LoopGuard.MaxCrossings) + " in chain " + s.Chain.ID + ")"
	return r, &cmd
}

// intended returns the state dest is in or headed to: the newest command still in flight (issued
// after the last observed change), else the mirror. Comparing targets with it keeps the bridge
// from repeating itself.
func (s *AgentState) intended(dest rules.Destination) (string, string) {
	observed, mirror := s.Connect.ObservedAt, s.Connect.Status
	if dest == rules.Salesforce {
		observed, mirror = s.Salesforce.ObservedAt, s.Salesforce.StatusName
	}
	if dest == rules.Connect && s.Deferred != nil {
		return s.Deferred.Status, fmt.Sprintf("set to go to %q as next status (command %s)", s.Deferred.Status, s.Deferred.CommandID)
	}
	var latest *ExpectedEcho
	for i := range s.Echoes {
		e := &s.Echoes[i]
		if e.Target.Destination == dest && e.IssuedAt.After(observed) && (latest == nil || !e.IssuedAt.Before(latest.IssuedAt)) {
			latest = e
		}
	}
	if latest != nil {
		return latest.Target.State(), fmt.Sprintf("headed to %q (command %s in flight)", latest.Target.State(), latest.CommandID)
	}
	return mirror, strconv.Quote(mirror)
}

// record notes what a command leads the bridge to expect: an echo or a deferred next status, an
// acknowledgement for Salesforce, and a crossing in the chain.
func (s *AgentState) record(cmd Command, set config.Settings, now time.Time) {
	s.Chain.Crossings = append(s.Chain.Crossings, now)
	if cmd.Destination == rules.Connect {
		s.Chain.ConnectAt = now
	} else {
		s.Chain.SalesforceAt = now
	}
	if cmd.Mode == ModeNextStatus {
		s.Deferred = &DeferredStatus{CommandID: cmd.ID, Status: cmd.Target.ConnectStatus, CausedBy: cmd.CausedBy, IssuedAt: now}
	} else {
		s.Echoes = append(s.Echoes, ExpectedEcho{
			CommandID: cmd.ID, Target: cmd.Target, CausedBy: cmd.CausedBy, IssuedAt: now,
			Expires: now.Add(time.Duration(set.EchoWindowSeconds) * time.Second),
		})
		if cmd.Destination == rules.Connect {
			s.Deferred = nil // a status set now replaces any next status
		}
	}
	if cmd.Destination == rules.Salesforce {
		s.Pending = append(s.Pending, PendingCommand{
			Command:  cmd,
			Deadline: now.Add(time.Duration(set.CommandAckTimeoutSeconds) * time.Second),
		})
	}
}

// summarize picks the audit's headline outcome: a sent command if any, else the first result's.
func summarize(rs []Result) Outcome {
	for _, r := range rs {
		if r.Outcome == OutcomeApplied || r.Outcome == OutcomeDeferred {
			return r.Outcome
		}
	}
	if len(rs) > 0 {
		return rs[0].Outcome
	}
	return OutcomeNoRule
}

// writeResult ends an explanation with one destination's result: ` Salesforce: applied: ….`
func writeResult(b *strings.Builder, r Result) {
	b.WriteByte(' ')
	b.WriteString(r.Destination.Label())
	b.WriteString(": ")
	b.WriteString(string(r.Outcome))
	b.WriteString(": ")
	b.WriteString(r.Detail)
	b.WriteByte('.')
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func number(n rules.Number) string {
	if !n.Valid {
		return "?"
	}
	return strconv.FormatFloat(n.Value, 'f', -1, 64)
}
