// Package contactevent models one Amazon Connect contact event as EventBridge delivers it: the
// envelope (detail-type "Amazon Connect Contact Event", source "aws.connect") around the
// contact's detail (INITIATED, QUEUED, CONNECTED_TO_AGENT, DISCONNECTED, COMPLETED,
// CONTACT_DATA_UPDATED ...).
//
// It is a domain package: it knows the event format and nothing about EventBridge, Lambda or
// the AWS SDK. Decode turns bytes into an Event and refuses events the bridge could not act on
// (wrong source or detail-type, missing contact id, unparsable timestamps, values of the wrong
// JSON type) with an apperr.Invalid error naming every offending field by its JSON path.
// Encode writes the envelope back in the camelCase shape of the current Connect documentation,
// so the simulator emits what EventBridge delivers.
//
// The format is loosely specified and Connect's own samples mix key spellings: "eventType" and
// "EventType", "agentInfo" and "AgentInfo", "instanceArn" and "instanceARN", "channel" values
// "VOICE" and "Voice", "routingCriteria" as an object or as a list. Keys are therefore matched
// case-insensitively (a key given twice in two spellings is an error, since either reading
// could be wrong), channels are upper-cased, and routing criteria accept both shapes.
// Unknown keys and event types are kept out of the way rather than refused, as the Connect
// guide asks of consumers, so a new Connect feature never turns events into poison records.
//
// Connect writes "1970-01-01T00:00:00.001Z" for timestamps that are not set yet (its
// CONTACT_DATA_UPDATED sample carries it in connectedToAgentTimestamp); Decode reads any
// instant in the first second of the epoch as absent.
package contactevent

import (
	"fmt"
	"strings"
	"time"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/apperr"
)

// The fixed envelope values of every contact event.
const (
	// DetailType is the EventBridge detail-type of Connect's contact events.
	DetailType = "Amazon Connect Contact Event"
	// Source is the EventBridge source of every Connect event.
	Source = "aws.connect"
	// EnvelopeVersion is the version EventBridge writes in the envelope.
	EnvelopeVersion = "0"
)

// EventType is the kind of a contact event.
type EventType string

// The event types the Connect administrator guide lists as EventType's valid values.
const (
	// Initiated: a voice call, chat, task or email is initiated or transferred.
	Initiated EventType = "INITIATED"
	// ConnectedToSystem: the contact has established media (outbound calls, tasks, chats).
	ConnectedToSystem EventType = "CONNECTED_TO_SYSTEM"
	// ContactDataUpdated: attributes, tags, scheduled time or routing criteria changed, or a
	// routing step expired; UpdatedProperties says which.
	ContactDataUpdated EventType = "CONTACT_DATA_UPDATED"
	// Queued: the contact is queued to be assigned to an agent.
	Queued EventType = "QUEUED"
	// ConnectedToAgent: the contact is connected to an agent.
	ConnectedToAgent EventType = "CONNECTED_TO_AGENT"
	// Disconnected: the contact is disconnected (hung up, stopped, expired).
	Disconnected EventType = "DISCONNECTED"
	// Paused: an active task was paused.
	Paused EventType = "PAUSED"
	// Resumed: a paused task was resumed.
	Resumed EventType = "RESUMED"
	// Completed: the contact has fully ended, after contact work included. When the agent did
	// after contact work, Agent carries its start, end and duration; otherwise Connect
	// publishes it right after DISCONNECTED with the same data.
	Completed EventType = "COMPLETED"
)

// Known reports whether t is one of the documented event types. Events of other types decode
// (Connect adds types over time) and consumers should ignore them.
func (t EventType) Known() bool {
	switch t {
	case Initiated, ConnectedToSystem, ContactDataUpdated, Queued, ConnectedToAgent, Disconnected, Paused, Resumed, Completed:
		return true
	}
	return false
}

