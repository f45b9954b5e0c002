package sfsim

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// object is a JSON object that keeps its keys in insertion order, so records render with
// "attributes" first and fields in SELECT order, as Salesforce renders them.
type object struct {
	keys []string
	vals []any
	src  row // the record this object renders, for following relationships
}

func (m *object) set(k string, v any) {
	for i, key := range m.keys {
		if key == k {
			m.vals[i] = v
			return
		}
	}
	m.keys = append(m.keys, k)
	m.vals = append(m.vals, v)
}

func (m *object) get(k string) (any, bool) {
	for i, key := range m.keys {
		if key == k {
			return m.vals[i], true
		}
	}
	return nil, false
}

// MarshalJSON renders the keys in order.
func (m *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	err := m.appendJSON(&b)
	return b.Bytes(), err
}

// appendJSON writes the object directly, so large pages skip encoding/json's re-validation of
// Marshaler output.
func (m *object) appendJSON(b *bytes.Buffer) error {
	b.WriteByte('{')
	for i, k := range m.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		switch v := m.vals[i].(type) {
		case nil:
			b.WriteString("null")
		case *object:
			if err := v.appendJSON(b); err != nil {
				return err
			}
		default:
			vb, err := json.Marshal(v)
			if err != nil {
				return err
			}
			b.Write(vb)
		}
	}
	b.WriteByte('}')
	return nil
}

// row is a record as a query saw it: its field map is immutable (updates replace it), so a page
// served later shows the record as it was when the query ran.
type row struct {
	t  *table
	id string
	f  map[string]any
}

func rowOf(r *record) row { return row{t: r.t, id: r.id, f: r.f} }

func (r row) get(name string) any {
	if c, ok := r.t.fields[strings.ToLower(name)]; ok {
		return r.f[c]
	}
	return nil
}

// attrs is a record's "attributes" object; field order matches Salesforce's.
type attrs struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

func attributes(t *table, id, ver string) attrs {
	return attrs{Type: t.name, URL: "/services/data/" + ver + "/sobjects/" + t.name + "/" + CaseSafeID(id)}
}

// accessor reads a field, possibly through lookups: hops are the lookup fields to follow, lower
// case (resolved on whatever type each id points to), relNames the JSON keys of the nested
// objects, field the final field (canonical when it is on the queried type) and lower its lower
// case form. Lower-case names make per-row lookups allocation-free.
type accessor struct {
	hops     []string
	relNames []string
	field    string
	lower    string
}

// relationshipField maps a relationship name to its lookup field: Owner → OwnerId, Foo__r → Foo__c.
func relationshipField(rel string) string {
	if strings.HasSuffix(strings.ToLower(rel), "__r") {
		return rel[:len(rel)-3] + "__c"
	}
	return rel + "Id"
}

// relationshipName is the inverse, for rendering.
func relationshipName(lookup string) string {
	if strings.HasSuffix(lookup, "__c") {
		return lookup[:len(lookup)-3] + "__r"
	}
	return strings.TrimSuffix(lookup, "Id")
}

func invalidField(t *table, f fieldPath) *soqlError {
	if len(f.parts) > 1 {
		return &soqlError{code: "INVALID_FIELD", pos: f.pos, msg: fmt.Sprintf("Didn't understand relationship '%s' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.", f.parts[0])}
	}
	return &soqlError{code: "INVALID_FIELD", pos: f.pos, msg: fmt.Sprintf("No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", f.parts[0], t.name)}
}

func compileField(t *table, f fieldPath) (accessor, *soqlError) {
	if len(f.parts) == 1 {
		c, ok := t.fields[strings.ToLower(f.parts[0])]
		if !ok {
			return accessor{}, invalidField(t, f)
		}
		return accessor{field: c, lower: strings.ToLower(c)}, nil
	}
	first, ok := t.fields[strings.ToLower(relationshipField(f.parts[0]))]
	if !ok {
		return accessor{}, invalidField(t, f)
	}
	last := f.parts[len(f.parts)-1]
	a := accessor{hops: []string{strings.ToLower(first)}, relNames: []string{relationshipName(first)}, field: last, lower: strings.ToLower(last)}
	for _, rel := range f.parts[1 : len(f.parts)-1] {
		a.hops = append(a.hops, strings.ToLower(relationshipField(rel)))
		a.relNames = append(a.relNames, rel)
	}
	return a, nil
}

