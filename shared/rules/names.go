package rules

import (
	"slices"

	"github.com/omnibridge/omnibridge/shared/config"
)

// EventKind names the kind of event a rule listens to. Its values are the JSON strings accepted
// in config.Rule.SourceEvent.
type EventKind string

// The event kinds. Each belongs to one system (see EventKind.System).
const (
	// EventConnectAgentStateChanged is a Connect agent event (Kinesis STATE_CHANGE) whose status or
	// contacts changed.
	EventConnectAgentStateChanged EventKind = "connect.agentStateChanged"
	// EventSalesforceAgentStateChanged is an Omni-Channel presence status change.
	EventSalesforceAgentStateChanged EventKind = "salesforce.agentStateChanged"
	// EventSalesforceAgentLogout is an Omni-Channel logout; it counts as a change to "Offline".
	EventSalesforceAgentLogout EventKind = "salesforce.agentLogout"
	// EventSalesforceWorkAccepted is an agent accepting Omni-Channel work on a service channel.
	EventSalesforceWorkAccepted EventKind = "salesforce.workAccepted"
	// EventSalesforceWorkloadChanged is a change of the agent's Omni-Channel workload.
	EventSalesforceWorkloadChanged EventKind = "salesforce.workloadChanged"
)

// eventKinds lists every kind in a fixed order; the index is the kind's slot in a Set.
var eventKinds = [...]EventKind{
	EventConnectAgentStateChanged,
	EventSalesforceAgentStateChanged,
	EventSalesforceAgentLogout,
	EventSalesforceWorkAccepted,
	EventSalesforceWorkloadChanged,
}

// EventKinds returns every event kind, in a stable order.
func EventKinds() []EventKind { return slices.Clone(eventKinds[:]) }

// index returns k's slot in eventKinds.
func (k EventKind) index() (int, bool) {
	switch k {
	case EventConnectAgentStateChanged:
		return 0, true
	case EventSalesforceAgentStateChanged:
		return 1, true
	case EventSalesforceAgentLogout:
		return 2, true
	case EventSalesforceWorkAccepted:
		return 3, true
	case EventSalesforceWorkloadChanged:
		return 4, true
	}
	return 0, false
}

// Valid reports whether k is a known event kind.
func (k EventKind) Valid() bool {
	_, ok := k.index()
	return ok
}

// System returns the system an event of kind k comes from, or "" for an unknown kind.
func (k EventKind) System() Destination {
	switch k {
	case EventConnectAgentStateChanged:
		return Connect
	case EventSalesforceAgentStateChanged, EventSalesforceAgentLogout,
		EventSalesforceWorkAccepted, EventSalesforceWorkloadChanged:
		return Salesforce
	}
	return ""
}

// Destination names a system: where a rule sends its target state, or where an event comes from.
// Its values are the JSON strings accepted in config.Rule.Destination.
type Destination string

// The two systems.
const (
	// Connect is Amazon Connect.
	Connect Destination = "connect"
	// Salesforce is Salesforce Omni-Channel.
	Salesforce Destination = "salesforce"
)

// Other returns the opposite system; rules always cross from an event's system to the other one.
func (d Destination) Other() Destination {
	switch d {
	case Connect:
		return Salesforce
	case Salesforce:
		return Connect
	}
	return ""
}

// Label returns the system's display name, for explanations.
func (d Destination) Label() string {
	switch d {
	case Connect:
		return "Connect"
	case Salesforce:
		return "Salesforce"
	}
	return string(d)
}

// slot returns d's index in per-destination arrays.
func (d Destination) slot() int {
	if d == Salesforce {
		return 1
	}
	return 0
}

// Operand names a value an event supplies to criteria. Its values are the JSON strings accepted
// in config.Operand.Operand.
type Operand string

