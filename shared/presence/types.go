package presence

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"

	"github.com/omnibridge/omnibridge/shared/rules"
)

// AgentState is the bridge's memory of one agent, persisted by the shell between events. Decide
// reads it and returns the next one; nothing else should edit it except Acknowledge and
// ExpireCommands.
type AgentState struct {
	// ConnectUserID and SalesforceUserID are the linked identities, resolved by the shell. A
	// missing one makes commands toward that system "unlinked".
	ConnectUserID    string `json:"connectUserId,omitempty"`
	SalesforceUserID string `json:"salesforceUserId,omitempty"`

	Connect    ConnectMirror    `json:"connect"`
	Salesforce SalesforceMirror `json:"salesforce"`

	// Deferred is the Connect status the bridge set as next status while the agent was on a
	// contact; it is settled by the next Connect status change.
	Deferred *DeferredStatus `json:"deferred,omitempty"`
	// Echoes are commanded changes expected back from their destination within the echo window.
	Echoes []ExpectedEcho `json:"echoes,omitempty"`
	// Pending are Salesforce commands awaiting the console's acknowledgement.
	Pending []PendingCommand `json:"pending,omitempty"`
	// Chain is the causal chain the agent's latest events belong to, for the loop guard.
	Chain Chain `json:"chain"`
}

// ConnectMirror is the last known Connect side.
type ConnectMirror struct {
	// Status is the raw AgentStatus.Name.
	Status string `json:"status,omitempty"`
	// StatusType is ROUTABLE, CUSTOM or OFFLINE when the event carried it.
	StatusType string `json:"statusType,omitempty"`
	// State is the effective state (see EffectiveState).
	State    string    `json:"state,omitempty"`
	Contacts []Contact `json:"contacts,omitempty"`
	// EventID and EventTime identify the newest Connect event applied; older ones are stale.
	EventID   string    `json:"eventId,omitempty"`
	EventTime time.Time `json:"eventTime,omitzero"`
	// ObservedAt is when (bridge clock) the bridge last saw the status change. A command issued
	// after it is still in flight; one issued before it has been overtaken by what was observed.
	ObservedAt time.Time `json:"observedAt,omitzero"`
}

// SalesforceMirror is the last known Salesforce side.
type SalesforceMirror struct {
	// StatusID and StatusName are the presence status id and DeveloperName ("0"/"Offline" when
	// logged out).
	StatusID   string `json:"statusId,omitempty"`
	StatusName string `json:"statusName,omitempty"`
	// Channel is the service channel of the last accepted work.
	Channel string `json:"channel,omitempty"`
	// Workload and Capacity are from the last workload event.
	Workload rules.Number `json:"workload"`
	Capacity rules.Number `json:"capacity"`
	// EventID and EventTime identify the newest Salesforce event applied; older ones are stale.
	EventID   string    `json:"eventId,omitempty"`
	EventTime time.Time `json:"eventTime,omitzero"`
	// ObservedAt: see ConnectMirror.ObservedAt.
	ObservedAt time.Time `json:"observedAt,omitzero"`
	// LoggedOutAt is when (bridge clock) the bridge learned that the user's Salesforce session
	// ended (a logout event, or a poll that found no valid session); zero while the user is, or
	// may be, logged in. Salesforce ends Omni-Channel presence with the session, so the mirror
	// then reads Offline, and a command that expires meanwhile is "not applicable: user logged
	// out" rather than a delivery failure. A login, or any sign of an open console (a status
	// other than Offline, an acknowledgement), clears it.
	LoggedOutAt time.Time `json:"loggedOutAt,omitzero"`
}

// DeferredStatus is a Connect next status set by the bridge.
type DeferredStatus struct {
	CommandID string    `json:"commandId"`
	Status    string    `json:"status"`
	CausedBy  string    `json:"causedBy"`
	IssuedAt  time.Time `json:"issuedAt"`
}

