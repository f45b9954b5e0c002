package presence

import (
	"testing"

	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/rules"
)

func availability(id string, sec float64, dest rules.Destination, status string, p rules.Policy) Event {
	return Event{ID: id, Kind: KindAvailability, Time: at(sec), Origin: OriginSession,
		Availability: &AvailabilityRequest{Destination: dest, Status: status, WhileOnContact: p, Reason: "Logged out of Salesforce"}}
}

func TestDecideAvailability(t *testing.T) {
	set := compile(t, nil, pair("Busy", "Break", true, false))
	onCall := func(s *AgentState) { s.Connect.Contacts, s.Connect.State = []Contact{call(ContactConnected)}, "Busy" }
	runDecide(t, []decideCase{
		{name: "salesforce offline: a tracked command with the session reason", set: set,
			ev: availability("s1", 5, rules.Salesforce, "Offline", ""), outcome: OutcomeApplied,
			commands: []wantCmd{{rules.Salesforce, "Offline", ModeNow}},
			check: func(t *testing.T, _ AgentState, d Decision) {
				c := d.Commands[0]
				if !c.Target.SalesforceOffline || c.Reason != "Logged out of Salesforce" {
					t.Errorf("command %+v", c)
				}
				if len(d.State.Pending) != 1 || d.State.Pending[0].Command.Reason != c.Reason || len(d.State.Echoes) != 1 {
					t.Errorf("the command awaits its acknowledgement and echo: %+v", d.State)
				}
				if d.State.Chain.ID != "s1" || len(d.State.Chain.Crossings) != 1 {
					t.Errorf("a request starts its own chain: %+v", d.State.Chain)
				}
			}},
		{name: "connect offline while on a call is deferred", set: set, state: onCall,
			ev: availability("s1", 5, rules.Connect, "Offline", rules.PolicyDefer), outcome: OutcomeDeferred,
			commands: []wantCmd{{rules.Connect, "Offline", ModeNextStatus}}},
		{name: "connect offline while on a call is ignored by policy", set: set, state: onCall,
			ev: availability("s1", 5, rules.Connect, "Offline", rules.PolicyIgnore), outcome: OutcomeIgnoredOnContact},
		{name: "the settings' policy applies when the request has none", set: set, state: onCall,
			settings: func(s *config.Settings) { s.WhileOnContact = string(rules.PolicyIgnore) },
			ev:       availability("s1", 5, rules.Connect, "Offline", ""), outcome: OutcomeIgnoredOnContact},
		{name: "already there: nothing sent", set: set,
			state: func(s *AgentState) { s.Connect.Status = "Offline" },
			ev:    availability("s1", 5, rules.Connect, "Offline", ""), outcome: OutcomeAlreadyInState},
		{name: "no linked salesforce user", set: set,
			state: func(s *AgentState) { s.SalesforceUserID = "" },
			ev:    availability("s1", 5, rules.Salesforce, "Offline", ""), outcome: OutcomeUnlinked},
		{name: "a status outside the catalog", set: set,
			ev: availability("s1", 5, rules.Connect, "Gone Fishing", ""), outcome: OutcomeInvalid,
			explain: []string{`"Gone Fishing" is not a Connect status in the catalog`}},
		{name: "a system state is never set", set: set,
			ev: availability("s1", 5, rules.Connect, "Busy", ""), outcome: OutcomeInvalid},
		{name: "kind without request", set: set,
			ev: Event{ID: "s1", Kind: KindAvailability, Time: at(5)}, outcome: OutcomeInvalid},
		{name: "not stale against newer presence events", set: set,
			state: func(s *AgentState) { s.Salesforce.EventTime, s.Salesforce.EventID = at(50), "later" },
			ev:    availability("s1", 5, rules.Salesforce, "Offline", ""), outcome: OutcomeApplied,
			commands: []wantCmd{{rules.Salesforce, "Offline", ModeNow}}},
	})
}
