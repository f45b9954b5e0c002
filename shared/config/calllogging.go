package config

import (
	"cmp"
	"regexp"
	"strings"
	"unicode/utf8"
)

// CallLogging configures call logging: every Amazon Connect voice contact finds or creates its
// Salesforce Contact (by the caller's number) and a Case, logs each step of the call as an
// Omnibridge_Call_Log__c record and ends with a standard call Task.
//
// A document without a callLogging section leaves the feature off. Parse keeps the section as
// written; consumers read it through WithDefaults.
type CallLogging struct {
	// Enabled turns the feature on.
	Enabled bool `json:"enabled"`
	// DefaultRegion is the ISO 3166-1 region (such as "US" or "GB") numbers without a country
	// code are read in when they are normalised to E.164: DefaultCallRegion when empty.
	DefaultRegion string `json:"defaultRegion,omitempty"`
	// OnNoMatch is what happens when no Contact has the caller's number: OnNoMatchCreateContact
	// (the default), OnNoMatchCreateLead or OnNoMatchNone (the Case is created without a
	// Contact).
	OnNoMatch string `json:"onNoMatch,omitempty"`
	// NewContact holds the defaults of a Contact or Lead created for an unknown caller.
	NewContact NewContact `json:"newContact,omitzero"`
	// TieBreak picks among several Contacts with the number: TieBreakMostRecentlyModified (the
	// default) or TieBreakNone (the Case gets no Contact and the ambiguity is audited).
	TieBreak string `json:"tieBreak,omitempty"`
	// Case configures the Case created for a call.
	Case CallCase `json:"case,omitzero"`
	// CreateTask ends each call with a standard Task (TaskSubtype Call) on the Contact and Case,
	// so Salesforce's activity reports count it. Nil means true.
	CreateTask *bool `json:"createTask,omitempty"`
}

// NewContact are the field defaults of a record created for an unknown caller; its phone is the
// caller's number in E.164.
type NewContact struct {
	// FirstName is optional; empty leaves it blank.
	FirstName string `json:"firstName,omitempty"`
	// LastName is required by Salesforce: DefaultNewContactLastName when empty.
	LastName string `json:"lastName,omitempty"`
	// AccountID is the Account a new Contact is created under; empty creates a private contact.
	// Leads take DefaultLeadCompany as Company.
	AccountID string `json:"accountId,omitempty"`
}

// CallCase configures the Case of a call.
type CallCase struct {
	// Origin is Case.Origin: DefaultCaseOrigin when empty.
	Origin string `json:"origin,omitempty"`
	// SubjectTemplate is Case.Subject; {number}, {contactId}, {queue} and {date} are replaced:
	// DefaultCaseSubject when empty.
	SubjectTemplate string `json:"subjectTemplate,omitempty"`
	// RecordTypeID is Case.RecordTypeId; empty uses the integration user's default.
	RecordTypeID string `json:"recordTypeId,omitempty"`
	// OwnerID is the Case owner when the agent has no linked Salesforce user; empty leaves the
	// integration user (or the org's assignment rules) to decide.
	OwnerID string `json:"ownerId,omitempty"`
	// AttachWindowMinutes attaches the call to the Contact's newest open Case created within
	// that many minutes instead of creating one; 0 always creates a new Case.
	AttachWindowMinutes int `json:"attachWindowMinutes,omitempty"`
}

// The onNoMatch policies.
const (
	OnNoMatchCreateContact = "createContact"
	OnNoMatchCreateLead    = "createLead"
	OnNoMatchNone          = "none"
)

// The tie-break policies.
const (
	TieBreakMostRecentlyModified = "mostRecentlyModified"
	TieBreakNone                 = "none"
)

// The call logging defaults filled by CallLogging.WithDefaults.
const (
	DefaultCallRegion         = "US"
	DefaultNewContactLastName = "Unknown caller"
	DefaultLeadCompany        = "Unknown"
	DefaultCaseOrigin         = "Phone"
	DefaultCaseSubject        = "Call from {number}"
)

// MaxAttachWindowMinutes bounds AttachWindowMinutes: a week.
const MaxAttachWindowMinutes = 7 * 24 * 60

// WithDefaults returns c with every empty option filled with its default.
func (c CallLogging) WithDefaults() CallLogging {
	c.DefaultRegion = cmp.Or(c.DefaultRegion, DefaultCallRegion)
	c.OnNoMatch = cmp.Or(c.OnNoMatch, OnNoMatchCreateContact)
	c.TieBreak = cmp.Or(c.TieBreak, TieBreakMostRecentlyModified)
	c.NewContact.LastName = cmp.Or(c.NewContact.LastName, DefaultNewContactLastName)
	c.Case.Origin = cmp.Or(c.Case.Origin, DefaultCaseOrigin)
	c.Case.SubjectTemplate = cmp.Or(c.Case.SubjectTemplate, DefaultCaseSubject)
	if c.CreateTask == nil {
		yes := true
		c.CreateTask = &yes
	}
	return c
}

