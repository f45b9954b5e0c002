package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/omnibridge/omnibridge/shared/app"
	"github.com/omnibridge/omnibridge/shared/calllog"
	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/screenpop"
)

// callDayPath is the sample call day the README shows.
const callDayPath = "scenarios/call-day.json"

// orgCall is what the org holds for one caller's number: the Cases, and the step logs and Tasks
// of their legs.
type orgCall struct {
	cases int
	// logs are the Omnibridge_Call_Log__c records' fields by Step_Key__c.
	logs map[string]map[string]any
	// tasks are the call Tasks' fields, in CallObject order.
	tasks []map[string]any
}

// readOrgCall reads from the org what call logging left for the calls from number, through the
// REST API as an admin's report would.
func readOrgCall(t *testing.T, st *stack, number string) orgCall {
	t.Helper()
	ctx := context.Background()
	sf, err := app.Salesforce(ctx, st.deps)
	if err != nil {
		t.Fatal(err)
	}
	query := func(soql string, args ...any) []map[string]any {
		t.Helper()
		q, err := salesforce.Format(soql, args...)
		if err != nil {
			t.Fatal(err)
		}
		var out []map[string]any
		for rec, err := range sf.Query(ctx, q) {
			if err != nil {
				t.Fatal(err)
			}
			_, f, _ := st.sims.salesforce.Record(rec["Id"].(string))
			out = append(out, f)
		}
		return out
	}
	oc := orgCall{logs: map[string]map[string]any{}}
	cases := query("SELECT Id FROM Case WHERE SuppliedPhone = ?", number)
	oc.cases = len(cases)
	for _, c := range cases {
		for _, l := range query("SELECT Id FROM "+calllog.LogObject+" WHERE Case__c = ?", c["Id"]) {
			oc.logs[l["Step_Key__c"].(string)] = l
		}
		oc.tasks = append(oc.tasks, query("SELECT Id FROM Task WHERE WhatId = ?", c["Id"])...)
	}
	slices.SortFunc(oc.tasks, func(a, b map[string]any) int {
		return strings.Compare(a["CallObject"].(string), b["CallObject"].(string))
	})
	return oc
}

