package routing

import (
	"fmt"

	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/contactevent"
)

// Effect is what a contact event asks the shell to do besides saving the entry.
type Effect struct {
	// Changed is false when the event changes nothing (a duplicate, an old contact, an event
	// type routing does not follow); the shell then writes nothing.
	Changed bool
	// Connected: the task reached an agent; pop the case and, when configured, make the agent's
	// linked user the owner.
	Connected bool
	// Reroute: the task ended unanswered and the case is routed again with RerouteKey.
	Reroute    bool
	RerouteKey string
	// Status is the routing status to write back to the case ("" for none).
	Status string
	// Detail explains the transition for the audit log.
	Detail string
}

// ApplyContactEvent moves a case's entry along on one event of its task. Events arrive
// unordered and more than once: a state only ever moves forward (routed → connected → completed,
// and none out of a terminal state), and an event of another contact than the entry's current
// task changes nothing, so any order of a task's events ends in the same entry.
//
// DISCONNECTED decides on its own content: a task that had an agent (AgentInfo with a connect
// time) completed; one that had none went unanswered, and is re-routed or marked failed per
// routing.onUnanswered. A CONNECTED_TO_AGENT arriving after that is too late to change it.
func ApplyContactEvent(e *Entry, ev contactevent.Event, cfg config.Routing) Effect {
	d := ev.Detail
	if d.ContactID != e.ContactID {
		return Effect{Detail: fmt.Sprintf("contact %s is not the case's current task %s", d.ContactID, e.ContactID)}
	}
	at := ev.OccurredAt()
	switch d.EventType {
	case contactevent.ConnectedToAgent:
		if e.State != StateRouted && e.State != StateRouting {
			return Effect{Detail: fmt.Sprintf("already %s", e.State)}
		}
		e.AgentID = d.AgentID()
		e.Unanswered = 0
		e.Record(at, StateConnected, "accepted by agent "+e.AgentID)
		return Effect{Changed: true, Connected: true, Status: "Connected", Detail: "task accepted by agent " + e.AgentID}

	case contactevent.Disconnected:
		if e.State.Terminal() {
			return Effect{Detail: fmt.Sprintf("already %s", e.State)}
		}
		answered := d.Agent != nil && d.Agent.ConnectedToAgentTimestamp != nil
		if answered || e.State == StateConnected {
			if e.AgentID == "" {
				e.AgentID = d.AgentID()
			}
			e.Record(at, StateCompleted, "the agent finished the task")
			return Effect{Changed: true, Status: "Completed", Detail: "task completed"}
		}
		e.Unanswered++
		cfg = cfg.WithDefaults()
		if cfg.OnUnanswered == config.UnansweredReroute && e.Unanswered <= cfg.MaxReroutes {
			e.Record(at, StateFailed, fmt.Sprintf("unanswered (%d in a row); routed again", e.Unanswered))
			return Effect{Changed: true, Reroute: true, RerouteKey: e.CaseID + "/unanswered/" + d.ContactID,
				Detail: fmt.Sprintf("task ended unanswered (%d in a row); routing again", e.Unanswered)}
		}
		detail := fmt.Sprintf("task ended unanswered (%d in a row)", e.Unanswered)
		if cfg.OnUnanswered == config.UnansweredReroute {
			detail += fmt.Sprintf("; routing.maxReroutes (%d) reached", cfg.MaxReroutes)
		}
		e.Record(at, StateFailed, detail)
		return Effect{Changed: true, Status: "Failed: unanswered", Detail: detail}
	}
	return Effect{Detail: fmt.Sprintf("%s changes nothing in routing", d.EventType)}
}
