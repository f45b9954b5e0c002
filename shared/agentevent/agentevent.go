// Package agentevent models one record of the Amazon Connect agent event stream: the JSON
// document Connect writes to Kinesis for every LOGIN, LOGOUT, STATE_CHANGE and HEART_BEAT of an
// agent (data model version 2019-05-25).
//
// It is a domain package: it knows the record format and nothing about Kinesis, Lambda or the
// AWS SDK. Decode turns bytes into an Event and refuses records that the bridge could not act
// on (missing identity, unknown event type, unparsable timestamps) with an apperr.Invalid error
// that names every offending field. Encode writes the exact wire shape back, so simulators can
// produce records that are byte-for-byte in the format Connect sends.
//
// Enumerated values other than EventType (channels, contact states, initiation methods, status
// types) are kept as open string types and are not validated: Connect adds values over time
// (PAUSED, EMAIL, AGENT_REPLY ...) and a record with a new value must not become a poison record.
package agentevent

import "time"

// Version is the data model version Connect writes in the Version field of every record.
const Version = "2019-05-25"

// EventType is the kind of an agent event.
type EventType string

// The four event types of the agent event stream.
const (
	// EventTypeStateChange reports a change of agent status, of a contact's state or of the
	// agent's configuration.
	EventTypeStateChange EventType = "STATE_CHANGE"
	// EventTypeHeartBeat is published every 120 s when nothing else was; it carries the
	// current snapshot and lets consumers resynchronise.
	EventTypeHeartBeat EventType = "HEART_BEAT"
	// EventTypeLogin reports that the agent logged in to the CCP; PreviousAgentSnapshot is null.
	EventTypeLogin EventType = "LOGIN"
	// EventTypeLogout reports that the agent logged out of the CCP.
	EventTypeLogout EventType = "LOGOUT"
)

// Valid reports whether t is one of the four event types Connect publishes.
func (t EventType) Valid() bool {
	switch t {
	case EventTypeStateChange, EventTypeHeartBeat, EventTypeLogin, EventTypeLogout:
		return true
	}
	return false
}

// StatusType is the type of an agent status as configured in Connect.
type StatusType string

// The agent status types Connect defines.
const (
	// StatusTypeRoutable is a status in which contacts are routed to the agent ("Available").
	StatusTypeRoutable StatusType = "ROUTABLE"
	// StatusTypeCustom is a non-routable status such as "Lunch" or "Training".
	StatusTypeCustom StatusType = "CUSTOM"
	// StatusTypeOffline is the built-in "Offline" status.
	StatusTypeOffline StatusType = "OFFLINE"
)

// Channel is the media channel of a contact.
type Channel string

// The channels the bridge handles. EMAIL exists in Connect too and decodes as Channel("EMAIL").
const (
	// ChannelVoice is a phone call.
	ChannelVoice Channel = "VOICE"
	// ChannelChat is a chat.
	ChannelChat Channel = "CHAT"
	// ChannelTask is a task (the bridge creates them for Salesforce cases).
	ChannelTask Channel = "TASK"
)

// ContactState is the state of a contact from the agent's point of view.
//
// AgentStatus.Name stays "Available" during a call, so the agent's effective state (Busy,
// PendingBusy, CallingCustomer, AfterCallWork, Missed ...) has to be derived from these.
type ContactState string

// The contact states of the agent event stream.
const (
	// ContactStateIncoming is an inbound contact being offered to the agent.
	ContactStateIncoming ContactState = "INCOMING"
	// ContactStatePending is a scheduled callback waiting for the agent.
	ContactStatePending ContactState = "PENDING"
	// ContactStateConnecting is a contact being connected (outbound dialing, or accepted).
	ContactStateConnecting ContactState = "CONNECTING"
	// ContactStateConnected is a contact the agent is talking to.
	ContactStateConnected ContactState = "CONNECTED"
	// ContactStateConnectedOnHold is a connected contact on hold.
	ContactStateConnectedOnHold ContactState = "CONNECTED_ONHOLD"
	// ContactStateMissed is a contact the agent did not accept in time.
	ContactStateMissed ContactState = "MISSED"
	// ContactStateError is a contact that failed (for example an unreachable softphone).
	ContactStateError ContactState = "ERROR"
	// ContactStateEnded is a contact that has ended; while it stays in the snapshot the agent
	// is in after contact work (ACW).
	ContactStateEnded ContactState = "ENDED"
	// ContactStateRejected is a contact the agent rejected.
	ContactStateRejected ContactState = "REJECTED"
)

// InitiationMethod says how a contact was started.
type InitiationMethod string

// The initiation methods the bridge distinguishes; others decode as their string.
const (
	// InitiationInbound is a customer-initiated contact.
	InitiationInbound InitiationMethod = "INBOUND"
	// InitiationOutbound is an agent-initiated contact.
	InitiationOutbound InitiationMethod = "OUTBOUND"
	// InitiationAPI is a contact started by an API call (StartTaskContact, StartChatContact ...).
	InitiationAPI InitiationMethod = "API"
	// InitiationTransfer is a contact transferred to the agent.
	InitiationTransfer InitiationMethod = "TRANSFER"
	// InitiationCallback is a queued callback.
	InitiationCallback InitiationMethod = "CALLBACK"
)

