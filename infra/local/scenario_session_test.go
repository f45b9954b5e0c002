package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omnibridge/omnibridge/shared/app"
)

// sessionDayPath is the sample session day the README shows.
const sessionDayPath = "scenarios/session-day.json"

// jdoeSalesforceID is jdoe's Salesforce user in the seed, 18-character form.
const jdoeSalesforceID = "0055e000003AbCdAAK"

// TestScenarioSessionDay plays the sample session day and checks the decisions a Salesforce
// admin would look for: switched on at login, confirmations that toggle nothing, a manual
// switch-off respected, the switch-off after the session expired (and not before), the
// immediate switch-off on logout, and exactly the distribution toggles that go with them; then
// the whole timeline against a golden file.
func TestScenarioSessionDay(t *testing.T) {
	sc := parseScenarioFile(t, sessionDayPath)
	var out bytes.Buffer
	var toggles []map[string]any
	var toggleCalls int
	inspect := func(st *stack) {
		toggles, toggleCalls = st.sims.toggles.Inputs(), st.sims.toggles.Calls()
	}
	if err := runScenario(context.Background(), sc, scenarioOptions{inspect: inspect}, &out); err != nil {
		t.Fatalf("scenario: %v\n%s", err, out.String())
	}
	timeline := out.String()
	blocks := stepBlocks(timeline)

	// Each step's block must contain these lines (substrings) in this order, and none of the
	// unwanted ones.
	steps := []stepLines{
		{"login switches John on with the login reason", "08:00:00", []string{
			"[session] jdoe login (session valid 2 h)",
			"Salesforce  jdoe logs in: AuthSession (UI, Application) valid 2 h, until 10:00:00",
			"session     jdoe toggled-on: Logged in to Salesforce",
			"→ distribution online",
			"→ omniChannel Available",
			"decision    applied: session availability (Logged in to Salesforce) → Salesforce Available",
			`toggle      Omnibridge_ToggleUsers: jdoe online, reason "Logged in to Salesforce"`,
			"Salesforce  published Omnibridge_Presence_Command__e: jdoe → Available, command",
			"console     jdoe set to Available by command",
			`decision    echo: Salesforce status "Available"`,
		}, nil},
		{"the first poll confirms the session without a toggle", "08:05:00", []string{
			"poll        1 AuthSession row(s), 1 user(s) with a valid session, 1 stored; toggled on 0, off 0, left off 0",
		}, []string{"session     ", "toggle      "}},
		{"Away without the webhook reaches the org only", "12:00:00", []string{
			"console     jdoe switches Omni-Channel from Available to Away: the org records it (UserServicePresence); no presence webhook is sent",
		}, []string{"decision", "session     "}},
		{"the poll notices the manual Away and leaves John off", "12:05:00", []string{
			"left off 1; 2 presence row(s) → 1 presence event(s); 0 toggle call(s)",
			`decision    applied: Salesforce status "Away", was "Available"`,
			"→ Connect Break (mapping): command",
			"session     jdoe left-off: user switched off manually; left off",
			"the user switched themselves off in Omni-Channel (Away) while logged in",
			"Connect     PutUserStatus: jdoe → Break (HTTP 200)",
		}, []string{"toggle      ", "toggled-off"}},
		{"back from lunch, the poll notes John switched himself back on", "12:50:00", []string{
			"session     jdoe switched-back-on: user switched back on",
		}, []string{"toggle      "}},
		{"a closed browser sends nothing", "14:00:00", []string{
			"Salesforce  jdoe closes the browser: no logout event; the session is no longer refreshed and ends at 15:30:00",
		}, []string{"decision", "session     ", "toggle      "}},
		{"no switch-off while the session is still valid", "15:00:00", []string{
			"1 user(s) with a valid session, 1 stored; toggled on 0, off 0",
		}, []string{"toggled-off", "toggle      "}},
		{"the first poll after the expiry switches John off", "15:35:00", []string{
			"poll        1 AuthSession row(s), 0 user(s) with a valid session, 1 stored; toggled on 0, off 1, left off 0",
			"session     jdoe toggled-off: No active session",
			"poll found no session",
			"→ distribution offline",
			"→ omniChannel Offline",
			"→ connect Offline",
			`toggle      Omnibridge_ToggleUsers: jdoe offline, reason "No active session"`,
			"Connect     PutUserStatus: jdoe → Offline (HTTP 200)",
		}, []string{"published Omnibridge_Presence_Command__e", "console not open", "console is closed"}},
		{"the session's end is no command to a closed console: Salesforce is Offline with it", "15:35:00", []string{
			"decision    not-applicable: session availability (No active session) → Salesforce Offline; not applicable: user logged out.",
			`the mirror now reads Offline (was "Available") and nothing is sent`,
		}, nil},
		// The issue-9 trial: at 16:00 the bridge said Salesforce was "already Available" and sent
		// nothing, because it believed the Offline command never applied at 15:35.
		{"the re-login is decided on the truth and sends Available", "16:00:00", []string{
			"session     jdoe toggled-on: Logged in to Salesforce",
			"decision    applied: session availability (Logged in to Salesforce) → Salesforce Available",
			`toggle      Omnibridge_ToggleUsers: jdoe online, reason "Logged in to Salesforce"`,
			"Salesforce  published Omnibridge_Presence_Command__e: jdoe → Available, command",
			"console     jdoe set to Available by command",
		}, []string{"already-in-state", "not applied: console not open"}},
		{"the logout event switches John off at once", "17:00:00", []string{
			"Salesforce  jdoe logs out: AuthSession deleted, Omni-Channel presence ended, console closed",
			"session     jdoe toggled-off: Logged out of Salesforce",
			"logout event (logged in as of",
			"→ distribution offline",
			`toggle      Omnibridge_ToggleUsers: jdoe offline, reason "Logged out of Salesforce"`,
			"Connect     PutUserStatus: jdoe → Offline (HTTP 200)",
		}, []string{"published Omnibridge_Presence_Command__e"}},
		{"the logout ends the console on purpose: not applicable, no delivery failure", "17:00:00", []string{
			"decision    not-applicable: session availability (Logged out of Salesforce) → Salesforce Offline; not applicable: user logged out.",
		}, nil},
		{"the final poll confirms without a toggle", "17:05:00", []string{
			"poll        0 AuthSession row(s), 0 user(s) with a valid session, 1 stored; toggled on 0, off 0, left off 0",
			`decision    unchanged: Salesforce status "Offline", was "Offline"`,
		}, []string{"session     ", "toggle      ", "PutUserStatus", "console not open"}},
	}
	checkStepLines(t, timeline, blocks, steps)
	t.Run("the distribution toggle received exactly the four switches", func(t *testing.T) {
		type input struct {
			online bool
			reason string
		}
		want := []input{{true, "Logged in to Salesforce"}, {false, "No active session"}, {true, "Logged in to Salesforce"}, {false, "Logged out of Salesforce"}}
		if len(toggles) != len(want) || toggleCalls != len(want) {
			t.Fatalf("%d inputs in %d calls, want %d in %d: %v", len(toggles), toggleCalls, len(want), len(want), toggles)
		}
		for i, in := range toggles {
			if in["userId"] != jdoeSalesforceID || in["online"] != want[i].online || in["reason"] != want[i].reason || len(in) != 3 {
				t.Errorf("input %d = %v, want userId %s, online %v, reason %q", i, in, jdoeSalesforceID, want[i].online, want[i].reason)
			}
		}
	})
	t.Run("only the four switches and the manual ones are session decisions", func(t *testing.T) {
		var got []string
		for _, line := range strings.Split(timeline, "\n") {
			if _, rest, ok := strings.Cut(line, "session     jdoe "); ok {
				outcome, _, _ := strings.Cut(rest, ":")
				got = append(got, outcome)
			}
		}
		want := "toggled-on left-off switched-back-on toggled-off toggled-on toggled-off"
		if strings.Join(got, " ") != want {
			t.Fatalf("session decisions %v, want %s", got, want)
		}
	})
	t.Run("no step needed more rounds than the bound", func(t *testing.T) {
		if strings.Contains(timeline, "still not quiet") {
			t.Fatalf("a step did not settle:\n%s", timeline)
		}
	})
	t.Run("no webhook request was refused", func(t *testing.T) {
		if strings.Contains(timeline, "          webhook     ") || strings.Contains(timeline, "poll        failed") {
			t.Fatalf("a webhook request or a poll failed:\n%s", timeline)
		}
	})
	t.Run("ends with each agent's final state", func(t *testing.T) {
		want := "Summary at 17:05:00\n  jdoe\n" +
			"    Connect:    Offline\n" +
			"    Salesforce: Offline, console closed\n" +
			"    session:    ended (webhook at 17:00:00)\n" +
			"    pending:    none\n"
		if !strings.HasSuffix(timeline, want) {
			t.Fatalf("the timeline does not end with\n%s\ngot:\n%s", want, timeline[max(0, len(timeline)-400):])
		}
	})
	t.Run("matches testdata/session-day.golden", func(t *testing.T) {
		checkGolden(t, filepath.Join("testdata", "session-day.golden"), normalizeTimeline(timeline))
	})
}

