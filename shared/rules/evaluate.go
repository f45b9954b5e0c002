package rules

import (
	"encoding/json"
	"fmt"
	"slices"
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
	var v values
	v.load(f, []operandID{c.left.op, c.right.op})
	var out string
	if c.left.op != opLiteral {
		out = c.left.String() + " is " + c.left.value(&v).String()
	}
	if c.right.op != opLiteral {
		if out != "" {
			out += ", "
		}
		out += c.right.String() + " is " + c.right.value(&v).String()
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
// considered with its result. It is Decide with the trace expanded into Steps, for the
// simulator and tests.
//
// Rules for f.Event are visited in priority order (then id). A disabled rule is skipped; a rule
// whose destination already has a winner is shadowed; otherwise its criteria are tested and the
// first match wins its destination. A destination without a winner falls back to the status
// mapping, keyed by the new state (effective Connect state, Salesforce DeveloperName, "Offline"
// on logout); work and workload events have no mapping. Failing both, the outcome is SourceNone.
func (s *Set) Evaluate(f Facts) Evaluation {
	e := Evaluation{Event: f.Event}
	if _, ok := f.Event.index(); !ok {
		return e
	}
	o, t := s.Decide(f, nil)
	e.Outcomes = []Outcome{o}
	e.Trace = t.Steps()
	return e
}

// Decide is the hot path of Evaluate: it returns the outcome for the destination the event can
// reach (the other system) and the trace, without allocating. Everything an outcome or a
// summary says was rendered at compile time; the trace keeps the evaluation's input and expands
// into Steps only when it is read. When summary is not nil, Decide also writes the trace's
// Summary to it in the same pass over the rules. For an unknown event kind it returns a zero
// Outcome and writes nothing.
func (s *Set) Decide(f Facts, summary *strings.Builder) (Outcome, Trace) {
	t := Trace{facts: f}
	idx, ok := f.Event.index()
	if !ok {
		return Outcome{}, t
	}
	if s != nil {
		t.rules, t.reads = s.byEvent[idx], s.reads[idx]
	}
	dest := f.Event.System().Other()
	var won *rule
	w := summaryWriter{b: summary}
	w.start(&t)
	t.walk(func(r *rule, res StepResult, ci int, by *rule) {
		if res == StepMatched && r.target.Destination == dest {
			won = r
		}
		w.entry(r, res, ci, by)
	})
	w.end()
	if won != nil {
		return won.won, t
	}
	return s.fallbackOutcome(&f, idx, dest), t
}

// Trace records one evaluation: the rules for the event's kind and the facts they were tested
// on. Evaluation is pure, so the trace re-derives each rule's result when it is read (Steps,
// Summary, JSON) instead of storing it: recording it costs nothing. It marshals to JSON as its
// Steps, and a trace read back from JSON keeps those. The zero Trace has no rules.
type Trace struct {
	rules []*rule
	reads []operandID // the operands the rules read
	facts Facts
	read  []Step // the steps of a trace read back from JSON, which has no rules
}

// Len returns the number of rules the evaluation considered.
func (t Trace) Len() int { return len(t.rules) + len(t.read) }

// IsZero reports whether the trace lists no rules, so that `omitzero` leaves it out.
func (t Trace) IsZero() bool { return t.Len() == 0 }

// walk visits the rules in evaluation order with each one's result, its deciding criterion
// (see Step.Criterion) and, for a shadowed rule, the rule that shadowed it.
func (t *Trace) walk(visit func(r *rule, res StepResult, criterion int, by *rule)) {
	var winners [2]*rule
	var v values
	v.load(&t.facts, t.reads)
	for _, r := range t.rules {
		switch {
		case !r.enabled:
			visit(r, StepDisabled, -1, nil)
		case winners[r.slot] != nil:
			visit(r, StepShadowed, -1, winners[r.slot])
		default:
			matched, ci := r.match(&v)
			if !matched {
				visit(r, StepCriteriaFalse, ci, nil)
				continue
			}
			winners[r.slot] = r
			visit(r, StepMatched, ci, nil)
		}
	}
}

// Steps lists every rule for the event's kind in evaluation order, with its result.
func (t Trace) Steps() []Step {
	if t.read != nil {
		return slices.Clone(t.read)
	}
	steps := make([]Step, 0, len(t.rules))
	facts := &t.facts // one copy shared by the steps, for Step.Detail
	t.walk(func(r *rule, res StepResult, ci int, by *rule) {
		st := Step{
			RuleID: r.id, RuleName: r.name, Path: r.path, Priority: r.priority,
			Destination: r.target.Destination, Result: res, Criterion: ci, rule: r, facts: facts,
		}
		if by != nil {
			st.ShadowedBy = by.id
		}
		steps = append(steps, st)
	})
	return steps
}

// Summary writes the trace in one line, each rule with the short reason of Step.Reason:
// `Rules: "a" skipped (criteria[0] false); "b" won.`, or `No rules for <event>.` It writes only
// strings rendered at compile time.
func (t Trace) Summary(b *strings.Builder) {
	w := summaryWriter{b: b}
	w.start(&t)
	for _, st := range t.read {
		w.sep()
		b.WriteString(strconv.Quote(st.RuleID))
		if st.Result == StepMatched {
			b.WriteString(" won")
		} else {
			b.WriteString(" skipped (" + st.Reason() + ")")
		}
	}
	t.walk(w.entry)
	w.end()
}

// summaryWriter writes Trace.Summary as the rules are walked; with a nil builder it writes nothing.
type summaryWriter struct {
	b       *strings.Builder
	entries int
}

func (w *summaryWriter) start(t *Trace) {
	if w.b == nil {
		return
	}
	if t.Len() == 0 {
		w.b.WriteString("No rules for ")
		w.b.WriteString(string(t.facts.Event))
		return
	}
	n := len("Rules:.")
	for _, r := range t.rules {
		n += r.summaryLen
	}
	w.b.Grow(n)
	w.b.WriteString("Rules:")
}

// sep starts an entry.
func (w *summaryWriter) sep() {
	if w.entries > 0 {
		w.b.WriteByte(';')
	}
	w.entries++
	w.b.WriteByte(' ')
}

func (w *summaryWriter) entry(r *rule, res StepResult, ci int, by *rule) {
	if w.b == nil {
		return
	}
	w.sep()
	b := w.b
	if res == StepCriteriaFalse && ci >= 0 {
		b.WriteString(r.falseAt[ci]) // the common case, in one piece
		return
	}
	b.WriteString(r.quoted)
	if res == StepMatched {
		b.WriteString(" won")
		return
	}
	b.WriteString(" skipped (")
	switch res {
	case StepShadowed:
		b.WriteString("shadowed by ")
		b.WriteString(by.quoted)
	case StepCriteriaFalse:
		b.WriteString("no criterion holds")
	default:
		b.WriteString(string(res))
	}
	b.WriteByte(')')
}

func (w *summaryWriter) end() {
	if w.b != nil {
		w.b.WriteByte('.')
	}
}

// MarshalJSON writes the trace as its list of Steps.
func (t Trace) MarshalJSON() ([]byte, error) { return json.Marshal(t.Steps()) }

// UnmarshalJSON reads a list of Steps back, such as a simulation's response.
func (t *Trace) UnmarshalJSON(b []byte) error {
	var steps []Step
	if err := json.Unmarshal(b, &steps); err != nil {
		return err
	}
	*t = Trace{read: steps}
	if t.read == nil {
		t.read = []Step{}
	}
	return nil
}

// match tests the criteria, returning the deciding criterion's index (see Step.Criterion).
func (r *rule) match(v *values) (bool, int) {
	for i := range r.criteria {
		c := &r.criteria[i]
		holds := c.code.holds(c.left.value(v), c.right.value(v))
		if holds == r.any {
			return holds, i
		}
	}
	return !r.any, -1
}

// fallbackOutcome is the outcome toward dest when no rule wins: the status mapping's, or none.
// It was rendered at compile time for every state the set knows; an unknown state is rendered
// now.
func (s *Set) fallbackOutcome(f *Facts, idx int, dest Destination) Outcome {
	from := mappedState(f)
	if s != nil {
		if o, ok := s.fallback[idx][from]; ok {
			return o
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

// prepare renders, once at compile time, everything evaluations report and read: each rule's
// outcome and summary strings, the operands each event kind's rules read, and the fallback
// outcomes.
func (s *Set) prepare() {
	for i, list := range s.byEvent {
		longest := 0
		for _, r := range list {
			r.render()
			longest = max(longest, len(r.quoted))
			for _, c := range r.criteria {
				for _, t := range [2]term{c.left, c.right} {
					if t.op != opLiteral && !slices.Contains(s.reads[i], t.op) {
						s.reads[i] = append(s.reads[i], t.op)
					}
				}
			}
		}
		for _, r := range list {
			// An entry is `; "id" skipped (reason)` at most; criteria entries grow with the index.
			r.summaryLen = len("; ") + len(r.quoted) + len(" skipped ()") + max(len("no criterion holds"), len("shadowed by ")+longest)
			if n := len(r.falseAt); n > 0 {
				r.summaryLen = max(r.summaryLen, len("; ")+len(r.falseAt[n-1]))
			}
		}
	}
	s.renderFallbacks()
}

// render fills in what evaluations of the rule report.
func (r *rule) render() {
	r.slot, r.quoted = r.target.Destination.slot(), strconv.Quote(r.id)
	r.won = Outcome{
		Destination: r.target.Destination, Source: SourceRule, RuleID: r.id, RuleName: r.name, Path: r.path,
		Target: r.target, WhileOnContact: r.policy, Reason: "rule " + r.quoted + " → " + r.target.String(),
	}
	r.falseAt = make([]string, len(r.criteria))
	for i := range r.criteria {
		r.falseAt[i] = r.quoted + " skipped (criteria[" + strconv.Itoa(i) + "] false)"
	}
}

// renderFallbacks renders the fallback outcome of every event kind for each state the catalog
// or the mapping knows, and for no state.
func (s *Set) renderFallbacks() {
	connectStates, sfStates := append(SystemStates(), ""), []string{""}
	for n := range s.connect {
		connectStates = append(connectStates, n)
	}
	for n := range s.toSalesforce {
		connectStates = append(connectStates, n)
	}
	for n := range s.sfByName {
		sfStates = append(sfStates, n)
	}
	for n := range s.toConnect {
		sfStates = append(sfStates, n)
	}
	for i, k := range eventKinds {
		states := sfStates
		if k.System() == Connect {
			states = connectStates
		}
		s.fallback[i] = make(map[string]Outcome, len(states))
		for _, from := range states {
			s.fallback[i][from] = s.renderFallback(k, k.System().Other(), from)
		}
	}
}

// renderFallback builds the outcome toward dest for an event of kind that no rule decided, when
// the status mapping's key is from.
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
