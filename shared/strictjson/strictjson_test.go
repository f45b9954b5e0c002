package strictjson_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/strictjson"
)

func render(ps []apperr.Problem) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "%s: %s\n", p.Path, p.Message)
	}
	return b.String()
}

func TestScan(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"clean", `{"a": [1, {"b": "x"}], "c": {"d": null}}`, ""},
		{"duplicate at the top", `{"a": 1, "a": 2}`, "$.a: duplicate key\n"},
		{"duplicate in an array element", `{"a": [{"x": 1}, {"x": 1, "y": 2, "x": 3}]}`, "$.a[1].x: duplicate key\n"},
		{"same key in sibling objects is fine", `{"a": {"x": 1}, "b": {"x": 1}}`, ""},
		{"duplicate after a nested value", `{"a": {"b": [1, 2]}, "a": 3}`, "$.a: duplicate key\n"},
		{"odd keys are quoted", `{"a b": 1, "a b": 2}`, "$[\"a b\"]: duplicate key\n"},
		{"invalid UTF-8 in a value", "{\"a\": [\"ok\", \"bad\xff\"]}", "$.a[1]: is not valid UTF-8\n"},
		{"invalid UTF-8 in a key", "{\"k\xc3\": 1}", "$[\"k\\ufffd\"]: is not valid UTF-8\n"},
		{"escaped control characters are valid JSON", `{"a": "\u0000"}`, ""},
		{"malformed JSON ends the scan quietly", `{"a": 1, "a": `, "$.a: duplicate key\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := render(strictjson.Scan([]byte(tc.in))); got != tc.want {
				t.Errorf("Scan(%s):\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

// number is a type with its own UnmarshalJSON, like rules.Number.
type number struct{ v float64 }

func (n *number) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &n.v); err != nil {
		return fmt.Errorf("must be a number")
	}
	return nil
}

type inner struct {
	Count int `json:"count"`
}

type target struct {
	Name  string            `json:"name"`
	At    time.Time         `json:"at"`
	N     number            `json:"n"`
	In    *inner            `json:"in,omitempty"`
	List  []inner           `json:"list"`
	Tags  map[string]string `json:"tags"`
	Raw   json.RawMessage   `json:"raw"`
	Ratio float64           `json:"ratio"`
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"valid", `{"name": "x", "at": "2026-11-21T09:00:00Z", "n": 3, "in": {"count": 2}, "list": [{"count": 1}], "tags": {"a": "b"}, "raw": {"anything": [1]}, "ratio": 0.5}`, ""},
		{"every problem with its path, no Go type",
			`{"name": 1, "at": "noon", "n": "3", "in": {"count": 1.5}, "list": [{"count": "x"}, 7], "tags": {"a": 1}, "ratio": "half", "extra": true}`,
			"$.at: must be an RFC 3339 time such as 2026-11-21T09:00:00Z\n$.extra: unknown field\n$.in.count: must be a whole number\n" +
				"$.list[0].count: must be a number\n$.list[1]: must be an object\n$.n: must be a number\n$.name: must be a string\n" +
				"$.ratio: must be a number\n$.tags.a: must be a string\n"},
		{"duplicate keys", `{"name": "a", "name": "b"}`, "$.name: duplicate key\n"},
		{"null for a struct", `{"list": [null]}`, "$.list[0]: must not be null\n"},
		{"trailing data", `{} {}`, "$: unexpected data after the JSON document at byte 2\n"},
		{"not JSON", `{"name": }`, "$: invalid JSON at byte 10: invalid character '}' looking for beginning of value\n"},
		{"empty", ``, "$: body is empty\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v target
			err := strictjson.Decode([]byte(tc.in), &v, "request")
			got := render(apperr.ProblemsOf(err))
			if err != nil && !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("error %v is not invalid", err)
			}
			if got != tc.want {
				t.Errorf("Decode(%s):\n got %q\nwant %q", tc.in, got, tc.want)
			}
			if strings.Contains(got, "strictjson") || strings.Contains(got, "Go ") {
				t.Errorf("a message names a Go type: %s", got)
			}
		})
	}
}

func TestTypeName(t *testing.T) {
	for raw, want := range map[string]string{
		` {"a":1}`: "an object", `[1]`: "an array", `"x"`: "a string", `true`: "a boolean",
		`false`: "a boolean", `null`: "null", `-1.5`: "a number", `  `: "nothing",
	} {
		t.Run(want+" "+raw, func(t *testing.T) {
			if got := strictjson.TypeName([]byte(raw)); got != want {
				t.Fatalf("TypeName(%q) = %q, want %q", raw, got, want)
			}
		})
	}
}
