package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omnibridge/omnibridge/shared/connect/connectsim"
	"github.com/omnibridge/omnibridge/shared/routing"
	"github.com/omnibridge/omnibridge/shared/screenpop"
)

// routingDayPath is the sample routing day the README shows.
const routingDayPath = "scenarios/routing-day.json"

// anaSalesforceID is Ana's Salesforce user in the seed, 18-character form.
const anaSalesforceID = "005xx000001SwiUAAS"

// TestScenarioRoutingDay plays the sample routing day and checks what a contact-center engineer
// and a Salesforce admin would look for: the backlog routed by the sweep, a new case with skills
// routed once, the accept popping the case to Ana and making her the owner, the completion, the
// customer's reply routed again, Ana's reply stopping the task, and a last sweep with nothing to
// do; then Connect's and Salesforce's records, and the whole timeline against a golden file.
func TestScenarioRoutingDay(t *testing.T) {
	sc := parseScenarioFile(t, routingDayPath)
	var out bytes.Buffer
	var tasks []connectsim.Contact
	var tokens []connectsim.TokenUse
	var calls map[string]int
	var pops []map[string]any
	inspect := func(st *stack) {
		tasks, tokens, calls = st.sims.connect.Tasks(), st.sims.connect.ClientTokens(), st.sims.connect.CallCounts()
		for _, ev := range st.sims.salesforce.Events() {
			if ev.Type == screenpop.Event {
				pops = append(pops, ev.Fields)
			}
		}
	}
	if err := runScenario(context.Background(), sc, scenarioOptions{inspect: inspect}, &out); err != nil {
		t.Fatalf("scenario: %v\n%s", err, out.String())
	}
	timeline := out.String()
	blocks := stepBlocks(timeline)

	steps := []stepLines{
		{"a waiting case sends no webhook", "06:40:00", []string{
			`Salesforce  case backlog-1 (00000001, 500xx0000000001AAA) in queue Support_Tier_A: "Invoice copy needed", priority Medium, skills Billing has waited since before the bridge was deployed`,
		}, []string{"routing     ", "StartTaskContact"}},
		{"the sweep routes the backlog, oldest first", "08:00:00", []string{
			"caseSweep   2 open case(s) in monitored queues: 2 routed, 0 held, 0 failed, 0 with a task or needing none, 0 left for the next run; reached the newest case",
			"routing     backlog-1 routed: backlog sweep: open case in queue Support_Tier_A without a task",
			"→ task backlog-1#1 (reason backlog, skills Billing)",
			"routing     backlog-2 routed: backlog sweep",
			"→ task backlog-2#1 (reason backlog, no skills)",
			`Connect     StartTaskContact "Case 00000001: Invoice copy needed", flow "Omnibridge case task", ClientToken`,
			`Connect     StartTaskContact "Case 00000002: Cannot log in"`,
			`Salesforce  case backlog-1 updated: Omnibridge_Connect_Contact_Id__c backlog-1#1, Omnibridge_Routing_Status__c "Routed"`,
			"contact     QUEUED backlog-1#1 in BasicQueue",
			"contact     QUEUED backlog-2#1 in BasicQueue",
		}, nil},
		{"a new case with skills becomes one task", "09:00:00", []string{
			"Salesforce  Email-to-Case creates case refund (00000003,",
			`"Refund not received", priority High, skills Billing;Spanish; the trigger sends case.created`,
			"routing     refund routed: new case in queue Support_Tier_A",
			"→ task refund#1 (reason created, skills Billing, Spanish)",
			`Connect     StartTaskContact "Case 00000003: Refund not received"`,
			"→ refund#1 (HTTP 200)",
			`Salesforce  case refund updated: Omnibridge_Connect_Contact_Id__c refund#1, Omnibridge_Routing_Status__c "Routed"`,
			"contact     QUEUED refund#1 in BasicQueue",
		}, []string{"webhook "}},
		{"the accept pops the case to Ana and makes her the owner", "09:02:00", []string{
			"CCP         task refund#1 rings for ana.agent@example.com at 09:02:00, accepted at 09:02:02, connected at 09:02:03",
			"stream      STATE_CHANGE ana.agent@example.com: Available, TASK refund#1 INCOMING",
			"stream      STATE_CHANGE ana.agent@example.com: Available, TASK refund#1 CONNECTED",
			`decision    applied: Connect status "Available" (state Busy)`,
			"contact     CONNECTED_TO_AGENT refund#1 to ana.agent@example.com",
			"routing     refund connected: task accepted by agent ana.agent@example.com",
			`Salesforce  case refund updated: Omnibridge_Routing_Status__c "Connected", OwnerId ana.agent@example.com (the integration user's change: the trigger sends no owner change)`,
			"Salesforce  published Omnibridge_Screen_Pop__e: ana.agent@example.com → case refund (task refund#1, case-routed)",
			"console     ana.agent@example.com's console opens case 00000003 (refund) in a tab",
		}, nil},
		{"the completed task completes the entry", "09:20:00", []string{
			"CCP         ana.agent@example.com ends task refund#1 and clears its after-contact work at 09:20:05",
			"contact     DISCONNECTED refund#1 after ana.agent@example.com handled it",
			"routing     refund completed: task completed",
			`Salesforce  case refund updated: Omnibridge_Routing_Status__c "Completed"`,
		}, []string{"StartTaskContact"}},
		{"the customer's reply routes the case again", "11:00:00", []string{
			"Salesforce  Email-to-Case adds the customer's email 02s",
			"routing     refund routed: a customer email",
			"→ task refund#2 (reason customerEmail, skills Billing, Spanish)",
			"→ refund#2 (HTTP 200)",
		}, nil},
		{"the second accept pops the case again", "11:03:00", []string{
			"routing     refund connected: task accepted by agent ana.agent@example.com",
			"published Omnibridge_Screen_Pop__e: ana.agent@example.com → case refund (task refund#2, case-routed)",
		}, nil},
		{"Ana's reply stops the task", "11:15:00", []string{
			"Salesforce  ana.agent@example.com sends email 02s",
			"routing     refund stopped: an outgoing email on the case (auto-disconnect on reply)",
			"Connect     StopContact refund#2 (HTTP 200)",
			`Salesforce  case refund updated: Omnibridge_Routing_Status__c "Stopped"`,
			"stream      STATE_CHANGE ana.agent@example.com: Available, TASK refund#2 ENDED",
			"contact     DISCONNECTED refund#2 after ana.agent@example.com handled it",
		}, []string{"routing     refund completed", "StartTaskContact"}},
		{"clearing a stopped task only clears its after-contact work", "11:15:30", []string{
			"CCP         ana.agent@example.com clears the after-contact work of task refund#2, which had already ended",
			"contact     COMPLETED refund#2",
		}, []string{"routing     "}},
		{"the last sweep has nothing to do", "12:00:00", []string{
			"caseSweep   2 open case(s) in monitored queues: 0 routed, 0 held, 0 failed, 2 with a task or needing none, 0 left for the next run; reached the newest case",
		}, []string{"routing     ", "StartTaskContact", "updated:"}},
	}
	checkStepLines(t, timeline, blocks, steps)
	t.Run("ends with each case's routing, task and Salesforce state", func(t *testing.T) {
		for _, want := range []string{
			"  case backlog-1 (00000001, 500xx0000000001AAA)\n" +
				"    routing:    routed: task backlog-1#1 in Connect queue BasicQueue; reason backlog; 1 task(s)\n" +
				"    task:       backlog-1#1 waiting in Connect queue BasicQueue\n" +
				`    Salesforce: owner queue Support_Tier_A, Status New, Omnibridge_Routing_Status__c "Routed", Omnibridge_Connect_Contact_Id__c backlog-1#1` + "\n",
			"    routing:    stopped: an outgoing email on the case (auto-disconnect on reply); reason customerEmail; 2 task(s)\n" +
				"    task:       refund#2 ended\n" +
				`    Salesforce: owner ana.agent@example.com, Status New, Omnibridge_Routing_Status__c "Stopped", Omnibridge_Connect_Contact_Id__c refund#2` + "\n",
		} {
			if !strings.Contains(timeline, want) {
				t.Errorf("the summary lacks\n%s\ngot:\n%s", want, timeline[strings.Index(timeline, "Summary at"):])
			}
		}
	})
	t.Run("one task per cause, each with its own ClientToken", func(t *testing.T) {
		per := map[string]int{}
		for _, task := range tasks {
			per[task.Attributes[routing.AttrCaseID]+"/"+task.Attributes[routing.AttrReason]]++
		}
		if len(tasks) != 4 || len(tokens) != 4 || calls["StartTaskContact"] != 4 || calls["StopContact"] != 1 {
			t.Fatalf("%d tasks, %d tokens, calls %v; want 4 tasks, 4 tokens, 4 StartTaskContact and 1 StopContact", len(tasks), len(tokens), calls)
		}
		for _, tok := range tokens {
			if tok.Replays != 0 || tok.Mismatches != 0 {
				t.Errorf("token %+v was used again", tok)
			}
		}
		for k, n := range per {
			if n != 1 {
				t.Errorf("%s has %d tasks", k, n)
			}
		}
	})
	t.Run("two screen pops, both to Ana", func(t *testing.T) {
		if len(pops) != 2 {
			t.Fatalf("%d screen pops: %v", len(pops), pops)
		}
		for _, p := range pops {
			if p[screenpop.FieldUserID] != anaSalesforceID || p[screenpop.FieldReason] != screenpop.ReasonCaseRouted {
				t.Errorf("pop %v", p)
			}
		}
	})
	t.Run("no step needed more rounds than the bound", func(t *testing.T) {
		if strings.Contains(timeline, "still not quiet") {
			t.Fatalf("a step did not settle:\n%s", timeline)
		}
	})
	t.Run("no webhook request or contact event was refused", func(t *testing.T) {
		for _, bad := range []string{"webhook ", "contact-events failed", "refused:", "could not process"} {
			if strings.Contains(timeline, bad) {
				t.Fatalf("the timeline has %q:\n%s", bad, timeline)
			}
		}
	})
	t.Run("matches testdata/routing-day.golden", func(t *testing.T) {
		checkGolden(t, filepath.Join("testdata", "routing-day.golden"), normalizeTimeline(timeline))
	})
}

