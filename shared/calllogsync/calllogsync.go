// Package calllogsync is call logging's shell: the contact-events handler that keeps each
// Amazon Connect voice contact's state in DynamoDB and writes what package calllog plans to
// Salesforce: the caller's Contact (found by SOSL phone search, or created), the Case, one
// Omnibridge_Call_Log__c record per step upserted by Step_Key__c, the call Task, and the screen
// pop to the agent's console.
//
// A connected contact costs at most three Salesforce API calls in its life: the search, one
// composite request (allOrNone) that creates the Contact and the Case and upserts the first
// steps and publishes the pop, with @{ref} references between them, and one composite request at
// completion with the final steps and the Task. Connect's DescribeContact is called once per
// contact, for the caller's number that contact events lack.
//
// Every write is safe to repeat. Step records are upserts by external id; the state item
// records what was written; and a request that may have reached Salesforce without its answer
// reaching the bridge leaves a marker, so the next attempt first looks its records up.
package calllogsync

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"log/slog"
	"strings"
	"time"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/calllog"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/connect"
	"github.com/omnibridge/omnibridge/shared/contactdispatch"
	"github.com/omnibridge/omnibridge/shared/contactevent"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/eventtime"
	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/screenpop"
)

// HandlerName is the handler's stable name in dedupe keys and audits.
const HandlerName = "call-logging"

// Store is the state, identity link and audit storage; dynamo.Store implements it.
type Store interface {
	GetCallLog(ctx context.Context, contactID string) (dynamo.CallLogRecord, error)
	PutCallLog(ctx context.Context, st calllog.State, expectedVersion int64, b eventtime.Bound) (int64, error)
	GetLink(ctx context.Context, side dynamo.LinkSide, id, field string) (dynamo.Link, error)
	AppendAudit(ctx context.Context, e audit.Entry, retention time.Duration) error
}

// Salesforce is the part of the Salesforce client call logging uses; *salesforce.Client
// implements it.
type Salesforce interface {
	Search(ctx context.Context, sosl string) ([]salesforce.Record, error)
	Query(ctx context.Context, soql string) iter.Seq2[salesforce.Record, error]
	Composite(ctx context.Context, allOrNone bool, subrequests []salesforce.Subrequest) ([]salesforce.SubResponse, error)
}

// Connect reads contacts; *connect.Client implements it.
type Connect interface {
	DescribeContact(ctx context.Context, contactID string) (connect.ContactInfo, error)
}

// Settings is the current configuration as call logging reads it.
type Settings struct {
	// CallLogging is the section with defaults filled.
	CallLogging config.CallLogging
	// Settings are the global settings (clock skew, identity field, audit retention).
	Settings config.Settings
}

// ConfigSource returns the current settings.
type ConfigSource func(ctx context.Context) (Settings, error)

// Deps are the handler's dependencies.
type Deps struct {
	Store      Store
	Salesforce Salesforce
	Connect    Connect
	Config     ConfigSource
	// Now is the bridge's clock; nil means time.Now.
	Now func() time.Time
	// Logger logs at the edge; nil discards.
	Logger *slog.Logger
}

// AttemptLease is how long a Salesforce request in flight for a contact keeps other events of
// the contact from starting their own: longer than the Lambda's timeout, so a live attempt is
// never raced, short enough that a crashed one is recovered by the next retry.
const AttemptLease = 2 * time.Minute

// maxConflicts bounds the reload-and-merge loop when concurrent events of one contact race.
const maxConflicts = 8

// Handler is the call-logging contactdispatch.Handler.
type Handler struct {
	d Deps
}

var _ contactdispatch.Handler = (*Handler)(nil)

// New returns the handler.
func New(d Deps) *Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{d: d}
}

// Name is HandlerName.
func (h *Handler) Name() string { return HandlerName }

