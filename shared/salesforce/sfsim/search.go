package sfsim

import (
	"bytes"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// phoneFields are the phone fields SOSL's IN PHONE FIELDS searches, by object; custom fields
// whose names end in "Phone__c" are searched too.
var phoneFields = map[string][]string{
	"contact": {"Phone", "MobilePhone", "HomePhone", "OtherPhone", "AssistantPhone", "Fax"},
	"lead":    {"Phone", "MobilePhone", "Fax"},
	"account": {"Phone", "Fax"},
	"user":    {"Phone", "MobilePhone", "Fax"},
}

// SearchDisabledCode is the errorCode of a search in an org where SOSL is off (DisableSearch).
const SearchDisabledCode = "FUNCTIONALITY_NOT_ENABLED"

// DisableSearch turns SOSL off (true) or on again: every search then answers 400
// FUNCTIONALITY_NOT_ENABLED, as in an org whose search is disabled, so the SOQL fallback can
// be tested.
func (o *Org) DisableSearch(off bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.searchOff = off
}

// minPhoneDigits is the shortest number compared by its tail: a national number matches its
// international form ("(415) 555-1212" and "+14155551212") when the shorter has this many
// digits.
const minPhoneDigits = 10

var soslRE = regexp.MustCompile(`(?is)^\s*FIND\s+\{((?:\\.|[^\\}])*)\}\s+IN\s+(\w+)\s+FIELDS\s+RETURNING\s+(.+?)(?:\s+LIMIT\s+(\d+))?\s*$`)

var returningRE = regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$`)

// serveSearch answers GET /services/data/vXX.X/search/?q=<SOSL> for the form the call logging
// needs: FIND {number} IN PHONE FIELDS RETURNING Contact(fields [WHERE ...] [ORDER BY ...]
// [LIMIT n]), Lead(...) [LIMIT n]. Phone fields match the number whatever their formatting:
// the digits are compared, and a number of at least 10 digits also matches as the tail of a
// longer one (the national form of an E.164 number). The response is {"searchRecords": [...]}
// with each record's attributes, in RETURNING order.
func (o *Org) serveSearch(w http.ResponseWriter, r *http.Request, ver string) {
	o.mu.RLock()
	off := o.searchOff
	o.mu.RUnlock()
	if off {
		writeErrors(w, http.StatusBadRequest, Error{Code: SearchDisabledCode, Message: "Search is not enabled for this organization"})
		return
	}
	q := r.URL.Query().Get("q")
	m := soslRE.FindStringSubmatch(q)
	if m == nil {
		writeErrors(w, http.StatusBadRequest, Error{Code: "MALFORMED_SEARCH", Message: "unexpected token in search: expected FIND {term} IN PHONE FIELDS RETURNING ..."})
		return
	}
	term, scope, returning, limit := unescapeSOSL(m[1]), strings.ToUpper(m[2]), m[3], -1
	if scope != "PHONE" {
		writeErrors(w, http.StatusBadRequest, Error{Code: "MALFORMED_SEARCH", Message: "sfsim supports only IN PHONE FIELDS, not IN " + scope + " FIELDS"})
		return
	}
	digits := digitsOf(term)
	if len(digits) < 2 {
		writeErrors(w, http.StatusBadRequest, Error{Code: "MALFORMED_SEARCH", Message: "search term must be longer than one character"})
		return
	}
	if m[4] != "" {
		limit, _ = strconv.Atoi(m[4])
	}
	specs := splitTopLevel(returning)
	var b bytes.Buffer
	b.WriteString(`{"searchRecords":[`)
	n := 0
	for _, spec := range specs {
		sm := returningRE.FindStringSubmatch(spec)
		if sm == nil {
			writeErrors(w, http.StatusBadRequest, Error{Code: "MALFORMED_SEARCH", Message: "unexpected token in RETURNING: " + strings.TrimSpace(spec)})
			return
		}
		ids, e := o.phoneMatches(sm[1], digits)
		if e != nil {
			writeErrors(w, http.StatusBadRequest, *e)
			return
		}
		if len(ids) == 0 {
			continue
		}
		res, e := o.run(soqlFor(sm[1], sm[2], ids))
		if e != nil {
			writeErrors(w, http.StatusBadRequest, *e)
			return
		}
		o.mu.RLock()
		for _, row := range res.rows {
			if limit >= 0 && n >= limit {
				break
			}
			if n > 0 {
				b.WriteByte(',')
			}
			if err := o.project(row, res.c, ver).appendJSON(&b); err != nil {
				o.mu.RUnlock()
				writeErrors(w, http.StatusInternalServerError, Error{Code: "UNKNOWN_EXCEPTION", Message: "cannot encode record"})
				return
			}
			n++
		}
		o.mu.RUnlock()
	}
	b.WriteString(`]}`)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}

// phoneMatches returns the ids of sObject's records with a phone field matching digits.
func (o *Org) phoneMatches(sObject, digits string) ([]string, *Error) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	t := o.readTable(sObject)
	if t == nil {
		return nil, notFoundType(sObject)
	}
	fields := phoneFields[strings.ToLower(t.name)]
	for _, f := range t.order {
		if strings.HasSuffix(strings.ToLower(f), "phone__c") {
			fields = append(fields, f)
		}
	}
	var ids []string
	for _, r := range t.recs {
		for _, f := range fields {
			if s, ok := r.get(f).(string); ok && phoneMatch(digitsOf(s), digits) {
				ids = append(ids, CaseSafeID(r.id))
				break
			}
		}
	}
	return ids, nil
}

// phoneMatch compares two numbers by their digits.
func phoneMatch(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if a == b {
		return true
	}
	if len(a) < len(b) {
		a, b = b, a
	}
	return len(b) >= minPhoneDigits && strings.HasSuffix(a, b)
}

func digitsOf(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// unescapeSOSL removes the backslashes SOSL requires before its reserved characters (+ - & |
// ! ( ) { } [ ] ^ " ~ * ? : \ ').
func unescapeSOSL(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// splitTopLevel splits a RETURNING clause at the commas between object specs.
func splitTopLevel(s string) []string {
	var out []string
	depth, start, quoted := 0, 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// soqlFor turns one RETURNING spec into the SOQL that selects its records among ids: the field
// list becomes the SELECT, its WHERE is ANDed with the id filter, ORDER BY and LIMIT stay.
func soqlFor(sObject, inner string, ids []string) string {
	fields, rest := splitKeyword(inner, "WHERE", "ORDER", "LIMIT")
	if strings.TrimSpace(fields) == "" {
		fields = "Id"
	}
	quoted := make([]string, len(ids))
	for i, id := range ids {
		quoted[i] = "'" + id + "'"
	}
	where := "Id IN (" + strings.Join(quoted, ", ") + ")"
	tail := rest
	if kw, after, ok := cutKeyword(rest); ok && kw == "WHERE" {
		cond, more := splitKeyword(after, "ORDER", "LIMIT")
		where += " AND (" + cond + ")"
		tail = more
	}
	return "SELECT " + fields + " FROM " + sObject + " WHERE " + where + " " + tail
}

// splitKeyword splits s before the first of keywords that stands as a word outside quotes.
func splitKeyword(s string, keywords ...string) (before, from string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\\':
			i++
			continue
		case c == '\'':
			quoted = !quoted
			continue
		case quoted:
			continue
		}
		if i > 0 && isWordByte(s[i-1]) {
			continue
		}
		for _, kw := range keywords {
			if len(s)-i >= len(kw) && strings.EqualFold(s[i:i+len(kw)], kw) && (i+len(kw) == len(s) || !isWordByte(s[i+len(kw)])) {
				return s[:i], s[i:]
			}
		}
	}
	return s, ""
}

// cutKeyword returns the leading keyword of s and what follows it.
func cutKeyword(s string) (kw, after string, ok bool) {
	s = strings.TrimSpace(s)
	word, after, _ := strings.Cut(s, " ")
	if word == "" {
		return "", "", false
	}
	return strings.ToUpper(word), after, true
}

func isWordByte(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' }
