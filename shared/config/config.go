// Package config defines Omnibridge's configuration document: the rules, status mappings, status
// catalog, routing queues and settings that an operator edits through the admin API and that
// every function reads from DynamoDB.
//
// This package is the first of three stages (parse, validate/compile, evaluate): it turns JSON
// into plain structs and checks the document's structure, reporting every problem with its JSON
// path. The meaning of rules is checked and compiled by package rules.
package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// SchemaVersion is the document schema this build reads and writes.
const SchemaVersion = 1

// MaxDocumentBytes bounds a document's encoded size; DynamoDB items cap at 400 KB and the admin
// API rejects larger bodies before parsing.
const MaxDocumentBytes = 256 << 10

// Document is the whole configuration, stored as one versioned item.
type Document struct {
	// SchemaVersion must equal SchemaVersion; it lets a later build migrate old documents.
	SchemaVersion int `json:"schemaVersion"`
	// Rules are the presence rules, evaluated in priority order per destination.
	Rules []Rule `json:"rules"`
	// StatusMappings pair Salesforce presence statuses with Connect statuses: the simple mode
	// used when no rule matches for a destination.
	StatusMappings []StatusMapping `json:"statusMappings"`
	// StatusCatalog lists the statuses known on each side; targets must name one of them.
	StatusCatalog StatusCatalog `json:"statusCatalog"`
	// Routing configures case routing; nil leaves the feature off.
	Routing *Routing `json:"routing,omitempty"`
	// Settings holds global options.
	Settings Settings `json:"settings"`
	// Session configures session-driven availability; nil leaves the feature off.
	Session *Session `json:"session,omitempty"`
	// CallLogging configures call logging; nil leaves the feature off.
	CallLogging *CallLogging `json:"callLogging,omitempty"`
}

// Rule is one presence rule as written by an operator.
type Rule struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Enabled  bool   `json:"enabled"`
	Priority int    `json:"priority"`
	// SourceEvent is the kind of event the rule listens to, such as "connect.agentStateChanged".
	SourceEvent string `json:"sourceEvent"`
	// Match joins the criteria: "all" (the default when empty) or "any".
	Match    string      `json:"match,omitempty"`
	Criteria []Criterion `json:"criteria"`
	// Destination is "connect" or "salesforce".
	Destination string `json:"destination"`
	// TargetState is a Connect status name, or a Salesforce presence status DeveloperName, or "Offline".
	TargetState string `json:"targetState"`
	// WhileOnContact is "ignore", "defer" or "apply"; empty means Settings.WhileOnContact.
	WhileOnContact string `json:"whileOnContact,omitempty"`
}

// Criterion compares two operands: Left Comparator Right.
type Criterion struct {
	Left       Operand `json:"left"`
	Comparator string  `json:"comparator"`
	Right      Operand `json:"right"`
}

// Operand is either a named event operand (such as "connect.newState") or a static value.
// Exactly one of Operand and Value is set.
type Operand struct {
	Operand string   `json:"operand,omitempty"`
	Value   *Literal `json:"value,omitempty"`
}

// Literal is a static operand value. JSON strings, numbers and booleans are accepted and kept as
// their text, so "80" and 80 both compare as the number 80 against a numeric operand.
type Literal string

// UnmarshalJSON accepts a JSON string, number or boolean. A number keeps its exact text: going
// through float64 would turn 12345678901234567890 into 12345678901234567000.
func (l *Literal) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	switch x := v.(type) {
	case string:
		*l = Literal(x)
	case json.Number:
		*l = Literal(x.String())
	case bool:
		*l = Literal(strconv.FormatBool(x))
	default:
		return fmt.Errorf("must be a string, number or boolean")
	}
	return nil
}

// StatusMapping pairs a Salesforce presence status with a Connect status.
type StatusMapping struct {
	// SalesforceStatus is a ServicePresenceStatus DeveloperName, or "Offline".
	SalesforceStatus string `json:"salesforceStatus"`
	// ConnectStatus is a Connect agent status name.
	ConnectStatus string `json:"connectStatus"`
	// ToConnect applies the pair when the Salesforce status changes.
	ToConnect bool `json:"toConnect"`
	// ToSalesforce applies the pair when the Connect status changes.
	ToSalesforce bool `json:"toSalesforce"`
}

// StatusCatalog is the set of statuses each system knows.
type StatusCatalog struct {
	Connect    []ConnectStatus    `json:"connect"`
	Salesforce []SalesforceStatus `json:"salesforce"`
}