// HandleContactEvent merges a voice contact's event into its state and writes what is due to
// Salesforce. Other channels, and everything while the feature is off, are ignored.
func (h *Handler) HandleContactEvent(ctx context.Context, ev contactevent.Event) error {
	if ev.Detail.Channel != agentevent.ChannelVoice {
		return nil
	}
	set, err := h.d.Config(ctx)
	if err != nil {
		return err
	}
	if !set.CallLogging.Enabled {
		return nil
	}
	run := &run{h: h, ev: ev, set: set, cfg: set.CallLogging, bound: eventtime.New(h.d.Now(), set.Settings.MaxClockSkew())}
	for range maxConflicts {
		err = run.once(ctx)
		if !apperr.Is(err, apperr.Conflict) {
			return err
		}
	}
	return apperr.Wrap(apperr.Unavailable, err, "call log of contact %s: too many concurrent updates", ev.Detail.ContactID)
}

// run is one event's processing.
type run struct {
	h     *Handler
	ev    contactevent.Event
	set   Settings
	cfg   config.CallLogging
	bound eventtime.Bound

	st      calllog.State
	version int64
}

func (r *run) contactID() string { return r.ev.Detail.ContactID }

func (r *run) once(ctx context.Context) error {
	rec, err := r.h.d.Store.GetCallLog(ctx, r.contactID())
	switch {
	case apperr.Is(err, apperr.NotFound):
		r.st, r.version = calllog.State{ContactID: r.contactID()}, 0
	case err != nil:
		return err
	default:
		r.st, r.version = rec.State, rec.Version
	}
	changed := r.st.Apply(r.ev, r.bound)
	plan := r.st.Next(r.cfg)
	if plan.Empty() && plan.SkipPop == "" {
		if !changed {
			return nil
		}
		return r.save(ctx)
	}
	s := &r.st.Sync
	if s.Attempt && s.AttemptBy != r.ev.ID && r.h.d.Now().Before(s.AttemptAt.Add(AttemptLease)) {
		return apperr.New(apperr.Unavailable, "contact %s: a Salesforce request of event %s is in flight", r.contactID(), s.AttemptBy)
	}
	if plan.SkipPop != "" && !plan.Pop {
		s.PopSkipped = plan.SkipPop
	}
	if plan.NeedCase {
		done, err := r.prepareCase(ctx)
		if err != nil || done {
			return err
		}
	}
	if plan.Pop {
		if err := r.agentUser(ctx); err != nil {
			return err
		}
		if s.AgentUserID == "" {
			plan.Pop = false
			s.PopSkipped = "the agent has no linked Salesforce user"
			r.audit(ctx, "pop-skipped", "no screen pop: the agent has no linked Salesforce user", map[string]any{"agentId": r.st.AgentID()})
		}
	} else if r.st.AgentID() != "" && s.AgentUserID == "" {
		if err := r.agentUser(ctx); err != nil {
			return err
		}
	}
	return r.write(ctx, plan)
}

// save writes the state at the next version.
func (r *run) save(ctx context.Context) error {
	v, err := r.h.d.Store.PutCallLog(ctx, r.st, r.version, r.bound)
	if err != nil {
		return err
	}
	r.version = v
	return nil
}

// agentUser resolves the agent's linked Salesforce user from the identity links the presence
// engine keeps; an agent not linked yet has none.
func (r *run) agentUser(ctx context.Context) error {
	agent := r.st.AgentID()
	if agent == "" || r.st.Sync.AgentUserID != "" {
		return nil
	}
	field := r.set.Settings.Identity.SalesforceField
	if field == "" {
		field = config.Defaults().Identity.SalesforceField
	}
	l, err := r.h.d.Store.GetLink(ctx, dynamo.LinkFromConnect, agent, field)
	switch {
	case apperr.Is(err, apperr.NotFound):
		return nil
	case err != nil:
		return err
	}
	if l.Found {
		r.st.Sync.AgentUserID = l.SalesforceUserID
	}
	return nil
}

