package rules_test

import (
	"encoding/json"
	"testing"

	"github.com/omnibridge/omnibridge/shared/rules"
)

func TestNumberJSON(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    rules.Number
		out     string
		wantErr bool
	}{
		{name: "integer", in: `4`, want: rules.Num(4), out: `4`},
		{name: "decimal", in: `2.5`, want: rules.Num(2.5), out: `2.5`},
		{name: "zero is present", in: `0`, want: rules.Num(0), out: `0`},
		{name: "negative reads (the decoders reject it)", in: `-1`, want: rules.Num(-1), out: `-1`},
		{name: "null is absent", in: `null`, want: rules.Number{}, out: `null`},
		{name: "the stored form of earlier builds", in: `{"value": 3, "valid": true}`, want: rules.Num(3), out: `3`},
		{name: "the stored form, absent", in: `{"value": 0, "valid": false}`, want: rules.Number{}, out: `null`},
		{name: "a string is not a number", in: `"4"`, wantErr: true},
		{name: "a boolean is not a number", in: `true`, wantErr: true},
		{name: "an array is not a number", in: `[4]`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n rules.Number
			err := json.Unmarshal([]byte(tc.in), &n)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Unmarshal(%s) = %+v, want an error", tc.in, n)
				}
				return
			}
			if err != nil || n != tc.want {
				t.Fatalf("Unmarshal(%s) = %+v, %v; want %+v", tc.in, n, err, tc.want)
			}
			out, err := json.Marshal(n)
			if err != nil || string(out) != tc.out {
				t.Fatalf("Marshal = %s, %v; want %s", out, err, tc.out)
			}
		})
	}
}
