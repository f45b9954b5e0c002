package rules

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/omnibridge/omnibridge/shared/config"
)

// decided evaluates f and returns the single outcome with a compact description.
func decided(t *testing.T, s *Set, f Facts) (Outcome, Evaluation) {
	t.Helper()
	e := s.Evaluate(f)
	if len(e.Outcomes) != 1 {
		t.Fatalf("got %d outcomes, want 1", len(e.Outcomes))
	}
	return e.Outcomes[0], e
}

func TestEveryOperand(t *testing.T) {
	const ce, se, lo, wa, wl = EventConnectAgentStateChanged, EventSalesforceAgentStateChanged, EventSalesforceAgentLogout,
		EventSalesforceWorkAccepted, EventSalesforceWorkloadChanged
	workload := Facts{Event: wl, PreviousWorkload: Num(1), NewWorkload: Num(3), ConfiguredCapacity: Num(4)}
	tests := []struct {
		operand  Operand
		cmp      string
		value    string
		match    Facts // the criterion holds
		noMatch  Facts // the criterion is false
		absentOK bool  // the operand can be absent from an event of its kind
	}{
		{OperandConnectNewState, "eq", "Busy", Facts{Event: ce, ConnectNewState: "Busy"}, Facts{Event: ce, ConnectNewState: "Available"}, true},
		{OperandConnectOldState, "eq", "AfterCallWork", Facts{Event: ce, ConnectOldState: "AfterCallWork"}, Facts{Event: ce, ConnectOldState: "Busy"}, true},
		{OperandConnectNewStatus, "eq", "Available", Facts{Event: ce, ConnectNewStatus: "Available"}, Facts{Event: ce, ConnectNewStatus: "Lunch"}, true},
		{OperandConnectOldStatus, "ne", "Lunch", Facts{Event: ce, ConnectOldStatus: "Available"}, Facts{Event: ce, ConnectOldStatus: "Lunch"}, true},
		{OperandSalesforceNewState, "eq", "Away", Facts{Event: se, SalesforceNewState: "Away"}, Facts{Event: se, SalesforceNewState: "Busy"}, true},
		{OperandSalesforceNewState, "eq", "Offline", Facts{Event: lo, SalesforceNewState: "Offline"}, Facts{Event: lo, SalesforceNewState: "Away"}, true},
		{OperandSalesforceChannel, "eq", "Phone", Facts{Event: wa, SalesforceChannel: "Phone"}, Facts{Event: wa, SalesforceChannel: "Chat"}, true},
		{OperandSalesforcePreviousWorkload, "le", "1", workload, Facts{Event: wl, PreviousWorkload: Num(2)}, true},
		{OperandSalesforceNewWorkload, "ge", "3", workload, Facts{Event: wl, NewWorkload: Num(2)}, true},
		{OperandSalesforcePreviousWorkloadPct, "eq", "25", workload, Facts{Event: wl, PreviousWorkload: Num(2), ConfiguredCapacity: Num(4)}, true},
		{OperandSalesforceNewWorkloadPct, "gt", "74.5", workload, Facts{Event: wl, NewWorkload: Num(1), ConfiguredCapacity: Num(4)}, true},
		{OperandSalesforceConfiguredCapacity, "lt", "5", workload, Facts{Event: wl, ConfiguredCapacity: Num(5)}, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %s %s", tt.operand, tt.cmp, tt.value), func(t *testing.T) {
			kind := tt.match.Event
			dest := kind.System().Other()
			target := "Away"
			if dest == Connect {
				target = "Lunch"
			}
			set := mustCompile(t, document([]config.Rule{rl("r", 1, string(kind), string(dest), target, crit(op(string(tt.operand)), tt.cmp, val(tt.value)))}))
			if o, _ := decided(t, set, tt.match); o.Source != SourceRule {
				t.Errorf("match: got %s (%s)", o.Source, o.Reason)
			}
			if o, e := decided(t, set, tt.noMatch); o.Source == SourceRule {
				t.Errorf("no match: rule matched (%s)", e.Trace[0].Detail())
			}
			if o, e := decided(t, set, Facts{Event: kind}); o.Source == SourceRule {
				t.Errorf("absent operand matched (%s)", e.Trace[0].Detail())
			} else if !strings.Contains(e.Trace[0].Detail(), "absent") {
				t.Errorf("absent not explained: %s", e.Trace[0].Detail())
			}
		})
	}
}

