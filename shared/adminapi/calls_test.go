package adminapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/adminapi"
	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/calllog"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/contactevent"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamotest"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/eventtime"
)

var jsonCT = map[string]string{"Content-Type": "application/json"}

func contactSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "contact-events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCalls: GET /calls/{contactId} shows a stored call log with its audit, and POST /simulate
// with a contactEvent shows what call logging would do, writing nothing.
func TestCalls(t *testing.T) {
	ctx := context.Background()
	store := dynamotest.NewStore(t)
	configs := engine.NewConfigSource(store, time.Second)
	api := adminapi.New(store, adminapi.Options{Calls: store, Simulator: engine.NewSimulator(store, configs, engine.Options{})})
	const contact = "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"

	doc := config.Document{SchemaVersion: config.SchemaVersion, Settings: config.Defaults(), CallLogging: &config.CallLogging{Enabled: true}}
	if _, err := store.PutConfig(ctx, doc, 0, "test"); err != nil {
		t.Fatal(err)
	}
	// The state the handler leaves after QUEUED and CONNECTED_TO_AGENT with the Case written.
	var st calllog.State
	b := eventtime.New(time.Now(), 0)
	for _, f := range []string{"voice-inbound-queued.json", "voice-inbound-connected-to-agent.json"} {
		ev, err := contactevent.Decode(contactSample(t, f))
		if err != nil {
			t.Fatal(err)
		}
		st.Apply(ev, b)
	}
	st.Sync.Number, st.Sync.CaseID, st.Sync.WhoID, st.Sync.WhoType = "+14155551212", "500xx000001AbCdAAK", "003xx000004TmiQAAS", "Contact"
	st.Sync.Match = &calllog.Match{Outcome: calllog.MatchFound, Reason: "one Contact has the number", Via: "sosl"}
	st.Written(st.StepRecords())
	st.Sync.PopID = calllog.PopID(contact)
	if _, err := store.PutCallLog(ctx, st, 0, b); err != nil {
		t.Fatal(err)
	}
	if err := store.AppendAudit(ctx, audit.Entry{Subject: "contact/" + contact, Time: time.Now(), ID: "e1:matched", Outcome: "matched", Message: "one Contact has the number"}, time.Hour); err != nil {
		t.Fatal(err)
	}

	t.Run("GET /calls/{contactId}", func(t *testing.T) {
		rec := serve(t, api, request{method: http.MethodGet, path: "/calls/" + contact})
		wantStatus(t, rec, http.StatusOK)
		v := decode[adminapi.CallView](t, rec)
		if v.Phase != calllog.PhaseConnected || v.CaseID != st.Sync.CaseID || v.WhoID != st.Sync.WhoID || v.Match == nil ||
			len(v.Steps) != 2 || len(v.Logged) != 2 || len(v.Audit) != 1 || v.Audit[0].Outcome != "matched" || v.Version != 1 {
			t.Fatalf("view = %+v", v)
		}
	})
	t.Run("unknown contact is 404", func(t *testing.T) {
		wantError(t, serve(t, api, request{method: http.MethodGet, path: "/calls/no-such-contact"}), http.StatusNotFound, apperr.NotFound)
	})
	t.Run("simulate the completion of the stored call", func(t *testing.T) {
		body, _ := json.Marshal(map[string]json.RawMessage{"contactEvent": contactSample(t, "voice-inbound-completed-after-acw.json")})
		rec := serve(t, api, request{method: http.MethodPost, path: "/simulate", header: jsonCT, body: string(body)})
		wantStatus(t, rec, http.StatusOK)
		resp := decode[adminapi.ContactSimulateResponse](t, rec)
		if !resp.Handled || resp.StateSource != "stored" || !resp.Changed || resp.Call.Phase != calllog.PhaseCompleted ||
			resp.Plan.CreateCase || !resp.Plan.Task || resp.Plan.Pop || len(resp.Plan.Steps) != 4 {
			t.Fatalf("simulation = %+v", resp)
		}
		after, err := store.GetCallLog(ctx, contact)
		if err != nil || after.Version != 1 || after.State.CompletedAt.Set() {
			t.Fatalf("simulation wrote the state: %+v, %v", after, err)
		}
	})
	t.Run("simulate a task contact: not call logging's", func(t *testing.T) {
		body, _ := json.Marshal(map[string]json.RawMessage{"contactEvent": contactSample(t, "task-initiated.json")})
		rec := serve(t, api, request{method: http.MethodPost, path: "/simulate", header: jsonCT, body: string(body)})
		wantStatus(t, rec, http.StatusOK)
		if resp := decode[adminapi.ContactSimulateResponse](t, rec); resp.Handled || resp.Reason == "" || resp.StateSource != "new" {
			t.Fatalf("simulation = %+v", resp)
		}
	})
	t.Run("a bad contact event is a 400 with its paths", func(t *testing.T) {
		body, _ := json.Marshal(map[string]json.RawMessage{"contactEvent": contactSample(t, "invalid-no-contact-id.json")})
		wantError(t, serve(t, api, request{method: http.MethodPost, path: "/simulate", header: jsonCT, body: string(body)}),
			http.StatusBadRequest, apperr.Invalid, "$.contactEvent.detail.contactId", "$.contactEvent.detail.queueInfo.enqueueTimestamp")
	})
	t.Run("presence fields do not go with a contact event", func(t *testing.T) {
		body := `{"contactEvent": ` + string(contactSample(t, "voice-inbound-queued.json")) + `, "connectUserId": "x"}`
		wantError(t, serve(t, api, request{method: http.MethodPost, path: "/simulate", header: jsonCT, body: body}), http.StatusBadRequest, apperr.Invalid, "$.connectUserId")
	})
}
