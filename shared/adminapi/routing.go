package adminapi

import (
	"context"
	"net/http"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/httpjson"
	"github.com/omnibridge/omnibridge/shared/routing"
	"github.com/omnibridge/omnibridge/shared/routingsync"
	"github.com/omnibridge/omnibridge/shared/sfevents"
)

// RoutingReader reads a case's routing entry (*routingsync.Service); apperr.NotFound when the
// case was never routed.
type RoutingReader interface {
	Case(ctx context.Context, caseID string) (routing.Entry, error)
}

// RoutingCaseResponse is the body of GET /routing/cases/{caseId}: the case's routing entry (its
// state, current task and history, oldest first) and where its audit entries are.
type RoutingCaseResponse struct {
	routing.Entry
	// AuditSubject is the subject to read the case's decisions with GET /audit.
	AuditSubject string `json:"auditSubject"`
}

// routingCase answers a case's routing history. The id is a 15- or 18-character Case id.
func (a *API) routingCase(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("caseId")
	id, ok := sfevents.CaseSafeID(raw)
	if !ok || id[:3] != "500" {
		a.fail(w, r, apperr.Invalidf([]apperr.Problem{{Path: "caseId", Message: "must be a Case id (500 followed by 12 or 15 letters and digits)"}},
			"%q is not a Case id", raw))
		return
	}
	e, err := a.opts.Routing.Case(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, RoutingCaseResponse{Entry: e, AuditSubject: audit.Subject(audit.KindCase, id)})
}

// CaseSimulator decides a case event without side effects (*routingsync.Simulator).
type CaseSimulator interface {
	Simulate(ctx context.Context, ev sfevents.CaseEvent, entry *routing.Entry) (routingsync.CaseSimulation, error)
}

var _ CaseSimulator = (*routingsync.Simulator)(nil)

// CaseSimulateResponse answers a case event: the event as decoded and what case routing would do.
type CaseSimulateResponse struct {
	Event       sfevents.CaseEvent         `json:"event"`
	Decision    routingsync.CaseSimulation `json:"decision"`
	SideEffects string                     `json:"sideEffects"`
	Input       SimulateRequestKind        `json:"input"`
}

func (a *API) simulateCase(w http.ResponseWriter, r *http.Request, req SimulateRequest) {
	if a.opts.CaseSimulator == nil {
		a.fail(w, r, apperr.New(apperr.NotFound, "case simulation is not available here"))
		return
	}
	b, err := sfevents.DecodeCases(req.CaseWebhook)
	if err != nil {
		a.fail(w, r, prefixProblems(err, "$.caseWebhook"))
		return
	}
	evs := b.InTimeOrder()
	if len(evs) != 1 {
		a.fail(w, r, apperr.Invalidf([]apperr.Problem{{Path: "$.caseWebhook.events", Message: "must hold exactly one event"}},
			"simulate takes one case event at a time"))
		return
	}
	sim, err := a.opts.CaseSimulator.Simulate(r.Context(), evs[0], req.CaseEntry)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, CaseSimulateResponse{Event: evs[0], Decision: sim,
		SideEffects: "none: nothing was written, sent or audited", Input: SimulateCaseWebhook})
}
