package adminapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/omnibridge/omnibridge/shared/adminapi"
	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamotest"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/httpjson"
	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/session"
	"github.com/omnibridge/omnibridge/shared/sessionsync"
)

// agentRecord returns the first record's data of a Kinesis sample in events/agent-events: one
// agent event exactly as Connect writes it.
func agentRecord(t *testing.T, name string) json.RawMessage {
	t.Helper()
	var ev events.KinesisEvent
	b, err := os.ReadFile("../../events/agent-events/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev.Records[0].Kinesis.Data
}

// webhookBody returns the body of an API Gateway sample in events/salesforce-webhook.
func webhookBody(t *testing.T, name string) json.RawMessage {
	t.Helper()
	var ev events.APIGatewayV2HTTPRequest
	b, err := os.ReadFile("../../events/salesforce-webhook/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.IsBase64Encoded {
		raw, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	return json.RawMessage(ev.Body)
}

func simulateAPI(t *testing.T) *adminapi.API {
	t.Helper()
	store := dynamotest.NewStore(t)
	doc, err := config.Parse(sampleDoc(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.PutConfig(context.Background(), doc, 0, "test"); err != nil {
		t.Fatal(err)
	}
	configs := engine.NewConfigSource(store, 0)
	return adminapi.New(store, adminapi.Options{
		Simulator:        engine.NewSimulator(store, configs, engine.Options{}),
		SessionSimulator: sessionsync.NewSimulator(store, configs, nil),
	})
}

func postSimulate(t *testing.T, api http.Handler, body any) *httptest.ResponseRecorder {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/simulate", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	return rec
}

func TestSimulateDecides(t *testing.T) {
	api := simulateAPI(t)
	linked := &presence.AgentState{ConnectUserID: "3f6c2a1e-8b4d-4c7e-9a2f-1d5e7b9c0a11", SalesforceUserID: "0055e000003AbCdAAK"}
	tests := []struct {
		name        string
		body        map[string]any
		input       adminapi.SimulateRequestKind
		stateSource string
		commands    []string // destination/target of each command
		outcome     presence.Outcome
	}{
		{
			name:  "connect lunch to salesforce away by rule",
			body:  map[string]any{"connectEvent": agentRecord(t, "state-change-available-to-lunch.json"), "state": linked},
			input: adminapi.SimulateConnectEvent, stateSource: "given",
			commands: []string{"salesforce/Away"},
		},
		{
			name:  "salesforce available to connect available by mapping",
			body:  map[string]any{"salesforceWebhook": webhookBody(t, "status-changed.json"), "state": linked},
			input: adminapi.SimulateSalesforceWebhook, stateSource: "given",
			commands: []string{"connect/Available"},
		},
		{
			name:  "unknown agent decides as unlinked with nothing sent",
			body:  map[string]any{"connectEvent": agentRecord(t, "state-change-available-to-lunch.json")},
			input: adminapi.SimulateConnectEvent, stateSource: "empty",
			outcome: presence.OutcomeUnlinked,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := postSimulate(t, api, tc.body)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			var res adminapi.SimulateResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
				t.Fatal(err)
			}
			if res.Input != tc.input || res.StateSource != tc.stateSource || res.ConfigVersion != 1 {
				t.Errorf("input %q stateSource %q configVersion %d", res.Input, res.StateSource, res.ConfigVersion)
			}
			var got []string
			for _, c := range res.Decision.Commands {
				got = append(got, string(c.Destination)+"/"+c.Target.State())
			}
			if strings.Join(got, ",") != strings.Join(tc.commands, ",") {
				t.Errorf("commands %v, want %v\n%s", got, tc.commands, res.Decision.Audit.Explanation)
			}
			if tc.outcome != "" && res.Decision.Audit.Outcome != tc.outcome {
				t.Errorf("outcome %q, want %q", res.Decision.Audit.Outcome, tc.outcome)
			}
			if res.Decision.Audit.Explanation == "" {
				t.Error("decision has no explanation")
			}
		})
	}
	t.Run("no side effects", func(t *testing.T) {
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/audit?subject=agent/3f6c2a1e-8b4d-4c7e-9a2f-1d5e7b9c0a11", nil))
		var page audit.Page
		if err := json.Unmarshal(rec.Body.Bytes(), &page); rec.Code != http.StatusOK || err != nil || len(page.Entries) != 0 {
			t.Errorf("audit after simulations: %d %s", rec.Code, rec.Body)
		}
	})
}

func TestSimulateRejects(t *testing.T) {
	api := simulateAPI(t)
	ack := `{"schemaVersion":"1","orgId":"00D5e000000Hkp2EAC","sentAt":"2026-11-21T09:00:01Z","events":[{"id":"a1","type":"commandAck","userId":"0055e000003AbCdAAK","time":"2026-11-21T09:00:00Z","commandId":"c1","result":"applied"}]}`
	const wl = `{"id": "w1", "kind": "salesforce.workloadChanged", "time": "2026-11-21T13:05:00Z", "salesforce": %s}`
	const login = `{"id": "s1", "kind": "login", "userId": "0055e000003AbCdAAK", "at": "2026-11-21T09:00:00Z"%s}`
	tests := []struct {
		name  string
		body  string
		paths string // every problem's path, comma-separated; a trailing "." matches a prefix
	}{
		{"no event", `{}`, "$"},
		{"two events", `{"connectEvent": {}, "event": {"id": "x"}}`, "$"},
		{"unknown field", `{"connectEvnt": {}}`, "$.connectEvnt"},
		{"unknown field in the event", `{"event": {"id": "e1", "colour": "blue"}}`, "$.event.colour"},
		{"duplicate key", `{"connectUserId": "a", "connectUserId": "b", "event": {}}`, "$.connectUserId"},
		{"malformed connect event", `{"connectEvent": {"EventType": "STATE_CHANGE"}}`, "$.connectEvent."},
		{"acknowledgement", `{"salesforceWebhook": ` + ack + `}`, "$.salesforceWebhook.events[0].type"},
		{"event without agent", `{"connectUserId": "", "event": {"id": "e1", "kind": "connect.agentStateChanged", "time": "2026-11-21T12:00:00Z", "connect": {"statusName": "Lunch"}}}`, "$.connectUserId"},
		{"unknown kind", `{"connectUserId": "a", "event": {"id": "e1", "kind": "connect.stateChanged", "time": "2026-11-21T12:00:00Z"}}`, "$.event.kind"},
		{"missing id and time", `{"connectUserId": "a", "event": {"kind": "connect.agentStateChanged", "connect": {"statusName": "Lunch"}}}`, "$.event.id,$.event.time"},
		{"connect event without a status", `{"connectUserId": "a", "event": {"id": "e1", "kind": "connect.agentStateChanged", "time": "2026-11-21T12:00:00Z"}}`, "$.event.connect.statusName"},
		{"time not RFC 3339", `{"connectUserId": "a", "event": {"id": "e1", "kind": "connect.agentStateChanged", "time": 5, "connect": {"statusName": "Lunch"}}, "at": "noon"}`, "$.at,$.event.time"},
		{"a number given as a string", `{"salesforceUserId": "0055e000003AbCdAAK", "event": ` + fmt.Sprintf(wl, `{"newWorkload": "4"}`) + `}`, "$.event.salesforce.newWorkload"},
		{"negative workloads and capacity", `{"salesforceUserId": "0055e000003AbCdAAK", "event": ` + fmt.Sprintf(wl, `{"previousWorkload": -1, "newWorkload": 2, "configuredCapacity": -4}`) + `}`,
			"$.event.salesforce.previousWorkload,$.event.salesforce.configuredCapacity"},
		{"negative capacity in the given state", `{"state": {"salesforce": {"capacity": -1, "workload": -2}}, "event": ` + fmt.Sprintf(wl, `{"newWorkload": 2}`) + `}`,
			"$.state.salesforce.workload,$.state.salesforce.capacity"},
		{"availability requests are not presence events", `{"connectUserId": "a", "event": {"id": "e1", "kind": "session.availability", "time": "2026-11-21T12:00:00Z", "availability": {"destination": "connect", "status": "Offline", "reason": "x"}}}`,
			"$.event.kind,$.event.availability"},
		{"session: unknown kind", `{"sessionEvent": {"id": "s1", "kind": "signIn", "userId": "0055e000003AbCdAAK", "at": "2026-11-21T09:00:00Z"}}`, "$.sessionEvent.kind"},
		{"session: no id, no user, no time", `{"sessionEvent": {"kind": "login"}}`, "$.sessionEvent.id,$.sessionEvent.userId,$.sessionEvent.at"},
		{"session: a source that contradicts the kind", `{"sessionEvent": ` + fmt.Sprintf(login, `, "source": "poll"`) + `}`, "$.sessionEvent.source"},
		{"session: another user's state", `{"sessionEvent": ` + fmt.Sprintf(login, "") + `, "sessionState": {"userId": "0055e000003ZzZzAAK", "active": false, "at": "2026-11-21T08:00:00Z"}}`, "$.sessionState.userId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := postSimulate(t, api, json.RawMessage(tc.body))
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", rec.Code, rec.Body)
			}
			var body httpjson.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			want := strings.Split(tc.paths, ",")
			if body.Error.Code != string(apperr.Invalid) || len(body.Error.Problems) != len(want) && !strings.HasSuffix(tc.paths, ".") {
				t.Fatalf("error %+v, want problems at %s", body.Error, tc.paths)
			}
			for i, p := range body.Error.Problems[:len(want)] {
				if p.Path != want[i] && !(strings.HasSuffix(want[i], ".") && strings.HasPrefix(p.Path, want[i])) {
					t.Errorf("problem %d at %s (%s), want %s", i, p.Path, p.Message, want[i])
				}
			}
			if msg := rec.Body.String(); strings.Contains(msg, "adminapi.") || strings.Contains(msg, "rules.") || strings.Contains(msg, "Go ") || strings.Contains(msg, "unmarshal") {
				t.Errorf("the error names a Go type: %s", msg)
			}
		})
	}
}