// The UpdatedProperties values documented for CONTACT_DATA_UPDATED.
const (
	// PropertyUserDefinedAttributes: contact attributes changed (UpdateContactAttributes).
	PropertyUserDefinedAttributes = "UserDefinedAttributes"
	// PropertyScheduledTimestamp: a task's scheduled time changed.
	PropertyScheduledTimestamp = "ScheduledTimestamp"
	// PropertyTags: the contact's tags changed.
	PropertyTags = "Tags"
	// PropertyRoutingStepStatus: a routing step expired (the sample's value).
	PropertyRoutingStepStatus = "RoutingCriteria.Step.Status"
)

// TagSystemEndpoint is the AWS-generated tag carrying the number the customer dialled (or the
// caller id of an outbound call). Contact events carry no customer number: DescribeContact has
// it.
const TagSystemEndpoint = "aws:connect:systemEndpoint"

// Event is one decoded contact event: the EventBridge envelope and the contact's detail.
type Event struct {
	// ID is the EventBridge event id, unique per event: the de-duplication key.
	ID string
	// Version is the envelope version, "0".
	Version string
	// DetailType is always DetailType.
	DetailType string
	// Source is always Source.
	Source string
	// Account is the AWS account that owns the instance.
	Account string
	// Time is when EventBridge received the event, to the second. Order a contact's events by
	// OccurredAt instead: Connect publishes them unordered and best-effort.
	Time time.Time
	// Region is the region of the event bus.
	Region string
	// Resources are the contact ARN and the instance ARN.
	Resources []string
	// Detail is the contact's data.
	Detail Detail
}

// Detail is the "detail" object of a contact event.
type Detail struct {
	// EventType is what happened; see Known.
	EventType EventType
	// ContactID identifies the contact (one leg: a transfer creates a new contact).
	ContactID string
	// InitialContactID is the first contact of a chain of transfers, "" when not sent.
	InitialContactID string
	// PreviousContactID is the contact this one was transferred from, "" when not sent.
	PreviousContactID string
	// RelatedContactID is a related contact (tasks started with RelatedContactId).
	RelatedContactID string
	// Channel is VOICE, CHAT, TASK or EMAIL, upper-cased.
	Channel agentevent.Channel
	// InstanceARN is the Connect instance.
	InstanceARN string
	// InitiationMethod is INBOUND, OUTBOUND, TRANSFER, CALLBACK, API, QUEUE_TRANSFER ...
	InitiationMethod agentevent.InitiationMethod
	// InitiationTimestamp is when the contact was initiated.
	InitiationTimestamp *time.Time
	// ConnectedToSystemTimestamp is when the customer endpoint connected to Connect.
	ConnectedToSystemTimestamp *time.Time
	// DisconnectTimestamp is when the customer endpoint disconnected.
	DisconnectTimestamp *time.Time
	// ScheduledTimestamp is when a scheduled task's flow runs.
	ScheduledTimestamp *time.Time
	// Queue is the queue the contact was placed in; nil when not sent (OUTBOUND calls).
	Queue *QueueInfo
	// Agent is the agent the contact was assigned to; nil when not sent.
	Agent *AgentInfo
	// Tags are the AWS-generated and user-defined tags of the contact.
	Tags map[string]string
	// UpdatedProperties lists what a CONTACT_DATA_UPDATED event changed.
	UpdatedProperties []string
	// RoutingCriteria are the contact's routing criteria, one entry per update.
	RoutingCriteria []RoutingCriteria
}

// QueueInfo is the queue of a contact.
type QueueInfo struct {
	// ARN is the queue ARN.
	ARN string
	// Type is STANDARD or AGENT.
	Type string
	// EnqueueTimestamp is when the contact entered the queue.
	EnqueueTimestamp *time.Time
}