func TestWorkloadPctNeedsCapacity(t *testing.T) {
	set := mustCompile(t, document([]config.Rule{
		rl("r", 1, "salesforce.workloadChanged", "connect", "Break", crit(op("salesforce.newWorkloadPct"), "ge", val("0"))),
	}))
	for name, f := range map[string]Facts{
		"no capacity":   {NewWorkload: Num(1)},
		"zero capacity": {NewWorkload: Num(1), ConfiguredCapacity: Num(0)},
		"no workload":   {ConfiguredCapacity: Num(4)},
	} {
		t.Run(name, func(t *testing.T) {
			f.Event = EventSalesforceWorkloadChanged
			if o, _ := decided(t, set, f); o.Source == SourceRule {
				t.Error("percentage should be absent")
			}
		})
	}
}

func TestEveryComparator(t *testing.T) {
	tests := []struct {
		cmp   string
		value string
		want  map[float64]bool // new workload → holds
	}{
		{"eq", "2", map[float64]bool{1: false, 2: true, 3: false}},
		{"ne", "2", map[float64]bool{1: true, 2: false, 3: true}},
		{"gt", "2", map[float64]bool{1: false, 2: false, 3: true}},
		{"ge", "2", map[float64]bool{1: false, 2: true, 3: true}},
		{"lt", "2", map[float64]bool{1: true, 2: false, 3: false}},
		{"le", "2", map[float64]bool{1: true, 2: true, 3: false}},
	}
	for _, tt := range tests {
		set := mustCompile(t, document([]config.Rule{
			rl("r", 1, "salesforce.workloadChanged", "connect", "Break", crit(op("salesforce.newWorkload"), tt.cmp, val(tt.value))),
		}))
		for n, want := range tt.want {
			t.Run(fmt.Sprintf("%v %s %s", n, tt.cmp, tt.value), func(t *testing.T) {
				o, _ := decided(t, set, Facts{Event: EventSalesforceWorkloadChanged, NewWorkload: Num(n)})
				if got := o.Source == SourceRule; got != want {
					t.Errorf("holds = %v, want %v", got, want)
				}
			})
		}
	}
	for _, tt := range []struct {
		cmp, state string
		want       bool
	}{
		{"eq", "Lunch", true}, {"eq", "lunch", false}, {"eq", "Lunch ", false},
		{"ne", "Lunch", false}, {"ne", "Break", true},
	} {
		t.Run(fmt.Sprintf("state %s %q", tt.cmp, tt.state), func(t *testing.T) {
			set := mustCompile(t, document([]config.Rule{rl("r", 1, "connect.agentStateChanged", "salesforce", "Away",
				crit(op("connect.newState"), tt.cmp, val("Lunch")))}))
			o, _ := decided(t, set, Facts{Event: EventConnectAgentStateChanged, ConnectNewState: tt.state})
			if got := o.Source == SourceRule; got != tt.want {
				t.Errorf("holds = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("operand against operand", func(t *testing.T) {
		set := mustCompile(t, document([]config.Rule{rl("r", 1, "salesforce.workloadChanged", "connect", "Break",
			crit(op("salesforce.newWorkload"), "ge", op("salesforce.configuredCapacity")))}))
		for n, want := range map[float64]bool{3: false, 4: true, 5: true} {
			o, _ := decided(t, set, Facts{Event: EventSalesforceWorkloadChanged, NewWorkload: Num(n), ConfiguredCapacity: Num(4)})
			if got := o.Source == SourceRule; got != want {
				t.Errorf("%v ≥ 4: holds = %v, want %v", n, got, want)
			}
		}
	})
	t.Run("numeric literal compared to a state is a string", func(t *testing.T) {
		set := mustCompile(t, document([]config.Rule{rl("r", 1, "salesforce.workAccepted", "connect", "Break",
			crit(op("salesforce.channel"), "eq", val("80")))}))
		o, _ := decided(t, set, Facts{Event: EventSalesforceWorkAccepted, SalesforceChannel: "80"})
		if o.Source != SourceRule {
			t.Error(`"80" channel should match the literal 80`)
		}
	})
}

func TestEverySourceEvent(t *testing.T) {
	var rs []config.Rule
	facts := map[EventKind]Facts{
		EventConnectAgentStateChanged:    {ConnectNewState: "Lunch"},
		EventSalesforceAgentStateChanged: {SalesforceNewState: "Away"},
		EventSalesforceAgentLogout:       {SalesforceNewState: "Offline"},
		EventSalesforceWorkAccepted:      {SalesforceChannel: "Phone"},
		EventSalesforceWorkloadChanged:   {NewWorkload: Num(1)},
	}
	criteria := map[EventKind]config.Criterion{
		EventConnectAgentStateChanged:    crit(op("connect.newState"), "eq", val("Lunch")),
		EventSalesforceAgentStateChanged: crit(op("salesforce.newState"), "eq", val("Away")),
		EventSalesforceAgentLogout:       crit(op("salesforce.newState"), "eq", val("Offline")),
		EventSalesforceWorkAccepted:      crit(op("salesforce.channel"), "eq", val("Phone")),
		EventSalesforceWorkloadChanged:   crit(op("salesforce.newWorkload"), "ge", val("1")),
	}
	for _, k := range EventKinds() {
		dest, target := "connect", "Training"
		if k.System() == Connect {
			dest, target = "salesforce", "Busy"
		}
		rs = append(rs, rl("on-"+string(k), 1, string(k), dest, target, criteria[k]))
	}
	set := mustCompile(t, document(rs))
	for _, k := range EventKinds() {
		t.Run(string(k), func(t *testing.T) {
			f := facts[k]
			f.Event = k
			o, e := decided(t, set, f)
			if o.Source != SourceRule || o.RuleID != "on-"+string(k) || o.Destination != k.System().Other() {
				t.Errorf("got %+v", o)
			}
			if len(e.Trace) != 1 {
				t.Errorf("trace should hold only the rules for %s, got %d steps", k, len(e.Trace))
			}
		})
	}
	t.Run("unknown event", func(t *testing.T) {
		e := set.Evaluate(Facts{Event: "connect.other"})
		if len(e.Outcomes) != 0 || len(e.Trace) != 0 {
			t.Errorf("got %+v", e)
		}
	})
}

func TestMatchAllAny(t *testing.T) {
	cs := []config.Criterion{
		crit(op("connect.newState"), "eq", val("Available")),
		crit(op("connect.oldState"), "eq", val("AfterCallWork")),
	}
	all := rl("r", 1, "connect.agentStateChanged", "salesforce", "Available", cs...)
	anyRule := all
	anyRule.Match = "any"
	tests := []struct {
		name           string
		newS, oldS     string
		wantAll, wantA bool
		failIdx        int // first false criterion under all
	}{
		{"both hold", "Available", "AfterCallWork", true, true, -1},
		{"first holds", "Available", "Lunch", false, true, 1},
		{"second holds", "Lunch", "AfterCallWork", false, true, 0},
		{"neither holds", "Lunch", "Break", false, false, 0},
	}
	setAll, setAny := mustCompile(t, document([]config.Rule{all})), mustCompile(t, document([]config.Rule{anyRule}))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Facts{Event: EventConnectAgentStateChanged, ConnectNewState: tt.newS, ConnectOldState: tt.oldS}
			o, e := decided(t, setAll, f)
			if (o.Source == SourceRule) != tt.wantAll {
				t.Errorf("all: got %s", o.Source)
			}
			if !tt.wantAll && e.Trace[0].Criterion != tt.failIdx {
				t.Errorf("all: failing criterion %d, want %d (%s)", e.Trace[0].Criterion, tt.failIdx, e.Trace[0].Detail())
			}
			o, e = decided(t, setAny, f)
			if (o.Source == SourceRule) != tt.wantA {
				t.Errorf("any: got %s", o.Source)
			}
			if !tt.wantA && e.Trace[0].Detail() != "none of the 2 criteria holds" {
				t.Errorf("any: detail %q", e.Trace[0].Detail())
			}
		})
	}
}

