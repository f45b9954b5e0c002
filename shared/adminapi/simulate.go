package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/agentstream"
	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/httpjson"
	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/session"
	"github.com/omnibridge/omnibridge/shared/sessionsync"
	"github.com/omnibridge/omnibridge/shared/sfevents"
)

// Simulator decides a presence event without side effects (*engine.Simulator).
type Simulator interface {
	Simulate(ctx context.Context, in engine.SimulateInput) (engine.Simulation, error)
}

var _ Simulator = (*engine.Simulator)(nil)

// SessionSimulator decides a session event without side effects (*sessionsync.Simulator).
type SessionSimulator interface {
	Simulate(ctx context.Context, ev session.Event, state *session.State, at time.Time) (sessionsync.Simulation, error)
}

var _ SessionSimulator = (*sessionsync.Simulator)(nil)

// SimulateRequest is the body of POST /simulate. Exactly one of ConnectEvent, SalesforceWebhook
// and Event is set:
//   - ConnectEvent is one record of the Connect agent event stream, exactly as Connect writes it
//     to Kinesis (the decoded Data, not base64);
//   - SalesforceWebhook is a presence webhook body (contract v1) holding exactly one event other
//     than a command acknowledgement;
//   - Event is the engine's own event form, with ConnectUserID or SalesforceUserID naming the
//     agent.
//
// Session events take SessionWebhook (a session webhook body with exactly one event) or
// SessionEvent (session.Event, poll kinds included) instead, with SessionState in place of State.
//
// State, when set, replaces the stored agent state; At, when set, is the decision time.
type SimulateRequest struct {
	SessionWebhook    json.RawMessage      `json:"sessionWebhook,omitempty"`
	SessionEvent      *session.Event       `json:"sessionEvent,omitempty"`
	SessionState      *session.State       `json:"sessionState,omitempty"`
	ConnectEvent      json.RawMessage      `json:"connectEvent,omitempty"`
	SalesforceWebhook json.RawMessage      `json:"salesforceWebhook,omitempty"`
	Event             *presence.Event      `json:"event,omitempty"`
	ConnectUserID     string               `json:"connectUserId,omitempty"`
	SalesforceUserID  string               `json:"salesforceUserId,omitempty"`
	State             *presence.AgentState `json:"state,omitempty"`
	At                time.Time            `json:"at,omitzero"`
}

// SimulateResponse is the answer: the event as the engine saw it and its decision (matched
// rules and the reason for each skip in decision.audit, commands in decision.commands).
type SimulateResponse struct {
	Event            presence.Event      `json:"event"`
	ConnectUserID    string              `json:"connectUserId,omitempty"`
	SalesforceUserID string              `json:"salesforceUserId,omitempty"`
	StateSource      string              `json:"stateSource"`
	ConfigVersion    int64               `json:"configVersion"`
	Decision         presence.Decision   `json:"decision"`
	SideEffects      string              `json:"sideEffects"`
	Input            SimulateRequestKind `json:"input"`
}

// SimulateRequestKind names which form of event a simulation was given.
type SimulateRequestKind string

// The request forms.
const (
	SimulateConnectEvent      SimulateRequestKind = "connectEvent"
	SimulateSalesforceWebhook SimulateRequestKind = "salesforceWebhook"
	SimulateEvent             SimulateRequestKind = "event"
	SimulateSessionWebhook    SimulateRequestKind = "sessionWebhook"
	SimulateSessionEvent      SimulateRequestKind = "sessionEvent"
)

// SessionSimulateResponse answers a session event: the decision (actions per target, the reason,
// the audit record) and the state it was decided on.
type SessionSimulateResponse struct {
	Event         session.Event       `json:"event"`
	StateSource   string              `json:"stateSource"`
	ConfigVersion int64               `json:"configVersion"`
	Decision      session.Decision    `json:"decision"`
	SideEffects   string              `json:"sideEffects"`
	Input         SimulateRequestKind `json:"input"`
}

func (a *API) simulate(w http.ResponseWriter, r *http.Request) {
	body, err := httpjson.ReadBody(w, r, MaxBodyBytes)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	req, err := decodeSimulateRequest(body)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if len(req.SessionWebhook) > 0 || req.SessionEvent != nil {
		a.simulateSession(w, r, req)
		return
	}
	in, kind, err := simulateInput(req)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	sim, err := a.opts.Simulator.Simulate(r.Context(), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, SimulateResponse{
		Event: in.Event, ConnectUserID: in.ConnectUserID, SalesforceUserID: in.SalesforceUserID,
		StateSource: sim.StateSource, ConfigVersion: sim.ConfigVersion, Decision: sim.Decision,
		SideEffects: "none: nothing was written, sent or audited", Input: kind,
	})
}

