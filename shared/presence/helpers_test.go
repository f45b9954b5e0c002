package presence

import (
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/rules"
)

var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// at returns t0 plus sec seconds.
func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

// Salesforce status ids from ../../../shared/reference/salesforce-user-presence-statuses.json.
const (
	idAvailable = "0N5xx0000004CSO"
	idAway      = "0N5xx0000004D56"
	idBusy      = "0N5xx0000004D3U"
)

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
		{ID: idAvailable, DeveloperName: "Available", Label: "Available", HasChannels: true},
		{ID: idAway, DeveloperName: "Away", Label: "Away"},
		{ID: idBusy, DeveloperName: "Busy", Label: "Busy"},
	},
}

func compile(t testing.TB, rs []config.Rule, ms ...config.StatusMapping) *rules.Set {
	t.Helper()
	set, problems := rules.Compile(config.Document{
		SchemaVersion: config.SchemaVersion, Rules: rs, StatusMappings: ms, StatusCatalog: catalog, Settings: config.Defaults(),
	})
	if len(problems) > 0 {
		t.Fatalf("Compile: %v", problems)
	}
	return set
}

func lit(v string) *config.Literal {
	l := config.Literal(v)
	return &l
}

// when builds the criterion "operand eq value".
func when(operand, cmp, value string) config.Criterion {
	return config.Criterion{Left: config.Operand{Operand: operand}, Comparator: cmp, Right: config.Operand{Value: lit(value)}}
}

func rule(id string, event rules.EventKind, dest rules.Destination, target string, cs ...config.Criterion) config.Rule {
	return config.Rule{ID: id, Name: id, Enabled: true, Priority: 10, SourceEvent: string(event), Criteria: cs,
		Destination: string(dest), TargetState: target}
}

// c2s: Connect state from → Salesforce to.
func c2s(id, from, to string) config.Rule {
	return rule(id, rules.EventConnectAgentStateChanged, rules.Salesforce, to, when("connect.newState", "eq", from))
}

// s2c: Salesforce state from → Connect to.
func s2c(id, from, to string) config.Rule {
	return rule(id, rules.EventSalesforceAgentStateChanged, rules.Connect, to, when("salesforce.newState", "eq", from))
}

func withPolicy(r config.Rule, p rules.Policy) config.Rule {
	r.WhileOnContact = string(p)
	return r
}

func pair(sf, conn string, toConnect, toSalesforce bool) config.StatusMapping {
	return config.StatusMapping{SalesforceStatus: sf, ConnectStatus: conn, ToConnect: toConnect, ToSalesforce: toSalesforce}
}

func sfID(name string) string {
	switch name {
	case "Available":
		return idAvailable
	case "Away":
		return idAway
	case "Busy":
		return idBusy
	case "Offline":
		return "0"
	}
	return ""
}

// linked is an agent with both identities, Available on both sides since t0.
func linked() AgentState {
	return AgentState{
		ConnectUserID: "connect-user-1", SalesforceUserID: "005xx000001SwiUAAS",
		Connect:    ConnectMirror{Status: "Available", StatusType: "ROUTABLE", State: "Available", EventID: "c0", EventTime: t0, ObservedAt: t0},
		Salesforce: SalesforceMirror{StatusID: idAvailable, StatusName: "Available", EventID: "s0", EventTime: t0, ObservedAt: t0},
	}
}

func connectEvent(id string, sec float64, status string, contacts ...Contact) Event {
	return Event{ID: id, Kind: rules.EventConnectAgentStateChanged, Time: at(sec), Origin: OriginStream,
		Connect: ConnectSnapshot{StatusName: status, Contacts: contacts}}
}

// sfEvent is a status change reported by id only, as the console does.
func sfEvent(id string, sec float64, status string) Event {
	return Event{ID: id, Kind: rules.EventSalesforceAgentStateChanged, Time: at(sec), Origin: OriginWebhook,
		Salesforce: SalesforceData{StatusID: sfID(status)}}
}

func call(state string) Contact {
	return Contact{ID: "contact-1", State: state, InitiationMethod: "INBOUND", Channel: "VOICE"}
}

func settings() config.Settings { return config.Defaults() }
