package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/calllog"
	"github.com/omnibridge/omnibridge/shared/connect/connectsim"
	"github.com/omnibridge/omnibridge/shared/contactevent"
	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
	"github.com/omnibridge/omnibridge/shared/screenpop"
)

// The call day: steps that play Amazon Connect voice calls, which call logging logs in
// Salesforce (the caller's Contact, a Case, a step log, the call Task and the screen pop).
//
//	{"at": "09:00:00", "call": {"inbound": {"call": "alice", "from": "+14155551212", "queue": "BasicQueue"}}}
//	                   a customer calls; the inbound flow queues the call (INITIATED, QUEUED).
//	                   "from" is the number as Connect reports it (E.164), "" for a withheld one
//	{"at": "09:00:20", "call": {"answer": "alice"}}      the call's waiting leg rings for the step's
//	                   agent, who accepts it (RouteContact, Accept, Connect: CONNECTED_TO_AGENT)
//	{"at": "09:03:00", "call": {"hold": "alice"}}        the agent puts the call on hold
//	{"at": "09:04:30", "call": {"resume": "alice"}}      and takes it off hold
//	{"at": "09:05:00", "call": {"transfer": {"call": "alice", "queue": "BasicQueue"}}}
//	                   the agent transfers the call to a queue: the leg ends (DISCONNECTED, the
//	                   agent goes to after-contact work) and a new leg with PreviousContactId
//	                   waits there for the next "answer"
//	{"at": "09:08:00", "call": {"hangUp": "alice"}}      the call ends (End: DISCONNECTED); the
//	                   agent is in after-contact work
//	{"at": "09:09:30", "call": {"wrapUp": "alice"}}      the agent ends the after-contact work
//	                   (Clear: COMPLETED)
//	{"at": "12:10:00", "call": {"deliver": {"call": "bob", "order": "reversed", "duplicates": true}}}
//	                   EventBridge delivers the call's contact events late: from the call's start
//	                   (or its previous deliver step) until this step they are held back, then
//	                   delivered here in "order" ("emitted", the default, or "reversed": newest
//	                   first) and, with "duplicates", all of them a second time in that order
//
// Calls are names the scenario gives them in "inbound"; a call's legs (a transfer makes a new
// one) are named "alice#1", "alice#2". An agent step acts on the call's leg on the step's agent
// ("answer": its leg waiting in a queue). Contact events are otherwise delivered as emitted.
// The timeline lists each leg's contact events, the DescribeContact call, the Salesforce
// requests call logging made for the event (search, composite with each subrequest, queries)
// and its decisions from the audit log under contact/<id> ("callLog"); the summary lists each
// call's legs: the caller matched or created, the Case, the steps logged with their durations,
// the Task and the screen pop.

// callStepAction is what happens to a scenario call; exactly one field is set.
type callStepAction struct {
	Inbound  *inboundCallAction  `json:"inbound"`
	Answer   *string             `json:"answer"`
	Hold     *string             `json:"hold"`
	Resume   *string             `json:"resume"`
	Transfer *transferCallAction `json:"transfer"`
	HangUp   *string             `json:"hangUp"`
	WrapUp   *string             `json:"wrapUp"`
	Deliver  *deliverCallAction  `json:"deliver"`
}

// inboundCallAction is a customer calling the contact center.
type inboundCallAction struct {
	// Call is the scenario's name for the call, used by the later steps.
	Call string `json:"call"`
	// From is the caller's number in E.164, "" for a withheld number; required, so a withheld
	// number is always written on purpose.
	From *string `json:"from"`
	// Queue is the Connect queue (name or id) the inbound flow puts the call in.
	Queue string `json:"queue"`
}

// transferCallAction is the agent transferring a call to a queue.
type transferCallAction struct {
	Call  string `json:"call"`
	Queue string `json:"queue"`
}

// deliverCallAction delivers a call's held contact events.
type deliverCallAction struct {
	Call string `json:"call"`
	// Order is deliverEmitted (the default) or deliverReversed.
	Order string `json:"order"`
	// Duplicates delivers every held event a second time, after the first pass.
	Duplicates bool `json:"duplicates"`
}

// The orders a deliver step can deliver held events in.
const (
	deliverEmitted  = "emitted"
	deliverReversed = "reversed"
)

// e164Pattern is a number as Connect reports a caller's: E.164.
var e164Pattern = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// needsAgent reports whether a call action is an agent's (everything but a customer calling and
// EventBridge delivering).
func (a *callStepAction) needsAgent() bool { return a.Inbound == nil && a.Deliver == nil }

