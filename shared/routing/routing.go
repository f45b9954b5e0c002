// Package routing decides case routing: which Salesforce case events turn a case into an Amazon
// Connect task, when a task is stopped, and how a task's contact events move the case's routing
// entry along (routed → connected → completed, or re-routed when nobody answered).
//
// It is the domain half of case routing, after Genesys' Salesforce Object Routing Server: a
// case is routed when it is new in a monitored queue, when its owner changes to a monitored
// queue (from a user, or from another queue), when someone other than its owner comments, or
// when a customer email arrives; required skills come from a case field under SORS' rules. The
// package imports no AWS SDK and no HTTP; package routingsync does the I/O around it.
//
// Every routing attempt carries an idempotency key derived from its cause (the webhook event,
// the sweep's view of the case, the contact that went unanswered), from which the shell derives
// StartTaskContact's ClientToken: a replayed webhook, a retried Lambda or a second sweep reuses
// the key and Connect answers with the task it already created.
package routing

import (
	"fmt"
	"strings"
	"time"

	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/sfevents"
)

// State is where a case's routing stands.
type State string

// The states of a routing entry.
const (
	// StateRouting: an attempt is claimed and its task is being created (or creation failed in a
	// way a retry may fix); the attempt's key is stored so the retry reuses it.
	StateRouting State = "routing"
	// StateRouted: the task exists and waits in a Connect queue.
	StateRouted State = "routed"
	// StateConnected: an agent accepted the task.
	StateConnected State = "connected"
	// StateCompleted: the task ended after an agent handled it.
	StateCompleted State = "completed"
	// StateStopped: the bridge stopped the task (the agent replied, the case left the queue or
	// was closed).
	StateStopped State = "stopped"
	// StateFailed: the task ended unanswered and is not re-routed, or Connect refused it.
	StateFailed State = "failed"
	// StateHeld: the case was not routed because its skills break the rules (the config holds
	// such cases); it is routed once its skills are fixed.
	StateHeld State = "held"
)

// Live reports whether the state has a task that is, or is about to be, in Connect.
func (s State) Live() bool { return s == StateRouting || s == StateRouted || s == StateConnected }

// Terminal reports whether the current task is over.
func (s State) Terminal() bool {
	return s == StateCompleted || s == StateStopped || s == StateFailed || s == StateHeld
}

// MaxHistory bounds the steps an entry keeps; older ones are dropped (the audit log keeps all).
const MaxHistory = 50

// Entry is a case's routing record: its current task and how it got there.
type Entry struct {
	CaseID     string `json:"caseId"`
	CaseNumber string `json:"caseNumber,omitempty"`
	// Subject and Priority are the case's, as the last attempt saw them (a re-route after an
	// unanswered task reuses them).
	Subject  string `json:"subject,omitempty"`
	Priority string `json:"priority,omitempty"`
	State    State  `json:"state"`
	// Reason is the trigger of the current (or last) attempt.
	Reason string `json:"reason,omitempty"`
	// AttemptKey is the idempotency key of the current attempt.
	AttemptKey string `json:"attemptKey,omitempty"`
	// ContactID is the current task's Connect contact id.
	ContactID string `json:"contactId,omitempty"`
	// Queue is the Salesforce queue (DeveloperName) the case was last routed from.
	Queue string `json:"queue,omitempty"`
	// AgentID is the Connect user the current task is connected to.
	AgentID string `json:"agentId,omitempty"`
	// AgentUserID is that agent's linked Salesforce user, when known.
	AgentUserID string `json:"agentUserId,omitempty"`
	// Skills is the raw skills value the last attempt saw (a held case is retried when it changes).
	Skills string `json:"skills,omitempty"`
	// Detail explains the state (why held, failed or stopped).
	Detail string `json:"detail,omitempty"`
	// Unanswered counts the tasks in a row that ended before an agent answered.
	Unanswered int `json:"unanswered,omitempty"`
	// Tasks counts the tasks created for the case.
	Tasks int `json:"tasks,omitempty"`
	// UpdatedAt is the bridge's clock at the last change.
	UpdatedAt time.Time `json:"updatedAt"`
	// History lists the changes, oldest first, at most MaxHistory.
	History []Step `json:"history,omitempty"`
}