func TestPriorityOrder(t *testing.T) {
	disabled := c2s("a-disabled", 1, "Lunch", "Offline")
	disabled.Enabled = false
	rs := []config.Rule{
		c2s("z-low", 30, "Lunch", "Busy"),
		c2s("b-tie", 20, "Lunch", "Away"),
		disabled,
		c2s("a-tie", 20, "Lunch", "Available"), // same priority as b-tie: id decides
		c2s("other", 5, "Break", "Busy"),
	}
	set := mustCompile(t, document(rs))
	o, e := decided(t, set, Facts{Event: EventConnectAgentStateChanged, ConnectNewState: "Lunch"})
	if o.RuleID != "a-tie" || o.Target.SalesforceStatus != "Available" {
		t.Fatalf("winner %s → %s, want a-tie → Available", o.RuleID, o.Target)
	}
	type step struct {
		id     string
		result StepResult
	}
	wantTrace := []step{
		{"a-disabled", StepDisabled},
		{"other", StepCriteriaFalse},
		{"a-tie", StepMatched},
		{"b-tie", StepShadowed},
		{"z-low", StepShadowed},
	}
	if len(e.Trace) != len(wantTrace) {
		t.Fatalf("trace has %d steps", len(e.Trace))
	}
	for i, w := range wantTrace {
		if e.Trace[i].RuleID != w.id || e.Trace[i].Result != w.result {
			t.Errorf("step %d = %s %s, want %s %s", i, e.Trace[i].RuleID, e.Trace[i].Result, w.id, w.result)
		}
	}
	if got := e.Trace[3].Detail(); got != `Salesforce already decided by rule "a-tie"` {
		t.Errorf("shadowed detail %q", got)
	}
	// Per destination: a Salesforce event's rules decide Connect independently of the above.
	set = mustCompile(t, document(append(rs, s2c("sf", 1, "Away", "Lunch"))))
	if o, _ := decided(t, set, Facts{Event: EventSalesforceAgentStateChanged, SalesforceNewState: "Away"}); o.RuleID != "sf" || o.Destination != Connect {
		t.Errorf("Salesforce event: got %+v", o)
	}
}