// callRef returns the call a call action acts on, and the action's field path.
func (a *callStepAction) callRef() (string, string) {
	switch {
	case a.Inbound != nil:
		return a.Inbound.Call, "inbound.call"
	case a.Transfer != nil:
		return a.Transfer.Call, "transfer.call"
	case a.Deliver != nil:
		return a.Deliver.Call, "deliver.call"
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"answer", a.Answer}, {"hold", a.Hold}, {"resume", a.Resume}, {"hangUp", a.HangUp}, {"wrapUp", a.WrapUp}} {
		if f.v != nil {
			return *f.v, f.name
		}
	}
	return "", ""
}

// verb names an agent's call action for the timeline.
func (a *callStepAction) verb() string {
	_, field := a.callRef()
	verb, _, _ := strings.Cut(field, ".")
	return verb
}

// checkCallAction checks a step's call action and fills its defaults.
func checkCallAction(a *callStepAction, path string, probs *scenarioProblems) bool {
	if !oneAction(setFields(a), a, path, probs) {
		return false
	}
	n := len(*probs)
	if name, field := a.callRef(); name == "" {
		what := "the name of a call made earlier"
		if a.Inbound != nil {
			what = "a name for the call, used by the later steps"
		}
		probs.add(path+"."+field, "required: %s", what)
	}
	if in := a.Inbound; in != nil {
		switch {
		case in.From == nil:
			probs.add(path+".inbound.from", "required: the caller's number in E.164, such as +14155551212 (\"\" for a withheld number)")
		case *in.From != "" && !e164Pattern.MatchString(*in.From):
			probs.add(path+".inbound.from", "%q is not an E.164 number such as +14155551212, as Connect reports callers (\"\" for a withheld number)", *in.From)
		}
		if in.Queue == "" {
			probs.add(path+".inbound.queue", "required: the Connect queue the inbound flow puts the call in")
		}
	}
	if t := a.Transfer; t != nil && t.Queue == "" {
		probs.add(path+".transfer.queue", "required: the Connect queue the call is transferred to")
	}
	if d := a.Deliver; d != nil {
		switch d.Order {
		case "":
			d.Order = deliverEmitted
		case deliverEmitted, deliverReversed:
		default:
			probs.add(path+".deliver.order", "unknown order %q (want %s or %s)", d.Order, deliverEmitted, deliverReversed)
		}
	}
	return len(*probs) == n
}

// checkCalls checks that a step's call name is new where it makes a call and known where it uses
// one, and tracks the calls made.
func checkCalls(st scenarioStep, path string, calls map[string]bool, probs *scenarioProblems) {
	if st.Call == nil {
		return
	}
	name, field := st.Call.callRef()
	if name == "" {
		return
	}
	if st.Call.Inbound != nil {
		if calls[name] {
			probs.add(path+".call."+field, "a call %q was made in an earlier step", name)
		}
		calls[name] = true
		return
	}
	if !calls[name] {
		probs.add(path+".call."+field, "no call %q was made in an earlier step", name)
	}
}

// usesCalls reports whether the scenario has call steps.
func (sc *scenario) usesCalls() bool {
	return slices.ContainsFunc(sc.Steps, func(st scenarioStep) bool { return st.Call != nil })
}

// describeCall renders a call step's action for the timeline's header line.
func (st scenarioStep) describeCall() string {
	c := st.Call
	switch {
	case c.Inbound != nil:
		from := "from " + *c.Inbound.From
		if *c.Inbound.From == "" {
			from = "from a withheld number"
		}
		return fmt.Sprintf("[call] %s calls %s (queue %s)", c.Inbound.Call, from, c.Inbound.Queue)
	case c.Deliver != nil:
		d := c.Deliver
		how := "as emitted"
		if d.Order == deliverReversed {
			how = "newest first"
		}
		if d.Duplicates {
			how += ", each twice"
		}
		return fmt.Sprintf("[call] EventBridge delivers %s's held contact events (%s)", d.Call, how)
	case c.Transfer != nil:
		return fmt.Sprintf("[call] %s transfer %s to %s", st.Agent, c.Transfer.Call, c.Transfer.Queue)
	}
	name, _ := c.callRef()
	return "[call] " + st.Agent + " " + c.verb() + " " + name
}

// scenarioCall is one call of the scenario: its legs, in order, and its deliver steps.
type scenarioCall struct {
	name string
	from string
	legs []string // Connect contact ids
	// delivers are the indexes of the call's deliver steps: its contact events are held until
	// the next one.
	delivers []int
	// held are the contact events held for the next deliver step, as emitted.
	held []connectsim.ContactEventRecord
}

// callRun is the runner's state for the call steps.
type callRun struct {
	sf     *salesforce.Client
	calls  []*scenarioCall
	byName map[string]*scenarioCall
	// legName names each leg ("alice#2"), legCall gives its call.
	legName map[string]string
	legCall map[string]*scenarioCall
	// queueName names the Connect queues the calls were put in, by id.
	queueName map[string]string
	// sfCalls lists, per leg, the kinds of the Salesforce requests made while its events were
	// handled ("search", "composite", "query").
	sfCalls map[string][]string
	// step is the index of the step being played.
	step int
}

