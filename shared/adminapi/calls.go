package adminapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/calllog"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/contactevent"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/eventtime"
	"github.com/omnibridge/omnibridge/shared/httpjson"
)

// CallStore reads call logging's per-contact state; dynamo.Store implements it.
type CallStore interface {
	GetCallLog(ctx context.Context, contactID string) (dynamo.CallLogRecord, error)
	GetCallChain(ctx context.Context, root string) (dynamo.CallChain, error)
}

var _ CallStore = (*dynamo.Store)(nil)

// CallView is the answer of GET /calls/{contactId}: what call logging knows and did for one
// Connect contact.
type CallView struct {
	// ContactID is the Connect contact.
	ContactID string `json:"contactId"`
	// Phase is waiting, connected or completed.
	Phase calllog.Phase `json:"phase"`
	// Caller is the number as Connect reported it, Number its E.164 form, Withheld why there is
	// none.
	Caller   string `json:"caller,omitempty"`
	Number   string `json:"number,omitempty"`
	Withheld string `json:"withheld,omitempty"`
	// Match is the matching decision: the records found and the one chosen.
	Match *calllog.Match `json:"match,omitempty"`
	// ChainRoot is the call's first contact (this one, or the one it was transferred from).
	ChainRoot string `json:"chainRoot,omitempty"`
	// CaseID, WhoID and WhoType are the records the call is logged on; the Created flags say
	// whether this contact created them.
	CaseID         string `json:"caseId,omitempty"`
	CaseCreated    bool   `json:"caseCreated"`
	WhoID          string `json:"whoId,omitempty"`
	WhoType        string `json:"whoType,omitempty"`
	ContactCreated bool   `json:"contactCreated"`
	// Steps are the steps as the events show them; Logged those written to Salesforce.
	Steps  []calllog.StepRecord          `json:"steps"`
	Logged map[string]calllog.StepRecord `json:"logged,omitempty"`
	// TaskID is the call Task, once written; TaskSkipped why the org refused it.
	TaskID      string `json:"taskId,omitempty"`
	TaskSkipped string `json:"taskSkipped,omitempty"`
	// PopID is the screen pop sent; PopSkipped why none was.
	PopID      string `json:"popId,omitempty"`
	PopSkipped string `json:"popSkipped,omitempty"`
	// AgentUserID is the agent's linked Salesforce user.
	AgentUserID string `json:"agentUserId,omitempty"`
	// Pending is set while a Salesforce request's outcome is unknown.
	Pending bool `json:"pending,omitempty"`
	// LastEventAt is the newest event time merged; Version the stored version.
	LastEventAt time.Time `json:"lastEventAt,omitzero"`
	Version     int64     `json:"version"`
	// Audit are the newest decisions audited under contact/<id>.
	Audit []audit.Entry `json:"audit"`
}

// callAuditLimit is how many audit entries GET /calls/{contactId} shows.
const callAuditLimit = 50

func (a *API) callRoutes() {
	a.handle("GET /calls/{contactId}", a.getCall)
}

func viewOf(st calllog.State, version int64) CallView {
	s := st.Sync
	return CallView{
		ContactID: st.ContactID, Phase: st.Phase(), Caller: s.Customer, Number: s.Number, Withheld: s.Withheld,
		Match: s.Match, ChainRoot: s.ChainRoot, CaseID: s.CaseID, CaseCreated: s.CaseCreated, WhoID: s.WhoID,
		WhoType: s.WhoType, ContactCreated: s.ContactCreated, Steps: st.StepRecords(), Logged: s.Steps, TaskID: s.TaskID,
		TaskSkipped: s.TaskSkipped, PopID: s.PopID, PopSkipped: s.PopSkipped, AgentUserID: s.AgentUserID, Pending: s.Attempt,
		LastEventAt: st.LastEventAt, Version: version, Audit: []audit.Entry{},
	}
}

