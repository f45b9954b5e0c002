package rules

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/omnibridge/omnibridge/shared/config"
)

func TestCycles(t *testing.T) {
	const ce = "connect.agentStateChanged"
	disabled := func(r config.Rule) config.Rule { r.Enabled = false; return r }
	tests := []struct {
		name  string
		doc   config.Document
		paths []string // paths warned about, in order; nil for no cycle
		cycle string   // a fragment of the message
	}{
		{"direct: Connect A → SF X → Connect B → SF Y → Connect A",
			document([]config.Rule{
				c2s("c1", 1, "Lunch", "Away"), s2c("s1", 1, "Away", "Break"),
				c2s("c2", 1, "Break", "Busy"), s2c("s2", 1, "Busy", "Lunch"),
			}),
			[]string{"$.rules[2]", "$.rules[3]", "$.rules[0]", "$.rules[1]"},
			`Connect "Break" → Salesforce "Busy" (rule "c2") → Connect "Lunch" (rule "s2") → Salesforce "Away" (rule "c1") → Connect "Break" (rule "s1")`},
		{"longer chain closing after three crossings each way",
			document([]config.Rule{
				c2s("c1", 1, "Lunch", "Away"), s2c("s1", 1, "Away", "Break"),
				c2s("c2", 1, "Break", "Busy"), s2c("s2", 1, "Busy", "Training"),
				c2s("c3", 1, "Training", "Available"), s2c("s3", 1, "Available", "Lunch"),
			}),
			[]string{"$.rules[2]", "$.rules[3]", "$.rules[4]", "$.rules[5]", "$.rules[0]", "$.rules[1]"},
			`(rule "s3") → Salesforce "Away" (rule "c1")`},
		{"acyclic chain", document([]config.Rule{
			c2s("c1", 1, "Lunch", "Away"), s2c("s1", 1, "Away", "Break"),
			c2s("c2", 1, "Break", "Busy"), s2c("s2", 1, "Busy", "Training"),
			c2s("c3", 1, "Training", "Offline"),
		}), nil, ""},
		{"symmetric pairs are fixed points", document([]config.Rule{
			c2s("c1", 1, "Lunch", "Away"), s2c("s1", 1, "Away", "Lunch"),
			c2s("c2", 1, "Available", "Available"), s2c("s2", 1, "Available", "Available"),
		}, pair("Busy", "Break", true, true), pair("Offline", "Offline", true, true)), nil, ""},
		{"a disabled rule breaks the cycle", document([]config.Rule{
			c2s("c1", 1, "Lunch", "Away"), s2c("s1", 1, "Away", "Break"),
			disabled(c2s("c2", 1, "Break", "Busy")), s2c("s2", 1, "Busy", "Lunch"),
		}), nil, ""},
		{"cycle through mapping rows",
			document([]config.Rule{c2s("c1", 1, "Lunch", "Away"), c2s("c2", 1, "Break", "Busy")},
				pair("Away", "Break", true, false), pair("Busy", "Lunch", true, false)),
			[]string{"$.rules[1]", "$.statusMappings[1]", "$.rules[0]", "$.statusMappings[0]"},
			`(mapping $.statusMappings[1])`},
		{"a rule that always matches shadows the mapping", document([]config.Rule{
			c2s("c1", 1, "Lunch", "Away"), c2s("c2", 1, "Break", "Busy"), s2c("s2", 1, "Busy", "Lunch"),
			s2c("s1", 1, "Away", "Lunch"),
		}, pair("Away", "Break", true, false)), nil, ""},
		{"a rule that may not match does not shadow",
			document([]config.Rule{
				rl("c1", 1, ce, "salesforce", "Away", stateIs(ce, "Lunch"), crit(op("connect.oldState"), "eq", val("Break"))),
				s2c("s1", 1, "Away", "Break"), c2s("c2", 1, "Break", "Busy"), s2c("s2", 1, "Busy", "Lunch"),
			}),
			[]string{"$.rules[2]", "$.rules[3]", "$.rules[0]", "$.rules[1]"}, `(rule "c1")`},
		{"a rule without a state criterion matches every state",
			document([]config.Rule{
				rl("any", 1, ce, "salesforce", "Away", crit(op("connect.newStatus"), "ne", val("Training"))),
				s2c("s1", 1, "Away", "Training"), c2s("c2", 1, "Training", "Busy"), s2c("s2", 1, "Busy", "Lunch"),
			}),
			[]string{"$.rules[0]", "$.rules[1]", "$.rules[2]", "$.rules[3]"},
			`Connect "Lunch" → Salesforce "Away" (rule "any") → Connect "Training" (rule "s1")`},
		{"Offline continues through logout rules",
			document([]config.Rule{
				c2s("c1", 1, "Lunch", "Offline"),
				rl("out", 1, "salesforce.agentLogout", "connect", "Break", crit(op("salesforce.newState"), "eq", val("Offline"))),
				c2s("c2", 1, "Break", "Busy"), s2c("s2", 1, "Busy", "Lunch"),
			}),
			[]string{"$.rules[2]", "$.rules[3]", "$.rules[0]", "$.rules[1]"}, `Salesforce "Offline" (rule "c1") → Connect "Break" (rule "out")`},
		{"work events start chains but do not continue them", document([]config.Rule{
			rl("w", 1, "salesforce.workloadChanged", "connect", "Break", crit(op("salesforce.newWorkloadPct"), "ge", val("100"))),
			c2s("c2", 1, "Break", "Busy"), s2c("s2", 1, "Busy", "Lunch"), c2s("c1", 1, "Lunch", "Away"),
		}), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := mustCompile(t, tt.doc).Warnings()
			var paths []string
			for _, w := range ws {
				paths = append(paths, w.Path)
				if !strings.Contains(w.Message, tt.cycle) || !strings.HasPrefix(w.Message, "part of a status cycle: ") {
					t.Errorf("%s: %s\nwant …%s…", w.Path, w.Message, tt.cycle)
				}
			}
			if !slices.Equal(paths, tt.paths) {
				t.Errorf("warned paths %v, want %v\n%s", paths, tt.paths, render(ws))
			}
		})
	}
}