// setupCalls prepares the call steps: the deliver steps each call's events are held for.
func (r *scenarioRunner) setupCalls(sf *salesforce.Client) {
	c := &r.cl
	c.sf = sf
	c.byName, c.legName, c.legCall = map[string]*scenarioCall{}, map[string]string{}, map[string]*scenarioCall{}
	c.queueName, c.sfCalls = map[string]string{}, map[string][]string{}
	for _, st := range r.sc.Steps {
		if st.Call == nil {
			continue
		}
		name, _ := st.Call.callRef()
		if st.Call.Inbound != nil {
			call := &scenarioCall{name: name, from: *st.Call.Inbound.From}
			c.calls = append(c.calls, call)
			c.byName[name] = call
		}
		if st.Call.Deliver != nil {
			c.byName[name].delivers = append(c.byName[name].delivers, st.Index)
		}
	}
}

// callsHeader describes the config's callLogging section, for scenarios with calls.
func (r *scenarioRunner) callsHeader() string {
	cl := r.cfg.EffectiveCallLogging()
	if !cl.Enabled {
		return "callLogging: disabled"
	}
	task := "no Task"
	if cl.TaskEnabled() {
		task = "a Task per call"
	}
	attach := "a new Case per call"
	if cl.Case.AttachWindowMinutes > 0 {
		attach = fmt.Sprintf("attach to the Contact's open Case within %d min", cl.Case.AttachWindowMinutes)
	}
	return fmt.Sprintf("callLogging: region %s; no match %s (%q); tie-break %s; Case origin %s, subject %q, %s; %s",
		cl.DefaultRegion, cl.OnNoMatch, cl.NewContact.LastName, cl.TieBreak, cl.Case.Origin, cl.Case.SubjectTemplate, attach, task)
}

// callAction plays a call step in connectsim; the contact events it emits are fed in the next
// round (or held for a deliver step).
func (r *scenarioRunner) callAction(ctx context.Context, step scenarioStep) error {
	sim := r.st.sims.connect
	c := step.Call
	name, _ := c.callRef()
	call := r.cl.byName[name]
	a := r.agents[step.Agent]
	switch {
	case c.Inbound != nil:
		id, err := sim.Call(connectsim.NewCall{Customer: call.from, Queue: c.Inbound.Queue})
		if apperr.Is(err, apperr.NotFound) {
			return fmt.Errorf("call.inbound.queue: Connect has no queue %q in the seed", c.Inbound.Queue)
		}
		if err != nil {
			return err
		}
		leg := r.addLeg(call, id, c.Inbound.Queue)
		from := call.from
		if from == "" {
			from = "a withheld number"
		}
		r.line("caller", "%s calls from %s: %s waits in %s", call.name, from, leg, c.Inbound.Queue)
		return nil
	case c.Deliver != nil:
		return r.deliverHeld(ctx, call, c.Deliver)
	case c.Answer != nil:
		id, ok := r.waitingLeg(call)
		if !ok {
			return fmt.Errorf("call %s has no leg waiting in a Connect queue", call.name)
		}
		offered := r.clock.Now()
		if err := sim.RouteContact(id, a.connectID); err != nil {
			return err
		}
		accepted := r.clock.advance(scenarioRingTime)
		if err := sim.Accept(id); err != nil {
			return err
		}
		connected := r.clock.advance(scenarioConnectTime)
		if err := sim.Connect(id); err != nil {
			return err
		}
		r.line("CCP", "call %s rings for %s at %s, accepted at %s, connected at %s", r.cl.legName[id], a.username, clock(offered), clock(accepted), clock(connected))
		return nil
	}
	id, state, ok := r.agentLeg(call, a.connectID)
	if !ok {
		return fmt.Errorf("call %s has no leg on %s", call.name, a.username)
	}
	leg := r.cl.legName[id]
	live := state == agentevent.ContactStateConnected || state == agentevent.ContactStateConnectedOnHold
	switch {
	case c.WrapUp != nil:
		if state != agentevent.ContactStateEnded {
			return fmt.Errorf("call %s is %s on %s: hang up (or transfer) before the wrap-up", leg, state, a.username)
		}
		if err := sim.Clear(id); err != nil {
			return err
		}
		r.line("CCP", "%s ends the after-contact work of %s", a.username, leg)
		return nil
	case !live:
		return fmt.Errorf("call %s is %s on %s, not connected", leg, state, a.username)
	case c.Hold != nil:
		if err := sim.Hold(id); err != nil {
			return err
		}
		r.line("CCP", "%s puts %s on hold", a.username, leg)
	case c.Resume != nil:
		if err := sim.Resume(id); err != nil {
			return err
		}
		r.line("CCP", "%s takes %s off hold", a.username, leg)
	case c.HangUp != nil:
		if err := sim.End(id); err != nil {
			return err
		}
		r.line("CCP", "%s hangs up %s: after-contact work begins", a.username, leg)
	case c.Transfer != nil:
		next, err := sim.Transfer(id, c.Transfer.Queue)
		if apperr.Is(err, apperr.NotFound) {
			return fmt.Errorf("call.transfer.queue: Connect has no queue %q in the seed", c.Transfer.Queue)
		}
		if err != nil {
			return err
		}
		r.line("CCP", "%s transfers %s to %s: %s ends (after-contact work), %s waits in %s", a.username, leg, c.Transfer.Queue,
			leg, r.addLeg(call, next, c.Transfer.Queue), c.Transfer.Queue)
	}
	return nil
}

