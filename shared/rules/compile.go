package rules

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/config"
)

// Target is a resolved target state: a Connect status, or a Salesforce presence status from the
// catalog.
type Target struct {
	Destination Destination `json:"destination"`
	// ConnectStatus is the Connect status name (destination connect).
	ConnectStatus string `json:"connectStatus,omitempty"`
	// SalesforceStatusID is the ServicePresenceStatus id, "0" for Offline (destination salesforce).
	SalesforceStatusID string `json:"salesforceStatusId,omitempty"`
	// SalesforceStatus is the ServicePresenceStatus DeveloperName, or "Offline".
	SalesforceStatus string `json:"salesforceStatus,omitempty"`
	// SalesforceOffline is set for Offline (id "0"), which is no ServicePresenceStatus record:
	// setting it means logging the agent out of Omni-Channel.
	SalesforceOffline bool `json:"salesforceOffline,omitempty"`
}

// State returns the state name the target sets, in the destination's own naming.
func (t Target) State() string {
	if t.Destination == Connect {
		return t.ConnectStatus
	}
	return t.SalesforceStatus
}

// String renders the target as "Connect Lunch" or "Salesforce Away".
func (t Target) String() string {
	if t.Destination == "" {
		return "nothing"
	}
	return t.Destination.Label() + " " + t.State()
}

// Set is a compiled, immutable rule set with its status mapping and catalog. It is safe for
// concurrent use; compile it once per config version and evaluate it many times. A nil *Set has
// no rules and no mapping, so every evaluation decides "nothing".
type Set struct {
	byEvent      [len(eventKinds)][]*rule
	reads        [len(eventKinds)][]operandID // the operands the rules of each kind read
	toSalesforce map[string]mapping           // effective Connect state -> Salesforce target
	toConnect    map[string]mapping           // Salesforce DeveloperName -> Connect target
	sfByID       map[string]config.SalesforceStatus
	sfByName     map[string]config.SalesforceStatus
	connect      map[string]config.ConnectStatus
	warnings     []apperr.Problem
	// fallback holds, by event kind, the outcome when no rule wins, keyed by the state the status
	// mapping reads (see mappedState): rendered at compile time for every state the catalog and
	// the mapping know.
	fallback [len(eventKinds)]map[string]Outcome
}

type rule struct {
	id, name, path string
	priority       int
	enabled        bool
	event          EventKind
	any            bool
	criteria       []criterion
	target         Target
	policy         Policy

	// Rendered at compile time, so that an evaluation and its summary format nothing.
	slot    int      // the target destination's slot
	quoted  string   // the id, quoted
	won     Outcome  // the outcome when the rule wins
	falseAt []string // the rule's Summary entry when criteria are false, by deciding criterion
	// summaryLen bounds the length of the rule's entry in Trace.Summary, given the longest
	// quoted id of the rules it may be shadowed by.
	summaryLen int
}

type criterion struct {
	left, right term
	cmp         Comparator
	code        cmpCode // cmp, compiled
}

// term is one side of a criterion: an operand, or a literal pre-parsed to its comparison type.
type term struct {
	op  operandID
	lit operandValue
}

// value reads the term from an evaluation's operand values.
func (t *term) value(v *values) *operandValue {
	if t.op == opLiteral {
		return &t.lit
	}
	return &v[t.op]
}

// String renders the term as written: an operand name or a static value.
func (t term) String() string {
	if t.op == opLiteral {
		return t.lit.String()
	}
	return string(operandTable[t.op].Name)
}

type mapping struct {
	target Target
	path   string
	from   string
}