// ExpectedEcho is a change the bridge commanded, expected back from its destination.
type ExpectedEcho struct {
	CommandID string       `json:"commandId"`
	Target    rules.Target `json:"target"`
	CausedBy  string       `json:"causedBy"`
	IssuedAt  time.Time    `json:"issuedAt"`
	Expires   time.Time    `json:"expires"`
}

// PendingCommand is a Salesforce command awaiting acknowledgement until Deadline.
type PendingCommand struct {
	Command  Command   `json:"command"`
	Deadline time.Time `json:"deadline"`
}

// Chain tracks the causal chain for the loop guard. An event belongs to the current chain when it
// comes from a system the bridge commanded for this agent within loopGuard.windowSeconds and
// that system has not yet settled the command (echoed it back, failed it or let it expire):
// such an event may be the command's doing. Any other event, and any Connect event that only
// changes contacts, starts a new chain named after it. Each command is a crossing; a command
// that would make more than loopGuard.maxCrossings crossings within the window is cut.
type Chain struct {
	// ID is the id of the event that started the chain.
	ID string `json:"id,omitempty"`
	// Crossings are the times the bridge commanded a system in this chain, oldest first; only
	// those within the window count and are kept.
	Crossings []time.Time `json:"crossings,omitempty"`
	// ConnectAt and SalesforceAt are when the chain last commanded each system; zero once the
	// system settled the command.
	ConnectAt    time.Time `json:"connectAt,omitzero"`
	SalesforceAt time.Time `json:"salesforceAt,omitzero"`
}

// Origin says how an event reached the bridge.
type Origin string

// The origins.
const (
	// OriginStream is the Connect agent event stream (Kinesis).
	OriginStream Origin = "stream"
	// OriginWebhook is a Salesforce callout or the console component.
	OriginWebhook Origin = "webhook"
	// OriginPoll is a scheduled poll of either system.
	OriginPoll Origin = "poll"
	// OriginSession is session-driven availability (login, logout, session poll).
	OriginSession Origin = "session"
)

// KindAvailability is the kind of an event that carries an AvailabilityRequest: a status to set
// on one system because the user's Salesforce session began or ended. It is no rule source.
const KindAvailability rules.EventKind = "session.availability"

// AvailabilityRequest asks for one system's status to be set, through the same command path as
// rule decisions: identity links, while-on-contact policy, echo suppression, acknowledgement
// tracking, outbox and audit. No rule is evaluated.
type AvailabilityRequest struct {
	// Destination is the system to set.
	Destination rules.Destination `json:"destination"`
	// Status is a Connect status name, or a Salesforce DeveloperName or "Offline".
	Status string `json:"status"`
	// WhileOnContact is the Connect policy; empty means the settings' default.
	WhileOnContact rules.Policy `json:"whileOnContact,omitempty"`
	// Reason is why, such as "Logged out of Salesforce".
	Reason string `json:"reason"`
	// SessionEnded is set when the request follows the end of the user's Salesforce session (a
	// logout event, or a poll that found no valid session); unset, it follows a login. Toward
	// Salesforce, an ended session needs no command: Salesforce ended the user's Omni-Channel
	// presence with it, so the mirror is set to Offline and the result is "not applicable: user
	// logged out".
	SessionEnded bool `json:"sessionEnded,omitempty"`
}

// Event is a normalized event from either system.
type Event struct {
	// ID is the source's event id (Kinesis EventId, Outbound Message Notification Id, ...).
	ID string `json:"id"`
	// Kind selects which fields below are read.
	Kind   rules.EventKind `json:"kind"`
	Time   time.Time       `json:"time"`
	Origin Origin          `json:"origin,omitempty"`

	// Connect is the agent snapshot after the change (connect.agentStateChanged).
	Connect ConnectSnapshot `json:"connect"`
	// ConnectPrevious is the snapshot before the change, when the source has it (Kinesis
	// PreviousAgentSnapshot); otherwise the mirror supplies the old state.
	ConnectPrevious *ConnectSnapshot `json:"connectPrevious,omitempty"`
	// Salesforce carries the Salesforce fields.
	Salesforce SalesforceData `json:"salesforce"`
	// CommandID is set when the source reports that a bridge command made this change (the
	// console component does); it makes echo detection exact.
	CommandID string `json:"commandId,omitempty"`
	// Availability is set, with Kind KindAvailability, for a session-driven availability
	// request.
	Availability *AvailabilityRequest `json:"availability,omitempty"`
}

