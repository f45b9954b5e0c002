package sfsim

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The simulator's SOQL subset:
//
//	query    = SELECT (COUNT "(" ")" | field {"," field}) FROM name [WHERE cond]
//	           [ORDER BY order {"," order}] [LIMIT int] [OFFSET int]
//	field    = name {"." name}                      relationship paths: Owner.Name, Foo__r.Bar__c
//	cond     = unary {AND unary} | unary {OR unary}  mixing AND and OR needs parentheses, as in SOQL
//	unary    = NOT unary | "(" cond ")" | field op value | field [NOT] IN "(" value {"," value} ")"
//	           | field [NOT] IN "(" subquery ")" | field LIKE string
//	subquery = SELECT field FROM name [WHERE cond]  semi-join (IN) or anti-join (NOT IN)
//	op       = "=" | "!=" | "<>" | "<" | ">" | "<=" | ">="
//	value    = string | number | date | dateTime | NULL | TRUE | FALSE
//	order    = field [ASC | DESC] [NULLS (FIRST | LAST)]
//
// Keywords are case-insensitive. Strings take SOQL's escapes (\n \r \t \b \f \" \' \\ \uXXXX, and
// \_ \% in LIKE patterns).
//
// Semi-joins and anti-joins obey Salesforce's restrictions, rejected as MALFORMED_QUERY with the
// messages a real org gives where they are known:
//   - at most two per query: "Maximum 2 semi join sub-selects are allowed";
//   - none inside a sub-select: "Nesting of semi join sub-selects is not supported";
//   - only as terms of the top-level AND: a term of a top-level OR gets "Semi join sub-selects are
//     not allowed with the 'OR' operator", one inside a parenthesized OR "Semi join sub-selects are
//     only allowed at the top level WHERE expressions and not in nested WHERE expressions.", one
//     under NOT "Semi join sub-selects are not allowed with the 'NOT' operator" (write NOT IN);
//   - the left operand is one Id or reference field of the queried object, with no relationship
//     path;
//   - the sub-select selects one Id or reference field, with no relationship path: "semi join sub
//     selects can only query id fields, cannot use: 'Name'";
//   - it queries another object than the outer query: "The inner and outer selects should not be on
//     the same object type", and not an activity object: "Entity 'Task' is not supported for semi
//     join inner selects";
//   - it takes no ORDER BY, LIMIT or OFFSET, and selects no COUNT().
//
// Without a schema, a reference field is one whose name ends in "Id" (OwnerId, UsersId) or a
// custom field (__c). A sub-select runs once per query, into a set of ids.

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tDate
	tDateTime
	tOp
	tComma
	tDot
	tLParen
	tRParen
)

type token struct {
	kind tokKind
	text string // source text; for strings, the raw content between the quotes
	pos  int    // byte offset in the query
	num  float64
	time time.Time
}

// soqlError is a MALFORMED_QUERY or INVALID_FIELD problem at a position.
type soqlError struct {
	code string
	pos  int
	msg  string
}

// render formats the error the way Salesforce does: the query line, a caret, the position.
func (e *soqlError) render(src string) Error {
	line, col, row := src, e.pos, 1
	for i := 0; i < e.pos && i < len(src); i++ {
		if src[i] == '\n' {
			row++
		}
	}
	start := strings.LastIndexByte(src[:min(e.pos, len(src))], '\n') + 1
	end := strings.IndexByte(src[start:], '\n')
	if end < 0 {
		line = src[start:]
	} else {
		line = src[start : start+end]
	}
	col = e.pos - start
	return Error{Code: e.code, Message: fmt.Sprintf("\n%s\n%s^\nERROR at Row:%d:Column:%d\n%s",
		line, strings.Repeat(" ", col), row, col+1, e.msg)}
}

func malformed(pos int, format string, args ...any) *soqlError {
	return &soqlError{code: "MALFORMED_QUERY", pos: pos, msg: fmt.Sprintf(format, args...)}
}

