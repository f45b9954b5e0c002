package agentevent

// The wire structs mirror the record exactly as Connect writes it: keys in the order Connect
// emits them (alphabetical), nulls where Connect writes null (pointer fields without omitempty)
// and keys that only newer records carry marked omitempty so that a re-encoded 2019-style
// record keeps its original shape. Decoding goes through them too, so that timestamps arrive
// as strings and can be reported with their path when they do not parse.

type wireEvent struct {
	AWSAccountID          string        `json:"AWSAccountId"`
	AgentARN              string        `json:"AgentARN"`
	CurrentAgentSnapshot  *wireSnapshot `json:"CurrentAgentSnapshot"`
	EventID               string        `json:"EventId"`
	EventTimestamp        *string       `json:"EventTimestamp"`
	EventType             string        `json:"EventType"`
	InstanceARN           string        `json:"InstanceARN"`
	PreviousAgentSnapshot *wireSnapshot `json:"PreviousAgentSnapshot"`
	Version               string        `json:"Version"`
}

type wireSnapshot struct {
	AgentStatus     *wireStatus     `json:"AgentStatus"`
	Configuration   *wireConfig     `json:"Configuration"`
	Contacts        []wireContact   `json:"Contacts"`
	NextAgentStatus *wireNextStatus `json:"NextAgentStatus,omitempty"`
}

type wireStatus struct {
	ARN            string  `json:"ARN"`
	Name           string  `json:"Name"`
	StartTimestamp *string `json:"StartTimestamp"`
	Type           string  `json:"Type,omitempty"`
}

type wireNextStatus struct {
	ARN               string  `json:"ARN"`
	EnqueuedTimestamp *string `json:"EnqueuedTimestamp"`
	Name              string  `json:"Name"`
}

type wireConfig struct {
	AgentHierarchyGroups *wireHierarchy    `json:"AgentHierarchyGroups"`
	FirstName            string            `json:"FirstName"`
	LastName             string            `json:"LastName"`
	Proficiencies        []wireProficiency `json:"Proficiencies,omitempty"`
	RoutingProfile       *wireRouting      `json:"RoutingProfile"`
	Username             string            `json:"Username"`
}

type wireHierarchy struct {
	Level1 *wireGroup `json:"Level1"`
	Level2 *wireGroup `json:"Level2"`
	Level3 *wireGroup `json:"Level3"`
	Level4 *wireGroup `json:"Level4"`
	Level5 *wireGroup `json:"Level5"`
}

type wireGroup struct {
	ARN  string `json:"ARN"`
	Name string `json:"Name"`
}

type wireProficiency struct {
	Level float64 `json:"Level"`
	Name  string  `json:"Name"`
	Value string  `json:"Value"`
}

type wireRouting struct {
	ARN                  string            `json:"ARN"`
	Concurrency          []wireConcurrency `json:"Concurrency,omitempty"`
	DefaultOutboundQueue *wireQueue        `json:"DefaultOutboundQueue"`
	InboundQueues        []wireQueue       `json:"InboundQueues"`
	Name                 string            `json:"Name"`
}

type wireConcurrency struct {
	AvailableSlots int    `json:"AvailableSlots"`
	Channel        string `json:"Channel"`
	MaximumSlots   int    `json:"MaximumSlots"`
}

type wireQueue struct {
	ARN      string   `json:"ARN"`
	Channels []string `json:"Channels,omitempty"`
	Name     string   `json:"Name"`
}

type wireContact struct {
	Channel                   string     `json:"Channel"`
	ConnectedToAgentTimestamp *string    `json:"ConnectedToAgentTimestamp"`
	ContactID                 string     `json:"ContactId"`
	InitialContactID          *string    `json:"InitialContactId"`
	InitiationMethod          string     `json:"InitiationMethod"`
	Queue                     *wireQueue `json:"Queue"`
	QueueTimestamp            *string    `json:"QueueTimestamp"`
	State                     string     `json:"State"`
	StateStartTimestamp       *string    `json:"StateStartTimestamp"`
}