// TestScenarioCallDay plays the sample call day and checks what a contact-center engineer and a
// Salesforce admin would look for: the known caller whose number the org stores formatted found
// by SOSL, with the Case popped to the agent and the hold, after-contact work and Task logged at
// completion; the unknown caller's Contact created with the Case; the withheld number creating
// nothing; the transfer's second leg joining the first leg's Case; and the call whose events
// arrive reversed and twice logged exactly as it is when they arrive in order. Then the org's
// records, and the whole timeline against a golden file.
func TestScenarioCallDay(t *testing.T) {
	sc := parseScenarioFile(t, callDayPath)
	var out bytes.Buffer
	var counts map[string]int
	var pops []map[string]any
	var bob orgCall
	var describes int
	inspect := func(st *stack) {
		org := st.sims.salesforce
		counts = map[string]int{}
		for _, o := range []string{"Case", "Contact", "Task", calllog.LogObject} {
			counts[o] = org.Count(o)
		}
		for _, ev := range org.Events() {
			if ev.Type == screenpop.Event {
				pops = append(pops, ev.Fields)
			}
		}
		describes = st.sims.connect.Calls("DescribeContact")
		bob = readOrgCall(t, st, "+17185550166")
	}
	if err := runScenario(context.Background(), sc, scenarioOptions{inspect: inspect}, &out); err != nil {
		t.Fatalf("scenario: %v\n%s", err, out.String())
	}
	timeline := out.String()
	blocks := stepBlocks(timeline)

	steps := []stepLines{
		{"an inbound call is queued and nothing is written yet", "09:00:00", []string{
			"caller      alice calls from +14155551212: alice#1 waits in BasicQueue",
			"contact     INITIATED alice#1 (INBOUND)",
			"contact     QUEUED alice#1 in BasicQueue",
		}, []string{"Salesforce  search", "Salesforce  composite", "callLog", "DescribeContact"}},
		{"the known caller's formatted number is found by SOSL and the Case pops", "09:00:20", []string{
			"CCP         call alice#1 rings for ana.agent@example.com at 09:00:20, accepted at 09:00:22, connected at 09:00:23",
			"contact     CONNECTED_TO_AGENT alice#1 to ana.agent@example.com",
			"Connect     DescribeContact alice#1 (HTTP 200)",
			`Salesforce  search: FIND {\+14155551212} IN PHONE FIELDS RETURNING Contact(`,
			"Salesforce  composite (allOrNone) for alice#1, 4 subrequest(s):",
			`newCase create Case: ContactId Contact "Alice Nguyen", OwnerId ana.agent@example.com, Origin "Phone", Subject "Call from +14155551212"`,
			`step_queued upsert Omnibridge_Call_Log__c Step_Key__c alice#1:queued: Step__c "Queued", Started_At__c 09:00:00, Ended_At__c 09:00:23, Duration_Seconds__c 23 s`,
			`step_connected upsert Omnibridge_Call_Log__c Step_Key__c alice#1:connected: Step__c "Connected to agent", Started_At__c 09:00:23, Ended_At__c null, Duration_Seconds__c null`,
			`pop publish Omnibridge_Screen_Pop__e: UserId__c ana.agent@example.com, RecordId__c @{newCase.id}, Reason__c "call"`,
			"callLog     alice#1 matched: one Contact has the number",
			`→ +14155551212 by SOSL: Contact "Alice Nguyen"`,
			"callLog     alice#1 logged: created Case 00000001; logged Queued, Connected to agent; popped the Case to ana.agent@example.com",
			"Salesforce  published Omnibridge_Screen_Pop__e: ana.agent@example.com → Case 00000001 (call alice#1, call)",
			"console     ana.agent@example.com's console opens Case 00000001 in a tab",
		}, []string{"newWho"}},
		{"a hold changes nothing in Salesforce", "09:03:00", []string{
			"CCP         ana.agent@example.com puts alice#1 on hold",
		}, []string{"Salesforce  search", "Salesforce  composite", "contact     "}},
		{"the disconnect only updates the stored state", "09:08:00", []string{
			"contact     DISCONNECTED alice#1 after ana.agent@example.com handled it (on hold 90 s)",
		}, []string{"composite", "callLog"}},
		{"the wrap-up writes the final steps and the Task in one request", "09:09:30", []string{
			"contact     COMPLETED alice#1 (after-contact work 90 s)",
			"Salesforce  composite (allOrNone) for alice#1, 5 subrequest(s):",
			"Ended_At__c 09:08:00, Duration_Seconds__c 457 s",
			`step_hold upsert Omnibridge_Call_Log__c Step_Key__c alice#1:hold: Step__c "On hold", Started_At__c null, Ended_At__c null, Duration_Seconds__c 90 s`,
			`step_acw upsert Omnibridge_Call_Log__c Step_Key__c alice#1:acw: Step__c "After-contact work", Started_At__c 09:08:00, Ended_At__c 09:09:30, Duration_Seconds__c 90 s`,
			`step_completed upsert Omnibridge_Call_Log__c Step_Key__c alice#1:completed: Step__c "Completed", Started_At__c 09:00:00, Ended_At__c 09:09:30, Duration_Seconds__c 570 s`,
			`task create Task: TaskSubtype "Call", CallType "Inbound", CallDurationInSeconds 457 s, CallObject alice#1, WhoId Contact "Alice Nguyen", WhatId Case 00000001`,
			"callLog     alice#1 logged: logged Connected to agent, On hold, After-contact work, Completed; created Task",
		}, []string{"search:", "step_queued"}},
		{"the unknown caller's Contact is created with the Case", "09:30:15", []string{
			`newWho create Contact: LastName "Unknown caller", Phone "+12125550147"`,
			"newCase create Case: ContactId @{newWho.id}, OwnerId ben.agent@example.com",
			"callLog     carol#1 matched: no Contact has the number: a Contact is created",
			"→ +12125550147 by SOSL: no record",
			`callLog     carol#1 logged: created Contact "Unknown caller"; created Case 00000002`,
			"console     ben.agent@example.com's console opens Case 00000002 in a tab",
		}, nil},
		{"a withheld number creates nothing and is audited", "10:00:10", []string{
			"Connect     DescribeContact anon#1 (HTTP 200)",
			"callLog     anon#1 withheld: nothing logged: no customer endpoint",
		}, []string{"search:", "composite", "Omnibridge_Screen_Pop__e"}},
		{"the withheld call's completion writes nothing either", "10:05:00", []string{
			"contact     COMPLETED anon#1",
		}, []string{"Salesforce  search", "Salesforce  composite", "callLog"}},
		{"a transfer ends the first leg and queues a second", "11:05:00", []string{
			"CCP         ana.agent@example.com transfers dan#1 to BasicQueue: dan#1 ends (after-contact work), dan#2 waits in BasicQueue",
			"contact     DISCONNECTED dan#1 after ana.agent@example.com handled it",
			"contact     INITIATED dan#2 (TRANSFER, PreviousContactId dan#1)",
			"contact     QUEUED dan#2 in BasicQueue",
		}, []string{"composite"}},
		{"the second leg joins the first leg's Case without a search", "11:06:00", []string{
			"Salesforce  composite (allOrNone) for dan#2, 3 subrequest(s):",
			"Case__c Case 00000003",
			"callLog     dan#2 transfer-joined: transferred from dan#1: this contact joins the call's Case 00000003",
			"callLog     dan#2 logged: logged Queued, Connected to agent; popped the Case to ben.agent@example.com",
			"console     ben.agent@example.com's console opens Case 00000003 in a tab",
		}, []string{"search:", "newCase", "newWho", "DescribeContact"}},
		{"held events are not delivered", "12:00:30", []string{
			"contact     CONNECTED_TO_AGENT bob#1 to ben.agent@example.com: held back (EventBridge delivers it at 12:10:00)",
		}, []string{"callLog", "Salesforce  search", "Salesforce  composite", "DescribeContact"}},
		{"reversed and duplicated, the first event delivered logs the whole call", "12:10:00", []string{
			"contact     COMPLETED bob#1 (after-contact work 60 s) — late: an event of 12:07:00",
			"Salesforce  composite (allOrNone) for bob#1, 8 subrequest(s):",
			`step_hold upsert Omnibridge_Call_Log__c Step_Key__c bob#1:hold: Step__c "On hold", Started_At__c null, Ended_At__c null, Duration_Seconds__c 45 s`,
			"CallDurationInSeconds 327 s",
			"contact     DISCONNECTED bob#1 after ben.agent@example.com handled it (on hold 45 s) — late: an event of 12:06:00",
			"contact     INITIATED bob#1 (INBOUND) — late: an event of 12:00:00",
			"contact     COMPLETED bob#1 (after-contact work 60 s) — again: a duplicate of the event of 12:07:00",
			"contact     bob#1: the dispatcher had already handled event",
		}, []string{"console     ben.agent@example.com's console opens"}},
	}
	checkStepLines(t, timeline, blocks, steps)
	t.Run("the late events after the first change nothing", func(t *testing.T) {
		block := blocks["12:10:00"]
		if n := strings.Count(block, "composite (allOrNone)"); n != 1 {
			t.Fatalf("%d composite requests at 12:10:00:\n%s", n, block)
		}
		if n := strings.Count(block, "the dispatcher had already handled event"); n != 5 {
			t.Fatalf("%d duplicates dropped, want the 5 events' second delivery:\n%s", n, block)
		}
	})
	t.Run("the summary shows each leg's caller, Case, steps, Task and pop", func(t *testing.T) {
		summary := timeline[strings.Index(timeline, "Summary at"):]
		for _, want := range []string{
			"  call alice from +14155551212 (1 leg(s))\n" +
				"    alice#1:    completed; 3 Salesforce call(s) (search, composite, composite)\n" +
				`    caller:     +14155551212, Contact "Alice Nguyen" matched by SOSL (Phone stored as "(415) 555-1212")` + "\n" +
				`    Case:       Case 00000001 created: "Call from +14155551212", owner ana.agent@example.com, ContactId Contact "Alice Nguyen"` + "\n" +
				"    steps:      Queued 09:00:00–09:00:23: 23 s\n" +
				"                Connected to agent 09:00:23–09:08:00: 457 s, ana.agent@example.com\n" +
				"                On hold: 90 s, ana.agent@example.com\n" +
				"                After-contact work 09:08:00–09:09:30: 90 s, ana.agent@example.com\n" +
				"                Completed 09:00:00–09:09:30: 570 s\n" +
				`    Task:       TaskSubtype Call, Status Completed, CallType Inbound, CallDurationInSeconds 457, WhoId Contact "Alice Nguyen", WhatId Case 00000001` + "\n" +
				"    pop:        ana.agent@example.com → Case 00000001 (PopId__c call:alice#1)\n",
			`    caller:     +12125550147, Contact "Unknown caller" created` + "\n",
			"  call anon from a withheld number (1 leg(s))\n" +
				"    anon#1:     completed; no Salesforce call\n" +
				"    caller:     withheld (no customer endpoint): nothing created in Salesforce\n",
			"    dan#2:      completed; 2 Salesforce call(s) (composite, composite)\n",
			"    Case:       Case 00000003 joined (created by dan#1)",
			"    bob#1:      completed; 2 Salesforce call(s) (search, composite)\n",
			"    pop:        none: the contact completed before its Case was popped\n",
		} {
			if !strings.Contains(summary, want) {
				t.Errorf("the summary lacks\n%s\ngot:\n%s", want, summary)
			}
		}
	})
	t.Run("the org holds one Case per call, every step and one Task per leg", func(t *testing.T) {
		// Cases: alice, carol, dan (both legs), bob. Contacts: the seed's Alice and the three
		// unknown callers. Tasks and steps: per leg (alice 5 steps with the hold, carol 4, dan's
		// legs 4 each, bob 5).
		want := map[string]int{"Case": 4, "Contact": 4, "Task": 5, calllog.LogObject: 22}
		if !reflect.DeepEqual(counts, want) {
			t.Fatalf("records %v, want %v", counts, want)
		}
		if describes != 5 {
			t.Errorf("%d DescribeContact calls, want one per leg that reached an agent (5)", describes)
		}
	})
	t.Run("four screen pops, none for the withheld call nor the late one", func(t *testing.T) {
		var got []string
		for _, p := range pops {
			if p[screenpop.FieldReason] != screenpop.ReasonCall {
				t.Errorf("pop %v", p)
			}
			got = append(got, p[screenpop.FieldUserID].(string))
		}
		want := []string{anaSalesforceID, benSalesforceID, anaSalesforceID, benSalesforceID}
		if !slices.Equal(got, want) {
			t.Fatalf("pops to %v, want %v", got, want)
		}
	})
	t.Run("no step needed more rounds than the bound, nothing was refused", func(t *testing.T) {
		for _, bad := range []string{"still not quiet", "webhook ", "contact-events failed", "refused:", "could not process"} {
			if strings.Contains(timeline, bad) {
				t.Fatalf("the timeline has %q:\n%s", bad, timeline)
			}
		}
	})
	t.Run("the reversed, duplicated delivery logs what the delivery in order logs", func(t *testing.T) {
		inOrder := &scenario{Name: sc.Name, Day: sc.Day, Steps: slices.DeleteFunc(slices.Clone(sc.Steps), func(st scenarioStep) bool {
			return st.Call != nil && st.Call.Deliver != nil
		})}
		var ordered orgCall
		var out bytes.Buffer
		if err := runScenario(context.Background(), inOrder, scenarioOptions{inspect: func(st *stack) { ordered = readOrgCall(t, st, "+17185550166") }}, &out); err != nil {
			t.Fatalf("scenario: %v\n%s", err, out.String())
		}
		if !strings.Contains(stepBlocks(out.String())["12:00:30"], "console     ben.agent@example.com's console opens Case 00000004 in a tab") {
			t.Fatalf("in order, the call is not popped on connection:\n%s", out.String())
		}
		if bob.cases != 1 || ordered.cases != 1 || len(bob.logs) != 5 || len(bob.tasks) != 1 {
			t.Fatalf("reversed: %d cases, %d logs, %d tasks; in order: %d cases; want 1 case, 5 logs, 1 task each", bob.cases, len(bob.logs), len(bob.tasks), ordered.cases)
		}
		pick := func(f map[string]any, keys ...string) map[string]any {
			out := map[string]any{}
			for _, k := range keys {
				out[k] = f[k]
			}
			return out
		}
		logFields := []string{"Step_Key__c", "Step__c", "Started_At__c", "Ended_At__c", "Duration_Seconds__c", "Agent_User__c", "Connect_Contact_Id__c"}
		for key, l := range bob.logs {
			o, ok := ordered.logs[key]
			if !ok {
				t.Errorf("in order, no log %s", key)
				continue
			}
			if got, want := pick(l, logFields...), pick(o, logFields...); !reflect.DeepEqual(got, want) {
				t.Errorf("log %s reversed %v, in order %v", key, got, want)
			}
		}
		if len(ordered.logs) != len(bob.logs) {
			t.Errorf("in order %d logs, reversed %d", len(ordered.logs), len(bob.logs))
		}
		taskFields := []string{"TaskSubtype", "Type", "Status", "CallType", "CallDurationInSeconds", "CallObject", "ActivityDate", "OwnerId", "Subject"}
		if len(ordered.tasks) != 1 || !reflect.DeepEqual(pick(bob.tasks[0], taskFields...), pick(ordered.tasks[0], taskFields...)) {
			t.Errorf("Task reversed %v, in order %v", bob.tasks, ordered.tasks)
		}
	})
	t.Run("matches testdata/call-day.golden", func(t *testing.T) {
		checkGolden(t, filepath.Join("testdata", "call-day.golden"), normalizeTimeline(timeline))
	})
}

