package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// Parse decodes and structurally validates a document. On failure it returns an apperr.Invalid
// error whose Problems list every problem found, each with its JSON path; it never stops at the
// first one. Settings left out are filled with Defaults.
func Parse(data []byte) (Document, error) {
	var doc Document
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return doc, apperr.Invalidf([]apperr.Problem{{Path: "$", Message: syntaxMessage(err)}}, "document is not valid JSON")
	}
	// dec.More reports false before a stray ']' or '}', so look at the remaining bytes instead.
	if off := dec.InputOffset(); len(bytes.TrimLeft(data[off:], " \t\r\n")) > 0 {
		return doc, apperr.Invalidf([]apperr.Problem{{Path: "$", Message: fmt.Sprintf("unexpected data after the JSON document at byte %d", off)}}, "document is not valid JSON")
	}
	var problems []apperr.Problem
	// checkShape prunes every mistyped value from the tree, so decoding the pruned tree fills
	// every well-typed field. Decoding the raw bytes instead would stop at the first error a
	// json.Unmarshaler returns (a Literal given an object), leaving later fields zero and
	// producing spurious problems below. Validate's findings at, under or above a path already
	// reported as mistyped or unknown are dropped as noise.
	src := data
	if !checkShape(tree, reflect.TypeOf(doc), "$", &problems) {
		tree = nil
	}
	if len(problems) > 0 {
		var err error
		if src, err = json.Marshal(tree); err != nil {
			return doc, apperr.Wrap(apperr.Internal, err, "re-encode document")
		}
	}
	if err := json.Unmarshal(src, &doc); err != nil && len(problems) == 0 {
		problems = append(problems, apperr.Problem{Path: "$", Message: err.Error()})
	}
	doc.Settings = doc.Settings.withDefaults()
	shape := len(problems)
	for _, p := range Validate(doc) {
		if !relatedToAny(p.Path, problems[:shape]) {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return doc, apperr.Invalidf(problems, "document has %d problem(s)", len(problems))
	}
	return doc, nil
}

// relatedToAny reports whether path is, lies under, or lies above the path of one of the
// problems. A finding under a mistyped value is noise, and so is one about its parent: a
// criterion whose mistyped value was dropped would otherwise also be reported as having neither
// operand nor value.
func relatedToAny(path string, problems []apperr.Problem) bool {
	for _, p := range problems {
		if within(path, p.Path) || within(p.Path, path) {
			return true
		}
	}
	return false
}

// within reports whether path equals or lies under parent.
func within(path, parent string) bool {
	return path == parent || strings.HasPrefix(path, parent+".") || strings.HasPrefix(path, parent+"[")
}

func syntaxMessage(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d: %s", se.Offset, se.Error())
	}
	if errors.Is(err, io.EOF) {
		return "document is empty"
	}
	return "invalid JSON: " + err.Error()
}

var literalType = reflect.TypeOf(Literal(""))

// checkShape walks a decoded JSON tree against the Go type it must fill, recording every type
// mismatch and unknown field. Doing this before json.Unmarshal is what lets Parse report all
// problems at once instead of the first type error. It reports whether v may be kept: mistyped
// values and unknown fields are removed from their parent objects and arrays (set to null in
// arrays, so indexes keep matching the reported paths).
func checkShape(v any, t reflect.Type, path string, problems *[]apperr.Problem) bool {
	add := func(msg string, args ...any) bool {
		*problems = append(*problems, apperr.Problem{Path: path, Message: fmt.Sprintf(msg, args...)})
		return false
	}
	if v == nil {
		if t.Kind() != reflect.Pointer && t.Kind() != reflect.Slice {
			return add("must not be null")
		}
		return true
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == literalType {
		switch v.(type) {
		case string, json.Number, bool:
			return true
		}
		return add("must be a string, number or boolean")
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
				*problems = append(*problems, apperr.Problem{Path: path + "." + k, Message: "unknown field"})
				delete(obj, k)
				continue
			}
			if !checkShape(obj[k], f.Type, path+"."+k, problems) {
				delete(obj, k)
			}
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			return add("must be an array")
		}
		for i, e := range arr {
			if !checkShape(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), problems) {
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
	case reflect.Int:
		n, ok := v.(json.Number)
		if !ok {
			return add("must be a number")
		}
		if _, err := n.Int64(); err != nil {
			return add("must be a whole number")
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
