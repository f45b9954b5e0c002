package config_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/rules"
)

// sessionDoc wraps a session section in a document with a small status catalog.
func sessionDoc(session string) []byte {
	return []byte(`{
  "schemaVersion": 1,
  "statusCatalog": {
    "connect": [{"name": "Available", "type": "ROUTABLE"}, {"name": "Offline", "type": "OFFLINE"}, {"name": "Busy", "type": "CUSTOM"}],
    "salesforce": [
      {"id": "0", "developerName": "Offline", "label": "Offline", "isOffline": true},
      {"id": "0N5xx0000004CSO", "developerName": "Available", "label": "Available", "hasChannels": true},
      {"id": "0N5xx0000004D56", "developerName": "Away", "label": "Away"}
    ]
  },
  "session": ` + session + `
}`)
}

const fullSession = `{
    "enabled": true,
    "sessionTypes": ["UI", "Visualforce"],
    "loginTypes": ["Application", "SAML Sfdc Initiated SSO"],
    "relevantUsers": {
      "profiles": ["Support Agent"],
      "permissionSets": ["Omnibridge_Agent"],
      "fields": [
        {"field": "Department", "equals": "Support"},
        {"field": "acme__Tier__c", "equals": 2},
        {"field": "Manager.acme__Region__r.IsActive__c", "equals": true}
      ]
    },
    "manualOverride": "reassert",
    "reasons": {"loggedIn": "Signed in", "loggedOut": "Signed out", "noSession": "Session expired"},
    "targets": {
      "distribution": {"enabled": true, "action": "acme__ToggleUsers", "userIdField": "userId", "onlineField": "isOnline", "reasonField": "why__c"},
      "omniChannel": {"enabled": true, "onLoginStatus": "Available"},
      "connect": {"enabled": true, "onLogoutStatus": "Offline", "whileOnContact": "apply"}
    }
  }`

func TestParseSession(t *testing.T) {
	doc, err := config.Parse(sessionDoc(fullSession))
	if err != nil {
		t.Fatalf("Parse: %v %v", err, apperr.ProblemsOf(err))
	}
	two, yes := config.Literal("2"), config.Literal("true")
	support := config.Literal("Support")
	want := &config.Session{
		Enabled:      true,
		SessionTypes: []string{"UI", "Visualforce"},
		LoginTypes:   []string{"Application", "SAML Sfdc Initiated SSO"},
		RelevantUsers: config.RelevantUsers{
			Profiles:       []string{"Support Agent"},
			PermissionSets: []string{"Omnibridge_Agent"},
			Fields: []config.FieldCondition{
				{Field: "Department", Equals: &support},
				{Field: "acme__Tier__c", Equals: &two},
				{Field: "Manager.acme__Region__r.IsActive__c", Equals: &yes},
			},
		},
		ManualOverride: config.ManualOverrideReassert,
		Reasons:        config.SessionReasons{LoggedIn: "Signed in", LoggedOut: "Signed out", NoSession: "Session expired"},
		Targets: config.SessionTargets{
			Distribution: config.DistributionTarget{Enabled: true, Action: "acme__ToggleUsers", UserIDField: "userId", OnlineField: "isOnline", ReasonField: "why__c"},
			OmniChannel:  config.OmniChannelTarget{Enabled: true, OnLoginStatus: "Available"},
			Connect:      config.ConnectTarget{Enabled: true, OnLogoutStatus: "Offline", WhileOnContact: "apply"},
		},
	}
	if !reflect.DeepEqual(doc.Session, want) {
		t.Fatalf("session =\n%s\nwant\n%s", asJSON(t, doc.Session), asJSON(t, want))
	}
	t.Run("given options are kept by WithDefaults", func(t *testing.T) {
		if got := doc.Session.WithDefaults(); !reflect.DeepEqual(got, *want) {
			t.Fatalf("WithDefaults changed a complete section:\n%s", asJSON(t, got))
		}
	})
	t.Run("encoding and parsing again is lossless", func(t *testing.T) { checkRoundTrip(t, doc) })
	t.Run("no session section leaves the field nil and omits it", func(t *testing.T) {
		doc, err := config.Parse([]byte(`{"schemaVersion": 1}`))
		if err != nil || doc.Session != nil {
			t.Fatalf("Parse = %+v, %v", doc.Session, err)
		}
		b, _ := json.Marshal(doc)
		if strings.Contains(string(b), "session") {
			t.Fatalf("marshalled document mentions session: %s", b)
		}
	})
}

