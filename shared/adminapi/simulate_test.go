package adminapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
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
	tests := []struct {
		name string
		body string
		path string
	}{
		{"no event", `{}`, "$"},
		{"two events", `{"connectEvent": {}, "event": {"id": "x"}}`, "$"},
		{"unknown field", `{"connectEvnt": {}}`, "$"},
		{"malformed connect event", `{"connectEvent": {"EventType": "STATE_CHANGE"}}`, "$.connectEvent."},
		{"acknowledgement", `{"salesforceWebhook": ` + ack + `}`, "$.salesforceWebhook.events[0].type"},
		{"event without agent", `{"event": {"id": "e1", "kind": "connect.agentStateChanged"}}`, "$.connectUserId"},
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
			if body.Error.Code != string(apperr.Invalid) || len(body.Error.Problems) == 0 || !strings.HasPrefix(body.Error.Problems[0].Path, tc.path) {
				t.Errorf("error %+v, want a problem at %s", body.Error, tc.path)
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
