package config_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/config"
)

func callLoggingDoc(section string) []byte {
	return []byte(`{"schemaVersion": 1, "callLogging": ` + section + `}`)
}

const fullCallLogging = `{
    "enabled": true,
    "defaultRegion": "GB",
    "onNoMatch": "createLead",
    "newContact": {"firstName": "Caller", "lastName": "Unknown", "accountId": "001xx000003DGb2AAG"},
    "tieBreak": "none",
    "case": {"origin": "Phone", "subjectTemplate": "Call from {number} on {date}", "recordTypeId": "012xx0000000001AAA", "ownerId": "00Gxx000000QueAEAS", "attachWindowMinutes": 30},
    "createTask": false
  }`

func TestParseCallLogging(t *testing.T) {
	doc, err := config.Parse(callLoggingDoc(fullCallLogging))
	if err != nil {
		t.Fatalf("Parse: %v %v", err, apperr.ProblemsOf(err))
	}
	no := false
	want := &config.CallLogging{
		Enabled: true, DefaultRegion: "GB", OnNoMatch: config.OnNoMatchCreateLead,
		NewContact: config.NewContact{FirstName: "Caller", LastName: "Unknown", AccountID: "001xx000003DGb2AAG"},
		TieBreak:   config.TieBreakNone,
		Case: config.CallCase{Origin: "Phone", SubjectTemplate: "Call from {number} on {date}", RecordTypeID: "012xx0000000001AAA",
			OwnerID: "00Gxx000000QueAEAS", AttachWindowMinutes: 30},
		CreateTask: &no,
	}
	if !reflect.DeepEqual(doc.CallLogging, want) {
		t.Fatalf("callLogging =\n%s\nwant\n%s", asJSON(t, doc.CallLogging), asJSON(t, want))
	}
	t.Run("given options are kept by WithDefaults", func(t *testing.T) {
		if got := doc.CallLogging.WithDefaults(); !reflect.DeepEqual(got, *want) {
			t.Fatalf("WithDefaults changed a complete section:\n%s", asJSON(t, got))
		}
		if doc.CallLogging.TaskEnabled() {
			t.Fatal("TaskEnabled = true with createTask false")
		}
	})
	t.Run("encoding and parsing again is lossless", func(t *testing.T) { checkRoundTrip(t, doc) })
	t.Run("no section is off, nil and omitted", func(t *testing.T) {
		doc, err := config.Parse([]byte(`{"schemaVersion": 1}`))
		if err != nil || doc.CallLogging != nil {
			t.Fatalf("Parse = %+v, %v", doc.CallLogging, err)
		}
		if doc.EffectiveCallLogging().Enabled {
			t.Fatal("EffectiveCallLogging of a document without the section is enabled")
		}
		b, _ := json.Marshal(doc)
		if strings.Contains(string(b), "callLogging") {
			t.Fatalf("marshalled document mentions callLogging: %s", b)
		}
	})
}

func TestCallLoggingDefaults(t *testing.T) {
	doc, err := config.Parse(callLoggingDoc(`{"enabled": true}`))
	if err != nil {
		t.Fatalf("Parse: %v %v", err, apperr.ProblemsOf(err))
	}
	if doc.CallLogging.OnNoMatch != "" || doc.CallLogging.CreateTask != nil {
		t.Fatalf("Parse filled defaults into the stored section: %s", asJSON(t, doc.CallLogging))
	}
	got := doc.EffectiveCallLogging()
	yes := true
	want := config.CallLogging{
		Enabled: true, DefaultRegion: config.DefaultCallRegion, OnNoMatch: config.OnNoMatchCreateContact,
		NewContact: config.NewContact{LastName: config.DefaultNewContactLastName},
		TieBreak:   config.TieBreakMostRecentlyModified,
		Case:       config.CallCase{Origin: config.DefaultCaseOrigin, SubjectTemplate: config.DefaultCaseSubject},
		CreateTask: &yes,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("EffectiveCallLogging =\n%s\nwant\n%s", asJSON(t, got), asJSON(t, want))
	}
}

func TestValidateCallLogging(t *testing.T) {
	tests := []struct {
		name    string
		section string
		want    []string // "path: message fragment", in order
	}{
		{"full section", fullCallLogging, nil},
		{"minimal section", `{"enabled": false}`, nil},
		{"every problem at once", `{
			"enabled": true,
			"defaultRegion": "usa",
			"onNoMatch": "createAccount",
			"newContact": {"firstName": " ", "lastName": "` + strings.Repeat("x", 81) + `", "accountId": "003xx000004TmiQAAS"},
			"tieBreak": "oldest",
			"case": {"origin": "Ph\u0007one", "subjectTemplate": "Call {caller}", "recordTypeId": "not-an-id", "ownerId": "001xx000003DGb2AAG", "attachWindowMinutes": -1}
		}`, []string{
			"$.callLogging.defaultRegion: ISO 3166-1",
			"$.callLogging.onNoMatch: must be one of",
			"$.callLogging.tieBreak: must be one of",
			"$.callLogging.newContact.firstName: must not be blank",
			"$.callLogging.newContact.lastName: at most 80",
			"$.callLogging.newContact.accountId: prefix must be 001",
			"$.callLogging.case.origin: control character",
			"$.callLogging.case.subjectTemplate: unknown placeholder {caller}",
			"$.callLogging.case.recordTypeId: not a 15 or 18 character",
			"$.callLogging.case.ownerId: prefix must be 005 or 00G",
			"$.callLogging.case.attachWindowMinutes: between 0 and",
		}},
		{"attach window over a week", `{"case": {"attachWindowMinutes": 10081}}`, []string{"$.callLogging.case.attachWindowMinutes: between 0 and 10080"}},
		{"wrong types", `{"enabled": "yes", "createTask": 1, "case": []}`, []string{
			"$.callLogging.case: must be an object",
			"$.callLogging.createTask: must be a boolean",
			"$.callLogging.enabled: must be a boolean",
		}},
		{"unknown key", `{"enabled": true, "onNoMach": "none"}`, []string{"$.callLogging.onNoMach: unknown"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse(callLoggingDoc(tc.section))
			got := apperr.ProblemsOf(err)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Parse: %v %v", err, got)
				}
				return
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d problems, want %d:\n%s", len(got), len(tc.want), render(got))
			}
			for i, w := range tc.want {
				path, frag, _ := strings.Cut(w, ": ")
				if got[i].Path != path || !strings.Contains(got[i].Message, frag) {
					t.Errorf("problem %d = %s: %s\nwant %s: …%s…", i, got[i].Path, got[i].Message, path, frag)
				}
			}
		})
	}
}