// Step is one change of an entry.
type Step struct {
	At        time.Time `json:"at"`
	State     State     `json:"state"`
	Reason    string    `json:"reason,omitempty"`
	ContactID string    `json:"contactId,omitempty"`
	Detail    string    `json:"detail,omitempty"`
}

// Record moves the entry to state and appends the step to its history.
func (e *Entry) Record(at time.Time, state State, detail string) {
	e.State, e.Detail, e.UpdatedAt = state, detail, at
	e.History = append(e.History, Step{At: at, State: state, Reason: e.Reason, ContactID: e.ContactID, Detail: detail})
	if n := len(e.History); n > MaxHistory {
		e.History = append([]Step(nil), e.History[n-MaxHistory:]...)
	}
}

// Action is what a decision asks the shell to do.
type Action string

// The actions.
const (
	// ActionIgnore: nothing to do; Detail says why (audited).
	ActionIgnore Action = "ignore"
	// ActionRoute: create a task for the case (stopping the live one first when StopFirst).
	ActionRoute Action = "route"
	// ActionStop: stop the case's live task.
	ActionStop Action = "stop"
)

// Decision is the outcome of one case event.
type Decision struct {
	Action Action
	// Reason is the trigger (config.Trigger*) of a route.
	Reason string
	// Queue is the mapping a route uses.
	Queue config.RoutingQueue
	// Key is a route's idempotency key.
	Key string
	// StopFirst asks to stop the live task before routing (the case moved to another queue).
	StopFirst bool
	// Detail explains the decision for the audit log and the case's status.
	Detail string
}

// Queues resolves case owners to monitored queues: the DeveloperName of the queue with the
// given Group id, if it is one of the config's.
type Queues func(ownerID string) (developerName string, monitored bool)

// DecideCase decides what one case event means, given the case's routing entry (nil when the
// case was never routed) and the effective routing config.
func DecideCase(ev sfevents.CaseEvent, entry *Entry, cfg config.Routing, queues Queues) Decision {
	live := entry != nil && entry.State.Live()
	ignore := func(format string, args ...any) Decision {
		return Decision{Action: ActionIgnore, Detail: fmt.Sprintf(format, args...)}
	}
	stop := func(detail string) Decision { return Decision{Action: ActionStop, Detail: detail} }
	ownerQueue, monitored := "", false
	if ev.OwnerIsQueue() {
		ownerQueue, monitored = queues(ev.OwnerID)
	}
	route := func(reason, queue string, stopFirst bool, detail string) Decision {
		if !cfg.Triggered(reason) {
			return ignore("trigger %q is not enabled in routing.triggers", reason)
		}
		q, ok := cfg.Queue(queue)
		if !ok {
			return ignore("queue %s is no longer monitored", queue)
		}
		return Decision{Action: ActionRoute, Reason: reason, Queue: q, Key: EventKey(ev),
			StopFirst: stopFirst, Detail: detail}
	}
	if ev.IsClosed {
		if live {
			return stop("the case is closed")
		}
		return ignore("the case is closed")
	}
	switch ev.Type {
	case sfevents.CaseCreated:
		if !monitored {
			return ignore("the case's owner %s is not a monitored queue", ev.OwnerID)
		}
		if live {
			return ignore("the case already has a task (%s)", entry.State)
		}
		return route(config.TriggerCreated, ownerQueue, false, "new case in queue "+ownerQueue)

	case sfevents.CaseOwnerChanged:
		switch {
		case monitored:
			reason := config.TriggerOwnerChanged
			if ev.PreviousOwnerIsQueue() {
				reason = config.TriggerQueueChanged
			}
			if live && entry.Queue == ownerQueue {
				return ignore("the case already has a task from queue %s (%s)", ownerQueue, entry.State)
			}
			return route(reason, ownerQueue, live, "the case moved to queue "+ownerQueue)
		case ev.OwnerIsQueue():
			if live {
				return stop("the case moved to queue " + ev.OwnerID + ", which is not monitored")
			}
			return ignore("the case moved to queue %s, which is not monitored", ev.OwnerID)
		case entry != nil && entry.AgentUserID != "" && entry.AgentUserID == ev.OwnerID:
			// The bridge (or the agent) made the task's agent the owner: the echo of an accept.
			return ignore("the new owner is the agent of the case's task")
		default:
			return ignore("the new owner %s is a user, not a queue", ev.OwnerID)
		}

	case sfevents.CaseCommentAdded:
		if ev.ByOwner {
			if live && cfg.AutoDisconnectOnReply {
				return stop("the case owner commented (auto-disconnect on reply)")
			}
			return ignore("a comment by the case owner")
		}
		return reroute(ev, entry, ownerQueue, monitored, config.TriggerComment, "a comment by someone other than the owner", route, ignore)

	case sfevents.CaseEmailAdded:
		if !ev.Incoming {
			if live && cfg.AutoDisconnectOnReply {
				return stop("an outgoing email on the case (auto-disconnect on reply)")
			}
			return ignore("an outgoing email")
		}
		return reroute(ev, entry, ownerQueue, monitored, config.TriggerCustomerEmail, "a customer email", route, ignore)
	}
	return ignore("event type %s is not routed", ev.Type)
}