// The operands.
const (
	// OperandConnectNewState is the effective Connect state after the event: the status name, or
	// a contact-derived system state such as Busy (see presence.EffectiveState).
	OperandConnectNewState Operand = "connect.newState"
	// OperandConnectOldState is the effective Connect state before the event.
	OperandConnectOldState Operand = "connect.oldState"
	// OperandConnectNewStatus is the raw AgentStatus.Name after the event.
	OperandConnectNewStatus Operand = "connect.newStatus"
	// OperandConnectOldStatus is the raw AgentStatus.Name before the event.
	OperandConnectOldStatus Operand = "connect.oldStatus"
	// OperandSalesforceNewState is the new presence status DeveloperName ("Offline" on logout).
	OperandSalesforceNewState Operand = "salesforce.newState"
	// OperandSalesforceChannel is the service channel of accepted work.
	OperandSalesforceChannel Operand = "salesforce.channel"
	// OperandSalesforcePreviousWorkload is the workload before a workload change.
	OperandSalesforcePreviousWorkload Operand = "salesforce.previousWorkload"
	// OperandSalesforceNewWorkload is the workload after a workload change.
	OperandSalesforceNewWorkload Operand = "salesforce.newWorkload"
	// OperandSalesforcePreviousWorkloadPct is the previous workload as a percentage (0–100) of the
	// configured capacity.
	OperandSalesforcePreviousWorkloadPct Operand = "salesforce.previousWorkloadPct"
	// OperandSalesforceNewWorkloadPct is the new workload as a percentage (0–100) of the configured
	// capacity.
	OperandSalesforceNewWorkloadPct Operand = "salesforce.newWorkloadPct"
	// OperandSalesforceConfiguredCapacity is the agent's configured Omni-Channel capacity.
	OperandSalesforceConfiguredCapacity Operand = "salesforce.configuredCapacity"
)

// OperandType is the type of an operand's values.
type OperandType string

// The operand types. States and strings compare as exact strings with eq and ne only; numbers
// compare numerically with every comparator.
const (
	// TypeState is a state or other name, compared as an exact string.
	TypeState OperandType = "state"
	// TypeNumber is a number.
	TypeNumber OperandType = "number"
)

// OperandInfo describes an operand for validation and for the admin UI.
type OperandInfo struct {
	Name        Operand     `json:"name"`
	Type        OperandType `json:"type"`
	Events      []EventKind `json:"events"`
	Description string      `json:"description"`
}

// operandID is an operand's compiled form; zero means "static value".
type operandID uint8

const (
	opLiteral operandID = iota
	opConnectNewState
	opConnectOldState
	opConnectNewStatus
	opConnectOldStatus
	opSalesforceNewState
	opSalesforceChannel
	opPreviousWorkload
	opNewWorkload
	opPreviousWorkloadPct
	opNewWorkloadPct
	opConfiguredCapacity
)

var (
	connectEvents  = []EventKind{EventConnectAgentStateChanged}
	stateEvents    = []EventKind{EventSalesforceAgentStateChanged, EventSalesforceAgentLogout}
	acceptedEvents = []EventKind{EventSalesforceWorkAccepted}
	workloadEvents = []EventKind{EventSalesforceWorkloadChanged}
)

// operandTable is indexed by operandID; entry 0 (static value) is unused.
var operandTable = [...]OperandInfo{
	{},
	{OperandConnectNewState, TypeState, connectEvents, "effective Connect state after the event (status name or a contact-derived system state)"},
	{OperandConnectOldState, TypeState, connectEvents, "effective Connect state before the event"},
	{OperandConnectNewStatus, TypeState, connectEvents, "raw Connect AgentStatus.Name after the event"},
	{OperandConnectOldStatus, TypeState, connectEvents, "raw Connect AgentStatus.Name before the event"},
	{OperandSalesforceNewState, TypeState, stateEvents, "new Omni-Channel presence status DeveloperName (Offline on logout)"},
	{OperandSalesforceChannel, TypeState, acceptedEvents, "service channel DeveloperName of the accepted work"},
	{OperandSalesforcePreviousWorkload, TypeNumber, workloadEvents, "Omni-Channel workload before the change"},
	{OperandSalesforceNewWorkload, TypeNumber, workloadEvents, "Omni-Channel workload after the change"},
	{OperandSalesforcePreviousWorkloadPct, TypeNumber, workloadEvents, "previous workload in percent (0-100) of configured capacity"},
	{OperandSalesforceNewWorkloadPct, TypeNumber, workloadEvents, "new workload in percent (0-100) of configured capacity"},
	{OperandSalesforceConfiguredCapacity, TypeNumber, workloadEvents, "configured Omni-Channel capacity"},
}

// Operands returns every operand with its type and the events that supply it.
func Operands() []OperandInfo {
	out := make([]OperandInfo, 0, len(operandTable)-1)
	for _, o := range operandTable[1:] {
		o.Events = slices.Clone(o.Events)
		out = append(out, o)
	}
	return out
}