func TestSessionDefaults(t *testing.T) {
	minimal := `{"enabled": true, "targets": {"distribution": {"enabled": true, "action": "Omnibridge_ToggleUsers"}}}`
	doc, err := config.Parse(sessionDoc(minimal))
	if err != nil {
		t.Fatalf("Parse: %v %v", err, apperr.ProblemsOf(err))
	}
	t.Run("Parse keeps the section as written", func(t *testing.T) {
		if s := doc.Session; s.SessionTypes != nil || s.ManualOverride != "" || s.Reasons != (config.SessionReasons{}) {
			t.Fatalf("Parse filled session defaults: %s", asJSON(t, s))
		}
	})
	want := config.Session{
		Enabled:        true,
		SessionTypes:   []string{"UI"},
		LoginTypes:     []string{"Application"},
		ManualOverride: "respect",
		Reasons:        config.SessionReasons{LoggedIn: "Logged in to Salesforce", LoggedOut: "Logged out of Salesforce", NoSession: "No active session"},
		Targets: config.SessionTargets{
			Distribution: config.DistributionTarget{Enabled: true, Action: "Omnibridge_ToggleUsers", UserIDField: "userId", OnlineField: "online", ReasonField: "reason"},
		},
	}
	t.Run("WithDefaults", func(t *testing.T) {
		if got := doc.Session.WithDefaults(); !reflect.DeepEqual(got, want) {
			t.Fatalf("WithDefaults =\n%s\nwant\n%s", asJSON(t, got), asJSON(t, want))
		}
	})
	t.Run("EffectiveSession resolves the Connect policy from settings", func(t *testing.T) {
		w := want
		w.Targets.Connect.WhileOnContact = "defer"
		if got := doc.EffectiveSession(); !reflect.DeepEqual(got, w) {
			t.Fatalf("EffectiveSession =\n%s\nwant\n%s", asJSON(t, got), asJSON(t, w))
		}
		doc := doc
		doc.Settings.WhileOnContact = "ignore"
		if got := doc.EffectiveSession().Targets.Connect.WhileOnContact; got != "ignore" {
			t.Fatalf("WhileOnContact = %q, want the settings' %q", got, "ignore")
		}
	})
	t.Run("EffectiveSession keeps a target's own policy", func(t *testing.T) {
		doc := config.Document{Session: &config.Session{Targets: config.SessionTargets{Connect: config.ConnectTarget{WhileOnContact: "apply"}}}}
		if got := doc.EffectiveSession().Targets.Connect.WhileOnContact; got != "apply" {
			t.Fatalf("WhileOnContact = %q, want apply", got)
		}
	})
	t.Run("no section is a disabled feature with defaults", func(t *testing.T) {
		got := config.Document{}.EffectiveSession()
		if got.Enabled || got.Targets.AnyTarget() || got.Reasons.NoSession != config.DefaultReasonNoSession || got.Targets.Connect.WhileOnContact != "defer" {
			t.Fatalf("EffectiveSession() = %s", asJSON(t, got))
		}
	})
}

