// Package calllog decides what call logging writes to Salesforce for one Amazon Connect voice
// contact: the contact's state merged from its events, the steps of the call with their
// durations, the caller's number normalised to E.164, the match against Salesforce Contacts and
// the plan of records to create or upsert.
//
// Connect publishes contact events unordered, best-effort and more than once. The state is
// therefore a merge that is commutative, associative and idempotent: each field keeps the value
// of the newest event that carried it (event time, then value, as the order), so every arrival
// order, with any duplicates, yields the same state, the same steps and the same durations.
// Durations come from Connect's own timestamps, never from when an event happened to arrive.
//
// It is a domain package: no AWS SDK, no HTTP.
package calllog

import (
	"cmp"
	"time"

	"github.com/omnibridge/omnibridge/shared/contactevent"
	"github.com/omnibridge/omnibridge/shared/eventtime"
)

// Field is one merged value and the time of the event that set it. Of two values the one from
// the newer event wins; at equal event times the greater value wins, so the merge does not
// depend on arrival order.
type Field[T any] struct {
	// V is the value.
	V T `json:"v"`
	// At is the event time (contactevent.Event.OccurredAt) of the event that set V; zero when
	// no event carried the field.
	At time.Time `json:"at,omitzero"`
}

// Set reports whether an event carried the field.
func (f Field[T]) Set() bool { return !f.At.IsZero() }

// merge applies value v seen in an event at t and reports whether f changed. A stored value
// dated beyond b no longer counts (eventtime.Bound.Holds), so it cannot block newer events.
func merge[T any](f *Field[T], v T, t time.Time, b eventtime.Bound, compare func(a, b T) int) bool {
	if !b.Within(t) {
		return false
	}
	switch {
	case !b.Holds(f.At), t.After(f.At):
	case t.Equal(f.At) && compare(v, f.V) > 0:
	default:
		return false
	}
	f.V, f.At = v, t
	return true
}

func compareTime(a, b time.Time) int { return a.Compare(b) }

// State is what the bridge knows of one contact, merged from its events, and what it has done
// about it in Salesforce.
type State struct {
	// ContactID identifies the contact (one leg of a call: a transfer is a new contact).
	ContactID string `json:"contactId"`
	// InitialContactID and PreviousContactID link a transferred contact to its call.
	InitialContactID  Field[string] `json:"initialContactId,omitzero"`
	PreviousContactID Field[string] `json:"previousContactId,omitzero"`
	// Channel is VOICE, CHAT, TASK or EMAIL.
	Channel Field[string] `json:"channel,omitzero"`
	// InitiationMethod is INBOUND, OUTBOUND, TRANSFER, CALLBACK ...
	InitiationMethod Field[string] `json:"initiationMethod,omitzero"`
	// InstanceARN is the Connect instance.
	InstanceARN Field[string] `json:"instanceArn,omitzero"`
	// QueueARN is the queue the contact waited in.
	QueueARN Field[string] `json:"queueArn,omitzero"`
	// AgentARN is the agent the contact was connected to.
	AgentARN Field[string] `json:"agentArn,omitzero"`
	// The contact's timestamps, as Connect reported them.
	InitiatedAt    Field[time.Time] `json:"initiatedAt,omitzero"`
	EnqueuedAt     Field[time.Time] `json:"enqueuedAt,omitzero"`
	ConnectedAt    Field[time.Time] `json:"connectedAt,omitzero"`
	DisconnectedAt Field[time.Time] `json:"disconnectedAt,omitzero"`
	ACWStartedAt   Field[time.Time] `json:"acwStartedAt,omitzero"`
	ACWEndedAt     Field[time.Time] `json:"acwEndedAt,omitzero"`
	// ACWSeconds and HoldSeconds are Connect's own durations, when it sent them.
	ACWSeconds  Field[int] `json:"acwSeconds,omitzero"`
	HoldSeconds Field[int] `json:"holdSeconds,omitzero"`
	// CompletedAt is set once a COMPLETED event was seen: the end of after contact work, or the
	// disconnect when there was none.
	CompletedAt Field[time.Time] `json:"completedAt,omitzero"`
	// LastEventAt is the newest event time merged.
	LastEventAt time.Time `json:"lastEventAt,omitzero"`

	// Sync is what has been done in Salesforce.
	Sync Sync `json:"sync,omitzero"`
}

