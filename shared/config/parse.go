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
	if dec.More() {
		return doc, apperr.Invalidf([]apperr.Problem{{Path: "$", Message: "unexpected data after the JSON document"}}, "document is not valid JSON")
	}
	var problems []apperr.Problem
	checkShape(tree, reflect.TypeOf(doc), "$", &problems)
	// json.Unmarshal skips values of the wrong type and decodes the rest, so the structural
	// checks below still see every well-typed field; their findings on a path already reported
	// as mistyped are dropped as noise.
	if err := json.Unmarshal(data, &doc); err != nil && len(problems) == 0 {
		problems = append(problems, apperr.Problem{Path: "$", Message: err.Error()})
	}
	doc.Settings = doc.Settings.withDefaults()
	for _, p := range Validate(doc) {
		if !underAny(p.Path, problems) {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return doc, apperr.Invalidf(problems, "document has %d problem(s)", len(problems))
	}
	return doc, nil
}

// underAny reports whether path is, or lies under, the path of one of the problems.
func underAny(path string, problems []apperr.Problem) bool {
	for _, p := range problems {
		if path == p.Path || strings.HasPrefix(path, p.Path+".") || strings.HasPrefix(path, p.Path+"[") {
			return true
		}
	}
	return false
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
// problems at once instead of the first type error.
func checkShape(v any, t reflect.Type, path string, problems *[]apperr.Problem) {
	add := func(msg string, args ...any) {
		*problems = append(*problems, apperr.Problem{Path: path, Message: fmt.Sprintf(msg, args...)})
	}
	if v == nil {
		if t.Kind() != reflect.Pointer && t.Kind() != reflect.Slice {
			add("must not be null")
		}
		return
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == literalType {
		switch v.(type) {
		case string, json.Number, bool:
		default:
			add("must be a string, number or boolean")
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			add("must be an object")
			return
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
				continue
			}
			checkShape(obj[k], f.Type, path+"."+k, problems)
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			add("must be an array")
			return
		}
		for i, e := range arr {
			checkShape(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), problems)
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			add("must be a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			add("must be a boolean")
		}
	case reflect.Int:
		n, ok := v.(json.Number)
		if !ok {
			add("must be a number")
			return
		}
		if _, err := n.Int64(); err != nil {
			add("must be a whole number")
		}
	}
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
