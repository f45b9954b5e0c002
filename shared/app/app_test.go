package app_test

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/omnibridge/omnibridge/shared/adminapi"
	"github.com/omnibridge/omnibridge/shared/app"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/calllog"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamolocal"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamotest"
	"github.com/omnibridge/omnibridge/shared/eventtime"
	"github.com/omnibridge/omnibridge/shared/httpjson"
	"github.com/omnibridge/omnibridge/shared/runtime"
)

const eventsDir = "../../events/admin-api"

// TestAdminAPILambdaEvents runs every events/admin-api/*.json file through the admin-api
// function's real Lambda entry point (the API Gateway v2 adapter over the admin API), in order,
// against one table seeded with config version 1.
func TestAdminAPILambdaEvents(t *testing.T) {
	ctx := context.Background()
	store := dynamotest.NewStore(t)
	endpoint, _ := dynamotest.Endpoint(t)
	deps := runtime.New(runtime.Env{Table: store.Table(), DynamoEndpoint: endpoint}, dynamolocal.Config(), slog.New(slog.DiscardHandler))
	deps.Commit = "abc123"
	handler := app.HTTPLambda(app.AdminAPI(deps))

	sample, err := os.ReadFile("../../infra/local/config.sample.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := config.Parse(sample)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.PutConfig(ctx, doc, 0, "seed"); err != nil {
		t.Fatal(err)
	}
	// get-audit.json asks for this agent since 2026-11-21T00:00:00Z.
	const agent = "agent/8f0d1c2e-3b4a-4c5d-9e6f-7a8b9c0d1e2f"
	at := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	for i, id := range []string{"e1", "e2", "e3"} {
		e := audit.Entry{Subject: agent, Time: at.Add(time.Duration(i) * time.Second), ID: id, Outcome: "applied", Message: "test"}
		if err := store.AppendAudit(ctx, e, 100*365*24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}

	// delete-agent-state.json clears this agent's state.
	if _, err := store.PutAgent(ctx, dynamo.AgentRecord{ConnectUserID: strings.TrimPrefix(agent, "agent/")}); err != nil {
		t.Fatal(err)
	}

	// get-call.json reads this contact's call log.
	const callContact = "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"
	callState := calllog.State{ContactID: callContact, LastEventAt: at}
	callState.Sync.CaseID, callState.Sync.Number = "500xx000001AbCdAAK", "+14155551212"
	if _, err := store.PutCallLog(ctx, callState, 0, eventtime.New(at, 0)); err != nil {
		t.Fatal(err)
	}

	const callerARN = "arn:aws:sts::123456789012:assumed-role/OmnibridgeOps/ops-admin"
	type step struct {
		name   string // defaults to file
		file   string
		status int
		check  func(t *testing.T, body []byte)
	}
	steps := []step{
		{"", "get-health.json", 200, func(t *testing.T, b []byte) {
			var h adminapi.HealthReport
			mustJSON(t, b, &h)
			if h.Status != "ok" || h.ConfigVersion != 1 || h.Commit != "abc123" {
				t.Fatalf("health = %+v", h)
			}
		}},
		{"", "get-config.json", 200, func(t *testing.T, b []byte) {
			var c adminapi.ConfigResponse
			mustJSON(t, b, &c)
			if c.Version != 1 || c.Document == nil || len(c.Document.Rules) != 3 {
				t.Fatalf("config = %+v", c)
			}
		}},
		{"", "get-audit.json", 200, func(t *testing.T, b []byte) {
			var p audit.Page
			mustJSON(t, b, &p)
			if len(p.Entries) != 3 || p.Entries[0].ID != "e3" {
				t.Fatalf("audit page = %+v", p)
			}
		}},
		{"", "put-config-invalid.json", 400, func(t *testing.T, b []byte) {
			var e httpjson.ErrorBody
			mustJSON(t, b, &e)
			var paths []string
			for _, p := range e.Error.Problems {
				paths = append(paths, p.Path)
			}
			for _, want := range []string{"$.schemaVersion", "$.rules[0].enabled", "$.rules[0].priority", "$.rules[0].criteria",
				"$.rules[0].destination", "$.rules[0].targetState", "$.statusMappings[0]", "$.settings.colour", "$.settings.whileOnContact"} {
				if !slices.Contains(paths, want) {
					t.Errorf("problems %v do not name %s", paths, want)
				}
			}
		}},
		{"", "put-config-no-if-match.json", 428, nil},
		{"", "put-config.json", 200, func(t *testing.T, b []byte) {
			var c adminapi.ConfigResponse
			mustJSON(t, b, &c)
			if c.Version != 2 || c.UpdatedBy != callerARN {
				t.Fatalf("put = %+v, want version 2 by the IAM caller", c)
			}
		}},
		{"put-config.json again is stale", "put-config.json", 409, nil},
		{"", "delete-agent-state.json", 200, func(t *testing.T, b []byte) {
			var c adminapi.ClearedStateResponse
			mustJSON(t, b, &c)
			if c.Subject != agent || c.Version != 1 || c.ClearedBy != callerARN || c.State == nil {
				t.Fatalf("cleared = %+v, want the seeded state, by the IAM caller", c)
			}
		}},
		{"delete-agent-state.json again finds nothing", "delete-agent-state.json", 404, nil},
		{"", "get-call.json", 200, func(t *testing.T, b []byte) {
			var v adminapi.CallView
			mustJSON(t, b, &v)
			if v.ContactID != callContact || v.CaseID != "500xx000001AbCdAAK" || v.Number != "+14155551212" || v.Version != 1 {
				t.Fatalf("call = %+v", v)
			}
		}},
	}

	files, err := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !slices.ContainsFunc(steps, func(s step) bool { return s.file == filepath.Base(f) }) {
			t.Errorf("%s has no expectation in this test; add one", f)
		}
	}

	for _, st := range steps {
		t.Run(cmp.Or(st.name, st.file), func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(eventsDir, st.file))
			if err != nil {
				t.Fatal(err)
			}
			var ev events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatalf("event is not an API Gateway v2 request: %v", err)
			}
			resp, err := handler(ctx, ev)
			if err != nil {
				t.Fatalf("handler error: %v", err)
			}
			if resp.StatusCode != st.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, st.status, resp.Body)
			}
			if ct := resp.Headers["Content-Type"]; ct != "application/json" {
				t.Fatalf("Content-Type %q; headers %v", ct, resp.Headers)
			}
			if !json.Valid([]byte(resp.Body)) {
				t.Fatalf("body is not JSON: %s", resp.Body)
			}
			if st.check != nil {
				st.check(t, []byte(resp.Body))
			}
		})
	}
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("body is not the expected JSON: %v\n%s", err, b)
	}
}