// Compile checks a document and compiles its rules and status mapping. It returns every problem
// found, each with its JSON path, and a nil Set when there is any. The structural problems of
// config.Validate are included (each reported once; the semantic checks skip fields that fail
// structurally), so after a successful config.Parse only semantic problems can appear.
//
// Semantic problems: unknown event, operand or comparator; an operand the source event doesn't
// supply; operands of different types; an ordering comparator on a non-numeric operand; a
// non-numeric value compared with a number; a criterion comparing two static values; a rule
// whose destination is its own event's system; a target that is not in the status catalog or is
// a Connect system state; status mappings naming unknown statuses or mapping one status twice.
//
// Every rule is checked, enabled or not, so enabling one later cannot break a saved document.
// Problems come structural first (config.Validate's order), then semantic in document order.
// Warnings (see Set.Warnings) never block a document.
func Compile(doc config.Document) (*Set, []apperr.Problem) {
	c := &compiler{set: &Set{
		toSalesforce: map[string]mapping{},
		toConnect:    map[string]mapping{},
	}}
	c.problems = config.Validate(doc)
	c.catalog(doc.StatusCatalog)
	for i, r := range doc.Rules {
		c.rule(i, r)
	}
	c.mappings(doc.StatusMappings)
	if len(c.problems) > 0 {
		return nil, c.problems
	}
	for _, list := range c.set.byEvent {
		// Priority order, then id, so that equal priorities still evaluate deterministically.
		slices.SortStableFunc(list, func(a, b *rule) int {
			return cmp.Or(cmp.Compare(a.priority, b.priority), strings.Compare(a.id, b.id))
		})
	}
	c.set.prepare()
	c.set.warnings = append(c.warnings, cycleWarnings(c.set)...)
	return c.set, nil
}

// Warnings returns problems that don't block the document: status cycles between rules (see
// package doc), static values that name no known state, and settings that have no effect.
func (s *Set) Warnings() []apperr.Problem {
	if s == nil {
		return nil
	}
	return slices.Clone(s.warnings)
}

// SalesforceStatusByID returns the catalog status with the given id; "0" is always Offline.
func (s *Set) SalesforceStatusByID(id string) (config.SalesforceStatus, bool) {
	if s == nil {
		if id == OfflineStatusID {
			return offlineStatus(), true
		}
		return config.SalesforceStatus{}, false
	}
	st, ok := s.sfByID[id]
	return st, ok
}

// SalesforceStatusByName returns the catalog status with the given DeveloperName; "Offline" is
// always known.
func (s *Set) SalesforceStatusByName(name string) (config.SalesforceStatus, bool) {
	if s == nil {
		if name == Offline {
			return offlineStatus(), true
		}
		return config.SalesforceStatus{}, false
	}
	st, ok := s.sfByName[name]
	return st, ok
}

// TargetFor returns the target that sets dest to the status name (a Connect status name, or a
// Salesforce DeveloperName or "Offline"), checked against the catalog as rule targets are:
// Connect system states are never targets. It reports false for an unknown status.
func (s *Set) TargetFor(dest Destination, name string) (Target, bool) {
	switch dest {
	case Connect:
		if IsSystemState(name) {
			return Target{}, false
		}
		if s != nil {
			if _, ok := s.connect[name]; !ok {
				return Target{}, false
			}
		}
		return Target{Destination: Connect, ConnectStatus: name}, true
	case Salesforce:
		st, ok := s.SalesforceStatusByName(name)
		if !ok {
			return Target{}, false
		}
		return Target{Destination: Salesforce, SalesforceStatusID: st.ID, SalesforceStatus: st.DeveloperName, SalesforceOffline: st.IsOffline}, true
	}
	return Target{}, false
}

func offlineStatus() config.SalesforceStatus {
	return config.SalesforceStatus{ID: OfflineStatusID, DeveloperName: Offline, Label: Offline, IsOffline: true}
}

type compiler struct {
	set      *Set
	problems []apperr.Problem
	warnings []apperr.Problem
}