func (a *API) simulateSession(w http.ResponseWriter, r *http.Request, req SimulateRequest) {
	if len(req.ConnectEvent) > 0 || len(req.SalesforceWebhook) > 0 || req.Event != nil || req.State != nil ||
		(len(req.SessionWebhook) > 0 && req.SessionEvent != nil) {
		a.fail(w, r, apperr.Invalidf([]apperr.Problem{{Path: "$", Message: "set exactly one of connectEvent, salesforceWebhook, event, sessionWebhook and sessionEvent; state goes with presence events, sessionState with session events"}},
			"simulate request must carry exactly one event"))
		return
	}
	if a.opts.SessionSimulator == nil {
		a.fail(w, r, apperr.New(apperr.NotFound, "session simulation is not available here"))
		return
	}
	kind := SimulateSessionEvent
	var ev session.Event
	if req.SessionEvent != nil {
		ev = *req.SessionEvent
	} else {
		kind = SimulateSessionWebhook
		b, err := sfevents.DecodeSession(req.SessionWebhook)
		if err != nil {
			a.fail(w, r, prefixProblems(err, "$.sessionWebhook"))
			return
		}
		evs := b.Events()
		if len(evs) != 1 {
			a.fail(w, r, apperr.Invalidf([]apperr.Problem{{Path: "$.sessionWebhook.events", Message: "must hold exactly one event"}},
				"simulate takes one session event at a time"))
			return
		}
		ev = evs[0]
	}
	sim, err := a.opts.SessionSimulator.Simulate(r.Context(), ev, req.SessionState, req.At)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, SessionSimulateResponse{
		Event: ev, StateSource: sim.StateSource, ConfigVersion: sim.ConfigVersion, Decision: sim.Decision,
		SideEffects: "none: nothing was written, sent or audited (relevance to the user filter is not checked)", Input: kind,
	})
}

func decodeSimulateRequest(body []byte) (SimulateRequest, error) {
	var req SimulateRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, apperr.Invalidf([]apperr.Problem{{Path: "$", Message: err.Error()}}, "simulate request is not valid JSON for SimulateRequest")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return req, apperr.Invalidf([]apperr.Problem{{Path: "$", Message: "unexpected data after the JSON object"}}, "simulate request has trailing data")
	}
	return req, nil
}

func simulateInput(req SimulateRequest) (engine.SimulateInput, SimulateRequestKind, error) {
	in := engine.SimulateInput{State: req.State, ConnectUserID: req.ConnectUserID, SalesforceUserID: req.SalesforceUserID, Now: req.At}
	set := 0
	for _, present := range []bool{len(req.ConnectEvent) > 0, len(req.SalesforceWebhook) > 0, req.Event != nil} {
		if present {
			set++
		}
	}
	if set != 1 {
		return in, "", apperr.Invalidf([]apperr.Problem{{Path: "$", Message: "set exactly one of connectEvent, salesforceWebhook and event"}},
			"simulate request must carry exactly one event")
	}
	switch {
	case len(req.ConnectEvent) > 0:
		ev, err := agentevent.Decode(req.ConnectEvent)
		if err != nil {
			return in, "", prefixProblems(err, "$.connectEvent")
		}
		in.Event, _ = agentstream.Convert(ev)
		if in.ConnectUserID == "" {
			in.ConnectUserID = ev.AgentID()
		}
		return in, SimulateConnectEvent, nil
	case len(req.SalesforceWebhook) > 0:
		b, err := sfevents.Decode(req.SalesforceWebhook)
		if err != nil {
			return in, "", prefixProblems(err, "$.salesforceWebhook")
		}
		if len(b.Events) != 1 {
			return in, "", apperr.Invalidf([]apperr.Problem{{Path: "$.salesforceWebhook.events", Message: "must hold exactly one event"}},
				"simulate takes one Salesforce event at a time")
		}
		pe, ok := b.Events[0].Presence()
		if !ok {
			return in, "", apperr.Invalidf([]apperr.Problem{{Path: "$.salesforceWebhook.events[0].type", Message: "a command acknowledgement decides nothing"}},
				"simulate takes presence events, not acknowledgements")
		}
		in.Event = pe
		if in.SalesforceUserID == "" {
			in.SalesforceUserID = b.Events[0].UserID
		}
		return in, SimulateSalesforceWebhook, nil
	default:
		if in.ConnectUserID == "" && in.SalesforceUserID == "" && in.State == nil {
			return in, "", apperr.Invalidf([]apperr.Problem{{Path: "$.connectUserId", Message: "name the agent with connectUserId or salesforceUserId, or give state"}},
				"simulate needs to know whose event it is")
		}
		in.Event = *req.Event
		return in, SimulateEvent, nil
	}
}

// prefixProblems moves a decoder's problem paths under the request field that held the input.
func prefixProblems(err error, prefix string) error {
	probs := apperr.ProblemsOf(err)
	if len(probs) == 0 {
		return apperr.Invalidf([]apperr.Problem{{Path: prefix, Message: apperr.MessageOf(err)}}, "%s", apperr.MessageOf(err))
	}
	out := make([]apperr.Problem, len(probs))
	for i, p := range probs {
		path := p.Path
		switch {
		case path == "" || path == "$":
			path = prefix
		case len(path) > 1 && path[0] == '$':
			path = prefix + path[1:]
		default:
			path = prefix + "." + path
		}
		out[i] = apperr.Problem{Path: path, Message: p.Message}
	}
	return apperr.Invalidf(out, "%s", apperr.MessageOf(err))
}
