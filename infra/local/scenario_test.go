package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// samplePath is the sample scenario the README shows.
const samplePath = "scenarios/presence-day.json"

// TestScenarioPresenceDay plays the sample scenario through the `scenario` subcommand and checks,
// step by step, the decisions and commands a contact-center engineer would look for, then the
// whole timeline against a golden file.
func TestScenarioPresenceDay(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"scenario", samplePath}, &out, io.Discard); err != nil {
		t.Fatalf("scenario: %v\n%s", err, out.String())
	}
	timeline := out.String()
	blocks := stepBlocks(timeline)

	// Each step's block must contain these lines (substrings), in this order.
	steps := []struct {
		name string
		at   string
		want []string
	}{
		{"login on Break sends Salesforce Away through the mapping", "08:55:00", []string{
			"[connect] jdoe login Break",
			"stream      LOGIN jdoe: Break",
			`decision    applied: Connect status "Break"`,
			"→ Salesforce Away (mapping): command",
			"Salesforce  published Omnibridge_Presence_Command__e: jdoe → Away",
			"console     jdoe set to Away by command",
			`decision    echo: Salesforce status "Away"`,
			"console     jdoe acknowledges command",
			"decision    acknowledged:",
		}},
		{"Available in Connect sends Salesforce Available", "09:00:00", []string{
			`decision    applied: Connect status "Available" (state Available), was "Break"`,
			"→ Salesforce Available (mapping): command",
			"published Omnibridge_Presence_Command__e: jdoe → Available",
			"decision    echo:",
		}},
		{"a ringing call is PendingBusy with nothing to send", "09:12:00", []string{
			"stream      STATE_CHANGE jdoe: Available, VOICE call-1 INCOMING",
			"decision    no-rule: Connect status \"Available\" (state PendingBusy)",
		}},
		{"a connected call is Busy, mapped to Salesforce Busy so Omni-Channel routes nothing", "09:12:04", []string{
			"VOICE call-1 CONNECTED",
			`decision    applied: Connect status "Available" (state Busy)`,
			"→ Salesforce Busy (mapping): command",
			"published Omnibridge_Presence_Command__e: jdoe → Busy",
			"decision    echo:",
			"decision    acknowledged: command",
			"as its echo already showed (routine; nothing to do)",
		}},
		{"after-call work keeps Salesforce Busy", "09:16:40", []string{
			"VOICE call-1 ENDED",
			`decision    already-in-state: Connect status "Available" (state AfterCallWork)`,
			"Salesforce Busy (mapping): already-in-state",
		}},
		{"clearing the contact sets Salesforce Available again", "09:17:30", []string{
			`decision    applied: Connect status "Available" (state Available), was "Available" (state AfterCallWork)`,
			"→ Salesforce Available (mapping): command",
		}},
		{"Lunch fires the lunch rule", "12:00:00", []string{
			`decision    applied: Connect status "Lunch"`,
			"→ Salesforce Away (rule connect-lunch-to-sf-away): command",
			"published Omnibridge_Presence_Command__e: jdoe → Away",
			"decision    echo:",
		}},
		{"accepted Omni work has no mapping", "13:05:00", []string{
			`decision    no-rule: Salesforce work accepted on channel "Case_Channel"`,
		}},
		{"full Omni capacity sets Connect Omni Busy and its echo fires nothing", "13:05:01", []string{
			"decision    applied: Salesforce workload 3 → 4 of capacity 4",
			"→ Connect Omni Busy (rule sf-at-capacity-to-connect-busy): command",
			"Connect     PutUserStatus: jdoe → Omni Busy (HTTP 200)",
			"stream      STATE_CHANGE jdoe: Omni Busy",
			`decision    echo: Connect status "Omni Busy"`,
		}},
		{"workload below capacity brings Connect back from Omni Busy", "13:40:00", []string{
			"decision    applied: Salesforce workload 4 → 3 of capacity 4",
			"→ Connect Available (rule sf-below-capacity-to-connect-available): command",
			"Connect     PutUserStatus: jdoe → Available (HTTP 200)",
			`decision    echo: Connect status "Available"`,
		}},
		{"logout with the console closed publishes Offline that nobody applies", "17:00:00", []string{
			"stream      LOGOUT jdoe: Offline",
			"→ Salesforce Offline (mapping): command",
			"published Omnibridge_Presence_Command__e: jdoe → Offline",
			"jdoe's console is closed: command",
		}},
		{"the sweep audits the unacknowledged Offline command", "17:03:00", []string{
			"sweep       7 command(s) past their acknowledgement deadline: 1 never acknowledged",
			"decision    not applied: console not open; Salesforce did not acknowledge command",
			"(Salesforce Offline)",
		}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			block, ok := blocks[st.at]
			if !ok {
				t.Fatalf("no step at %s in the timeline:\n%s", st.at, timeline)
			}
			rest := block
			for _, w := range st.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("step %s lacks %q (after the lines before it):\n%s", st.at, w, block)
				}
				rest = rest[i+len(w):]
			}
		})
	}
	t.Run("ends with each agent's final state", func(t *testing.T) {
		want := "Summary at 17:03:00\n  jdoe\n" +
			"    Connect:    Offline (logged out)\n" +
			"    Salesforce: Available, console closed\n" +
			"    session:    none recorded\n" +
			"    pending:    none\n"
		if !strings.HasSuffix(timeline, want) {
			t.Fatalf("the timeline does not end with\n%s\ngot:\n%s", want, timeline[max(0, len(timeline)-400):])
		}
	})
	t.Run("no step needed more rounds than the bound", func(t *testing.T) {
		if strings.Contains(timeline, "still not quiet") {
			t.Fatalf("a step did not settle:\n%s", timeline)
		}
	})
	t.Run("no webhook request was refused", func(t *testing.T) {
		if strings.Contains(timeline, "webhook ") {
			t.Fatalf("the webhook refused a console event:\n%s", timeline)
		}
	})
	t.Run("matches testdata/presence-day.golden", func(t *testing.T) {
		checkGolden(t, filepath.Join("testdata", "presence-day.golden"), normalizeTimeline(timeline))
	})
}