// prepareCase finds what the Case of a contact without one will be: the Case of the contact
// it was transferred from, or a match of the caller. It reports done when nothing is to be
// written (a withheld number).
func (r *run) prepareCase(ctx context.Context) (bool, error) {
	s := &r.st.Sync
	if s.Attempt {
		found, err := r.recover(ctx)
		if err != nil || found {
			return false, err
		}
	}
	if parent := r.st.ChainParent(); parent != "" && s.ChainRoot == "" {
		joined, err := r.join(ctx, parent)
		if err != nil || joined {
			return s.Done != "", err
		}
	}
	if !s.Described {
		info, err := r.h.d.Connect.DescribeContact(ctx, r.contactID())
		switch {
		case apperr.Is(err, apperr.NotFound):
		case err != nil:
			return false, err
		}
		s.Described, s.Customer, s.CustomerType = true, info.Customer.Address, info.Customer.Type
		// Keep the answer even if matching fails below: DescribeContact runs once per contact.
		if err := r.save(ctx); err != nil {
			return false, err
		}
	}
	if s.Number == "" && s.Withheld == "" {
		s.Number, s.Withheld = calllog.Normalize(s.Customer, s.CustomerType, r.cfg.DefaultRegion)
	}
	if s.Withheld != "" {
		s.Done = "withheld"
		r.audit(ctx, "withheld", "nothing logged: "+s.Withheld, map[string]any{"customerType": s.CustomerType})
		return true, r.save(ctx)
	}
	if s.Match == nil {
		m, err := r.match(ctx)
		if err != nil {
			return false, err
		}
		s.Match = &m
		r.audit(ctx, "matched", m.Reason, map[string]any{"number": s.Number, "outcome": m.Outcome, "via": m.Via, "candidates": m.Candidates})
		if m.Chosen != nil {
			s.WhoID, s.WhoType = m.Chosen.ID, m.Chosen.Type
		}
		if m.Outcome == calllog.MatchFound && s.WhoType == "Contact" && r.cfg.Case.AttachWindowMinutes > 0 {
			id, err := r.openCase(ctx, s.WhoID)
			if err != nil {
				return false, err
			}
			if id != "" {
				s.CaseID = id
				r.audit(ctx, "case-attached", "the call joins the Contact's open Case "+id, map[string]any{"caseId": id, "windowMinutes": r.cfg.Case.AttachWindowMinutes})
			}
		}
	}
	return false, nil
}

// join makes a transferred contact share the Case of the contact it came from. It reports
// whether it joined; a parent whose Case is not written yet is a retry.
func (r *run) join(ctx context.Context, parent string) (bool, error) {
	prec, err := r.h.d.Store.GetCallLog(ctx, parent)
	if apperr.Is(err, apperr.NotFound) {
		r.audit(ctx, "transfer-unknown-parent", "the contact transferred from, "+parent+", is not logged: the call gets its own Case", map[string]any{"previousContactId": parent})
		r.st.Sync.ChainRoot = r.contactID()
		return false, nil
	}
	if err != nil {
		return false, err
	}
	p := prec.State.Sync
	s := &r.st.Sync
	switch {
	case p.Done == "withheld":
		s.ChainRoot, s.Done, s.Withheld, s.Described = parent, "withheld", p.Withheld, true
		r.audit(ctx, "withheld", "nothing logged: the transferred call's number is withheld ("+p.Withheld+")", map[string]any{"previousContactId": parent})
		return true, r.save(ctx)
	case p.CaseID == "":
		return false, apperr.New(apperr.Unavailable, "contact %s was transferred from %s, whose Case is not written yet", r.contactID(), parent)
	}
	s.ChainRoot = p.ChainRoot
	if s.ChainRoot == "" {
		s.ChainRoot = parent
	}
	s.CaseID, s.WhoID, s.WhoType, s.Number, s.Match = p.CaseID, p.WhoID, p.WhoType, p.Number, p.Match
	s.Described, s.Customer, s.CustomerType = true, p.Customer, p.CustomerType
	r.audit(ctx, "transfer-joined", "transferred from "+parent+": the call joins its Case "+p.CaseID, map[string]any{"previousContactId": parent, "caseId": p.CaseID, "chainRoot": s.ChainRoot})
	return true, nil
}

