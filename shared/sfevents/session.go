package sfevents

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/omnibridge/omnibridge/shared/session"
)

// SessionType names a session event's type: the "type" field of the session contract.
type SessionType string

// The session event types of contract v1.
const (
	// SessionLogin: the user logged in to Salesforce (Login Flow action).
	SessionLogin SessionType = "login"
	// SessionLogout: the user logged out of Salesforce (LogoutEventStream trigger). Session
	// timeouts publish no logout event; the poll finds those.
	SessionLogout SessionType = "logout"
)

// SessionTypes returns every session event type, in the contract's order.
func SessionTypes() []SessionType { return []SessionType{SessionLogin, SessionLogout} }

// Kind returns the session package's kind for t; unknown types have none.
func (t SessionType) Kind() (session.Kind, bool) {
	switch t {
	case SessionLogin:
		return session.KindLogin, true
	case SessionLogout:
		return session.KindLogout, true
	}
	return "", false
}

// sessionCommonFields are the fields of every session event, named after the LoginEventStream
// and LogoutEventStream fields they carry.
var sessionCommonFields = []field{
	{"type", true, kType},
	{"eventId", true, kOpaqueID},
	{"userId", true, kUserID},
	{"eventDate", true, kTime},
	{"username", false, kText},
	{"sessionKey", false, kText},
	{"loginKey", false, kText},
	{"sessionLevel", false, kText},
	{"sourceIp", false, kText},
}

// sessionTypeFields are the fields only one session event type has.
var sessionTypeFields = map[SessionType][]field{
	SessionLogin:  {{"loginType", false, kText}},
	SessionLogout: {},
}

// sessionEvents is the session contract's event table.
var sessionEvents = contract[SessionType]{types: SessionTypes(), common: sessionCommonFields, typed: sessionTypeFields}

// SessionBatch is one decoded session webhook request body.
type SessionBatch struct {
	SchemaVersion string
	// OrgID is the sending org, in 18-character form.
	OrgID string
	// SentAt is when the org sent the batch (its clock); informational.
	SentAt time.Time
	// Input holds every event of the request in input order, repeats included; SessionEvent.Index
	// is each one's position. Events and InTimeOrder leave the repeats out.
	Input []SessionEvent
}

// SessionEvent is one login or logout event as received.
type SessionEvent struct {
	// Index is the event's position in the request's events array, so results map back to it
	// after the batch is reordered by time.
	Index int
	// ID is the event id: the platform event's EventUuid or EventIdentifier, or the id the Login
	// Flow generated. The processor de-duplicates by it across retries.
	ID   string
	Type SessionType
	// UserID is the user's Salesforce user id, in 18-character form.
	UserID string
	// Date is the event's EventDate, in UTC. Newer wins.
	Date time.Time

	// The platform event's optional fields, as sent; informational (audit and logs).
	Username     string
	SessionKey   string
	LoginKey     string
	SessionLevel string
	SourceIP     string
	// LoginType is the login's LoginType, such as "Application" (login only).
	LoginType string

	// Repeat is true when an earlier event of the batch has the same id, type, user and date:
	// the sender delivered it twice. It is left out of Events and InTimeOrder.
	Repeat bool
	// RepeatOf is, for a repeat, the index of the first event with its id.
	RepeatOf int
}

// DecodeSession parses and validates one session webhook request body against contract v1, with
// the same rules and guarantees as Decode: every problem reported with its JSON path, at most
// MaxProblems of them, optional fields may be null, user and org ids returned in 18-character
// form, and no panic whatever the input.
//
// An event id repeated within the batch is accepted when the events are the same (same type,
// user and date): Salesforce may deliver a platform event more than once, and the repeat is
// marked and dropped. The same id on a different event is a problem.
func DecodeSession(body []byte) (SessionBatch, error) {
	env, events, err := decodeEvents(body, "session webhook batch", (*decoder).sessionEvent,
		func(d *decoder, p string, e *SessionEvent, first SessionEvent, j int) {
			if first.Type == e.Type && first.UserID == e.UserID && first.Date.Equal(e.Date) {
				e.Repeat, e.RepeatOf = true, j
				return
			}
			d.add(p+".eventId", "event id %q is also at $.events[%d], on a different event", e.ID, j)
		})
	if err != nil {
		return SessionBatch{}, err
	}
	return SessionBatch{SchemaVersion: env.schemaVersion, OrgID: env.orgID, SentAt: env.sentAt, Input: events}, nil
}

func (e SessionEvent) eventID() string { return e.ID }

func (d *decoder) sessionEvent(i int, p string, raw json.RawMessage) SessionEvent {
	v, ok := sessionEvents.fields(d, p, raw)
	if !ok {
		return SessionEvent{Index: i}
	}
	return SessionEvent{
		Index: i, ID: v["eventId"].s, Type: SessionType(v["type"].s), UserID: v["userId"].s, Date: v["eventDate"].t,
		Username: v["username"].s, SessionKey: v["sessionKey"].s, LoginKey: v["loginKey"].s,
		SessionLevel: v["sessionLevel"].s, SourceIP: v["sourceIp"].s, LoginType: v["loginType"].s,
	}
}

// InTimeOrder returns the batch's events without repeats, sorted by EventDate. The sort is
// stable, so events with the same date keep their input order; Index still names each one's
// input position.
func (b SessionBatch) InTimeOrder() []SessionEvent {
	out := make([]SessionEvent, 0, len(b.Input))
	for _, e := range b.Input {
		if !e.Repeat {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(x, y SessionEvent) int { return x.Date.Compare(y.Date) })
	return out
}

// Events returns the batch as session events, without repeats, in time order (see InTimeOrder).
func (b SessionBatch) Events() []session.Event {
	in := b.InTimeOrder()
	out := make([]session.Event, 0, len(in))
	for _, e := range in {
		out = append(out, e.Session())
	}
	return out
}

// Session converts e to the session package's event, from SourceWebhook.
func (e SessionEvent) Session() session.Event {
	kind, _ := e.Type.Kind()
	return session.Event{ID: e.ID, Kind: kind, UserID: e.UserID, At: e.Date, Source: session.SourceWebhook}
}
