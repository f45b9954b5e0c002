package presence

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/rules"
)

type wantCmd struct {
	dest   rules.Destination
	target string
	mode   Mode
}

type decideCase struct {
	name     string
	set      *rules.Set
	settings func(*config.Settings)
	state    func(*AgentState)
	ev       Event
	now      float64 // seconds after t0; defaults to the event time
	outcome  Outcome
	commands []wantCmd
	explain  []string
	check    func(t *testing.T, in AgentState, d Decision)
}

func runDecide(t *testing.T, tests []decideCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := settings()
			if tt.settings != nil {
				tt.settings(&s)
			}
			in := linked()
			if tt.state != nil {
				tt.state(&in)
			}
			now := tt.ev.Time
			if tt.now != 0 {
				now = at(tt.now)
			}
			before := in.clone()
			d := Decide(in, tt.ev, tt.set, s, now)
			if !reflect.DeepEqual(in, before) {
				t.Error("Decide modified its input state")
			}
			if again := Decide(in, tt.ev, tt.set, s, now); !reflect.DeepEqual(d, again) {
				t.Error("Decide is not deterministic")
			}
			if d.Audit.Outcome != tt.outcome {
				t.Errorf("outcome %s, want %s\n%s", d.Audit.Outcome, tt.outcome, d.Audit.Explanation)
			}
			if len(d.Commands) != len(tt.commands) {
				t.Fatalf("%d commands, want %d: %+v\n%s", len(d.Commands), len(tt.commands), d.Commands, d.Audit.Explanation)
			}
			for i, w := range tt.commands {
				c := d.Commands[i]
				if c.Destination != w.dest || c.Target.State() != w.target || c.Mode != w.mode {
					t.Errorf("command %d = %s %s %s, want %s %s %s", i, c.Destination, c.Target.State(), c.Mode, w.dest, w.target, w.mode)
				}
				if c.ID != CommandID(tt.ev.ID, c.Destination) || c.CausedBy != tt.ev.ID || !c.IssuedAt.Equal(now) {
					t.Errorf("command %d identity: %+v", i, c)
				}
			}
			for _, frag := range tt.explain {
				if !strings.Contains(d.Audit.Explanation, frag) {
					t.Errorf("explanation lacks %q:\n%s", frag, d.Audit.Explanation)
				}
			}
			if tt.check != nil {
				tt.check(t, in, d)
			}
		})
	}
}