// reroute routes a case again after activity on it: to its queue when a monitored queue owns it,
// else to the queue it was last routed from.
func reroute(ev sfevents.CaseEvent, entry *Entry, ownerQueue string, monitored bool, reason, what string,
	route func(reason, queue string, stopFirst bool, detail string) Decision,
	ignore func(format string, args ...any) Decision,
) Decision {
	if entry != nil && entry.State.Live() {
		return ignore("%s, but the case already has a task (%s)", what, entry.State)
	}
	queue := ownerQueue
	if !monitored {
		if entry == nil || entry.Queue == "" {
			return ignore("%s on a case that is neither in a monitored queue nor routed before", what)
		}
		queue = entry.Queue
	}
	return route(reason, queue, false, what)
}

// EventKey is the idempotency key of a route caused by a case webhook event.
func EventKey(ev sfevents.CaseEvent) string { return ev.CaseID + "/" + string(ev.Type) + "/" + ev.ID }

// ReasonBacklog is the reason of a route made by the backlog sweep (not one of the webhook
// triggers: the sweep runs whenever routing is enabled).
const ReasonBacklog = "backlog"

// ReasonUnanswered is the reason of a route made after a task ended unanswered.
const ReasonUnanswered = "unanswered"

// SweepKey is the idempotency key of a backlog sweep's attempt for a case: one per task the case
// has had, so two sweeps of the same backlog create one task, and a case whose earlier task
// failed gets a new one.
func SweepKey(caseID string, entry *Entry) string {
	n := 0
	if entry != nil {
		n = entry.Tasks
	}
	return fmt.Sprintf("%s/sweep/%d", caseID, n)
}

// NeedsSweep reports whether the backlog sweep should route a case it found open in a monitored
// queue with the given skills value: never routed, its last attempt failed, or held with skills
// since changed. A case whose task ended after an agent handled it stays as it is (the webhook
// routes it again when the customer writes or it moves between queues).
func NeedsSweep(entry *Entry, skills string) bool {
	switch {
	case entry == nil:
		return true
	case entry.State == StateFailed:
		return true
	case entry.State == StateHeld:
		return strings.TrimSpace(skills) != strings.TrimSpace(entry.Skills)
	case entry.State == StateRouting && entry.ContactID == "":
		return true // an attempt that never got its task: retried with its own key
	}
	return false
}