// benSalesforceID is Ben's Salesforce user in the seed, 18-character form.
const benSalesforceID = "005xx000001SwiVAAS"

// TestScenarioCallDelivery plays held events delivered as emitted: the call is logged as in
// order, popped when its connection is delivered; a second deliver step has nothing to deliver.
func TestScenarioCallDelivery(t *testing.T) {
	timeline, blocks := playScenario(t, `{"name": "late", "date": "2026-12-08", "agent": "ana.agent@example.com", "steps": [
		{"at": "09:00:00", "connect": {"login": "Available"}},
		{"at": "09:01:00", "call": {"inbound": {"call": "eve", "from": "+14155551212", "queue": "BasicQueue"}}},
		{"at": "09:01:10", "call": {"answer": "eve"}},
		{"at": "09:02:00", "call": {"deliver": {"call": "eve"}}},
		{"at": "09:03:00", "call": {"deliver": {"call": "eve", "duplicates": true}}},
		{"at": "09:04:00", "call": {"hangUp": "eve"}}
	]}`)
	checkStepLine(t, timeline, blocks, []stepLine{
		{"the connection is held", "09:01:10", "contact     CONNECTED_TO_AGENT eve#1 to ana.agent@example.com: held back (EventBridge delivers it at 09:02:00)"},
		{"delivered as emitted, the initiation comes first", "09:02:00", "contact     INITIATED eve#1 (INBOUND) — late: an event of 09:01:00"},
		{"the late connection still pops the Case", "09:02:00", "console     ana.agent@example.com's console opens Case 00000001 in a tab"},
		{"a second deliver step finds nothing held", "09:03:00", "contact     no contact event of eve is held"},
		{"events after the last deliver step flow as emitted", "09:04:00", "contact     DISCONNECTED eve#1 after ana.agent@example.com handled it\n"},
	})
}