func TestDecideRulesAndMapping(t *testing.T) {
	set := compile(t, []config.Rule{
		c2s("lunch", "Lunch", "Away"),
		s2c("sf-available", "Available", "Available"),
		rule("full", rules.EventSalesforceWorkloadChanged, rules.Connect, "Break",
			when("salesforce.newWorkloadPct", "ge", "100"), when("salesforce.previousWorkloadPct", "lt", "100")),
		rule("phone", rules.EventSalesforceWorkAccepted, rules.Connect, "Training", when("salesforce.channel", "eq", "Phone")),
		rule("after-call", rules.EventConnectAgentStateChanged, rules.Salesforce, "Available",
			when("connect.oldState", "eq", "AfterCallWork"), when("connect.newState", "eq", "Available")),
	},
		pair("Busy", "Busy", false, true),
		pair("Away", "Break", true, true),
		pair("Offline", "Offline", true, true),
	)
	runDecide(t, []decideCase{
		{
			name: "Connect rule sends a Salesforce command", set: set,
			ev: connectEvent("e1", 5, "Lunch"), outcome: OutcomeApplied,
			commands: []wantCmd{{rules.Salesforce, "Away", ModeNow}},
			explain:  []string{`Connect status "Lunch" (state Lunch), was "Available"`, `Rules: "after-call" skipped (criteria[0] false); "lunch" won.`, "Salesforce: applied: rule \"lunch\" → Salesforce Away; command"},
			check: func(t *testing.T, _ AgentState, d Decision) {
				c := d.Commands[0]
				if c.Target.SalesforceStatusID != idAway || c.UserID != "005xx000001SwiUAAS" || c.RuleID != "lunch" || c.ChainID != "e1" {
					t.Errorf("command %+v", c)
				}
				st := d.State
				if st.Connect.Status != "Lunch" || st.Connect.EventID != "e1" || !st.Connect.EventTime.Equal(at(5)) {
					t.Errorf("mirror %+v", st.Connect)
				}
				if len(st.Echoes) != 1 || st.Echoes[0].CommandID != c.ID || !st.Echoes[0].Expires.Equal(at(35)) {
					t.Errorf("echoes %+v", st.Echoes)
				}
				if len(st.Pending) != 1 || !st.Pending[0].Deadline.Equal(at(125)) {
					t.Errorf("pending %+v", st.Pending)
				}
				if st.Chain.ID != "e1" || len(st.Chain.Crossings) != 1 || !st.Chain.SalesforceAt.Equal(at(5)) {
					t.Errorf("chain %+v", st.Chain)
				}
				if d.Audit.Trace.Len() != 2 || d.Audit.ChainID != "e1" || d.Audit.Results[0].CommandID != c.ID {
					t.Errorf("audit %+v", d.Audit)
				}
				if got := d.Audit.Trace.Steps()[0].Detail(); got != `criteria[0] connect.oldState eq "AfterCallWork" is false (connect.oldState is "Available")` {
					t.Errorf("trace detail %q", got)
				}
			},
		},
		{
			name: "mapping applies when no rule matches", set: set,
			ev: connectEvent("e1", 5, "Available", call(ContactConnected)), outcome: OutcomeApplied,
			commands: []wantCmd{{rules.Salesforce, "Busy", ModeNow}},
			explain:  []string{`(state Busy)`, "mapping $.statusMappings[0]: Connect Busy → Salesforce Busy"},
		},
		{
			name: "Salesforce mapping sends a Connect command", set: set,
			ev: sfEvent("e1", 5, "Away"), outcome: OutcomeApplied,
			commands: []wantCmd{{rules.Connect, "Break", ModeNow}},
			check: func(t *testing.T, _ AgentState, d Decision) {
				if d.Commands[0].UserID != "connect-user-1" || len(d.State.Pending) != 0 || !d.State.Chain.ConnectAt.Equal(at(5)) {
					t.Errorf("Connect commands need no acknowledgement: %+v", d.State)
				}
				if d.State.Salesforce.StatusName != "Away" || d.State.Salesforce.StatusID != idAway {
					t.Errorf("status id not resolved to DeveloperName: %+v", d.State.Salesforce)
				}
			},
		},
		{
			name: "status by DeveloperName only", set: set,
			ev:      Event{ID: "e1", Kind: rules.EventSalesforceAgentStateChanged, Time: at(5), Salesforce: SalesforceData{StatusName: "Away"}},
			outcome: OutcomeApplied, commands: []wantCmd{{rules.Connect, "Break", ModeNow}},
			check: func(t *testing.T, _ AgentState, d Decision) {
				if d.State.Salesforce.StatusID != idAway {
					t.Errorf("id not resolved: %+v", d.State.Salesforce)
				}
			},
		},
		{
			name: "logout maps Offline", set: set,
			ev:      Event{ID: "e1", Kind: rules.EventSalesforceAgentLogout, Time: at(5)},
			outcome: OutcomeApplied, commands: []wantCmd{{rules.Connect, "Offline", ModeNow}},
			check: func(t *testing.T, _ AgentState, d Decision) {
				if d.State.Salesforce.StatusID != "0" || d.State.Salesforce.StatusName != "Offline" {
					t.Errorf("mirror %+v", d.State.Salesforce)
				}
			},
		},
		{
			name: "no rule and no mapping: nothing sent, and the audit says so", set: set,
			ev: connectEvent("e1", 5, "Training"), outcome: OutcomeNoRule,
			explain: []string{`no rule matched and no mapping for Connect "Training" toward Salesforce; nothing sent`},
		},
		{
			name: "no rule set at all", set: nil,
			ev: connectEvent("e1", 5, "Lunch"), outcome: OutcomeNoRule,
			explain: []string{"No rules for connect.agentStateChanged."},
		},
		{
			name: "old state from the previous snapshot", set: set,
			ev: func() Event {
				e := connectEvent("e1", 5, "Available")
				e.ConnectPrevious = &ConnectSnapshot{StatusName: "Available", Contacts: []Contact{call(ContactEnded)}}
				return e
			}(),
			state:   func(s *AgentState) { s.Salesforce.StatusName, s.Salesforce.StatusID = "Busy", idBusy },
			outcome: OutcomeApplied, commands: []wantCmd{{rules.Salesforce, "Available", ModeNow}},
			explain: []string{`"after-call" won`},
		},
		{
			name: "old state from the mirror without a previous snapshot", set: set,
			state: func(s *AgentState) {
				s.Connect.Contacts, s.Connect.State = []Contact{call(ContactEnded)}, "AfterCallWork"
				s.Salesforce.StatusName, s.Salesforce.StatusID = "Busy", idBusy
			},
			ev: connectEvent("e1", 5, "Available"), outcome: OutcomeApplied,
			commands: []wantCmd{{rules.Salesforce, "Available", ModeNow}},
		},
		{
			name: "workload percentage rule", set: set,
			state: func(s *AgentState) { s.Salesforce.Workload, s.Salesforce.Capacity = rules.Num(3), rules.Num(4) },
			ev: Event{ID: "e1", Kind: rules.EventSalesforceWorkloadChanged, Time: at(5),
				Salesforce: SalesforceData{NewWorkload: rules.Num(4)}}, // previous and capacity from the mirror
			outcome: OutcomeApplied, commands: []wantCmd{{rules.Connect, "Break", ModeNow}},
			explain: []string{"Salesforce workload 3 → 4 of capacity 4"},
			check: func(t *testing.T, _ AgentState, d Decision) {
				if d.State.Salesforce.Workload != rules.Num(4) || d.State.Salesforce.Capacity != rules.Num(4) {
					t.Errorf("mirror %+v", d.State.Salesforce)
				}
			},
		},
		{
			name: "workload below the threshold", set: set,
			ev: Event{ID: "e1", Kind: rules.EventSalesforceWorkloadChanged, Time: at(5),
				Salesforce: SalesforceData{PreviousWorkload: rules.Num(1), NewWorkload: rules.Num(2), ConfiguredCapacity: rules.Num(4)}},
			outcome: OutcomeNoRule,
			explain: []string{`"full" skipped (criteria[0] false)`, "the status mapping does not apply to salesforce.workloadChanged events"},
			check: func(t *testing.T, _ AgentState, d Decision) {
				if got := d.Audit.Trace.Steps()[0].Detail(); !strings.Contains(got, "salesforce.newWorkloadPct is 50") {
					t.Errorf("trace detail %q", got)
				}
			},
		},
		{
			name: "work accepted", set: set,
			ev:      Event{ID: "e1", Kind: rules.EventSalesforceWorkAccepted, Time: at(5), Salesforce: SalesforceData{Channel: "Phone"}},
			outcome: OutcomeApplied, commands: []wantCmd{{rules.Connect, "Training", ModeNow}},
		},
	})
}