// Event is one decoded agent event stream record.
type Event struct {
	// AWSAccountID is the 12-digit account that owns the instance.
	AWSAccountID string
	// AgentARN identifies the agent; Kinesis partitions the stream by it.
	AgentARN string
	// EventID is unique per record and is the de-duplication key for redelivered records.
	EventID string
	// EventTimestamp orders events of one agent; conditional writes compare it.
	EventTimestamp time.Time
	// EventType is one of the four EventType constants.
	EventType EventType
	// InstanceARN identifies the Connect instance.
	InstanceARN string
	// Version is the data model version, "2019-05-25".
	Version string
	// CurrentAgentSnapshot is the agent after the change; nil only if Connect sent null.
	CurrentAgentSnapshot *AgentSnapshot
	// PreviousAgentSnapshot is the agent before the change; nil on LOGIN.
	PreviousAgentSnapshot *AgentSnapshot
}

// AgentSnapshot is the full state of an agent at one instant.
type AgentSnapshot struct {
	// AgentStatus is the status the agent (or a supervisor, or the API) set.
	AgentStatus *AgentStatus
	// NextAgentStatus is set while a status change waits for the agent's contacts to finish.
	NextAgentStatus *NextAgentStatus
	// Configuration is the agent's user configuration.
	Configuration *Configuration
	// Contacts are the contacts currently on the agent, including ENDED ones in ACW.
	Contacts []Contact
}

// AgentStatus is the status an agent is in.
type AgentStatus struct {
	// ARN is the ARN of the agent status (".../agent-state/<id>"), not of the agent.
	ARN string
	// Name is the display name, such as "Available" or "Lunch".
	Name string
	// StartTimestamp is when the agent entered this status.
	StartTimestamp time.Time
	// Type is ROUTABLE, CUSTOM or OFFLINE when Connect includes it; empty otherwise.
	Type StatusType
}

// NextAgentStatus is a status the agent chose while handling contacts; Connect applies it once
// the contacts (and their ACW) are cleared, and routes no new contacts meanwhile.
type NextAgentStatus struct {
	// ARN is the ARN of the agent status.
	ARN string
	// Name is the display name of the status.
	Name string
	// EnqueuedTimestamp is when the next status was chosen.
	EnqueuedTimestamp time.Time
}

// Configuration is the agent's user configuration as carried in a snapshot.
type Configuration struct {
	// Username is the Connect login name; identity links use it to find the Salesforce user.
	Username string
	// FirstName is the agent's first name.
	FirstName string
	// LastName is the agent's last name.
	LastName string
	// AgentHierarchyGroups is nil when the agent is in no hierarchy group.
	AgentHierarchyGroups *HierarchyGroups
	// RoutingProfile is the routing profile assigned to the agent.
	RoutingProfile *RoutingProfile
	// Proficiencies are the agent's routing proficiencies, when Connect sends them.
	Proficiencies []Proficiency
}

// HierarchyGroups are the agent's hierarchy groups, level by level; absent levels are nil.
type HierarchyGroups struct {
	// Level1 is the top level.
	Level1 *HierarchyGroup
	// Level2 is the second level.
	Level2 *HierarchyGroup
	// Level3 is the third level.
	Level3 *HierarchyGroup
	// Level4 is the fourth level.
	Level4 *HierarchyGroup
	// Level5 is the fifth level.
	Level5 *HierarchyGroup
}

// HierarchyGroup is one agent hierarchy group.
type HierarchyGroup struct {
	// ARN is the group's ARN.
	ARN string
	// Name is the group's name.
	Name string
}

// Proficiency is one predefined-attribute proficiency of the agent.
type Proficiency struct {
	// Name is the attribute name, such as "Technology".
	Name string
	// Value is the attribute value, such as "Kinesis".
	Value string
	// Level is the proficiency level, 1.0 to 5.0.
	Level float64
}

// RoutingProfile is the routing profile of an agent.
type RoutingProfile struct {
	// ARN is the routing profile's ARN.
	ARN string
	// Name is the routing profile's name.
	Name string
	// Concurrency lists slots per channel when Connect sends it.
	Concurrency []Concurrency
	// DefaultOutboundQueue is the queue outbound calls are placed in.
	DefaultOutboundQueue *Queue
	// InboundQueues are the queues the agent takes contacts from.
	InboundQueues []Queue
}

// Concurrency is the number of slots an agent has on one channel.
type Concurrency struct {
	// Channel is the channel the slots are for.
	Channel Channel
	// AvailableSlots is how many more contacts of this channel can be routed to the agent.
	AvailableSlots int
	// MaximumSlots is the routing profile's limit for the channel.
	MaximumSlots int
}

// Queue is a queue reference.
type Queue struct {
	// ARN is the queue's ARN.
	ARN string
	// Name is the queue's name.
	Name string
	// Channels lists the queue's channels when Connect sends them.
	Channels []Channel
}

// Contact is a contact on the agent.
type Contact struct {
	// ContactID identifies the contact.
	ContactID string
	// InitialContactID is the first contact of a transfer chain; empty when Connect sent null.
	InitialContactID string
	// Channel is the contact's channel.
	Channel Channel
	// InitiationMethod says how the contact started.
	InitiationMethod InitiationMethod
	// State is the contact's state from the agent's point of view.
	State ContactState
	// StateStartTimestamp is when the contact entered State.
	StateStartTimestamp time.Time
	// ConnectedToAgentTimestamp is when the agent was connected; nil before that.
	ConnectedToAgentTimestamp *time.Time
	// QueueTimestamp is when the contact entered the queue; nil for outbound contacts.
	QueueTimestamp *time.Time
	// Queue is the queue of the contact; nil when Connect sent null.
	Queue *Queue
}
