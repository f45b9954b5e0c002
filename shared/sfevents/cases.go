package sfevents

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/omnibridge/omnibridge/shared/eventtime"
)

// CaseType names a case event's type: the "type" field of the case contract.
type CaseType string

// The case event types of contract v1, sent by the package's triggers on Case, CaseComment and
// EmailMessage.
const (
	// CaseCreated: a case was inserted.
	CaseCreated CaseType = "case.created"
	// CaseOwnerChanged: a case's OwnerId changed (to or from a queue or a user).
	CaseOwnerChanged CaseType = "case.owner_changed"
	// CaseCommentAdded: a CaseComment was added; ByOwner says whether the case owner wrote it.
	CaseCommentAdded CaseType = "case.comment_added"
	// CaseEmailAdded: an EmailMessage was added to the case; Incoming says whether it came from
	// the customer.
	CaseEmailAdded CaseType = "case.email_added"
)

// CaseTypes returns every case event type, in the contract's order.
func CaseTypes() []CaseType {
	return []CaseType{CaseCreated, CaseOwnerChanged, CaseCommentAdded, CaseEmailAdded}
}

var caseCommonFields = []field{
	{"type", true, kType},
	{"eventId", true, kOpaqueID},
	{"eventDate", true, kTime},
	{"caseId", true, kCaseID},
	{"caseNumber", true, kText},
	{"subject", false, kText},
	{"priority", false, kText},
	{"status", true, kText},
	{"isClosed", true, kBool},
	{"ownerId", true, kOwnerID},
	// The skills rules (at most 255 characters among them ...) are judged by case routing, which
	// audits a bad value and writes it back to the case's status, so the field takes up to
	// maxReasonRunes: a long value is a routing outcome, not a malformed webhook.
	{"skills", false, kReason},
	{"actorId", true, kUserID},
}

var caseTypeFields = map[CaseType][]field{
	CaseCreated:      {},
	CaseOwnerChanged: {{"previousOwnerId", true, kOwnerID}},
	CaseCommentAdded: {{"byOwner", true, kBool}},
	CaseEmailAdded:   {{"incoming", true, kBool}},
}

// caseEvents is the case contract's event table.
var caseEvents = contract[CaseType]{types: CaseTypes(), common: caseCommonFields, typed: caseTypeFields}

// CaseBatch is one decoded case webhook request body.
type CaseBatch struct {
	SchemaVersion string
	// OrgID is the sending org, in 18-character form.
	OrgID string
	// SentAt is when the org sent the batch (its clock); informational.
	SentAt time.Time
	// Input holds every event of the request in input order, repeats included.
	Input []CaseEvent
}

// CaseEvent is one case event as received.
type CaseEvent struct {
	// Index is the event's position in the request's events array.
	Index int `json:"index"`
	// ID is the event id the trigger derived from its record (the case id and what changed, the
	// comment's or the email's id): the routing de-duplicates by it across retries.
	ID   string   `json:"id"`
	Type CaseType `json:"type"`
	// Date is the record's CreatedDate or SystemModstamp, in UTC.
	Date time.Time `json:"eventDate"`
	// CaseID is the case's id, 18-character form.
	CaseID     string `json:"caseId"`
	CaseNumber string `json:"caseNumber"`
	Subject    string `json:"subject,omitempty"`
	Priority   string `json:"priority,omitempty"`
	Status     string `json:"status"`
	IsClosed   bool   `json:"isClosed"`
	// OwnerID is the case's owner after the change: a User (005) or a queue (00G).
	OwnerID string `json:"ownerId"`
	// PreviousOwnerID is the owner before the change (case.owner_changed only).
	PreviousOwnerID string `json:"previousOwnerId,omitempty"`
	// Skills is the raw value of the configured skills field, as stored on the case.
	Skills string `json:"skills,omitempty"`
	// ActorID is the user who made the change.
	ActorID string `json:"actorId"`
	// ByOwner is, for a comment, whether the case owner wrote it.
	ByOwner bool `json:"byOwner,omitempty"`
	// Incoming is, for an email, whether it came in from the customer.
	Incoming bool `json:"incoming,omitempty"`

	// Repeat is true when an earlier event of the batch is the same event (same id, type, case
	// and date); it is skipped.
	Repeat bool `json:"repeat,omitempty"`
	// RepeatOf is, for a repeat, the index of the first event with its id.
	RepeatOf int `json:"repeatOf,omitempty"`
}

