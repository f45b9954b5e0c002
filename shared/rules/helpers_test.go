package rules

import (
	"os"
	"testing"

	"github.com/omnibridge/omnibridge/shared/config"
)

// catalog is the status catalog every test document uses; it mirrors the statuses in
// ../../../shared/reference/salesforce-user-presence-statuses.json.
var catalog = config.StatusCatalog{
	Connect: []config.ConnectStatus{
		{Name: "Available", Type: "ROUTABLE"},
		{Name: "Lunch", Type: "CUSTOM"},
		{Name: "Break", Type: "CUSTOM"},
		{Name: "Training", Type: "CUSTOM"},
		{Name: "Offline", Type: "OFFLINE"},
	},
	Salesforce: []config.SalesforceStatus{
		{ID: "0", DeveloperName: "Offline", Label: "Offline", IsOffline: true},
		{ID: "0N5xx0000004CSO", DeveloperName: "Available", Label: "Available", HasChannels: true},
		{ID: "0N5xx0000004D56", DeveloperName: "Away", Label: "Away"},
		{ID: "0N5xx0000004D3U", DeveloperName: "Busy", Label: "Busy"},
	},
}

func document(rs []config.Rule, ms ...config.StatusMapping) config.Document {
	return config.Document{
		SchemaVersion:  config.SchemaVersion,
		Rules:          rs,
		StatusMappings: ms,
		StatusCatalog:  catalog,
		Settings:       config.Defaults(),
	}
}

func op(name string) config.Operand { return config.Operand{Operand: name} }

func val(v string) config.Operand {
	l := config.Literal(v)
	return config.Operand{Value: &l}
}

func crit(l config.Operand, cmp string, r config.Operand) config.Criterion {
	return config.Criterion{Left: l, Comparator: cmp, Right: r}
}

// rl builds an enabled rule.
func rl(id string, priority int, event, dest, target string, cs ...config.Criterion) config.Rule {
	return config.Rule{
		ID: id, Name: id, Enabled: true, Priority: priority, SourceEvent: event,
		Criteria: cs, Destination: dest, TargetState: target,
	}
}

// stateIs is the most common criterion: the event's new state equals s.
func stateIs(event, s string) config.Criterion {
	name := "connect.newState"
	if event != string(EventConnectAgentStateChanged) {
		name = "salesforce.newState"
	}
	return crit(op(name), "eq", val(s))
}

// c2s and s2c build the two common rule shapes: Connect state → Salesforce and back.
func c2s(id string, priority int, from, to string) config.Rule {
	e := string(EventConnectAgentStateChanged)
	return rl(id, priority, e, "salesforce", to, stateIs(e, from))
}

func s2c(id string, priority int, from, to string) config.Rule {
	e := string(EventSalesforceAgentStateChanged)
	return rl(id, priority, e, "connect", to, stateIs(e, from))
}

func pair(sf, conn string, toConnect, toSalesforce bool) config.StatusMapping {
	return config.StatusMapping{SalesforceStatus: sf, ConnectStatus: conn, ToConnect: toConnect, ToSalesforce: toSalesforce}
}

func mustCompile(t testing.TB, doc config.Document) *Set {
	t.Helper()
	s, problems := Compile(doc)
	if len(problems) > 0 {
		t.Fatalf("Compile: %v", problems)
	}
	return s
}

func loadDoc(t testing.TB, path string) config.Document {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := config.Parse(b)
	if err != nil {
		t.Fatalf("Parse %s: %v", path, err)
	}
	return doc
}
