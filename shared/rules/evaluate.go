package rules

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Source says how a destination's target was decided.
type Source string

// The sources of a decision.
const (
	// SourceRule means an enabled rule matched.
	SourceRule Source = "rule"
	// SourceMapping means no rule matched and the status mapping had a pair for the new state.
	SourceMapping Source = "mapping"
	// SourceNone means neither a rule nor the mapping applies: nothing is sent.
	SourceNone Source = "none"
	// SourceAvailability means no evaluation took place: session-driven availability asked for
	// the target directly (see presence.AvailabilityRequest).
	SourceAvailability Source = "availability"
)

// Outcome is the decision for one destination.
type Outcome struct {
	Destination Destination `json:"destination"`
	Source      Source      `json:"source"`
	// RuleID and RuleName identify the winning rule (SourceRule).
	RuleID   string `json:"ruleId,omitempty"`
	RuleName string `json:"ruleName,omitempty"`
	// Path is the JSON path of the winning rule or mapping row.
	Path string `json:"path,omitempty"`
	// Target is the state to set; zero for SourceNone.
	Target Target `json:"target"`
	// WhileOnContact is the winning rule's own policy; "" means the settings default (always so
	// for the mapping).
	WhileOnContact Policy `json:"whileOnContact,omitempty"`
	// Reason is one line for audits and the simulator.
	Reason string `json:"reason"`
}

// StepResult says what happened to one rule during an evaluation.
type StepResult string

// The step results.
const (
	// StepMatched means the rule matched and decided its destination.
	StepMatched StepResult = "matched"
	// StepDisabled means the rule is disabled.
	StepDisabled StepResult = "disabled"
	// StepCriteriaFalse means the rule's criteria did not hold (see Step.Criterion).
	StepCriteriaFalse StepResult = "criteria-false"
	// StepShadowed means a rule earlier in priority order already decided the destination.
	StepShadowed StepResult = "shadowed"
)

// Step records one rule considered during an evaluation, in evaluation order.
type Step struct {
	RuleID      string      `json:"ruleId"`
	RuleName    string      `json:"ruleName,omitempty"`
	Path        string      `json:"path"`
	Priority    int         `json:"priority"`
	Destination Destination `json:"destination"`
	Result      StepResult  `json:"result"`
	// Criterion is the deciding criterion's index: the first false one when all must hold, the
	// first true one when any may hold; -1 otherwise.
	Criterion int `json:"criterion"`
	// ShadowedBy is the id of the rule that had already decided the destination.
	ShadowedBy string `json:"shadowedBy,omitempty"`

	// The detail is rendered on demand, from the rule and the evaluation's facts, so that
	// Evaluate formats no strings.
	rule   *rule
	facts  *Facts
	stored string // detail read back from JSON, for a Step that left its Set behind
}

// Detail explains the step in one line, such as
// `criteria[0] connect.newState eq "Lunch" is false (connect.newState is "Break")`.
func (s Step) Detail() string {
	if s.rule == nil && s.stored != "" {
		return s.stored
	}
	switch s.Result {
	case StepDisabled:
		return "disabled"
	case StepShadowed:
		return s.Destination.Label() + " already decided by rule " + strconv.Quote(s.ShadowedBy)
	case StepMatched:
		if s.rule != nil && s.Criterion >= 0 {
			return fmt.Sprintf("matched: criteria[%d] %s holds", s.Criterion, s.rule.criteria[s.Criterion])
		}
		return "matched: all criteria hold"
	case StepCriteriaFalse:
		if s.rule == nil {
			return "criteria false"
		}
		if s.Criterion < 0 {
			return fmt.Sprintf("none of the %d criteria holds", len(s.rule.criteria))
		}
		c := s.rule.criteria[s.Criterion]
		if s.facts == nil {
			return fmt.Sprintf("criteria[%d] %s is false", s.Criterion, c)
		}
		return fmt.Sprintf("criteria[%d] %s is false (%s)", s.Criterion, c, c.values(s.facts))
	}
	return string(s.Result)
}

// Reason is a short form of Detail without the operand values, such as "criteria[0] false"; it
// is cheap enough to put in every audit record.
func (s Step) Reason() string {
	switch s.Result {
	case StepShadowed:
		return "shadowed by " + strconv.Quote(s.ShadowedBy)
	case StepMatched:
		return "matched"
	case StepCriteriaFalse:
		if s.Criterion < 0 {
			return "no criterion holds"
		}
		return "criteria[" + strconv.Itoa(s.Criterion) + "] false"
	}
	return string(s.Result)
}

// MarshalJSON adds the rendered detail, for the admin API's simulator and the audit log.
func (s Step) MarshalJSON() ([]byte, error) {
	type plain Step
	return json.Marshal(struct {
		plain
		Detail string `json:"detail"`
	}{plain(s), s.Detail()})
}

