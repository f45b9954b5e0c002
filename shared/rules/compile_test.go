package rules

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/config"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// want is an expected problem: its exact path and a fragment of its message.
type want struct{ path, msg string }

func checkProblems(t *testing.T, got []apperr.Problem, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(wants), render(got))
	}
	for i, w := range wants {
		if got[i].Path != w.path || !strings.Contains(got[i].Message, w.msg) {
			t.Errorf("problem %d = %s: %s\nwant %s: …%s…", i, got[i].Path, got[i].Message, w.path, w.msg)
		}
	}
}

func render(ps []apperr.Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("  " + p.Path + ": " + p.Message + "\n")
	}
	return b.String()
}

func TestCompileProblems(t *testing.T) {
	const ce, se, wl, wa = "connect.agentStateChanged", "salesforce.agentStateChanged", "salesforce.workloadChanged", "salesforce.workAccepted"
	tests := []struct {
		name  string
		doc   config.Document
		wants []want
	}{
		{"unknown event",
			document([]config.Rule{rl("r", 1, "connect.stateChanged", "salesforce", "Away", stateIs(ce, "Lunch"))}),
			[]want{{"$.rules[0].sourceEvent", `unknown event "connect.stateChanged"`}}},
		{"unknown operand",
			document([]config.Rule{rl("r", 1, ce, "salesforce", "Away", crit(op("connect.newStat"), "eq", val("Lunch")))}),
			[]want{{"$.rules[0].criteria[0].left.operand", `unknown operand "connect.newStat"`}}},
		{"unknown operand on the right",
			document([]config.Rule{rl("r", 1, ce, "salesforce", "Away", crit(val("Lunch"), "eq", op("agent.state")))}),
			[]want{{"$.rules[0].criteria[0].right.operand", `unknown operand "agent.state"`}}},
		{"operand not supplied by the event",
			document([]config.Rule{rl("r", 1, ce, "salesforce", "Away", crit(op("salesforce.newState"), "eq", val("Away")))}),
			[]want{{"$.rules[0].criteria[0].left.operand", `not supplied by "connect.agentStateChanged" events`}}},
		{"unknown comparator",
			document([]config.Rule{rl("r", 1, ce, "salesforce", "Away", crit(op("connect.newState"), "==", val("Lunch")))}),
			[]want{{"$.rules[0].criteria[0].comparator", `unknown comparator "=="`}}},
		{"comparator names are exact",
			document([]config.Rule{rl("r", 1, ce, "salesforce", "Away", crit(op("connect.newState"), "EQ", val("Lunch")))}),
			[]want{{"$.rules[0].criteria[0].comparator", `unknown comparator "EQ"`}}},
		{"numeric comparator on a state",
			document([]config.Rule{rl("r", 1, ce, "salesforce", "Away", crit(op("connect.newState"), "gt", val("Lunch")))}),
			[]want{{"$.rules[0].criteria[0].comparator", `"gt" needs numeric operands; connect.newState is a state`}}},
		{"numeric comparator on a channel",
			document([]config.Rule{rl("r", 1, wa, "connect", "Break", crit(val("Phone"), "le", op("salesforce.channel")))}),
			[]want{{"$.rules[0].criteria[0].comparator", `"le" needs numeric operands; salesforce.channel is a state`}}},
		{"non-numeric value against a number",
			document([]config.Rule{rl("r", 1, wl, "connect", "Break", crit(op("salesforce.newWorkload"), "ge", val("high")))}),
			[]want{{"$.rules[0].criteria[0].right.value", `must be a number to compare with salesforce.newWorkload, not "high"`}}},
		{"non-numeric value on the left",
			document([]config.Rule{rl("r", 1, wl, "connect", "Break", crit(val("NaN"), "lt", op("salesforce.newWorkloadPct")))}),
			[]want{{"$.rules[0].criteria[0].left.value", `must be a number`}}},
		{"operands of different types",
			document([]config.Rule{rl("r", 1, wl, "connect", "Break", crit(op("salesforce.newWorkload"), "eq", op("salesforce.channel")))}),
			[]want{
				{"$.rules[0].criteria[0].right.operand", `salesforce.channel is not supplied by "salesforce.workloadChanged"`},
				{"$.rules[0].criteria[0]", `compares salesforce.newWorkload (number) with salesforce.channel (state)`},
			}},
		{"two static values",
			document([]config.Rule{rl("r", 1, ce, "salesforce", "Away", crit(val("1"), "eq", val("1")))}),
			[]want{{"$.rules[0].criteria[0]", "compares two static values"}}},
		{"Connect rule targeting Connect",
			document([]config.Rule{rl("r", 1, ce, "connect", "Lunch", stateIs(ce, "Available"))}),
			[]want{{"$.rules[0].destination", `must be "salesforce"`}}},
		{"Salesforce rule targeting Salesforce",
			document([]config.Rule{rl("r", 1, "salesforce.agentLogout", "salesforce", "Away", stateIs(se, "Offline"))}),
			[]want{{"$.rules[0].destination", `must be "connect"`}}},
		{"Connect target not in catalog",
			document([]config.Rule{rl("r", 1, se, "connect", "Lnch", stateIs(se, "Away"))}),
			[]want{{"$.rules[0].targetState", `"Lnch" is not a Connect status in $.statusCatalog.connect`}}},
		{"Connect target in the wrong case",
			document([]config.Rule{rl("r", 1, se, "connect", "lunch", stateIs(se, "Away"))}),
			[]want{{"$.rules[0].targetState", `(did you mean "Lunch"?)`}}},
		{"Salesforce target not in catalog",
			document([]config.Rule{rl("r", 1, ce, "salesforce", "Gone", stateIs(ce, "Lunch"))}),
			[]want{{"$.rules[0].targetState", `"Gone" is not a Salesforce presence status DeveloperName`}}},
		{"mapping with unknown Salesforce status",
			document(nil, pair("Gone", "Lunch", true, true)),
			[]want{{"$.statusMappings[0].salesforceStatus", `"Gone" is not a Salesforce presence status`}}},
		{"mapping toward Connect with a system state",
			document(nil, pair("Busy", "Busy", true, true)),
			[]want{{"$.statusMappings[0].connectStatus", `"Busy" is a Connect system state`}}},
		{"mapping toward Salesforce with an unknown Connect state",
			document(nil, pair("Busy", "OnCall", false, true)),
			[]want{{"$.statusMappings[0].connectStatus", `"OnCall" is neither a Connect status`}}},
		{"Connect state mapped twice toward Salesforce",
			document(nil, pair("Away", "Lunch", false, true), pair("Busy", "Lunch", false, true)),
			[]want{{"$.statusMappings[1].connectStatus", `Connect "Lunch" already maps to Salesforce in $.statusMappings[0]`}}},
		{"Salesforce state mapped twice toward Connect",
			document(nil, pair("Away", "Lunch", true, false), pair("Away", "Break", true, false)),
			[]want{{"$.statusMappings[1].salesforceStatus", `Salesforce "Away" already maps to Connect in $.statusMappings[0]`}}},
		{"duplicate rule id reported once, by config",
			document([]config.Rule{c2s("r", 1, "Lunch", "Away"), c2s("r", 2, "Break", "Busy")}),
			[]want{{"$.rules[1].id", `duplicate rule id "r"`}}},
		{"structural problems are not repeated as semantic ones",
			document([]config.Rule{rl("r", 1, "", "elsewhere", "", crit(op("connect.newState"), "", val("Lunch")))}),
			[]want{
				{"$.rules[0].sourceEvent", "is required"},
				{"$.rules[0].criteria[0].comparator", "is required"},
				{"$.rules[0].destination", "must be one of"},
				{"$.rules[0].targetState", "is required"},
			}},
	}
	for _, st := range SystemStates() {
		tests = append(tests, struct {
			name  string
			doc   config.Document
			wants []want
		}{"system state " + st + " as target",
			document([]config.Rule{rl("r", 1, se, "connect", st, stateIs(se, "Busy"))}),
			[]want{{"$.rules[0].targetState", `"` + st + `" is a Connect system state`}}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, problems := Compile(tt.doc)
			if set != nil {
				t.Error("Compile returned a Set despite problems")
			}
			checkProblems(t, problems, tt.wants)
		})
	}
}