func TestMappingFallback(t *testing.T) {
	ms := []config.StatusMapping{
		pair("Available", "Available", true, true),
		pair("Away", "Lunch", true, true),
		pair("Away", "Training", false, true), // many Connect states may map to one Salesforce status
		pair("Busy", "Busy", false, true),     // a system state, toward Salesforce only
		pair("Offline", "Offline", true, false),
	}
	set := mustCompile(t, document([]config.Rule{c2s("lunch", 1, "Lunch", "Busy")}, ms...))
	tests := []struct {
		name   string
		f      Facts
		source Source
		target string
		reason string
	}{
		{"a rule beats the mapping", Facts{Event: EventConnectAgentStateChanged, ConnectNewState: "Lunch"}, SourceRule, "Salesforce Busy", `rule "lunch"`},
		{"Connect to Salesforce", Facts{Event: EventConnectAgentStateChanged, ConnectNewState: "Training"}, SourceMapping, "Salesforce Away", "$.statusMappings[2]"},
		{"effective state is the key", Facts{Event: EventConnectAgentStateChanged, ConnectNewState: "Busy", ConnectNewStatus: "Available"}, SourceMapping, "Salesforce Busy", "Connect Busy"},
		{"Salesforce to Connect", Facts{Event: EventSalesforceAgentStateChanged, SalesforceNewState: "Away"}, SourceMapping, "Connect Lunch", "$.statusMappings[1]"},
		{"logout maps Offline", Facts{Event: EventSalesforceAgentLogout, SalesforceNewState: "Offline"}, SourceMapping, "Connect Offline", "$.statusMappings[4]"},
		{"toConnect only is one way", Facts{Event: EventConnectAgentStateChanged, ConnectNewState: "Offline"}, SourceNone, "nothing", `no mapping for Connect "Offline" toward Salesforce`},
		{"toSalesforce only is one way", Facts{Event: EventSalesforceAgentStateChanged, SalesforceNewState: "Busy"}, SourceNone, "nothing", `no mapping for Salesforce "Busy"`},
		{"no rule and no mapping", Facts{Event: EventConnectAgentStateChanged, ConnectNewState: "Break"}, SourceNone, "nothing", "no rule matched and no mapping"},
		{"no state", Facts{Event: EventConnectAgentStateChanged}, SourceNone, "nothing", "no new state"},
		{"work events have no mapping", Facts{Event: EventSalesforceWorkAccepted, SalesforceChannel: "Phone"}, SourceNone, "nothing", "does not apply"},
		{"workload events have no mapping", Facts{Event: EventSalesforceWorkloadChanged, NewWorkload: Num(1)}, SourceNone, "nothing", "does not apply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, _ := decided(t, set, tt.f)
			if o.Source != tt.source || o.Target.String() != tt.target || !strings.Contains(o.Reason, tt.reason) {
				t.Errorf("got %s %s %q; want %s %s …%s…", o.Source, o.Target, o.Reason, tt.source, tt.target, tt.reason)
			}
			if o.Source == SourceMapping && o.WhileOnContact != "" {
				t.Error("the mapping must leave the policy to the settings default")
			}
		})
	}
}