// isReference reports whether a field can take part in a semi-join: Id, a standard reference
// field (OwnerId, UsersId) or a custom field, which may be a lookup (the simulator has no schema
// to tell).
func isReference(field string) bool {
	return strings.HasSuffix(field, "Id") || strings.HasSuffix(strings.ToLower(field), "__c")
}

// idKey returns the case-sensitive 15-character id a field of r holds, for set membership; the
// record's own Id needs no parsing.
func (o *Org) idKey(r *record, a *accessor) (string, bool) {
	if len(a.hops) == 0 && a.lower == "id" {
		return r.id, true
	}
	s, _ := o.value(r, a).(string)
	return normalizeID(s)
}

// semiJoinSet runs a semi-join's sub-select once and returns the ids it selects.
func (o *Org) semiJoinSet(sub *query) (map[string]struct{}, *soqlError) {
	t := o.readTable(sub.from)
	if t == nil || t.isEvent() {
		return nil, unsupportedType(sub.from, sub.fromAt)
	}
	f := sub.fields[0]
	a, err := compileField(t, f)
	if err != nil {
		return nil, err
	}
	if !isReference(a.field) {
		return nil, malformed(f.pos, "semi join sub selects can only query id fields, cannot use: '%s'", f)
	}
	where := func(*record) bool { return true }
	if sub.where != nil {
		if where, err = o.compileExpr(t, sub.where); err != nil {
			return nil, err
		}
	}
	set := map[string]struct{}{}
	for _, r := range t.recs {
		if !where(r) {
			continue
		}
		if id, ok := o.idKey(r, &a); ok {
			set[id] = struct{}{}
		}
	}
	return set, nil
}

// follow returns the record a lookup field of r points to.
func (o *Org) follow(r interface{ get(string) any }, lookup string) *record {
	id, _ := r.get(lookup).(string)
	id15, ok := normalizeID(id)
	if !ok {
		return nil
	}
	return o.byID[id15]
}

func (o *Org) value(r *record, a *accessor) any {
	for _, h := range a.hops {
		if r = o.follow(r, h); r == nil {
			return nil
		}
	}
	return r.get(a.lower)
}

// compiled is a query bound to a table, ready to run.
type compiled struct {
	q     *query
	t     *table
	sel   []accessor
	where func(*record) bool
	order []accessor
}

func (o *Org) compile(q *query) (*compiled, *soqlError) {
	t := o.readTable(q.from)
	if t == nil || t.isEvent() {
		return nil, unsupportedType(q.from, q.fromAt)
	}
	c := &compiled{q: q, t: t}
	for _, f := range q.fields {
		a, err := compileField(t, f)
		if err != nil {
			return nil, err
		}
		c.sel = append(c.sel, a)
	}
	for _, it := range q.order {
		a, err := compileField(t, it.field)
		if err != nil {
			return nil, err
		}
		c.order = append(c.order, a)
	}
	if q.where != nil {
		w, err := o.compileExpr(t, q.where)
		if err != nil {
			return nil, err
		}
		c.where = w
	}
	return c, nil
}

func unsupportedType(name string, pos int) *soqlError {
	return &soqlError{code: "INVALID_TYPE", pos: pos, msg: fmt.Sprintf("sObject type '%s' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.", name)}
}