func TestCompileAcceptsValidDocuments(t *testing.T) {
	tests := []struct {
		name string
		doc  config.Document
	}{
		{"empty", document(nil)},
		{"system states as operands", document([]config.Rule{
			c2s("busy", 1, "Busy", "Busy"),
			rl("acw", 2, "connect.agentStateChanged", "salesforce", "Available",
				crit(op("connect.oldState"), "eq", val("AfterCallWork")), crit(op("connect.newStatus"), "eq", val("Available"))),
		})},
		{"numbers as JSON numbers or strings", document([]config.Rule{
			rl("w", 1, "salesforce.workloadChanged", "connect", "Break",
				crit(op("salesforce.newWorkloadPct"), "ge", val("80")), crit(val(" 2.5 "), "lt", op("salesforce.configuredCapacity"))),
		})},
		{"operand compared with operand", document([]config.Rule{
			rl("w", 1, "salesforce.workloadChanged", "connect", "Break",
				crit(op("salesforce.newWorkload"), "ge", op("salesforce.configuredCapacity"))),
		})},
		{"Offline without a catalog entry", func() config.Document {
			d := document([]config.Rule{c2s("off", 1, "Offline", "Offline")})
			d.StatusCatalog.Salesforce = d.StatusCatalog.Salesforce[1:]
			return d
		}()},
		{"system state mapped toward Salesforce", document(nil, pair("Busy", "Busy", false, true))},
		{"the CTI Adapter Lunch example", loadDoc(t, "testdata/lunch.json")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if set := mustCompile(t, tt.doc); set == nil {
				t.Fatal("nil Set without problems")
			}
		})
	}
}

