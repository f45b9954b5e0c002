package adminapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/adminapi"
	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamotest"
	"github.com/omnibridge/omnibridge/shared/eventtime"
	"github.com/omnibridge/omnibridge/shared/httpjson"
	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/session"
)

// TestClearState: the DELETE routes remove a stored agent or session state, answer with what
// was removed, audit it with the caller, and answer 404 when nothing is stored.
func TestClearState(t *testing.T) {
	ctx := context.Background()
	store := dynamotest.NewStore(t)
	api := adminapi.New(store, adminapi.Options{States: store, Caller: func(*http.Request) string { return "arn:aws:iam::123456789012:user/ops" }})
	const agent = "3f6c2a1e-8b4d-4c7e-9a2f-1d5e7b9c0a11"
	const user = "0055e000003AbCdAAK"
	future := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	// What the trial left: mirrors whose last event is dated 2099.
	if _, err := store.PutAgent(ctx, dynamo.AgentRecord{ConnectUserID: agent, State: presence.AgentState{
		ConnectUserID: agent, Salesforce: presence.SalesforceMirror{StatusName: "Away", EventID: "future", EventTime: future},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.PutSession(ctx, session.State{UserID: user, Active: true, At: future, LastEventID: "future"}, 0, eventtime.New(future, 0)); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, path, subject, stateHas string
		gone                          func() error
	}{
		{"agent", "/agents/" + agent + "/state", "agent/" + agent, `"eventId":"future"`, func() error {
			_, err := store.GetAgent(ctx, agent)
			return err
		}},
		{"session, by its 15-character id", "/users/0055e000003AbCd/session", "user/" + user, `"lastEventId":"future"`, func() error {
			_, err := store.GetSession(ctx, user)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(t, api, request{method: http.MethodDelete, path: tc.path})
			wantStatus(t, rec, http.StatusOK)
			resp := decode[map[string]any](t, rec)
			state, _ := json.Marshal(resp["state"])
			if resp["subject"] != tc.subject || resp["version"] != float64(1) || resp["clearedBy"] != "arn:aws:iam::123456789012:user/ops" ||
				!strings.Contains(string(state), tc.stateHas) {
				t.Errorf("response %s", rec.Body)
			}
			if err := tc.gone(); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("still stored: %v", err)
			}
			page, err := store.QueryAudit(ctx, audit.Query{Subject: tc.subject})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Entries) != 1 {
				t.Fatalf("audit %+v", page.Entries)
			}
			e := page.Entries[0]
			if e.Outcome != adminapi.OutcomeStateCleared || e.Details["by"] != "arn:aws:iam::123456789012:user/ops" ||
				!strings.Contains(e.Message, "cleared the stored") || e.Details["state"] == nil {
				t.Errorf("audit entry %+v", e)
			}
			// Nothing stored any more: 404, and no second audit entry.
			wantError(t, serve(t, api, request{method: http.MethodDelete, path: tc.path}), http.StatusNotFound, apperr.NotFound)
			if page, _ := store.QueryAudit(ctx, audit.Query{Subject: tc.subject}); len(page.Entries) != 1 {
				t.Errorf("a 404 was audited: %+v", page.Entries)
			}
		})
	}
	t.Run("bad Salesforce user id", func(t *testing.T) {
		wantError(t, serve(t, api, request{method: http.MethodDelete, path: "/users/not-an-id/session"}), http.StatusBadRequest, apperr.Invalid, "salesforceUserId")
	})
	t.Run("without a state store the routes are absent", func(t *testing.T) {
		bare := adminapi.New(store, adminapi.Options{})
		wantError(t, serve(t, bare, request{method: http.MethodDelete, path: "/agents/" + agent + "/state"}), http.StatusNotFound, apperr.NotFound)
	})
}

// TestClearStateRoutes: another method on a DELETE route is a 405 with Allow, OPTIONS a 204.
func TestClearStateRoutes(t *testing.T) {
	store := dynamotest.NewStore(t)
	api := adminapi.New(store, adminapi.Options{States: store})
	for _, path := range []string{"/agents/3f6c2a1e-8b4d-4c7e-9a2f-1d5e7b9c0a11/state", "/users/0055e000003AbCdAAK/session"} {
		t.Run("GET "+path, func(t *testing.T) {
			rec := serve(t, api, request{method: http.MethodGet, path: path})
			if got := rec.Header().Get("Allow"); got != "DELETE, OPTIONS" {
				t.Errorf("Allow = %q, want %q", got, "DELETE, OPTIONS")
			}
			wantError(t, rec, http.StatusMethodNotAllowed, httpjson.MethodNotAllowed)
		})
		t.Run("OPTIONS "+path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, httptest.NewRequest(http.MethodOptions, path, nil))
			if rec.Code != http.StatusNoContent || rec.Header().Get("Allow") != "DELETE, OPTIONS" {
				t.Fatalf("status %d Allow %q", rec.Code, rec.Header().Get("Allow"))
			}
		})
	}
}
