package config

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// The enumerations the document's structure allows.
var (
	destinations    = []string{"connect", "salesforce"}
	matchModes      = []string{"", "all", "any"}
	contactPolicies = []string{"ignore", "defer", "apply"}
	connectTypes    = []string{"ROUTABLE", "CUSTOM", "OFFLINE"}
	identityFields  = []string{"Username", "FederationIdentifier"}
)

// OfflineStatusID is the Salesforce status id reserved for Offline.
const OfflineStatusID = "0"

// Validate checks a decoded document's structure: required fields, enumerations, ranges and
// uniqueness of ids, and the session section (its names and its targets against the status
// catalog). It returns every problem found. Rule semantics (events, operands, targets,
// cycles) are checked by package rules.
func Validate(doc Document) []apperr.Problem {
	v := &validator{}
	if doc.SchemaVersion != SchemaVersion {
		v.addf("$.schemaVersion", "must be %d", SchemaVersion)
	}
	for i, r := range doc.Rules {
		v.rule(fmt.Sprintf("$.rules[%d]", i), r, doc.Settings)
	}
	for i, m := range doc.StatusMappings {
		p := fmt.Sprintf("$.statusMappings[%d]", i)
		v.id(p+".salesforceStatus", m.SalesforceStatus)
		v.id(p+".connectStatus", m.ConnectStatus)
		if !m.ToConnect && !m.ToSalesforce {
			v.addf(p, "must set toConnect, toSalesforce or both")
		}
	}
	seenConnect := map[string]bool{}
	for i, s := range doc.StatusCatalog.Connect {
		p := fmt.Sprintf("$.statusCatalog.connect[%d]", i)
		if v.id(p+".name", s.Name) && seenConnect[s.Name] {
			v.addf(p+".name", "duplicate status %q", s.Name)
		}
		seenConnect[s.Name] = true
		v.oneOf(p+".type", s.Type, connectTypes)
	}
	seenID, seenName := map[string]bool{}, map[string]bool{}
	for i, s := range doc.StatusCatalog.Salesforce {
		p := fmt.Sprintf("$.statusCatalog.salesforce[%d]", i)
		if v.id(p+".id", s.ID) && seenID[s.ID] {
			v.addf(p+".id", "duplicate id %q", s.ID)
		}
		if v.id(p+".developerName", s.DeveloperName) && seenName[s.DeveloperName] {
			v.addf(p+".developerName", "duplicate developerName %q", s.DeveloperName)
		}
		seenID[s.ID], seenName[s.DeveloperName] = true, true
		v.name(p+".label", s.Label)
		if s.ID == OfflineStatusID && !s.IsOffline {
			v.addf(p+".isOffline", "status id %q is reserved for Offline and must set isOffline", OfflineStatusID)
		}
	}
	s := doc.Settings
	v.oneOf("$.settings.whileOnContact", s.WhileOnContact, contactPolicies)
	v.between("$.settings.echoWindowSeconds", s.EchoWindowSeconds, 1, 3600)
	v.between("$.settings.loopGuard.maxCrossings", s.LoopGuard.MaxCrossings, 1, 100)
	v.between("$.settings.loopGuard.windowSeconds", s.LoopGuard.WindowSeconds, 1, 3600)
	v.oneOf("$.settings.identity.salesforceField", s.Identity.SalesforceField, identityFields)
	v.between("$.settings.commandAckTimeoutSeconds", s.CommandAckTimeoutSeconds, 5, 3600)
	v.between("$.settings.auditRetentionDays", s.AuditRetentionDays, 1, 3650)
	v.between("$.settings.maxClockSkewSeconds", s.MaxClockSkewSeconds, 1, 3600)
	if doc.Session != nil {
		v.session(*doc.Session, doc.StatusCatalog)
	}
	if doc.Routing != nil {
		v.routing(*doc.Routing)
	}
	if doc.CallLogging != nil {
		v.callLogging(*doc.CallLogging)
	}
	return v.problems
}