// TaskEnabled reports whether calls end with a Task (CreateTask, true when not set).
func (c CallLogging) TaskEnabled() bool { return c.CreateTask == nil || *c.CreateTask }

// EffectiveCallLogging returns the document's callLogging section with every default filled; a
// document without one yields a disabled section.
func (d Document) EffectiveCallLogging() CallLogging {
	var c CallLogging
	if d.CallLogging != nil {
		c = *d.CallLogging
	}
	return c.WithDefaults()
}

var (
	onNoMatchPolicies = []string{"", OnNoMatchCreateContact, OnNoMatchCreateLead, OnNoMatchNone}
	tieBreakPolicies  = []string{"", TieBreakMostRecentlyModified, TieBreakNone}
	regionRE          = regexp.MustCompile(`^[A-Z]{2}$`)
	// recordIDRE is a Salesforce id: 15 or 18 letters and digits.
	recordIDRE = regexp.MustCompile(`^[0-9A-Za-z]{15}([0-9A-Za-z]{3})?$`)
	// subjectPlaceholders are the placeholders SubjectTemplate may use.
	subjectPlaceholders = []string{"{number}", "{contactId}", "{queue}", "{date}"}
	placeholderRE       = regexp.MustCompile(`\{[^{}]*\}`)
)

// Salesforce field lengths the configured values land in.
const (
	maxFirstName = 40
	maxLastName  = 80
	maxOrigin    = 40
	maxSubject   = 255
)

// callLogging checks the callLogging section. Every option is checked whether or not the
// feature is enabled, so enabling it later cannot break a saved document.
func (v *validator) callLogging(c CallLogging) {
	const p = "$.callLogging"
	if c.DefaultRegion != "" && !regionRE.MatchString(c.DefaultRegion) {
		v.addf(p+".defaultRegion", "%q is not an ISO 3166-1 alpha-2 region code such as \"US\" or \"GB\"", c.DefaultRegion)
	}
	v.oneOf(p+".onNoMatch", c.OnNoMatch, onNoMatchPolicies)
	v.oneOf(p+".tieBreak", c.TieBreak, tieBreakPolicies)
	v.text(p+".newContact.firstName", c.NewContact.FirstName, maxFirstName)
	v.text(p+".newContact.lastName", c.NewContact.LastName, maxLastName)
	v.recordID(p+".newContact.accountId", c.NewContact.AccountID, "001")
	v.text(p+".case.origin", c.Case.Origin, maxOrigin)
	v.text(p+".case.subjectTemplate", c.Case.SubjectTemplate, maxSubject)
	for _, ph := range placeholderRE.FindAllString(c.Case.SubjectTemplate, -1) {
		known := false
		for _, k := range subjectPlaceholders {
			known = known || ph == k
		}
		if !known {
			v.addf(p+".case.subjectTemplate", "unknown placeholder %s (use %s)", ph, strings.Join(subjectPlaceholders, ", "))
		}
	}
	v.recordID(p+".case.recordTypeId", c.Case.RecordTypeID, "012")
	v.recordID(p+".case.ownerId", c.Case.OwnerID, "005", "00G")
	v.between(p+".case.attachWindowMinutes", c.Case.AttachWindowMinutes, 0, MaxAttachWindowMinutes)
}

// text checks optional free text that lands in a Salesforce field of max characters.
func (v *validator) text(path, s string, max int) {
	switch {
	case s == "":
	case strings.TrimSpace(s) == "":
		v.addf(path, "must not be blank; leave it out for the default")
	case utf8.RuneCountInString(s) > max:
		v.addf(path, "must be at most %d characters, not %d", max, utf8.RuneCountInString(s))
	case badRune(s, false) != "":
		v.addf(path, "%s", badRune(s, false))
	}
}

// recordID checks an optional Salesforce record id with one of the given key prefixes.
func (v *validator) recordID(path, id string, prefixes ...string) {
	if id == "" {
		return
	}
	if !recordIDRE.MatchString(id) {
		v.addf(path, "%q is not a 15 or 18 character Salesforce id", id)
		return
	}
	for _, pre := range prefixes {
		if strings.HasPrefix(id, pre) {
			return
		}
	}
	v.addf(path, "%q is not the id of the right kind of record (its prefix must be %s)", id, strings.Join(prefixes, " or "))
}