// Sync records the Salesforce side of a contact: the caller, the match, the records created and
// the log written, so a retry or a late event repeats nothing.
type Sync struct {
	// Described is set once DescribeContact answered; Customer is its customer endpoint
	// address ("" when Connect returned none).
	Described    bool   `json:"described,omitempty"`
	Customer     string `json:"customer,omitempty"`
	CustomerType string `json:"customerType,omitempty"`
	// Number is the caller in E.164, "" when withheld or not a phone number.
	Number string `json:"number,omitempty"`
	// Withheld says why no number could be used, a phone.Withheld reason ("" when there is one).
	Withheld string `json:"withheld,omitempty"`
	// Match is the matching decision, once made.
	Match *Match `json:"match,omitempty"`
	// ChainRoot is the contact whose Case this contact joined (a transfer); "" for the first.
	ChainRoot string `json:"chainRoot,omitempty"`
	// CaseID is the call's Case; WhoID the Contact or Lead (matched or created), "" for none.
	CaseID string `json:"caseId,omitempty"`
	WhoID  string `json:"whoId,omitempty"`
	// WhoType is "Contact" or "Lead".
	WhoType string `json:"whoType,omitempty"`
	// CaseCreated is true when this contact created CaseID (false when attached or joined).
	CaseCreated bool `json:"caseCreated,omitempty"`
	// ContactCreated is true when this contact created WhoID.
	ContactCreated bool `json:"contactCreated,omitempty"`
	// Attempt is set while a create request may have reached Salesforce without its answer
	// reaching the bridge: the next attempt first looks the records up by step key.
	Attempt bool `json:"attempt,omitempty"`
	// AttemptBy is the event whose attempt it is, AttemptAt when it started (the bridge's
	// clock): another event waits for the attempt's lease to run out.
	AttemptBy string    `json:"attemptBy,omitempty"`
	AttemptAt time.Time `json:"attemptAt,omitzero"`
	// Steps are the log records written, by step key suffix, as last written.
	Steps map[string]StepRecord `json:"steps,omitempty"`
	// TaskDone is set once the call Task is written; TaskID is its id.
	TaskDone bool   `json:"taskDone,omitempty"`
	TaskID   string `json:"taskId,omitempty"`
	// TaskSkipped says why no Task was written when the org refused it (TaskDone is set).
	TaskSkipped string `json:"taskSkipped,omitempty"`
	// PopID is set once the screen pop was published (or decided against: PopSkipped).
	PopID      string `json:"popId,omitempty"`
	PopSkipped string `json:"popSkipped,omitempty"`
	// AgentUserID is the Salesforce user linked to the agent, when known.
	AgentUserID string `json:"agentUserId,omitempty"`
	// Done is set when nothing more will be written (withheld, disabled, all logged).
	Done string `json:"done,omitempty"`
}