// recover looks up, after an attempt whose outcome is unknown, the records it may have
// written: the Case through the contact's step records, and the call Task by CallObject.
func (r *run) recover(ctx context.Context) (bool, error) {
	s := &r.st.Sync
	id := salesforce.Quote(r.contactID())
	type caseRow struct {
		ID        string `json:"Id"`
		ContactID string `json:"ContactId"`
	}
	found := false
	soql := "SELECT Id, ContactId FROM Case WHERE Id IN (SELECT Case__c FROM " + calllog.LogObject + " WHERE Connect_Contact_Id__c = " + id + ") LIMIT 1"
	for rec, err := range r.h.d.Salesforce.Query(ctx, soql) {
		if err != nil {
			return false, err
		}
		var row caseRow
		if err := decodeRecord(rec, &row); err != nil {
			return false, err
		}
		s.CaseID, found = row.ID, true
		if row.ContactID != "" {
			s.WhoID, s.WhoType = row.ContactID, "Contact"
		}
	}
	if found {
		r.audit(ctx, "recovered", "an earlier attempt had written the Case "+s.CaseID, map[string]any{"caseId": s.CaseID})
	}
	return found, nil
}

// recoverTask reports whether the call Task exists already.
func (r *run) recoverTask(ctx context.Context) (string, error) {
	soql := "SELECT Id FROM Task WHERE CallObject = " + salesforce.Quote(r.contactID()) + " LIMIT 1"
	for rec, err := range r.h.d.Salesforce.Query(ctx, soql) {
		if err != nil {
			return "", err
		}
		id, _ := rec["Id"].(string)
		return id, nil
	}
	return "", nil
}

// write sends the plan in one composite request (allOrNone) and records what it wrote.
func (r *run) write(ctx context.Context, plan calllog.Plan) error {
	s := &r.st.Sync
	var subs []salesforce.Subrequest
	caseRef, whoRef := s.CaseID, s.WhoID
	newWho, newCase := "", false
	if s.CaseID == "" {
		if m := s.Match; m != nil && s.WhoID == "" {
			switch m.Outcome {
			case calllog.MatchCreateContact:
				newWho = "Contact"
			case calllog.MatchCreateLead:
				newWho = "Lead"
			}
		}
		if newWho != "" {
			subs = append(subs, salesforce.CreateRequest("newWho", newWho, r.st.ContactFields(r.cfg, newWho == "Lead")))
			whoRef = "@{newWho.id}"
		}
		caseContact := whoRef
		if newWho == "Lead" || s.WhoType == "Lead" {
			caseContact = ""
		}
		subs = append(subs, salesforce.CreateRequest("newCase", "Case", r.st.CaseFields(r.cfg, caseContact, s.AgentUserID)))
		caseRef, newCase = "@{newCase.id}", true
	}
	for _, st := range plan.Steps {
		subs = append(subs, salesforce.UpsertRequest("step_"+st.Step.Slug(), calllog.LogObject, calllog.LogKeyField,
			calllog.StepKey(r.contactID(), st.Step), r.st.LogFields(st, caseRef)))
	}
	if plan.Task && s.Attempt {
		id, err := r.recoverTask(ctx)
		if err != nil {
			return err
		}
		if id != "" {
			s.TaskDone, s.TaskID, plan.Task = true, id, false
		}
	}
	if plan.Task {
		view := r.st
		view.Sync.WhoID = whoRef
		if newWho != "" {
			view.Sync.WhoType = newWho
		}
		subs = append(subs, salesforce.CreateRequest("task", "Task", view.TaskFields(caseRef)))
	}
	if plan.Pop {
		fields, err := screenpop.Pop{ID: calllog.PopID(r.contactID()), UserID: s.AgentUserID, RecordID: caseRef,
			ConnectContactID: r.contactID(), Reason: screenpop.ReasonCall, IssuedAt: r.h.d.Now()}.Fields()
		if err != nil {
			return err
		}
		subs = append(subs, salesforce.CreateRequest("pop", screenpop.Event, fields))
	}
	if len(subs) == 0 {
		s.Attempt = false
		return r.save(ctx)
	}
	// Mark the attempt before sending: should the answer be lost, the next attempt looks the
	// records up instead of creating them again.
	s.Attempt, s.AttemptBy, s.AttemptAt = true, r.ev.ID, r.h.d.Now()
	if err := r.save(ctx); err != nil {
		return err
	}
	res, err := r.h.d.Salesforce.Composite(ctx, true, subs)
	if err != nil {
		return err
	}
	if err := compositeErr(res); err != nil {
		// allOrNone rolled everything back: nothing was written.
		s.Attempt = false
		if serr := r.save(ctx); serr != nil {
			return errors.Join(err, serr)
		}
		r.audit(ctx, "salesforce-failed", "Salesforce refused the call log: "+apperr.MessageOf(err), nil)
		return err
	}
	ids := map[string]string{}
	for _, sr := range res {
		var body struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(sr.Body, &body) == nil {
			ids[sr.ReferenceID] = body.ID
		}
	}
	if newWho != "" {
		s.WhoID, s.WhoType, s.ContactCreated = ids["newWho"], newWho, true
	}
	if newCase {
		s.CaseID, s.CaseCreated = ids["newCase"], true
	}
	r.st.Written(plan.Steps)
	if plan.Task {
		s.TaskDone, s.TaskID = true, ids["task"]
	}
	if plan.Pop {
		s.PopID = calllog.PopID(r.contactID())
	}
	s.Attempt, s.AttemptBy, s.AttemptAt = false, "", time.Time{}
	if err := r.save(ctx); err != nil {
		return err
	}
	r.auditWrite(ctx, plan, newWho, newCase)
	return nil
}