func TestTargetsResolveToCatalog(t *testing.T) {
	doc := document([]config.Rule{c2s("off", 1, "Offline", "Offline"), c2s("away", 2, "Lunch", "Away")})
	doc.StatusCatalog.Salesforce = doc.StatusCatalog.Salesforce[1:] // no explicit Offline entry
	set := mustCompile(t, doc)
	o, _ := decided(t, set, Facts{Event: EventConnectAgentStateChanged, ConnectNewState: "Offline"})
	want := Target{Destination: Salesforce, SalesforceStatusID: "0", SalesforceStatus: "Offline", SalesforceOffline: true}
	if o.Target != want {
		t.Errorf("Offline = %+v, want %+v", o.Target, want)
	}
	o, _ = decided(t, set, Facts{Event: EventConnectAgentStateChanged, ConnectNewState: "Lunch"})
	if o.Target.SalesforceStatusID != "0N5xx0000004D56" || o.Target.SalesforceOffline {
		t.Errorf("Away = %+v", o.Target)
	}
}

func TestStepJSON(t *testing.T) {
	set := mustCompile(t, document([]config.Rule{c2s("r", 1, "Lunch", "Away")}))
	e := set.Evaluate(Facts{Event: EventConnectAgentStateChanged, ConnectNewState: "Break"})
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{`"result":"criteria-false"`, `"criterion":0`, `"detail":"criteria[0] connect.newState eq \"Lunch\" is false (connect.newState is \"Break\")"`} {
		if !strings.Contains(string(b), frag) {
			t.Errorf("JSON lacks %s:\n%s", frag, b)
		}
	}
}

func TestStepJSONRoundTrip(t *testing.T) {
	set := mustCompile(t, document([]config.Rule{c2s("r", 1, "Lunch", "Away")}))
	step := set.Evaluate(Facts{Event: EventConnectAgentStateChanged, ConnectNewState: "Break"}).Trace[0]
	b, err := json.Marshal(step)
	if err != nil {
		t.Fatal(err)
	}
	var back Step
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Detail() != step.Detail() || back.RuleID != "r" || back.Result != StepCriteriaFalse || back.Criterion != 0 {
		t.Errorf("read back %+v (%s)", back, back.Detail())
	}
}

func TestNilSet(t *testing.T) {
	var s *Set
	o, e := decided(t, s, Facts{Event: EventConnectAgentStateChanged, ConnectNewState: "Lunch"})
	if o.Source != SourceNone || len(e.Trace) != 0 || s.Warnings() != nil {
		t.Errorf("nil set decided %+v", o)
	}
}