// addLeg names a new leg of call and remembers the queue it waits in.
func (r *scenarioRunner) addLeg(call *scenarioCall, id, queue string) string {
	call.legs = append(call.legs, id)
	name := fmt.Sprintf("%s#%d", call.name, len(call.legs))
	r.cl.legName[id], r.cl.legCall[id], r.contactName[id] = name, call, name
	if c, err := r.st.sims.connect.Contact(id); err == nil && c.QueueID != "" {
		r.cl.queueName[c.QueueID] = queue
	}
	return name
}

// waitingLeg returns the call's newest leg if it waits in a queue.
func (r *scenarioRunner) waitingLeg(call *scenarioCall) (string, bool) {
	id := call.legs[len(call.legs)-1]
	c, err := r.st.sims.connect.Contact(id)
	return id, err == nil && c.AgentID == "" && !c.Ended
}

// agentLeg returns the call's newest leg on the agent and its state.
func (r *scenarioRunner) agentLeg(call *scenarioCall, agentID string) (string, agentevent.ContactState, bool) {
	for _, id := range slices.Backward(call.legs) {
		if c, err := r.st.sims.connect.Contact(id); err == nil && c.AgentID == agentID {
			return id, c.State, true
		}
	}
	return "", "", false
}

// isCallEvent reports whether a contact event is of a scenario call's leg.
func (r *scenarioRunner) isCallEvent(ev connectsim.ContactEventRecord) bool {
	return r.cl.legCall[ev.Event.Detail.ContactID] != nil
}

// feedCallEvent delivers a call leg's contact event to contact-events, or holds it for the
// call's next deliver step.
func (r *scenarioRunner) feedCallEvent(ctx context.Context, ev connectsim.ContactEventRecord) error {
	d := ev.Event.Detail
	call := r.cl.legCall[d.ContactID]
	if i := slices.IndexFunc(call.delivers, func(s int) bool { return s > r.cl.step }); i >= 0 {
		call.held = append(call.held, ev)
		at := r.sc.Steps[slices.IndexFunc(r.sc.Steps, func(st scenarioStep) bool { return st.Index == call.delivers[i] })].Clock
		r.line("contact", "%s: held back (EventBridge delivers it at %s)", r.describeCallEvent(d), at)
		return nil
	}
	return r.deliverCallEvent(ctx, ev, "")
}

// deliverHeld delivers a call's held contact events, in the deliver step's order, and with
// duplicates a second time.
func (r *scenarioRunner) deliverHeld(ctx context.Context, call *scenarioCall, d *deliverCallAction) error {
	evs := slices.Clone(call.held)
	call.held = nil
	if len(evs) == 0 {
		r.line("contact", "no contact event of %s is held", call.name)
		return nil
	}
	if d.Order == deliverReversed {
		slices.Reverse(evs)
	}
	passes := 1
	if d.Duplicates {
		passes = 2
	}
	for pass := range passes {
		for _, ev := range evs {
			note := fmt.Sprintf(" — late: an event of %s", clock(ev.Event.OccurredAt()))
			if pass > 0 {
				note = fmt.Sprintf(" — again: a duplicate of the event of %s", clock(ev.Event.OccurredAt()))
			}
			if err := r.deliverCallEvent(ctx, ev, note); err != nil {
				return err
			}
		}
	}
	return r.collect(ctx)
}