func TestDecideStaleAndInvalid(t *testing.T) {
	set := compile(t, []config.Rule{c2s("lunch", "Lunch", "Away"), s2c("away", "Away", "Break")})
	unchanged := func(t *testing.T, in AgentState, d Decision) {
		if !reflect.DeepEqual(d.State, in) {
			t.Errorf("state changed:\n%+v\n%+v", d.State, in)
		}
	}
	runDecide(t, []decideCase{
		{name: "older Connect event", set: set, ev: connectEvent("e1", -1, "Lunch"), now: 5,
			outcome: OutcomeStale, check: unchanged,
			explain: []string{"stale: Connect event at 2026-01-05T08:59:59Z is not newer than the last one applied (c0 at 2026-01-05T09:00:00Z); dropped"}},
		{name: "Connect event at the same time", set: set, ev: connectEvent("e1", 0, "Lunch"), now: 5,
			outcome: OutcomeStale, check: unchanged},
		{name: "older Salesforce event", set: set, ev: sfEvent("e1", -10, "Away"), now: 5,
			outcome: OutcomeStale, check: unchanged},
		{name: "sides are ordered separately", set: set, ev: sfEvent("e1", 5, "Away"),
			state:   func(s *AgentState) { s.Connect.EventTime = at(100) },
			outcome: OutcomeApplied, commands: []wantCmd{{rules.Connect, "Break", ModeNow}}},
		{name: "first event ever", set: set, ev: connectEvent("e1", 5, "Lunch"),
			state:   func(s *AgentState) { s.Connect = ConnectMirror{}; s.Salesforce = SalesforceMirror{} },
			outcome: OutcomeApplied, commands: []wantCmd{{rules.Salesforce, "Away", ModeNow}}},
		{name: "missing id", set: set, ev: connectEvent("", 5, "Lunch"), outcome: OutcomeInvalid, check: unchanged,
			explain: []string{"invalid event: missing event id"}},
		{name: "unknown kind", set: set, ev: Event{ID: "e1", Kind: "connect.contact", Time: at(5)}, outcome: OutcomeInvalid, check: unchanged},
		{name: "missing time", set: set, ev: Event{ID: "e1", Kind: rules.EventSalesforceAgentLogout}, now: 5, outcome: OutcomeInvalid, check: unchanged},
		{name: "missing Connect status", set: set, ev: connectEvent("e1", 5, ""), outcome: OutcomeInvalid, check: unchanged},
		{name: "missing Salesforce status", set: set, ev: Event{ID: "e1", Kind: rules.EventSalesforceAgentStateChanged, Time: at(5)},
			outcome: OutcomeInvalid, check: unchanged},
		{name: "unchanged state fires no rule", set: set, ev: sfEvent("e1", 5, "Available"), outcome: OutcomeUnchanged,
			explain: []string{"Nothing changed; no rules evaluated."},
			check: func(t *testing.T, _ AgentState, d Decision) {
				if d.State.Salesforce.EventID != "e1" {
					t.Error("an unchanged event still advances the side's clock")
				}
			}},
		{name: "contact change with the same effective state", set: set, ev: connectEvent("e1", 5, "Available", call(ContactConnectedOnHold)),
			state:   func(s *AgentState) { s.Connect.Contacts, s.Connect.State = []Contact{call(ContactConnected)}, "Busy" },
			outcome: OutcomeUnchanged},
	})
}

