package salesforce

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// Escape escapes s for use between the single quotes of a SOQL string literal, using the escape
// sequences SOQL defines: \\ \' \" \n \r \t \b \f. Every other byte, including non-ASCII and
// invalid UTF-8, passes through unchanged, so the literal decodes back to exactly s.
func Escape(s string) string {
	return escape(s, false)
}

// EscapeLike is Escape for text inside a LIKE pattern: it also escapes the wildcards % and _, so
// that 'prefix%' can be built as "'" + EscapeLike(prefix) + "%'".
func EscapeLike(s string) string {
	return escape(s, true)
}

func escape(s string, like bool) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '%', '_':
			if like {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Quote returns s as a SOQL string literal, quotes included.
func Quote(s string) string {
	return "'" + Escape(s) + "'"
}

// QuoteList returns values as a parenthesised list of literals for IN and NOT IN: ('a','b').
// An empty list is an error because "IN ()" is not valid SOQL; callers should skip the query.
func QuoteList(values []string) (string, error) {
	if len(values) == 0 {
		return "", apperr.New(apperr.Invalid, "soql: empty IN list")
	}
	var b strings.Builder
	b.WriteByte('(')
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(Quote(v))
	}
	b.WriteByte(')')
	return b.String(), nil
}

// Literal renders a Go value as a SOQL literal: nil as null, string quoted, []string as an IN
// list, bool, integers, finite floats, and time.Time as a UTC dateTime literal
// (2026-11-21T10:00:00Z; SOQL has no fractional seconds, so they are dropped).
func Literal(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "null", nil
	case string:
		return Quote(v), nil
	case []string:
		return QuoteList(v)
	case bool:
		return strconv.FormatBool(v), nil
	case int:
		return strconv.Itoa(v), nil
	case int8, int16, int32, int64:
		return fmt.Sprintf("%d", v), nil
	case uint, uint8, uint16, uint32, uint64:
		return fmt.Sprintf("%d", v), nil
	case float32:
		return Literal(float64(v))
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", apperr.New(apperr.Invalid, "soql: %v is not a number literal", v)
		}
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case time.Time:
		return v.UTC().Format("2006-01-02T15:04:05Z"), nil
	default:
		return "", apperr.New(apperr.Invalid, "soql: unsupported literal type %T", v)
	}
}

// Format replaces each ? outside string literals in template with Literal of the next argument:
//
//	Format("SELECT Id FROM User WHERE Username = ? AND IsActive = ?", name, true)
//
// The template is trusted code; the arguments may be anything.
func Format(template string, args ...any) (string, error) {
	var b strings.Builder
	n := 0
	inLit := false
	for i := 0; i < len(template); i++ {
		c := template[i]
		switch {
		case inLit && c == '\\' && i+1 < len(template):
			b.WriteByte(c)
			i++
			c = template[i]
		case c == '\'':
			inLit = !inLit
		case c == '?' && !inLit:
			if n >= len(args) {
				return "", apperr.New(apperr.Invalid, "soql: template has more placeholders than the %d arguments", len(args))
			}
			lit, err := Literal(args[n])
			if err != nil {
				return "", err
			}
			b.WriteString(lit)
			n++
			continue
		}
		b.WriteByte(c)
	}
	if inLit {
		return "", apperr.New(apperr.Invalid, "soql: template has an unterminated string literal")
	}
	if n != len(args) {
		return "", apperr.New(apperr.Invalid, "soql: template has %d placeholders for %d arguments", n, len(args))
	}
	return b.String(), nil
}

var nameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,79}$`)

// CheckObject reports whether name is a valid sObject API name (such as Case or Foo__c), so that
// names read from configuration cannot inject SOQL or path segments.
func CheckObject(name string) error {
	if !nameRE.MatchString(name) || strings.HasSuffix(name, "_") {
		return apperr.New(apperr.Invalid, "soql: %q is not a valid object name", name)
	}
	return nil
}

// CheckField reports whether path is a valid field name or relationship path (Owner.Name), with at
// most the five relationship hops SOQL allows.
func CheckField(path string) error {
	parts := strings.Split(path, ".")
	if len(parts) > 6 {
		return apperr.New(apperr.Invalid, "soql: field %q has more than 5 relationship hops", path)
	}
	for _, p := range parts {
		if !nameRE.MatchString(p) || strings.HasSuffix(p, "_") {
			return apperr.New(apperr.Invalid, "soql: %q is not a valid field name", path)
		}
	}
	return nil
}

// Builder assembles a SELECT statement from checked identifiers and escaped values. The first
// problem is kept and returned by Build, so calls can be chained.
type Builder struct {
	fields []string
	object string
	where  []string
	order  []string
	limit  int
	err    error
}

// Select starts a query for fields (field names or relationship paths, or "COUNT()").
func Select(fields ...string) *Builder {
	b := &Builder{limit: -1}
	if len(fields) == 0 {
		b.fail(apperr.New(apperr.Invalid, "soql: no fields selected"))
	}
	for _, f := range fields {
		if f == "COUNT()" && len(fields) == 1 {
			continue
		}
		b.fail(CheckField(f))
	}
	b.fields = fields
	return b
}

// From sets the sObject type queried.
func (b *Builder) From(object string) *Builder {
	b.fail(CheckObject(object))
	b.object = object
	return b
}

// Where adds a condition; several are joined with AND, each in parentheses because SOQL does not
// allow AND and OR to be mixed without them. cond is trusted text whose ? placeholders are
// filled with Literal(args[i]).
func (b *Builder) Where(cond string, args ...any) *Builder {
	s, err := Format(cond, args...)
	b.fail(err)
	b.where = append(b.where, s)
	return b
}

// OrderBy sorts ascending by field.
func (b *Builder) OrderBy(field string) *Builder {
	b.fail(CheckField(field))
	b.order = append(b.order, field+" ASC")
	return b
}

// OrderByDesc sorts descending by field.
func (b *Builder) OrderByDesc(field string) *Builder {
	b.fail(CheckField(field))
	b.order = append(b.order, field+" DESC")
	return b
}

// Limit caps the number of records.
func (b *Builder) Limit(n int) *Builder {
	if n < 0 {
		b.fail(apperr.New(apperr.Invalid, "soql: negative limit %d", n))
	}
	b.limit = n
	return b
}

// Build returns the query, or the first problem found while building it.
func (b *Builder) Build() (string, error) {
	if b.err != nil {
		return "", b.err
	}
	if b.object == "" {
		return "", apperr.New(apperr.Invalid, "soql: no FROM object")
	}
	var s strings.Builder
	s.WriteString("SELECT " + strings.Join(b.fields, ", ") + " FROM " + b.object)
	if len(b.where) == 1 {
		s.WriteString(" WHERE " + b.where[0])
	} else if len(b.where) > 1 {
		s.WriteString(" WHERE (" + strings.Join(b.where, ") AND (") + ")")
	}
	if len(b.order) > 0 {
		s.WriteString(" ORDER BY " + strings.Join(b.order, ", "))
	}
	if b.limit >= 0 {
		s.WriteString(" LIMIT " + strconv.Itoa(b.limit))
	}
	return s.String(), nil
}

func (b *Builder) fail(err error) {
	if b.err == nil && err != nil {
		b.err = err
	}
}
