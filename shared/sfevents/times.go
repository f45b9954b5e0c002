package sfevents

import (
	"fmt"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/eventtime"
)

// CheckTimes checks every event's time against the bridge's clock: one dated further ahead than
// b allows (settings.maxClockSkewSeconds) is a problem at its path, $.events[i].time, reported
// like Decode's problems so the webhook refuses the batch with one 400 naming each. Such an
// event must never be stored: it would win every later "newer wins" comparison.
func (b Batch) CheckTimes(bound eventtime.Bound) error {
	var t times
	for _, e := range b.Events {
		t.check(bound, e.Index, "time", e.Time)
	}
	return t.err("presence webhook batch")
}

// CheckTimes is Batch.CheckTimes for the session contract, whose field is $.events[i].eventDate.
// Repeats are checked too, so the 400 names every position.
func (b SessionBatch) CheckTimes(bound eventtime.Bound) error {
	var t times
	for _, e := range b.Input {
		t.check(bound, e.Index, "eventDate", e.Date)
	}
	return t.err("session webhook batch")
}

// times collects the problems of event times beyond a bound.
type times struct{ problems []apperr.Problem }

func (t *times) check(bound eventtime.Bound, index int, field string, at time.Time) {
	if err := bound.Check(at); err != nil && len(t.problems) < MaxProblems {
		t.problems = append(t.problems, apperr.Problem{Path: fmt.Sprintf("$.events[%d].%s", index, field), Message: err.Error()})
	}
}

func (t *times) err(what string) error {
	if len(t.problems) == 0 {
		return nil
	}
	first := t.problems[0]
	return apperr.Invalidf(t.problems, "invalid %s: %d problem(s), first %s: %s", what, len(t.problems), first.Path, first.Message)
}