func TestDecideEchoSuppression(t *testing.T) {
	set := compile(t, []config.Rule{c2s("lunch", "Lunch", "Away"), s2c("away", "Away", "Lunch"), s2c("busy", "Busy", "Break")})
	// After Connect Lunch at 5 s the bridge sent Salesforce Away (command sfCmd).
	first := Decide(linked(), connectEvent("e1", 5, "Lunch"), set, settings(), at(5))
	sfCmd := first.Commands[0]
	afterLunch := func(s *AgentState) { *s = first.State.clone() }
	runDecide(t, []decideCase{
		{name: "Salesforce echo updates the mirror and fires nothing", set: set, state: afterLunch,
			ev: sfEvent("e2", 7, "Away"), outcome: OutcomeEcho,
			explain: []string{"Echo of command " + sfCmd.ID + " (Salesforce Away); mirror updated, no rules fired back toward Connect."},
			check: func(t *testing.T, _ AgentState, d Decision) {
				if d.State.Salesforce.StatusName != "Away" || len(d.State.Echoes) != 0 || len(d.State.Pending) != 0 {
					t.Errorf("echo not consumed: %+v", d.State)
				}
				if d.State.Chain.ID != "e1" {
					t.Error("an echo leaves the chain alone")
				}
			}},
		{name: "echo recognized by command id", set: set, state: afterLunch,
			ev: func() Event { e := sfEvent("e2", 7, "Busy"); e.CommandID = sfCmd.ID; return e }(), outcome: OutcomeEcho},
		{name: "a different change is not an echo", set: set, state: afterLunch,
			ev: sfEvent("e2", 7, "Busy"), outcome: OutcomeApplied, commands: []wantCmd{{rules.Connect, "Break", ModeNow}},
			check: func(t *testing.T, _ AgentState, d Decision) {
				if len(d.State.Echoes) != 2 {
					t.Errorf("the unmatched echo stays expected until it expires: %+v", d.State.Echoes)
				}
			}},
		{name: "late echo after the window fires rules", set: set, state: afterLunch,
			ev: sfEvent("e2", 36, "Away"), outcome: OutcomeAlreadyInState,
			explain: []string{`rule "away" → Connect Lunch; Connect is already "Lunch"`}},
		{name: "Connect echo", set: set,
			state: func(s *AgentState) {
				*s = Decide(linked(), sfEvent("e1", 5, "Away"), set, settings(), at(5)).State
			},
			ev: connectEvent("e2", 6, "Lunch"), outcome: OutcomeEcho,
			explain: []string{"no rules fired back toward Salesforce"}},
		{name: "a contact change carrying the commanded status is no echo", set: set,
			state: func(s *AgentState) {
				*s = Decide(linked(), sfEvent("e1", 5, "Away"), set, settings(), at(5)).State
				s.Connect.Status, s.Connect.State = "Lunch", "Lunch" // status already seen
			},
			ev: connectEvent("e2", 6, "Lunch", call(ContactIncoming)), outcome: OutcomeNoRule},
		{name: "deferred next status applied is an echo", set: set,
			state: func(s *AgentState) {
				s.Connect.Contacts, s.Connect.State = []Contact{call(ContactEnded)}, "AfterCallWork"
				s.Deferred = &DeferredStatus{CommandID: "cmd-d", Status: "Lunch", CausedBy: "e0", IssuedAt: at(1)}
			},
			ev: connectEvent("e2", 6, "Lunch"), outcome: OutcomeEcho,
			explain: []string{`Echo of deferred command cmd-d (next status "Lunch")`},
			check: func(t *testing.T, _ AgentState, d Decision) {
				if d.State.Deferred != nil {
					t.Error("deferred not settled")
				}
			}},
		{name: "another status supersedes the deferred one", set: set,
			state: func(s *AgentState) {
				s.Deferred = &DeferredStatus{CommandID: "cmd-d", Status: "Break", CausedBy: "e0", IssuedAt: at(1)}
			},
			ev: connectEvent("e2", 6, "Lunch"), outcome: OutcomeApplied, commands: []wantCmd{{rules.Salesforce, "Away", ModeNow}},
			explain: []string{`deferred next status "Break" (command cmd-d) was superseded`},
			check: func(t *testing.T, _ AgentState, d Decision) {
				if d.State.Deferred != nil {
					t.Error("deferred not settled")
				}
			}},
	})
}