// TestValidateSession checks every session problem with its exact path. Each case's problems are
// the only ones in its document.
func TestValidateSession(t *testing.T) {
	long := strings.Repeat("é", 256)
	tests := []struct {
		name    string
		session string
		want    []string // "path: message fragment"
	}{
		{"complete section", fullSession, nil},
		{"disabled and empty", `{"enabled": false, "targets": {}}`, nil},
		{"disabled target needs nothing", `{"enabled": true, "targets": {"omniChannel": {"enabled": true}, "distribution": {"enabled": false}, "connect": {"enabled": false}}}`, nil},
		{"omni login status in the catalog", `{"enabled": true, "targets": {"omniChannel": {"enabled": true, "onLoginStatus": "Away"}}}`, nil},
		{"enabled without a target", `{"enabled": true, "targets": {"distribution": {"action": "X"}}}`,
			[]string{"$.session.targets: must enable at least one"}},
		{"enabled with no targets object", `{"enabled": true}`,
			[]string{"$.session.targets: must enable at least one"}},
		{"blank filters", `{"sessionTypes": ["UI", " "], "loginTypes": [""], "targets": {}}`,
			[]string{"$.session.sessionTypes[1]: is required", "$.session.loginTypes[0]: is required"}},
		{"relevant users", `{"relevantUsers": {
				"profiles": ["Support Agent", ""],
				"permissionSets": ["Omnibridge Agent", "Good_One", "ns__Prefixed"],
				"fields": [{"field": "Department"}, {"equals": "x"}, {"field": "Region__r", "equals": 1}, {"field": "Region__c.Name", "equals": "x"}, {"field": "A.B.C.D.E.F.G", "equals": "x"}]
			}, "targets": {}}`,
			[]string{
				"$.session.relevantUsers.profiles[1]: is required",
				`$.session.relevantUsers.permissionSets[0]: "Omnibridge Agent" is not a permission set API name`,
				`$.session.relevantUsers.permissionSets[2]: "ns__Prefixed" is not a permission set API name`,
				"$.session.relevantUsers.fields[0].equals: is required",
				"$.session.relevantUsers.fields[1].field: is required",
				`$.session.relevantUsers.fields[2].field: "Region__r" is not an API name`,
				`$.session.relevantUsers.fields[3].field: "Region__c.Name" is not an API name: use letters, digits and single underscores, starting with a letter, optionally with a namespace prefix (ns__) and the __c suffix; a relationship before a dot`,
				"$.session.relevantUsers.fields[4].field: a relationship path has at most 5 levels",
			}},
		{"null equals", `{"relevantUsers": {"fields": [{"field": "Department", "equals": null}]}, "targets": {}}`,
			[]string{"$.session.relevantUsers.fields[0].equals: is required"}},
		{"good field paths", `{"relevantUsers": {"fields": [
				{"field": "Manager.Department", "equals": "x"}, {"field": "ns__Region__r.ns__Code__c", "equals": "x"},
				{"field": "region__C", "equals": "x"}, {"field": "A.B.C.D.E.F", "equals": "x"}, {"field": "Is_Agent2", "equals": true}
			]}, "targets": {}}`, nil},
		{"manual override", `{"manualOverride": "ignore", "targets": {}}`,
			[]string{`$.session.manualOverride: must be one of "respect", "reassert"`}},
		{"reasons", `{"reasons": {"loggedIn": "  ", "loggedOut": "` + long + `", "noSession": "` + long[:510] + `"}, "targets": {}}`,
			[]string{
				"$.session.reasons.loggedIn: must not be blank",
				"$.session.reasons.loggedOut: must be at most 255 characters, not 256",
			}},
		{"distribution action required", `{"enabled": true, "targets": {"distribution": {"enabled": true}}}`,
			[]string{"$.session.targets.distribution.action: is required"}},
		{"distribution names", `{"targets": {"distribution": {"action": "Toggle Users", "userIdField": "user.id", "onlineField": "_online", "reasonField": "why__x__y"}}}`,
			[]string{
				`$.session.targets.distribution.action: "Toggle Users" is not an API name`,
				`$.session.targets.distribution.userIdField: "user.id" is not an API name: use letters, digits and single underscores, starting with a letter, optionally with a namespace prefix (ns__) and the __c suffix; relationship paths (dots) are not allowed here`,
				`$.session.targets.distribution.onlineField: "_online" is not an API name`,
				`$.session.targets.distribution.reasonField: "why__x__y" is not an API name`,
			}},
		{"distribution names collide, defaults included", `{"targets": {"distribution": {"action": "A", "onlineField": "userId", "reasonField": "Online"}}}`,
			[]string{
				`$.session.targets.distribution.onlineField: "userId" is already the userIdField`,
			}},
		{"distribution names collide with a given name", `{"targets": {"distribution": {"action": "A", "userIdField": "who", "onlineField": "on", "reasonField": "WHO"}}}`,
			[]string{`$.session.targets.distribution.reasonField: "WHO" is already the userIdField`}},
		{"bad name characters", `{"targets": {"distribution": {"action": "ns__a__b__c", "userIdField": "1st", "onlineField": "a__", "reasonField": "ça"}}}`,
			[]string{
				`$.session.targets.distribution.action: "ns__a__b__c" is not an API name`,
				`$.session.targets.distribution.userIdField: "1st" is not an API name`,
				`$.session.targets.distribution.onlineField: "a__" is not an API name`,
				`$.session.targets.distribution.reasonField: "ça" is not an API name`,
			}},
		{"omni status Offline", `{"targets": {"omniChannel": {"enabled": true, "onLoginStatus": "Offline"}}}`,
			[]string{"$.session.targets.omniChannel.onLoginStatus: must not be Offline"}},
		{"omni status unknown", `{"targets": {"omniChannel": {"onLoginStatus": "available"}}}`,
			[]string{`$.session.targets.omniChannel.onLoginStatus: "available" is not a Salesforce presence status DeveloperName in $.statusCatalog.salesforce`}},
		{"connect status required", `{"enabled": true, "targets": {"connect": {"enabled": true}}}`,
			[]string{"$.session.targets.connect.onLogoutStatus: is required while the connect target is enabled"}},
		{"connect system state, even in the catalog", `{"targets": {"connect": {"onLogoutStatus": "Busy"}}}`,
			[]string{`$.session.targets.connect.onLogoutStatus: "Busy" is a Connect system state`}},
		{"connect status unknown", `{"targets": {"connect": {"enabled": true, "onLogoutStatus": "Logged Out"}}}`,
			[]string{`$.session.targets.connect.onLogoutStatus: "Logged Out" is not a Connect status in $.statusCatalog.connect`}},
		{"connect policy", `{"targets": {"connect": {"onLogoutStatus": "Offline", "whileOnContact": "later"}}}`,
			[]string{`$.session.targets.connect.whileOnContact: must be one of "ignore", "defer", "apply"`}},
		{"wrong types are reported once, by shape", `{"enabled": "yes", "sessionTypes": "UI", "relevantUsers": {"fields": [{"field": "Department", "equals": {"x": 1}}]}, "targets": {"connect": {"enabled": true, "onLogoutStatus": 5}}, "extra": 1}`,
			[]string{
				"$.session.enabled: must be a boolean",
				"$.session.extra: unknown field",
				"$.session.relevantUsers.fields[0].equals: must be a string, number or boolean",
				"$.session.sessionTypes: must be an array",
				"$.session.targets.connect.onLogoutStatus: must be a string",
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse(sessionDoc(tc.session))
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

// TestValidateSessionAgainstEmptyCatalog: as for rule targets, statuses must be in the catalog,
// so a document without one cannot name them.
func TestValidateSessionAgainstEmptyCatalog(t *testing.T) {
	doc := config.Document{SchemaVersion: config.SchemaVersion, Settings: config.Defaults(), Session: &config.Session{
		Enabled: true,
		Targets: config.SessionTargets{
			OmniChannel: config.OmniChannelTarget{Enabled: true, OnLoginStatus: "Available"},
			Connect:     config.ConnectTarget{Enabled: true, OnLogoutStatus: "Offline"},
		},
	}}
	got := config.Validate(doc)
	want := []string{"$.session.targets.omniChannel.onLoginStatus", "$.session.targets.connect.onLogoutStatus"}
	if len(got) != len(want) {
		t.Fatalf("problems:\n%s", render(got))
	}
	for i, p := range want {
		if got[i].Path != p {
			t.Errorf("problem %d at %s, want %s", i, got[i].Path, p)
		}
	}
}

// TestSessionNamesMatchRules keeps the names config repeats (it cannot import package rules,
// which imports it) equal to the originals.
func TestSessionNamesMatchRules(t *testing.T) {
	for _, s := range rules.SystemStates() {
		t.Run("system state "+s, func(t *testing.T) {
			doc := config.Document{SchemaVersion: 1, Settings: config.Defaults(),
				StatusCatalog: config.StatusCatalog{Connect: []config.ConnectStatus{{Name: s, Type: "CUSTOM"}}},
				Session:       &config.Session{Targets: config.SessionTargets{Connect: config.ConnectTarget{OnLogoutStatus: s}}}}
			p := config.Validate(doc)
			if len(p) != 1 || !strings.Contains(p[0].Message, "system state") {
				t.Fatalf("Validate = %v, want the system-state problem", p)
			}
		})
	}
	t.Run("a custom status named like no system state is accepted", func(t *testing.T) {
		doc := config.Document{SchemaVersion: 1, Settings: config.Defaults(),
			StatusCatalog: config.StatusCatalog{Connect: []config.ConnectStatus{{Name: "Lunch", Type: "CUSTOM"}}},
			Session:       &config.Session{Targets: config.SessionTargets{Connect: config.ConnectTarget{OnLogoutStatus: "Lunch"}}}}
		if p := config.Validate(doc); len(p) != 0 {
			t.Fatalf("Validate = %v", p)
		}
	})
	t.Run("Offline", func(t *testing.T) {
		doc := config.Document{SchemaVersion: 1, Settings: config.Defaults(),
			Session: &config.Session{Targets: config.SessionTargets{OmniChannel: config.OmniChannelTarget{OnLoginStatus: rules.Offline}}}}
		p := config.Validate(doc)
		if len(p) != 1 || !strings.Contains(p[0].Message, "must not be Offline") {
			t.Fatalf("Validate = %v, want the Offline problem", p)
		}
	})
}

func TestSessionDocumentCompiles(t *testing.T) {
	doc, err := config.Parse(sessionDoc(fullSession))
	if err != nil {
		t.Fatal(err)
	}
	if _, problems := rules.Compile(doc); len(problems) != 0 {
		t.Fatalf("rules.Compile: %v", problems)
	}
	doc.Session.Targets.Connect.OnLogoutStatus = "Nope"
	if _, problems := rules.Compile(doc); len(problems) != 1 || problems[0].Path != "$.session.targets.connect.onLogoutStatus" {
		t.Fatalf("rules.Compile problems = %v, want the session one", problems)
	}
}

// checkRoundTrip checks that doc encodes to JSON that parses back to doc.
func checkRoundTrip(t *testing.T, doc config.Document) {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	again, err := config.Parse(b)
	if err != nil {
		t.Fatalf("Parse(Marshal(doc)): %v %v", err, apperr.ProblemsOf(err))
	}
	if !reflect.DeepEqual(again, doc) {
		t.Fatalf("round trip changed the document:\n got %s\nwant %s", asJSON(t, again), asJSON(t, doc))
	}
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func render(ps []apperr.Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.Path + ": " + p.Message + "\n")
	}
	return b.String()
}