// TestScenarioCaseComments plays comments on a routed case: one by someone other than the owner
// while the task is live changes nothing, one by the owner stops the task (auto-disconnect on
// reply), and a later one by someone else routes the case again.
func TestScenarioCaseComments(t *testing.T) {
	timeline, blocks := playScenario(t, `{"name": "comments", "date": "2026-12-07", "agent": "ana.agent@example.com", "steps": [
		{"at": "09:00:00", "connect": {"login": "Available"}},
		{"at": "09:01:00", "case": {"new": {"case": "printer", "queue": "Support_Tier_A", "subject": "Printer on fire"}}},
		{"at": "09:02:00", "agent": "ben.agent@example.com", "case": {"comment": {"case": "printer", "byOwner": false}}},
		{"at": "09:03:00", "task": {"accept": "printer"}},
		{"at": "09:04:00", "case": {"comment": {"case": "printer", "byOwner": true}}},
		{"at": "09:05:00", "task": {"complete": "printer"}},
		{"at": "09:06:00", "agent": "ben.agent@example.com", "case": {"comment": {"case": "printer", "byOwner": false}}}
	]}`)
	checkStepLine(t, timeline, blocks, []stepLine{
		{"a colleague's comment on a live task is ignored", "09:02:00",
			"routing     printer ignored: a comment by someone other than the owner, but the case already has a task (routed)"},
		{"the owner's comment stops the task", "09:04:00", "routing     printer stopped: the case owner commented (auto-disconnect on reply)"},
		{"the stop is sent to Connect", "09:04:00", "Connect     StopContact printer#1 (HTTP 200)"},
		{"a colleague's comment after the stop routes the case again", "09:06:00", "→ task printer#2 (reason comment, no skills)"},
	})
}