// LookupOperand returns the description of the operand called name.
func LookupOperand(name string) (OperandInfo, bool) {
	id, ok := lookupOperand(name)
	if !ok {
		return OperandInfo{}, false
	}
	o := operandTable[id]
	o.Events = slices.Clone(o.Events)
	return o, true
}

func lookupOperand(name string) (operandID, bool) {
	for i := 1; i < len(operandTable); i++ {
		if string(operandTable[i].Name) == name {
			return operandID(i), true
		}
	}
	return 0, false
}

// suppliedBy reports whether events of kind k carry operand id.
func (id operandID) suppliedBy(k EventKind) bool {
	return slices.Contains(operandTable[id].Events, k)
}

// Comparator compares a criterion's two operands. Its values are the JSON strings accepted in
// config.Criterion.Comparator; exactly these six are accepted.
type Comparator string

// The comparators.
const (
	// Eq is equal.
	Eq Comparator = "eq"
	// Ne is not equal.
	Ne Comparator = "ne"
	// Gt is greater than (numbers only).
	Gt Comparator = "gt"
	// Ge is greater than or equal (numbers only).
	Ge Comparator = "ge"
	// Lt is less than (numbers only).
	Lt Comparator = "lt"
	// Le is less than or equal (numbers only).
	Le Comparator = "le"
)

// Comparators returns every comparator.
func Comparators() []Comparator { return []Comparator{Eq, Ne, Gt, Ge, Lt, Le} }

// Valid reports whether c is one of the six comparators.
func (c Comparator) Valid() bool { return slices.Contains(Comparators(), c) }

// Numeric reports whether c orders values, and so needs numeric operands.
func (c Comparator) Numeric() bool { return c == Gt || c == Ge || c == Lt || c == Le }

// symbol renders c for explanations.
func (c Comparator) symbol() string {
	switch c {
	case Eq:
		return "="
	case Ne:
		return "≠"
	case Gt:
		return ">"
	case Ge:
		return "≥"
	case Lt:
		return "<"
	case Le:
		return "≤"
	}
	return string(c)
}

// Match modes join a rule's criteria. They are the values of config.Rule.Match; empty means all.
const (
	// MatchAll requires every criterion to hold.
	MatchAll = "all"
	// MatchAny requires at least one criterion to hold.
	MatchAny = "any"
)

// Policy says what happens to a Connect command while the agent is on a contact. Its values are
// the JSON strings of config.Rule.WhileOnContact and config.Settings.WhileOnContact.
type Policy string

// The while-on-contact policies.
const (
	// PolicyIgnore drops the command, as Open CTI does.
	PolicyIgnore Policy = "ignore"
	// PolicyDefer sets the status as Connect's next status, applied when the contact ends.
	PolicyDefer Policy = "defer"
	// PolicyApply sets the status at once.
	PolicyApply Policy = "apply"
)

// Connect system states. Connect derives them from the agent's contacts; they can be compared in
// criteria but never set, because Connect does not accept them in PutUserStatus.
const (
	// StateBusy is an agent with a connected (or held) contact.
	StateBusy = "Busy"
	// StatePending is Connect's state for an agent about to be offered a contact.
	StatePending = "Pending"
	// StatePendingBusy is an agent being offered an inbound contact.
	StatePendingBusy = "PendingBusy"
	// StateCallingCustomer is an agent dialing an outbound call.
	StateCallingCustomer = "CallingCustomer"
	// StateAfterCallWork is an agent wrapping up an ended contact.
	StateAfterCallWork = "AfterCallWork"
	// StateMissed is an agent who missed a contact offer.
	StateMissed = "Missed"
	// StateError is an agent whose contact failed.
	StateError = "Error"
)

// SystemStates returns the Connect system states.
func SystemStates() []string {
	return []string{StateBusy, StatePending, StatePendingBusy, StateCallingCustomer, StateAfterCallWork, StateMissed, StateError}
}

// IsSystemState reports whether s is a Connect system state.
func IsSystemState(s string) bool { return slices.Contains(SystemStates(), s) }

// Offline is the Salesforce presence status name that always exists: Omni-Channel logged out.
// It resolves to status id OfflineStatusID.
const Offline = "Offline"

// OfflineStatusID is the Salesforce status id reserved for Offline.
const OfflineStatusID = config.OfflineStatusID
