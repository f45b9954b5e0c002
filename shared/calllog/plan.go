package calllog

import (
	"strings"
	"time"

	"github.com/omnibridge/omnibridge/shared/config"
)

// Salesforce names the plan writes (infra/salesforce, CONTRACTS-11-12.md).
const (
	// LogObject is the call log custom object, a child of Case.
	LogObject = "Omnibridge_Call_Log__c"
	// LogKeyField is its external id, "<connectContactId>:<step slug>".
	LogKeyField = "Step_Key__c"
)

// Plan is what one sync writes to Salesforce for a contact.
type Plan struct {
	// NeedCase is set when the contact has no Case yet: the shell matches the caller (or joins
	// the Case of the contact it was transferred from) and creates the Case in the same request
	// as the first steps.
	NeedCase bool
	// Steps are the step records to upsert: every step that differs from what was written.
	Steps []StepRecord
	// Task is set when the call Task is to be written.
	Task bool
	// Pop is set when the agent's console is to pop the Case.
	Pop bool
	// SkipPop says why no pop will be sent, when that is decided now.
	SkipPop string
}

// Empty reports whether the plan writes nothing.
func (p Plan) Empty() bool { return !p.NeedCase && len(p.Steps) == 0 && !p.Task && !p.Pop }

// Next decides what to write now. Salesforce is written at two moments only, so a connected
// call costs at most three API calls in its life (the search, then one composite request at
// each moment):
//   - when the contact is first seen connected to an agent: the Contact if needed, the Case,
//     the steps known so far and the screen pop;
//   - when it is completed: every step that changed and the Task.
//
// A call no agent answered is written once, at completion. Events between the two moments only
// update the stored state.
func (s State) Next(cfg config.CallLogging) Plan {
	var p Plan
	if s.Sync.Done != "" {
		return p
	}
	phase := s.Phase()
	if phase == PhaseWaiting {
		return p
	}
	p.NeedCase = s.Sync.CaseID == ""
	if p.NeedCase || phase == PhaseCompleted {
		for _, r := range s.StepRecords() {
			if w, ok := s.Sync.Steps[r.Step.Slug()]; !ok || !w.Equal(r) {
				p.Steps = append(p.Steps, r)
			}
		}
	}
	if phase == PhaseCompleted && !s.Sync.TaskDone && cfg.TaskEnabled() {
		p.Task = true
	}
	if s.Sync.PopID == "" && s.Sync.PopSkipped == "" {
		switch {
		case phase != PhaseConnected:
			p.SkipPop = "the contact completed before its Case was popped"
		case s.DisconnectedAt.Set():
			// The bridge first hears of the call after it ended (events delivered late): a pop
			// now would open the Case in the agent's console during later work.
			p.SkipPop = "the call had ended before its Case was popped"
		default:
			p.Pop = true
		}
	}
	return p
}

// PopID is the screen pop's id for a contact: the console opens each id once, so a retried
// publish pops once.
func PopID(contactID string) string { return "call:" + contactID }

// Subject renders the Case subject from the config's template.
func (s State) Subject(cfg config.CallLogging) string {
	cfg = cfg.WithDefaults()
	number := s.Sync.Number
	if number == "" {
		number = "unknown number"
	}
	date := ""
	if s.InitiatedAt.Set() {
		date = s.InitiatedAt.V.UTC().Format("2006-01-02")
	}
	r := strings.NewReplacer("{number}", number, "{contactId}", s.ContactID, "{queue}", s.QueueID(), "{date}", date)
	out := r.Replace(cfg.Case.SubjectTemplate)
	if rs := []rune(out); len(rs) > 255 {
		out = string(rs[:255])
	}
	return out
}