// UnmarshalJSON reads a step back from an audit record, keeping its rendered detail.
func (s *Step) UnmarshalJSON(b []byte) error {
	type plain Step
	var v struct {
		plain
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = Step(v.plain)
	s.stored = v.Detail
	return nil
}

// String renders the criterion as written: `connect.newState eq "Lunch"`.
func (c criterion) String() string {
	return c.left.String() + " " + string(c.cmp) + " " + c.right.String()
}

// values shows the operands' values, the part of a false criterion a reader can't see in the rule.
func (c criterion) values(f *Facts) string {
	var out string
	if c.left.op != opLiteral {
		out = c.left.String() + " is " + c.left.value(f).String()
	}
	if c.right.op != opLiteral {
		if out != "" {
			out += ", "
		}
		out += c.right.String() + " is " + c.right.value(f).String()
	}
	return out
}

// Evaluation is the result of evaluating a Set against one event's facts.
type Evaluation struct {
	Event EventKind `json:"event"`
	// Outcomes holds one decision per destination the event can reach: the other system.
	// It is empty for an unknown event kind.
	Outcomes []Outcome `json:"outcomes"`
	// Trace lists every rule for the event's kind in evaluation order.
	Trace []Step `json:"trace"`
}

// Outcome returns the decision for destination d.
func (e Evaluation) Outcome(d Destination) (Outcome, bool) {
	for _, o := range e.Outcomes {
		if o.Destination == d {
			return o, true
		}
	}
	return Outcome{}, false
}

// Evaluate decides, for each destination the event can reach, what to set.
//
// Rules for f.Event are visited in priority order (then id). A disabled rule is skipped; a rule
// whose destination already has a winner is shadowed; otherwise its criteria are tested and the
// first match wins its destination. A destination without a winner falls back to the status
// mapping, keyed by the new state (effective Connect state, Salesforce DeveloperName, "Offline"
// on logout); work and workload events have no mapping. Failing both, the outcome is SourceNone.
func (s *Set) Evaluate(f Facts) Evaluation {
	e := Evaluation{Event: f.Event}
	idx, ok := f.Event.index()
	if !ok {
		return e
	}
	var list []*rule
	if s != nil {
		list = s.byEvent[idx]
	}
	e.Trace = make([]Step, 0, len(list))
	facts := &f // one copy shared by the trace, for Step.Detail
	var winners [2]*rule
	for _, r := range list {
		st := Step{
			RuleID: r.id, RuleName: r.name, Path: r.path, Priority: r.priority,
			Destination: r.target.Destination, Criterion: -1, rule: r, facts: facts,
		}
		slot := r.target.Destination.slot()
		switch {
		case !r.enabled:
			st.Result = StepDisabled
		case winners[slot] != nil:
			st.Result = StepShadowed
			st.ShadowedBy = winners[slot].id
		default:
			matched, ci := r.match(facts)
			st.Criterion = ci
			if matched {
				st.Result = StepMatched
				winners[slot] = r
			} else {
				st.Result = StepCriteriaFalse
			}
		}
		e.Trace = append(e.Trace, st)
	}
	dest := f.Event.System().Other()
	e.Outcomes = []Outcome{s.outcome(dest, winners[dest.slot()], f)}
	return e
}

// match tests the criteria, returning the deciding criterion's index (see Step.Criterion).
func (r *rule) match(f *Facts) (bool, int) {
	for i, c := range r.criteria {
		holds := compare(c.cmp, c.left.value(f), c.right.value(f))
		if holds == r.any {
			return holds, i
		}
	}
	return !r.any, -1
}

func (s *Set) outcome(dest Destination, winner *rule, f Facts) Outcome {
	o := Outcome{Destination: dest}
	if winner != nil {
		o.Source, o.RuleID, o.RuleName, o.Path = SourceRule, winner.id, winner.name, winner.path
		o.Target, o.WhileOnContact = winner.target, winner.policy
		o.Reason = "rule " + strconv.Quote(winner.id) + " → " + winner.target.String()
		return o
	}
	from, table := "", map[string]mapping(nil)
	switch f.Event {
	case EventConnectAgentStateChanged:
		from = f.ConnectNewState
		if s != nil {
			table = s.toSalesforce
		}
	case EventSalesforceAgentStateChanged:
		from = f.SalesforceNewState
		if s != nil {
			table = s.toConnect
		}
	case EventSalesforceAgentLogout:
		from = Offline
		if s != nil {
			table = s.toConnect
		}
	}
	if m, ok := table[from]; ok && from != "" {
		o.Source, o.Path, o.Target = SourceMapping, m.path, m.target
		o.Reason = "no rule matched; mapping " + m.path + ": " + f.Event.System().Label() + " " + from + " → " + m.target.String()
		return o
	}
	o.Source = SourceNone
	switch {
	case from == "" && (f.Event == EventSalesforceWorkAccepted || f.Event == EventSalesforceWorkloadChanged):
		o.Reason = "no rule matched; the status mapping does not apply to " + string(f.Event) + " events"
	case from == "":
		o.Reason = "no rule matched and the event has no new state to map"
	default:
		o.Reason = "no rule matched and no mapping for " + f.Event.System().Label() + " " + strconv.Quote(from) + " toward " + dest.Label()
	}
	return o
}
