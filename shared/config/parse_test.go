package config_test

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/config"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// sampleFile is the complete example document the local stack seeds.
const sampleFile = "../../infra/local/config.sample.json"

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseSample(t *testing.T) {
	doc, err := config.Parse(readFile(t, sampleFile))
	if err != nil {
		t.Fatalf("Parse(sample): %v %v", err, apperr.ProblemsOf(err))
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"schema version", doc.SchemaVersion, config.SchemaVersion},
		{"rule count", len(doc.Rules), 3},
		{"first rule id", doc.Rules[0].ID, "connect-lunch-to-sf-away"},
		{"string literal", string(*doc.Rules[0].Criteria[0].Right.Value), "Lunch"},
		{"number literal keeps its text", string(*doc.Rules[1].Criteria[0].Right.Value), "100"},
		{"left is a named operand", doc.Rules[1].Criteria[0].Left, config.Operand{Operand: "salesforce.newWorkloadPct"}},
		{"rule contact policy", doc.Rules[1].WhileOnContact, "defer"},
		{"mapping count", len(doc.StatusMappings), 5},
		{"connect catalog", len(doc.StatusCatalog.Connect), 5},
		{"reserved offline status", doc.StatusCatalog.Salesforce[0], config.SalesforceStatus{ID: config.OfflineStatusID, DeveloperName: "Offline", Label: "Offline", IsOffline: true}},
		{"routing queue", doc.Routing.Queues[0].SalesforceQueue, "Support_Tier_A"},
		{"routing priority", doc.Routing.Queues[0].Priority, 2},
		{"routing defaults", doc.EffectiveRouting().SkillsField, config.DefaultSkillsField},
		{"settings: defaults but for SAML-style identity links", doc.Settings, func() config.Settings {
			s := config.Defaults()
			s.Identity.SalesforceField = "FederationIdentifier"
			return s
		}()},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Fatalf("got %#v, want %#v", c.got, c.want)
			}
		})
	}
	t.Run("encoding and parsing again is lossless", func(t *testing.T) { checkRoundTrip(t, doc) })
}

func TestParseFillsDefaults(t *testing.T) {
	d := config.Defaults()
	tests := []struct {
		name string
		doc  string
		want func(s *config.Settings)
	}{
		{"no settings at all", `{"schemaVersion": 1}`, func(*config.Settings) {}},
		{"empty settings", `{"schemaVersion": 1, "settings": {}}`, func(*config.Settings) {}},
		{
			"partial nested settings keep what is set",
			`{"schemaVersion": 1, "settings": {"whileOnContact": "ignore", "loopGuard": {"maxCrossings": 5}, "identity": {"salesforceField": "FederationIdentifier"}}}`,
			func(s *config.Settings) {
				s.WhileOnContact = "ignore"
				s.LoopGuard.MaxCrossings = 5
				s.Identity.SalesforceField = "FederationIdentifier"
			},
		},
		{
			"every setting given",
			`{"schemaVersion": 1, "settings": {"whileOnContact": "apply", "echoWindowSeconds": 10, "loopGuard": {"maxCrossings": 2, "windowSeconds": 30}, "identity": {"salesforceField": "Username"}, "commandAckTimeoutSeconds": 60, "auditRetentionDays": 7, "maxClockSkewSeconds": 30}}`,
			func(s *config.Settings) {
				*s = config.Settings{WhileOnContact: "apply", EchoWindowSeconds: 10, LoopGuard: config.LoopGuard{MaxCrossings: 2, WindowSeconds: 30},
					Identity: config.Identity{SalesforceField: "Username"}, CommandAckTimeoutSeconds: 60, AuditRetentionDays: 7, MaxClockSkewSeconds: 30}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := config.Parse([]byte(tc.doc))
			if err != nil {
				t.Fatalf("Parse: %v %v", err, apperr.ProblemsOf(err))
			}
			want := d
			tc.want(&want)
			if doc.Settings != want {
				t.Fatalf("settings = %+v, want %+v", doc.Settings, want)
			}
		})
	}
	t.Run("defaults pass validation", func(t *testing.T) {
		if p := config.Validate(config.Document{SchemaVersion: config.SchemaVersion, Settings: d}); len(p) != 0 {
			t.Fatalf("Validate(defaults) = %v", p)
		}
	})
}