func (v *validator) rule(p string, r Rule, s Settings) {
	v.name(p+".name", r.Name)
	if v.id(p+".id", r.ID) {
		if v.ruleIDs == nil {
			v.ruleIDs = map[string]bool{}
		}
		if v.ruleIDs[r.ID] {
			v.addf(p+".id", "duplicate rule id %q", r.ID)
		}
		v.ruleIDs[r.ID] = true
	}
	if r.Priority < 0 {
		v.addf(p+".priority", "must be zero or more")
	}
	v.required(p+".sourceEvent", r.SourceEvent)
	v.oneOf(p+".match", r.Match, matchModes)
	if len(r.Criteria) == 0 {
		v.addf(p+".criteria", "must hold at least one criterion")
	}
	for j, c := range r.Criteria {
		cp := fmt.Sprintf("%s.criteria[%d]", p, j)
		v.operand(cp+".left", c.Left)
		v.required(cp+".comparator", c.Comparator)
		v.operand(cp+".right", c.Right)
	}
	v.oneOf(p+".destination", r.Destination, destinations)
	v.id(p+".targetState", r.TargetState)
	if r.WhileOnContact != "" {
		v.oneOf(p+".whileOnContact", r.WhileOnContact, contactPolicies)
	}
}

func (v *validator) operand(p string, o Operand) {
	switch {
	case o.Operand == "" && o.Value == nil:
		v.addf(p, "must set operand or value")
	case o.Operand != "" && o.Value != nil:
		v.addf(p, "must set only one of operand and value")
	}
}

type validator struct {
	problems []apperr.Problem
	ruleIDs  map[string]bool
}

func (v *validator) addf(path, format string, args ...any) {
	v.problems = append(v.problems, apperr.Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) required(path, s string) bool {
	if strings.TrimSpace(s) == "" {
		v.addf(path, "is required")
		return false
	}
	return true
}

// Limits on the document's identifiers and names, in characters (Unicode code points).
const (
	// MaxIDLength bounds ids and the names that act as ids: rule ids, status names, ids and
	// DeveloperNames, target states, queue and contact flow ids, skills, session and login
	// types, profile names.
	MaxIDLength = 128
	// MaxNameLength bounds free-text names: rule names and status labels.
	MaxNameLength = 255
)

// id checks a required identifier: at most MaxIDLength characters, no leading or trailing
// space, and no control, invisible formatting or bidirectional-override characters, which
// would make two ids that look the same differ (or one id display as another). It reports
// whether s passed.
func (v *validator) id(path, s string) bool {
	if !v.required(path, s) {
		return false
	}
	switch n := utf8.RuneCountInString(s); {
	case n > MaxIDLength:
		v.addf(path, "must be at most %d characters, not %d", MaxIDLength, n)
		return false
	case strings.TrimSpace(s) != s:
		v.addf(path, "must not start or end with a space")
		return false
	}
	if msg := badRune(s, true); msg != "" {
		v.addf(path, "%s", msg)
		return false
	}
	return true
}

// name checks optional free text: at most MaxNameLength characters, and no control or
// bidirectional-override characters.
func (v *validator) name(path, s string) {
	if n := utf8.RuneCountInString(s); n > MaxNameLength {
		v.addf(path, "must be at most %d characters, not %d", MaxNameLength, n)
		return
	}
	if msg := badRune(s, false); msg != "" {
		v.addf(path, "%s", msg)
	}
}

// badRune describes the first character of s that has no place in an id (strict) or a name.
func badRune(s string, strict bool) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	for _, r := range s {
		switch {
		case unicode.IsControl(r):
			return fmt.Sprintf("must not contain control character U+%04X", r)
		case unicode.Is(unicode.Bidi_Control, r):
			return fmt.Sprintf("must not contain bidirectional control character U+%04X", r)
		case strict && unicode.Is(unicode.Cf, r):
			return fmt.Sprintf("must not contain invisible formatting character U+%04X", r)
		}
	}
	return ""
}

func (v *validator) oneOf(path, s string, allowed []string) {
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	var shown []string
	for _, a := range allowed {
		if a != "" {
			shown = append(shown, fmt.Sprintf("%q", a))
		}
	}
	v.addf(path, "must be one of %s", strings.Join(shown, ", "))
}

func (v *validator) between(path string, n, lo, hi int) {
	if n < lo || n > hi {
		v.addf(path, "must be between %d and %d", lo, hi)
	}
}
