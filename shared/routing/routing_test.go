package routing_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/contactevent"
	"github.com/omnibridge/omnibridge/shared/routing"
	"github.com/omnibridge/omnibridge/shared/sfevents"
)

const (
	caseID     = "5005e00000AbCdEAAV"
	tierA      = "00G5e000001QueUEAS" // monitored: Support_Tier_A
	tierB      = "00G5e000001BackEAC" // monitored: Support_Tier_B
	unwatched  = "00G5e000001OtheEAA"
	agentUser  = "0055e000004AgntAAC"
	otherUser  = "0055e000003AbCdAAK"
	taskContac = "d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f70"
)

func queues(id string) (string, bool) {
	switch id {
	case tierA:
		return "Support_Tier_A", true
	case tierB:
		return "Support_Tier_B", true
	}
	return "", false
}

func routingConfig() config.Routing {
	return config.Routing{Enabled: true, AutoDisconnectOnReply: true, Queues: []config.RoutingQueue{
		{SalesforceQueue: "Support_Tier_A", ConnectQueueID: "qa", ContactFlowID: "flow"},
		{SalesforceQueue: "Support_Tier_B", ConnectQueueID: "qb", ContactFlowID: "flow", Priority: 2},
	}}.WithDefaults()
}

func event(typ sfevents.CaseType, owner string, mod func(*sfevents.CaseEvent)) sfevents.CaseEvent {
	e := sfevents.CaseEvent{ID: "ev1", Type: typ, CaseID: caseID, CaseNumber: "00001026", Status: "New", OwnerID: owner,
		ActorID: otherUser, Date: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	if mod != nil {
		mod(&e)
	}
	return e
}

func entry(state routing.State, mod func(*routing.Entry)) *routing.Entry {
	e := &routing.Entry{CaseID: caseID, State: state, Queue: "Support_Tier_A", ContactID: taskContac, Tasks: 1}
	if mod != nil {
		mod(e)
	}
	return e
}

func TestDecideCase(t *testing.T) {
	prev := func(owner string) func(*sfevents.CaseEvent) {
		return func(e *sfevents.CaseEvent) { e.PreviousOwnerID = owner }
	}
	tests := []struct {
		name      string
		ev        sfevents.CaseEvent
		entry     *routing.Entry
		cfg       func(*config.Routing)
		want      routing.Action
		reason    string
		queue     string
		stopFirst bool
		detailHas string
	}{
		// The five reasons.
		{name: "new case in a monitored queue", ev: event(sfevents.CaseCreated, tierA, nil), want: routing.ActionRoute, reason: config.TriggerCreated, queue: "Support_Tier_A"},
		{name: "owner changed from a user to a monitored queue", ev: event(sfevents.CaseOwnerChanged, tierA, prev(agentUser)), want: routing.ActionRoute, reason: config.TriggerOwnerChanged, queue: "Support_Tier_A"},
		{name: "queue changed to a monitored queue", ev: event(sfevents.CaseOwnerChanged, tierB, prev(unwatched)), want: routing.ActionRoute, reason: config.TriggerQueueChanged, queue: "Support_Tier_B"},
		{name: "queue changed with a live task elsewhere stops it first", ev: event(sfevents.CaseOwnerChanged, tierB, prev(tierA)), entry: entry(routing.StateRouted, nil),
			want: routing.ActionRoute, reason: config.TriggerQueueChanged, queue: "Support_Tier_B", stopFirst: true},
		{name: "comment by someone other than the owner", ev: event(sfevents.CaseCommentAdded, agentUser, nil), entry: entry(routing.StateCompleted, nil),
			want: routing.ActionRoute, reason: config.TriggerComment, queue: "Support_Tier_A"},
		{name: "customer email on a case in a monitored queue", ev: event(sfevents.CaseEmailAdded, tierB, func(e *sfevents.CaseEvent) { e.Incoming = true }),
			want: routing.ActionRoute, reason: config.TriggerCustomerEmail, queue: "Support_Tier_B"},
		{name: "customer email on a case an agent owns goes to its last queue", ev: event(sfevents.CaseEmailAdded, agentUser, func(e *sfevents.CaseEvent) { e.Incoming = true }),
			entry: entry(routing.StateCompleted, nil), want: routing.ActionRoute, reason: config.TriggerCustomerEmail, queue: "Support_Tier_A"},

		// Non-reasons.
		{name: "new case in an unmonitored queue", ev: event(sfevents.CaseCreated, unwatched, nil), want: routing.ActionIgnore, detailHas: "not a monitored queue"},
		{name: "new case owned by a user", ev: event(sfevents.CaseCreated, agentUser, nil), want: routing.ActionIgnore, detailHas: "not a monitored queue"},
		{name: "replayed created event with a live task", ev: event(sfevents.CaseCreated, tierA, nil), entry: entry(routing.StateRouted, nil), want: routing.ActionIgnore, detailHas: "already has a task"},
		{name: "owner change to the task's agent (accept echo)", ev: event(sfevents.CaseOwnerChanged, agentUser, prev(tierA)),
			entry: entry(routing.StateConnected, func(e *routing.Entry) { e.AgentUserID = agentUser }), want: routing.ActionIgnore, detailHas: "agent of the case's task"},
		{name: "owner change to another user", ev: event(sfevents.CaseOwnerChanged, otherUser, prev(tierA)), want: routing.ActionIgnore, detailHas: "is a user"},
		{name: "owner change to an unmonitored queue", ev: event(sfevents.CaseOwnerChanged, unwatched, prev(agentUser)), want: routing.ActionIgnore, detailHas: "not monitored"},
		{name: "move to the same queue as the live task", ev: event(sfevents.CaseOwnerChanged, tierA, prev(agentUser)), entry: entry(routing.StateRouted, nil), want: routing.ActionIgnore, detailHas: "already has a task"},
		{name: "comment by the owner without a live task", ev: event(sfevents.CaseCommentAdded, agentUser, func(e *sfevents.CaseEvent) { e.ByOwner = true }), want: routing.ActionIgnore, detailHas: "by the case owner"},
		{name: "comment on a case never routed and not in a queue", ev: event(sfevents.CaseCommentAdded, agentUser, nil), want: routing.ActionIgnore, detailHas: "neither in a monitored queue"},
		{name: "customer email while a task is live", ev: event(sfevents.CaseEmailAdded, agentUser, func(e *sfevents.CaseEvent) { e.Incoming = true }), entry: entry(routing.StateConnected, nil),
			want: routing.ActionIgnore, detailHas: "already has a task"},
		{name: "outgoing email without auto-disconnect", ev: event(sfevents.CaseEmailAdded, agentUser, nil), entry: entry(routing.StateConnected, nil),
			cfg: func(c *config.Routing) { c.AutoDisconnectOnReply = false }, want: routing.ActionIgnore, detailHas: "outgoing email"},
		{name: "trigger turned off", ev: event(sfevents.CaseCreated, tierA, nil), cfg: func(c *config.Routing) { c.Triggers = []string{config.TriggerCustomerEmail} },
			want: routing.ActionIgnore, detailHas: `trigger "created" is not enabled`},
		{name: "closed case without a task", ev: event(sfevents.CaseCreated, tierA, func(e *sfevents.CaseEvent) { e.IsClosed = true }), want: routing.ActionIgnore, detailHas: "closed"},

		// Stops.
		{name: "agent replies by email (auto-disconnect)", ev: event(sfevents.CaseEmailAdded, agentUser, nil), entry: entry(routing.StateConnected, nil), want: routing.ActionStop, detailHas: "outgoing email"},
		{name: "owner comments (auto-disconnect)", ev: event(sfevents.CaseCommentAdded, agentUser, func(e *sfevents.CaseEvent) { e.ByOwner = true }), entry: entry(routing.StateConnected, nil),
			want: routing.ActionStop, detailHas: "owner commented"},
		{name: "case moved to an unmonitored queue with a live task", ev: event(sfevents.CaseOwnerChanged, unwatched, prev(tierA)), entry: entry(routing.StateRouted, nil), want: routing.ActionStop},
		{name: "case closed with a live task", ev: event(sfevents.CaseOwnerChanged, agentUser, func(e *sfevents.CaseEvent) { e.IsClosed = true; e.PreviousOwnerID = tierA }),
			entry: entry(routing.StateRouted, nil), want: routing.ActionStop, detailHas: "closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := routingConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			d := routing.DecideCase(tt.ev, tt.entry, cfg, queues)
			if d.Action != tt.want || d.Reason != tt.reason || d.Queue.SalesforceQueue != tt.queue || d.StopFirst != tt.stopFirst {
				t.Fatalf("decision = %+v, want %s %q %q stopFirst=%v", d, tt.want, tt.reason, tt.queue, tt.stopFirst)
			}
			if !strings.Contains(d.Detail, tt.detailHas) {
				t.Errorf("detail %q lacks %q", d.Detail, tt.detailHas)
			}
			if d.Action == routing.ActionRoute && d.Key != caseID+"/"+string(tt.ev.Type)+"/ev1" {
				t.Errorf("key = %q", d.Key)
			}
		})
	}
}