func TestDecideUnlinkedAndAlreadyInState(t *testing.T) {
	set := compile(t, []config.Rule{c2s("lunch", "Lunch", "Away"), s2c("away", "Away", "Lunch")})
	runDecide(t, []decideCase{
		{name: "no Salesforce user", set: set, state: func(s *AgentState) { s.SalesforceUserID = "" },
			ev: connectEvent("e1", 5, "Lunch"), outcome: OutcomeUnlinked,
			explain: []string{"the agent has no linked Salesforce user, so nothing sent"},
			check: func(t *testing.T, _ AgentState, d Decision) {
				if d.State.Connect.Status != "Lunch" {
					t.Error("the mirror is updated even when unlinked")
				}
			}},
		{name: "no Connect user", set: set, state: func(s *AgentState) { s.ConnectUserID = "" },
			ev: sfEvent("e1", 5, "Away"), outcome: OutcomeUnlinked},
		{name: "unlinked matters only when a command is needed", set: set, state: func(s *AgentState) { s.SalesforceUserID = "" },
			ev: connectEvent("e1", 5, "Training"), outcome: OutcomeNoRule},
		{name: "destination already there", set: set, state: func(s *AgentState) { s.Salesforce.StatusName, s.Salesforce.StatusID = "Away", idAway },
			ev: connectEvent("e1", 5, "Lunch"), outcome: OutcomeAlreadyInState,
			explain: []string{`Salesforce is already "Away", so nothing sent`}},
		{name: "destination headed there", set: set,
			state: func(s *AgentState) {
				s.Echoes = []ExpectedEcho{{CommandID: "c9", Target: rules.Target{Destination: rules.Salesforce, SalesforceStatus: "Away", SalesforceStatusID: idAway}, IssuedAt: at(2), Expires: at(32)}}
			},
			ev: connectEvent("e1", 5, "Lunch"), outcome: OutcomeAlreadyInState,
			explain: []string{`already headed to "Away" (command c9 in flight)`}},
		{name: "an in-flight command overtaken by an observed change does not count", set: set,
			state: func(s *AgentState) {
				s.Echoes = []ExpectedEcho{{CommandID: "c9", Target: rules.Target{Destination: rules.Salesforce, SalesforceStatus: "Away", SalesforceStatusID: idAway}, IssuedAt: at(2), Expires: at(32)}}
				s.Salesforce.ObservedAt = at(3)
			},
			ev: connectEvent("e1", 5, "Lunch"), outcome: OutcomeApplied, commands: []wantCmd{{rules.Salesforce, "Away", ModeNow}}},
	})
}

