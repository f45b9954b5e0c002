package calllogsync_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/calllog"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/connect"
	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
	"github.com/omnibridge/omnibridge/shared/screenpop"
)

var enabled = config.CallLogging{Enabled: true}

// TestMatching places one call per case through connectsim and checks what sfsim holds after
// its events: the Contact matched or created, the Case, the step log and the Task.
func TestMatching(t *testing.T) {
	tests := []struct {
		name     string
		cfg      config.CallLogging
		seed     []map[string]any // Contacts in the org before the call
		leads    []map[string]any
		caller   string
		noSearch bool
		// want: the index of the seeded Contact on the Case, -1 for a new Contact, -2 for none
		want       int
		newLead    bool
		nothing    bool // withheld: no Case at all
		auditCheck string
	}{
		{name: "E.164 caller, Phone stored formatted", cfg: enabled, seed: []map[string]any{{"LastName": "Rivera", "Phone": "(415) 555-1212"}},
			caller: "+14155551212", want: 0, auditCheck: "one Contact has the number"},
		{name: "E.164 caller, Phone stored as E.164", cfg: enabled, seed: []map[string]any{{"LastName": "Rivera", "Phone": "+14155551212"}},
			caller: "+14155551212", want: 0},
		{name: "mobile, not phone", cfg: enabled, seed: []map[string]any{{"LastName": "Okafor", "Phone": "+14155550000", "MobilePhone": "415.555.1313"}},
			caller: "+14155551313", want: 0},
		{name: "no match creates a Contact", cfg: enabled, seed: []map[string]any{{"LastName": "Other", "Phone": "+14155550000"}},
			caller: "+14155551414", want: -1, auditCheck: "a Contact is created"},
		{name: "no match creates a Lead", cfg: config.CallLogging{Enabled: true, OnNoMatch: config.OnNoMatchCreateLead},
			caller: "+14155551414", want: -2, newLead: true},
		{name: "no match and onNoMatch none", cfg: config.CallLogging{Enabled: true, OnNoMatch: config.OnNoMatchNone},
			caller: "+14155551414", want: -2},
		{name: "several: most recently modified", cfg: enabled,
			seed:   []map[string]any{{"LastName": "Old", "Phone": "4155551515", "LastModifiedDate": "2024-01-01T00:00:00.000+0000"}, {"LastName": "New", "MobilePhone": "+1 (415) 555-1515", "LastModifiedDate": "2026-01-01T00:00:00.000+0000"}},
			caller: "+14155551515", want: 1, auditCheck: "most recently modified"},
		{name: "several: tie-break none", cfg: config.CallLogging{Enabled: true, TieBreak: config.TieBreakNone},
			seed:   []map[string]any{{"LastName": "A", "Phone": "4155551616"}, {"LastName": "B", "Phone": "(415) 555-1616"}},
			caller: "+14155551616", want: -2, auditCheck: "tieBreak is none"},
		{name: "withheld number", cfg: enabled, caller: "", nothing: true, auditCheck: "no customer endpoint"},
		{name: "anonymous number", cfg: enabled, caller: "anonymous", nothing: true, auditCheck: "withheld or anonymous"},
		{name: "international caller in a US contact center", cfg: enabled, seed: []map[string]any{{"LastName": "Dupont", "Phone": "+33 1 42 68 53 00"}},
			caller: "+33142685300", want: 0},
		{name: "UK caller, international format stored", cfg: config.CallLogging{Enabled: true, DefaultRegion: "GB"},
			seed: []map[string]any{{"LastName": "Smith", "Phone": "+44 20 7946 0018"}}, caller: "+442079460018", want: 0},
		{name: "search off: UK national format stored", cfg: config.CallLogging{Enabled: true, DefaultRegion: "GB"}, noSearch: true,
			seed: []map[string]any{{"LastName": "Smith", "Phone": "020 7946 0018"}}, caller: "+442079460018", want: 0},
		{name: "search off: SOQL on Phone variants", cfg: enabled, noSearch: true,
			seed: []map[string]any{{"LastName": "Rivera", "Phone": "(415) 555-1212"}}, caller: "+14155551212", want: 0, auditCheck: "SOSL is not available"},
		{name: "search off: SOQL on MobilePhone", cfg: enabled, noSearch: true,
			seed: []map[string]any{{"LastName": "Rivera", "MobilePhone": "415-555-1717"}}, caller: "+14155551717", want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, rigOptions{cfg: tc.cfg})
			var seeded []string
			for _, c := range tc.seed {
				id, err := r.org.Insert("Contact", c)
				must(t, err)
				seeded = append(seeded, id)
			}
			r.org.DisableSearch(tc.noSearch)
			id, evs := r.call(tc.caller, 0, 20*time.Second, 3*time.Minute, 40*time.Second)
			r.org.Reset()
			r.deliver(1, evs...)
			used := r.org.APIUsage()
			cases := r.records("Case", "Description", "Amazon Connect contact "+id)
			logs := r.records(calllog.LogObject, "Connect_Contact_Id__c", id)
			tasks := r.records("Task", "CallObject", id)
			if tc.auditCheck != "" {
				checkAudit(t, r, id, tc.auditCheck)
			}
			if tc.nothing {
				if len(cases)+len(logs)+len(tasks) != 0 || r.org.Count("Contact") != len(tc.seed) || used != 0 {
					t.Fatalf("withheld call wrote to Salesforce: %d cases, %d logs, %d tasks, %d API calls", len(cases), len(logs), len(tasks), used)
				}
				return
			}
			if len(cases) != 1 || len(logs) != 4 || len(tasks) != 1 {
				t.Fatalf("%d cases, %d logs, %d tasks; want 1, 4, 1", len(cases), len(logs), len(tasks))
			}
			c := cases[0]
			switch {
			case tc.want >= 0:
				if c["ContactId"] != seeded[tc.want] {
					t.Fatalf("Case.ContactId = %v, want seeded contact %d (%s)", c["ContactId"], tc.want, seeded[tc.want])
				}
			case tc.want == -1:
				who, ok := c["ContactId"].(string)
				_, f, found := r.org.Record(who)
				if !ok || !found || f["Phone"] != tc.caller || f["LastName"] != config.DefaultNewContactLastName {
					t.Fatalf("Case.ContactId = %v (%v), want a new Contact with Phone %s", c["ContactId"], f, tc.caller)
				}
			default:
				if c["ContactId"] != nil {
					t.Fatalf("Case.ContactId = %v, want none", c["ContactId"])
				}
			}
			if tc.newLead {
				leads := r.records("Lead", "Phone", tc.caller)
				if len(leads) != 1 || tasks[0]["WhoId"] != leads[0]["Id"] || tasks[0]["WhatId"] != nil {
					t.Fatalf("leads %v, task %v: want one Lead as the Task's WhoId and no WhatId", leads, tasks[0])
				}
			}
			if c["OwnerId"] != agentSFUser || c["Origin"] != "Phone" || c["SuppliedPhone"] != tc.caller {
				t.Fatalf("Case = %v, want owner %s, origin Phone, supplied phone %s", c, agentSFUser, tc.caller)
			}
			// An org without search costs one refused search, once per warm container.
			if limit := 3 + btoi(tc.noSearch); used > limit {
				t.Fatalf("%d Salesforce API calls for one connected call, want at most %d (%v)", used, limit, kinds(r))
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func kinds(r *rig) []string {
	var out []string
	for _, q := range r.org.Requests() {
		out = append(out, q.Method+" "+q.Path)
	}
	return out
}

func checkAudit(t *testing.T, r *rig, contactID, fragment string) {
	t.Helper()
	page, err := r.store.QueryAudit(r.ctx, audit.Query{Subject: audit.Subject(audit.KindContact, contactID), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range page.Entries {
		if strings.Contains(e.Message, fragment) {
			return
		}
		msgs = append(msgs, e.Outcome+": "+e.Message)
	}
	t.Fatalf("no audit entry under contact/%s mentions %q:\n%s", contactID, fragment, strings.Join(msgs, "\n"))
}

// TestStepLog checks every step record and the Task of a call against the simulated clock.
func TestStepLog(t *testing.T) {
	r := newRig(t, rigOptions{cfg: enabled, agents: 2})
	id, err := r.cn.Call(connectNewCall("+14155551212"))
	must(t, err)
	r.clock.Advance(20 * time.Second)
	must(t, r.cn.RouteContact(id, agentID(0)))
	must(t, r.cn.Accept(id))
	must(t, r.cn.Connect(id))
	r.clock.Advance(time.Minute)
	must(t, r.cn.Hold(id))
	r.clock.Advance(25 * time.Second)
	must(t, r.cn.Resume(id))
	r.clock.Advance(95 * time.Second)
	must(t, r.cn.End(id))
	r.clock.Advance(40 * time.Second)
	must(t, r.cn.Clear(id))
	r.deliver(1, r.events(id)...)
	logs := r.records(calllog.LogObject, "Connect_Contact_Id__c", id)
	want := map[string]struct {
		step    string
		seconds float64
		agent   bool
	}{
		id + ":queued":    {"Queued", 20, false},
		id + ":connected": {"Connected to agent", 180, true},
		id + ":hold":      {"On hold", 25, true},
		id + ":acw":       {"After-contact work", 40, true},
		id + ":completed": {"Completed", 240, false},
	}
	if len(logs) != len(want) {
		t.Fatalf("%d log records, want %d: %v", len(logs), len(want), logs)
	}
	cases := r.records("Case", "Description", "Amazon Connect contact "+id)
	for _, l := range logs {
		w, ok := want[l["Step_Key__c"].(string)]
		if !ok {
			t.Fatalf("unexpected step record %v", l)
		}
		timed := w.step != "On hold" // Connect reports a hold as a total only
		if l["Step__c"] != w.step || l["Duration_Seconds__c"] != w.seconds || l["Case__c"] != cases[0]["Id"] || (l["Started_At__c"] != nil) != timed || (l["Ended_At__c"] != nil) != timed {
			t.Errorf("record %s = %v, want step %q of %v s on the Case", l["Step_Key__c"], l, w.step, w.seconds)
		}
		if got := l["Agent_User__c"]; (got == agentSFUser) != w.agent {
			t.Errorf("record %s Agent_User__c = %v, want agent %v", l["Step_Key__c"], got, w.agent)
		}
	}
	tasks := r.records("Task", "CallObject", id)
	tk := tasks[0]
	if tk["TaskSubtype"] != "Call" || tk["CallType"] != "Inbound" || tk["CallDurationInSeconds"] != float64(180) ||
		tk["WhatId"] != cases[0]["Id"] || tk["WhoId"] != cases[0]["ContactId"] || tk["Status"] != "Completed" {
		t.Fatalf("Task = %v", tk)
	}
	t.Run("the screen pop went to the agent's user once, for the Case", func(t *testing.T) {
		var pops []map[string]any
		for _, e := range r.org.Events() {
			if e.Type == screenpop.Event {
				pops = append(pops, e.Fields)
			}
		}
		if len(pops) != 1 || pops[0][screenpop.FieldUserID] != agentSFUser || pops[0][screenpop.FieldRecordID] != cases[0]["Id"] ||
			pops[0][screenpop.FieldPopID] != calllog.PopID(id) || pops[0][screenpop.FieldReason] != screenpop.ReasonCall {
			t.Fatalf("pops = %v", pops)
		}
	})
	t.Run("an unlinked agent gets no pop and the reason is audited", func(t *testing.T) {
		r.org.ClearEvents()
		id2, evs := r.call("+14155559999", 1, time.Second, time.Minute, 0)
		r.deliver(1, evs...)
		for _, e := range r.org.Events() {
			if e.Type == screenpop.Event {
				t.Fatalf("pop for an unlinked agent: %v", e.Fields)
			}
		}
		checkAudit(t, r, id2, "no linked Salesforce user")
	})
}

// TestTransfer: a call transferred to a second queue and agent is one Case with both legs'
// steps and a Task per leg, whichever leg's events arrive first.
func TestTransfer(t *testing.T) {
	for _, secondFirst := range []bool{false, true} {
		name := "first leg's events first"
		if secondFirst {
			name = "second leg's events first"
		}
		t.Run(name, func(t *testing.T) {
			r := newRig(t, rigOptions{cfg: enabled, agents: 2})
			first, err := r.cn.Call(connectNewCall("+14155551212"))
			must(t, err)
			r.clock.Advance(10 * time.Second)
			must(t, r.cn.RouteContact(first, agentID(0)))
			must(t, r.cn.Accept(first))
			must(t, r.cn.Connect(first))
			r.clock.Advance(time.Minute)
			second, err := r.cn.Transfer(first, "Billing")
			must(t, err)
			r.clock.Advance(5 * time.Second)
			must(t, r.cn.Clear(first))
			r.answer(second, 1, 15*time.Second, 2*time.Minute, 30*time.Second)
			evs := append(r.events(first), r.events(second)...)
			creator, joiner := first, second
			if secondFirst {
				evs = append(r.events(second), r.events(first)...)
				creator, joiner = second, first
			}
			r.deliver(3, evs...)
			cases := r.records("Case", "Origin", "Phone")
			if len(cases) != 1 {
				t.Fatalf("%d cases, want 1", len(cases))
			}
			logs := r.records(calllog.LogObject, "Case__c", cases[0]["Id"])
			keys := map[string]bool{}
			for _, l := range logs {
				keys[l["Step_Key__c"].(string)] = true
			}
			for _, k := range []string{first + ":queued", first + ":connected", first + ":completed",
				second + ":queued", second + ":connected", second + ":acw", second + ":completed"} {
				if !keys[k] {
					t.Errorf("missing step %s in %v", k, keys)
				}
			}
			if tasks := r.records("Task", "WhatId", cases[0]["Id"]); len(tasks) != 2 {
				t.Fatalf("%d tasks on the case, want one per leg", len(tasks))
			}
			if n := r.org.Count("Contact"); n != 1 {
				t.Fatalf("%d Contacts for one caller, want 1", n)
			}
			checkAudit(t, r, creator, "created Case")
			checkAudit(t, r, joiner, "joins")
		})
	}
}

// TestEveryOrder delivers the sample call's five events (events/contact-events) in all 120
// orders, each with every event delivered a second time, each as a fresh contact: the logs and
// durations are identical every time, and no order costs more than 3 Salesforce calls.
func TestEveryOrder(t *testing.T) {
	files := []string{"voice-inbound-initiated.json", "voice-inbound-queued.json", "voice-inbound-connected-to-agent.json",
		"voice-inbound-disconnected.json", "voice-inbound-completed-after-acw.json"}
	const sampleContact = "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"
	raws := make([]string, len(files))
	for i, f := range files {
		raws[i] = string(sample(t, f))
	}
	fc := &fakeConnect{contacts: map[string]connect.ContactInfo{}}
	r := newRig(t, rigOptions{cfg: enabled, connect: fc})
	var reference string
	n := 0
	permutations(len(raws), func(order []int) {
		n++
		contact := fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
		fc.mu.Lock()
		fc.contacts[contact] = connect.ContactInfo{ID: contact, Channel: "VOICE", Customer: connect.Endpoint{Address: "+14155551212", Type: "TELEPHONE_NUMBER"}}
		fc.mu.Unlock()
		var batch [][]byte
		for i, idx := range order {
			ev := strings.ReplaceAll(raws[idx], sampleContact, contact)
			// Event ids are per contact, so the same sample event is new for each contact.
			ev = strings.Replace(ev, `"id": "`, `"id": "`+contact+`-`, 1)
			batch = append(batch, []byte(ev))
			// A duplicate of an earlier event follows each one.
			dup := strings.ReplaceAll(raws[order[i/2]], sampleContact, contact)
			batch = append(batch, []byte(strings.Replace(dup, `"id": "`, `"id": "`+contact+`-`, 1)))
		}
		before := r.org.APIUsage()
		r.deliver(2, batch...)
		if used := r.org.APIUsage() - before; used > 3 {
			t.Errorf("order %v: %d Salesforce calls, want at most 3", order, used)
		}
		got := logSummary(t, r, contact)
		if reference == "" {
			reference = got
			t.Logf("log of every order:\n%s", got)
		} else if got != reference {
			t.Fatalf("order %v: log differs:\n%s\nwant\n%s", order, got, reference)
		}
	})
	if n != 120 || r.org.Count("Case") != 120 || r.org.Count("Task") != 120 || r.org.Count(calllog.LogObject) != 120*5 {
		t.Fatalf("%d orders: %d cases, %d tasks, %d logs; want 120, 120, 600", n, r.org.Count("Case"), r.org.Count("Task"), r.org.Count(calllog.LogObject))
	}
}

// logSummary renders a contact's step records and Task without ids, for comparison.
func logSummary(t *testing.T, r *rig, contact string) string {
	t.Helper()
	var b strings.Builder
	for _, l := range r.records(calllog.LogObject, "Connect_Contact_Id__c", contact) {
		fmt.Fprintf(&b, "%s %v %v..%v %vs agent=%v\n", strings.TrimPrefix(l["Step_Key__c"].(string), contact), l["Step__c"],
			l["Started_At__c"], l["Ended_At__c"], l["Duration_Seconds__c"], l["Agent_User__c"])
	}
	for _, tk := range r.records("Task", "CallObject", contact) {
		js, _ := json.Marshal(map[string]any{"type": tk["CallType"], "seconds": tk["CallDurationInSeconds"], "subtype": tk["TaskSubtype"]})
		fmt.Fprintf(&b, "task %s\n", js)
	}
	cases := r.records("Case", "Description", "Amazon Connect contact "+contact)
	fmt.Fprintf(&b, "cases %d\n", len(cases))
	return b.String()
}

func permutations(n int, f func([]int)) {
	a := make([]int, n)
	for i := range a {
		a[i] = i
	}
	var rec func(k int)
	rec = func(k int) {
		if k == n {
			f(append([]int(nil), a...))
			return
		}
		for i := k; i < n; i++ {
			a[k], a[i] = a[i], a[k]
			rec(k + 1)
			a[k], a[i] = a[i], a[k]
		}
	}
	rec(0)
}

// TestRefusedPopAndTask: an org that refuses the screen pop or the Task for good (a validation
// rule here) still gets the Case and the complete step log; the refusal is audited.
func TestRefusedPopAndTask(t *testing.T) {
	tests := []struct {
		name, object, audit string
		wantTasks, wantPops int
	}{
		{"pop refused", screenpop.Event, "refused the screen pop", 1, 0},
		{"task refused", "Task", "refused the call Task", 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, rigOptions{cfg: enabled})
			r.org.AddValidationRule(tc.object, func(map[string]any) *sfsim.Error {
				return &sfsim.Error{Code: "FIELD_CUSTOM_VALIDATION_EXCEPTION", Message: "not from the integration user"}
			})
			id, evs := r.call("+14155551212", 0, 10*time.Second, time.Minute, 10*time.Second)
			r.deliver(1, evs...)
			cases := r.records("Case", "Description", "Amazon Connect contact "+id)
			logs := r.records(calllog.LogObject, "Connect_Contact_Id__c", id)
			tasks := r.records("Task", "CallObject", id)
			pops := 0
			for _, e := range r.org.Events() {
				if e.Type == screenpop.Event {
					pops++
				}
			}
			if len(cases) != 1 || len(logs) != 4 || len(tasks) != tc.wantTasks || pops != tc.wantPops {
				t.Fatalf("%d cases, %d logs, %d tasks, %d pops; want 1, 4, %d, %d", len(cases), len(logs), len(tasks), pops, tc.wantTasks, tc.wantPops)
			}
			checkAudit(t, r, id, tc.audit)
		})
	}
}

// TestAttachWindow: with case.attachWindowMinutes, a call from a Contact with an open Case
// created within the window joins that Case; an older or closed Case does not count.
func TestAttachWindow(t *testing.T) {
	tests := []struct {
		name    string
		age     time.Duration
		status  string
		attach  bool
		minutes int
	}{
		{"open case within the window", 10 * time.Minute, "New", true, 30},
		{"open case older than the window", 2 * time.Hour, "New", false, 30},
		{"closed case within the window", 10 * time.Minute, "Closed", false, 30},
		{"window off", 10 * time.Minute, "New", false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.CallLogging{Enabled: true, Case: config.CallCase{AttachWindowMinutes: tc.minutes}}
			r := newRig(t, rigOptions{cfg: cfg})
			who, err := r.org.Insert("Contact", map[string]any{"LastName": "Rivera", "Phone": "(415) 555-1212"})
			must(t, err)
			open, err := r.org.Insert("Case", map[string]any{"ContactId": who, "Status": tc.status, "Subject": "Earlier call",
				"CreatedDate": time.Now().Add(-tc.age).UTC().Format("2006-01-02T15:04:05.000Z")})
			must(t, err)
			id, evs := r.call("+14155551212", 0, 10*time.Second, time.Minute, 10*time.Second)
			r.org.Reset()
			r.deliver(1, evs...)
			logs := r.records(calllog.LogObject, "Connect_Contact_Id__c", id)
			if len(logs) != 4 {
				t.Fatalf("%d logs", len(logs))
			}
			attached := logs[0]["Case__c"] == open
			if attached != tc.attach || r.org.Count("Case") != 2-btoi(tc.attach) {
				t.Fatalf("logs on %v (earlier case %s), %d cases; want attached %v", logs[0]["Case__c"], open, r.org.Count("Case"), tc.attach)
			}
			if tc.attach {
				checkAudit(t, r, id, "joins the Contact's open Case")
			}
		})
	}
}