func TestParseSkills(t *testing.T) {
	known := func(s string) bool { return s == "Billing" || s == "Spanish" || s == "Tier 2" }
	tests := []struct {
		name, raw string
		want      []string
		errHas    string
	}{
		{name: "empty means no skills", raw: ""},
		{name: "blank means no skills", raw: "   "},
		{name: "one skill", raw: "Billing", want: []string{"Billing"}},
		{name: "several skills", raw: "Billing;Spanish", want: []string{"Billing", "Spanish"}},
		{name: "inner spaces are part of the name", raw: "Tier 2;Billing", want: []string{"Tier 2", "Billing"}},
		{name: "a repeated skill counts once", raw: "Billing;Billing", want: []string{"Billing"}},
		{name: "leading space", raw: "Billing; Spanish", errHas: "starts with a space"},
		{name: "trailing space", raw: "Billing ;Spanish", errHas: "ends with a space"},
		{name: "pipe", raw: "Billing|Spanish", errHas: `"|"`},
		{name: "empty element", raw: "Billing;;Spanish", errHas: "skill 2 is empty"},
		{name: "trailing semicolon", raw: "Billing;", errHas: "skill 2 is empty"},
		{name: "too long", raw: strings.Repeat("a;", 128), errHas: "at most 255 characters"},
		{name: "unknown to Connect", raw: "Billing;French;billing", errHas: `no skill "French", "billing"`},
		{name: "name longer than Connect allows", raw: strings.Repeat("x", 65), errHas: "longer than Connect's 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := routing.ParseSkills(tt.raw, known)
			if tt.errHas != "" {
				var se *routing.SkillsError
				if !errors.As(err, &se) || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("err = %v, want a SkillsError with %q", err, tt.errHas)
				}
				return
			}
			if err != nil || strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("= %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestBuildTask(t *testing.T) {
	cfg := routingConfig()
	spec, err := routing.BuildTask(routing.Case{ID: caseID, Number: "00001026", Subject: "Refund not received", Priority: "High"},
		config.TriggerCreated, cfg.Queues[1], []string{"Billing", "Spanish"}, cfg, "https://example.my.salesforce.com/lightning/r/Case/"+caseID+"/view")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		routing.AttrCaseID: caseID, routing.AttrCaseNumber: "00001026", routing.AttrCasePriority: "High", routing.AttrQueuePriority: "2",
		routing.AttrSkills: "Billing;Spanish", routing.AttrReason: "created",
		routing.AttrRoutingCriteria: `{"Steps":[{"Expression":{"AndExpression":[` +
			`{"AttributeCondition":{"Name":"Skill","Value":"Billing","ProficiencyLevel":1,"ComparisonOperator":"NumberGreaterOrEqualTo"}},` +
			`{"AttributeCondition":{"Name":"Skill","Value":"Spanish","ProficiencyLevel":1,"ComparisonOperator":"NumberGreaterOrEqualTo"}}]}}]}`,
	}
	if spec.Name != "Case 00001026: Refund not received" || len(spec.Attributes) != len(want) {
		t.Fatalf("spec = %+v", spec)
	}
	for k, v := range want {
		if spec.Attributes[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, spec.Attributes[k], v)
		}
	}
	one, _ := routing.BuildTask(routing.Case{ID: caseID, Number: "1", Subject: strings.Repeat("é", 600)}, config.TriggerCreated, cfg.Queues[0], []string{"Billing"}, cfg, "")
	if n := len([]rune(one.Name)); n != 512 {
		t.Errorf("long name has %d characters, want 512", n)
	}
	if !strings.HasPrefix(one.Attributes[routing.AttrRoutingCriteria], `{"Steps":[{"Expression":{"AttributeCondition"`) {
		t.Errorf("one skill should be a bare condition: %s", one.Attributes[routing.AttrRoutingCriteria])
	}
	if _, ok := one.Attributes[routing.AttrQueuePriority]; ok {
		t.Error("queue without priority sets omnibridgeQueuePriority")
	}
}