func TestDecideWhileOnContact(t *testing.T) {
	onCall := func(s *AgentState) { s.Connect.Contacts, s.Connect.State = []Contact{call(ContactConnected)}, "Busy" }
	rulesWith := func(p rules.Policy) *rules.Set {
		return compile(t, []config.Rule{withPolicy(s2c("away", "Away", "Lunch"), p)}, pair("Busy", "Break", true, false))
	}
	policy := func(p rules.Policy) func(*config.Settings) {
		return func(s *config.Settings) { s.WhileOnContact = string(p) }
	}
	runDecide(t, []decideCase{
		{name: "rule ignore", set: rulesWith(rules.PolicyIgnore), state: onCall, settings: policy(rules.PolicyApply),
			ev: sfEvent("e1", 5, "Away"), outcome: OutcomeIgnoredOnContact,
			explain: []string{"the agent is on a contact and the rule while-on-contact policy is ignore"},
			check: func(t *testing.T, _ AgentState, d Decision) {
				if d.State.Deferred != nil || len(d.State.Echoes) != 0 || len(d.State.Chain.Crossings) != 0 {
					t.Errorf("an ignored command leaves no trace: %+v", d.State)
				}
			}},
		{name: "rule defer", set: rulesWith(rules.PolicyDefer), state: onCall, settings: policy(rules.PolicyIgnore),
			ev: sfEvent("e1", 5, "Away"), outcome: OutcomeDeferred, commands: []wantCmd{{rules.Connect, "Lunch", ModeNextStatus}},
			explain: []string{"sent as next status, since the agent is on a contact"},
			check: func(t *testing.T, _ AgentState, d Decision) {
				if d.State.Deferred == nil || d.State.Deferred.Status != "Lunch" || d.State.Deferred.CommandID != d.Commands[0].ID {
					t.Errorf("deferred %+v", d.State.Deferred)
				}
				if len(d.State.Echoes) != 0 {
					t.Error("a deferred command is tracked as Deferred, not as an echo")
				}
			}},
		{name: "rule apply", set: rulesWith(rules.PolicyApply), state: onCall, settings: policy(rules.PolicyIgnore),
			ev: sfEvent("e1", 5, "Away"), outcome: OutcomeApplied, commands: []wantCmd{{rules.Connect, "Lunch", ModeNow}}},
		{name: "default policy for rules without one", set: rulesWith(""), state: onCall, settings: policy(rules.PolicyIgnore),
			ev: sfEvent("e1", 5, "Away"), outcome: OutcomeIgnoredOnContact,
			explain: []string{"the default while-on-contact policy is ignore"}},
		{name: "mapping uses the default: defer", set: rulesWith(rules.PolicyApply), state: onCall, settings: policy(rules.PolicyDefer),
			ev: sfEvent("e1", 5, "Busy"), outcome: OutcomeDeferred, commands: []wantCmd{{rules.Connect, "Break", ModeNextStatus}}},
		{name: "mapping uses the default: ignore", set: rulesWith(rules.PolicyApply), state: onCall, settings: policy(rules.PolicyIgnore),
			ev: sfEvent("e1", 5, "Busy"), outcome: OutcomeIgnoredOnContact},
		{name: "after-contact work counts as on contact", set: rulesWith(rules.PolicyIgnore),
			state: func(s *AgentState) { s.Connect.Contacts = []Contact{call(ContactEnded)} },
			ev:    sfEvent("e1", 5, "Away"), outcome: OutcomeIgnoredOnContact},
		{name: "a missed contact does not", set: rulesWith(rules.PolicyIgnore),
			state: func(s *AgentState) { s.Connect.Contacts = []Contact{call(ContactMissed)} },
			ev:    sfEvent("e1", 5, "Away"), outcome: OutcomeApplied, commands: []wantCmd{{rules.Connect, "Lunch", ModeNow}}},
		{name: "no contact: applied now whatever the policy", set: rulesWith(rules.PolicyIgnore),
			ev: sfEvent("e1", 5, "Away"), outcome: OutcomeApplied, commands: []wantCmd{{rules.Connect, "Lunch", ModeNow}}},
		{name: "a deferred status is the intended one", set: rulesWith(rules.PolicyDefer),
			state: func(s *AgentState) {
				onCall(s)
				s.Deferred = &DeferredStatus{CommandID: "d1", Status: "Lunch", IssuedAt: at(1)}
			},
			ev: sfEvent("e1", 5, "Away"), outcome: OutcomeAlreadyInState,
			explain: []string{`Connect is already set to go to "Lunch" as next status (command d1)`}},
		{name: "a status set now replaces the deferred one", set: rulesWith(rules.PolicyApply),
			state: func(s *AgentState) {
				onCall(s)
				s.Deferred = &DeferredStatus{CommandID: "d1", Status: "Break", IssuedAt: at(1)}
			},
			ev: sfEvent("e1", 5, "Away"), outcome: OutcomeApplied, commands: []wantCmd{{rules.Connect, "Lunch", ModeNow}},
			check: func(t *testing.T, _ AgentState, d Decision) {
				if d.State.Deferred != nil {
					t.Error("deferred should be replaced")
				}
			}},
	})
}

