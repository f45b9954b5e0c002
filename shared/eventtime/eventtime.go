// Package eventtime decides whether an event time can be trusted and which of two times wins.
// It is the one place "newer wins" is implemented: presence.Decide, session.Decide and the
// store's conditional writes all compare times through a Bound.
//
// An event time comes from another system's clock (Connect, the Salesforce org, a console in
// a browser). Trusted as is, one event dated 2099 would win every later comparison and freeze
// the agent's state for good. So every event time is checked against the bridge's own clock at
// intake: one more than the allowed skew ahead is refused, never stored, and never compared. A
// time already stored beyond the bound (written before the bound existed, or under a larger
// skew setting) loses to any event within it, so no stored value can block an agent either.
//
// This package is domain code: no AWS, no net/http.
package eventtime

import (
	"fmt"
	"time"
)

// DefaultMaxSkew is the skew allowed when the config sets none: settings.maxClockSkewSeconds'
// default.
const DefaultMaxSkew = 300 * time.Second

// Bound is the latest event time the bridge accepts at one moment: Now plus MaxSkew. Events
// may be late by any amount (they are then stale, or applied when nothing newer is known); they
// may be early only by MaxSkew, the clock difference tolerated between systems.
type Bound struct {
	// Now is the bridge's clock reading.
	Now time.Time
	// MaxSkew is how far ahead of Now an event time may be; zero or less means DefaultMaxSkew.
	MaxSkew time.Duration
}

// New returns the bound at now allowing maxSkew (DefaultMaxSkew when zero or less).
func New(now time.Time, maxSkew time.Duration) Bound {
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	return Bound{Now: now, MaxSkew: maxSkew}
}

func (b Bound) skew() time.Duration {
	if b.MaxSkew <= 0 {
		return DefaultMaxSkew
	}
	return b.MaxSkew
}

// Latest is the latest acceptable event time: Now + MaxSkew.
func (b Bound) Latest() time.Time { return b.Now.Add(b.skew()) }

// Within reports whether t is no later than Latest. The zero time is within.
func (b Bound) Within(t time.Time) bool { return !t.After(b.Latest()) }

// Check returns nil when t is within the bound, and an *AheadError naming t, the bridge's clock
// and the allowed skew otherwise.
func (b Bound) Check(t time.Time) error {
	if b.Within(t) {
		return nil
	}
	return &AheadError{Time: t, Now: b.Now, MaxSkew: b.skew()}
}

// Newer reports whether an event at t wins over a state whose last event was at last, when an
// equal time does not win (a redelivered event is a no-op): t is within the bound and after
// last. A zero last, or one beyond the bound, is no contest and t wins.
func (b Bound) Newer(t, last time.Time) bool {
	return b.Within(t) && (!b.Holds(last) || t.After(last))
}

// NotOlder reports whether an event at t wins over a state observed at last, when an equal time
// wins too (the outcome of deliveries is recorded on the state that caused them): t is within
// the bound and not before last. A zero last, or one beyond the bound, is no contest.
func (b Bound) NotOlder(t, last time.Time) bool {
	return b.Within(t) && (!b.Holds(last) || !t.Before(last))
}

// Holds reports whether a stored time still counts in a comparison: it is set and within the
// bound. A stored time beyond the bound is disregarded, so it cannot block newer events.
func (b Bound) Holds(last time.Time) bool { return !last.IsZero() && b.Within(last) }

// AheadError is an event time further ahead of the bridge's clock than the allowed skew.
type AheadError struct {
	// Time is the event's time; Now the bridge's clock; MaxSkew the allowed skew.
	Time, Now time.Time
	MaxSkew   time.Duration
}

// Error says how far ahead the time is and what is allowed, for a 400 or an audit entry.
func (e *AheadError) Error() string {
	return fmt.Sprintf("%s is %s ahead of the bridge's clock (%s); at most %s of clock skew is allowed (settings.maxClockSkewSeconds)",
		stamp(e.Time), span(e.Now, e.Time), stamp(e.Now), e.MaxSkew)
}

// span renders how far to is after from. Durations cap at about 292 years, and event times go
// up to 9999, so long spans are counted in whole days.
func span(from, to time.Time) string {
	secs := to.Unix() - from.Unix()
	if secs < 2*24*60*60 {
		return to.Sub(from).Round(time.Second).String()
	}
	return fmt.Sprintf("%d days", secs/(24*60*60))
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