// ConnectSnapshot is the part of a Connect agent snapshot the bridge uses.
type ConnectSnapshot struct {
	StatusName string    `json:"statusName"`
	StatusType string    `json:"statusType,omitempty"`
	Contacts   []Contact `json:"contacts,omitempty"`
}

// SalesforceData is the part of a Salesforce event the bridge uses. Status events need StatusID
// or StatusName; the other is resolved from the catalog.
type SalesforceData struct {
	StatusID           string       `json:"statusId,omitempty"`
	StatusName         string       `json:"statusName,omitempty"`
	Channel            string       `json:"channel,omitempty"`
	PreviousWorkload   rules.Number `json:"previousWorkload"`
	NewWorkload        rules.Number `json:"newWorkload"`
	ConfiguredCapacity rules.Number `json:"configuredCapacity"`
}

// Mode says when Connect applies a command.
type Mode string

// The modes.
const (
	// ModeNow sets the status at once.
	ModeNow Mode = "now"
	// ModeNextStatus sets Connect's next status, applied when the agent's contact ends.
	ModeNextStatus Mode = "next-status"
)

// Command asks a system to set an agent's state.
type Command struct {
	// ID is CommandID(CausedBy, Destination): the platform event's command id for Salesforce and
	// the limiter/coalescing key (and ClientToken where the API takes one) for Connect.
	ID          string            `json:"id"`
	Destination rules.Destination `json:"destination"`
	// UserID is the agent's id in the destination system.
	UserID string       `json:"userId"`
	Target rules.Target `json:"target"`
	// Mode is always ModeNow for Salesforce.
	Mode Mode `json:"mode"`
	// Reason is the rule or mapping that chose the target, for audits and the console.
	Reason string `json:"reason"`
	// RuleID is the winning rule, empty for the mapping.
	RuleID   string    `json:"ruleId,omitempty"`
	CausedBy string    `json:"causedBy"`
	ChainID  string    `json:"chainId"`
	IssuedAt time.Time `json:"issuedAt"`
}

// CommandID derives a command's id from the event that caused it: the first 128 bits of
// SHA-256(eventID + "/" + destination), in hex. A replayed event derives the same id, so the
// receiving side can drop the second copy.
func CommandID(eventID string, dest rules.Destination) string {
	sum := sha256.Sum256([]byte(eventID + "/" + string(dest)))
	return hex.EncodeToString(sum[:16])
}

// Outcome classifies what happened to an event, a destination or an acknowledgement.
type Outcome string