// TestCycleSearchIsBounded builds a dense rule set with a huge number of cycles and checks the
// search stops and says so.
func TestCycleSearchIsBounded(t *testing.T) {
	doc := document(nil)
	var rs []config.Rule
	for i := range 8 {
		doc.StatusCatalog.Connect = append(doc.StatusCatalog.Connect, config.ConnectStatus{Name: fmt.Sprintf("C%d", i), Type: "CUSTOM"})
		doc.StatusCatalog.Salesforce = append(doc.StatusCatalog.Salesforce, config.SalesforceStatus{ID: fmt.Sprintf("id%d", i), DeveloperName: fmt.Sprintf("S%d", i)})
	}
	// Every Connect state may go to every Salesforce state (criteria on the old state are unknown
	// statically, so nothing shadows anything) and each Salesforce state leads to its own Connect
	// state: every cyclic order of Connect states is a cycle.
	for i := range 8 {
		for j := range 8 {
			rs = append(rs, rl(fmt.Sprintf("c%d-%d", i, j), 1, "connect.agentStateChanged", "salesforce", fmt.Sprintf("S%d", j),
				stateIs("connect.agentStateChanged", fmt.Sprintf("C%d", i)), crit(op("connect.oldState"), "eq", val(fmt.Sprintf("C%d", j)))))
		}
		rs = append(rs, s2c(fmt.Sprintf("s%d", i), 1, fmt.Sprintf("S%d", i), fmt.Sprintf("C%d", i)))
	}
	doc.Rules = rs
	ws := mustCompile(t, doc).Warnings()
	if len(ws) == 0 {
		t.Fatal("no warnings")
	}
	last := ws[len(ws)-1]
	if last.Path != "$.rules" || !strings.Contains(last.Message, "cycle search stopped") {
		t.Errorf("last warning = %+v", last)
	}
}