func (o *Org) compileExpr(t *table, e expr) (func(*record) bool, *soqlError) {
	switch e := e.(type) {
	case andExpr, orExpr:
		terms := e.(interface{ list() []expr }).list()
		fs := make([]func(*record) bool, len(terms))
		for i, x := range terms {
			f, err := o.compileExpr(t, x)
			if err != nil {
				return nil, err
			}
			fs[i] = f
		}
		if _, isAnd := e.(andExpr); isAnd {
			return func(r *record) bool {
				for _, f := range fs {
					if !f(r) {
						return false
					}
				}
				return true
			}, nil
		}
		return func(r *record) bool {
			for _, f := range fs {
				if f(r) {
					return true
				}
			}
			return false
		}, nil
	case notExpr:
		f, err := o.compileExpr(t, e.x)
		if err != nil {
			return nil, err
		}
		return func(r *record) bool { return !f(r) }, nil
	case cmpExpr:
		a, err := compileField(t, e.field)
		if err != nil {
			return nil, err
		}
		isID := strings.HasSuffix(a.field, "Id")
		return func(r *record) bool { return compareOp(o.value(r, &a), e.op, e.val, isID) }, nil
	case inExpr:
		a, err := compileField(t, e.field)
		if err != nil {
			return nil, err
		}
		isID := strings.HasSuffix(a.field, "Id")
		if set, ok := idSet(e.vals); ok && isID {
			// A long id list (200 ids per query is common) becomes one lookup per row.
			return func(r *record) bool {
				id, ok := o.idKey(r, &a)
				if !ok {
					return e.not
				}
				_, in := set[id]
				return in != e.not
			}, nil
		}
		return func(r *record) bool {
			v := o.value(r, &a)
			for _, lit := range e.vals {
				if compareOp(v, "=", lit, isID) {
					return !e.not
				}
			}
			return e.not
		}, nil
	case semiJoinExpr:
		a, err := compileField(t, e.field)
		if err != nil {
			return nil, err
		}
		if !isReference(a.field) {
			return nil, malformed(e.field.pos, "The left operand of a semi join or anti join must be an id or reference field of %s: '%s'", t.name, e.field)
		}
		set, err := o.semiJoinSet(e.sub)
		if err != nil {
			return nil, err
		}
		return func(r *record) bool {
			id, ok := o.idKey(r, &a)
			if !ok {
				return e.not // a null never matches, so NOT IN keeps it, as with a literal list
			}
			_, in := set[id]
			return in != e.not
		}, nil
	case likeExpr:
		a, err := compileField(t, e.field)
		if err != nil {
			return nil, err
		}
		pat := compileLike(e.pattern)
		return func(r *record) bool {
			s, ok := o.value(r, &a).(string)
			return ok && pat.match(strings.ToLower(s))
		}, nil
	}
	return nil, malformed(0, "unsupported condition")
}

// idSet returns the 15-character forms of an IN list when every value is an id.
func idSet(vals []literal) (map[string]struct{}, bool) {
	set := make(map[string]struct{}, len(vals))
	for _, v := range vals {
		if v.kind != litString {
			return nil, false
		}
		id, ok := normalizeID(v.s)
		if !ok {
			return nil, false
		}
		set[id] = struct{}{}
	}
	return set, true
}

func (e andExpr) list() []expr { return e.terms }
func (e orExpr) list() []expr  { return e.terms }

// compareOp applies a comparison with SOQL semantics: string comparison is case-insensitive,
// ids compare by their 15-character form, "!=" matches nulls, and ordering operators never match
// nulls or values of another type.
func compareOp(v any, op string, lit literal, isID bool) bool {
	if lit.kind == litNull {
		if op == "=" {
			return v == nil
		}
		return v != nil
	}
	if op == "!=" || op == "<>" {
		return !compareOp(v, "=", lit, isID)
	}
	c, ok := compareValue(v, lit, isID)
	if !ok {
		return false
	}
	switch op {
	case "=":
		return c == 0
	case "<":
		return c < 0
	case ">":
		return c > 0
	case "<=":
		return c <= 0
	case ">=":
		return c >= 0
	}
	return false
}

func compareValue(v any, lit literal, isID bool) (int, bool) {
	switch lit.kind {
	case litString:
		s, ok := v.(string)
		if !ok {
			return 0, false
		}
		if isID {
			a, okA := normalizeID(s)
			b, okB := normalizeID(lit.s)
			if okA && okB {
				return strings.Compare(a, b), true
			}
		}
		if strings.EqualFold(s, lit.s) {
			return 0, true
		}
		return strings.Compare(strings.ToLower(s), strings.ToLower(lit.s)), true
	case litNumber:
		f, ok := v.(float64)
		return cmp.Compare(f, lit.n), ok
	case litBool:
		b, ok := v.(bool)
		if !ok {
			return 0, false
		}
		if b == lit.b {
			return 0, true
		}
		if !b {
			return -1, true
		}
		return 1, true
	case litDateTime, litDate:
		var t time.Time
		switch v := v.(type) {
		case time.Time:
			t = v
		case string:
			if len(v) == 10 {
				d, err := time.Parse("2006-01-02", v)
				if err != nil {
					return 0, false
				}
				t = d
			} else if tm, ok := parseDateTime(v); ok {
				t = tm
			} else {
				return 0, false
			}
		default:
			return 0, false
		}
		if lit.kind == litDate {
			t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		}
		return t.Compare(lit.t), true
	}
	return 0, false
}

