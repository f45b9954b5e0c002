package rules

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
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
		var v values
		for _, t := range [2]term{c.left, c.right} {
			if t.op != opLiteral {
				v[t.op] = s.facts.get(t.op)
			}
		}
		return fmt.Sprintf("criteria[%d] %s is false (%s)", s.Criterion, c, c.values(&v))
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
func (c criterion) values(f *values) string {
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

// Evaluate decides, for each destination the event can reach, what to set, and lists every rule
// considered. It is Decide with the trace expanded into Steps, for the simulator and tests.
//
// Rules for f.Event are visited in priority order (then id). A disabled rule is skipped; a rule
// whose destination already has a winner is shadowed; otherwise its criteria are tested and the
// first match wins its destination. A destination without a winner falls back to the status
// mapping, keyed by the new state (effective Connect state, Salesforce DeveloperName, "Offline"
// on logout); work and workload events have no mapping. Failing both, the outcome is SourceNone.
func (s *Set) Evaluate(f Facts) Evaluation {
	d := s.Decide(f)
	e := Evaluation{Event: f.Event}
	if _, ok := f.Event.index(); !ok {
		return e
	}
	e.Outcomes = []Outcome{d.Outcome}
	e.Trace = d.Trace.Steps()
	return e
}

// Decision is the result of Decide: the outcome for the destination the event can reach (the
// other system), and the trace, kept compact until it is read.
type Decision struct {
	// Outcome is zero for an unknown event kind.
	Outcome Outcome
	Trace   Trace
}

// Decide is the hot path of evaluation: it picks the outcome as Evaluate does (see there) without
// allocating. Everything an evaluation reports (outcome reasons, rule summaries) was rendered at
// compile time; the trace keeps the facts and the winner and re-derives each rule's step when it
// is read, which is deterministic because evaluation is pure.
func (s *Set) Decide(f Facts) Decision {
	d := Decision{Trace: Trace{facts: f}}
	idx, ok := f.Event.index()
	if !ok {
		return d
	}
	var v values
	if s != nil {
		d.Trace.rules = s.byEvent[idx]
		v.load(&f, s.reads[idx])
	}
	dest := f.Event.System().Other()
	for i, r := range d.Trace.rules {
		// Rules cross systems (Compile checks it), so every rule here decides dest: the first
		// enabled one that matches wins and shadows the rest.
		if r.enabled {
			if ok, _ := r.match(&v); ok {
				d.Trace.winner = i + 1
				d.Outcome = r.won
				return d
			}
		}
	}
	d.Outcome = s.fallbackOutcome(&f, dest)
	return d
}

// match tests the criteria, returning the deciding criterion's index (see Step.Criterion).
func (r *rule) match(v *values) (bool, int) {
	for i, c := range r.criteria {
		holds := c.code.holds(c.left.value(v), c.right.value(v))
		if holds == r.any {
			return holds, i
		}
	}
	return !r.any, -1
}

// Trace records an evaluation compactly: the rules for the event, the winner and the facts.
// Steps expands it; Summary renders the one-line form the presence audit carries. It marshals
// to JSON as the list of Steps. The zero Trace lists no rules.
type Trace struct {
	rules  []*rule
	winner int // index+1 in rules of the winning rule, 0 for none
	facts  Facts
	stored []Step // read back from JSON, for a Trace that left its Set behind
}

// Len returns the number of rules the evaluation considered.
func (t Trace) Len() int {
	if t.rules == nil {
		return len(t.stored)
	}
	return len(t.rules)
}

// IsZero reports whether the trace lists no rules, so that `omitzero` leaves it out.
func (t Trace) IsZero() bool { return t.Len() == 0 }

// step re-derives rule i's result and deciding criterion.
func (t *Trace) step(i int, v *values) (StepResult, int) {
	r := t.rules[i]
	switch {
	case !r.enabled:
		return StepDisabled, -1
	case t.winner > 0 && i > t.winner-1:
		return StepShadowed, -1
	}
	_, ci := r.match(v)
	if i == t.winner-1 {
		return StepMatched, ci
	}
	return StepCriteriaFalse, ci
}

func (t *Trace) load(v *values) {
	for _, r := range t.rules {
		for _, c := range r.criteria {
			for _, side := range [2]term{c.left, c.right} {
				if side.op != opLiteral {
					v[side.op] = t.facts.get(side.op)
				}
			}
		}
	}
}

// Steps lists every rule for the event's kind in evaluation order, with its result.
func (t Trace) Steps() []Step {
	if t.rules == nil {
		return t.stored
	}
	var v values
	t.load(&v)
	facts := &Facts{}
	*facts = t.facts // one copy shared by the steps, for Step.Detail
	out := make([]Step, len(t.rules))
	for i, r := range t.rules {
		res, ci := t.step(i, &v)
		out[i] = Step{
			RuleID: r.id, RuleName: r.name, Path: r.path, Priority: r.priority,
			Destination: r.target.Destination, Result: res, Criterion: ci, rule: r, facts: facts,
		}
		if res == StepShadowed {
			out[i].ShadowedBy = t.rules[t.winner-1].id
		}
	}
	return out
}

// Summary writes the trace in one line: `Rules: "a" skipped (criteria[0] false); "b" won.`, or
// `No rules for <event>.` It uses the short Step.Reason of each rule, rendered at compile time.
func (t Trace) Summary(b *strings.Builder) {
	if t.Len() == 0 {
		b.WriteString("No rules for ")
		b.WriteString(string(t.facts.Event))
		b.WriteByte('.')
		return
	}
	if t.rules == nil {
		b.WriteString("Rules:")
		for i, st := range t.stored {
			if i > 0 {
				b.WriteByte(';')
			}
			b.WriteString(" " + strconv.Quote(st.RuleID))
			if st.Result == StepMatched {
				b.WriteString(" won")
				continue
			}
			b.WriteString(" skipped (" + st.Reason() + ")")
		}
		b.WriteByte('.')
		return
	}
	var v values
	t.load(&v)
	n := len("Rules:.")
	for _, r := range t.rules {
		n += len(r.skipped) + len(r.shadows) + 4 // an upper bound of each entry's length
	}
	b.Grow(n)
	b.WriteString("Rules:")
	for i, r := range t.rules {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteByte(' ')
		res, ci := t.step(i, &v)
		if res == StepMatched {
			b.WriteString(r.wins)
			continue
		}
		b.WriteString(r.skipped)
		switch {
		case res == StepShadowed:
			b.WriteString(t.rules[t.winner-1].shadows)
		case res == StepCriteriaFalse && ci >= 0:
			b.WriteString(r.failedAt[ci])
		case res == StepCriteriaFalse:
			b.WriteString("no criterion holds")
		default:
			b.WriteString(string(res))
		}
		b.WriteByte(')')
	}
	b.WriteByte('.')
}

// MarshalJSON writes the trace as its list of Steps.
func (t Trace) MarshalJSON() ([]byte, error) {
	steps := t.Steps()
	if steps == nil {
		steps = []Step{}
	}
	return json.Marshal(steps)
}

// UnmarshalJSON reads a list of Steps back, from an audit record.
func (t *Trace) UnmarshalJSON(b []byte) error {
	var steps []Step
	if err := json.Unmarshal(b, &steps); err != nil {
		return err
	}
	*t = Trace{stored: steps}
	if len(steps) > 0 && steps[0].facts != nil {
		t.facts.Event = steps[0].facts.Event
	}
	return nil
}

// fallbackOutcome is the outcome when no rule wins: the status mapping's, or none. The outcome
// for every state the set knows was rendered at compile time; an unknown state is rendered now.
func (s *Set) fallbackOutcome(f *Facts, dest Destination) Outcome {
	from := mappedState(f)
	if s != nil {
		if idx, ok := f.Event.index(); ok {
			if o, ok := s.fallback[idx][from]; ok {
				return o
			}
		}
	}
	return s.renderFallback(f.Event, dest, from)
}

// mappedState is the state the status mapping is keyed by for f's event: "" when there is none.
func mappedState(f *Facts) string {
	switch f.Event {
	case EventConnectAgentStateChanged:
		return f.ConnectNewState
	case EventSalesforceAgentStateChanged:
		return f.SalesforceNewState
	case EventSalesforceAgentLogout:
		return Offline
	}
	return ""
}

// fallbacks renders the fallback outcome of each event kind for every state the set knows.
func (s *Set) fallbacks() {
	connectStates := append(SystemStates(), "")
	for n := range s.connect {
		connectStates = append(connectStates, n)
	}
	for n := range s.toSalesforce {
		connectStates = append(connectStates, n)
	}
	sfStates := []string{""}
	for n := range s.sfByName {
		sfStates = append(sfStates, n)
	}
	for i, k := range eventKinds {
		states := []string{""}
		switch k {
		case EventConnectAgentStateChanged:
			states = connectStates
		case EventSalesforceAgentStateChanged:
			states = sfStates
		case EventSalesforceAgentLogout:
			states = []string{Offline}
		}
		s.fallback[i] = make(map[string]Outcome, len(states))
		for _, from := range states {
			s.fallback[i][from] = s.renderFallback(k, k.System().Other(), from)
		}
	}
}

// renderFallback builds the outcome for an event of kind whose rules all failed, when the
// mapping key is from.
func (s *Set) renderFallback(kind EventKind, dest Destination, from string) Outcome {
	o := Outcome{Destination: dest}
	var table map[string]mapping
	if s != nil {
		switch kind {
		case EventConnectAgentStateChanged:
			table = s.toSalesforce
		case EventSalesforceAgentStateChanged, EventSalesforceAgentLogout:
			table = s.toConnect
		}
	}
	if m, ok := table[from]; ok && from != "" {
		o.Source, o.Path, o.Target = SourceMapping, m.path, m.target
		o.Reason = "no rule matched; mapping " + m.path + ": " + kind.System().Label() + " " + from + " → " + m.target.String()
		return o
	}
	o.Source = SourceNone
	switch {
	case from == "" && (kind == EventSalesforceWorkAccepted || kind == EventSalesforceWorkloadChanged):
		o.Reason = "no rule matched; the status mapping does not apply to " + string(kind) + " events"
	case from == "":
		o.Reason = "no rule matched and the event has no new state to map"
	default:
		o.Reason = "no rule matched and no mapping for " + kind.System().Label() + " " + strconv.Quote(from) + " toward " + dest.Label()
	}
	return o
}