// TestScenarioManualOffWithWebhook scripts the lunch break the other way: the console pushes
// the Away, so the presence engine hears of it at once, and the poll still leaves the user off.
func TestScenarioManualOffWithWebhook(t *testing.T) {
	timeline, blocks := playScenario(t, `{"name": "lunch with the webhook", "date": "2026-11-24", "agent": "jdoe", "steps": [
		{"at": "08:00:00", "session": {"login": {"validSeconds": 36000}}},
		{"at": "08:05:00", "poll": true},
		{"at": "12:00:00", "salesforce": {"statusChanged": "Away"}},
		{"at": "12:05:00", "poll": true},
		{"at": "12:10:00", "poll": true}
	]}`)
	checkStepLine(t, timeline, blocks, []stepLine{
		{"the webhook applies the Away at once", "12:00:00", `decision    applied: Salesforce status "Away", was "Available"`},
		{"the poll's reconciliation finds it already applied", "12:05:00", "decision    stale: Salesforce event at 2026-11-24T12:00:00Z is not newer than the last one applied"},
		{"the poll leaves the user off", "12:05:00", "session     jdoe left-off: user switched off manually; left off"},
		{"the next poll has nothing to add", "12:10:00", "toggled on 0, off 0, left off 0"},
	})
	t.Run("the manual switch-off is noted once", func(t *testing.T) {
		if n := strings.Count(timeline, "left-off"); n != 1 {
			t.Fatalf("%d left-off decisions:\n%s", n, timeline)
		}
	})
}

