package sfevents

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

const samplesDir = "../../events/salesforce-webhook"

// schemaCase is one contract as the schema tests see it: its published JSON Schema, the field
// tables its decoder enforces, and its samples in events/salesforce-webhook.
type schemaCase struct {
	schemaPath string
	types      []string
	// fields returns every field an event of the type may have: the common ones and its own.
	fields func(typ string) []field
	decode func(body []byte) error
	// isSample picks the contract's files among the samples; invalidSample must be rejected.
	isSample      func(file string) bool
	invalidSample string
	// valid holds, per type, an event that uses every property and that the decoder accepts.
	valid map[string]string
	// defs names each type's $defs entry when it is not the type itself.
	defs map[string]string
}

// tablesOf gives a contract's tables the string-typed shape schemaCase uses.
func tablesOf[T ~string](c contract[T]) ([]string, func(string) []field) {
	var types []string
	for _, t := range c.types {
		types = append(types, string(t))
	}
	return types, func(typ string) []field { return append(slices.Clone(c.common), c.typed[T(typ)]...) }
}

var presenceCase = func() schemaCase {
	types, fields := tablesOf(presenceEvents)
	return schemaCase{
		schemaPath: "../../infra/salesforce/contracts/presence-webhook.v1.schema.json",
		types:      types, fields: fields,
		decode: func(body []byte) error { _, err := Decode(body); return err },
		isSample: func(file string) bool {
			return !strings.HasPrefix(file, "session-") && !strings.HasPrefix(file, "case-")
		},
		invalidSample: "invalid-body.json",
		valid: map[string]string{
			string(TypeStatusChanged):   `{"id":"e","type":"statusChanged","userId":"0055e000003AbCd","time":"2026-11-21T08:59:58Z","statusId":"0N5xx0000004CSO","statusDeveloperName":"Available","channels":["sfdc_phone"],"commandId":"c"}`,
			string(TypeLogout):          `{"id":"e","type":"logout","userId":"0055e000003AbCd","time":"2026-11-21T08:59:58Z","commandId":"c"}`,
			string(TypeWorkAccepted):    `{"id":"e","type":"workAccepted","userId":"0055e000003AbCd","time":"2026-11-21T08:59:58Z","workItemId":"5005e00000XyZwQ","serviceChannel":"Case_Channel"}`,
			string(TypeWorkloadChanged): `{"id":"e","type":"workloadChanged","userId":"0055e000003AbCd","time":"2026-11-21T08:59:58Z","configuredCapacity":4,"previousWorkload":0,"newWorkload":1.5}`,
			string(TypeCommandAck):      `{"id":"e","type":"commandAck","userId":"0055e000003AbCd","time":"2026-11-21T08:59:58Z","commandId":"c","result":"failed","reason":"console closed"}`,
		},
	}
}()

// objectSchema is the part of a JSON Schema object definition the agreement test reads.
type objectSchema struct {
	Required   []string                   `json:"required"`
	Properties map[string]json.RawMessage `json:"properties"`
}

type schemaDoc struct {
	objectSchema
	Defs map[string]json.RawMessage `json:"$defs"`
}

func (c schemaCase) load(t *testing.T) (top objectSchema, perType map[string]objectSchema) {
	t.Helper()
	raw, err := os.ReadFile(c.schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc schemaDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("schema: %v", err)
	}
	perType = map[string]objectSchema{}
	for _, ty := range c.types {
		def := ty
		if d, ok := c.defs[ty]; ok {
			def = d
		}
		var o objectSchema
		if err := json.Unmarshal(doc.Defs[def], &o); err != nil || o.Properties == nil {
			t.Fatalf("schema has no $defs.%s object (%v)", def, err)
		}
		perType[ty] = o
	}
	return doc.objectSchema, perType
}

