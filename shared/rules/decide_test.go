package rules

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/omnibridge/omnibridge/shared/config"
)

// traceDoc exercises every step result: disabled, criteria false (all and any), matched and
// shadowed, and a workload rule with a computed operand.
func traceDoc() config.Document {
	off := c2s("a-off", 1, "Lunch", "Offline")
	off.Enabled = false
	anyRule := rl("b-any", 2, "connect.agentStateChanged", "salesforce", "Busy",
		crit(op("connect.newState"), "eq", val("Break")), crit(op("connect.oldState"), "eq", val("Training")))
	anyRule.Match = MatchAny
	return document([]config.Rule{
		off, anyRule,
		rl("c-old", 3, "connect.agentStateChanged", "salesforce", "Away",
			crit(op("connect.newState"), "eq", val("Lunch")), crit(op("connect.oldStatus"), "ne", op("connect.newStatus"))),
		c2s("d-win", 4, "Lunch", "Away"),
		c2s("e-late", 5, "Lunch", "Busy"),
		rl("w", 1, "salesforce.workloadChanged", "connect", "Break",
			crit(op("salesforce.newWorkloadPct"), "ge", val("80"))),
	}, pair("Available", "Available", true, true), pair("Away", "Training", false, true))
}

// summaryFromSteps is the one-line form built from the expanded steps, as the presence audit
// built it before Trace.Summary: the reference Summary must equal.
func summaryFromSteps(kind EventKind, steps []Step) string {
	if len(steps) == 0 {
		return "No rules for " + string(kind) + "."
	}
	var b strings.Builder
	b.WriteString("Rules:")
	for i, st := range steps {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(" " + strconv.Quote(st.RuleID))
		if st.Result == StepMatched {
			b.WriteString(" won")
			continue
		}
		b.WriteString(" skipped (" + st.Reason() + ")")
	}
	b.WriteByte('.')
	return b.String()
}

var traceFacts = []struct {
	name    string
	f       Facts
	summary string
}{
	{"a rule wins, later ones shadowed",
		Facts{Event: EventConnectAgentStateChanged, ConnectNewState: "Lunch", ConnectNewStatus: "Lunch", ConnectOldState: "Lunch", ConnectOldStatus: "Lunch"},
		`Rules: "a-off" skipped (disabled); "b-any" skipped (no criterion holds); "c-old" skipped (criteria[1] false); "d-win" won; "e-late" skipped (shadowed by "d-win").`},
	{"the first criterion fails",
		Facts{Event: EventConnectAgentStateChanged, ConnectNewState: "Training", ConnectNewStatus: "Training"},
		`Rules: "a-off" skipped (disabled); "b-any" skipped (no criterion holds); "c-old" skipped (criteria[0] false); "d-win" skipped (criteria[0] false); "e-late" skipped (criteria[0] false).`},
	{"any: the second criterion holds",
		Facts{Event: EventConnectAgentStateChanged, ConnectNewState: "Available", ConnectOldState: "Training"},
		`Rules: "a-off" skipped (disabled); "b-any" won; "c-old" skipped (shadowed by "b-any"); "d-win" skipped (shadowed by "b-any"); "e-late" skipped (shadowed by "b-any").`},
	{"workload percent",
		Facts{Event: EventSalesforceWorkloadChanged, NewWorkload: Num(4), ConfiguredCapacity: Num(5)},
		`Rules: "w" won.`},
	{"workload without capacity is absent",
		Facts{Event: EventSalesforceWorkloadChanged, NewWorkload: Num(4)},
		`Rules: "w" skipped (criteria[0] false).`},
	{"no rules for the kind",
		Facts{Event: EventSalesforceAgentLogout},
		`No rules for salesforce.agentLogout.`},
}

func TestTraceSummary(t *testing.T) {
	set := mustCompile(t, traceDoc())
	for _, tt := range traceFacts {
		t.Run(tt.name, func(t *testing.T) {
			var during strings.Builder
			_, trace := set.Decide(tt.f, &during)
			var b strings.Builder
			trace.Summary(&b)
			if b.String() != tt.summary {
				t.Errorf("summary\n got %s\nwant %s", b.String(), tt.summary)
			}
			if during.String() != tt.summary {
				t.Errorf("summary written by Decide\n got %s\nwant %s", during.String(), tt.summary)
			}
			if want := summaryFromSteps(tt.f.Event, trace.Steps()); b.String() != want {
				t.Errorf("summary differs from the steps' reasons\n got %s\nwant %s", b.String(), want)
			}
			if trace.Len() != len(trace.Steps()) || trace.IsZero() != (trace.Len() == 0) {
				t.Errorf("Len %d, IsZero %v, %d steps", trace.Len(), trace.IsZero(), len(trace.Steps()))
			}
		})
	}
}