// ConnectStatus is an agent status from Connect's ListAgentStatuses.
type ConnectStatus struct {
	Name string `json:"name"`
	// Type is ROUTABLE, CUSTOM or OFFLINE.
	Type string `json:"type"`
}

// SalesforceStatus is a ServicePresenceStatus record. ID "0" is reserved for Offline.
type SalesforceStatus struct {
	ID            string `json:"id"`
	DeveloperName string `json:"developerName"`
	Label         string `json:"label"`
	HasChannels   bool   `json:"hasChannels"`
	IsOffline     bool   `json:"isOffline"`
}

// Settings are global options.
type Settings struct {
	// WhileOnContact is the default policy for Connect commands while the agent is on a contact.
	WhileOnContact string `json:"whileOnContact"`
	// EchoWindowSeconds is how long a commanded state change is expected back as an echo.
	EchoWindowSeconds int `json:"echoWindowSeconds"`
	// LoopGuard cuts causal chains that bounce between systems.
	LoopGuard LoopGuard `json:"loopGuard"`
	// Identity says how Connect users are linked to Salesforce users.
	Identity Identity `json:"identity"`
	// CommandAckTimeoutSeconds is how long a Salesforce presence command may wait for the console's
	// acknowledgement before it is audited as not applied.
	CommandAckTimeoutSeconds int `json:"commandAckTimeoutSeconds"`
	// AuditRetentionDays is how long audit entries are kept.
	AuditRetentionDays int `json:"auditRetentionDays"`
	// MaxClockSkewSeconds is how far ahead of the bridge's clock an event time may be. An event
	// dated later is refused at intake (400 on a webhook, an audited skip on the stream and the
	// polls) and never stored, so no clock error can make one event win every later comparison.
	MaxClockSkewSeconds int `json:"maxClockSkewSeconds"`
}

// MaxClockSkew returns MaxClockSkewSeconds as a duration, the default when it is not set.
func (s Settings) MaxClockSkew() time.Duration {
	if s.MaxClockSkewSeconds <= 0 {
		return time.Duration(Defaults().MaxClockSkewSeconds) * time.Second
	}
	return time.Duration(s.MaxClockSkewSeconds) * time.Second
}

// LoopGuard stops a causal chain that crosses between systems more than MaxCrossings times within
// WindowSeconds.
type LoopGuard struct {
	MaxCrossings  int `json:"maxCrossings"`
	WindowSeconds int `json:"windowSeconds"`
}

// Identity configures user linking.
type Identity struct {
	// SalesforceField is the User field matched against the Connect username: "Username" or
	// "FederationIdentifier".
	SalesforceField string `json:"salesforceField"`
}

// Defaults returns the settings used when a document leaves them out.
func Defaults() Settings {
	return Settings{
		WhileOnContact:           "defer",
		EchoWindowSeconds:        30,
		LoopGuard:                LoopGuard{MaxCrossings: 3, WindowSeconds: 60},
		Identity:                 Identity{SalesforceField: "Username"},
		CommandAckTimeoutSeconds: 120,
		AuditRetentionDays:       90,
		MaxClockSkewSeconds:      300,
	}
}

// withDefaults fills zero settings with their defaults.
func (s Settings) withDefaults() Settings {
	d := Defaults()
	if s.WhileOnContact == "" {
		s.WhileOnContact = d.WhileOnContact
	}
	if s.EchoWindowSeconds == 0 {
		s.EchoWindowSeconds = d.EchoWindowSeconds
	}
	if s.LoopGuard.MaxCrossings == 0 {
		s.LoopGuard.MaxCrossings = d.LoopGuard.MaxCrossings
	}
	if s.LoopGuard.WindowSeconds == 0 {
		s.LoopGuard.WindowSeconds = d.LoopGuard.WindowSeconds
	}
	if s.Identity.SalesforceField == "" {
		s.Identity.SalesforceField = d.Identity.SalesforceField
	}
	if s.CommandAckTimeoutSeconds == 0 {
		s.CommandAckTimeoutSeconds = d.CommandAckTimeoutSeconds
	}
	if s.AuditRetentionDays == 0 {
		s.AuditRetentionDays = d.AuditRetentionDays
	}
	if s.MaxClockSkewSeconds == 0 {
		s.MaxClockSkewSeconds = d.MaxClockSkewSeconds
	}
	return s
}