// deliverCallEvent hands one contact event of a call leg to contact-events and lists it, with
// the Connect and Salesforce requests call logging made for it and its decisions.
func (r *scenarioRunner) deliverCallEvent(ctx context.Context, ev connectsim.ContactEventRecord, note string) error {
	d := ev.Event.Detail
	leg := r.cl.legName[d.ContactID]
	r.line("contact", "%s%s", r.describeCallEvent(d), note)
	cnMark, sfMark := len(r.st.sims.connect.Requests()), len(r.st.sims.salesforce.Requests())
	rep := r.dispatchContactEvent(ctx, ev, leg)
	if len(rep.Skipped) > 0 && len(rep.Handled) == 0 {
		r.line("contact", "%s: the dispatcher had already handled event %s (%s): dropped", leg, rep.EventID, strings.Join(rep.Skipped, ", "))
	}
	for _, q := range r.st.sims.connect.Requests()[cnMark:] {
		if q.Op != "DescribeContact" {
			continue
		}
		result := fmt.Sprintf("HTTP %d", q.Status)
		if q.ErrorType != "" {
			result += " " + q.ErrorType
		}
		r.line("Connect", "DescribeContact %s (%s): the caller's number, which contact events lack", leg, result)
	}
	for i, q := range r.st.sims.salesforce.Requests()[sfMark:] {
		r.printCallRequest(d.ContactID, q, i == 0)
	}
	entries, err := r.auditSince(ctx, audit.Subject(audit.KindContact, d.ContactID))
	if err != nil {
		return err
	}
	// Decisions audited at one instant are shown in the order they were taken.
	slices.SortStableFunc(entries, func(x, y audit.Entry) int {
		if c := x.Time.Compare(y.Time); c != 0 {
			return c
		}
		return cmp.Compare(callOutcomeRank(x.Outcome), callOutcomeRank(y.Outcome))
	})
	for _, e := range entries {
		r.printCallDecision(leg, e)
	}
	return nil
}

// callOutcomeRank orders call logging's decisions of one event as the handler takes them: the
// caller (withheld, matched, joined), then what was skipped or refused, then what was written.
func callOutcomeRank(outcome string) int {
	switch outcome {
	case "recovered", "search-fallback":
		return 0
	case "withheld", "matched", "transfer-joined":
		return 1
	case "case-attached":
		return 2
	case "logged", "salesforce-failed":
		return 4
	}
	return 3
}

// describeCallEvent summarises a contact event of a call leg.
func (r *scenarioRunner) describeCallEvent(d contactevent.Detail) string {
	leg := r.cl.legName[d.ContactID]
	switch d.EventType {
	case contactevent.Initiated:
		if p := r.cl.legName[d.PreviousContactID]; p != "" {
			return fmt.Sprintf("%s %s (%s, PreviousContactId %s)", d.EventType, leg, d.InitiationMethod, p)
		}
		return fmt.Sprintf("%s %s (%s)", d.EventType, leg, d.InitiationMethod)
	case contactevent.Queued:
		if d.Queue != nil {
			id := d.QueueID()
			return fmt.Sprintf("%s %s in %s", d.EventType, leg, cmp.Or(r.cl.queueName[id], id))
		}
	case contactevent.Disconnected:
		s := r.describeContactEvent(leg, d)
		if a := d.Agent; a != nil && a.AgentInitiatedHoldDuration != nil {
			s += fmt.Sprintf(" (on hold %d s)", *a.AgentInitiatedHoldDuration)
		}
		return s
	case contactevent.Completed:
		if a := d.Agent; a != nil && a.AfterContactWorkDuration != nil {
			return fmt.Sprintf("%s %s (after-contact work %d s)", d.EventType, leg, *a.AfterContactWorkDuration)
		}
	}
	return r.describeContactEvent(leg, d)
}

// printCallRequest lists a Salesforce request call logging made for a leg's event: the search,
// a query, or a composite request with one line per subrequest. A token request is the
// client's first login when it comes first, else its refresh after Salesforce refused the
// request before it as 401 INVALID_SESSION_ID (the client asks for a token at no other time).
func (r *scenarioRunner) printCallRequest(contactID string, q sfsim.Request, first bool) {
	leg := r.cl.legName[contactID]
	calls := r.cl.sfCalls[contactID]
	switch q.Kind {
	case sfsim.KindToken:
		if first {
			r.line("Salesforce", "token: the contact-events function logs in (OAuth)")
			return
		}
		r.line("Salesforce", "token: the access token had expired, so the request above was refused (401 INVALID_SESSION_ID); the client got a new one and sent it again")
		if n := len(calls); n > 0 {
			calls[n-1] += " (401)"
		}
	case sfsim.KindSearch:
		v, _ := url.ParseQuery(q.RawQuery)
		r.line("Salesforce", "search: %s", v.Get("q"))
		r.cl.sfCalls[contactID] = append(r.cl.sfCalls[contactID], "search")
	case sfsim.KindQuery:
		v, _ := url.ParseQuery(q.RawQuery)
		r.line("Salesforce", "query: %s", r.callNames(v.Get("q")))
		r.cl.sfCalls[contactID] = append(r.cl.sfCalls[contactID], "query")
	case sfsim.KindComposite:
		var body struct {
			AllOrNone bool                    `json:"allOrNone"`
			Requests  []salesforce.Subrequest `json:"compositeRequest"`
		}
		_ = json.Unmarshal(q.Body, &body)
		how := ""
		if body.AllOrNone {
			how = " (allOrNone)"
		}
		r.line("Salesforce", "composite%s for %s, %d subrequest(s):", how, leg, len(body.Requests))
		for _, sr := range body.Requests {
			r.more("%s", r.describeSubrequest(sr))
		}
		r.cl.sfCalls[contactID] = append(r.cl.sfCalls[contactID], "composite")
	default:
		r.line("Salesforce", "%s %s", q.Method, q.Path)
		r.cl.sfCalls[contactID] = append(r.cl.sfCalls[contactID], string(q.Kind))
	}
}