// TestScenarioRoutingProblems checks the routing steps' mistakes: those the file shows, with
// their paths, and those only the stack can find.
func TestScenarioRoutingProblems(t *testing.T) {
	parse := []parseProblem{
		{"new case without name and queue", `{"name": "x", "steps": [{"at": "09:00:00", "case": {"new": {"subject": "s"}}}]}`,
			[]string{"steps[0].case.new.case: required", "steps[0].case.new.queue: required"}},
		{"unknown case field", `{"name": "x", "steps": [{"at": "09:00:00", "case": {"new": {"case": "c", "queue": "q", "skill": "Billing"}}}]}`,
			[]string{`steps[0].case.new: unknown field "skill" (want one of: case, queue, subject, skills, priority)`}},
		{"skills too long", `{"name": "x", "steps": [{"at": "09:00:00", "case": {"waiting": {"case": "c", "queue": "q", "skills": "` + strings.Repeat("a", 256) + `"}}}]}`,
			[]string{"steps[0].case.waiting.skills: 256 characters; the skills field is Text(255)"}},
		{"empty case action", `{"name": "x", "steps": [{"at": "09:00:00", "case": {}}]}`,
			[]string{"steps[0].case: names no action (want one of: new, waiting, customerEmail, agentReply, comment)"}},
		{"two case actions", `{"name": "x", "steps": [{"at": "09:00:00", "case": {"customerEmail": "c", "agentReply": "c"}}]}`,
			[]string{"steps[0].case: has 2 actions (customerEmail, agentReply)"}},
		{"Email-to-Case with an agent", `{"name": "x", "steps": [{"at": "09:00:00", "agent": "a", "case": {"new": {"case": "c", "queue": "q"}}}]}`,
			[]string{"steps[0].agent: Email-to-Case creates cases and customer emails; leave agent out"}},
		{"a case created twice", `{"name": "x", "steps": [{"at": "09:00:00", "case": {"new": {"case": "c", "queue": "q"}}}, {"at": "09:01:00", "case": {"waiting": {"case": "c", "queue": "q"}}}]}`,
			[]string{`steps[1].case.waiting.case: a case "c" was created in an earlier step`}},
		{"a case never created", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "case": {"customerEmail": "c"}}, {"at": "09:01:00", "task": {"accept": "c"}}]}`,
			[]string{`steps[0].case.customerEmail: no case "c" was created in an earlier step`, `steps[1].task.accept: no case "c" was created in an earlier step`}},
		{"a comment without byOwner", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "case": {"new": {"case": "c", "queue": "q"}}}, {"at": "09:01:00", "case": {"comment": {"case": "c"}}}]}`,
			[]string{"steps[1].case.comment.byOwner: required"}},
		{"a reply without an agent", `{"name": "x", "steps": [{"at": "09:00:00", "case": {"new": {"case": "c", "queue": "q"}}}, {"at": "09:01:00", "case": {"agentReply": "c"}}]}`,
			[]string{"steps[1].agent: required"}},
		{"empty task action", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "task": {}}]}`,
			[]string{"steps[0].task: names no action (want one of: accept, complete)"}},
		{"task without a case name", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "task": {"complete": ""}}]}`,
			[]string{"steps[0].task.complete: required: the name of a case created earlier"}},
		{"case sweep false", `{"name": "x", "steps": [{"at": "09:00:00", "caseSweep": false}]}`, []string{"steps[0].caseSweep: must be true"}},
		{"case sweep with an agent", `{"name": "x", "steps": [{"at": "09:00:00", "agent": "a", "caseSweep": true}]}`,
			[]string{"steps[0].agent: a case sweep covers every monitored queue; leave agent out"}},
	}
	checkParseProblems(t, parse)
	t.Run("the routing day parses", func(t *testing.T) {
		raw, err := os.ReadFile(routingDayPath)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := parseScenario(raw)
		if err != nil {
			t.Fatal(err)
		}
		if sc.Name != "routing-day" || !sc.usesRouting() || sc.usesSessions() {
			t.Fatalf("parsed %q with %d steps", sc.Name, len(sc.Steps))
		}
	})

	run := []struct {
		name string
		file string
		want string
	}{
		{"a queue the org does not have", `{"name": "x", "steps": [{"at": "09:00:00", "case": {"new": {"case": "c", "queue": "Support_Tier_Z"}}}]}`,
			`steps[0].case.new.queue: "Support_Tier_Z" is no queue (Group of Type Queue) in the seed (queues: Sales_Inbox, Support_Tier_A)`},
		{"accepting a case without a waiting task", `{"name": "x", "agent": "ana.agent@example.com", "steps": [
			{"at": "09:00:00", "case": {"new": {"case": "c", "queue": "Sales_Inbox"}}}, {"at": "09:01:00", "task": {"accept": "c"}}]}`,
			"steps[1] at 09:01:00: case c has no task waiting in a Connect queue"},
		{"a comment whose byOwner is not so", `{"name": "x", "agent": "ana.agent@example.com", "steps": [
			{"at": "09:00:00", "case": {"new": {"case": "c", "queue": "Support_Tier_A"}}}, {"at": "09:01:00", "case": {"comment": {"case": "c", "byOwner": true}}}]}`,
			"steps[1] at 09:01:00: case.comment.byOwner is true, but the case's owner is queue Support_Tier_A and the author ana.agent@example.com"},
		{"completing a task the agent does not have", `{"name": "x", "agent": "ana.agent@example.com", "steps": [
			{"at": "09:00:00", "case": {"new": {"case": "c", "queue": "Support_Tier_A"}}}, {"at": "09:01:00", "task": {"complete": "c"}}]}`,
			"steps[1] at 09:01:00: case c has no task on ana.agent@example.com"},
	}
	for _, c := range run {
		t.Run(c.name, func(t *testing.T) {
			sc, err := parseScenario([]byte(c.file))
			if err != nil {
				t.Fatal(err)
			}
			err = runScenario(context.Background(), sc, scenarioOptions{}, io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error with %q", err, c.want)
			}
		})
	}
	t.Run("a reply by an agent without a Salesforce user", func(t *testing.T) {
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
		sc, err := parseScenario([]byte(`{"name": "x", "agent": "kim", "steps": [{"at": "09:00:00", "case": {"new": {"case": "c", "queue": "Support_Tier_A"}}},
			{"at": "09:01:00", "case": {"agentReply": "c"}}]}`))
		if err != nil {
			t.Fatal(err)
		}
		err = runScenario(context.Background(), sc, scenarioOptions{seedFile: seedFile}, io.Discard)
		want := `steps[1].agent: a reply or comment needs the agent's Salesforce user: no active Salesforce user has FederationIdentifier "kim"`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("got %v, want an error with %q", err, want)
		}
	})
	t.Run("a seed without the Automated Case User", func(t *testing.T) {
		var seed, org map[string]json.RawMessage
		var recs map[string][]map[string]any
		if err := json.Unmarshal(sampleSeed, &seed); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(seed["salesforce"], &org); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(org["records"], &recs); err != nil {
			t.Fatal(err)
		}
		recs["User"] = slices.DeleteFunc(recs["User"], func(u map[string]any) bool { return u["Username"] == scenarioCaseUser })
		var err error
		if org["records"], err = json.Marshal(recs); err != nil {
			t.Fatal(err)
		}
		if seed["salesforce"], err = json.Marshal(org); err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(seed)
		if err != nil {
			t.Fatal(err)
		}
		seedFile := filepath.Join(t.TempDir(), "seed.json")
		if err := os.WriteFile(seedFile, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		sc, err := parseScenario([]byte(`{"name": "x", "steps": [{"at": "09:00:00", "case": {"new": {"case": "c", "queue": "Support_Tier_A"}}}]}`))
		if err != nil {
			t.Fatal(err)
		}
		err = runScenario(context.Background(), sc, scenarioOptions{seedFile: seedFile}, io.Discard)
		want := `steps: Email-to-Case steps (case new, waiting, customerEmail) need the org's Automated Case User: no active Salesforce user has Username "autocase@example.com" in the seed`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("got %v, want an error with %q", err, want)
		}
	})
}