// OwnerIsQueue reports whether the case's owner is a queue.
func (e CaseEvent) OwnerIsQueue() bool { return strings.HasPrefix(e.OwnerID, "00G") }

// PreviousOwnerIsQueue reports whether the case's previous owner was a queue.
func (e CaseEvent) PreviousOwnerIsQueue() bool { return strings.HasPrefix(e.PreviousOwnerID, "00G") }

// DecodeCases parses and validates one case webhook request body against contract v1
// (infra/salesforce/contracts/case-webhook.v1.schema.json), with Decode's rules and guarantees:
// every problem with its JSON path, optional fields may be null, ids in 18-character form, no
// panic whatever the input. An event id repeated within the batch is accepted when the events
// are the same (a trigger may run twice in one transaction), and is a problem otherwise.
func DecodeCases(body []byte) (CaseBatch, error) {
	env, events, err := decodeEvents(body, "case webhook batch", (*decoder).caseEvent,
		func(d *decoder, p string, e *CaseEvent, first CaseEvent, j int) {
			if first.Type == e.Type && first.CaseID == e.CaseID && first.Date.Equal(e.Date) {
				e.Repeat, e.RepeatOf = true, j
				return
			}
			d.add(p+".eventId", "event id %q is also at $.events[%d], on a different event", e.ID, j)
		})
	if err != nil {
		return CaseBatch{}, err
	}
	return CaseBatch{SchemaVersion: env.schemaVersion, OrgID: env.orgID, SentAt: env.sentAt, Input: events}, nil
}

func (e CaseEvent) eventID() string { return e.ID }

func (d *decoder) caseEvent(i int, p string, raw json.RawMessage) CaseEvent {
	v, ok := caseEvents.fields(d, p, raw)
	if !ok {
		return CaseEvent{Index: i}
	}
	e := CaseEvent{
		Index: i, ID: v["eventId"].s, Type: CaseType(v["type"].s), Date: v["eventDate"].t,
		CaseID: v["caseId"].s, CaseNumber: v["caseNumber"].s, Subject: v["subject"].s, Priority: v["priority"].s,
		Status: v["status"].s, IsClosed: v["isClosed"].b, OwnerID: v["ownerId"].s,
		PreviousOwnerID: v["previousOwnerId"].s, Skills: v["skills"].s, ActorID: v["actorId"].s,
		ByOwner: v["byOwner"].b, Incoming: v["incoming"].b,
	}
	if e.Type == CaseOwnerChanged && e.OwnerID != "" && e.OwnerID == e.PreviousOwnerID {
		d.add(p+".previousOwnerId", "equals ownerId: an owner change needs two different owners")
	}
	return e
}

// InTimeOrder returns the batch's events without repeats, sorted by date (stable, so events of
// the same date keep their input order).
func (b CaseBatch) InTimeOrder() []CaseEvent {
	out := make([]CaseEvent, 0, len(b.Input))
	for _, e := range b.Input {
		if !e.Repeat {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(x, y CaseEvent) int { return x.Date.Compare(y.Date) })
	return out
}

// CheckTimes is Batch.CheckTimes for the case contract, whose field is $.events[i].eventDate.
func (b CaseBatch) CheckTimes(bound eventtime.Bound) error {
	var t times
	for _, e := range b.Input {
		t.check(bound, e.Index, "eventDate", e.Date)
	}
	return t.err("case webhook batch")
}

// String names the event for logs and audits: its type, case and id.
func (e CaseEvent) String() string {
	return fmt.Sprintf("%s %s (%s)", e.Type, e.CaseID, e.ID)
}