func (r *run) auditWrite(ctx context.Context, plan calllog.Plan, newWho string, newCase bool) {
	s := r.st.Sync
	var parts []string
	if newWho != "" {
		parts = append(parts, "created "+newWho+" "+s.WhoID)
	}
	if newCase {
		parts = append(parts, "created Case "+s.CaseID)
	}
	var steps []string
	for _, st := range plan.Steps {
		steps = append(steps, string(st.Step))
	}
	if len(steps) > 0 {
		parts = append(parts, "logged "+strings.Join(steps, ", "))
	}
	if plan.Task {
		parts = append(parts, "created Task "+s.TaskID)
	}
	if plan.Pop {
		parts = append(parts, "popped the Case to "+s.AgentUserID)
	}
	r.audit(ctx, "logged", strings.Join(parts, "; "), map[string]any{"caseId": s.CaseID, "whoId": s.WhoID, "steps": steps, "phase": string(r.st.Phase())})
}

// compositeErr returns the first real failure of an allOrNone composite (not the
// PROCESSING_HALTED of the subrequests rolled back with it), classified by apperr code.
func compositeErr(res []salesforce.SubResponse) error {
	var first error
	for _, sr := range res {
		err := sr.Err()
		if err == nil {
			continue
		}
		var ae *salesforce.APIError
		if errors.As(err, &ae) && ae.ErrorCode == "PROCESSING_HALTED" {
			if first == nil {
				first = err
			}
			continue
		}
		code := apperr.Invalid
		if errors.As(err, &ae) && (ae.StatusCode >= 500 || ae.StatusCode == 429) {
			code = apperr.Unavailable
		}
		return apperr.Wrap(code, err, "composite subrequest %s failed", sr.ReferenceID)
	}
	if first != nil {
		return apperr.Wrap(apperr.Invalid, first, "composite request rolled back")
	}
	return nil
}

// audit records a decision under contact/<id>; a failure to audit is logged, not fatal: the
// decision itself is in the state item.
func (r *run) audit(ctx context.Context, outcome, msg string, details map[string]any) {
	e := audit.Entry{
		Subject: audit.Subject(audit.KindContact, r.contactID()), Time: r.h.d.Now(),
		ID: r.ev.ID + ":" + outcome, EventID: r.ev.ID, Outcome: outcome, Message: msg, Details: details,
	}
	days := r.set.Settings.AuditRetentionDays
	if days <= 0 {
		days = config.Defaults().AuditRetentionDays
	}
	if err := r.h.d.Store.AppendAudit(ctx, e, time.Duration(days)*24*time.Hour); err != nil {
		r.h.d.Logger.WarnContext(ctx, "call log audit not written", "contactId", r.contactID(), "outcome", outcome, "error", err.Error())
	}
}

func decodeRecord(rec salesforce.Record, out any) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return apperr.Wrap(apperr.Internal, err, "encode record")
	}
	if err := json.Unmarshal(b, out); err != nil {
		return apperr.Wrap(apperr.Internal, err, "decode record")
	}
	return nil
}
