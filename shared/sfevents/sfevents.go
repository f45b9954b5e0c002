// Package sfevents is the contract of the Salesforce presence webhook
// (POST /webhooks/salesforce/presence), version 1: the batch of Omni-Channel console events that
// the Salesforce side pushes to the bridge, how it is decoded and validated, and how each event
// becomes a presence.Event or a command acknowledgement.
//
// It is also the contract of the Salesforce session webhook (POST /webhooks/salesforce/session),
// version 1 (DecodeSession): the org's login and logout events, forwarded as they happen so a
// user's availability follows their Salesforce session without waiting for the AuthSession
// poll. Logins come from a Login Flow action (Apex cannot subscribe to LoginEventStream), logouts
// from an Apex trigger on LogoutEventStream; the optional fields carry those platform events'
// own fields. Both contracts share the batch envelope (schemaVersion, orgId, sentAt, events),
// its limits and the decoder's rules.
//
// The contracts are also published as JSON Schemas (draft 2020-12) in
// infra/salesforce/contracts/presence-webhook.v1.schema.json and session-webhook.v1.schema.json,
// for the Salesforce package that produces them; tests keep each in agreement with its decoder.
// This package is domain code: no net/http, no AWS. Authentication and HTTP live in package
// webhook.
package sfevents

import (
	"slices"
	"time"

	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/rules"
)

// SchemaVersion is the only contract version this package accepts.
const SchemaVersion = "1"

// Limits of a batch. MaxEvents keeps one request's work within a Lambda invocation; MaxProblems
// bounds the size of a 400 response however broken the body is.
const (
	MaxEvents   = 500
	MaxProblems = 100
)

// Type names a console event's type: the "type" field on the wire.
type Type string

// The event types of contract v1.
const (
	// TypeStatusChanged: the agent's Omni-Channel presence status changed.
	TypeStatusChanged Type = "statusChanged"
	// TypeLogout: the agent logged out of Omni-Channel (status Offline).
	TypeLogout Type = "logout"
	// TypeWorkAccepted: the agent accepted a work item on a service channel.
	TypeWorkAccepted Type = "workAccepted"
	// TypeWorkloadChanged: the agent's workload changed.
	TypeWorkloadChanged Type = "workloadChanged"
	// TypeCommandAck: the console applied, or failed to apply, a presence command from the bridge.
	TypeCommandAck Type = "commandAck"
)

// Types returns every event type, in the contract's order.
func Types() []Type {
	return []Type{TypeStatusChanged, TypeLogout, TypeWorkAccepted, TypeWorkloadChanged, TypeCommandAck}
}

// Kind returns the rule engine's event kind for t; acknowledgements (and unknown types) have none.
func (t Type) Kind() (rules.EventKind, bool) {
	switch t {
	case TypeStatusChanged:
		return rules.EventSalesforceAgentStateChanged, true
	case TypeLogout:
		return rules.EventSalesforceAgentLogout, true
	case TypeWorkAccepted:
		return rules.EventSalesforceWorkAccepted, true
	case TypeWorkloadChanged:
		return rules.EventSalesforceWorkloadChanged, true
	}
	return "", false
}

// AckResult is a command acknowledgement's "result" field.
type AckResult string

// The acknowledgement results.
const (
	AckApplied AckResult = "applied"
	AckFailed  AckResult = "failed"
)

// Batch is one decoded webhook request body.
type Batch struct {
	SchemaVersion string
	// OrgID is the sending org, in 18-character form.
	OrgID string
	// SentAt is when the console sent the batch (its clock); informational.
	SentAt time.Time
	// Events are in input order; Event.Index is each one's position.
	Events []Event
}

