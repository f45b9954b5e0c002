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

const (
	schemaPath = "../../infra/salesforce/contracts/presence-webhook.v1.schema.json"
	samplesDir = "../../events/salesforce-webhook"
)

// objectSchema is the part of a JSON Schema object definition the agreement test reads.
type objectSchema struct {
	Required   []string                   `json:"required"`
	Properties map[string]json.RawMessage `json:"properties"`
}

type schemaDoc struct {
	objectSchema
	Defs map[string]json.RawMessage `json:"$defs"`
}

func loadSchema(t *testing.T) (top objectSchema, perType map[Type]objectSchema) {
	t.Helper()
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc schemaDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("schema: %v", err)
	}
	perType = map[Type]objectSchema{}
	for _, ty := range Types() {
		var o objectSchema
		if err := json.Unmarshal(doc.Defs[string(ty)], &o); err != nil || o.Properties == nil {
			t.Fatalf("schema has no $defs.%s object (%v)", ty, err)
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
func TestSchemaAgreesWithDecoder(t *testing.T) {
	top, perType := loadSchema(t)
	t.Run("batch", func(t *testing.T) {
		if got, want := sorted(top.Required), names(batchFields, true); !slices.Equal(got, want) {
			t.Errorf("schema required %v, decoder %v", got, want)
		}
		if got, want := slices.Sorted(maps.Keys(top.Properties)), names(batchFields, false); !slices.Equal(got, want) {
			t.Errorf("schema properties %v, decoder %v", got, want)
		}
	})
	for _, ty := range Types() {
		t.Run(string(ty), func(t *testing.T) {
			all := append(slices.Clone(commonFields), typeFields[ty]...)
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

func loadSampleBodies(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(samplesDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples in %s (%v)", samplesDir, err)
	}
	out := map[string][]byte{}
	for _, f := range files {
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
	return out
}

// TestSamplesAgreeWithSchema decodes every sample body and checks each event against the
// schema's required and allowed keys for its type; invalid-body.json must be rejected.
func TestSamplesAgreeWithSchema(t *testing.T) {
	top, perType := loadSchema(t)
	for name, body := range loadSampleBodies(t) {
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			_, err := Decode(body)
			if name == "invalid-body.json" {
				if !apperr.Is(err, apperr.Invalid) {
					t.Fatalf("invalid-body.json decoded: %v", err)
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
				var ty Type
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
func TestEveryRequiredFieldIsEnforced(t *testing.T) {
	top, perType := loadSchema(t)
	valid := map[Type]string{
		TypeStatusChanged:   `{"id":"e","type":"statusChanged","userId":"0055e000003AbCd","time":"2026-11-21T08:59:58Z","statusId":"0N5xx0000004CSO","statusDeveloperName":"Available","channels":["sfdc_phone"],"commandId":"c"}`,
		TypeLogout:          `{"id":"e","type":"logout","userId":"0055e000003AbCd","time":"2026-11-21T08:59:58Z","commandId":"c"}`,
		TypeWorkAccepted:    `{"id":"e","type":"workAccepted","userId":"0055e000003AbCd","time":"2026-11-21T08:59:58Z","workItemId":"5005e00000XyZwQ","serviceChannel":"Case_Channel"}`,
		TypeWorkloadChanged: `{"id":"e","type":"workloadChanged","userId":"0055e000003AbCd","time":"2026-11-21T08:59:58Z","configuredCapacity":4,"previousWorkload":0,"newWorkload":1.5}`,
		TypeCommandAck:      `{"id":"e","type":"commandAck","userId":"0055e000003AbCd","time":"2026-11-21T08:59:58Z","commandId":"c","result":"failed","reason":"console closed"}`,
	}
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
		_, err = Decode(body)
		return apperr.ProblemsOf(err)
	}
	parse := func(t *testing.T, s string) map[string]json.RawMessage {
		t.Helper()
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, ty := range Types() {
		t.Run(string(ty), func(t *testing.T) {
			full := parse(t, valid[ty])
			if p := decode(t, batch(full)); p != nil {
				t.Fatalf("the valid %s event is rejected: %v", ty, p)
			}
			if got, want := slices.Sorted(maps.Keys(full)), slices.Sorted(maps.Keys(perType[ty].Properties)); !slices.Equal(got, want) {
				t.Fatalf("the valid event should use every property: has %v, schema %v", got, want)
			}
			for _, r := range perType[ty].Required {
				ev := parse(t, valid[ty])
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
				ev := parse(t, valid[ty])
				delete(ev, k)
				if got := decode(t, batch(ev)); got != nil {
					t.Errorf("without optional %s: %v", k, got)
				}
			}
		})
	}
	t.Run("batch", func(t *testing.T) {
		for _, r := range top.Required {
			doc := batch(parse(t, valid[TypeLogout]))
			delete(doc, r)
			want := apperr.Problem{Path: "$." + r, Message: "required"}
			if got := decode(t, doc); !slices.Equal(got, []apperr.Problem{want}) {
				t.Errorf("without %s: problems %v, want [%v]", r, got, want)
			}
		}
	})
}
