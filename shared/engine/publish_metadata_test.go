package engine_test

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/rules"
)

// eventDir is the platform event's source-format folder in the Salesforce package.
var eventDir = filepath.Join("..", "..", "infra", "salesforce", "force-app", "main", "default", "objects", engine.PresenceCommandEvent)

// customField is the part of a .field-meta.xml file the publisher depends on.
type customField struct {
	FullName string `xml:"fullName"`
	Type     string `xml:"type"`
	Length   int    `xml:"length"`
	Required bool   `xml:"required"`
}

// eventObject is the part of the platform event's .object-meta.xml the publisher depends on.
type eventObject struct {
	EventType       string `xml:"eventType"`
	PublishBehavior string `xml:"publishBehavior"`
}

func readEventFields(t *testing.T) map[string]customField {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(eventDir, "fields", "*.field-meta.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no field metadata under %s (err %v)", eventDir, err)
	}
	out := map[string]customField{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cf customField
		if err := xml.Unmarshal(b, &cf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if want := strings.TrimSuffix(filepath.Base(f), ".field-meta.xml"); cf.FullName != want {
			t.Errorf("%s: fullName %q, want %q", f, cf.FullName, want)
		}
		out[cf.FullName] = cf
	}
	return out
}

// longestCommands are commands whose every field is as long as the publisher ever makes it: an
// 18-character user and status id, a derived command id, a reason past the field's limit (in
// multi-byte runes) and an issue time; plus the Offline and empty-reason variants.
func longestCommands() []presence.Command {
	issued := time.Date(2026, 11, 21, 8, 59, 58, 120_000_000, time.FixedZone("CET", 3600))
	base := presence.Command{
		ID:       presence.CommandID("0a4779b0-0da1-4619-a373-0a36991dff90", rules.Salesforce),
		UserID:   "0055e000003AbCdAAK",
		Target:   rules.Target{Destination: rules.Salesforce, SalesforceStatusID: "0N55e000000ABCDGA4", SalesforceStatus: "Available"},
		Reason:   strings.Repeat("é", 400),
		IssuedAt: issued,
	}
	offline := base
	offline.Target = rules.Target{Destination: rules.Salesforce, SalesforceStatusID: "0", SalesforceStatus: "Offline", SalesforceOffline: true}
	offline.Reason = ""
	return []presence.Command{base, offline}
}

// TestPresenceCommandEventMatchesMetadata checks the publisher against the platform event's
// metadata in infra/salesforce: every field the publisher sends exists as a text field long
// enough for the longest value it sends, every required field is always sent non-empty, and the
// event publishes immediately.
func TestPresenceCommandEventMatchesMetadata(t *testing.T) {
	fields := readEventFields(t)

	b, err := os.ReadFile(filepath.Join(eventDir, engine.PresenceCommandEvent+".object-meta.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var obj eventObject
	if err := xml.Unmarshal(b, &obj); err != nil {
		t.Fatal(err)
	}
	if obj.PublishBehavior != "PublishImmediately" || obj.EventType != "HighVolume" {
		t.Errorf("event publishBehavior %q, eventType %q; want PublishImmediately, HighVolume", obj.PublishBehavior, obj.EventType)
	}

	sent := map[string]bool{}
	for _, cmd := range longestCommands() {
		for name, v := range engine.CommandEventFields(cmd) {
			sent[name] = true
			s, ok := v.(string)
			if !ok {
				t.Errorf("%s: publisher sends %T, the package declares text fields only", name, v)
				continue
			}
			f, ok := fields[name]
			switch {
			case !ok:
				t.Errorf("publisher sends %s, which %s lacks", name, engine.PresenceCommandEvent)
			case f.Type != "Text":
				t.Errorf("%s is %s, want Text (the publisher sends strings)", name, f.Type)
			case utf8.RuneCountInString(s) > f.Length:
				t.Errorf("%s holds %d characters, publisher sends %d (%q)", name, f.Length, utf8.RuneCountInString(s), s)
			case f.Required && s == "":
				t.Errorf("%s is required but the publisher can send it empty (Salesforce rejects the event)", name)
			}
		}
	}
	for name, f := range fields {
		if f.Required && !sent[name] {
			t.Errorf("%s is required but the publisher never sets it", name)
		}
	}
	var unsent []string
	for name := range fields {
		if !sent[name] {
			unsent = append(unsent, name)
		}
	}
	slices.Sort(unsent)
	if len(unsent) > 0 {
		t.Errorf("%s has fields the publisher never sends: %v", engine.PresenceCommandEvent, unsent)
	}
}