func loadContactEvent(t *testing.T, name, contactID string, mod func(*contactevent.Event)) contactevent.Event {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../events/contact-events", name))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := contactevent.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	ev.Detail.ContactID = contactID
	if mod != nil {
		mod(&ev)
	}
	return ev
}

func TestApplyContactEvent(t *testing.T) {
	connected := func(t *testing.T) contactevent.Event {
		return loadContactEvent(t, "task-connected-to-agent-routing-criteria.json", taskContac, nil)
	}
	unanswered := func(t *testing.T) contactevent.Event {
		return loadContactEvent(t, "task-disconnected-unanswered.json", taskContac, nil)
	}
	answered := func(t *testing.T) contactevent.Event {
		return loadContactEvent(t, "task-disconnected-unanswered.json", taskContac, func(ev *contactevent.Event) {
			at := time.Date(2024, 3, 12, 9, 16, 12, 0, time.UTC)
			ev.Detail.Agent = &contactevent.AgentInfo{ARN: "arn:aws:connect:us-east-1:123456789012:instance/x/agent/agent-1", ConnectedToAgentTimestamp: &at}
		})
	}
	tests := []struct {
		name   string
		state  routing.State
		prior  int
		cfg    func(*config.Routing)
		ev     func(t *testing.T) contactevent.Event
		want   routing.State
		effect routing.Effect
	}{
		{name: "routed task accepted", state: routing.StateRouted, ev: connected, want: routing.StateConnected,
			effect: routing.Effect{Changed: true, Connected: true, Status: "Connected"}},
		{name: "accepted before the routed write landed", state: routing.StateRouting, ev: connected, want: routing.StateConnected,
			effect: routing.Effect{Changed: true, Connected: true, Status: "Connected"}},
		{name: "accepted task disconnected", state: routing.StateConnected, ev: unanswered, want: routing.StateCompleted, effect: routing.Effect{Changed: true, Status: "Completed"}},
		{name: "disconnect with agent info seen before the connect", state: routing.StateRouted, ev: answered, want: routing.StateCompleted, effect: routing.Effect{Changed: true, Status: "Completed"}},
		{name: "unanswered is routed again", state: routing.StateRouted, ev: unanswered, want: routing.StateFailed,
			effect: routing.Effect{Changed: true, Reroute: true, RerouteKey: caseID + "/unanswered/" + taskContac}},
		{name: "unanswered past maxReroutes is marked", state: routing.StateRouted, prior: 3, ev: unanswered, want: routing.StateFailed,
			effect: routing.Effect{Changed: true, Status: "Failed: unanswered"}},
		{name: "unanswered with onUnanswered mark", state: routing.StateRouted, cfg: func(c *config.Routing) { c.OnUnanswered = config.UnansweredMark }, ev: unanswered,
			want: routing.StateFailed, effect: routing.Effect{Changed: true, Status: "Failed: unanswered"}},
		{name: "connect after completion changes nothing", state: routing.StateCompleted, ev: connected, want: routing.StateCompleted},
		{name: "disconnect after the bridge stopped the task", state: routing.StateStopped, ev: unanswered, want: routing.StateStopped},
		{name: "an initiated event changes nothing", state: routing.StateRouted, ev: func(t *testing.T) contactevent.Event {
			return loadContactEvent(t, "task-initiated.json", taskContac, nil)
		}, want: routing.StateRouted},
		{name: "an event of an earlier task changes nothing", state: routing.StateRouted, ev: func(t *testing.T) contactevent.Event {
			return loadContactEvent(t, "task-connected-to-agent-routing-criteria.json", "old-contact", nil)
		}, want: routing.StateRouted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := routingConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			e := entry(tt.state, func(e *routing.Entry) { e.Unanswered = tt.prior })
			eff := routing.ApplyContactEvent(e, tt.ev(t), cfg)
			eff.Detail = ""
			if e.State != tt.want || eff != tt.effect {
				t.Fatalf("state %s, effect %+v; want %s, %+v", e.State, eff, tt.want, tt.effect)
			}
			if eff.Connected && e.AgentID != "3f6c2a1e-8b4d-4c7e-9a2f-1d5e7b9c0a11" {
				t.Errorf("agent = %q", e.AgentID)
			}
		})
	}
}

