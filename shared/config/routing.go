package config

import (
	"cmp"
	"fmt"
	"slices"
)

// Routing configures case routing: Salesforce Cases that land in monitored queues become Amazon
// Connect tasks. A document without a routing section leaves the feature off. Like Session, the
// section is kept as written; consumers read it through WithDefaults.
type Routing struct {
	// Enabled turns case routing on; at least one queue must then be mapped.
	Enabled bool `json:"enabled"`
	// Queues maps monitored Salesforce queues to Connect.
	Queues []RoutingQueue `json:"queues"`
	// SkillsField is the Case field holding the required skills; DefaultSkillsField when empty.
	SkillsField string `json:"skillsField,omitempty"`
	// SkillAttribute is the Connect predefined attribute whose values are the skills (for
	// proficiency-based routing); DefaultSkillAttribute when empty.
	SkillAttribute string `json:"skillAttribute,omitempty"`
	// MinProficiency is the proficiency level (1 to 5) an agent needs in each skill; 1 when 0.
	MinProficiency int `json:"minProficiency,omitempty"`
	// Triggers are the reasons that route a case (TriggerCreated ...); empty means all five.
	Triggers []string `json:"triggers,omitempty"`
	// InvalidSkills is what happens to a case whose skills field breaks the rules or names a
	// skill Connect does not have: InvalidSkillsHold (the default: the case is not routed, its
	// status says why) or InvalidSkillsRouteWithout (routed without skills).
	InvalidSkills string `json:"invalidSkills,omitempty"`
	// AutoDisconnectOnReply stops a case's task when the agent replies (an outgoing email, or a
	// comment by the case owner).
	AutoDisconnectOnReply bool `json:"autoDisconnectOnReply"`
	// AssignOwnerOnAccept makes the agent's linked Salesforce user the case owner when the task
	// connects to the agent.
	AssignOwnerOnAccept bool `json:"assignOwnerOnAccept"`
	// OnUnanswered is what happens when a task ends without reaching an agent (expired, or
	// stopped in Connect): UnansweredReroute (the default) or UnansweredMark.
	OnUnanswered string `json:"onUnanswered,omitempty"`
	// MaxReroutes bounds the re-routes of one case in a row without an agent answering; 3 when 0.
	MaxReroutes int `json:"maxReroutes,omitempty"`
	// SweepBatch is how many cases one backlog sweep routes at most; DefaultSweepBatch when 0.
	SweepBatch int `json:"sweepBatch,omitempty"`
}

// RoutingQueue maps one monitored Salesforce queue to Connect.
type RoutingQueue struct {
	// SalesforceQueue is the queue's DeveloperName, matched case-sensitively (as SORS does); the
	// bridge resolves and caches its Group id.
	SalesforceQueue string `json:"salesforceQueue"`
	// ConnectQueueID is the Connect queue the task is routed to. The contact flow transfers the
	// task there; saving checks that the queue exists.
	ConnectQueueID string `json:"connectQueueId"`
	// ContactFlowID is the Connect contact flow StartTaskContact runs (see infra/connect).
	ContactFlowID string `json:"contactFlowId"`
	// Priority is passed to the flow as the omnibridgeQueuePriority attribute, 1 (highest) to 5;
	// 0 leaves the queue's default.
	Priority int `json:"priority,omitempty"`
}

// The reasons a case is routed (Routing.Triggers).
const (
	// TriggerCreated: a new case in a monitored queue.
	TriggerCreated = "created"
	// TriggerOwnerChanged: a case went from a user back to a monitored queue.
	TriggerOwnerChanged = "ownerChanged"
	// TriggerQueueChanged: a case moved from another queue to a monitored one.
	TriggerQueueChanged = "queueChanged"
	// TriggerComment: someone other than the case owner added a comment.
	TriggerComment = "comment"
	// TriggerCustomerEmail: an incoming email (a customer reply) arrived on the case.
	TriggerCustomerEmail = "customerEmail"
)

// AllTriggers lists every trigger, in the order the README documents them.
var AllTriggers = []string{TriggerCreated, TriggerOwnerChanged, TriggerQueueChanged, TriggerComment, TriggerCustomerEmail}