func isLetter(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

func lex(src string) ([]token, *soqlError) {
	var toks []token
	i := 0
	for {
		for i < len(src) && strings.IndexByte(" \t\r\n", src[i]) >= 0 {
			i++
		}
		if i >= len(src) {
			return append(toks, token{kind: tEOF, pos: i, text: "<EOF>"}), nil
		}
		start, c := i, src[i]
		switch {
		case isLetter(c) || c == '_':
			for i < len(src) && (isLetter(src[i]) || isDigit(src[i]) || src[i] == '_') {
				i++
			}
			toks = append(toks, token{kind: tIdent, text: src[start:i], pos: start})
		case isDigit(c) || (c == '-' || c == '+') && i+1 < len(src) && isDigit(src[i+1]):
			tok, err := lexNumberOrDate(src, start)
			if err != nil {
				return nil, err
			}
			i = start + len(tok.text)
			toks = append(toks, tok)
		case c == '\'':
			i++
			for i < len(src) && src[i] != '\'' {
				if src[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(src) {
				return nil, malformed(start, "unterminated string literal")
			}
			raw := src[start+1 : i]
			if _, err := unescape(raw, true); err != "" {
				return nil, malformed(start, "%s", err)
			}
			i++
			toks = append(toks, token{kind: tString, text: raw, pos: start})
		case c == ',':
			i++
			toks = append(toks, token{kind: tComma, text: ",", pos: start})
		case c == '.':
			i++
			toks = append(toks, token{kind: tDot, text: ".", pos: start})
		case c == '(':
			i++
			toks = append(toks, token{kind: tLParen, text: "(", pos: start})
		case c == ')':
			i++
			toks = append(toks, token{kind: tRParen, text: ")", pos: start})
		case c == '=':
			i++
			toks = append(toks, token{kind: tOp, text: "=", pos: start})
		case c == '!' && i+1 < len(src) && src[i+1] == '=':
			i += 2
			toks = append(toks, token{kind: tOp, text: "!=", pos: start})
		case c == '<' || c == '>':
			i++
			if i < len(src) && (src[i] == '=' || c == '<' && src[i] == '>') {
				i++
			}
			toks = append(toks, token{kind: tOp, text: src[start:i], pos: start})
		default:
			r, _ := utf8.DecodeRuneInString(src[i:])
			return nil, malformed(start, "unexpected character: '%c'", r)
		}
	}
}

var dateRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2}))?`)

// lexNumberOrDate reads 12, -1.5, 2026-11-21 or 2026-11-21T10:00:00Z (fraction and ±hh:mm allowed).
func lexNumberOrDate(src string, start int) (token, *soqlError) {
	if m := dateRE.FindString(src[start:]); m != "" {
		end := start + len(m)
		if end < len(src) && (isLetter(src[end]) || isDigit(src[end]) || src[end] == ':' || src[end] == '.') {
			return token{}, malformed(start, "invalid date or dateTime literal")
		}
		if len(m) == 10 {
			d, err := time.Parse("2006-01-02", m)
			if err != nil {
				return token{}, malformed(start, "invalid date: %s", m)
			}
			return token{kind: tDate, text: m, pos: start, time: d}, nil
		}
		for _, layout := range []string{"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05Z0700"} {
			if t, err := time.Parse(layout, m); err == nil {
				return token{kind: tDateTime, text: m, pos: start, time: t.UTC()}, nil
			}
		}
		return token{}, malformed(start, "invalid dateTime: %s", m)
	}
	i := start
	if src[i] == '-' || src[i] == '+' {
		i++
	}
	for i < len(src) && isDigit(src[i]) {
		i++
	}
	if i < len(src) && src[i] == '.' {
		i++
		if i >= len(src) || !isDigit(src[i]) {
			return token{}, malformed(start, "invalid number: %s", src[start:i])
		}
		for i < len(src) && isDigit(src[i]) {
			i++
		}
	}
	if i < len(src) && (isLetter(src[i]) || src[i] == '_' || src[i] == '-') {
		return token{}, malformed(start, "invalid number: %s", src[start:i+1])
	}
	f, err := strconv.ParseFloat(src[start:i], 64)
	if err != nil {
		return token{}, malformed(start, "invalid number: %s", src[start:i])
	}
	return token{kind: tNumber, text: src[start:i], pos: start, num: f}, nil
}

// unescape decodes a string literal's raw content. In a LIKE pattern (like set) \% and \_ are
// kept escaped for the pattern compiler; elsewhere they are an error, as in SOQL.
func unescape(raw string, like bool) (string, string) {
	if !strings.Contains(raw, `\`) {
		return raw, ""
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(raw) {
			return "", "invalid escape sequence at end of string"
		}
		switch raw[i] {
		case 'n', 'N':
			b.WriteByte('\n')
		case 'r', 'R':
			b.WriteByte('\r')
		case 't', 'T':
			b.WriteByte('\t')
		case 'b', 'B':
			b.WriteByte('\b')
		case 'f', 'F':
			b.WriteByte('\f')
		case '"', '\'', '\\':
			b.WriteByte(raw[i])
		case 'u':
			if i+5 > len(raw) {
				return "", "invalid unicode escape"
			}
			n, err := strconv.ParseUint(raw[i+1:i+5], 16, 32)
			if err != nil {
				return "", "invalid unicode escape"
			}
			b.WriteRune(rune(n))
			i += 4
		case '%', '_':
			if !like {
				return "", fmt.Sprintf(`invalid escape sequence '\%c' outside LIKE`, raw[i])
			}
			b.WriteByte('\\')
			b.WriteByte(raw[i])
		default:
			return "", fmt.Sprintf(`invalid escape sequence '\%c'`, raw[i])
		}
	}
	return b.String(), ""
}

// AST.

type fieldPath struct {
	parts []string
	pos   int
}

func (f fieldPath) String() string { return strings.Join(f.parts, ".") }

type litKind int

const (
	litNull litKind = iota
	litString
	litNumber
	litBool
	litDate
	litDateTime
)

type literal struct {
	kind litKind
	s    string
	n    float64
	b    bool
	t    time.Time
}

type expr interface{ isExpr() }

type (
	andExpr struct{ terms []expr }
	orExpr  struct{ terms []expr }
	notExpr struct{ x expr }
	cmpExpr struct {
		field fieldPath
		op    string
		val   literal
	}
	inExpr struct {
		field fieldPath
		not   bool
		vals  []literal
	}
	likeExpr struct {
		field   fieldPath
		pattern string // decoded, with \% and \_ still escaped
	}
	// semiJoinExpr is field [NOT] IN (SELECT ...): a semi-join, or with not an anti-join.
	semiJoinExpr struct {
		field fieldPath
		not   bool
		sub   *query // one field, no ORDER BY, LIMIT or OFFSET
		at    int    // position of the sub-select's SELECT
	}
)

func (andExpr) isExpr()      {}
func (orExpr) isExpr()       {}
func (notExpr) isExpr()      {}
func (cmpExpr) isExpr()      {}
func (inExpr) isExpr()       {}
func (likeExpr) isExpr()     {}
func (semiJoinExpr) isExpr() {}

type orderItem struct {
	field     fieldPath
	desc      bool
	nullsLast bool
}

type query struct {
	count  bool
	fields []fieldPath
	from   string
	fromAt int
	where  expr
	order  []orderItem
	limit  int // -1: none
	offset int
}

// reserved are SOQL's reserved words, which cannot name fields or objects.
var reserved = map[string]bool{
	"AND": true, "ASC": true, "DESC": true, "EXCLUDES": true, "FIRST": true, "FROM": true, "GROUP": true,
	"HAVING": true, "IN": true, "INCLUDES": true, "LAST": true, "LIKE": true, "LIMIT": true, "NOT": true,
	"NULL": true, "NULLS": true, "OR": true, "SELECT": true, "WHERE": true, "WITH": true,
}

type parser struct {
	toks []token
	i    int
}

func parseQuery(src string) (*query, *soqlError) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	q, err := p.query()
	if err != nil {
		return nil, err
	}
	if err := checkSemiJoins(q); err != nil {
		return nil, err
	}
	return q, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) isKeyword(kw string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) acceptKeyword(kw string) bool {
	if p.isKeyword(kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) unexpected() *soqlError {
	t := p.peek()
	return malformed(t.pos, "unexpected token: '%s'", t.text)
}

func (p *parser) expectKeyword(kw string) *soqlError {
	if !p.acceptKeyword(kw) {
		return p.unexpected()
	}
	return nil
}

func (p *parser) expect(k tokKind) (token, *soqlError) {
	if p.peek().kind != k {
		return token{}, p.unexpected()
	}
	return p.next(), nil
}

func (p *parser) name() (token, *soqlError) {
	t := p.peek()
	if t.kind != tIdent || reserved[strings.ToUpper(t.text)] {
		return token{}, p.unexpected()
	}
	return p.next(), nil
}

// objectName parses the object after FROM. GROUP is reserved (GROUP BY) but also names the
// Group object (queues, public groups), which SOQL accepts after FROM.
func (p *parser) objectName() (token, *soqlError) {
	if t := p.peek(); t.kind == tIdent && strings.EqualFold(t.text, "Group") {
		return p.next(), nil
	}
	return p.name()
}

func (p *parser) query() (*query, *soqlError) {
	q := &query{limit: -1}
	if err := p.expectKeyword("SELECT"); err != nil {
		return nil, err
	}
	if p.isKeyword("COUNT") && p.toks[p.i+1].kind == tLParen {
		p.i += 2
		if _, err := p.expect(tRParen); err != nil {
			return nil, err
		}
		q.count = true
	} else {
		for {
			f, err := p.field()
			if err != nil {
				return nil, err
			}
			q.fields = append(q.fields, f)
			if p.peek().kind != tComma {
				break
			}
			p.next()
		}
	}
	if err := p.expectKeyword("FROM"); err != nil {
		return nil, err
	}
	from, err := p.objectName()
	if err != nil {
		return nil, err
	}
	q.from, q.fromAt = from.text, from.pos
	if p.acceptKeyword("WHERE") {
		if q.where, err = p.cond(); err != nil {
			return nil, err
		}
	}
	if p.acceptKeyword("ORDER") {
		if err := p.expectKeyword("BY"); err != nil {
			return nil, err
		}
		for {
			item := orderItem{}
			if item.field, err = p.field(); err != nil {
				return nil, err
			}
			if p.acceptKeyword("DESC") {
				item.desc = true
			} else {
				p.acceptKeyword("ASC")
			}
			if p.acceptKeyword("NULLS") {
				switch {
				case p.acceptKeyword("LAST"):
					item.nullsLast = true
				case p.acceptKeyword("FIRST"):
				default:
					return nil, p.unexpected()
				}
			}
			q.order = append(q.order, item)
			if p.peek().kind != tComma {
				break
			}
			p.next()
		}
	}
	if p.acceptKeyword("LIMIT") {
		if q.limit, err = p.count(); err != nil {
			return nil, err
		}
	}
	if p.acceptKeyword("OFFSET") {
		if q.offset, err = p.count(); err != nil {
			return nil, err
		}
	}
	if p.peek().kind != tEOF {
		return nil, p.unexpected()
	}
	return q, nil
}

func (p *parser) count() (int, *soqlError) {
	t := p.peek()
	if t.kind != tNumber || strings.ContainsAny(t.text, ".-+") || len(t.text) > 9 {
		return 0, p.unexpected()
	}
	p.next()
	n, _ := strconv.Atoi(t.text)
	return n, nil
}

func (p *parser) field() (fieldPath, *soqlError) {
	first, err := p.name()
	if err != nil {
		return fieldPath{}, err
	}
	f := fieldPath{parts: []string{first.text}, pos: first.pos}
	for p.peek().kind == tDot {
		p.next()
		t, err := p.name()
		if err != nil {
			return fieldPath{}, err
		}
		f.parts = append(f.parts, t.text)
	}
	if len(f.parts) > 6 {
		return fieldPath{}, malformed(f.pos, "relationship path %s has more than 5 levels", f)
	}
	return f, nil
}

// cond parses a condition list; SOQL rejects AND and OR side by side without parentheses.
func (p *parser) cond() (expr, *soqlError) {
	first, err := p.unary()
	if err != nil {
		return nil, err
	}
	var conj string
	switch {
	case p.isKeyword("AND"):
		conj = "AND"
	case p.isKeyword("OR"):
		conj = "OR"
	default:
		return first, nil
	}
	terms := []expr{first}
	for p.acceptKeyword(conj) {
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		terms = append(terms, x)
	}
	if p.isKeyword("AND") || p.isKeyword("OR") {
		return nil, p.unexpected()
	}
	if conj == "AND" {
		return andExpr{terms}, nil
	}
	return orExpr{terms}, nil
}

func (p *parser) unary() (expr, *soqlError) {
	if p.acceptKeyword("NOT") {
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notExpr{x}, nil
	}
	if p.peek().kind == tLParen {
		p.next()
		x, err := p.cond()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen); err != nil {
			return nil, err
		}
		return x, nil
	}
	f, err := p.field()
	if err != nil {
		return nil, err
	}
	switch {
	case p.acceptKeyword("NOT"):
		if err := p.expectKeyword("IN"); err != nil {
			return nil, err
		}
		return p.inList(f, true)
	case p.acceptKeyword("IN"):
		return p.inList(f, false)
	case p.acceptKeyword("LIKE"):
		t, err := p.expect(tString)
		if err != nil {
			return nil, err
		}
		pat, _ := unescape(t.text, true)
		return likeExpr{field: f, pattern: pat}, nil
	}
	op, err := p.expect(tOp)
	if err != nil {
		return nil, err
	}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	if v.kind == litNull && op.text != "=" && op.text != "!=" && op.text != "<>" {
		return nil, malformed(op.pos, "invalid operator on null: %s", op.text)
	}
	return cmpExpr{field: f, op: op.text, val: v}, nil
}

func (p *parser) inList(f fieldPath, not bool) (expr, *soqlError) {
	if _, err := p.expect(tLParen); err != nil {
		return nil, err
	}
	if p.isKeyword("SELECT") {
		at := p.peek().pos
		sub, err := p.subquery()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen); err != nil {
			return nil, err
		}
		return semiJoinExpr{field: f, not: not, sub: sub, at: at}, nil
	}
	e := inExpr{field: f, not: not}
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		e.vals = append(e.vals, v)
		if p.peek().kind != tComma {
			break
		}
		p.next()
	}
	if _, err := p.expect(tRParen); err != nil {
		return nil, err
	}
	return e, nil
}

// subquery parses a semi-join's sub-select: one field, FROM and an optional WHERE. Anything
// else before the closing parenthesis (a second field, ORDER BY, LIMIT) is an unexpected token.
func (p *parser) subquery() (*query, *soqlError) {
	q := &query{limit: -1}
	if err := p.expectKeyword("SELECT"); err != nil {
		return nil, err
	}
	f, err := p.field()
	if err != nil {
		return nil, err
	}
	q.fields = []fieldPath{f}
	if err := p.expectKeyword("FROM"); err != nil {
		return nil, err
	}
	from, err := p.objectName()
	if err != nil {
		return nil, err
	}
	q.from, q.fromAt = from.text, from.pos
	if p.acceptKeyword("WHERE") {
		if q.where, err = p.cond(); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// maxSemiJoins is Salesforce's limit of semi-join and anti-join sub-selects per query.
const maxSemiJoins = 2

// joinPlace is where a semi-join sits in the WHERE tree, which decides whether SOQL allows it.
type joinPlace int

const (
	placeTop    joinPlace = iota // a term of the top-level AND (or the whole WHERE)
	placeOr                      // a term of the top-level OR
	placeNested                  // inside a parenthesized OR
	placeNot                     // under NOT
)

type joinUse struct {
	e     semiJoinExpr
	place joinPlace
}

// collectJoins lists the semi-joins of a WHERE tree in source order with their places.
func collectJoins(e expr, place joinPlace, root bool, out *[]joinUse) {
	switch e := e.(type) {
	case semiJoinExpr:
		*out = append(*out, joinUse{e, place})
	case andExpr:
		inner := place
		if place == placeOr {
			inner = placeNested
		}
		for _, x := range e.terms {
			collectJoins(x, inner, false, out)
		}
	case orExpr:
		inner := placeNested
		switch {
		case place == placeNot:
			inner = placeNot
		case root:
			inner = placeOr
		}
		for _, x := range e.terms {
			collectJoins(x, inner, false, out)
		}
	case notExpr:
		collectJoins(e.x, placeNot, false, out)
	}
}

// unsupportedInner are the objects a semi-join sub-select cannot query (tag objects, named
// <Object>Tag, too).
var unsupportedInner = map[string]bool{"activityhistory": true, "attachment": true, "event": true,
	"eventattendee": true, "note": true, "openactivity": true, "task": true}

// checkSemiJoins applies SOQL's structural rules for semi-joins and anti-joins.
func checkSemiJoins(q *query) *soqlError {
	var joins []joinUse
	collectJoins(q.where, placeTop, true, &joins)
	for i, j := range joins {
		var nested []joinUse
		collectJoins(j.e.sub.where, placeTop, true, &nested)
		if len(nested) > 0 {
			return malformed(nested[0].e.at, "Nesting of semi join sub-selects is not supported")
		}
		switch j.place {
		case placeOr:
			return malformed(j.e.field.pos, "Semi join sub-selects are not allowed with the 'OR' operator")
		case placeNested:
			return malformed(j.e.field.pos, "Semi join sub-selects are only allowed at the top level WHERE expressions and not in nested WHERE expressions.")
		case placeNot:
			return malformed(j.e.field.pos, "Semi join sub-selects are not allowed with the 'NOT' operator")
		}
		if i == maxSemiJoins {
			return malformed(j.e.at, "Maximum %d semi join sub-selects are allowed", maxSemiJoins)
		}
		if len(j.e.field.parts) > 1 {
			return malformed(j.e.field.pos, "The left operand of a semi join or anti join must be an id or reference field of %s, without a relationship path: '%s'", q.from, j.e.field)
		}
		sub := j.e.sub
		if f := sub.fields[0]; len(f.parts) > 1 {
			return malformed(f.pos, "semi join sub selects can only query id fields, cannot use: '%s'", f)
		}
		if strings.EqualFold(sub.from, q.from) {
			return malformed(sub.fromAt, "The inner and outer selects should not be on the same object type")
		}
		if low := strings.ToLower(sub.from); unsupportedInner[low] || strings.HasSuffix(low, "tag") {
			return malformed(sub.fromAt, "Entity '%s' is not supported for semi join inner selects", sub.from)
		}
	}
	return nil
}

func (p *parser) value() (literal, *soqlError) {
	t := p.peek()
	switch t.kind {
	case tString:
		s, msg := unescape(t.text, false)
		if msg != "" {
			return literal{}, malformed(t.pos, "%s", msg)
		}
		p.next()
		return literal{kind: litString, s: s}, nil
	case tNumber:
		p.next()
		return literal{kind: litNumber, n: t.num}, nil
	case tDate:
		p.next()
		return literal{kind: litDate, t: t.time, s: t.text}, nil
	case tDateTime:
		p.next()
		return literal{kind: litDateTime, t: t.time}, nil
	case tIdent:
		switch strings.ToUpper(t.text) {
		case "NULL":
			p.next()
			return literal{kind: litNull}, nil
		case "TRUE", "FALSE":
			p.next()
			return literal{kind: litBool, b: strings.EqualFold(t.text, "TRUE")}, nil
		}
	}
	return literal{}, p.unexpected()
}
