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
	"slices"
	"strings"
	"sync"
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
	GetCallChain(ctx context.Context, root string) (dynamo.CallChain, error)
	PutCallChain(ctx context.Context, c dynamo.CallChain) (dynamo.CallChain, error)
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

// Numbers normalises callers' numbers; phone.Numbers implements it. It is a dependency rather
// than an import so that only the contact-events function links the phone number metadata.
type Numbers interface {
	// Normalize returns the caller's number in E.164, or "" and why it cannot be matched.
	Normalize(address, endpointType, region string) (e164, withheld string)
	// Variants returns the spellings the number is commonly stored in.
	Variants(e164 string) []string
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
	// Store holds the per-contact state, the call chains, the identity links and the audit.
	Store Store
	// Salesforce is the org the calls are logged in.
	Salesforce Salesforce
	// Connect answers DescribeContact, for the caller's number.
	Connect Connect
	// Numbers normalises the caller's number.
	Numbers Numbers
	// Config returns the current call logging section and settings.
	Config ConfigSource
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

	mu             sync.Mutex
	searchOffUntil time.Time
}

func (h *Handler) searchOff() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.d.Now().Before(h.searchOffUntil)
}

func (h *Handler) noSearchFor(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.searchOffUntil = h.d.Now().Add(d)
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
	// chain is the call's chain item while this run holds its claim to create the Case.
	chain *dynamo.CallChain
}

func (r *run) contactID() string { return r.ev.Detail.ContactID }