// TestCompileGolden checks that one document with many mistakes gets every problem at once.
func TestCompileGolden(t *testing.T) {
	b, err := os.ReadFile("testdata/invalid.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc config.Document
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	_, problems := Compile(doc)
	got, _ := json.MarshalIndent(problems, "", "  ")
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile("testdata/invalid.golden", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wantB, err := os.ReadFile("testdata/invalid.golden")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, wantB) {
		t.Errorf("problems differ from testdata/invalid.golden (rerun with -update to accept):\n%s", got)
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name  string
		doc   config.Document
		wants []want
	}{
		{"unknown Connect state literal",
			document([]config.Rule{c2s("r", 1, "Lnch", "Away")}),
			[]want{{"$.rules[0].criteria[0].right.value", `"Lnch" is not a known value of connect.newState`}}},
		{"system state compared with the raw status",
			document([]config.Rule{rl("r", 1, "connect.agentStateChanged", "salesforce", "Busy", crit(op("connect.newStatus"), "eq", val("Busy")))}),
			[]want{{"$.rules[0].criteria[0].right.value", `"Busy" is not a known value of connect.newStatus`}}},
		{"unknown Salesforce state literal with a hint",
			document([]config.Rule{rl("r", 1, "salesforce.agentStateChanged", "connect", "Lunch", crit(val("away"), "eq", op("salesforce.newState")))}),
			[]want{{"$.rules[0].criteria[0].left.value", `(did you mean "Away"?)`}}},
		{"while-on-contact on a Salesforce rule",
			document([]config.Rule{func() config.Rule { r := c2s("r", 1, "Lunch", "Away"); r.WhileOnContact = "ignore"; return r }()}),
			[]want{{"$.rules[0].whileOnContact", "has no effect"}}},
		{"channels are not checked", document([]config.Rule{
			rl("r", 1, "salesforce.workAccepted", "connect", "Break", crit(op("salesforce.channel"), "eq", val("Phone")))}),
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, mustCompile(t, tt.doc).Warnings(), tt.wants)
		})
	}
}

func TestSalesforceStatusLookup(t *testing.T) {
	doc := document(nil)
	doc.StatusCatalog.Salesforce[0].DeveloperName = "LoggedOut" // id "0" under another name
	set := mustCompile(t, doc)
	for _, s := range []*Set{set, nil} {
		if st, ok := s.SalesforceStatusByID("0"); !ok || st.DeveloperName != Offline || !st.IsOffline {
			t.Errorf("ByID(0) = %+v, %v; want Offline", st, ok)
		}
		if st, ok := s.SalesforceStatusByName(Offline); !ok || st.ID != "0" {
			t.Errorf("ByName(Offline) = %+v, %v", st, ok)
		}
	}
	if st, ok := set.SalesforceStatusByName("LoggedOut"); !ok || st.DeveloperName != Offline {
		t.Errorf("the catalog's own name for id 0 should resolve to Offline, got %+v, %v", st, ok)
	}
	if st, ok := set.SalesforceStatusByID("0N5xx0000004D56"); !ok || st.DeveloperName != "Away" {
		t.Errorf("ByID(Away id) = %+v, %v", st, ok)
	}
	if _, ok := set.SalesforceStatusByName("Gone"); ok {
		t.Error("unknown name resolved")
	}
}

func TestOperandMetadata(t *testing.T) {
	ops := Operands()
	if len(ops) != 11 {
		t.Fatalf("got %d operands", len(ops))
	}
	for _, o := range ops {
		t.Run(string(o.Name), func(t *testing.T) {
			if o.Type != TypeState && o.Type != TypeNumber {
				t.Errorf("type %q", o.Type)
			}
			if len(o.Events) == 0 || o.Description == "" {
				t.Errorf("incomplete: %+v", o)
			}
			got, ok := LookupOperand(string(o.Name))
			if !ok || got.Name != o.Name {
				t.Errorf("LookupOperand(%q) = %+v, %v", o.Name, got, ok)
			}
		})
	}
	if _, ok := LookupOperand("static"); ok {
		t.Error("unknown operand found")
	}
	for _, k := range EventKinds() {
		if k.System() == "" || !k.Valid() {
			t.Errorf("event %q has no system", k)
		}
	}
	if EventKind("x").Valid() || EventKind("x").System() != "" {
		t.Error("unknown event kind accepted")
	}
}