func (a *API) getCall(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("contactId")
	if p := contactIDProblem(id); p != "" {
		a.fail(w, r, apperr.Invalidf([]apperr.Problem{{Path: "contactId", Message: p}}, "invalid contact id"))
		return
	}
	rec, err := a.opts.Calls.GetCallLog(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v := viewOf(rec.State, rec.Version)
	page, err := a.store.QueryAudit(r.Context(), audit.Query{Subject: audit.Subject(audit.KindContact, id), Limit: callAuditLimit})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v.Audit = append(v.Audit, page.Entries...)
	httpjson.Write(w, http.StatusOK, v)
}

// contactIDProblem checks a Connect contact id: 1 to 256 characters, no control characters or
// slashes.
func contactIDProblem(id string) string {
	switch {
	case id == "":
		return "is required"
	case len(id) > 256:
		return "must be at most 256 characters"
	}
	for _, c := range id {
		if c < 0x20 || c == 0x7f || c == '/' {
			return "must not contain control characters or slashes"
		}
	}
	return ""
}

// ContactSimulateResponse answers POST /simulate with a contactEvent: the event merged into the
// contact's stored state (nothing written), the steps it gives, and what call logging would
// write to Salesforce now.
type ContactSimulateResponse struct {
	// Event is the decoded event's id, type and the time it reports.
	EventID    string                 `json:"eventId"`
	EventType  contactevent.EventType `json:"eventType"`
	OccurredAt time.Time              `json:"occurredAt"`
	// Handled is false when call logging ignores the event, with Reason saying why.
	Handled bool   `json:"handled"`
	Reason  string `json:"reason,omitempty"`
	// StateSource is "stored" or "new".
	StateSource string `json:"stateSource"`
	// Changed is whether the event changes the stored state.
	Changed bool `json:"changed"`
	// Call is the contact as it would be after the event.
	Call CallView `json:"call"`
	// Plan is what would be written now: the Case (and the match before it), the steps, the
	// Task and the screen pop.
	Plan        ContactPlan         `json:"plan"`
	SideEffects string              `json:"sideEffects"`
	Input       SimulateRequestKind `json:"input"`
}

// ContactPlan is calllog.Plan for people.
type ContactPlan struct {
	// CreateCase: the contact has no Case yet; the caller would be matched (or the call's
	// Case joined) and the Case created.
	CreateCase bool `json:"createCase"`
	// Steps are the step records that would be upserted.
	Steps []calllog.StepRecord `json:"steps"`
	// Task: the call Task would be created.
	Task bool `json:"task"`
	// Pop: the screen pop would be published (if the agent has a linked user).
	Pop bool `json:"pop"`
	// SkipPop says why no pop will be sent, when that is decided now.
	SkipPop string `json:"skipPop,omitempty"`
}

// SimulateContactEvent is the input form of a contact event.
const SimulateContactEvent SimulateRequestKind = "contactEvent"

func (a *API) simulateContact(w http.ResponseWriter, r *http.Request, raw json.RawMessage) {
	ev, err := contactevent.Decode(raw)
	if err != nil {
		a.fail(w, r, prefixProblems(err, "$.contactEvent"))
		return
	}
	vc, err := a.store.GetConfig(r.Context())
	var doc config.Document
	switch {
	case apperr.Is(err, apperr.NotFound):
		doc.Settings = config.Defaults()
	case err != nil:
		a.fail(w, r, err)
		return
	default:
		doc = vc.Document
	}
	now := time.Now()
	if err := ev.CheckClock(now, doc.Settings.MaxClockSkew()); err != nil {
		a.fail(w, r, prefixProblems(err, "$.contactEvent"))
		return
	}
	cfg := doc.EffectiveCallLogging()
	out := ContactSimulateResponse{EventID: ev.ID, EventType: ev.Detail.EventType, OccurredAt: ev.OccurredAt(), StateSource: "new",
		SideEffects: "none: nothing was written, sent or audited", Input: SimulateContactEvent, Plan: ContactPlan{Steps: []calllog.StepRecord{}}}
	st := calllog.State{ContactID: ev.Detail.ContactID}
	var version int64
	if a.opts.Calls != nil {
		rec, err := a.opts.Calls.GetCallLog(r.Context(), ev.Detail.ContactID)
		switch {
		case err == nil:
			st, version, out.StateSource = rec.State, rec.Version, "stored"
		case !apperr.Is(err, apperr.NotFound):
			a.fail(w, r, err)
			return
		}
	}
	switch {
	case !cfg.Enabled:
		out.Reason = "call logging is off ($.callLogging.enabled)"
	case ev.Detail.Channel != "VOICE":
		out.Reason = "call logging handles VOICE contacts; this one is " + string(ev.Detail.Channel)
	default:
		out.Handled = true
	}
	out.Changed = st.Apply(ev, eventtime.New(now, doc.Settings.MaxClockSkew()))
	out.Call = viewOf(st, version)
	if out.Handled {
		p := st.Next(cfg)
		out.Plan = ContactPlan{CreateCase: p.NeedCase, Steps: p.Steps, Task: p.Task, Pop: p.Pop, SkipPop: p.SkipPop}
		if out.Plan.Steps == nil {
			out.Plan.Steps = []calllog.StepRecord{}
		}
	}
	httpjson.Write(w, http.StatusOK, out)
}