func TestDecideLoopGuard(t *testing.T) {
	set := compile(t, []config.Rule{c2s("lunch", "Lunch", "Away"), s2c("busy", "Busy", "Break")})
	// The chain has crossed three times; the last command went to Salesforce at 10 s.
	inChain := func(s *AgentState) {
		s.Chain = Chain{ID: "root", Crossings: []time.Time{at(2), at(6), at(10)}, ConnectAt: at(6), SalesforceAt: at(10)}
	}
	runDecide(t, []decideCase{
		{name: "a fourth crossing is cut", set: set, state: inChain,
			ev: sfEvent("e5", 12, "Busy"), outcome: OutcomeLoopCut,
			explain: []string{"loop cut: chain root would cross systems 4 times within 60s (max 3), so nothing sent"},
			check: func(t *testing.T, _ AgentState, d Decision) {
				if d.Audit.ChainID != "root" || d.State.Salesforce.StatusName != "Busy" {
					t.Errorf("audit chain %q, mirror %+v", d.Audit.ChainID, d.State.Salesforce)
				}
			}},
		{name: "a higher limit lets it through", set: set, state: inChain,
			settings: func(s *config.Settings) { s.LoopGuard.MaxCrossings = 4 },
			ev:       sfEvent("e5", 12, "Busy"), outcome: OutcomeApplied, commands: []wantCmd{{rules.Connect, "Break", ModeNow}},
			check: func(t *testing.T, _ AgentState, d Decision) {
				if d.Commands[0].ChainID != "root" || len(d.State.Chain.Crossings) != 4 {
					t.Errorf("chain %+v", d.State.Chain)
				}
			}},
		{name: "crossings older than the window expire", set: set, state: inChain,
			ev: sfEvent("e5", 63, "Busy"), outcome: OutcomeApplied, commands: []wantCmd{{rules.Connect, "Break", ModeNow}},
			check: func(t *testing.T, _ AgentState, d Decision) {
				if d.State.Chain.ID != "root" || len(d.State.Chain.Crossings) != 3 { // 6 s, 10 s and now
					t.Errorf("chain %+v", d.State.Chain)
				}
			}},
		{name: "an event from a system not commanded recently starts a new chain", set: set,
			state: func(s *AgentState) { inChain(s); s.Chain.ConnectAt = time.Time{} },
			ev:    connectEvent("e5", 12, "Lunch"), outcome: OutcomeApplied, commands: []wantCmd{{rules.Salesforce, "Away", ModeNow}},
			check: func(t *testing.T, _ AgentState, d Decision) {
				if d.State.Chain.ID != "e5" || len(d.State.Chain.Crossings) != 1 || d.Commands[0].ChainID != "e5" {
					t.Errorf("chain %+v", d.State.Chain)
				}
			}},
		{name: "contact changes are never the bridge's doing", set: compile(t, nil, pair("Busy", "Busy", false, true)),
			state: func(s *AgentState) { inChain(s); s.Chain.ConnectAt = at(11) },
			ev:    connectEvent("e5", 12, "Available", call(ContactConnected)), outcome: OutcomeApplied,
			commands: []wantCmd{{rules.Salesforce, "Busy", ModeNow}},
			check: func(t *testing.T, _ AgentState, d Decision) {
				if d.State.Chain.ID != "e5" {
					t.Errorf("chain %+v", d.State.Chain)
				}
			}},
		{name: "a command long ago does not make a chain", set: set, state: inChain,
			ev: sfEvent("e5", 71, "Busy"), outcome: OutcomeApplied, commands: []wantCmd{{rules.Connect, "Break", ModeNow}},
			check: func(t *testing.T, _ AgentState, d Decision) {
				if d.State.Chain.ID != "e5" {
					t.Errorf("chain %+v", d.State.Chain)
				}
			}},
	})
}

// TestChainEndsWhenTheCommandSettles: once a system echoes the bridge's command, what it does
// next is the agent's doing, however soon.
func TestChainEndsWhenTheCommandSettles(t *testing.T) {
	set := compile(t, nil, pair("Available", "Available", true, true), pair("Away", "Lunch", true, true), pair("Busy", "Break", true, true))
	s := settings()
	st := linked()
	step := func(ev Event) Decision {
		t.Helper()
		d := Decide(st, ev, set, s, ev.Time)
		st = d.State
		return d
	}
	step(sfEvent("h1", 1, "Away")) // agent, Salesforce: Connect Lunch commanded
	if st.Chain.ConnectAt.IsZero() {
		t.Fatal("Connect command not tracked")
	}
	if d := step(connectEvent("c1", 2, "Lunch")); d.Audit.Outcome != OutcomeEcho || !st.Chain.ConnectAt.IsZero() {
		t.Fatalf("echo should settle the command: %s, chain %+v", d.Audit.Outcome, st.Chain)
	}
	// The agent now flips Connect three times within seconds: each is a new chain, none is cut.
	for i, status := range []string{"Available", "Lunch", "Available"} {
		d := step(connectEvent(fmt.Sprintf("h%d", i+2), float64(3+i), status))
		if d.Audit.Outcome != OutcomeApplied || d.Audit.ChainID != fmt.Sprintf("h%d", i+2) {
			t.Errorf("flip %d: %s in chain %s", i, d.Audit.Outcome, d.Audit.ChainID)
		}
	}
	d := step(sfEvent("h9", 7, "Busy")) // Salesforce command still in flight: attributed to the chain
	if d.Audit.ChainID != "h4" {
		t.Errorf("an event while a command is in flight continues its chain, got %s", d.Audit.ChainID)
	}
}