func names(fields []field, required bool) []string {
	var out []string
	for _, f := range fields {
		if !required || f.required {
			out = append(out, f.name)
		}
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

// TestSchemaAgreesWithDecoder compares the JSON Schema's "required" and "properties" with the
// field tables Decode enforces, for the batch and for each event type.
func TestSchemaAgreesWithDecoder(t *testing.T) { presenceCase.agreesWithDecoder(t) }

func (c schemaCase) agreesWithDecoder(t *testing.T) {
	top, perType := c.load(t)
	t.Run("batch", func(t *testing.T) {
		if got, want := sorted(top.Required), names(batchFields, true); !slices.Equal(got, want) {
			t.Errorf("schema required %v, decoder %v", got, want)
		}
		if got, want := slices.Sorted(maps.Keys(top.Properties)), names(batchFields, false); !slices.Equal(got, want) {
			t.Errorf("schema properties %v, decoder %v", got, want)
		}
	})
	for _, ty := range c.types {
		t.Run(ty, func(t *testing.T) {
			all := c.fields(ty)
			s := perType[ty]
			if got, want := sorted(s.Required), names(all, true); !slices.Equal(got, want) {
				t.Errorf("schema required %v, decoder %v", got, want)
			}
			if got, want := slices.Sorted(maps.Keys(s.Properties)), names(all, false); !slices.Equal(got, want) {
				t.Errorf("schema properties %v, decoder %v", got, want)
			}
		})
	}
}

type sampleEnvelope struct {
	Body string `json:"body"`
}

func (c schemaCase) sampleBodies(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(samplesDir, "*.json"))
	if err != nil {
		t.Fatalf("samples in %s: %v", samplesDir, err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		if !c.isSample(filepath.Base(f)) {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var env sampleEnvelope
		if err := json.Unmarshal(raw, &env); err != nil || env.Body == "" {
			t.Fatalf("%s: not an API Gateway v2 event with a body (%v)", f, err)
		}
		out[filepath.Base(f)] = []byte(env.Body)
	}
	if len(out) == 0 {
		t.Fatalf("no samples for %s in %s", filepath.Base(c.schemaPath), samplesDir)
	}
	return out
}

// TestSamplesAgreeWithSchema decodes every sample body and checks each event against the
// schema's required and allowed keys for its type; invalid-body.json must be rejected.
func TestSamplesAgreeWithSchema(t *testing.T) { presenceCase.samplesAgree(t) }

func (c schemaCase) samplesAgree(t *testing.T) {
	top, perType := c.load(t)
	for name, body := range c.sampleBodies(t) {
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			err := c.decode(body)
			if name == c.invalidSample {
				if !apperr.Is(err, apperr.Invalid) {
					t.Fatalf("%s decoded: %v", name, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v (%v)", err, apperr.ProblemsOf(err))
			}
			var doc map[string]json.RawMessage
			if err := json.Unmarshal(body, &doc); err != nil {
				t.Fatal(err)
			}
			checkKeys(t, "$", doc, top)
			var evs []map[string]json.RawMessage
			if err := json.Unmarshal(doc["events"], &evs); err != nil {
				t.Fatal(err)
			}
			for i, ev := range evs {
				var ty string
				_ = json.Unmarshal(ev["type"], &ty)
				s, ok := perType[ty]
				if !ok {
					t.Errorf("$.events[%d]: type %q has no schema definition", i, ty)
					continue
				}
				checkKeys(t, fmt.Sprintf("$.events[%d]", i), ev, s)
			}
		})
	}
}

func checkKeys(t *testing.T, path string, obj map[string]json.RawMessage, s objectSchema) {
	t.Helper()
	for _, r := range s.Required {
		if _, ok := obj[r]; !ok {
			t.Errorf("%s: schema requires %q", path, r)
		}
	}
	for k := range obj {
		if _, ok := s.Properties[k]; !ok {
			t.Errorf("%s: schema does not allow %q", path, k)
		}
	}
}

// TestEveryRequiredFieldIsEnforced removes, one at a time, each field the schema requires from a
// valid event of each type (and from the batch) and expects Decode to name exactly that field.
func TestEveryRequiredFieldIsEnforced(t *testing.T) { presenceCase.requiredEnforced(t) }

func (c schemaCase) requiredEnforced(t *testing.T) {
	top, perType := c.load(t)
	batch := func(ev map[string]json.RawMessage) map[string]json.RawMessage {
		evs, _ := json.Marshal([]any{ev})
		return map[string]json.RawMessage{
			"schemaVersion": json.RawMessage(`"1"`), "orgId": json.RawMessage(`"00D5e000000Hkp2"`),
			"sentAt": json.RawMessage(`"2026-11-21T08:59:59Z"`), "events": evs,
		}
	}
	decode := func(t *testing.T, doc map[string]json.RawMessage) []apperr.Problem {
		t.Helper()
		body, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return apperr.ProblemsOf(c.decode(body))
	}
	parse := func(t *testing.T, s string) map[string]json.RawMessage {
		t.Helper()
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, ty := range c.types {
		t.Run(ty, func(t *testing.T) {
			full := parse(t, c.valid[ty])
			if p := decode(t, batch(full)); p != nil {
				t.Fatalf("the valid %s event is rejected: %v", ty, p)
			}
			if got, want := slices.Sorted(maps.Keys(full)), slices.Sorted(maps.Keys(perType[ty].Properties)); !slices.Equal(got, want) {
				t.Fatalf("the valid event should use every property: has %v, schema %v", got, want)
			}
			for _, r := range perType[ty].Required {
				ev := parse(t, c.valid[ty])
				delete(ev, r)
				want := apperr.Problem{Path: "$.events[0]." + r, Message: "required"}
				if got := decode(t, batch(ev)); !slices.Equal(got, []apperr.Problem{want}) {
					t.Errorf("without %s: problems %v, want [%v]", r, got, want)
				}
			}
			for k := range perType[ty].Properties {
				if slices.Contains(perType[ty].Required, k) {
					continue
				}
				ev := parse(t, c.valid[ty])
				delete(ev, k)
				if got := decode(t, batch(ev)); got != nil {
					t.Errorf("without optional %s: %v", k, got)
				}
			}
		})
	}
	t.Run("batch", func(t *testing.T) {
		for _, r := range top.Required {
			doc := batch(parse(t, c.valid[c.types[len(c.types)-1]]))
			delete(doc, r)
			want := apperr.Problem{Path: "$." + r, Message: "required"}
			if got := decode(t, doc); !slices.Equal(got, []apperr.Problem{want}) {
				t.Errorf("without %s: problems %v, want [%v]", r, got, want)
			}
		}
	})
}