// describeSubrequest renders one subrequest of call logging's composite request.
func (r *scenarioRunner) describeSubrequest(sr salesforce.Subrequest) string {
	_, rest, _ := strings.Cut(sr.URL, "sobjects/")
	parts := strings.Split(rest, "/")
	fields, _ := sr.Body.(map[string]any)
	field := func(k string) string {
		v, ok := fields[k]
		switch {
		case !ok:
			return ""
		case v == nil:
			return "null"
		}
		s := fmt.Sprint(v)
		switch k {
		case "ContactId", "WhoId", "WhatId", "Case__c", "OwnerId", "Agent_User__c", screenpop.FieldUserID, screenpop.FieldRecordID:
			return r.sfName(s)
		case screenpop.FieldConnectContactID, "Connect_Contact_Id__c", "CallObject":
			return cmp.Or(r.cl.legName[s], s)
		case "Started_At__c", "Ended_At__c":
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return clock(t)
			}
		case "Duration_Seconds__c", "CallDurationInSeconds":
			return s + " s"
		}
		return fmt.Sprintf("%q", s)
	}
	list := func(keys ...string) string {
		var out []string
		for _, k := range keys {
			if v := field(k); v != "" {
				out = append(out, k+" "+v)
			}
		}
		return strings.Join(out, ", ")
	}
	object := parts[0]
	switch {
	case sr.Method == "PATCH" && len(parts) == 3:
		key, _ := url.PathUnescape(parts[2])
		if id, slug, ok := strings.Cut(key, ":"); ok && r.cl.legName[id] != "" {
			key = r.cl.legName[id] + ":" + slug
		}
		return fmt.Sprintf("%s upsert %s %s %s: %s", sr.ReferenceID, object, parts[1], key,
			list("Step__c", "Started_At__c", "Ended_At__c", "Duration_Seconds__c", "Case__c", "Agent_User__c"))
	case object == "Contact" || object == "Lead":
		return fmt.Sprintf("%s create %s: %s", sr.ReferenceID, object, list("FirstName", "LastName", "Phone", "Company", "AccountId"))
	case object == "Case":
		return fmt.Sprintf("%s create Case: %s", sr.ReferenceID, list("ContactId", "OwnerId", "Origin", "Subject", "SuppliedPhone"))
	case object == "Task":
		return fmt.Sprintf("%s create Task: %s", sr.ReferenceID, list("TaskSubtype", "CallType", "CallDurationInSeconds", "CallObject", "WhoId", "WhatId", "OwnerId", "Status"))
	case object == screenpop.Event:
		return fmt.Sprintf("%s publish %s: %s", sr.ReferenceID, object, list(screenpop.FieldUserID, screenpop.FieldRecordID, screenpop.FieldReason))
	}
	return fmt.Sprintf("%s %s %s", sr.ReferenceID, sr.Method, sr.URL)
}

// sfRecordID matches the ids sfsim gives records ("xx" stands for the instance).
var sfRecordID = regexp.MustCompile(`\b[0-9a-zA-Z]{3}xx[0-9a-zA-Z]{10}(?:[0-9A-Z]{3})?\b`)

// sfName names a Salesforce record for the timeline: a scenario agent, a Case by number, a
// Contact or Lead by name; a composite reference or an unknown id stays as it is.
func (r *scenarioRunner) sfName(id string) string {
	if a := r.bySF[sfsim.CaseSafeID(id)]; a != nil {
		return a.username
	}
	typ, f, ok := r.st.sims.salesforce.Record(id)
	if !ok {
		return id
	}
	switch typ {
	case "Case":
		return fmt.Sprintf("Case %s", f["CaseNumber"])
	case "Contact", "Lead":
		return fmt.Sprintf("%s %q", typ, f["Name"])
	}
	return id
}

