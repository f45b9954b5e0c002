package config

import (
	"fmt"
	"strings"

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
		v.required(p+".salesforceStatus", m.SalesforceStatus)
		v.required(p+".connectStatus", m.ConnectStatus)
		if !m.ToConnect && !m.ToSalesforce {
			v.addf(p, "must set toConnect, toSalesforce or both")
		}
	}
	seenConnect := map[string]bool{}
	for i, s := range doc.StatusCatalog.Connect {
		p := fmt.Sprintf("$.statusCatalog.connect[%d]", i)
		if v.required(p+".name", s.Name) && seenConnect[s.Name] {
			v.addf(p+".name", "duplicate status %q", s.Name)
		}
		seenConnect[s.Name] = true
		v.oneOf(p+".type", s.Type, connectTypes)
	}
	seenID, seenName := map[string]bool{}, map[string]bool{}
	for i, s := range doc.StatusCatalog.Salesforce {
		p := fmt.Sprintf("$.statusCatalog.salesforce[%d]", i)
		if v.required(p+".id", s.ID) && seenID[s.ID] {
			v.addf(p+".id", "duplicate id %q", s.ID)
		}
		if v.required(p+".developerName", s.DeveloperName) && seenName[s.DeveloperName] {
			v.addf(p+".developerName", "duplicate developerName %q", s.DeveloperName)
		}
		seenID[s.ID], seenName[s.DeveloperName] = true, true
		if s.ID == OfflineStatusID && !s.IsOffline {
			v.addf(p+".isOffline", "status id %q is reserved for Offline and must set isOffline", OfflineStatusID)
		}
	}
	seenQueue := map[string]bool{}
	for i, q := range doc.RoutingQueues {
		p := fmt.Sprintf("$.routingQueues[%d]", i)
		if v.required(p+".salesforceQueueId", q.SalesforceQueueID) && seenQueue[q.SalesforceQueueID] {
			v.addf(p+".salesforceQueueId", "queue %q is mapped twice", q.SalesforceQueueID)
		}
		seenQueue[q.SalesforceQueueID] = true
		v.required(p+".connectQueueId", q.ConnectQueueID)
		v.required(p+".contactFlowId", q.ContactFlowID)
		if q.Priority < 0 || q.Priority > 5 {
			v.addf(p+".priority", "must be between 1 and 5, or 0 for the queue default")
		}
		for j, s := range q.Skills {
			v.required(fmt.Sprintf("%s.skills[%d]", p, j), s)
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
	return v.problems
}

func (v *validator) rule(p string, r Rule, s Settings) {
	if v.required(p+".id", r.ID) {
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
	v.required(p+".targetState", r.TargetState)
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