// TestScenarioCallTransferReversed delivers a transferred call's events newest first: the second
// leg's completion arrives first and creates the call's one Case, and the first leg, the call's
// root, joins it when its events arrive.
func TestScenarioCallTransferReversed(t *testing.T) {
	sc, err := parseScenario([]byte(`{"name": "late transfer", "date": "2026-12-08", "agent": "ana.agent@example.com", "steps": [
		{"at": "09:00:00", "connect": {"login": "Available"}},
		{"at": "09:00:10", "agent": "ben.agent@example.com", "connect": {"login": "Available"}},
		{"at": "09:01:00", "call": {"inbound": {"call": "eve", "from": "+14155551212", "queue": "BasicQueue"}}},
		{"at": "09:01:10", "call": {"answer": "eve"}},
		{"at": "09:02:00", "call": {"transfer": {"call": "eve", "queue": "BasicQueue"}}},
		{"at": "09:02:30", "call": {"wrapUp": "eve"}},
		{"at": "09:03:00", "agent": "ben.agent@example.com", "call": {"answer": "eve"}},
		{"at": "09:05:00", "agent": "ben.agent@example.com", "call": {"hangUp": "eve"}},
		{"at": "09:06:00", "agent": "ben.agent@example.com", "call": {"wrapUp": "eve"}},
		{"at": "09:10:00", "call": {"deliver": {"call": "eve", "order": "reversed"}}}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	var cases, tasks, logs int
	inspect := func(st *stack) {
		org := st.sims.salesforce
		cases, tasks, logs = org.Count("Case"), org.Count("Task"), org.Count(calllog.LogObject)
	}
	if err := runScenario(context.Background(), sc, scenarioOptions{inspect: inspect}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	timeline := out.String()
	block := stepBlocks(timeline)["09:10:00"]
	for _, c := range []struct{ name, want string }{
		{"the second leg's completion comes first and creates the Case", "callLog     eve#2 logged: created Case 00000001;"},
		{"the root leg joins it", "callLog     eve#1 transfer-joined: another contact of the call created its Case 00000001: this contact joins it"},
		{"without a search of its own", "Salesforce  composite (allOrNone) for eve#1, 5 subrequest(s):"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(block, c.want) {
				t.Fatalf("the delivery lacks %q:\n%s", c.want, block)
			}
		})
	}
	t.Run("the summary names the leg that created the Case", func(t *testing.T) {
		want := `    caller:     +14155551212, Contact "Alice Nguyen" (the Case's, from eve#2)` + "\n" +
			`    Case:       Case 00000001 joined (created by eve#2)`
		if !strings.Contains(timeline, want) {
			t.Fatalf("the summary lacks\n%s\n%s", want, timeline[strings.Index(timeline, "Summary at"):])
		}
	})
	t.Run("one Case, a Task and four steps per leg", func(t *testing.T) {
		if cases != 1 || tasks != 2 || logs != 8 {
			t.Fatalf("%d cases, %d tasks, %d logs; want 1, 2, 8", cases, tasks, logs)
		}
		if n := strings.Count(block, "search: FIND"); n != 1 {
			t.Fatalf("%d searches, want 1:\n%s", n, block)
		}
	})
}

// TestScenarioCallProblems checks the call steps' mistakes: those the file shows, with their
// paths, and those only the simulators can find.
func TestScenarioCallProblems(t *testing.T) {
	parse := []parseProblem{
		{"inbound without from and queue", `{"name": "x", "steps": [{"at": "09:00:00", "call": {"inbound": {"call": "c"}}}]}`,
			[]string{`steps[0].call.inbound.from: required: the caller's number in E.164, such as +14155551212 ("" for a withheld number)`, "steps[0].call.inbound.queue: required"}},
		{"inbound without a name", `{"name": "x", "steps": [{"at": "09:00:00", "call": {"inbound": {"from": "", "queue": "q"}}}]}`,
			[]string{"steps[0].call.inbound.call: required: a name for the call"}},
		{"a formatted number", `{"name": "x", "steps": [{"at": "09:00:00", "call": {"inbound": {"call": "c", "from": "(415) 555-1212", "queue": "q"}}}]}`,
			[]string{`steps[0].call.inbound.from: "(415) 555-1212" is not an E.164 number such as +14155551212`}},
		{"a number as a number", `{"name": "x", "steps": [{"at": "09:00:00", "call": {"inbound": {"call": "c", "from": 14155551212, "queue": "q"}}}]}`,
			[]string{"steps[0].call.inbound.from: want a string, got a number"}},
		{"unknown inbound field", `{"name": "x", "steps": [{"at": "09:00:00", "call": {"inbound": {"call": "c", "from": "", "queue": "q", "to": "+1"}}}]}`,
			[]string{`steps[0].call.inbound: unknown field "to" (want one of: call, from, queue)`}},
		{"empty call action", `{"name": "x", "steps": [{"at": "09:00:00", "call": {}}]}`,
			[]string{"steps[0].call: names no action (want one of: inbound, answer, hold, resume, transfer, hangUp, wrapUp, deliver)"}},
		{"two call actions", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "call": {"hold": "c", "resume": "c"}}]}`,
			[]string{"steps[0].call: has 2 actions (hold, resume)"}},
		{"an inbound call with an agent", `{"name": "x", "steps": [{"at": "09:00:00", "agent": "a", "call": {"inbound": {"call": "c", "from": "", "queue": "q"}}}]}`,
			[]string{"steps[0].agent: the caller calls and EventBridge delivers, not an agent; leave agent out"}},
		{"an answer without an agent", `{"name": "x", "steps": [{"at": "09:00:00", "call": {"inbound": {"call": "c", "from": "", "queue": "q"}}}, {"at": "09:01:00", "call": {"answer": "c"}}]}`,
			[]string{"steps[1].agent: required"}},
		{"a call made twice", `{"name": "x", "steps": [{"at": "09:00:00", "call": {"inbound": {"call": "c", "from": "", "queue": "q"}}}, {"at": "09:01:00", "call": {"inbound": {"call": "c", "from": "", "queue": "q"}}}]}`,
			[]string{`steps[1].call.inbound.call: a call "c" was made in an earlier step`}},
		{"a call never made", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "call": {"hangUp": "c"}}, {"at": "09:01:00", "call": {"transfer": {"call": "d", "queue": "q"}}}]}`,
			[]string{`steps[0].call.hangUp: no call "c" was made in an earlier step`, `steps[1].call.transfer.call: no call "d" was made in an earlier step`}},
		{"a transfer without a queue", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "call": {"transfer": {"call": "c"}}}]}`,
			[]string{"steps[0].call.transfer.queue: required"}},
		{"a wrap-up without a name", `{"name": "x", "agent": "a", "steps": [{"at": "09:00:00", "call": {"wrapUp": ""}}]}`,
			[]string{"steps[0].call.wrapUp: required: the name of a call made earlier"}},
		{"an unknown order", `{"name": "x", "steps": [{"at": "09:00:00", "call": {"inbound": {"call": "c", "from": "", "queue": "q"}}}, {"at": "09:01:00", "call": {"deliver": {"call": "c", "order": "shuffled"}}}]}`,
			[]string{`steps[1].call.deliver.order: unknown order "shuffled" (want emitted or reversed)`}},
		{"duplicates not a boolean", `{"name": "x", "steps": [{"at": "09:00:00", "call": {"deliver": {"call": "c", "duplicates": "yes"}}}]}`,
			[]string{"steps[0].call.deliver.duplicates: want true or false, got a string"}},
		{"a deliver step with an agent", `{"name": "x", "steps": [{"at": "09:00:00", "agent": "a", "call": {"deliver": {"call": "c"}}}]}`,
			[]string{"steps[0].agent: the caller calls and EventBridge delivers, not an agent; leave agent out"}},
	}
	checkParseProblems(t, parse)
	t.Run("the call day parses", func(t *testing.T) {
		raw, err := os.ReadFile(callDayPath)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := parseScenario(raw)
		if err != nil {
			t.Fatal(err)
		}
		if sc.Name != "call-day" || !sc.usesCalls() || sc.usesRouting() || sc.usesSessions() {
			t.Fatalf("parsed %q with %d steps", sc.Name, len(sc.Steps))
		}
	})

	const start = `{"name": "x", "agent": "ana.agent@example.com", "steps": [{"at": "09:00:00", "connect": {"login": "Available"}},
		{"at": "09:01:00", "call": {"inbound": {"call": "c", "from": "+14155551212", "queue": "BasicQueue"}}}`
	run := []struct {
		name string
		file string
		want string
	}{
		{"a queue Connect does not have", `{"name": "x", "steps": [{"at": "09:00:00", "call": {"inbound": {"call": "c", "from": "", "queue": "NoSuchQueue"}}}]}`,
			`steps[0] at 09:00:00: call.inbound.queue: Connect has no queue "NoSuchQueue" in the seed`},
		{"answering a call twice", start + `, {"at": "09:02:00", "call": {"answer": "c"}}, {"at": "09:03:00", "call": {"answer": "c"}}]}`,
			"steps[3] at 09:03:00: call c has no leg waiting in a Connect queue"},
		{"a wrap-up before the hang-up", start + `, {"at": "09:02:00", "call": {"answer": "c"}}, {"at": "09:03:00", "call": {"wrapUp": "c"}}]}`,
			"steps[3] at 09:03:00: call c#1 is CONNECTED on ana.agent@example.com: hang up (or transfer) before the wrap-up"},
		{"a hold of a call on another agent", start + `, {"at": "09:02:00", "call": {"answer": "c"}}, {"at": "09:03:00", "agent": "ben.agent@example.com", "call": {"hold": "c"}}]}`,
			"steps[3] at 09:03:00: call c has no leg on ben.agent@example.com"},
		{"a transfer to a queue Connect does not have", start + `, {"at": "09:02:00", "call": {"answer": "c"}}, {"at": "09:03:00", "call": {"transfer": {"call": "c", "queue": "Nowhere"}}}]}`,
			`steps[3] at 09:03:00: call.transfer.queue: Connect has no queue "Nowhere" in the seed`},
		{"a hold after the hang-up", start + `, {"at": "09:02:00", "call": {"answer": "c"}}, {"at": "09:03:00", "call": {"hangUp": "c"}}, {"at": "09:04:00", "call": {"hold": "c"}}]}`,
			"steps[4] at 09:04:00: call c#1 is ENDED on ana.agent@example.com, not connected"},
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
}