// TestApplyContactEventAnyOrder delivers a task's events in every order, each twice: the entry
// ends the same way every time.
func TestApplyContactEventAnyOrder(t *testing.T) {
	evs := []contactevent.Event{
		loadContactEvent(t, "task-initiated.json", taskContac, nil),
		loadContactEvent(t, "task-connected-to-agent-routing-criteria.json", taskContac, nil),
		loadContactEvent(t, "task-disconnected-unanswered.json", taskContac, func(ev *contactevent.Event) {
			at := time.Date(2024, 3, 12, 9, 16, 12, 905e6, time.UTC)
			ev.Detail.Agent = &contactevent.AgentInfo{ARN: "arn:aws:connect:us-east-1:123456789012:instance/x/agent/3f6c2a1e-8b4d-4c7e-9a2f-1d5e7b9c0a11", ConnectedToAgentTimestamp: &at}
		}),
	}
	perms := [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
	for _, p := range perms {
		e := entry(routing.StateRouted, nil)
		for _, i := range append(p, p...) {
			routing.ApplyContactEvent(e, evs[i], routingConfig())
		}
		if e.State != routing.StateCompleted || e.AgentID != "3f6c2a1e-8b4d-4c7e-9a2f-1d5e7b9c0a11" {
			t.Errorf("order %v: state %s agent %q", p, e.State, e.AgentID)
		}
	}
}

func TestNeedsSweep(t *testing.T) {
	tests := []struct {
		name   string
		entry  *routing.Entry
		skills string
		want   bool
	}{
		{"never routed", nil, "", true},
		{"failed", entry(routing.StateFailed, nil), "", true},
		{"routing without a task", entry(routing.StateRouting, func(e *routing.Entry) { e.ContactID = "" }), "", true},
		{"routed", entry(routing.StateRouted, nil), "", false},
		{"connected", entry(routing.StateConnected, nil), "", false},
		{"completed", entry(routing.StateCompleted, nil), "", false},
		{"held, skills unchanged", entry(routing.StateHeld, func(e *routing.Entry) { e.Skills = "Billing|x" }), "Billing|x", false},
		{"held, skills fixed", entry(routing.StateHeld, func(e *routing.Entry) { e.Skills = "Billing|x" }), "Billing", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := routing.NeedsSweep(tt.entry, tt.skills); got != tt.want {
				t.Errorf("= %v, want %v", got, tt.want)
			}
		})
	}
	if routing.SweepKey(caseID, nil) != caseID+"/sweep/0" || routing.SweepKey(caseID, entry(routing.StateFailed, nil)) != caseID+"/sweep/1" {
		t.Error("sweep keys")
	}
}