func TestSimulateSession(t *testing.T) {
	api := simulateAPI(t)
	active := &session.State{UserID: "0055e000003AbCdAAK", Active: true, At: time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)}
	tests := []struct {
		name    string
		body    map[string]any
		input   adminapi.SimulateRequestKind
		outcome session.Outcome
		targets []session.Target
	}{
		{name: "logout webhook switches off every target", body: map[string]any{"sessionWebhook": webhookBody(t, "session-logout.json"), "sessionState": active},
			input: adminapi.SimulateSessionWebhook, outcome: session.OutcomeToggledOff,
			targets: []session.Target{session.TargetDistribution, session.TargetOmniChannel, session.TargetConnect}},
		{name: "login of an unknown user switches on", body: map[string]any{"sessionWebhook": webhookBody(t, "session-login.json")},
			input: adminapi.SimulateSessionWebhook, outcome: session.OutcomeToggledOn,
			targets: []session.Target{session.TargetDistribution, session.TargetOmniChannel}},
		{name: "poll finding no session", input: adminapi.SimulateSessionEvent, outcome: session.OutcomeToggledOff,
			body: map[string]any{"sessionState": active, "sessionEvent": session.Event{ID: "poll/1", Kind: session.KindPollInactive,
				UserID: "0055e000003AbCdAAK", At: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC), Source: session.SourcePoll}},
			targets: []session.Target{session.TargetDistribution, session.TargetOmniChannel, session.TargetConnect}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := postSimulate(t, api, tc.body)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			var res adminapi.SessionSimulateResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
				t.Fatal(err)
			}
			if res.Input != tc.input || res.Decision.Audit.Outcome != tc.outcome {
				t.Fatalf("input %s outcome %s: %s", res.Input, res.Decision.Audit.Outcome, res.Decision.Audit.Explanation)
			}
			var got []session.Target
			for _, a := range res.Decision.Actions {
				got = append(got, a.Target)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.targets) {
				t.Errorf("targets %v, want %v", got, tc.targets)
			}
		})
	}
	t.Run("a session event and a presence event together", func(t *testing.T) {
		rec := postSimulate(t, api, map[string]any{"sessionWebhook": webhookBody(t, "session-login.json"), "connectEvent": agentRecord(t, "login.json")})
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}

// readmeSimulate returns the README's POST /simulate section.
func readmeSimulate(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	start := strings.Index(s, "### POST /simulate")
	if start < 0 {
		t.Fatal("README has no POST /simulate section")
	}
	s = s[start:]
	if end := strings.Index(s, "\n## "); end > 0 {
		s = s[:end]
	}
	return s
}

// TestSimulateREADMEExamples posts every example request of the README's POST /simulate
// section and checks the outcome its comment promises, and that the documented answers name
// only members the real answers have.
func TestSimulateREADMEExamples(t *testing.T) {
	api := simulateAPI(t)
	section := readmeSimulate(t)
	examples := regexp.MustCompile(`(?s)# (\w+) → outcome ([\w-]+)[^\n]*\ncurl [^\n]*/simulate[^\n]*<<'EOF'\n(.*?)\nEOF`).FindAllStringSubmatch(section, -1)
	forms := map[string]bool{}
	answers := map[string]any{}
	for _, ex := range examples {
		form, outcome, body := ex[1], ex[2], ex[3]
		forms[form] = true
		t.Run(form, func(t *testing.T) {
			rec := postSimulate(t, api, json.RawMessage(body))
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			var res struct {
				Input    string `json:"input"`
				Decision struct {
					Audit struct {
						Outcome     string `json:"outcome"`
						Explanation string `json:"explanation"`
					} `json:"audit"`
				} `json:"decision"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
				t.Fatal(err)
			}
			if res.Input != form || res.Decision.Audit.Outcome != outcome {
				t.Fatalf("input %q outcome %q, the README says %q %q: %s", res.Input, res.Decision.Audit.Outcome, form, outcome, res.Decision.Audit.Explanation)
			}
			var answer any
			_ = json.Unmarshal(rec.Body.Bytes(), &answer)
			answers[form] = answer
		})
	}
	want := []string{"connectEvent", "salesforceWebhook", "event", "sessionWebhook", "sessionEvent"}
	for _, f := range want {
		if !forms[f] {
			t.Errorf("the README has no example of the %s form", f)
		}
	}
	documented := regexp.MustCompile("(?s)```json\n(.*?)\n```").FindAllStringSubmatch(section, -1)
	if len(documented) != 2 {
		t.Fatalf("the README shows %d answers, want a presence and a session one", len(documented))
	}
	for i, form := range []string{"event", "sessionEvent"} {
		t.Run("documented answer of "+form, func(t *testing.T) {
			var doc any
			if err := json.Unmarshal([]byte(documented[i][1]), &doc); err != nil {
				t.Fatalf("the README's answer is not JSON: %v", err)
			}
			documentedIn(t, "$", doc, answers[form])
		})
	}
}

// documentedIn checks that every member doc names (but "…", which marks a cut) is in real.
func documentedIn(t *testing.T, path string, doc, real any) {
	t.Helper()
	switch d := doc.(type) {
	case map[string]any:
		r, ok := real.(map[string]any)
		if !ok {
			t.Errorf("%s: documented as an object, is %T", path, real)
			return
		}
		for k, v := range d {
			if k == "…" {
				continue
			}
			rv, ok := r[k]
			if !ok {
				t.Errorf("%s.%s: documented, but not in the answer", path, k)
				continue
			}
			documentedIn(t, path+"."+k, v, rv)
		}
	case []any:
		r, ok := real.([]any)
		if !ok || len(d) == 0 || len(r) == 0 {
			t.Errorf("%s: documented as a non-empty array, is %v", path, real)
			return
		}
		if d[0] != "…" {
			documentedIn(t, path+"[0]", d[0], r[0])
		}
	}
}
