package session

import (
	"strings"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/eventtime"
)

func atTime(ev Event, t time.Time) Event {
	ev.At = t
	return ev
}

func TestDecideBoundsEventTimes(t *testing.T) {
	now := at(10)
	var (
		farFuture   = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
		endOfTime   = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
		justInside  = now.Add(eventtime.DefaultMaxSkew)
		justOutside = now.Add(eventtime.DefaultMaxSkew + time.Millisecond)
		farPast     = time.Date(1971, 1, 1, 0, 0, 0, 0, time.UTC)
	)
	for _, tc := range []struct {
		name    string
		st      State
		ev      Event
		skew    time.Duration
		outcome Outcome
		explain string
	}{
		{name: "login far future", ev: atTime(login("li-1", 0), farFuture), outcome: OutcomeInvalid,
			explain: "invalid event: login event time 2099-01-01T00:00:00Z is 26602 days ahead of the bridge's clock (2026-03-02T09:10:00Z); at most 5m0s of clock skew is allowed (settings.maxClockSkewSeconds); refused for good, nothing stored"},
		{name: "logout 9999-12-31", st: active("li-0", 0), ev: atTime(logout("lo-1", 0), endOfTime), outcome: OutcomeInvalid},
		{name: "login just inside the skew", ev: atTime(login("li-1", 0), justInside), outcome: OutcomeToggledOn},
		{name: "login just outside the skew", ev: atTime(login("li-1", 0), justOutside), outcome: OutcomeInvalid, explain: "is 5m0s ahead"},
		{name: "a larger skew lets it in", ev: atTime(login("li-1", 0), justOutside), skew: 10 * time.Minute, outcome: OutcomeToggledOn},
		{name: "logout far past is stale", st: active("li-0", 0), ev: atTime(logout("lo-1", 0), farPast), outcome: OutcomeStale},
		{name: "logout far past of an unknown user applies", ev: atTime(logout("lo-1", 0), farPast), outcome: OutcomeToggledOff},
		// A state stored before the bound was enforced must not freeze the user.
		{name: "stored login in 2099 no longer counts", st: atState(active("li-0", 0), farFuture), ev: logout("lo-1", 5), outcome: OutcomeToggledOff},
		{name: "stored login just inside still counts", st: atState(active("li-0", 0), justInside), ev: logout("lo-1", 5), outcome: OutcomeStale},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(tc.st, tc.ev, allTargets(), eventtime.New(now, tc.skew))
			if d.Audit.Outcome != tc.outcome {
				t.Fatalf("outcome %s, want %s: %s", d.Audit.Outcome, tc.outcome, d.Audit.Explanation)
			}
			if tc.explain != "" && !strings.Contains(d.Audit.Explanation, tc.explain) {
				t.Errorf("explanation %q lacks %q", d.Audit.Explanation, tc.explain)
			}
			if tc.outcome == OutcomeInvalid {
				if d.Write || len(d.Actions) != 0 || !d.Audit.Record {
					t.Errorf("a refused event must be audited and neither stored nor acted on: %+v", d)
				}
				if !d.Audit.EventAt.IsZero() {
					t.Errorf("audited at the event's time %s", d.Audit.EventAt)
				}
			}
		})
	}
}

func atState(s State, t time.Time) State {
	s.At = t
	return s
}

// TestTrialReplay is the trial on the session route: a login dated 2099, then the real login and
// logout, which must switch the user on and off.
func TestTrialReplay(t *testing.T) {
	var st State
	steps := []struct {
		ev      Event
		now     time.Time
		outcome Outcome
	}{
		{atTime(login("future", 0), time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)), at(0), OutcomeInvalid},
		{login("li-1", 1), at(1), OutcomeToggledOn},
		{logout("lo-1", 30), at(30), OutcomeToggledOff},
	}
	for _, s := range steps {
		d := Decide(st, s.ev, allTargets(), eventtime.New(s.now, 0))
		if d.Audit.Outcome != s.outcome {
			t.Fatalf("%s: %s, want %s: %s", s.ev.ID, d.Audit.Outcome, s.outcome, d.Audit.Explanation)
		}
		if d.Write {
			st = d.State
		}
	}
	if st.Active || st.LastEventID != "lo-1" {
		t.Errorf("the user is not switched off: %+v", st)
	}
}
