package eventtime_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/eventtime"
)

var now = time.Date(2026, 11, 24, 16, 0, 0, 0, time.UTC)

// The times every path is tested with.
var (
	farFuture   = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	endOfTime   = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
	justInside  = now.Add(eventtime.DefaultMaxSkew)
	justOutside = now.Add(eventtime.DefaultMaxSkew + time.Millisecond)
	farPast     = time.Date(1971, 1, 1, 0, 0, 0, 0, time.UTC)
)

func TestCheck(t *testing.T) {
	b := eventtime.New(now, 0)
	for _, tc := range []struct {
		name string
		t    time.Time
		want string // "" for accepted, else a substring of the error
	}{
		{"far future 2099", farFuture, "26335 days ahead of the bridge's clock (2026-11-24T16:00:00Z); at most 5m0s"},
		{"9999-12-31", endOfTime, "9999-12-31T23:59:59.999999999Z is 2912115 days ahead"},
		{"just inside the skew", justInside, ""},
		{"just outside the skew", justOutside, "is 5m0s ahead"},
		{"now", now, ""},
		{"far past", farPast, ""},
		{"zero time", time.Time{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := b.Check(tc.t)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Check(%s) = %v, want accepted", tc.t, err)
				}
				return
			}
			var ae *eventtime.AheadError
			if !errors.As(err, &ae) {
				t.Fatalf("Check(%s) = %v, want an *AheadError", tc.t, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check(%s) = %q, want it to contain %q", tc.t, err, tc.want)
			}
		})
	}
}

func TestNewerAndNotOlder(t *testing.T) {
	b := eventtime.New(now, 0)
	last := now.Add(-time.Minute)
	for _, tc := range []struct {
		name            string
		t, last         time.Time
		newer, notOlder bool
	}{
		{"nothing stored", now, time.Time{}, true, true},
		{"later event", now, last, true, true},
		{"same time", last, last, false, true},
		{"earlier event", last.Add(-time.Second), last, false, false},
		{"far past event", farPast, last, false, false},
		{"far past event, nothing stored", farPast, time.Time{}, true, true},
		{"far future event", farFuture, last, false, false},
		{"9999-12-31 event", endOfTime, time.Time{}, false, false},
		{"just inside the skew", justInside, last, true, true},
		{"just outside the skew", justOutside, last, false, false},
		// A stored time beyond the bound (written before it was enforced) blocks nothing.
		{"stored 2099, event now", now, farFuture, true, true},
		{"stored 9999-12-31, event in the past", farPast, endOfTime, true, true},
		{"stored just outside, event just inside", justInside, justOutside, true, true},
		{"stored just inside, event now", now, justInside, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := b.Newer(tc.t, tc.last); got != tc.newer {
				t.Errorf("Newer(%s, %s) = %v, want %v", tc.t, tc.last, got, tc.newer)
			}
			if got := b.NotOlder(tc.t, tc.last); got != tc.notOlder {
				t.Errorf("NotOlder(%s, %s) = %v, want %v", tc.t, tc.last, got, tc.notOlder)
			}
		})
	}
}

func TestNewUsesTheConfiguredSkew(t *testing.T) {
	b := eventtime.New(now, time.Second)
	if err := b.Check(now.Add(time.Second)); err != nil {
		t.Errorf("1s ahead with a 1s skew: %v", err)
	}
	if err := b.Check(now.Add(2 * time.Second)); err == nil || !strings.Contains(err.Error(), "at most 1s") {
		t.Errorf("2s ahead with a 1s skew: %v, want refused naming the 1s skew", err)
	}
	if got := (eventtime.Bound{Now: now}).Latest(); !got.Equal(justInside) {
		t.Errorf("zero MaxSkew: Latest = %s, want the default %s", got, justInside)
	}
}
