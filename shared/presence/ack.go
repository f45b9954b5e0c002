package presence

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/omnibridge/omnibridge/shared/rules"
)

// Ack is the Salesforce console component's report on a presence command.
type Ack struct {
	// CommandID is the Command.ID carried by the platform event.
	CommandID string `json:"commandId"`
	// Applied is true when the console set the status.
	Applied bool `json:"applied"`
	// Reason says why the console could not apply it.
	Reason string `json:"reason,omitempty"`
}

// Acknowledge applies a command acknowledgement: the pending command is settled and audited as
// acknowledged or failed. A failed command's expected echo is dropped too, so the next event that
// wants the same status sends it again. An acknowledgement for a command that is not pending
// (already confirmed by its echo, expired, or unknown) is audited and changes nothing. Pure.
func Acknowledge(state AgentState, ack Ack, now time.Time) (AgentState, Audit) {
	st := state.clone()
	a := Audit{
		DecidedAt: now, ConnectUserID: st.ConnectUserID, SalesforceUserID: st.SalesforceUserID,
		CommandID: ack.CommandID,
	}
	if ack.CommandID == "" {
		a.Outcome = OutcomeInvalid
		a.Explanation = "invalid acknowledgement: missing command id; nothing done"
		return st, a
	}
	a.Outcome = OutcomeAcknowledged
	if !ack.Applied {
		a.Outcome = OutcomeFailed
	}
	i := slices.IndexFunc(st.Pending, func(p PendingCommand) bool { return p.Command.ID == ack.CommandID })
	if i < 0 {
		a.Explanation = fmt.Sprintf("acknowledgement (%s) for command %s, which is not pending (already confirmed, expired or unknown); nothing changed",
			a.Outcome, ack.CommandID)
		return st, a
	}
	cmd := st.Pending[i].Command
	st.Pending = slices.Delete(st.Pending, i, i+1)
	a.EventID, a.ChainID = cmd.CausedBy, cmd.ChainID
	a.Results = []Result{{Destination: cmd.Destination, Outcome: a.Outcome, RuleID: cmd.RuleID, Target: cmd.Target, CommandID: cmd.ID}}
	if ack.Applied {
		st.Salesforce.LoggedOutAt = time.Time{} // a console applied it, so one is open
		a.Explanation = fmt.Sprintf("Salesforce console applied command %s (%s), caused by event %s", cmd.ID, cmd.Target, cmd.CausedBy)
	} else {
		st.Echoes = slices.DeleteFunc(st.Echoes, func(e ExpectedEcho) bool { return e.CommandID == cmd.ID })
		st.settle(cmd.Destination)
		a.Explanation = fmt.Sprintf("Salesforce console could not apply command %s (%s), caused by event %s: %s",
			cmd.ID, cmd.Target, cmd.CausedBy, orUnknown(ack.Reason))
	}
	a.Results[0].Detail = a.Explanation
	return st, a
}

// ExpireCommands settles every pending Salesforce command whose acknowledgement deadline has
// passed. Only an open console can set Omni-Channel presence, so each is audited as "not
// applied: console not open", or, when the user's Salesforce session has ended meanwhile, as
// "not applicable: user logged out": nothing was lost, there was no console to go to. The
// command's expected echo goes with it, so the mirror falls back to the last state Salesforce
// confirmed (its last reported status, or Offline once the session ended) and the next decision
// is taken on that, never on the command; the audit names the state fallen back to. Call it on
// a schedule (AgentState.NextDeadline says when) or before Decide. Pure.
func ExpireCommands(state AgentState, now time.Time) (AgentState, []Audit) {
	st := state.clone()
	loggedOut := !st.Salesforce.LoggedOutAt.IsZero()
	if loggedOut {
		st.Salesforce.StatusID, st.Salesforce.StatusName = rules.OfflineStatusID, rules.Offline
	}
	var audits []Audit
	st.Pending = slices.DeleteFunc(st.Pending, func(p PendingCommand) bool {
		if now.Before(p.Deadline) {
			return false
		}
		cmd := p.Command
		outcome := OutcomeNotApplied
		msg := fmt.Sprintf("not applied: console not open; Salesforce did not acknowledge command %s (%s), caused by event %s, by %s",
			cmd.ID, cmd.Target, cmd.CausedBy, stamp(p.Deadline))
		if loggedOut {
			outcome = OutcomeNotApplicable
			msg = fmt.Sprintf("not applicable: user logged out (the Salesforce session ended at %s); command %s (%s), caused by event %s, had no console to go to by %s",
				stamp(st.Salesforce.LoggedOutAt), cmd.ID, cmd.Target, cmd.CausedBy, stamp(p.Deadline))
		}
		msg += "; the mirror falls back to the last state Salesforce confirmed: " + st.Salesforce.confirmed()
		audits = append(audits, Audit{
			EventID: cmd.CausedBy, DecidedAt: now, ConnectUserID: st.ConnectUserID, SalesforceUserID: st.SalesforceUserID,
			Outcome: outcome, Explanation: msg, ChainID: cmd.ChainID, CommandID: cmd.ID,
			Results: []Result{{Destination: cmd.Destination, Outcome: outcome, RuleID: cmd.RuleID, Target: cmd.Target, CommandID: cmd.ID, Detail: msg}},
		})
		return true
	})
	if len(audits) > 0 {
		expired := func(e ExpectedEcho) bool {
			return slices.ContainsFunc(audits, func(a Audit) bool { return a.CommandID == e.CommandID })
		}
		st.Echoes = slices.DeleteFunc(st.Echoes, expired)
		st.settle(rules.Salesforce)
	}
	return st, audits
}

// confirmed describes the Salesforce state the mirror holds, as Salesforce confirmed it.
func (m SalesforceMirror) confirmed() string {
	switch {
	case !m.LoggedOutAt.IsZero():
		return fmt.Sprintf("%q (the session ended at %s)", rules.Offline, stamp(m.LoggedOutAt))
	case m.StatusName == "":
		return "none known"
	case m.EventID == "":
		return strconv.Quote(m.StatusName)
	}
	return fmt.Sprintf("%q (event %s at %s)", m.StatusName, m.EventID, stamp(m.EventTime))
}

// Duplicate returns the audit record for an event the shell's idempotency store has seen
// before: nothing is done, and the record says so.
func Duplicate(state AgentState, ev Event, now time.Time) Audit {
	return Audit{
		EventID: ev.ID, EventKind: ev.Kind, Origin: ev.Origin, EventTime: ev.Time, DecidedAt: now,
		ConnectUserID: state.ConnectUserID, SalesforceUserID: state.SalesforceUserID,
		Outcome:     OutcomeDuplicate,
		Explanation: fmt.Sprintf("duplicate: event %s was already processed; nothing done", ev.ID),
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "no reason given"
	}
	return s
}