// AgentInfo is the agent of a contact.
type AgentInfo struct {
	// ARN is the agent ARN; its last segment is the Connect user id.
	ARN string
	// ConnectedToAgentTimestamp is when the contact was connected to the agent.
	ConnectedToAgentTimestamp *time.Time
	// AfterContactWorkStartTimestamp is when the agent started after contact work.
	AfterContactWorkStartTimestamp *time.Time
	// AfterContactWorkEndTimestamp is when the agent ended after contact work (COMPLETED).
	AfterContactWorkEndTimestamp *time.Time
	// AfterContactWorkDuration is the whole seconds between the two, when sent.
	AfterContactWorkDuration *int
	// AgentInitiatedHoldDuration is the seconds the agent held the customer, when sent.
	AgentInitiatedHoldDuration *int
	// HierarchyGroups are the ARNs of the agent's hierarchy groups, level 1 first; "" for a
	// level not sent.
	HierarchyGroups [5]string
}

// RoutingCriteria is one set of routing steps applied to a contact.
type RoutingCriteria struct {
	// ActivationTimestamp is when the criteria became active.
	ActivationTimestamp *time.Time
	// Index is the criteria's position in the contact's history.
	Index int
	// Steps are tried in order until the contact joins an agent.
	Steps []RoutingStep
}

// RoutingStep is one step of routing criteria.
type RoutingStep struct {
	// Status is ACTIVE, INACTIVE, JOINED, EXPIRED, DEACTIVATED or INTERRUPTED.
	Status string
	// Expiry is when the step gives way to the next; nil for the last step.
	Expiry *Expiry
	// Expression is what an agent must match.
	Expression Expression
}

// Expiry is the expiration of a routing step.
type Expiry struct {
	// DurationInSeconds is how long the step waits for a matching agent.
	DurationInSeconds *int
	// ExpiryTimestamp is when the step expires, once active.
	ExpiryTimestamp *time.Time
}

// Expression is a routing expression: one condition, or an AND or OR of expressions.
type Expression struct {
	AttributeCondition    *AttributeCondition
	NotAttributeCondition *AttributeCondition
	AndExpression         []Expression
	OrExpression          []Expression
}

// AttributeCondition compares an agent's proficiency in a predefined attribute.
type AttributeCondition struct {
	// Name and Value name the predefined attribute and its value ("Language", "Spanish").
	Name  string
	Value string
	// ComparisonOperator is NumberGreaterOrEqualTo, Match or Range.
	ComparisonOperator string
	// ProficiencyLevel is 1.0 to 5.0 for NumberGreaterOrEqualTo.
	ProficiencyLevel *float64
	// MinProficiencyLevel and MaxProficiencyLevel bound a Range condition.
	MinProficiencyLevel *float64
	MaxProficiencyLevel *float64
	// AgentIDs are the agents of a Match condition (MatchCriteria.AgentsCriteria.AgentIds).
	AgentIDs []string
}

// ContactARN returns the ARN of the contact: the instance ARN and "/contact/<id>".
func (d Detail) ContactARN() string {
	if d.InstanceARN == "" || d.ContactID == "" {
		return ""
	}
	return d.InstanceARN + "/contact/" + d.ContactID
}

// InstanceID returns the instance id from InstanceARN.
func (d Detail) InstanceID() string {
	id, err := agentevent.InstanceIDFromARN(d.InstanceARN)
	if err != nil {
		return ""
	}
	return id
}

// AgentID returns the Connect user id of the contact's agent, or "" when there is none.
func (d Detail) AgentID() string {
	if d.Agent == nil {
		return ""
	}
	ref, err := agentevent.ParseAgentARN(d.Agent.ARN)
	if err != nil {
		return ""
	}
	return ref.AgentID
}

// QueueID returns the id of the contact's queue (the last segment of its ARN), or "".
func (d Detail) QueueID() string {
	if d.Queue == nil {
		return ""
	}
	return lastSegment(d.Queue.ARN, "queue")
}

// SystemEndpoint returns the number the customer dialled, from the contact's tags, or "".
func (d Detail) SystemEndpoint() string { return d.Tags[TagSystemEndpoint] }

