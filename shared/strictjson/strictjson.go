// Package strictjson reads JSON request bodies the way every Omnibridge input must be read:
// nothing is silently dropped, replaced or guessed, and every problem is reported with its JSON
// path ("$.rules[2].id"), never with a Go type name.
//
// encoding/json alone is lenient where an operator's input must not be: it keeps the last of two
// duplicate keys, replaces invalid UTF-8 with U+FFFD, and stops at the first type error with a
// message naming Go types ("cannot unmarshal string into Go struct field X.y of type rules.Number").
// Scan finds the first two, Shape the last, and Decode runs both before decoding.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// Decode decodes data, a single JSON value, into v (a pointer), after checking it with Scan and
// Shape. On failure it returns an apperr.Invalid error listing every problem with its path; what
// names the input in messages.
func Decode(data []byte, v any, what string) error {
	tree, problems, err := Tree(data)
	if err != nil {
		return err
	}
	Shape(tree, reflect.TypeOf(v).Elem(), "$", &problems)
	if len(problems) > 0 {
		return apperr.Invalidf(problems, "%s has %d problem(s)", what, len(problems))
	}
	if err := json.Unmarshal(data, v); err != nil {
		// Shape accepted it, so this is a value an Unmarshaler rejects only in context.
		return apperr.Invalidf([]apperr.Problem{{Path: "$", Message: "is not valid: " + err.Error()}}, "%s is not valid", what)
	}
	return nil
}

// Tree decodes data into a generic tree (numbers as json.Number) and returns it with Scan's
// problems. Data that is not one JSON value (malformed, empty, or followed by more data) is an
// apperr.Invalid error.
func Tree(data []byte) (any, []apperr.Problem, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, nil, apperr.Invalidf([]apperr.Problem{{Path: "$", Message: SyntaxMessage(err)}}, "body is not valid JSON")
	}
	// dec.More reports false before a stray ']' or '}', so look at the remaining bytes instead.
	if off := dec.InputOffset(); len(bytes.TrimLeft(data[off:], " \t\r\n")) > 0 {
		return nil, nil, apperr.Invalidf([]apperr.Problem{{Path: "$", Message: fmt.Sprintf("unexpected data after the JSON document at byte %d", off)}}, "body is not valid JSON")
	}
	return tree, Scan(data), nil
}

// SyntaxMessage explains a json decoding error, with the byte offset when there is one.
func SyntaxMessage(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d: %s", se.Offset, se.Error())
	}
	if errors.Is(err, io.EOF) {
		return "body is empty"
	}
	return "invalid JSON: " + err.Error()
}

// Scan walks data's tokens and reports each key given twice in one object ("duplicate key",
// at the second copy's path) and each key or string that is not valid UTF-8. Malformed JSON
// ends the scan quietly: decoding reports it.
func Scan(data []byte) []apperr.Problem {
	type frame struct {
		object bool
		path   string
		keys   map[string]bool
		key    string // the current member's key, in an object
		index  int    // the next element's index, in an array
	}
	var (
		problems []apperr.Problem
		stack    []*frame
	)
	// next returns the path of the value about to be read in the innermost container.
	next := func() string {
		if len(stack) == 0 {
			return "$"
		}
		f := stack[len(stack)-1]
		if f.object {
			return f.path + KeyPath(f.key)
		}
		f.index++
		return fmt.Sprintf("%s[%d]", f.path, f.index-1)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var prev int64
	expectKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return problems
		}
		raw := data[prev:dec.InputOffset()]
		prev = dec.InputOffset()
		var path string
		switch {
		case expectKey && tok != json.Delim('}'):
			f := stack[len(stack)-1]
			key, _ := tok.(string)
			f.key = key
			path = f.path + KeyPath(key)
			if f.keys[key] {
				// encoding/json would keep the last copy silently; another reader might keep the first.
				problems = append(problems, apperr.Problem{Path: path, Message: "duplicate key"})
			}
			f.keys[key] = true
			expectKey = false
		case tok == json.Delim('}') || tok == json.Delim(']'):
			stack = stack[:len(stack)-1]
			expectKey = len(stack) > 0 && stack[len(stack)-1].object
			continue
		default:
			path = next()
			switch tok {
			case json.Delim('{'):
				stack = append(stack, &frame{object: true, path: path, keys: map[string]bool{}})
				expectKey = true
			case json.Delim('['):
				stack = append(stack, &frame{path: path})
			default:
				expectKey = len(stack) > 0 && stack[len(stack)-1].object
			}
		}
		if !utf8.Valid(raw) {
			problems = append(problems, apperr.Problem{Path: path, Message: "is not valid UTF-8"})
		}
	}
}

