package connectsim_test

import (
	"testing"

	"github.com/omnibridge/omnibridge/shared/connect/connectsim"
	"github.com/omnibridge/omnibridge/shared/contactevent"
)

// TestHoldDuration: a voice contact put on hold twice reports the total as
// agentInfo.agentInitiatedHoldDuration on DISCONNECTED and COMPLETED, as Connect does, and not
// before.
func TestHoldDuration(t *testing.T) {
	clk := &clock{}
	clk.Set(t, "2026-12-07T09:00:00Z")
	seed := basicSeed()
	seed.Queues = append(seed.Queues, connectsim.SeedQueue{ID: "q-hold", Name: "Hold test"})
	e := newEnv(t, seed, connectsim.Options{Now: clk.Now})
	agent := seed.Users[0].ID
	if err := e.sim.Login(agent, "Available"); err != nil {
		t.Fatal(err)
	}
	id, err := e.sim.Call(connectsim.NewCall{Customer: "+14155551212", Queue: "Hold test"})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		at string
		do func(string) error
	}{
		{"2026-12-07T09:00:05Z", func(id string) error { return e.sim.RouteContact(id, agent) }},
		{"2026-12-07T09:00:06Z", e.sim.Accept},
		{"2026-12-07T09:00:07Z", e.sim.Connect},
		{"2026-12-07T09:01:00Z", e.sim.Hold},
		{"2026-12-07T09:01:20Z", e.sim.Resume},
		{"2026-12-07T09:02:00Z", e.sim.Hold},
		{"2026-12-07T09:02:15.500Z", e.sim.Resume},
		{"2026-12-07T09:03:00Z", e.sim.End},
		{"2026-12-07T09:03:30Z", e.sim.Clear},
	}
	for _, st := range steps {
		clk.Set(t, st.at)
		if err := st.do(id); err != nil {
			t.Fatal(err)
		}
	}
	for _, rec := range e.sim.ContactEventsFor(id) {
		ev, err := contactevent.Decode(rec.Data)
		if err != nil {
			t.Fatal(err)
		}
		var hold *int
		if ev.Detail.Agent != nil {
			hold = ev.Detail.Agent.AgentInitiatedHoldDuration
		}
		switch ev.Detail.EventType {
		case contactevent.Disconnected, contactevent.Completed:
			if hold == nil || *hold != 35 {
				t.Errorf("%s: agentInitiatedHoldDuration = %v, want 35", ev.Detail.EventType, hold)
			}
		default:
			if hold != nil {
				t.Errorf("%s reports a hold duration %d before the disconnect", ev.Detail.EventType, *hold)
			}
		}
	}
}
