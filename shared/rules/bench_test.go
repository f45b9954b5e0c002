package rules

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/omnibridge/omnibridge/shared/config"
)

// benchDoc has n Connect rules; only the last matches the bench facts, after every other rule
// failed on its second criterion: the worst case for one event.
func benchDoc(n int) config.Document {
	var rs []config.Rule
	for i := range n {
		rs = append(rs, rl(fmt.Sprintf("r%02d", i), i, "connect.agentStateChanged", "salesforce", "Away",
			crit(op("connect.newState"), "eq", val("Lunch")),
			crit(op("connect.oldStatus"), "eq", val(fmt.Sprintf("S%02d", i)))))
	}
	return document(rs, pair("Available", "Available", true, true))
}

func benchFacts(n int) Facts {
	return Facts{Event: EventConnectAgentStateChanged, ConnectNewState: "Lunch", ConnectNewStatus: "Lunch",
		ConnectOldState: fmt.Sprintf("S%02d", n-1), ConnectOldStatus: fmt.Sprintf("S%02d", n-1)}
}

func BenchmarkEvaluate1Rule(b *testing.B)   { benchCompiled(b, 1) }
func BenchmarkEvaluate50Rules(b *testing.B) { benchCompiled(b, 50) }

// BenchmarkEvaluate50RulesNaive is the baseline: it interprets the document on every event, as
// a bridge without a compile stage would.
func BenchmarkEvaluate50RulesNaive(b *testing.B) {
	doc, f := benchDoc(50), benchFacts(50)
	if id, ok := naiveEvaluate(doc, f); !ok || id != "r49" {
		b.Fatalf("naive picked %q", id)
	}
	b.ReportAllocs()
	for b.Loop() {
		naiveEvaluate(doc, f)
	}
}

func benchCompiled(b *testing.B, n int) {
	set := mustCompile(b, benchDoc(n))
	f := benchFacts(n)
	if o := set.Evaluate(f).Outcomes[0]; o.RuleID != fmt.Sprintf("r%02d", n-1) {
		b.Fatalf("picked %q", o.RuleID)
	}
	b.ReportAllocs()
	for b.Loop() {
		set.Evaluate(f)
	}
}

// naiveEvaluate finds the winning rule straight from the document: filter, sort, look operands
// up by name and parse literals each time.
func naiveEvaluate(doc config.Document, f Facts) (string, bool) {
	var rs []config.Rule
	for _, r := range doc.Rules {
		if r.SourceEvent == string(f.Event) && r.Enabled {
			rs = append(rs, r)
		}
	}
	slices.SortStableFunc(rs, func(a, b config.Rule) int { return cmp.Compare(a.Priority, b.Priority) })
	side := func(o config.Operand) operandValue {
		if o.Value != nil {
			if n, err := strconv.ParseFloat(string(*o.Value), 64); err == nil {
				return operandValue{kind: numberValue, num: n}
			}
			return operandValue{kind: stringValue, str: string(*o.Value)}
		}
		id, _ := lookupOperand(o.Operand)
		return f.get(id)
	}
	for _, r := range rs {
		ok := true
		for _, c := range r.Criteria {
			if !compare(Comparator(c.Comparator), side(c.Left), side(c.Right)) {
				ok = false
				break
			}
		}
		if ok {
			return r.ID, true
		}
	}
	return "", false
}

// BenchmarkDecide50Rules is the hot path of BenchmarkEvaluate50Rules: the outcome and a trace
// that is expanded only when read.
func BenchmarkDecide50Rules(b *testing.B) {
	set, f := mustCompile(b, benchDoc(50)), benchFacts(50)
	if o, _ := set.Decide(f, nil); o.RuleID != "r49" {
		b.Fatalf("picked %q", o.RuleID)
	}
	b.ReportAllocs()
	for b.Loop() {
		set.Decide(f, nil)
	}
}
