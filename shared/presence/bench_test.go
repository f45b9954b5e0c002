package presence

import (
	"fmt"
	"testing"

	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/rules"
)

// benchSet has n Connect rules; only the last matches the bench event, after every other rule
// failed on its second criterion: the worst case for one event.
func benchSet(b *testing.B, n int) *rules.Set {
	var rs []config.Rule
	for i := range n {
		r := c2s(fmt.Sprintf("r%02d", i), "Lunch", "Away")
		r.Priority = i
		r.Criteria = append(r.Criteria, when("connect.oldStatus", "eq", fmt.Sprintf("S%02d", i)))
		rs = append(rs, r)
	}
	return compile(b, rs, pair("Available", "Available", true, true))
}

func benchDecide(b *testing.B, n int) {
	set, s := benchSet(b, n), settings()
	st := linked()
	st.Connect.Status = fmt.Sprintf("S%02d", n-1)
	ev := connectEvent("EventId-1", 5, "Lunch")
	if d := Decide(st, ev, set, s, ev.Time); len(d.Commands) != 1 {
		b.Fatalf("no command: %s", d.Audit.Explanation)
	}
	b.ReportAllocs()
	for b.Loop() {
		Decide(st, ev, set, s, ev.Time)
	}
}

// BenchmarkDecide1Rule is the baseline for BenchmarkDecide50Rules: the fixed cost of a decision
// (state copy, mirror, echo and chain bookkeeping, audit text) against the cost of rules.
func BenchmarkDecide1Rule(b *testing.B) { benchDecide(b, 1) }

// BenchmarkDecide50Rules decides one event against 50 rules that all have to be evaluated.
func BenchmarkDecide50Rules(b *testing.B) { benchDecide(b, 50) }