func TestFailedCommandSettlesTheChain(t *testing.T) {
	st, cmd := sentAway(t)
	if st.Chain.SalesforceAt.IsZero() {
		t.Fatal("Salesforce command not tracked")
	}
	if failed, _ := Acknowledge(st, Ack{CommandID: cmd.ID}, at(8)); !failed.Chain.SalesforceAt.IsZero() {
		t.Errorf("a failed command settles: %+v", failed.Chain)
	}
	if expired, _ := ExpireCommands(st, at(200)); !expired.Chain.SalesforceAt.IsZero() {
		t.Errorf("an expired command settles: %+v", expired.Chain)
	}
	if acked, _ := Acknowledge(st, Ack{CommandID: cmd.ID, Applied: true}, at(8)); acked.Chain.SalesforceAt.IsZero() {
		t.Error("an acknowledged command is settled by its echo, not by the acknowledgement")
	}
}

// TestLoopGuardCutsARealLoop runs a cyclic rule set against systems that report every change
// late, after the echo window, so echo suppression cannot help: only the loop guard stops it.
func TestLoopGuardCutsARealLoop(t *testing.T) {
	set := compile(t, []config.Rule{
		c2s("c1", "Lunch", "Away"), s2c("s1", "Away", "Break"),
		c2s("c2", "Break", "Busy"), s2c("s2", "Busy", "Lunch"),
	})
	s := settings()
	s.EchoWindowSeconds = 1
	st := linked()
	ev := connectEvent("human", 1, "Lunch")
	var outcomes []Outcome
	for i := 0; i < 10; i++ {
		d := Decide(st, ev, set, s, ev.Time)
		st = d.State
		outcomes = append(outcomes, d.Audit.Outcome)
		if len(d.Commands) == 0 {
			break
		}
		c := d.Commands[0]
		next := at(float64(3 * (i + 2))) // each system reports 3 s later
		if c.Destination == rules.Salesforce {
			ev = sfEvent("sf-"+c.ID[:6], 0, c.Target.State())
		} else {
			ev = connectEvent("c-"+c.ID[:6], 0, c.Target.State())
		}
		ev.Time = next
	}
	want := []Outcome{OutcomeApplied, OutcomeApplied, OutcomeApplied, OutcomeLoopCut}
	if !reflect.DeepEqual(outcomes, want) {
		t.Fatalf("outcomes %v, want %v", outcomes, want)
	}
	if st.Chain.ID != "human" {
		t.Errorf("every step belongs to the human's chain, got %q", st.Chain.ID)
	}
}

func TestCommandID(t *testing.T) {
	// hex(SHA-256("EventId-1/salesforce"))[:32], computed independently.
	if got := CommandID("EventId-1", rules.Salesforce); got != "dfdc5b32bee522ee0fccbb1834b39102" {
		t.Errorf("CommandID = %q", got)
	}
	if CommandID("EventId-1", rules.Connect) == CommandID("EventId-1", rules.Salesforce) {
		t.Error("destinations must get distinct ids")
	}
}

func TestNormalizeSettings(t *testing.T) {
	s := normalize(config.Settings{WhileOnContact: "sometimes"})
	d := config.Defaults()
	if s.WhileOnContact != d.WhileOnContact || s.EchoWindowSeconds != d.EchoWindowSeconds ||
		s.LoopGuard != d.LoopGuard || s.CommandAckTimeoutSeconds != d.CommandAckTimeoutSeconds {
		t.Errorf("normalize = %+v", s)
	}
}

// TestStateJSONRoundTrip: the shell persists AgentState as JSON; nothing may be lost.
func TestStateJSONRoundTrip(t *testing.T) {
	st, _ := sentAway(t)
	st.Deferred = &DeferredStatus{CommandID: "d", Status: "Lunch", CausedBy: "e0", IssuedAt: at(1)}
	st.Connect.Contacts = []Contact{call(ContactConnected)}
	st.Salesforce.Workload, st.Salesforce.Capacity = rules.Num(2), rules.Num(4)
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back AgentState
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, st) {
		t.Errorf("round trip differs:\n%+v\n%+v", back, st)
	}
}
