// Package screenpop models a screen pop: the bridge asks an agent's Salesforce console to open a
// record (the routed Case, the caller's Case) in a console tab. It is published as the platform
// event Omnibridge_Screen_Pop__e; the package's console component subscribes, keeps the pops
// addressed to its user, opens the record with the workspace API and ignores pops older than
// MaxAge, so a console opened late never replays a morning's pops.
//
// Case routing and call logging both pop; this package is the one definition of the event's
// fields. It is domain code: no HTTP, no AWS.
package screenpop

import (
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// Event is the platform event's API name.
const Event = "Omnibridge_Screen_Pop__e"

// The event's fields, as defined in infra/salesforce (objects/Omnibridge_Screen_Pop__e).
const (
	FieldPopID            = "PopId__c"
	FieldUserID           = "UserId__c"
	FieldRecordID         = "RecordId__c"
	FieldConnectContactID = "ConnectContactId__c"
	FieldReason           = "Reason__c"
	FieldIssuedAt         = "IssuedAt__c"
)

// MaxAge is how old a pop may be when the console receives it and still open a tab.
const MaxAge = time.Minute

// Reasons a pop is sent.
const (
	ReasonCaseRouted = "case-routed"
	ReasonCall       = "call"
)

// Pop asks one user's console to open one record.
type Pop struct {
	// ID identifies the pop; the console opens each id once (derive it from the cause, such as
	// the Connect contact id, so a retried publish pops once).
	ID string
	// UserID is the Salesforce user whose console opens the record.
	UserID string
	// RecordID is the record to open (a Case, a Contact).
	RecordID string
	// ConnectContactID is the Amazon Connect contact the pop is about.
	ConnectContactID string
	// Reason is ReasonCaseRouted or ReasonCall.
	Reason string
	// IssuedAt is when the bridge issued the pop (the bridge's clock).
	IssuedAt time.Time
}

// Fields returns the pop as platform event fields, checking that it names a pop id, a user and
// a record.
func (p Pop) Fields() (map[string]any, error) {
	var missing []apperr.Problem
	for _, f := range []struct{ name, v string }{{"id", p.ID}, {"userId", p.UserID}, {"recordId", p.RecordID}} {
		if f.v == "" {
			missing = append(missing, apperr.Problem{Path: "$." + f.name, Message: "is required"})
		}
	}
	if len(missing) > 0 {
		return nil, apperr.Invalidf(missing, "screen pop is incomplete")
	}
	return map[string]any{
		FieldPopID:            p.ID,
		FieldUserID:           p.UserID,
		FieldRecordID:         p.RecordID,
		FieldConnectContactID: p.ConnectContactID,
		FieldReason:           p.Reason,
		FieldIssuedAt:         p.IssuedAt.UTC().Format("2006-01-02T15:04:05.000Z"),
	}, nil
}
