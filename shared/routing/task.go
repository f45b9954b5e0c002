package routing

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/omnibridge/omnibridge/shared/config"
)

// The contact attributes the bridge sets on a task; the contact flow in infra/connect reads them.
const (
	AttrCaseID          = "omnibridgeCaseId"
	AttrCaseNumber      = "omnibridgeCaseNumber"
	AttrCasePriority    = "omnibridgeCasePriority"
	AttrQueuePriority   = "omnibridgeQueuePriority"
	AttrSkills          = "omnibridgeSkills"
	AttrRoutingCriteria = "omnibridgeRoutingCriteria"
	AttrReason          = "omnibridgeReason"
)

// Case is what a task is built from.
type Case struct {
	ID       string
	Number   string
	Subject  string
	Priority string
}

// TaskSpec is the task to start for a case: a name and description for the agent, attributes
// for the flow and a link back to the case.
type TaskSpec struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Attributes  map[string]string `json:"attributes"`
	// CaseURL is the case's Lightning URL, shown on the task as a URL reference named "Case".
	CaseURL string `json:"caseUrl,omitempty"`
}

// maxTaskName is Connect's limit on a task's name.
const maxTaskName = 512

// BuildTask builds the task for a case routed for reason through queue q with the given skills:
// the case number and subject as its name, and the routing criteria as a JSON attribute the
// flow's "Set routing criteria" block applies (so the criteria hold from the moment the task
// joins the queue; no agent without the skills is offered it first).
func BuildTask(c Case, reason string, q config.RoutingQueue, skills []string, cfg config.Routing, caseURL string) (TaskSpec, error) {
	name := "Case " + c.Number
	if c.Subject != "" {
		name += ": " + c.Subject
	}
	if utf8.RuneCountInString(name) > maxTaskName {
		name = string([]rune(name)[:maxTaskName-1]) + "…"
	}
	attrs := map[string]string{
		AttrCaseID:     c.ID,
		AttrCaseNumber: c.Number,
		AttrReason:     reason,
	}
	if c.Priority != "" {
		attrs[AttrCasePriority] = c.Priority
	}
	if q.Priority > 0 {
		attrs[AttrQueuePriority] = strconv.Itoa(q.Priority)
	}
	if len(skills) > 0 {
		crit, err := json.Marshal(Criteria(skills, cfg))
		if err != nil {
			return TaskSpec{}, fmt.Errorf("routing criteria: %w", err)
		}
		attrs[AttrSkills] = strings.Join(skills, ";")
		attrs[AttrRoutingCriteria] = string(crit)
	}
	return TaskSpec{Name: name, Description: c.Subject, Attributes: attrs, CaseURL: caseURL}, nil
}

// RoutingCriteria is Connect's routing criteria in the shape of UpdateRoutingCriteria and
// UpdateContactRoutingData: steps tried in order until the contact joins an agent.
type RoutingCriteria struct {
	Steps []CriteriaStep `json:"Steps"`
}

// CriteriaStep is one routing step; without an expiry it waits for a matching agent.
type CriteriaStep struct {
	Expression CriteriaExpression `json:"Expression"`
}

// CriteriaExpression is a single condition or an AND of conditions.
type CriteriaExpression struct {
	AttributeCondition *AttributeCondition  `json:"AttributeCondition,omitempty"`
	AndExpression      []CriteriaExpression `json:"AndExpression,omitempty"`
}

// AttributeCondition requires a proficiency in one predefined attribute value.
type AttributeCondition struct {
	Name               string  `json:"Name"`
	Value              string  `json:"Value"`
	ProficiencyLevel   float64 `json:"ProficiencyLevel"`
	ComparisonOperator string  `json:"ComparisonOperator"`
}

// Criteria builds the routing criteria for skills: one non-expiring step requiring every skill
// at the configured proficiency, on the configured predefined attribute.
func Criteria(skills []string, cfg config.Routing) RoutingCriteria {
	cfg = cfg.WithDefaults()
	conds := make([]CriteriaExpression, len(skills))
	for i, s := range skills {
		conds[i] = CriteriaExpression{AttributeCondition: &AttributeCondition{
			Name: cfg.SkillAttribute, Value: s, ProficiencyLevel: float64(cfg.MinProficiency), ComparisonOperator: "NumberGreaterOrEqualTo",
		}}
	}
	expr := CriteriaExpression{AndExpression: conds}
	if len(conds) == 1 {
		expr = conds[0]
	}
	return RoutingCriteria{Steps: []CriteriaStep{{Expression: expr}}}
}
