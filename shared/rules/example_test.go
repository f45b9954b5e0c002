package rules_test

import (
	"fmt"
	"os"

	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/rules"
)

// The package documentation's examples 1 to 3, run against testdata/lunch.json.
func ExampleSet_Evaluate() {
	b, err := os.ReadFile("testdata/lunch.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	doc, err := config.Parse(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	set, problems := rules.Compile(doc)
	if len(problems) > 0 {
		fmt.Println(problems)
		return
	}
	show := func(f rules.Facts) {
		e := set.Evaluate(f)
		for _, s := range e.Trace {
			fmt.Printf("  %s: %s\n", s.RuleID, s.Detail())
		}
		fmt.Printf("  => %s\n", e.Outcomes[0].Reason)
	}
	fmt.Println("Example 1: agent picks Lunch")
	show(rules.Facts{Event: rules.EventConnectAgentStateChanged, ConnectNewState: "Lunch", ConnectNewStatus: "Lunch"})
	fmt.Println("Example 2: on a call, then after-call work")
	show(rules.Facts{Event: rules.EventConnectAgentStateChanged, ConnectNewState: "Busy", ConnectNewStatus: "Available"})
	show(rules.Facts{Event: rules.EventConnectAgentStateChanged, ConnectNewState: "AfterCallWork", ConnectNewStatus: "Available"})
	fmt.Println("Example 3: workload 3 → 4 of 4, then without capacity")
	show(rules.Facts{Event: rules.EventSalesforceWorkloadChanged, PreviousWorkload: rules.Num(3), NewWorkload: rules.Num(4), ConfiguredCapacity: rules.Num(4)})
	show(rules.Facts{Event: rules.EventSalesforceWorkloadChanged, PreviousWorkload: rules.Num(3), NewWorkload: rules.Num(4)})
	// Output:
	// Example 1: agent picks Lunch
	//   lunch-to-away: matched: all criteria hold
	//   available-to-available: Salesforce already decided by rule "lunch-to-away"
	//   => rule "lunch-to-away" → Salesforce Away
	// Example 2: on a call, then after-call work
	//   lunch-to-away: criteria[0] connect.newState eq "Lunch" is false (connect.newState is "Busy")
	//   available-to-available: criteria[0] connect.newState eq "Available" is false (connect.newState is "Busy")
	//   => no rule matched; mapping $.statusMappings[1]: Connect Busy → Salesforce Busy
	//   lunch-to-away: criteria[0] connect.newState eq "Lunch" is false (connect.newState is "AfterCallWork")
	//   available-to-available: criteria[0] connect.newState eq "Available" is false (connect.newState is "AfterCallWork")
	//   => no rule matched and no mapping for Connect "AfterCallWork" toward Salesforce
	// Example 3: workload 3 → 4 of 4, then without capacity
	//   full-load: matched: all criteria hold
	//   => rule "full-load" → Connect Break
	//   full-load: criteria[0] salesforce.newWorkloadPct ge 100 is false (salesforce.newWorkloadPct is absent)
	//   => no rule matched; the status mapping does not apply to salesforce.workloadChanged events
}

// Compile reports every problem at once, each with its JSON path.
func ExampleCompile() {
	doc := config.Document{
		SchemaVersion: config.SchemaVersion,
		Settings:      config.Defaults(),
		StatusCatalog: config.StatusCatalog{Connect: []config.ConnectStatus{{Name: "Available", Type: "ROUTABLE"}}},
		Rules: []config.Rule{{
			ID: "r1", Enabled: true, SourceEvent: "salesforce.agentStateChanged",
			Criteria: []config.Criterion{{
				Left: config.Operand{Operand: "salesforce.newState"}, Comparator: "gt",
				Right: config.Operand{Operand: "salesforce.channel"},
			}},
			Destination: "connect", TargetState: "Busy",
		}},
	}
	_, problems := rules.Compile(doc)
	for _, p := range problems {
		fmt.Printf("%s: %s\n", p.Path, p.Message)
	}
	// Output:
	// $.rules[0].criteria[0].right.operand: salesforce.channel is not supplied by "salesforce.agentStateChanged" events, so the criterion could never be true; they supply salesforce.newState
	// $.rules[0].criteria[0].comparator: "gt" needs numeric operands; salesforce.newState is a state and compares only with "eq" or "ne"
	// $.rules[0].targetState: "Busy" is a Connect system state, derived from the agent's contacts; it can be compared in criteria but not set
}