// TestParseGolden parses every testdata/*.json document and compares the error and its
// problems with testdata/*.golden. Run `go test ./shared/config -run Golden -update` to rewrite
// the golden files after an intended change, then review the diff.
func TestParseGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/*.json files (%v)", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			_, err := config.Parse(readFile(t, f))
			got := renderProblems(t, err)
			golden := strings.TrimSuffix(f, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want := string(readFile(t, golden))
			if got != want {
				t.Errorf("problems differ from %s (run with -update to accept):\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// renderProblems writes an error as the golden format: its code and message, then one
// "path: message" line per problem in the order Parse reported them.
func renderProblems(t *testing.T, err error) string {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("Parse returned %T (%v), want *apperr.Error", err, err)
	}
	if ae.Code != apperr.Invalid || len(ae.Problems) == 0 {
		t.Fatalf("Parse error = %v with %d problems, want code invalid with problems", ae, len(ae.Problems))
	}
	var b strings.Builder
	b.WriteString(string(ae.Code) + ": " + ae.Message + "\n")
	for _, p := range ae.Problems {
		b.WriteString(p.Path + ": " + p.Message + "\n")
	}
	return b.String()
}

func TestLiteral(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    config.Literal
		wantErr bool
	}{
		{"string", `"Lunch"`, "Lunch", false},
		{"empty string", `""`, "", false},
		{"numeric string stays text", `"80"`, "80", false},
		{"integer", `80`, "80", false},
		{"negative decimal", `-12.5`, "-12.5", false},
		{"exponent keeps its text", `1e3`, "1e3", false},
		{"integer beyond float64 precision", `12345678901234567890`, "12345678901234567890", false},
		{"true", `true`, "true", false},
		{"false", `false`, "false", false},
		{"object", `{"state": "Lunch"}`, "", true},
		{"array", `["Lunch"]`, "", true},
		{"null into a plain literal", `null`, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var l config.Literal
			err := json.Unmarshal([]byte(tc.json), &l)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Unmarshal(%s) = %q, want an error", tc.json, l)
				}
				return
			}
			if err != nil || l != tc.want {
				t.Fatalf("Unmarshal(%s) = %q, %v; want %q", tc.json, l, err, tc.want)
			}
		})
	}
	t.Run("null operand value leaves the pointer nil", func(t *testing.T) {
		var o config.Operand
		if err := json.Unmarshal([]byte(`{"value": null}`), &o); err != nil || o.Value != nil {
			t.Fatalf("got %+v, %v", o, err)
		}
	})
}

// FuzzParse checks that Parse never panics and that every failure is an invalid *apperr.Error
// naming at least one problem with a JSON path.
func FuzzParse(f *testing.F) {
	f.Add(readFile(f, sampleFile))
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, s := range seeds {
		f.Add(readFile(f, s))
	}
	for _, s := range []string{``, `null`, `{}`, `[]`, `"x"`, `{"rules":[null]}`, `{"rules":[{"criteria":[{"left":{"value":{}}}]}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := config.Parse(data)
		if err == nil {
			if p := config.Validate(doc); len(p) != 0 {
				t.Fatalf("Parse accepted a document Validate rejects: %v", p)
			}
			return
		}
		var ae *apperr.Error
		if !errors.As(err, &ae) {
			t.Fatalf("error %T %v is not an *apperr.Error", err, err)
		}
		if ae.Code != apperr.Invalid || len(ae.Problems) == 0 {
			t.Fatalf("error %v: code %q with %d problems, want invalid with at least one", ae, ae.Code, len(ae.Problems))
		}
		for _, p := range ae.Problems {
			if !strings.HasPrefix(p.Path, "$") || p.Message == "" {
				t.Fatalf("problem %+v has no JSON path or message", p)
			}
		}
	})
}