// KeyPath renders an object key as a JSON path step: .name for plain names, ["..."] otherwise.
func KeyPath(key string) string {
	plain := key != "" && len(key) <= 64
	for i := 0; i < len(key) && plain; i++ {
		c := key[i]
		plain = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || (i > 0 && '0' <= c && c <= '9')
	}
	if plain {
		return "." + key
	}
	return "[" + strconv.QuoteToASCII(key) + "]"
}

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	timeType        = reflect.TypeFor[time.Time]()
)

// Shape walks a decoded JSON tree (from Tree) against the Go type it must fill, recording every
// type mismatch and unknown field with its path. Doing this before json.Unmarshal is what
// reports all problems at once instead of the first type error. It reports whether v may be
// kept: mistyped values and unknown fields are removed from their parent objects and set to
// null in arrays (so indexes keep matching the reported paths), which lets a caller decode the
// rest of a pruned tree.
//
// time.Time must be an RFC 3339 string; a type with its own UnmarshalJSON (json.RawMessage
// included) is given the value and its error message, which must name no Go type, is reported.
func Shape(v any, t reflect.Type, path string, problems *[]apperr.Problem) bool {
	add := func(msg string, args ...any) bool {
		*problems = append(*problems, apperr.Problem{Path: path, Message: fmt.Sprintf(msg, args...)})
		return false
	}
	if t.Kind() == reflect.Pointer {
		if v == nil {
			return true
		}
		t = t.Elem()
	}
	switch {
	case t == timeType:
		s, ok := v.(string)
		if _, err := time.Parse(time.RFC3339, s); !ok || err != nil {
			return add("must be an RFC 3339 time such as 2026-11-21T09:00:00Z")
		}
		return true
	case reflect.PointerTo(t).Implements(unmarshalerType):
		b, err := json.Marshal(v)
		if err != nil {
			return add("cannot be read")
		}
		if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(b); err != nil {
			return add("%s", err.Error())
		}
		return true
	case v == nil:
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Map && t.Kind() != reflect.Interface {
			return add("must not be null")
		}
		return true
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return add("must be an object")
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			f, ok := fields[k]
			if !ok {
				*problems = append(*problems, apperr.Problem{Path: path + KeyPath(k), Message: "unknown field"})
				delete(obj, k)
				continue
			}
			if !Shape(obj[k], f.Type, path+KeyPath(k), problems) {
				delete(obj, k)
			}
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return add("must be an object")
		}
		for k, e := range obj {
			if !Shape(e, t.Elem(), path+KeyPath(k), problems) {
				delete(obj, k)
			}
		}
	case reflect.Slice, reflect.Array:
		arr, ok := v.([]any)
		if !ok {
			return add("must be an array")
		}
		for i, e := range arr {
			if !Shape(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), problems) {
				arr[i] = nil
			}
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			return add("must be a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return add("must be a boolean")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			return add("must be a number")
		}
		if _, err := strconv.ParseInt(n.String(), 10, t.Bits()); err != nil {
			return add("must be a whole number")
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			return add("must be a number")
		}
		if _, err := strconv.ParseUint(n.String(), 10, t.Bits()); err != nil {
			return add("must be a whole number of 0 or more")
		}
	case reflect.Float32, reflect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			return add("must be a number")
		}
		if _, err := strconv.ParseFloat(n.String(), t.Bits()); err != nil {
			return add("must be a number in range")
		}
	}
	return true
}

// jsonFields maps a struct's JSON names to its fields.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	m := make(map[string]reflect.StructField, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f
	}
	return m
}

// TypeName names the JSON type of a valid JSON value for messages ("an object", "a string",
// "null", …; "nothing" for empty input), never a Go type.
func TypeName(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