// TestScenarioSessionOrgRecords checks what the session and omni steps leave in the org: the
// AuthSession rows the poll reads and the console's UserServicePresence rows.
func TestScenarioSessionOrgRecords(t *testing.T) {
	sc, err := parseScenario([]byte(`{"name": "org records", "date": "2026-11-24", "agent": "jdoe", "steps": [
		{"at": "08:00:00", "session": {"login": {"validSeconds": 3600}}},
		{"at": "08:30:00", "session": {"activity": {}}},
		{"at": "09:00:00", "omni": {"status": "Away"}},
		{"at": "09:10:00", "omni": {"status": "Offline"}}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	var sessions, presence []map[string]any
	inspect := func(st *stack) {
		sessions = queryOrg(t, st, "SELECT UsersId, SessionType, LoginType, NumSecondsValid, CreatedDate, LastModifiedDate FROM AuthSession")
		presence = queryOrg(t, st, "SELECT UserId, ServicePresenceStatus.DeveloperName, IsCurrentState, StatusStartDate, StatusEndDate FROM UserServicePresence")
	}
	if err := runScenario(context.Background(), sc, scenarioOptions{inspect: inspect}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Run("one AuthSession, refreshed by the activity", func(t *testing.T) {
		if len(sessions) != 1 {
			t.Fatalf("%d AuthSession rows: %v", len(sessions), sessions)
		}
		s := sessions[0]
		want := map[string]any{"UsersId": jdoeSalesforceID, "SessionType": "UI", "LoginType": "Application", "NumSecondsValid": float64(3600),
			"CreatedDate": "2026-11-24T08:00:00.000+0000", "LastModifiedDate": "2026-11-24T08:30:00.000+0000"}
		for k, v := range want {
			if s[k] != v {
				t.Errorf("AuthSession %s = %v, want %v", k, s[k], v)
			}
		}
	})
	t.Run("Available (the login command), then Away, then no current row", func(t *testing.T) {
		type row struct{ status, start, end string }
		var got []row
		for _, r := range presence {
			status, _ := r["ServicePresenceStatus"].(map[string]any)
			if r["UserId"] != jdoeSalesforceID || r["IsCurrentState"] != false {
				t.Errorf("row %v: want jdoe's, ended", r)
			}
			start, _ := r["StatusStartDate"].(string)
			end, _ := r["StatusEndDate"].(string)
			got = append(got, row{fmt.Sprint(status["DeveloperName"]), start, end})
		}
		slices.SortFunc(got, func(a, b row) int { return strings.Compare(a.start, b.start) })
		want := []row{
			{"Available", "2026-11-24T08:00:00.300+0000", "2026-11-24T09:00:00.000+0000"},
			{"Away", "2026-11-24T09:00:00.000+0000", "2026-11-24T09:10:00.000+0000"},
		}
		if !slices.Equal(got, want) {
			t.Fatalf("UserServicePresence rows %v, want %v", got, want)
		}
	})
}

// queryOrg runs a SOQL query against the stack's org through the real Salesforce client.
func queryOrg(t *testing.T, st *stack, soql string) []map[string]any {
	t.Helper()
	ctx := context.Background()
	sf, err := app.Salesforce(ctx, st.deps)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for rec, err := range sf.Query(ctx, soql) {
		if err != nil {
			t.Fatalf("%s: %v", soql, err)
		}
		out = append(out, rec)
	}
	return out
}