// TestScenarioSalesforceToConnect plays console changes toward Connect: a status change maps to
// a Connect status (whose echo fires nothing back), and an Omni-Channel logout maps to Offline.
func TestScenarioSalesforceToConnect(t *testing.T) {
	timeline, blocks := playScenario(t, `{"name": "console first", "date": "2026-11-23", "agent": "msmith", "steps": [
		{"at": "08:00:00", "connect": {"login": "Available"}},
		{"at": "08:30:00", "salesforce": {"statusChanged": "Away"}},
		{"at": "08:31:00", "salesforce": {"statusChanged": "Available"}},
		{"at": "08:32:00", "salesforce": {"logout": true}}
	]}`)
	checkStepLine(t, timeline, blocks, []stepLine{
		{"Away in the console maps to Connect Break", "08:30:00", "Connect     PutUserStatus: msmith → Break (HTTP 200)"},
		{"the Break status change is the echo", "08:30:00", `decision    echo: Connect status "Break"`},
		{"Available in the console maps to Connect Available", "08:31:00", "Connect     PutUserStatus: msmith → Available (HTTP 200)"},
		{"an Omni-Channel logout maps to Connect Offline", "08:32:00", "→ Connect Offline (mapping): command"},
	})
}

// TestScenarioUnlinkedAgent plays a Connect agent with no Salesforce user: the rules still run,
// and the audit says nothing could be sent.
func TestScenarioUnlinkedAgent(t *testing.T) {
	var seed map[string]map[string]any
	if err := json.Unmarshal(sampleSeed, &seed); err != nil {
		t.Fatal(err)
	}
	users, _ := seed["connect"]["users"].([]any)
	seed["connect"]["users"] = append(users, map[string]any{"username": "kim", "firstName": "Kim", "lastName": "Nolink"})
	raw, err := json.Marshal(seed)
	if err != nil {
		t.Fatal(err)
	}
	seedFile := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(seedFile, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	sc, err := parseScenario([]byte(`{"name": "unlinked", "date": "2026-11-23", "agent": "kim", "steps": [
		{"at": "09:00:00", "connect": {"login": "Lunch"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := runScenario(context.Background(), sc, scenarioOptions{seedFile: seedFile}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, c := range []struct{ name, want string }{
		{"the header says why there is no Salesforce user", `Salesforce user none (no active Salesforce user has FederationIdentifier "kim" in the seed)`},
		{"the decision is unlinked", `decision    unlinked: Connect status "Lunch"`},
		{"the rule still chose a target", "Salesforce Away (rule connect-lunch-to-sf-away): unlinked"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(out.String(), c.want) {
				t.Fatalf("timeline lacks %q:\n%s", c.want, out.String())
			}
		})
	}
	t.Run("a Salesforce step for the agent is refused", func(t *testing.T) {
		sc, err := parseScenario([]byte(`{"name": "unlinked", "agent": "kim", "steps": [
			{"at": "09:00:00", "salesforce": {"statusChanged": "Available"}}]}`))
		if err != nil {
			t.Fatal(err)
		}
		err = runScenario(context.Background(), sc, scenarioOptions{seedFile: seedFile}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "steps[0].agent: a Salesforce step needs the agent's Salesforce user") {
			t.Fatalf("got %v", err)
		}
	})
}

// TestParseScenarioProblems checks that every kind of mistake in a scenario file is reported
// with the step index and field it is in.
func TestParseScenarioProblems(t *testing.T) {
	cases := []parseProblem{
		{"not JSON", `{"name": "x",`, []string{"not valid JSON at line 1"}},
		{"not an object", `[1]`, []string{"want a JSON object with name and steps, got an array"}},
		{"unknown top-level field", `{"name": "x", "colour": 1, "steps": [{"at": "09:00:00", "agent": "a", "sweep": true}]}`,
			[]string{`(top level): unknown field "colour" (want one of: name, date, agent, steps)`}},
		{"missing name and steps", `{}`, []string{"name: required", "steps: required"}},
		{"bad date", `{"name": "x", "date": "23/11/2026", "steps": [{"at": "09:00:00", "sweep": true}]}`, []string{`date: "23/11/2026" is not a date`}},
		{"bad clock time", `{"name": "x", "steps": [{"at": "9am", "sweep": true}]}`, []string{`steps[0].at: "9am" is not a clock time like 09:00:00`}},
		{"missing clock time", `{"name": "x", "steps": [{"sweep": true}]}`, []string{`steps[0].at: "" is not a clock time`}},
		{"times out of order", `{"name": "x", "steps": [{"at": "09:00:00", "sweep": true}, {"at": "09:00:00", "sweep": true}]}`,
			[]string{"steps[1].at: 09:00:00 is not after the previous step's 09:00:00"}},
		{"wrong type", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "connect": {"login": 5}}]}`,
			[]string{"steps[0].connect.login: want a string, got a number"}},
		{"unknown nested field", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "connect": {"offer": {"contact": "c", "chanel": "VOICE"}}}]}`,
			[]string{`steps[0].connect.offer: unknown field "chanel" (want one of: contact, channel, direction, queue)`}},
		{"unknown step field", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "connnect": {"logout": true}}]}`,
			[]string{`steps[0]: unknown field "connnect" (want one of: at, note, agent, connect, salesforce, sweep, session, omni, poll, case, task, caseSweep, call)`}},
		{"no action", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00"}]}`, []string{"steps[0]: names no action"}},
		{"two actions", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "sweep": true, "connect": {"logout": true}}]}`,
			[]string{"steps[0]: has 2 actions (connect, sweep)"}},
		{"two connect actions", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "connect": {"setStatus": "Lunch", "logout": true}}]}`,
			[]string{"steps[0].connect: has 2 actions (setStatus, logout)"}},
		{"empty connect action", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "connect": {}}]}`,
			[]string{"steps[0].connect: names no action (want one of: login, setStatus, logout, offer,"}},
		{"no agent", `{"name": "x", "steps": [{"at": "09:00:00", "connect": {"logout": true}}]}`, []string{"steps[0].agent: required"}},
		{"sweep with an agent", `{"name": "x", "steps": [{"at": "09:00:00", "agent": "a", "sweep": true}]}`, []string{"steps[0].agent: a sweep covers every agent"}},
		{"sweep false", `{"name": "x", "steps": [{"at": "09:00:00", "sweep": false}]}`, []string{"steps[0].sweep: must be true"}},
		{"bad channel and direction", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "connect": {"offer": {"contact": "c", "channel": "PHONE", "direction": "sideways"}}}]}`,
			[]string{`steps[0].connect.offer.channel: unknown channel "PHONE"`, `steps[0].connect.offer.direction: unknown direction "sideways"`}},
		{"offer without a name", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "connect": {"offer": {}}}]}`, []string{"steps[0].connect.offer.contact: required"}},
		{"contact never offered", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "connect": {"end": "call-9"}}]}`,
			[]string{`steps[0].connect.end: no contact "call-9" was offered in an earlier step`}},
		{"workload figures missing", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "salesforce": {"workloadChanged": {"capacity": -1}}}]}`,
			[]string{"steps[0].salesforce.workloadChanged.capacity: must not be negative", "steps[0].salesforce.workloadChanged.previous: required", "steps[0].salesforce.workloadChanged.new: required"}},
		{"bad console state", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "salesforce": {"console": "ajar"}}]}`,
			[]string{`steps[0].salesforce.console: "ajar" is neither "open" nor "closed"`}},
		{"console event while the console is closed", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "salesforce": {"console": "closed"}}, {"at": "09:01:00", "salesforce": {"statusChanged": "Available"}}]}`,
			[]string{"steps[1].salesforce: the Omni-Channel console of a is closed"}},
		{"bad work item id", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "salesforce": {"workAccepted": {"channel": "Case_Channel", "workItem": "case-1"}}}]}`,
			[]string{`steps[0].salesforce.workAccepted.workItem: "case-1" is not a 15- or 18-character Salesforce record id`}},
		{"field given twice", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "at": "09:00:01", "sweep": true}]}`, []string{"steps[0].at: given twice"}},
		{"empty session action", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "session": {}}]}`,
			[]string{"steps[0].session: names no action (want one of: login, logout, browserClosed, activity)"}},
		{"session action not an object", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "session": {"login": true}}]}`,
			[]string{"steps[0].session.login: want an object, got a boolean"}},
		{"unknown login option", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "session": {"login": {"validFor": 60}}}]}`,
			[]string{`steps[0].session.login: unknown field "validFor" (want one of: validSeconds)`}},
		{"option of an action that takes none", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "session": {"login": {}}}, {"at": "09:01:00", "session": {"logout": {"now": true}}}]}`,
			[]string{`steps[1].session.logout: unknown field "now" (this takes no fields: give {})`}},
		{"bad session validity", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "session": {"login": {"validSeconds": 0}}}, {"at": "09:01:00", "session": {"login": {"validSeconds": "2h"}}}]}`,
			[]string{"steps[0].session.login.validSeconds: 0 is not a session timeout (want 1 to 86400 seconds)", "steps[1].session.login.validSeconds: want a number, got a string"}},
		{"two session actions", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "session": {"login": {}, "activity": {}}}]}`,
			[]string{"steps[0].session: has 2 actions (login, activity)"}},
		{"logout without a session", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "session": {"logout": {}}}]}`,
			[]string{"steps[0].session.logout: a has no Salesforce session (a login step starts one)"}},
		{"activity after the browser closed", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "session": {"login": {}}}, {"at": "09:01:00", "session": {"browserClosed": {}}}, {"at": "09:02:00", "session": {"activity": {}}}]}`,
			[]string{"steps[2].session.activity: a closed the browser in an earlier step; a login starts a new session"}},
		{"console step after the browser closed", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "session": {"login": {}}}, {"at": "09:01:00", "session": {"browserClosed": {}}}, {"at": "09:02:00", "omni": {"status": "Away"}}, {"at": "09:03:00", "salesforce": {"statusChanged": "Away"}}]}`,
			[]string{"steps[2].omni: the Omni-Channel console of a is closed", "steps[3].salesforce: the Omni-Channel console of a is closed"}},
		{"omni without a status", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "omni": {}}]}`, []string{"steps[0].omni.status: required"}},
		{"poll false", `{"name": "x", "steps": [{"at": "09:00:00", "poll": false}]}`, []string{"steps[0].poll: must be true"}},
		{"poll with an agent", `{"name": "x", "steps": [{"at": "09:00:00", "agent": "a", "poll": true}]}`, []string{"steps[0].agent: a session poll covers every relevant user"}},
	}
	checkParseProblems(t, cases)
	t.Run("the sample parses", func(t *testing.T) {
		raw, err := os.ReadFile(samplePath)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := parseScenario(raw)
		if err != nil {
			t.Fatal(err)
		}
		if sc.Name != "presence-day" || len(sc.Steps) < 10 {
			t.Fatalf("parsed %q with %d steps", sc.Name, len(sc.Steps))
		}
	})
	t.Run("the session day parses", func(t *testing.T) {
		raw, err := os.ReadFile(sessionDayPath)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := parseScenario(raw)
		if err != nil {
			t.Fatal(err)
		}
		if sc.Name != "session-day" || !sc.usesSessions() {
			t.Fatalf("parsed %q with %d steps", sc.Name, len(sc.Steps))
		}
	})
}

// TestScenarioCommandErrors checks the subcommand's usage and stack-time errors.
func TestScenarioCommandErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"no file", []string{"scenario"}, []string{"usage: scenario"}},
		{"missing file", []string{"scenario", filepath.Join(dir, "nope.json")}, []string{"no such file"}},
		{"two files", []string{"scenario", samplePath, samplePath}, []string{"unexpected argument"}},
		{"unknown agent and statuses", []string{"scenario", write("unknown.json", `{"name": "x", "agent": "nobody", "steps": [
			{"at": "09:00:00", "connect": {"setStatus": "Snooze"}},
			{"at": "09:01:00", "agent": "jdoe", "salesforce": {"statusChanged": "Lunch"}}]}`)},
			[]string{"unknown.json", `steps[0].agent: no Connect user with username "nobody"`, `steps[0].connect: Connect has no agent status "Snooze"`,
				`steps[1].salesforce.statusChanged: "Lunch" is no ServicePresenceStatus`}},
		{"an impossible action names its step", []string{"scenario", write("impossible.json", `{"name": "x", "agent": "jdoe", "steps": [
			{"at": "09:00:00", "connect": {"offer": {"contact": "call-1"}}}]}`)},
			[]string{"impossible.json: steps[0] at 09:00:00:"}},
		{"an Omni-Channel status the org does not have", []string{"scenario", write("omni.json", `{"name": "x", "agent": "jdoe", "steps": [
			{"at": "09:00:00", "omni": {"status": "Lunch"}}]}`)},
			[]string{"omni.json", `steps[0].omni.status: "Lunch" is no ServicePresenceStatus DeveloperName in the seed (Available, Away, Busy; Offline ends the presence)`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := run(context.Background(), c.args, io.Discard, io.Discard)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// stepBlocks splits a timeline into its step blocks, keyed by the step's clock time.
func stepBlocks(timeline string) map[string]string {
	blocks := map[string]string{}
	var at string
	var b strings.Builder
	flush := func() {
		if at != "" {
			blocks[at] = b.String()
		}
		b.Reset()
	}
	header := regexp.MustCompile(`^(\d\d:\d\d:\d\d)  \[`)
	for _, line := range strings.SplitAfter(timeline, "\n") {
		if m := header.FindStringSubmatch(line); m != nil {
			flush()
			at = m[1]
		}
		b.WriteString(line)
	}
	flush()
	return blocks
}

// Volatile parts of a timeline: UUIDs (user, contact and event ids) and command ids.
var (
	uuidPattern    = regexp.MustCompile(`\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`)
	commandPattern = regexp.MustCompile(`\bcommand [0-9a-f]{8}\b`)
)

// normalizeTimeline replaces ids with placeholders numbered in order of appearance, so the
// golden file keeps which lines refer to the same command without depending on how ids are made.
func normalizeTimeline(s string) string {
	number := func(re *regexp.Regexp, prefix string, s string) string {
		seen := map[string]string{}
		return re.ReplaceAllStringFunc(s, func(m string) string {
			if _, ok := seen[m]; !ok {
				seen[m] = fmt.Sprintf("<%s%d>", prefix, len(seen)+1)
			}
			return seen[m]
		})
	}
	s = number(uuidPattern, "id", s)
	return number(commandPattern, "command ", s)
}

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./infra/local -run TestScenario -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("timeline differs from %s (run with -update to accept it):\n%s", path, lineDiff(string(want), got))
	}
}

// lineDiff lists the first lines where want and got differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %s\n  got  %s\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}

// parseProblem is a scenario file parseScenario must refuse, and what its error must say.
type parseProblem struct {
	name string
	file string
	want []string
}

// checkParseProblems runs each case as a subtest: parseScenario fails, naming every want.
func checkParseProblems(t *testing.T, cases []parseProblem) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseScenario([]byte(c.file))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// stepLines is what one step of a day's timeline must show: want in order, and none of unwant.
type stepLines struct {
	name   string
	at     string
	want   []string
	unwant []string
}

// stepLine is one line a step's block must contain.
type stepLine struct{ name, at, want string }

// checkStepLine checks one wanted line per step, as checkStepLines does.
func checkStepLine(t *testing.T, timeline string, blocks map[string]string, lines []stepLine) {
	t.Helper()
	steps := make([]stepLines, len(lines))
	for i, l := range lines {
		steps[i] = stepLines{name: l.name, at: l.at, want: []string{l.want}}
	}
	checkStepLines(t, timeline, blocks, steps)
}

// playScenario parses and runs an inline scenario file, failing the test on any problem, and
// returns its timeline and the timeline's step blocks (stepBlocks).
func playScenario(t *testing.T, file string) (string, map[string]string) {
	t.Helper()
	sc, err := parseScenario([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := runScenario(context.Background(), sc, scenarioOptions{}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	return out.String(), stepBlocks(out.String())
}

// checkStepLines checks each step's block of the timeline (stepBlocks) as a subtest.
func checkStepLines(t *testing.T, timeline string, blocks map[string]string, steps []stepLines) {
	t.Helper()
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			block, ok := blocks[st.at]
			if !ok {
				t.Fatalf("no step at %s in the timeline:\n%s", st.at, timeline)
			}
			rest := block
			for _, w := range st.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("step %s lacks %q (after the lines before it):\n%s", st.at, w, block)
				}
				rest = rest[i+len(w):]
			}
			for _, u := range st.unwant {
				if strings.Contains(block, u) {
					t.Fatalf("step %s has %q:\n%s", st.at, u, block)
				}
			}
		})
	}
}

// parseScenarioFile reads and parses a scenario file, failing the test on any problem.
func parseScenarioFile(t *testing.T, path string) *scenario {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := parseScenario(raw)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}