// likePattern is a compiled LIKE pattern over lower-case runes: % matches any run, _ one rune.
type likePattern struct {
	elems []likeElem
}

type likeElem struct {
	kind byte // 'c' literal rune, '%' any run, '_' any rune
	r    rune
}

func compileLike(p string) likePattern {
	var lp likePattern
	p = strings.ToLower(p)
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRuneInString(p[i:])
		switch {
		case r == '\\' && i+1 < len(p) && (p[i+1] == '%' || p[i+1] == '_'):
			lp.elems = append(lp.elems, likeElem{kind: 'c', r: rune(p[i+1])})
			i += 2
			continue
		case r == '%':
			lp.elems = append(lp.elems, likeElem{kind: '%'})
		case r == '_':
			lp.elems = append(lp.elems, likeElem{kind: '_'})
		default:
			lp.elems = append(lp.elems, likeElem{kind: 'c', r: r})
		}
		i += n
	}
	return lp
}

// match runs the classic greedy wildcard match with backtracking to the last %.
func (lp likePattern) match(s string) bool {
	rs := []rune(s)
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(rs) {
		switch {
		case pi < len(lp.elems) && (lp.elems[pi].kind == '_' || lp.elems[pi].kind == 'c' && lp.elems[pi].r == rs[si]):
			pi++
			si++
		case pi < len(lp.elems) && lp.elems[pi].kind == '%':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(lp.elems) && lp.elems[pi].kind == '%' {
		pi++
	}
	return pi == len(lp.elems)
}

// result is a query's answer, computed once: the matching records, filtered, sorted and cut, as
// they were when the query ran. Pages are projected from it on demand.
type result struct {
	c     *compiled
	rows  []row
	total int
}

type cursor struct {
	res *result
}

const maxCursors = 1000

// run evaluates a query against the current data under the read lock.
func (o *Org) run(src string) (*result, *Error) {
	q, perr := parseQuery(src)
	if perr != nil {
		e := perr.render(src)
		return nil, &e
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	c, perr := o.compile(q)
	if perr != nil {
		e := perr.render(src)
		return nil, &e
	}
	type keyed struct {
		rec  *record
		keys []any
	}
	var matched []keyed
	for _, r := range c.t.recs {
		if c.where == nil || c.where(r) {
			matched = append(matched, keyed{rec: r})
		}
	}
	if len(c.order) > 0 {
		for i := range matched {
			k := make([]any, len(c.order))
			for j := range c.order {
				k[j] = o.value(matched[i].rec, &c.order[j])
			}
			matched[i].keys = k
		}
		slices.SortStableFunc(matched, func(a, b keyed) int {
			for i, it := range q.order {
				if d := compareSort(a.keys[i], b.keys[i], it.desc, it.nullsLast, strings.HasSuffix(c.order[i].field, "Id")); d != 0 {
					return d
				}
			}
			return 0
		})
	}
	if q.offset > 0 {
		matched = matched[min(q.offset, len(matched)):]
	}
	if q.limit >= 0 && q.limit < len(matched) {
		matched = matched[:q.limit]
	}
	res := &result{c: c, total: len(matched)}
	if q.count {
		return res, nil
	}
	res.rows = make([]row, len(matched))
	for i, m := range matched {
		res.rows[i] = rowOf(m.rec)
	}
	return res, nil
}

// compareSort orders values of one ORDER BY key; nulls go first unless NULLS LAST, whatever the
// direction, as Salesforce documents.
//
// Ids (fields named Id or ending in Id) sort by their case-sensitive 15-character value, the
// order the comparison operators use, so a query paging with "Id > :last ORDER BY Id" sees each
// record once.
func compareSort(a, b any, desc, nullsLast, isID bool) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		if nullsLast {
			return 1
		}
		return -1
	case b == nil:
		if nullsLast {
			return -1
		}
		return 1
	}
	d := 0
	switch av := a.(type) {
	case string:
		bv, _ := b.(string)
		ia, okA := normalizeID(av)
		ib, okB := normalizeID(bv)
		if isID && okA && okB {
			d = strings.Compare(ia, ib)
		} else {
			d = strings.Compare(strings.ToLower(av), strings.ToLower(bv))
		}
	case float64:
		bv, _ := b.(float64)
		d = cmp.Compare(av, bv)
	case bool:
		bv, _ := b.(bool)
		d = cmp.Compare(btoi(av), btoi(bv))
	case time.Time:
		bv, _ := b.(time.Time)
		d = av.Compare(bv)
	}
	if desc {
		d = -d
	}
	return d
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// project renders a row with the selected fields, relationship fields as nested objects. Related
// records are read as they are now. Call it under the read lock.
func (o *Org) project(r row, c *compiled, ver string) *object {
	obj := &object{src: r}
	obj.set("attributes", attributes(r.t, r.id, ver))
	for i := range c.sel {
		a := &c.sel[i]
		cur := obj
		ok := true
		for h, lookup := range a.hops {
			key := a.relNames[h]
			if child, exists := cur.get(key); exists {
				if child == nil {
					ok = false
					break
				}
				cur = child.(*object)
				continue
			}
			target := o.follow(cur.src, lookup)
			if target == nil {
				cur.set(key, nil)
				ok = false
				break
			}
			child := &object{src: rowOf(target)}
			child.set("attributes", attributes(target.t, target.id, ver))
			cur.set(key, child)
			cur = child
		}
		if !ok {
			continue
		}
		name, v := a.field, any(nil)
		if canon, known := cur.src.t.fields[a.lower]; known {
			name, v = canon, cur.src.f[canon]
		}
		cur.set(name, jsonValue(v))
	}
	return obj
}

func (o *Org) serveQuery(w http.ResponseWriter, r *http.Request, ver string) {
	q := r.URL.Query().Get("q")
	if strings.TrimSpace(q) == "" {
		writeErrors(w, http.StatusBadRequest, Error{Code: "MALFORMED_QUERY", Message: "A query string has to be specified"})
		return
	}
	res, e := o.run(q)
	if e != nil {
		writeErrors(w, http.StatusBadRequest, *e)
		return
	}
	id := ""
	if len(res.rows) > o.cfg.PageSize {
		o.mu.Lock()
		id = CaseSafeID("01g" + "xx" + encode62(o.nextCursor(), 10))
		o.cursors[id] = &cursor{res: res}
		o.cursorIDs = append(o.cursorIDs, id)
		if len(o.cursorIDs) > maxCursors { // abandoned cursors must not pile up
			delete(o.cursors, o.cursorIDs[0])
			o.cursorIDs = o.cursorIDs[1:]
		}
		o.mu.Unlock()
	}
	o.writePage(w, res, ver, id, 0)
}

func (o *Org) nextCursor() uint64 {
	o.nextID++
	return o.nextID
}

// serveQueryMore serves /query/<locator>-<offset> from the stored result.
func (o *Org) serveQueryMore(w http.ResponseWriter, ver, locator string) {
	id, off, _ := strings.Cut(locator, "-")
	offset, err := strconv.Atoi(off)
	o.mu.RLock()
	cur := o.cursors[id]
	o.mu.RUnlock()
	if cur == nil || err != nil || offset < 0 || offset >= len(cur.res.rows) {
		writeErrors(w, http.StatusBadRequest, Error{Code: "INVALID_QUERY_LOCATOR", Message: "invalid query locator"})
		return
	}
	o.writePage(w, cur.res, ver, id, offset)
}

// writePage projects and writes one page. It writes the JSON itself: pages are large and their
// parts are already valid JSON.
func (o *Org) writePage(w http.ResponseWriter, res *result, ver, cursorID string, offset int) {
	end := min(offset+o.cfg.PageSize, len(res.rows))
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"totalSize":%d,"done":%t`, res.total, end >= len(res.rows))
	if end < len(res.rows) {
		fmt.Fprintf(&b, `,"nextRecordsUrl":"/services/data/%s/query/%s-%d"`, ver, cursorID, end)
	}
	b.WriteString(`,"records":[`)
	o.mu.RLock()
	for i, r := range res.rows[offset:end] {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := o.project(r, res.c, ver).appendJSON(&b); err != nil {
			o.mu.RUnlock()
			writeErrors(w, http.StatusInternalServerError, Error{Code: "UNKNOWN_EXCEPTION", Message: "cannot encode record"})
			return
		}
	}
	o.mu.RUnlock()
	b.WriteString("]}\n")
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}