func (c *compiler) problemf(path, format string, args ...any) {
	c.problems = append(c.problems, apperr.Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (c *compiler) warnf(path, format string, args ...any) {
	c.warnings = append(c.warnings, apperr.Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (c *compiler) catalog(cat config.StatusCatalog) {
	s := c.set
	s.connect = make(map[string]config.ConnectStatus, len(cat.Connect))
	for _, st := range cat.Connect {
		if _, dup := s.connect[st.Name]; !dup {
			s.connect[st.Name] = st
		}
	}
	s.sfByID = make(map[string]config.SalesforceStatus, len(cat.Salesforce)+1)
	s.sfByName = make(map[string]config.SalesforceStatus, len(cat.Salesforce)+1)
	for _, st := range cat.Salesforce {
		if _, dup := s.sfByID[st.ID]; !dup {
			s.sfByID[st.ID] = st
		}
		if _, dup := s.sfByName[st.DeveloperName]; !dup {
			s.sfByName[st.DeveloperName] = st
		}
	}
	// Offline needs no catalog entry: id "0" is reserved for it. A catalog entry with id "0" is
	// what "Offline" means whatever its DeveloperName, and the engine always calls it "Offline"
	// so that a logout, a status event with id "0" and a rule target agree on one name.
	off, ok := s.sfByID[OfflineStatusID]
	if !ok {
		off = offlineStatus()
	}
	orig := off.DeveloperName
	off.DeveloperName, off.IsOffline = Offline, true
	s.sfByID[OfflineStatusID] = off
	s.sfByName[Offline] = off
	if orig != "" {
		s.sfByName[orig] = off
	}
}

func (c *compiler) rule(i int, r config.Rule) {
	p := fmt.Sprintf("$.rules[%d]", i)
	kind := EventKind(r.SourceEvent)
	kindOK := kind.Valid()
	if r.SourceEvent != "" && !kindOK {
		c.problemf(p+".sourceEvent", "unknown event %q; use one of %s", r.SourceEvent, quoteAll(EventKinds()))
	}
	cr := &rule{
		id: r.ID, name: r.Name, path: p, priority: r.Priority, enabled: r.Enabled,
		event: kind, any: r.Match == MatchAny, policy: Policy(r.WhileOnContact),
	}
	ok := kindOK
	for j, crit := range r.Criteria {
		compiled, good := c.criterion(fmt.Sprintf("%s.criteria[%d]", p, j), crit, kind, kindOK)
		ok = ok && good
		cr.criteria = append(cr.criteria, compiled)
	}
	dest := Destination(r.Destination)
	if dest != Connect && dest != Salesforce {
		return // config.Validate reported it
	}
	if kindOK && dest == kind.System() {
		c.problemf(p+".destination", "must be %q: a %s rule sets the other system's state (rules cross systems)",
			string(dest.Other()), kind)
		ok = false
	} else if r.TargetState != "" {
		// Checked only when the destination is right: against the wrong catalog it would only
		// repeat the destination problem.
		t, good := c.target(p+".targetState", dest, r.TargetState)
		ok = ok && good
		cr.target = t
	}
	if r.WhileOnContact != "" && dest == Salesforce {
		c.warnf(p+".whileOnContact", "has no effect: it applies only to rules with destination \"connect\"")
	}
	if ok && len(cr.criteria) > 0 && r.TargetState != "" {
		idx, _ := kind.index()
		c.set.byEvent[idx] = append(c.set.byEvent[idx], cr)
	}
}

func (c *compiler) criterion(p string, cr config.Criterion, kind EventKind, kindOK bool) (criterion, bool) {
	out := criterion{cmp: Comparator(cr.Comparator)}
	out.code = out.cmp.code()
	cmpOK := out.cmp.Valid()
	if cr.Comparator != "" && !cmpOK {
		c.problemf(p+".comparator", "unknown comparator %q; use one of %s", cr.Comparator, quoteAll(Comparators()))
	}
	lp, rp := p+".left", p+".right"
	lop, lok := c.operand(lp, cr.Left, kind, kindOK)
	rop, rok := c.operand(rp, cr.Right, kind, kindOK)
	if !lok || !rok {
		return out, false
	}
	if lop == opLiteral && rop == opLiteral {
		c.problemf(p, "compares two static values; one side must be an event operand")
		return out, false
	}
	ok := cmpOK
	var typ OperandType
	switch {
	case lop != opLiteral && rop != opLiteral:
		lt, rt := operandTable[lop].Type, operandTable[rop].Type
		if lt != rt {
			c.problemf(p, "compares %s (%s) with %s (%s); both sides must have the same type",
				operandTable[lop].Name, lt, operandTable[rop].Name, rt)
			return out, false
		}
		typ = lt
	case lop != opLiteral:
		typ = operandTable[lop].Type
	default:
		typ = operandTable[rop].Type
	}
	if cmpOK && out.cmp.Numeric() && typ != TypeNumber {
		name := operandTable[lop].Name
		if lop == opLiteral {
			name = operandTable[rop].Name
		}
		c.problemf(p+".comparator", "%q needs numeric operands; %s is a %s and compares only with \"eq\" or \"ne\"",
			string(out.cmp), name, typ)
		ok = false
	}
	out.left, ok = c.term(lp, lop, cr.Left, typ, rop, ok)
	out.right, ok = c.term(rp, rop, cr.Right, typ, lop, ok)
	if ok && cmpOK {
		c.checkStateLiteral(p, out)
	}
	return out, ok
}

// operand resolves one side's operand name, reporting unknown names and names the event doesn't
// supply. Literals return opLiteral.
func (c *compiler) operand(p string, o config.Operand, kind EventKind, kindOK bool) (operandID, bool) {
	if (o.Operand == "") == (o.Value == nil) {
		return 0, false // neither or both: config.Validate reported it
	}
	if o.Value != nil {
		return opLiteral, true
	}
	id, ok := lookupOperand(o.Operand)
	if !ok {
		c.problemf(p+".operand", "unknown operand %q", o.Operand)
		return 0, false
	}
	if kindOK && !id.suppliedBy(kind) {
		var names []string
		for i := 1; i < len(operandTable); i++ {
			if operandID(i).suppliedBy(kind) {
				names = append(names, string(operandTable[i].Name))
			}
		}
		c.problemf(p+".operand", "%s is not supplied by %q events, so the criterion could never be true; they supply %s",
			o.Operand, kind, strings.Join(names, ", "))
		return id, true // keep type-checking the rest
	}
	return id, true
}

// term builds the compiled side, parsing a literal to the comparison type once.
func (c *compiler) term(p string, id operandID, o config.Operand, typ OperandType, other operandID, ok bool) (term, bool) {
	if id != opLiteral {
		return term{op: id}, ok
	}
	lit := string(*o.Value)
	if typ != TypeNumber {
		return term{lit: operandValue{kind: stringValue, str: lit}}, ok
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(lit), 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		c.problemf(p+".value", "must be a number to compare with %s, not %q", operandTable[other].Name, lit)
		return term{}, false
	}
	return term{lit: operandValue{kind: numberValue, num: n}}, ok
}

// checkStateLiteral warns about a state literal that can never equal the operand: most likely a
// typo that silently disables the rule. Channels are not in the catalog, so they aren't checked.
func (c *compiler) checkStateLiteral(p string, cr criterion) {
	op, lit, litPath := cr.left.op, cr.right.lit, p+".right.value"
	if op == opLiteral {
		op, lit, litPath = cr.right.op, cr.left.lit, p+".left.value"
	}
	if lit.kind != stringValue {
		return
	}
	known := true
	switch op {
	case opConnectNewState, opConnectOldState:
		_, inCatalog := c.set.connect[lit.str]
		known = inCatalog || IsSystemState(lit.str)
	case opConnectNewStatus, opConnectOldStatus:
		// Raw status names never take system-state values.
		_, known = c.set.connect[lit.str]
	case opSalesforceNewState:
		_, known = c.set.sfByName[lit.str]
	}
	if !known {
		c.warnf(litPath, "%q is not a known value of %s; check its spelling against the status catalog%s",
			lit.str, operandTable[op].Name, c.hint(lit.str, operandTable[op].Events[0].System()))
	}
}

// target resolves a target state against the catalog of its destination.
func (c *compiler) target(p string, dest Destination, name string) (Target, bool) {
	switch dest {
	case Connect:
		if IsSystemState(name) {
			c.problemf(p, "%q is a Connect system state, derived from the agent's contacts; it can be compared in criteria but not set", name)
			return Target{}, false
		}
		if _, ok := c.set.connect[name]; !ok {
			c.problemf(p, "%q is not a Connect status in $.statusCatalog.connect%s", name, c.hint(name, Connect))
			return Target{}, false
		}
		return Target{Destination: Connect, ConnectStatus: name}, true
	case Salesforce:
		st, ok := c.set.sfByName[name]
		if !ok {
			c.problemf(p, "%q is not a Salesforce presence status DeveloperName in $.statusCatalog.salesforce, nor \"Offline\"%s",
				name, c.hint(name, Salesforce))
			return Target{}, false
		}
		return Target{
			Destination: Salesforce, SalesforceStatusID: st.ID, SalesforceStatus: st.DeveloperName,
			SalesforceOffline: st.IsOffline,
		}, true
	}
	return Target{}, false
}

// hint suggests the catalog name that differs from name only in case.
func (c *compiler) hint(name string, dest Destination) string {
	var names []string
	if dest == Connect {
		for n := range c.set.connect {
			names = append(names, n)
		}
	} else {
		for n := range c.set.sfByName {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return fmt.Sprintf(" (did you mean %q?)", n)
		}
	}
	return ""
}

func (c *compiler) mappings(ms []config.StatusMapping) {
	for j, m := range ms {
		p := fmt.Sprintf("$.statusMappings[%d]", j)
		if m.SalesforceStatus == "" || m.ConnectStatus == "" || (!m.ToConnect && !m.ToSalesforce) {
			continue // config.Validate reported it
		}
		sf, sfOK := c.target(p+".salesforceStatus", Salesforce, m.SalesforceStatus)
		var conn Target
		connOK := true
		if m.ToConnect {
			conn, connOK = c.target(p+".connectStatus", Connect, m.ConnectStatus)
		} else if _, inCatalog := c.set.connect[m.ConnectStatus]; !inCatalog && !IsSystemState(m.ConnectStatus) {
			// Mapped only toward Salesforce, the Connect side is a source state, so system states
			// such as Busy are fine here.
			c.problemf(p+".connectStatus", "%q is neither a Connect status in $.statusCatalog.connect nor a Connect system state%s",
				m.ConnectStatus, c.hint(m.ConnectStatus, Connect))
			connOK = false
		}
		if !sfOK || !connOK {
			continue
		}
		if m.ToSalesforce {
			if prev, dup := c.set.toSalesforce[m.ConnectStatus]; dup {
				c.problemf(p+".connectStatus", "Connect %q already maps to Salesforce in %s", m.ConnectStatus, prev.path)
			} else {
				c.set.toSalesforce[m.ConnectStatus] = mapping{target: sf, path: p, from: m.ConnectStatus}
			}
		}
		if m.ToConnect {
			if prev, dup := c.set.toConnect[sf.SalesforceStatus]; dup {
				c.problemf(p+".salesforceStatus", "Salesforce %q already maps to Connect in %s", m.SalesforceStatus, prev.path)
			} else {
				c.set.toConnect[sf.SalesforceStatus] = mapping{target: conn, path: p, from: m.SalesforceStatus}
			}
		}
	}
}

func quoteAll[T ~string](xs []T) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(string(x))
	}
	return strings.Join(q, ", ")
}