// Event is one console event. Which fields are set depends on Type.
type Event struct {
	// Index is the event's position in the request's events array, so results map back to it
	// after the batch is reordered by time.
	Index int
	// ID is the console's event id (EventUuid or a generated UUID); the processor de-duplicates
	// by it across retries.
	ID   string
	Type Type
	// UserID is the agent's Salesforce user id, in 18-character form.
	UserID string
	// Time is when the change happened in the console, in UTC.
	Time time.Time

	// StatusID and StatusDeveloperName name the new presence status (statusChanged). StatusID is
	// kept as sent, because the status catalog in the config holds ids as the console reports
	// them.
	StatusID            string
	StatusDeveloperName string
	// Channels are the service channels the status routes (statusChanged).
	Channels []string
	// CommandID is the bridge command the console applied to make this change (statusChanged,
	// logout), or the command acknowledged (commandAck).
	CommandID string

	// WorkItemID (18-character form) and ServiceChannel describe accepted work (workAccepted).
	WorkItemID     string
	ServiceChannel string

	// ConfiguredCapacity, PreviousWorkload and NewWorkload are the workload figures
	// (workloadChanged).
	ConfiguredCapacity float64
	PreviousWorkload   float64
	NewWorkload        float64

	// Result and Reason report a command's fate (commandAck).
	Result AckResult
	Reason string
}

// InTimeOrder returns the batch's events sorted by event time. The sort is stable, so events with
// the same time keep their input order; Index still names each one's input position.
func (b Batch) InTimeOrder() []Event {
	out := slices.Clone(b.Events)
	slices.SortStableFunc(out, func(x, y Event) int { return x.Time.Compare(y.Time) })
	return out
}

// IsAck reports whether e is a command acknowledgement rather than a presence event.
func (e Event) IsAck() bool { return e.Type == TypeCommandAck }

// Presence converts a presence event (any type but commandAck) to the engine's event. The agent
// is e.UserID. It reports false for acknowledgements.
func (e Event) Presence() (presence.Event, bool) {
	kind, ok := e.Type.Kind()
	if !ok {
		return presence.Event{}, false
	}
	ev := presence.Event{ID: e.ID, Kind: kind, Time: e.Time, Origin: presence.OriginWebhook, CommandID: e.CommandID}
	switch e.Type {
	case TypeStatusChanged:
		ev.Salesforce.StatusID, ev.Salesforce.StatusName = e.StatusID, e.StatusDeveloperName
	case TypeLogout:
		// A logout is a change to Offline, whose reserved id is "0".
		ev.Salesforce.StatusID, ev.Salesforce.StatusName = rules.OfflineStatusID, rules.Offline
	case TypeWorkAccepted:
		ev.Salesforce.Channel = e.ServiceChannel
	case TypeWorkloadChanged:
		ev.Salesforce.ConfiguredCapacity = rules.Num(e.ConfiguredCapacity)
		ev.Salesforce.PreviousWorkload = rules.Num(e.PreviousWorkload)
		ev.Salesforce.NewWorkload = rules.Num(e.NewWorkload)
	}
	return ev, true
}

// Ack is a command acknowledgement from the console.
type Ack struct {
	// CommandID is the presence.Command.ID the console received in the platform event.
	CommandID string
	// Applied is true when the console set the status.
	Applied bool
	// Reason is the console's explanation, mostly for failures.
	Reason string
	// Time is when the console applied or gave up on the command.
	Time time.Time
	// EventID and UserID identify the acknowledgement event and the agent (18-character form).
	EventID string
	UserID  string
}

// Ack converts an acknowledgement event; it reports false for any other type.
func (e Event) Ack() (Ack, bool) {
	if e.Type != TypeCommandAck {
		return Ack{}, false
	}
	return Ack{CommandID: e.CommandID, Applied: e.Result == AckApplied, Reason: e.Reason, Time: e.Time, EventID: e.ID, UserID: e.UserID}, true
}

// Presence returns the engine's form of the acknowledgement.
func (a Ack) Presence() presence.Ack {
	return presence.Ack{CommandID: a.CommandID, Applied: a.Applied, Reason: a.Reason}
}