// callNames replaces the leg, agent and record ids in text with their scenario names.
func (r *scenarioRunner) callNames(text string) string {
	for _, id := range sortedKeys(r.cl.legName) {
		text = strings.ReplaceAll(text, id, r.cl.legName[id])
	}
	text = sfRecordID.ReplaceAllStringFunc(text, r.sfName)
	// "created Case 500…" reads "created Case 00000001", not "Case Case 00000001".
	for _, typ := range []string{"Case", "Contact", "Lead"} {
		text = strings.ReplaceAll(text, typ+" "+typ+" ", typ+" ")
	}
	return r.routingNames(text)
}

// printCallDecision prints one call logging decision: the leg, the outcome and the explanation;
// for a match, how the records were found and each candidate.
func (r *scenarioRunner) printCallDecision(leg string, e audit.Entry) {
	r.line("callLog", "%s %s: %s", leg, e.Outcome, r.callNames(e.Message))
	if e.Outcome != "matched" {
		return
	}
	var d struct {
		Via        string              `json:"via"`
		Number     string              `json:"number"`
		Candidates []calllog.Candidate `json:"candidates"`
	}
	if raw, err := json.Marshal(e.Details); err == nil {
		_ = json.Unmarshal(raw, &d)
	}
	found := "no record"
	if len(d.Candidates) > 0 {
		var names []string
		for _, c := range d.Candidates {
			names = append(names, r.sfName(c.ID))
		}
		found = strings.Join(names, ", ")
	}
	r.more("→ %s by %s: %s", d.Number, strings.ToUpper(d.Via), found)
}

// printCallPop lists a screen pop of a call and plays the console component, which opens the
// Case in the agent's console unless the console is closed. It reports whether ev was one.
func (r *scenarioRunner) printCallPop(ev sfsim.Event) bool {
	if reason, _ := ev.Fields[screenpop.FieldReason].(string); reason != screenpop.ReasonCall {
		return false
	}
	userID, _ := ev.Fields[screenpop.FieldUserID].(string)
	recordID, _ := ev.Fields[screenpop.FieldRecordID].(string)
	contactID, _ := ev.Fields[screenpop.FieldConnectContactID].(string)
	leg := cmp.Or(r.cl.legName[contactID], contactID)
	r.line("Salesforce", "published %s: %s → %s (call %s, %s)", screenpop.Event, r.sfName(userID), r.sfName(recordID), leg, screenpop.ReasonCall)
	switch a := r.bySF[sfsim.CaseSafeID(userID)]; {
	case a == nil:
	case a.consoleShut:
		r.line("console", "%s's console is closed: the screen pop is not shown", a.username)
	default:
		r.line("console", "%s's console opens %s in a tab", a.username, r.sfName(recordID))
	}
	return true
}

