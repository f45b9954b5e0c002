// Package audit defines the audit log's entries: one record per decision Omnibridge makes, kept
// so an operator can see why an agent's status changed, or why it did not.
package audit

import (
	"fmt"
	"strings"
	"time"
)

// Subject kinds. A subject names what an entry is about, as "<kind>/<id>".
const (
	KindAgent   = "agent"
	KindCase    = "case"
	KindContact = "contact"
	KindUser    = "user"
	KindSystem  = "system"
)

// Subject builds a subject key such as "agent/1b2c...".
func Subject(kind, id string) string { return kind + "/" + id }

// ParseSubject checks that s is "<kind>/<id>" with a known kind and returns it unchanged.
func ParseSubject(s string) (string, error) {
	kind, id, ok := strings.Cut(s, "/")
	if !ok || id == "" {
		return "", fmt.Errorf("subject must look like kind/id, such as agent/1234")
	}
	switch kind {
	case KindAgent, KindCase, KindContact, KindUser, KindSystem:
		return s, nil
	}
	return "", fmt.Errorf("unknown subject kind %q (want agent, case, contact, user or system)", kind)
}

// Entry is one audited decision.
type Entry struct {
	// Subject is what the entry is about, such as "agent/<connect user id>".
	Subject string `json:"subject"`
	// Time is when the decision was made.
	Time time.Time `json:"time"`
	// ID makes the entry unique among entries of the same subject and time; use the causing
	// event's id where there is one, so a replay rewrites the same entry instead of adding one.
	ID string `json:"id"`
	// EventID is the id of the event that caused the decision, if any.
	EventID string `json:"eventId,omitempty"`
	// Outcome is a short machine-readable code, such as "applied", "stale" or "loop-cut".
	Outcome string `json:"outcome"`
	// Message explains the decision to a person.
	Message string `json:"message"`
	// Details carries structured context: matched rules, commands, skip reasons.
	Details map[string]any `json:"details,omitempty"`
}

// Query selects a subject's entries between Since and Until (inclusive; zero means unbounded),
// newest first.
type Query struct {
	Subject string
	Since   time.Time
	Until   time.Time
	// Limit is the page size; zero means DefaultLimit.
	Limit int
	// PageToken continues from a previous page's NextPageToken.
	PageToken string
}

// DefaultLimit and MaxLimit bound a page of audit entries.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Page is one page of entries, newest first.
type Page struct {
	Entries []Entry `json:"entries"`
	// NextPageToken is empty on the last page.
	NextPageToken string `json:"nextPageToken,omitempty"`
}