// The outcomes.
const (
	// OutcomeApplied means a command was issued to apply now.
	OutcomeApplied Outcome = "applied"
	// OutcomeDeferred means a Connect command was issued as next status (agent on contact, defer).
	OutcomeDeferred Outcome = "deferred"
	// OutcomeStale means the event is not newer than the last one from its system; dropped.
	OutcomeStale Outcome = "stale"
	// OutcomeDuplicate means the event id was seen before (detected by the shell); nothing done.
	OutcomeDuplicate Outcome = "duplicate"
	// OutcomeEcho means the event reports a change the bridge commanded; mirror updated, no rules.
	OutcomeEcho Outcome = "echo"
	// OutcomeLoopCut means the command would extend a causal chain beyond the loop guard.
	OutcomeLoopCut Outcome = "loop-cut"
	// OutcomeNoRule means neither a rule nor the mapping applies; nothing sent.
	OutcomeNoRule Outcome = "no-rule"
	// OutcomeUnlinked means the destination's user id is unknown.
	OutcomeUnlinked Outcome = "unlinked"
	// OutcomeIgnoredOnContact means a Connect command dropped because the agent is on a contact.
	OutcomeIgnoredOnContact Outcome = "ignored-on-contact"
	// OutcomeAlreadyInState means the destination is already in (or headed to) the target state.
	OutcomeAlreadyInState Outcome = "already-in-state"
	// OutcomeUnchanged means the event repeats the known state (a poll or heartbeat); no rules run.
	OutcomeUnchanged Outcome = "unchanged"
	// OutcomeInvalid means the event or acknowledgement is malformed.
	OutcomeInvalid Outcome = "invalid"
	// OutcomeAcknowledged means the Salesforce console applied a command.
	OutcomeAcknowledged Outcome = "acknowledged"
	// OutcomeFailed means the Salesforce console reported that it could not apply a command.
	OutcomeFailed Outcome = "failed"
	// OutcomeNotApplied means no acknowledgement before the deadline; the console is not open.
	OutcomeNotApplied Outcome = "not-applied"
	// OutcomeNotApplicable means a Salesforce command has no console to go to because the
	// user's Salesforce session ended (logged out): it is nothing to deliver, not a failure.
	OutcomeNotApplicable Outcome = "not-applicable"
)

// Audit records one decision for the audit log.
type Audit struct {
	EventID   string          `json:"eventId,omitempty"`
	EventKind rules.EventKind `json:"eventKind,omitempty"`
	Origin    Origin          `json:"origin,omitempty"`
	EventTime time.Time       `json:"eventTime,omitzero"`
	DecidedAt time.Time       `json:"decidedAt"`

	ConnectUserID    string `json:"connectUserId,omitempty"`
	SalesforceUserID string `json:"salesforceUserId,omitempty"`

	// Outcome summarizes: the per-destination outcome, or the event's (stale, echo, ...).
	Outcome Outcome `json:"outcome"`
	// Explanation is the human-readable account: the state seen, the rules matched and skipped
	// with their reasons, and what was sent.
	Explanation string `json:"explanation"`
	// Results has one entry per destination the event could reach.
	Results []Result `json:"results,omitempty"`
	// Trace is the rule evaluation, for the admin API.
	Trace rules.Trace `json:"trace,omitzero"`
	// ChainID is the causal chain the event belongs to.
	ChainID string `json:"chainId,omitempty"`
	// CommandID names the command an acknowledgement or timeout is about.
	CommandID string `json:"commandId,omitempty"`
}

// Result is the outcome for one destination.
type Result struct {
	Destination rules.Destination `json:"destination"`
	Outcome     Outcome           `json:"outcome"`
	Source      rules.Source      `json:"source"`
	RuleID      string            `json:"ruleId,omitempty"`
	Target      rules.Target      `json:"target"`
	CommandID   string            `json:"commandId,omitempty"`
	Detail      string            `json:"detail"`
}

// Decision is what Decide returns: the commands to send, the state to persist and the audit
// record to write.
type Decision struct {
	Commands []Command  `json:"commands,omitempty"`
	State    AgentState `json:"state"`
	Audit    Audit      `json:"audit"`
}

// NextDeadline returns the earliest acknowledgement deadline among pending commands, so the
// shell knows when to call ExpireCommands.
func (s AgentState) NextDeadline() (time.Time, bool) {
	var first time.Time
	for _, p := range s.Pending {
		if first.IsZero() || p.Deadline.Before(first) {
			first = p.Deadline
		}
	}
	return first, !first.IsZero()
}

// clone deep-copies s, so that Decide never writes through the caller's slices.
func (s AgentState) clone() AgentState {
	s.Connect.Contacts = slices.Clone(s.Connect.Contacts)
	if s.Deferred != nil {
		d := *s.Deferred
		s.Deferred = &d
	}
	s.Echoes = slices.Clone(s.Echoes)
	s.Pending = slices.Clone(s.Pending)
	s.Chain.Crossings = slices.Clone(s.Chain.Crossings)
	return s
}
