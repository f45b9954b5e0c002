package adminapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/httpjson"
	"github.com/omnibridge/omnibridge/shared/sfevents"
)

// StateStore deletes stored states (*dynamo.Store): the way out when a mirror holds something
// wrong (a state written by a bad event, a corrupt item) and no event can repair it.
type StateStore interface {
	// DeleteAgent and DeleteSession return apperr.NotFound when nothing is stored.
	DeleteAgent(ctx context.Context, connectUserID string) (dynamo.ClearedState, error)
	DeleteSession(ctx context.Context, userID string) (dynamo.ClearedState, error)
	AppendAudit(ctx context.Context, e audit.Entry, retention time.Duration) error
}

var _ StateStore = (*dynamo.Store)(nil)

// OutcomeStateCleared is the audit outcome of a state deleted through the admin API.
const OutcomeStateCleared = "state-cleared"

// ClearedStateResponse is the body of a state DELETE: what was removed, as it was stored.
type ClearedStateResponse struct {
	// Subject is the audit subject the removal was recorded under (agent/<id>, user/<id>).
	Subject string `json:"subject"`
	// Version is the version of the item deleted.
	Version   int64     `json:"version"`
	ClearedBy string    `json:"clearedBy"`
	ClearedAt time.Time `json:"clearedAt"`
	// State (and, for an agent, Outbox: commands not yet delivered) are the item's JSON as
	// stored; text when it no longer parses.
	State  any `json:"state,omitempty"`
	Outbox any `json:"outbox,omitempty"`
}

func (a *API) stateRoutes() {
	a.handle("DELETE /agents/{connectUserId}/state", a.deleteAgentState)
	a.handle("DELETE /users/{salesforceUserId}/session", a.deleteSessionState)
}

// deleteAgentState clears an agent's presence mirror: both sides' last events and statuses,
// expected echoes, pending acknowledgements and the outbox. The next event starts afresh.
func (a *API) deleteAgentState(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("connectUserId")
	a.clearState(w, r, audit.Subject(audit.KindAgent, id),
		"presence state (both mirrors, pending commands and the outbox); the next event starts afresh",
		func(ctx context.Context) (dynamo.ClearedState, error) { return a.opts.States.DeleteAgent(ctx, id) })
}

// deleteSessionState clears a Salesforce user's session state; the next poll treats a logged-in
// user as first seen.
func (a *API) deleteSessionState(w http.ResponseWriter, r *http.Request) {
	id, ok := sfevents.CaseSafeID(r.PathValue("salesforceUserId"))
	if !ok {
		a.fail(w, r, apperr.Invalidf([]apperr.Problem{{Path: "salesforceUserId", Message: "must be a 15- or 18-character Salesforce user id"}},
			"bad Salesforce user id"))
		return
	}
	a.clearState(w, r, audit.Subject(audit.KindUser, id),
		"session state; the next poll treats the user as first seen",
		func(ctx context.Context) (dynamo.ClearedState, error) { return a.opts.States.DeleteSession(ctx, id) })
}

// clearState deletes with del and audits the removal under subject with the caller and what
// was removed; 404 when nothing was stored. The audit is written after the delete: a delete
// whose audit fails is reported as a 500 naming the deletion, never silently.
func (a *API) clearState(w http.ResponseWriter, r *http.Request, subject, what string, del func(context.Context) (dynamo.ClearedState, error)) {
	ctx := r.Context()
	by := a.caller(r)
	old, err := del(ctx)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	now := time.Now().UTC()
	resp := ClearedStateResponse{Subject: subject, Version: old.Version, ClearedBy: by, ClearedAt: now,
		State: storedJSON(old.State), Outbox: storedJSON(old.Outbox)}
	details := map[string]any{"by": by, "version": old.Version}
	if resp.State != nil {
		details["state"] = resp.State
	}
	if resp.Outbox != nil {
		details["outbox"] = resp.Outbox
	}
	entry := audit.Entry{Subject: subject, Time: now, ID: "admin/state-cleared/" + now.Format(time.RFC3339Nano), Outcome: OutcomeStateCleared,
		Message: fmt.Sprintf("%s cleared the stored %s (version %d) through the admin API", by, what, old.Version), Details: details}
	if err := a.opts.States.AppendAudit(ctx, entry, a.retention(ctx)); err != nil {
		a.fail(w, r, apperr.Wrap(apperr.Internal, err, "the state of %s was deleted, but its audit entry could not be written", subject))
		return
	}
	a.opts.Logger.InfoContext(ctx, "state cleared", "subject", subject, "version", old.Version, "by", by)
	httpjson.Write(w, http.StatusOK, resp)
}

// retention is the configured audit retention, the default when no config can be read.
func (a *API) retention(ctx context.Context) time.Duration {
	days := config.Defaults().AuditRetentionDays
	if cur, err := a.store.GetConfig(ctx); err == nil && cur.Document.Settings.AuditRetentionDays > 0 {
		days = cur.Document.Settings.AuditRetentionDays
	}
	return time.Duration(days) * 24 * time.Hour
}

// storedJSON returns stored JSON text as raw JSON, as text when it does not parse, nil when empty.
func storedJSON(s string) any {
	switch {
	case s == "":
		return nil
	case json.Valid([]byte(s)):
		return json.RawMessage(s)
	}
	return s
}
