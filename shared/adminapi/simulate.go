package adminapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/agentstream"
	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/httpjson"
	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/routing"
	"github.com/omnibridge/omnibridge/shared/rules"
	"github.com/omnibridge/omnibridge/shared/session"
	"github.com/omnibridge/omnibridge/shared/sessionsync"
	"github.com/omnibridge/omnibridge/shared/sfevents"
	"github.com/omnibridge/omnibridge/shared/strictjson"
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
// Case events take CaseWebhook (a case webhook body with exactly one event), with CaseEntry in
// place of the case's stored routing entry.
//
// State, when set, replaces the stored agent state; At, when set, is the decision time.
type SimulateRequest struct {
	CaseWebhook       json.RawMessage      `json:"caseWebhook,omitempty"`
	CaseEntry         *routing.Entry       `json:"caseEntry,omitempty"`
	SessionWebhook    json.RawMessage      `json:"sessionWebhook,omitempty"`
	ContactEvent      json.RawMessage      `json:"contactEvent,omitempty"`
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
	SimulateCaseWebhook       SimulateRequestKind = "caseWebhook"
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
	if len(req.CaseWebhook) > 0 {
		a.simulateCase(w, r, req)
		return
	}
	if len(req.ContactEvent) > 0 {
		a.simulateContact(w, r, req.ContactEvent)
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

// decodeSimulateRequest reads the body strictly (unknown fields, duplicate keys, wrong types:
// every problem with its path) and checks the engine's own event forms as the webhook and the
// stream decoders check theirs, so that a malformed event is a 400 naming the field rather than
// a 200 with outcome "invalid".
func decodeSimulateRequest(body []byte) (SimulateRequest, error) {
	var req SimulateRequest
	if err := strictjson.Decode(body, &req, "simulate request"); err != nil {
		return req, err
	}
	forms := 0
	for _, present := range []bool{len(req.ConnectEvent) > 0, len(req.SalesforceWebhook) > 0, req.Event != nil, len(req.SessionWebhook) > 0, req.SessionEvent != nil, len(req.CaseWebhook) > 0, len(req.ContactEvent) > 0} {
		if present {
			forms++
		}
	}
	if forms != 1 {
		return req, apperr.Invalidf([]apperr.Problem{{Path: "$", Message: "set exactly one of connectEvent, salesforceWebhook, event, sessionWebhook, sessionEvent, caseWebhook and contactEvent"}},
			"simulate request must carry exactly one event")
	}
	var problems []apperr.Problem
	add := func(path, msg string) { problems = append(problems, apperr.Problem{Path: path, Message: msg}) }
	if len(req.ContactEvent) > 0 {
		for _, f := range []struct {
			set  bool
			name string
		}{{req.State != nil, "state"}, {req.SessionState != nil, "sessionState"}, {req.ConnectUserID != "", "connectUserId"}, {req.SalesforceUserID != "", "salesforceUserId"}, {!req.At.IsZero(), "at"}} {
			if f.set {
				add("$."+f.name, "does not go with a contactEvent: the simulation merges the event into the contact's stored state")
			}
		}
	} else if isSession := len(req.SessionWebhook) > 0 || req.SessionEvent != nil; isSession {
		for _, f := range []struct {
			set  bool
			name string
		}{{req.State != nil, "state"}, {req.ConnectUserID != "", "connectUserId"}, {req.SalesforceUserID != "", "salesforceUserId"}} {
			if f.set {
				add("$."+f.name, "goes with presence events; a session event names its user, and takes sessionState")
			}
		}
	} else if req.SessionState != nil {
		add("$.sessionState", "goes with session events; a presence event takes state")
	}
	if req.CaseEntry != nil && len(req.CaseWebhook) == 0 {
		add("$.caseEntry", "goes with caseWebhook")
	}
	if len(req.CaseWebhook) > 0 {
		for _, f := range []struct {
			set  bool
			name string
		}{{req.State != nil, "state"}, {req.SessionState != nil, "sessionState"}, {req.ConnectUserID != "", "connectUserId"}, {req.SalesforceUserID != "", "salesforceUserId"}, {!req.At.IsZero(), "at"}} {
			if f.set {
				add("$."+f.name, "does not go with caseWebhook, which takes caseEntry")
			}
		}
	}
	if req.Event != nil {
		problems = append(problems, eventProblems("$.event", *req.Event)...)
	}
	if req.State != nil {
		problems = append(problems, mirrorProblems("$.state.salesforce", req.State.Salesforce)...)
	}
	if req.SessionEvent != nil {
		problems = append(problems, sessionEventProblems(req.SessionEvent, req.SessionState)...)
	}
	if len(problems) > 0 {
		return req, apperr.Invalidf(problems, "simulate request has %d problem(s)", len(problems))
	}
	return req, nil
}

// maxEventIDLength bounds an event id, as the webhook contract does.
const maxEventIDLength = 128

func eventIDProblem(path, id string) []apperr.Problem {
	switch {
	case strings.TrimSpace(id) == "":
		return []apperr.Problem{{Path: path, Message: "is required"}}
	case utf8.RuneCountInString(id) > maxEventIDLength:
		return []apperr.Problem{{Path: path, Message: fmt.Sprintf("must be at most %d characters", maxEventIDLength)}}
	case strings.ContainsFunc(id, unicode.IsControl):
		return []apperr.Problem{{Path: path, Message: "must not contain control characters"}}
	}
	return nil
}

// eventProblems checks the engine's event form (presence.Event).
func eventProblems(p string, ev presence.Event) []apperr.Problem {
	problems := eventIDProblem(p+".id", ev.ID)
	add := func(path, msg string) { problems = append(problems, apperr.Problem{Path: path, Message: msg}) }
	if !ev.Kind.Valid() {
		var kinds []string
		for _, k := range rules.EventKinds() {
			kinds = append(kinds, strconv.Quote(string(k)))
		}
		add(p+".kind", "must be one of "+strings.Join(kinds, ", "))
	}
	if ev.Time.IsZero() {
		add(p+".time", "is required")
	}
	if ev.Availability != nil {
		add(p+".availability", "session availability requests are simulated as session events (sessionEvent or sessionWebhook)")
	}
	switch ev.Kind {
	case rules.EventConnectAgentStateChanged:
		if strings.TrimSpace(ev.Connect.StatusName) == "" {
			add(p+".connect.statusName", "is required for "+string(ev.Kind))
		}
	case rules.EventSalesforceAgentStateChanged:
		if ev.Salesforce.StatusID == "" && ev.Salesforce.StatusName == "" {
			add(p+".salesforce.statusName", "statusId or statusName is required for "+string(ev.Kind))
		}
	case rules.EventSalesforceWorkAccepted:
		if strings.TrimSpace(ev.Salesforce.Channel) == "" {
			add(p+".salesforce.channel", "is required for "+string(ev.Kind))
		}
	}
	sf := ev.Salesforce
	for _, n := range []struct {
		name string
		v    rules.Number
	}{{"previousWorkload", sf.PreviousWorkload}, {"newWorkload", sf.NewWorkload}, {"configuredCapacity", sf.ConfiguredCapacity}} {
		if n.v.Valid && n.v.Value < 0 {
			add(p+".salesforce."+n.name, "must be 0 or more")
		}
	}
	return problems
}

// mirrorProblems checks a given state's Salesforce workload and capacity.
func mirrorProblems(p string, m presence.SalesforceMirror) []apperr.Problem {
	var problems []apperr.Problem
	if m.Workload.Valid && m.Workload.Value < 0 {
		problems = append(problems, apperr.Problem{Path: p + ".workload", Message: "must be 0 or more"})
	}
	if m.Capacity.Valid && m.Capacity.Value < 0 {
		problems = append(problems, apperr.Problem{Path: p + ".capacity", Message: "must be 0 or more"})
	}
	return problems
}

// sessionKinds are the session event kinds and where each comes from.
var sessionKinds = map[session.Kind]session.Source{
	session.KindLogin: session.SourceWebhook, session.KindLogout: session.SourceWebhook,
	session.KindPollActive: session.SourcePoll, session.KindPollInactive: session.SourcePoll,
}

// sessionEventProblems checks the session event form, and fills its source from its kind when
// left out and its user id in 18-character form.
func sessionEventProblems(ev *session.Event, st *session.State) []apperr.Problem {
	const p = "$.sessionEvent"
	problems := eventIDProblem(p+".id", ev.ID)
	add := func(path, msg string) { problems = append(problems, apperr.Problem{Path: path, Message: msg}) }
	source, ok := sessionKinds[ev.Kind]
	switch {
	case !ok:
		add(p+".kind", `must be one of "login", "logout", "pollActive", "pollInactive"`)
	case ev.Source == "":
		ev.Source = source
	case ev.Source != source:
		add(p+".source", fmt.Sprintf("must be %q for kind %q (or left out)", source, ev.Kind))
	}
	if id, ok := sfevents.CaseSafeID(ev.UserID); ok && strings.HasPrefix(ev.UserID, "005") {
		ev.UserID = id
	} else {
		add(p+".userId", "must be a user id (005 followed by 12 or 15 letters and digits)")
	}
	if ev.At.IsZero() {
		add(p+".at", "is required")
	}
	if st != nil && st.UserID != "" {
		if id, _ := sfevents.CaseSafeID(st.UserID); id != ev.UserID {
			add("$.sessionState.userId", "must be the event's user ("+ev.UserID+"), or left out")
		}
	}
	return problems
}

func simulateInput(req SimulateRequest) (engine.SimulateInput, SimulateRequestKind, error) {
	in := engine.SimulateInput{State: req.State, ConnectUserID: req.ConnectUserID, SalesforceUserID: req.SalesforceUserID, Now: req.At}
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
