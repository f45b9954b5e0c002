package calllog

import (
	"time"
)

// Step is one step of a call, a value of Omnibridge_Call_Log__c.Step__c.
type Step string

// The steps, in call order.
const (
	StepQueued    Step = "Queued"
	StepConnected Step = "Connected to agent"
	StepHold      Step = "On hold"
	StepACW       Step = "After-contact work"
	StepCompleted Step = "Completed"
)

// Steps lists every step in call order.
var Steps = []Step{StepQueued, StepConnected, StepHold, StepACW, StepCompleted}

// Slug is the step's part of Step_Key__c: "<contactId>:<slug>".
func (s Step) Slug() string {
	switch s {
	case StepQueued:
		return "queued"
	case StepConnected:
		return "connected"
	case StepHold:
		return "hold"
	case StepACW:
		return "acw"
	case StepCompleted:
		return "completed"
	}
	return ""
}

// StepKey is the external id of a contact's step record.
func StepKey(contactID string, s Step) string { return contactID + ":" + s.Slug() }

// StepRecord is one step as logged: Omnibridge_Call_Log__c's fields.
type StepRecord struct {
	// Step is the step.
	Step Step `json:"step"`
	// StartedAt and EndedAt bound the step; nil when Connect did not report it (a hold is
	// reported as a total only) or it has not ended yet.
	StartedAt *time.Time `json:"startedAt,omitempty"`
	EndedAt   *time.Time `json:"endedAt,omitempty"`
	// Seconds is the step's duration in whole seconds, nil while it is open.
	Seconds *int `json:"seconds,omitempty"`
	// Agent is true for the steps spent with the agent (they carry Agent_User__c).
	Agent bool `json:"agent,omitempty"`
}

// Equal reports whether two records would be written the same.
func (r StepRecord) Equal(o StepRecord) bool {
	return r.Step == o.Step && r.Agent == o.Agent && eqTime(r.StartedAt, o.StartedAt) &&
		eqTime(r.EndedAt, o.EndedAt) && eqInt(r.Seconds, o.Seconds)
}

func eqTime(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

func eqInt(a, b *int) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

// seconds is the whole seconds from a to b, truncated as Connect truncates its own durations;
// never negative.
func seconds(a, b time.Time) *int {
	n := int(b.Sub(a) / time.Second)
	if n < 0 {
		n = 0
	}
	return &n
}

func ptr(f Field[time.Time]) *time.Time {
	if !f.Set() {
		return nil
	}
	t := f.V
	return &t
}

// StepRecords returns the steps the state shows so far, in call order:
//   - Queued: from the enqueue to the connection to an agent, or to the disconnect when the
//     caller gave up;
//   - Connected to agent: from the connection to the disconnect;
//   - On hold: the total Connect reports (AgentInitiatedHoldDuration), without start or end,
//     which contact events do not carry;
//   - After-contact work: its start and end, and Connect's duration when sent;
//   - Completed: the whole contact, from its initiation to its completion.
//
// A step with a start and no end yet has no duration.
func (s State) StepRecords() []StepRecord {
	var out []StepRecord
	end := func(r *StepRecord, e *time.Time) {
		if e != nil && r.StartedAt != nil {
			r.EndedAt, r.Seconds = e, seconds(*r.StartedAt, *e)
		}
	}
	if s.EnqueuedAt.Set() {
		r := StepRecord{Step: StepQueued, StartedAt: ptr(s.EnqueuedAt)}
		e := ptr(s.ConnectedAt)
		if e == nil {
			e = ptr(s.DisconnectedAt)
		}
		end(&r, e)
		out = append(out, r)
	}
	if s.ConnectedAt.Set() {
		r := StepRecord{Step: StepConnected, StartedAt: ptr(s.ConnectedAt), Agent: true}
		end(&r, ptr(s.DisconnectedAt))
		out = append(out, r)
	}
	if s.HoldSeconds.Set() && s.HoldSeconds.V > 0 {
		n := s.HoldSeconds.V
		out = append(out, StepRecord{Step: StepHold, Seconds: &n, Agent: true})
	}
	if s.ACWStartedAt.Set() {
		r := StepRecord{Step: StepACW, StartedAt: ptr(s.ACWStartedAt), Agent: true}
		end(&r, ptr(s.ACWEndedAt))
		if s.ACWSeconds.Set() && r.EndedAt != nil {
			n := s.ACWSeconds.V
			r.Seconds = &n
		}
		out = append(out, r)
	}
	if s.CompletedAt.Set() {
		start := ptr(s.InitiatedAt)
		if start == nil {
			start = ptr(s.EnqueuedAt)
		}
		r := StepRecord{Step: StepCompleted, StartedAt: start}
		c := ptr(s.CompletedAt)
		if start == nil {
			r.StartedAt = c
		}
		end(&r, c)
		out = append(out, r)
	}
	return out
}

// TalkSeconds is the Task's CallDurationInSeconds: from the connection to the agent to the
// disconnect, or, for a call no agent answered, from its initiation to the disconnect.
func (s State) TalkSeconds() int {
	from := s.ConnectedAt
	if !from.Set() {
		from = s.InitiatedAt
	}
	if !from.Set() || !s.DisconnectedAt.Set() {
		return 0
	}
	return *seconds(from.V, s.DisconnectedAt.V)
}

// CallType is the Task's CallType: Outbound for calls the contact center placed (OUTBOUND,
// CALLBACK), Inbound otherwise.
func (s State) CallType() string {
	switch s.InitiationMethod.V {
	case "OUTBOUND", "CALLBACK":
		return "Outbound"
	}
	return "Inbound"
}