// OccurredAt returns when the step the event reports happened, from the contact's own
// timestamps: the initiation of INITIATED, the enqueue of QUEUED, the connection of
// CONNECTED_TO_AGENT and CONNECTED_TO_SYSTEM, the disconnect of DISCONNECTED, the end of after
// contact work of COMPLETED (or its disconnect without ACW). Other events, and events missing
// that timestamp, fall back to the envelope's Time. Durations computed from OccurredAt do not
// depend on arrival order or retries.
func (e Event) OccurredAt() time.Time {
	d := e.Detail
	var t *time.Time
	switch d.EventType {
	case Initiated:
		t = d.InitiationTimestamp
	case Queued:
		if d.Queue != nil {
			t = d.Queue.EnqueueTimestamp
		}
	case ConnectedToAgent:
		if d.Agent != nil {
			t = d.Agent.ConnectedToAgentTimestamp
		}
	case ConnectedToSystem:
		t = d.ConnectedToSystemTimestamp
	case Disconnected:
		t = d.DisconnectTimestamp
	case Completed:
		if d.Agent != nil && d.Agent.AfterContactWorkEndTimestamp != nil {
			t = d.Agent.AfterContactWorkEndTimestamp
		} else {
			t = d.DisconnectTimestamp
		}
	}
	if t != nil {
		return *t
	}
	return e.Time
}

// lastSegment returns the id after "/<kind>/" in a Connect ARN, or "".
func lastSegment(arn, kind string) string {
	i := strings.LastIndex(arn, "/"+kind+"/")
	if i < 0 || !strings.HasPrefix(arn, "arn:") {
		return ""
	}
	return arn[i+len(kind)+2:]
}

// CheckClock refuses an event that claims to come from the future: any of its timestamps more
// than maxSkew after now (the bridge's clock). Such an event would win every "newer wins"
// comparison until real time caught up with it. The error is apperr.Invalid with a problem for
// each offending timestamp.
func (e Event) CheckClock(now time.Time, maxSkew time.Duration) error {
	limit := now.Add(maxSkew)
	var probs []apperr.Problem
	for _, ts := range e.timestamps() {
		if ts.t.After(limit) {
			probs = append(probs, apperr.Problem{Path: ts.path, Message: fmt.Sprintf("%s is %s ahead of the bridge's clock (at most %s allowed)", ts.t.Format(TimestampLayout), ts.t.Sub(now).Round(time.Millisecond), maxSkew)})
		}
	}
	if len(probs) > 0 {
		return apperr.Invalidf(probs, "contact event %s is from the future: %s: %s", e.ID, probs[0].Path, probs[0].Message)
	}
	return nil
}

type stamp struct {
	path string
	t    time.Time
}

// timestamps lists every instant the event carries, with its JSON path.
func (e Event) timestamps() []stamp {
	var out []stamp
	add := func(path string, t *time.Time) {
		if t != nil {
			out = append(out, stamp{path, *t})
		}
	}
	d := e.Detail
	t := e.Time
	add("$.time", &t)
	add("$.detail.initiationTimestamp", d.InitiationTimestamp)
	add("$.detail.connectedToSystemTimestamp", d.ConnectedToSystemTimestamp)
	add("$.detail.disconnectTimestamp", d.DisconnectTimestamp)
	if q := d.Queue; q != nil {
		add("$.detail.queueInfo.enqueueTimestamp", q.EnqueueTimestamp)
	}
	if a := d.Agent; a != nil {
		add("$.detail.agentInfo.connectedToAgentTimestamp", a.ConnectedToAgentTimestamp)
		add("$.detail.agentInfo.afterContactWorkStartTimestamp", a.AfterContactWorkStartTimestamp)
		add("$.detail.agentInfo.afterContactWorkEndTimestamp", a.AfterContactWorkEndTimestamp)
	}
	return out
}