// CaseFields are the fields of the call's new Case. whoRef is the Contact id or a composite
// reference to the new Contact ("" for none or a Lead); ownerID the agent's Salesforce user
// ("" uses the config's owner, if any).
func (s State) CaseFields(cfg config.CallLogging, whoRef, ownerID string) map[string]any {
	cfg = cfg.WithDefaults()
	f := map[string]any{
		"Origin":      cfg.Case.Origin,
		"Subject":     s.Subject(cfg),
		"Description": "Amazon Connect contact " + s.ContactID,
	}
	if whoRef != "" {
		f["ContactId"] = whoRef
	}
	if s.Sync.Number != "" {
		f["SuppliedPhone"] = s.Sync.Number
	}
	if cfg.Case.RecordTypeID != "" {
		f["RecordTypeId"] = cfg.Case.RecordTypeID
	}
	switch {
	case ownerID != "":
		f["OwnerId"] = ownerID
	case cfg.Case.OwnerID != "":
		f["OwnerId"] = cfg.Case.OwnerID
	}
	return f
}

// ContactFields are the fields of a Contact (or, with lead, a Lead) created for an unknown
// caller.
func (s State) ContactFields(cfg config.CallLogging, lead bool) map[string]any {
	cfg = cfg.WithDefaults()
	f := map[string]any{"LastName": cfg.NewContact.LastName, "Phone": s.Sync.Number}
	if cfg.NewContact.FirstName != "" {
		f["FirstName"] = cfg.NewContact.FirstName
	}
	if lead {
		f["Company"] = config.DefaultLeadCompany
		f["LeadSource"] = "Phone Inquiry"
	} else if cfg.NewContact.AccountID != "" {
		f["AccountId"] = cfg.NewContact.AccountID
	}
	return f
}

// LogFields are the fields of a step record, for an upsert by LogKeyField (the key itself goes
// in the URL, not the body). caseRef is the Case id or a composite reference to it.
func (s State) LogFields(r StepRecord, caseRef string) map[string]any {
	f := map[string]any{
		"Case__c":               caseRef,
		"Step__c":               string(r.Step),
		"Connect_Contact_Id__c": s.ContactID,
		"Started_At__c":         timeValue(r.StartedAt),
		"Ended_At__c":           timeValue(r.EndedAt),
		"Duration_Seconds__c":   nil,
	}
	if r.Seconds != nil {
		f["Duration_Seconds__c"] = *r.Seconds
	}
	if r.Agent && s.Sync.AgentUserID != "" {
		f["Agent_User__c"] = s.Sync.AgentUserID
	}
	return f
}

// TaskFields are the fields of the call Task: a completed standard Task with TaskSubtype Call,
// so Salesforce's activity reports count the call. WhatId is the Case, except for a Lead (a
// Task on a Lead cannot have a WhatId).
func (s State) TaskFields(caseRef string) map[string]any {
	f := map[string]any{
		"Subject":               "Call " + s.CallType() + " " + cmpOr(s.Sync.Number, "(number withheld)"),
		"TaskSubtype":           "Call",
		"Type":                  "Call",
		"Status":                "Completed",
		"CallType":              s.CallType(),
		"CallDurationInSeconds": s.TalkSeconds(),
		"CallObject":            s.ContactID,
	}
	if s.CompletedAt.Set() {
		f["ActivityDate"] = s.CompletedAt.V.UTC().Format("2006-01-02")
	}
	if s.Sync.WhoID != "" {
		f["WhoId"] = s.Sync.WhoID
	}
	if s.Sync.WhoType != "Lead" && caseRef != "" {
		f["WhatId"] = caseRef
	}
	if s.Sync.AgentUserID != "" {
		f["OwnerId"] = s.Sync.AgentUserID
	}
	return f
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// timeValue renders a Salesforce DateTime (or null).
func timeValue(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// Written records that the plan's steps were written with the case, for the next Next.
func (s *State) Written(steps []StepRecord) {
	if s.Sync.Steps == nil {
		s.Sync.Steps = map[string]StepRecord{}
	}
	for _, r := range steps {
		s.Sync.Steps[r.Step.Slug()] = r
	}
}