// Apply merges ev into s and reports whether any field changed. Events of other contacts are
// ignored. b is the bound the dispatcher checked the event against.
func (s *State) Apply(ev contactevent.Event, b eventtime.Bound) bool {
	d := ev.Detail
	if s.ContactID == "" {
		s.ContactID = d.ContactID
	}
	if d.ContactID != s.ContactID {
		return false
	}
	at := ev.OccurredAt()
	if !b.Within(at) {
		return false
	}
	changed := false
	str := func(f *Field[string], v string) {
		if v != "" && merge(f, v, at, b, cmp.Compare[string]) {
			changed = true
		}
	}
	tm := func(f *Field[time.Time], v *time.Time) {
		if v != nil && !v.IsZero() && merge(f, v.UTC(), at, b, compareTime) {
			changed = true
		}
	}
	num := func(f *Field[int], v *int) {
		if v != nil && merge(f, *v, at, b, cmp.Compare[int]) {
			changed = true
		}
	}
	if d.InitialContactID != d.ContactID {
		str(&s.InitialContactID, d.InitialContactID)
	}
	str(&s.PreviousContactID, d.PreviousContactID)
	str(&s.Channel, string(d.Channel))
	str(&s.InitiationMethod, string(d.InitiationMethod))
	str(&s.InstanceARN, d.InstanceARN)
	tm(&s.InitiatedAt, d.InitiationTimestamp)
	tm(&s.DisconnectedAt, d.DisconnectTimestamp)
	if q := d.Queue; q != nil {
		str(&s.QueueARN, q.ARN)
		tm(&s.EnqueuedAt, q.EnqueueTimestamp)
	}
	if a := d.Agent; a != nil {
		str(&s.AgentARN, a.ARN)
		tm(&s.ConnectedAt, a.ConnectedToAgentTimestamp)
		tm(&s.ACWStartedAt, a.AfterContactWorkStartTimestamp)
		tm(&s.ACWEndedAt, a.AfterContactWorkEndTimestamp)
		num(&s.ACWSeconds, a.AfterContactWorkDuration)
		num(&s.HoldSeconds, a.AgentInitiatedHoldDuration)
	}
	if d.EventType == contactevent.Completed {
		t := at.UTC()
		tm(&s.CompletedAt, &t)
	}
	if at.After(s.LastEventAt) {
		s.LastEventAt = at.UTC()
	}
	return changed
}

// Phase is how far a contact has got, as far as call logging cares.
type Phase string

// The phases.
const (
	// PhaseWaiting: not yet connected to an agent (initiated, queued, or abandoned but not
	// completed). Nothing is written to Salesforce.
	PhaseWaiting Phase = "waiting"
	// PhaseConnected: connected to an agent (possibly disconnected since), not completed. The
	// Contact, the Case and the first steps are written and the agent's console pops the Case.
	PhaseConnected Phase = "connected"
	// PhaseCompleted: COMPLETED seen. Every step is final and the Task is written.
	PhaseCompleted Phase = "completed"
)

// Phase returns s's phase.
func (s State) Phase() Phase {
	switch {
	case s.CompletedAt.Set():
		return PhaseCompleted
	case s.ConnectedAt.Set():
		return PhaseConnected
	}
	return PhaseWaiting
}

// AgentID returns the Connect user id of the contact's agent, "" when none.
func (s State) AgentID() string {
	ev := contactevent.Detail{Agent: &contactevent.AgentInfo{ARN: s.AgentARN.V}}
	return ev.AgentID()
}

// QueueID returns the id of the contact's queue, "" when none.
func (s State) QueueID() string {
	ev := contactevent.Detail{Queue: &contactevent.QueueInfo{ARN: s.QueueARN.V}}
	return ev.QueueID()
}

// ChainParent returns the contact this one continues (a transfer): PreviousContactID, else an
// InitialContactID other than itself; "" for the first contact of a call.
func (s State) ChainParent() string {
	if p := s.PreviousContactID.V; p != "" && p != s.ContactID {
		return p
	}
	if i := s.InitialContactID.V; i != "" && i != s.ContactID {
		return i
	}
	return ""
}

// Root returns the first contact of the call this contact belongs to, whose Case every
// contact of the call shares: InitialContactID when Connect sent one other than the contact
// itself, else PreviousContactID (a single transfer), else the contact itself.
func (s State) Root() string {
	if i := s.InitialContactID.V; i != "" && i != s.ContactID {
		return i
	}
	if p := s.PreviousContactID.V; p != "" && p != s.ContactID {
		return p
	}
	return s.ContactID
}