func (r *run) once(ctx context.Context) error {
	r.chain = nil
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

// prepareCase finds what the Case of a contact without one will be: the Case its call already
// has (a transfer, or an earlier attempt of this contact), or a match of the caller. The call's
// chain item is claimed first, so two contacts of one call never create two Cases. It reports
// done when nothing is to be written (a withheld number).
func (r *run) prepareCase(ctx context.Context) (bool, error) {
	s := &r.st.Sync
	self := r.contactID()
	root := r.st.Root()
	chain, err := r.h.d.Store.GetCallChain(ctx, root)
	if err != nil {
		return false, err
	}
	now := r.h.d.Now()
	if chain.CaseID == "" && chain.Withheld == "" && chain.Owner != "" {
		if chain.Owner != self && now.Before(time.UnixMilli(chain.OwnerUntil)) {
			return false, apperr.New(apperr.Unavailable, "contact %s: contact %s of the same call is creating its Case", self, chain.Owner)
		}
		// An earlier attempt (this contact's, or one whose lease ran out) may have written
		// the Case without recording it. This contact's own claim needs no look-up unless it
		// got as far as sending: the attempt marker is stored before the request goes out.
		found := false
		if chain.Owner != self || s.Attempt {
			if found, err = r.recover(ctx, chain.Owner, &chain); err != nil {
				return false, err
			}
		}
		if found {
			chain.Owner, chain.OwnerUntil = "", 0
			if chain, err = r.h.d.Store.PutCallChain(ctx, chain); err != nil {
				return false, err
			}
		}
	}
	switch {
	case chain.Withheld != "":
		s.ChainRoot, s.Done, s.Withheld, s.Described = root, "withheld", chain.Withheld, true
		r.audit(ctx, "withheld", "nothing logged: the call's number is withheld ("+chain.Withheld+")", map[string]any{"chainRoot": root})
		return true, r.save(ctx)
	case chain.CaseID != "":
		s.ChainRoot, s.CaseID, s.WhoID, s.WhoType, s.Number = root, chain.CaseID, chain.WhoID, chain.WhoType, chain.Number
		msg := "another contact of the call created its Case " + chain.CaseID + ": this contact joins it"
		if root != self {
			msg = "transferred from " + root + ": this contact joins the call's Case " + chain.CaseID
		}
		r.audit(ctx, "transfer-joined", msg, map[string]any{"chainRoot": root, "previousContactId": r.st.PreviousContactID.V, "caseId": chain.CaseID})
		return false, nil
	}
	chain.Owner, chain.OwnerUntil = self, now.Add(AttemptLease).UnixMilli()
	if chain, err = r.h.d.Store.PutCallChain(ctx, chain); err != nil {
		return false, err
	}
	r.chain = &chain
	s.ChainRoot = root
	if !s.Described {
		info, err := r.h.d.Connect.DescribeContact(ctx, self)
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
		s.Number, s.Withheld = r.h.d.Numbers.Normalize(s.Customer, s.CustomerType, r.cfg.DefaultRegion)
	}
	if s.Withheld != "" {
		s.Done = "withheld"
		chain.Withheld, chain.Owner, chain.OwnerUntil = s.Withheld, "", 0
		if _, err := r.h.d.Store.PutCallChain(ctx, chain); err != nil {
			return false, err
		}
		r.chain = nil
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

// recover looks up, after an attempt by contact owner whose outcome is unknown, the Case it
// may have written, through owner's step records, and records it in chain.
func (r *run) recover(ctx context.Context, owner string, chain *dynamo.CallChain) (bool, error) {
	type caseRow struct {
		ID            string `json:"Id"`
		ContactID     string `json:"ContactId"`
		SuppliedPhone string `json:"SuppliedPhone"`
	}
	soql := "SELECT Id, ContactId, SuppliedPhone FROM Case WHERE Id IN (SELECT Case__c FROM " + calllog.LogObject +
		" WHERE Connect_Contact_Id__c = " + salesforce.Quote(owner) + ") LIMIT 1"
	found := false
	for rec, err := range r.h.d.Salesforce.Query(ctx, soql) {
		if err != nil {
			return false, err
		}
		var row caseRow
		if err := decodeRecord(rec, &row); err != nil {
			return false, err
		}
		found = true
		chain.CaseID, chain.Number = row.ID, row.SuppliedPhone
		if row.ContactID != "" {
			chain.WhoID, chain.WhoType = row.ContactID, "Contact"
		}
	}
	if found {
		r.audit(ctx, "recovered", "an earlier attempt of contact "+owner+" had written the Case "+chain.CaseID, map[string]any{"caseId": chain.CaseID})
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
	ref, err := compositeErr(res)
	if (ref == "pop" || ref == "task") && apperr.Is(err, apperr.Invalid) {
		// The org refused the pop or the Task for good (a validation rule, a missing
		// permission): log the call without it rather than not at all. allOrNone rolled the
		// request back, so it is sent again without the refused part.
		reason := "Salesforce refused the " + map[string]string{"pop": "screen pop", "task": "call Task"}[ref] + ": " + apperr.MessageOf(err)
		r.audit(ctx, ref+"-refused", reason+"; the call is logged without it", nil)
		subs = slices.DeleteFunc(subs, func(sr salesforce.Subrequest) bool { return sr.ReferenceID == ref })
		if ref == "pop" {
			plan.Pop, s.PopSkipped = false, reason
		} else {
			plan.Task, s.TaskDone, s.TaskSkipped = false, true, reason
		}
		if res, err = r.h.d.Salesforce.Composite(ctx, true, subs); err != nil {
			return err
		}
		_, err = compositeErr(res)
	}
	if err != nil {
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
	if c := r.chain; c != nil {
		c.CaseID, c.WhoID, c.WhoType, c.Number, c.Owner, c.OwnerUntil = s.CaseID, s.WhoID, s.WhoType, s.Number, "", 0
		if _, err := r.h.d.Store.PutCallChain(ctx, *c); err != nil {
			// The Case is recorded on this contact; a transfer finds it through recover once
			// the claim's lease runs out.
			r.h.d.Logger.WarnContext(ctx, "call chain not updated", "contactId", r.contactID(), "error", err.Error())
		}
		r.chain = nil
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

// compositeErr returns the first real failure of an allOrNone composite and its subrequest (not the
// PROCESSING_HALTED of the subrequests rolled back with it), classified by apperr code.
func compositeErr(res []salesforce.SubResponse) (string, error) {
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
		return sr.ReferenceID, apperr.Wrap(code, err, "composite subrequest %s failed", sr.ReferenceID)
	}
	if first != nil {
		return "", apperr.Wrap(apperr.Invalid, first, "composite request rolled back")
	}
	return "", nil
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