// callSummary prints, after the cases, what each call's legs left in the bridge and the org:
// the caller matched or created, the Case, the steps logged with their durations, the Task,
// the screen pop and the Salesforce calls made.
func (r *scenarioRunner) callSummary(ctx context.Context) error {
	for _, call := range r.cl.calls {
		from := call.from
		if from == "" {
			from = "a withheld number"
		}
		fmt.Fprintf(r.out, "  call %s from %s (%d leg(s))\n", call.name, from, len(call.legs))
		for _, id := range call.legs {
			if err := r.legSummary(ctx, call, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// legSummary prints one leg of a call.
func (r *scenarioRunner) legSummary(ctx context.Context, call *scenarioCall, id string) error {
	leg := r.cl.legName[id]
	row := func(kind, format string, args ...any) {
		fmt.Fprintf(r.out, "    %-12s%s\n", kind+":", fmt.Sprintf(format, args...))
	}
	rec, err := r.st.deps.Store.GetCallLog(ctx, id)
	switch {
	case apperr.Is(err, apperr.NotFound):
		row(leg, "never seen by call logging")
		return nil
	case err != nil:
		return fmt.Errorf("summary: call log of %s: %w", leg, err)
	}
	st := rec.State
	s := st.Sync
	calls := "no Salesforce call"
	if n := len(r.cl.sfCalls[id]); n > 0 {
		calls = fmt.Sprintf("%d Salesforce call(s) (%s)", n, strings.Join(r.cl.sfCalls[id], ", "))
	}
	row(leg, "%s; %s", st.Phase(), calls)
	if s.Withheld != "" {
		row("caller", "withheld (%s): nothing created in Salesforce", s.Withheld)
		return nil
	}
	creator, err := r.caseCreator(ctx, call)
	if err != nil {
		return err
	}
	switch {
	case s.WhoID == "":
		row("caller", "%s, no Contact", s.Number)
	case s.ContactCreated:
		row("caller", "%s, %s created", s.Number, r.sfName(s.WhoID))
	case s.Match == nil:
		row("caller", "%s, %s (the Case's, from %s)", s.Number, r.sfName(s.WhoID), creator)
	default:
		_, f, _ := r.st.sims.salesforce.Record(s.WhoID)
		row("caller", "%s, %s matched by %s (Phone stored as %q)", s.Number, r.sfName(s.WhoID), strings.ToUpper(s.Match.Via), f["Phone"])
	}
	if s.CaseID != "" {
		how := "created"
		if !s.CaseCreated {
			how = "joined (created by " + creator + ")"
		}
		_, f, _ := r.st.sims.salesforce.Record(s.CaseID)
		row("Case", "%s %s: %q, owner %s, ContactId %s", r.sfName(s.CaseID), how, f["Subject"], r.sfName(fmt.Sprint(f["OwnerId"])), r.sfName(fmt.Sprint(f["ContactId"])))
	}
	logs, err := r.stepLogs(ctx, id)
	if err != nil {
		return err
	}
	for i, l := range logs {
		kind := ""
		if i == 0 {
			kind = "steps:"
		}
		fmt.Fprintf(r.out, "    %-12s%s\n", kind, l)
	}
	switch {
	case s.TaskID != "":
		_, f, _ := r.st.sims.salesforce.Record(s.TaskID)
		row("Task", "TaskSubtype %v, Status %v, CallType %v, CallDurationInSeconds %v, WhoId %s, WhatId %s", f["TaskSubtype"], f["Status"], f["CallType"],
			f["CallDurationInSeconds"], r.sfName(fmt.Sprint(f["WhoId"])), r.sfName(fmt.Sprint(f["WhatId"])))
	case s.TaskSkipped != "":
		row("Task", "none: %s", s.TaskSkipped)
	default:
		row("Task", "none yet")
	}
	switch {
	case s.PopID != "":
		row("pop", "%s → %s (PopId__c %s)", r.sfName(s.AgentUserID), r.sfName(s.CaseID), calllog.PopID(leg))
	case s.PopSkipped != "":
		row("pop", "none: %s", s.PopSkipped)
	default:
		row("pop", "none")
	}
	return nil
}

// caseCreator names the leg of the call that created its Case ("no leg" when none did).
func (r *scenarioRunner) caseCreator(ctx context.Context, call *scenarioCall) (string, error) {
	for _, id := range call.legs {
		rec, err := r.st.deps.Store.GetCallLog(ctx, id)
		switch {
		case apperr.Is(err, apperr.NotFound):
		case err != nil:
			return "", fmt.Errorf("summary: call log of %s: %w", r.cl.legName[id], err)
		case rec.State.Sync.CaseCreated:
			return r.cl.legName[id], nil
		}
	}
	return "no leg", nil
}

// stepLogs reads the leg's Omnibridge_Call_Log__c records from the org, in call order.
func (r *scenarioRunner) stepLogs(ctx context.Context, id string) ([]string, error) {
	soql, err := salesforce.Format("SELECT Id FROM "+calllog.LogObject+" WHERE Connect_Contact_Id__c = ?", id)
	if err != nil {
		return nil, err
	}
	type log struct {
		order int
		text  string
	}
	var logs []log
	for rec, err := range r.cl.sf.Query(ctx, soql) {
		if err != nil {
			return nil, fmt.Errorf("summary: read the call logs of %s: %w", r.cl.legName[id], err)
		}
		recID, _ := rec["Id"].(string)
		_, f, _ := r.st.sims.salesforce.Record(recID)
		step := calllog.Step(fmt.Sprint(f["Step__c"]))
		span := ""
		if start, ok := sfTime(f["Started_At__c"]); ok {
			span = " " + clock(start) + "–"
			if end, ok := sfTime(f["Ended_At__c"]); ok {
				span += clock(end)
			}
		}
		dur := "open"
		if n, ok := f["Duration_Seconds__c"].(float64); ok {
			dur = fmt.Sprintf("%g s", n)
		}
		agent := ""
		if u, _ := f["Agent_User__c"].(string); u != "" {
			agent = ", " + r.sfName(u)
		}
		logs = append(logs, log{slices.Index(calllog.Steps, step), fmt.Sprintf("%s%s: %s%s", step, span, dur, agent)})
	}
	slices.SortFunc(logs, func(a, b log) int { return cmp.Compare(a.order, b.order) })
	out := make([]string, len(logs))
	for i, l := range logs {
		out[i] = l.text
	}
	if len(out) == 0 {
		out = []string{"none logged"}
	}
	return out, nil
}

// sfTime reads a DateTime field as sfsim stores it: a time, or the text the API wrote.
func sfTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, true
	case string:
		p, err := time.Parse(time.RFC3339Nano, t)
		return p, err == nil
	}
	return time.Time{}, false
}