func TestTraceJSON(t *testing.T) {
	set := mustCompile(t, traceDoc())
	for _, tt := range traceFacts {
		t.Run(tt.name, func(t *testing.T) {
			_, trace := set.Decide(tt.f, nil)
			got, err := json.Marshal(trace)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(set.Evaluate(tt.f).Trace)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("trace JSON\n got %s\nwant %s", got, want)
			}
			var back Trace
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			again, _ := json.Marshal(back)
			if string(again) != string(got) {
				t.Errorf("read back\n got %s\nwant %s", again, got)
			}
			var b strings.Builder
			back.Summary(&b)
			if back.Len() > 0 && b.String() != tt.summary {
				t.Errorf("read-back summary %s, want %s", b.String(), tt.summary)
			}
		})
	}
	t.Run("not an array", func(t *testing.T) {
		var back Trace
		if err := json.Unmarshal([]byte(`{"ruleId":"x"}`), &back); err == nil {
			t.Error("an object read as a trace")
		}
	})
}

// TestDecideAllocatesNothing pins the hot path: every outcome and summary text was rendered at
// compile time, so deciding allocates nothing, whatever decides.
func TestDecideAllocatesNothing(t *testing.T) {
	set := mustCompile(t, traceDoc())
	tests := []struct {
		name   string
		f      Facts
		source Source
	}{
		{"rule", traceFacts[0].f, SourceRule},
		{"mapping", Facts{Event: EventConnectAgentStateChanged, ConnectNewState: "Training"}, SourceMapping},
		{"no mapping for a catalog status", Facts{Event: EventConnectAgentStateChanged, ConnectNewState: "Offline"}, SourceNone},
		{"no mapping for a system state", Facts{Event: EventConnectAgentStateChanged, ConnectNewState: StateAfterCallWork}, SourceNone},
		{"Salesforce status mapped", Facts{Event: EventSalesforceAgentStateChanged, SalesforceNewState: "Available"}, SourceMapping},
		{"logout", Facts{Event: EventSalesforceAgentLogout}, SourceNone},
		{"workload rule", traceFacts[3].f, SourceRule},
		{"work accepted", Facts{Event: EventSalesforceWorkAccepted, SalesforceChannel: "sfdc_phone"}, SourceNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o Outcome
			allocs := testing.AllocsPerRun(100, func() { o, _ = set.Decide(tt.f, nil) })
			if allocs != 0 {
				t.Errorf("Decide allocated %v times", allocs)
			}
			if o.Source != tt.source {
				t.Errorf("source %s, want %s (%s)", o.Source, tt.source, o.Reason)
			}
			if e := set.Evaluate(tt.f); len(e.Outcomes) != 1 || e.Outcomes[0] != o {
				t.Errorf("Evaluate %+v, Decide %+v", e.Outcomes, o)
			}
		})
	}
}

// TestFallbackForUnknownState checks the one fallback not rendered at compile time: a state
// neither the catalog nor the mapping knows gets the same reason, rendered when it is seen.
func TestFallbackForUnknownState(t *testing.T) {
	set := mustCompile(t, traceDoc())
	tests := []struct {
		name string
		f    Facts
		want string
	}{
		{"Connect", Facts{Event: EventConnectAgentStateChanged, ConnectNewState: "Meeting"},
			`no rule matched and no mapping for Connect "Meeting" toward Salesforce`},
		{"Salesforce", Facts{Event: EventSalesforceAgentStateChanged, SalesforceNewState: "Lunch_Break"},
			`no rule matched and no mapping for Salesforce "Lunch_Break" toward Connect`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, _ := set.Decide(tt.f, nil)
			if o.Source != SourceNone || o.Reason != tt.want {
				t.Errorf("got %s %q, want none %q", o.Source, o.Reason, tt.want)
			}
			var nilSet *Set
			if o2, _ := nilSet.Decide(tt.f, nil); o2.Reason != tt.want {
				t.Errorf("nil set: %q", o2.Reason)
			}
		})
	}
}