// Routing defaults and choices.
const (
	DefaultSkillsField        = "Omnibridge_Skills__c"
	DefaultSkillAttribute     = "Skill"
	InvalidSkillsHold         = "hold"
	InvalidSkillsRouteWithout = "routeWithoutSkills"
	UnansweredReroute         = "reroute"
	UnansweredMark            = "mark"
	DefaultMaxReroutes        = 3
	DefaultSweepBatch         = 500
	// MaxSweepBatch bounds SweepBatch: one sweep must finish well inside a Lambda's 15 minutes
	// at Connect's default StartTaskContact rate.
	MaxSweepBatch = 5000
)

// WithDefaults returns the section with every default filled.
func (r Routing) WithDefaults() Routing {
	r.SkillsField = cmp.Or(r.SkillsField, DefaultSkillsField)
	r.SkillAttribute = cmp.Or(r.SkillAttribute, DefaultSkillAttribute)
	r.MinProficiency = cmp.Or(r.MinProficiency, 1)
	if len(r.Triggers) == 0 {
		r.Triggers = slices.Clone(AllTriggers)
	}
	r.InvalidSkills = cmp.Or(r.InvalidSkills, InvalidSkillsHold)
	r.OnUnanswered = cmp.Or(r.OnUnanswered, UnansweredReroute)
	r.MaxReroutes = cmp.Or(r.MaxReroutes, DefaultMaxReroutes)
	r.SweepBatch = cmp.Or(r.SweepBatch, DefaultSweepBatch)
	return r
}

// EffectiveRouting returns the document's routing section with its defaults; a document without
// one yields a disabled Routing.
func (d Document) EffectiveRouting() Routing {
	var r Routing
	if d.Routing != nil {
		r = *d.Routing
	}
	return r.WithDefaults()
}

// Triggered reports whether reason is one of the section's triggers (defaults applied).
func (r Routing) Triggered(reason string) bool {
	return slices.Contains(r.WithDefaults().Triggers, reason)
}

// Queue returns the mapping of the Salesforce queue with DeveloperName name.
func (r Routing) Queue(name string) (RoutingQueue, bool) {
	for _, q := range r.Queues {
		if q.SalesforceQueue == name {
			return q, true
		}
	}
	return RoutingQueue{}, false
}

// routing checks the routing section; like session, every option is checked whether or not the
// feature is enabled.
func (v *validator) routing(r Routing) {
	const p = "$.routing"
	if r.Enabled && len(r.Queues) == 0 {
		v.addf(p+".queues", "must map at least one queue while routing is enabled")
	}
	seen := map[string]int{}
	for i, q := range r.Queues {
		qp := fmt.Sprintf("%s.queues[%d]", p, i)
		if v.apiName(qp+".salesforceQueue", q.SalesforceQueue, false) {
			if j, dup := seen[q.SalesforceQueue]; dup {
				v.addf(qp+".salesforceQueue", "queue %q is already mapped at $.routing.queues[%d]", q.SalesforceQueue, j)
			}
			seen[q.SalesforceQueue] = i
		}
		v.id(qp+".connectQueueId", q.ConnectQueueID)
		v.id(qp+".contactFlowId", q.ContactFlowID)
		if q.Priority < 0 || q.Priority > 5 {
			v.addf(qp+".priority", "must be between 1 and 5, or left out for the queue's default")
		}
	}
	if r.SkillsField != "" {
		v.apiName(p+".skillsField", r.SkillsField, false)
	}
	if r.SkillAttribute != "" {
		v.id(p+".skillAttribute", r.SkillAttribute)
	}
	if r.MinProficiency != 0 {
		v.between(p+".minProficiency", r.MinProficiency, 1, 5)
	}
	seenTrigger := map[string]bool{}
	for i, t := range r.Triggers {
		tp := fmt.Sprintf("%s.triggers[%d]", p, i)
		if !slices.Contains(AllTriggers, t) {
			v.addf(tp, "unknown trigger %q; one of %v", t, AllTriggers)
			continue
		}
		if seenTrigger[t] {
			v.addf(tp, "trigger %q is listed twice", t)
		}
		seenTrigger[t] = true
	}
	v.oneOf(p+".invalidSkills", r.InvalidSkills, []string{"", InvalidSkillsHold, InvalidSkillsRouteWithout})
	v.oneOf(p+".onUnanswered", r.OnUnanswered, []string{"", UnansweredReroute, UnansweredMark})
	if r.MaxReroutes != 0 {
		v.between(p+".maxReroutes", r.MaxReroutes, 1, 20)
	}
	if r.SweepBatch != 0 {
		v.between(p+".sweepBatch", r.SweepBatch, 1, MaxSweepBatch)
	}
}
