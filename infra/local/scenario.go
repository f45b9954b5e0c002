package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/app"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/connect"
	"github.com/omnibridge/omnibridge/shared/connect/connectsim"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
	"github.com/omnibridge/omnibridge/shared/screenpop"
	"github.com/omnibridge/omnibridge/shared/sfevents"
	"github.com/omnibridge/omnibridge/shared/strictjson"
	"github.com/omnibridge/omnibridge/shared/webhook"
)

// The scenario command plays a scripted day against the local stack: each step is one thing an
// agent does in the Amazon Connect CCP or the Salesforce Omni-Channel console, at a clock time.
// The runner drives connectsim and the real handlers (agent-events, salesforce-webhook,
// presence-sweep) on one scripted clock, plays the console's part for the presence commands the
// bridge publishes, and prints what happened from the audit log and the simulators' records.
//
// The file format (JSON, unknown fields are errors):
//
//	{
//	  "name": "presence-day",
//	  "date": "2026-11-23",                 optional; the day the clock times are on (UTC)
//	  "agent": "jdoe",                      optional; the default for steps that name none
//	  "steps": [
//	    {"at": "09:00:00", "note": "...", "agent": "jdoe", "connect": {"login": "Available"}},
//	    {"at": "09:10:00", "connect": {"offer": {"contact": "call-1", "channel": "VOICE", "direction": "inbound"}}},
//	    {"at": "09:10:05", "connect": {"connect": "call-1"}},
//	    {"at": "11:00:00", "salesforce": {"workloadChanged": {"capacity": 4, "previous": 3, "new": 4}}},
//	    {"at": "17:05:00", "sweep": true}
//	  ]
//	}
//
// A step has an "at" time (HH:MM:SS, strictly increasing), an optional "note" and exactly one
// action: "connect" (login, setStatus, logout, offer, accept, connect, hold, resume, miss,
// reject, end, clear), "salesforce" (statusChanged, logout, workAccepted, workloadChanged,
// console "open"/"closed"), "sweep", or the session day's "session" (login, logout,
// browserClosed, activity), "omni" (status) and "poll" (scenario_session.go), or the routing
// day's "case" (new, waiting, customerEmail, agentReply, comment), "task" (accept, complete) and
// "caseSweep" (scenario_routing.go), or the call day's "call" (inbound, answer, hold, resume,
// transfer, hangUp, wrapUp, deliver; scenario_call.go). Agents are Connect usernames; contacts
// are names the scenario gives them in "offer", cases names it gives them in "new" or
// "waiting", calls names it gives them in "inbound".

// Delays the runner puts between an action and its consequences, so each happens at its own
// instant on the scripted clock (events of one system must be strictly newer than the last).
const (
	// scenarioStreamDelay is how long a Connect agent event takes to reach the agent-events
	// function through Kinesis.
	scenarioStreamDelay = 200 * time.Millisecond
	// scenarioConsoleDelay is how long the console takes to apply a published presence command.
	scenarioConsoleDelay = 300 * time.Millisecond
	// scenarioAckDelay is how long after applying it the console acknowledges the command.
	scenarioAckDelay = 100 * time.Millisecond
	// scenarioMaxRounds bounds the stream/console rounds after one action; a chain that is
	// still bouncing after that is reported (the loop guard should have cut it).
	scenarioMaxRounds = 5
)

// scenarioOrgID is the simulated org's id (sfsim's), sent as the webhook batches' orgId.
const scenarioOrgID = "00Dxx0000001gPL"

// scenario is a parsed and statically checked scenario file.
type scenario struct {
	Name  string
	Day   time.Time // midnight UTC
	Steps []scenarioStep
}

// scenarioStep is one step; exactly one of Connect, Salesforce, Sweep, Session, Omni, Poll, Case,
// Task, CaseSweep and Call is set.
type scenarioStep struct {
	Index      int
	At         time.Time
	Clock      string // the "at" text
	Note       string
	Agent      string // Connect username; empty for a sweep or a poll
	Connect    *connectStepAction
	Salesforce *salesforceStepAction
	Sweep      bool
	Session    *sessionStepAction
	Omni       *omniStepAction
	Poll       bool
	Case       *caseStepAction
	Task       *taskStepAction
	CaseSweep  bool
	Call       *callStepAction
}

// connectStepAction is what the agent does in the CCP; exactly one field is set.
type connectStepAction struct {
	Login     *string      `json:"login"`
	SetStatus *string      `json:"setStatus"`
	Logout    *bool        `json:"logout"`
	Offer     *offerAction `json:"offer"`
	Accept    *string      `json:"accept"`
	Connect   *string      `json:"connect"`
	Hold      *string      `json:"hold"`
	Resume    *string      `json:"resume"`
	Miss      *string      `json:"miss"`
	Reject    *string      `json:"reject"`
	End       *string      `json:"end"`
	Clear     *string      `json:"clear"`
}

// offerAction routes a new contact to the agent (inbound) or has the agent dial (outbound).
type offerAction struct {
	// Contact is the scenario's name for the contact, used by the later steps.
	Contact   string `json:"contact"`
	Channel   string `json:"channel"`
	Direction string `json:"direction"`
	Queue     string `json:"queue"`
}

// salesforceStepAction is what happens in the agent's Omni-Channel console; exactly one field is
// set.
type salesforceStepAction struct {
	StatusChanged   *string                `json:"statusChanged"`
	Logout          *bool                  `json:"logout"`
	WorkAccepted    *workAcceptedAction    `json:"workAccepted"`
	WorkloadChanged *workloadChangedAction `json:"workloadChanged"`
	Console         *string                `json:"console"`
}

// workAcceptedAction is an accepted work item.
type workAcceptedAction struct {
	Channel  string `json:"channel"`
	WorkItem string `json:"workItem"`
}

// workloadChangedAction is a workload change, in units of capacity.
type workloadChangedAction struct {
	Capacity *float64 `json:"capacity"`
	Previous *float64 `json:"previous"`
	New      *float64 `json:"new"`
}

// scenarioProblems collects every problem of a scenario file, each naming its JSON path.
type scenarioProblems []string

func (p *scenarioProblems) add(path, format string, args ...any) {
	if path == "" {
		path = "(top level)"
	}
	*p = append(*p, path+": "+fmt.Sprintf(format, args...))
}

func (p scenarioProblems) err(what string) error {
	if len(p) == 0 {
		return nil
	}
	if len(p) == 1 {
		return fmt.Errorf("%s: %s", what, p[0])
	}
	return fmt.Errorf("%s: %d problems:\n  %s", what, len(p), strings.Join(p, "\n  "))
}

// parseScenario decodes and checks a scenario file, reporting every problem with its path
// (steps[3].connect.offer.channel). Checks that need the stack (agents, statuses) come later.
func parseScenario(raw []byte) (*scenario, error) {
	var probs scenarioProblems
	if err := json.Unmarshal(raw, new(any)); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			line, col := lineCol(raw, syn.Offset)
			return nil, fmt.Errorf("scenario: not valid JSON at line %d, column %d: %v", line, col, syn)
		}
		return nil, fmt.Errorf("scenario: not valid JSON: %v", err)
	}
	var file struct {
		Name  string            `json:"name"`
		Date  string            `json:"date"`
		Agent string            `json:"agent"`
		Steps []json.RawMessage `json:"steps"`
	}
	if kind := strictjson.TypeName(raw); kind != "an object" {
		return nil, fmt.Errorf("scenario: want a JSON object with name and steps, got %s", kind)
	}
	decodeObject(raw, &file, "", &probs) // problems are collected; the known fields are still read
	sc := &scenario{Name: file.Name}
	if strings.TrimSpace(file.Name) == "" {
		probs.add("name", "required")
	}
	sc.Day = time.Now().UTC().Truncate(24 * time.Hour)
	if file.Date != "" {
		d, err := time.Parse(time.DateOnly, file.Date)
		if err != nil {
			probs.add("date", "%q is not a date like 2026-11-23", file.Date)
		} else {
			sc.Day = d
		}
	}
	if len(file.Steps) == 0 {
		probs.add("steps", "required: at least one step")
	}
	contacts := map[string]bool{}  // offered contact names
	cases := map[string]bool{}     // created case names
	calls := map[string]bool{}     // call names
	closed := map[string]bool{}    // agents whose console is closed
	browser := map[string]string{} // agents' Salesforce session: "open", "closed" (browser) or none
	var last time.Time             // the latest valid step time
	for i, rawStep := range file.Steps {
		path := fmt.Sprintf("steps[%d]", i)
		st, ok := parseStep(rawStep, path, file.Agent, &probs)
		st.Index = i
		if at, err := time.Parse(time.TimeOnly, st.Clock); err != nil || len(st.Clock) != len(time.TimeOnly) {
			probs.add(path+".at", "%q is not a clock time like 09:00:00 (required)", st.Clock)
		} else {
			st.At = sc.Day.Add(time.Duration(at.Hour())*time.Hour + time.Duration(at.Minute())*time.Minute + time.Duration(at.Second())*time.Second)
			if !last.IsZero() && !st.At.After(last) {
				probs.add(path+".at", "%s is not after the previous step's %s; steps run in time order", st.Clock, last.Format(time.TimeOnly))
			}
			last = st.At
		}
		if !ok {
			continue
		}
		checkContacts(st, path, contacts, &probs)
		checkCases(st, path, cases, &probs)
		checkCalls(st, path, calls, &probs)
		if sf := st.Salesforce; sf != nil {
			switch {
			case sf.Console != nil:
				closed[st.Agent] = *sf.Console == "closed"
			case closed[st.Agent]:
				probs.add(path+".salesforce", "the Omni-Channel console of %s is closed (a step with {\"console\": \"open\"} or a session login opens it again)", st.Agent)
			}
		}
		if st.Omni != nil && closed[st.Agent] {
			probs.add(path+".omni", "the Omni-Channel console of %s is closed (a step with {\"console\": \"open\"} or a session login opens it again)", st.Agent)
		}
		if st.Session != nil {
			checkSessionOrder(st, path, browser, closed, &probs)
		}
		sc.Steps = append(sc.Steps, st)
	}
	if err := probs.err("scenario"); err != nil {
		return nil, err
	}
	return sc, nil
}

// lineCol turns a byte offset into a 1-based line and column.
func lineCol(raw []byte, offset int64) (int, int) {
	offset = min(max(offset, 0), int64(len(raw)))
	before := raw[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	return line, len(before) - bytes.LastIndexByte(before, '\n')
}

// parseStep decodes one step and checks that it has exactly one well-formed action.
func parseStep(raw json.RawMessage, path, defaultAgent string, probs *scenarioProblems) (scenarioStep, bool) {
	var w struct {
		At         string                `json:"at"`
		Note       string                `json:"note"`
		Agent      string                `json:"agent"`
		Connect    *connectStepAction    `json:"connect"`
		Salesforce *salesforceStepAction `json:"salesforce"`
		Sweep      *bool                 `json:"sweep"`
		Session    *sessionStepAction    `json:"session"`
		Omni       *omniStepAction       `json:"omni"`
		Poll       *bool                 `json:"poll"`
		Case       *caseStepAction       `json:"case"`
		Task       *taskStepAction       `json:"task"`
		CaseSweep  *bool                 `json:"caseSweep"`
		Call       *callStepAction       `json:"call"`
	}
	if kind := strictjson.TypeName(raw); kind != "an object" {
		probs.add(path, "want an object with at and one action, got %s", kind)
		return scenarioStep{}, false
	}
	decoded := decodeObject(raw, &w, path, probs)
	st := scenarioStep{Clock: w.At, Note: w.Note, Agent: w.Agent, Connect: w.Connect, Salesforce: w.Salesforce, Session: w.Session, Omni: w.Omni,
		Case: w.Case, Task: w.Task, Call: w.Call}
	// Actions that cover every agent, or that no agent does (Email-to-Case, a customer calling,
	// EventBridge delivering).
	everyone := w.Sweep != nil || w.Poll != nil || w.CaseSweep != nil || w.Case != nil && !w.Case.needsAgent() || w.Call != nil && !w.Call.needsAgent()
	if st.Agent == "" && !everyone {
		st.Agent = defaultAgent
	}
	needsAgent := func() bool {
		if st.Agent == "" {
			probs.add(path+".agent", "required: the agent's Connect username (or set a scenario-wide \"agent\")")
			return false
		}
		return true
	}
	if !decoded {
		// An action that did not decode is not counted as missing.
		if !everyone {
			needsAgent()
		}
		return st, false
	}
	actions := setFields(&w)
	switch len(actions) {
	case 0:
		probs.add(path, "names no action: give exactly one of connect, salesforce, sweep, session, omni, poll, case, task, caseSweep or call")
		return st, false
	case 1:
	default:
		probs.add(path, "has %d actions (%s): a step takes exactly one", len(actions), strings.Join(actions, ", "))
		return st, false
	}
	ok := everyone || needsAgent()
	switch {
	case w.Sweep != nil:
		st.Sweep = true
		return st, checkWholeRun(*w.Sweep, w.Agent, path, "sweep", "sweep", "a sweep covers every agent", probs) && ok
	case w.Poll != nil:
		st.Poll = true
		return st, checkWholeRun(*w.Poll, w.Agent, path, "poll", "poll", "a session poll covers every relevant user", probs) && ok
	case w.CaseSweep != nil:
		st.CaseSweep = true
		return st, checkWholeRun(*w.CaseSweep, w.Agent, path, "caseSweep", "case sweep", "a case sweep covers every monitored queue", probs) && ok
	case w.Case != nil:
		if !w.Case.needsAgent() && w.Agent != "" {
			probs.add(path+".agent", "Email-to-Case creates cases and customer emails; leave agent out")
			ok = false
		}
		ok = checkCaseAction(w.Case, path+".case", probs) && ok
	case w.Task != nil:
		ok = checkTaskAction(w.Task, path+".task", probs) && ok
	case w.Call != nil:
		if !w.Call.needsAgent() && w.Agent != "" {
			probs.add(path+".agent", "the caller calls and EventBridge delivers, not an agent; leave agent out")
			ok = false
		}
		ok = checkCallAction(w.Call, path+".call", probs) && ok
	case w.Connect != nil:
		ok = checkConnectAction(w.Connect, path+".connect", probs) && ok
	case w.Salesforce != nil:
		ok = checkSalesforceAction(w.Salesforce, path+".salesforce", probs) && ok
	case w.Session != nil:
		ok = checkSessionAction(w.Session, path+".session", probs) && ok
	case w.Omni != nil:
		ok = checkOmniAction(w.Omni, path+".omni", probs) && ok
	}
	return st, ok
}

// checkConnectAction checks a step's connect action and fills its defaults.
// checkWholeRun checks a step that runs over everyone (a sweep or a poll): its field must be
// true, and it names no agent.
func checkWholeRun(set bool, agent, path, field, what, covers string, probs *scenarioProblems) bool {
	ok := true
	if !set {
		probs.add(path+"."+field, "must be true (leave the step out for no %s)", what)
		ok = false
	}
	if agent != "" {
		probs.add(path+".agent", "%s; leave agent out", covers)
		ok = false
	}
	return ok
}

func checkConnectAction(a *connectStepAction, path string, probs *scenarioProblems) bool {
	if !oneAction(setFields(a), a, path, probs) {
		return false
	}
	n := len(*probs)
	if o := a.Offer; o != nil {
		if o.Contact == "" {
			probs.add(path+".offer.contact", "required: a name for the contact, used by the later steps")
		}
		o.Channel = strings.ToUpper(o.Channel)
		switch agentevent.Channel(o.Channel) {
		case "":
			o.Channel = string(agentevent.ChannelVoice)
		case agentevent.ChannelVoice, agentevent.ChannelChat, agentevent.ChannelTask:
		default:
			probs.add(path+".offer.channel", "unknown channel %q (want VOICE, CHAT or TASK)", o.Channel)
		}
		o.Direction = strings.ToLower(o.Direction)
		switch o.Direction {
		case "":
			o.Direction = "inbound"
		case "inbound", "outbound":
		default:
			probs.add(path+".offer.direction", "unknown direction %q (want inbound or outbound)", o.Direction)
		}
	}
	if a.Logout != nil && !*a.Logout {
		probs.add(path+".logout", "must be true")
	}
	if a.SetStatus != nil && *a.SetStatus == "" {
		probs.add(path+".setStatus", "required: a Connect agent status name")
	}
	if name, field := contactRef(a); field != "" && name == "" {
		probs.add(path+"."+field, "required: the name of a contact offered earlier")
	}
	return len(*probs) == n
}

// checkSalesforceAction checks a step's salesforce action.
func checkSalesforceAction(a *salesforceStepAction, path string, probs *scenarioProblems) bool {
	if !oneAction(setFields(a), a, path, probs) {
		return false
	}
	n := len(*probs)
	switch {
	case a.StatusChanged != nil && *a.StatusChanged == "":
		probs.add(path+".statusChanged", "required: a ServicePresenceStatus DeveloperName")
	case a.Logout != nil && !*a.Logout:
		probs.add(path+".logout", "must be true")
	case a.WorkAccepted != nil && a.WorkAccepted.Channel == "":
		probs.add(path+".workAccepted.channel", "required: the ServiceChannel DeveloperName")
	case a.Console != nil && *a.Console != "open" && *a.Console != "closed":
		probs.add(path+".console", "%q is neither \"open\" nor \"closed\"", *a.Console)
	}
	if w := a.WorkloadChanged; w != nil {
		for _, f := range []struct {
			name string
			v    *float64
		}{{"capacity", w.Capacity}, {"previous", w.Previous}, {"new", w.New}} {
			switch {
			case f.v == nil:
				probs.add(path+".workloadChanged."+f.name, "required")
			case *f.v < 0:
				probs.add(path+".workloadChanged."+f.name, "must not be negative")
			}
		}
	}
	if w := a.WorkAccepted; w != nil && w.WorkItem != "" && !salesforceIDShape(w.WorkItem) {
		probs.add(path+".workAccepted.workItem", "%q is not a 15- or 18-character Salesforce record id", w.WorkItem)
	}
	return len(*probs) == n
}

// salesforceIDShape reports whether s looks like a Salesforce record id.
func salesforceIDShape(s string) bool {
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// checkContacts checks that a step's contact names refer to contacts offered earlier.
func checkContacts(st scenarioStep, path string, offered map[string]bool, probs *scenarioProblems) {
	c := st.Connect
	if c == nil {
		return
	}
	if c.Offer != nil {
		offered[c.Offer.Contact] = true
		return
	}
	if name, field := contactRef(c); name != "" && !offered[name] {
		probs.add(path+".connect."+field, "no contact %q was offered in an earlier step", name)
	}
}

// contactRef returns the contact a connect action acts on, and the action's field name.
func contactRef(c *connectStepAction) (string, string) {
	for _, f := range []struct {
		name string
		v    *string
	}{{"accept", c.Accept}, {"connect", c.Connect}, {"hold", c.Hold}, {"resume", c.Resume}, {"miss", c.Miss}, {"reject", c.Reject}, {"end", c.End}, {"clear", c.Clear}} {
		if f.v != nil {
			return *f.v, f.name
		}
	}
	return "", ""
}

// oneAction checks that exactly one of an action object's fields is set.
func oneAction(set []string, v any, path string, probs *scenarioProblems) bool {
	switch len(set) {
	case 1:
		return true
	case 0:
		probs.add(path, "names no action (want one of: %s)", strings.Join(jsonFields(v), ", "))
	default:
		probs.add(path, "has %d actions (%s): a step takes exactly one", len(set), strings.Join(set, ", "))
	}
	return false
}

// decodeObject decodes a JSON object into the struct v points to, one field at a time, so that
// every problem names its own path: unknown and repeated fields, wrong types, and (through
// pointer-to-struct fields) the same in nested objects. A null leaves the field unset.
func decodeObject(raw []byte, v any, path string, probs *scenarioProblems) bool {
	rv := reflect.ValueOf(v).Elem()
	fields := map[string]int{}
	for i := range rv.NumField() {
		if name, _, _ := strings.Cut(rv.Type().Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			fields[name] = i
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		probs.add(path, "want an object, got %s", strictjson.TypeName(raw))
		return false
	}
	ok := true
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			probs.add(path, "%v", err)
			return false
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			probs.add(joinPath(path, key), "%v", err)
			return false
		}
		i, known := fields[key]
		switch {
		case !known && len(fields) == 0:
			probs.add(path, "unknown field %q (this takes no fields: give {})", key)
			ok = false
		case !known:
			probs.add(path, "unknown field %q (want one of: %s)", key, strings.Join(jsonFields(v), ", "))
			ok = false
		case seen[key]:
			probs.add(joinPath(path, key), "given twice")
			ok = false
		default:
			seen[key] = true
			if !decodeValue(val, rv.Field(i), joinPath(path, key), probs) {
				ok = false
			}
		}
	}
	return ok
}

// decodeValue decodes one field's value, recursing into objects.
func decodeValue(raw json.RawMessage, f reflect.Value, path string, probs *scenarioProblems) bool {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		f.SetZero()
		return true
	}
	if f.Kind() == reflect.Pointer && f.Type().Elem().Kind() == reflect.Struct {
		p := reflect.New(f.Type().Elem())
		if !decodeObject(raw, p.Interface(), path, probs) {
			return false
		}
		f.Set(p)
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(f.Addr().Interface()); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			where := path
			if typeErr.Field != "" {
				where = joinPath(path, typeErr.Field)
			}
			probs.add(where, "want %s, got %s", describeType(typeErr.Type), strictjson.TypeName(raw))
		} else {
			probs.add(path, "%v", err)
		}
		return false
	}
	return true
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// describeType names a Go type the way a scenario author thinks of it.
func describeType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Float64, reflect.Int:
		return "a number"
	case reflect.Struct:
		return "an object"
	case reflect.Slice:
		return "an array"
	}
	return t.String()
}

// jsonFields lists the JSON field names of the struct v points to.
func jsonFields(v any) []string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// setFields lists the JSON names of the non-nil pointer fields of the struct v points to.
func setFields(v any) []string {
	rv := reflect.ValueOf(v).Elem()
	var out []string
	for i := range rv.NumField() {
		if f := rv.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			name, _, _ := strings.Cut(rv.Type().Field(i).Tag.Get("json"), ",")
			out = append(out, name)
		}
	}
	return out
}

// describe renders a step's action the way the timeline's header line shows it.
func (st scenarioStep) describe() string {
	switch {
	case st.Sweep:
		return "[sweep] presence sweep (unacknowledged commands, undelivered outbox)"
	case st.Connect != nil:
		c := st.Connect
		var what string
		switch {
		case c.Login != nil:
			what = "login " + *c.Login
		case c.SetStatus != nil:
			what = "setStatus " + *c.SetStatus
		case c.Logout != nil:
			what = "logout"
		case c.Offer != nil:
			verb := "offer inbound"
			if c.Offer.Direction == "outbound" {
				verb = "dial outbound"
			}
			what = fmt.Sprintf("%s %s %s", verb, c.Offer.Channel, c.Offer.Contact)
		default:
			name, field := contactRef(c)
			what = field + " " + name
		}
		return "[connect] " + st.Agent + " " + what
	case st.Salesforce != nil:
		s := st.Salesforce
		var what string
		switch {
		case s.StatusChanged != nil:
			what = "statusChanged " + *s.StatusChanged
		case s.Logout != nil:
			what = "logout"
		case s.WorkAccepted != nil:
			what = "workAccepted on " + s.WorkAccepted.Channel
		case s.WorkloadChanged != nil:
			w := s.WorkloadChanged
			what = fmt.Sprintf("workloadChanged %g → %g of %g", *w.Previous, *w.New, *w.Capacity)
		case s.Console != nil:
			what = "console " + *s.Console
		}
		return "[salesforce] " + st.Agent + " " + what
	case st.Session != nil:
		return "[session] " + st.Agent + " " + st.Session.describe()
	case st.Omni != nil:
		return "[omni] " + st.Agent + " status " + *st.Omni.Status + " (the org only: no webhook)"
	case st.Poll:
		return "[poll] session poll (AuthSession of relevant users, recent Omni-Channel presence)"
	case st.Case != nil || st.Task != nil || st.CaseSweep:
		return st.describeRouting()
	case st.Call != nil:
		return st.describeCall()
	}
	return "?"
}

// scenarioClock is the one clock of a scenario run: the simulators, the handlers and the table
// all read it, and the runner moves it forward to each step's time. It never goes back.
type scenarioClock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the scripted time.
func (c *scenarioClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// moveTo sets the clock to t, or just after the current time if t is not later.
func (c *scenarioClock) moveTo(t time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !t.After(c.t) {
		t = c.t.Add(10 * time.Millisecond)
	}
	c.t = t
	return t
}

// advance moves the clock forward by d.
func (c *scenarioClock) advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// sequentialIDs returns an id source for connectsim that yields UUID-shaped, repeatable ids.
func sequentialIDs() func() string {
	var mu sync.Mutex
	n := 0
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("5ce0a710-0000-4000-8000-%012d", n)
	}
}

// scenarioCommand runs `scenario [--config FILE] [--seed FILE] [--explain] <file>`.
func scenarioCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	scenarioUsage := func(w io.Writer) {
		fmt.Fprintln(w, "usage: scenario <file> [--explain] [--config FILE] [--seed FILE]\n"+
			"Plays a scripted day (infra/local/scenarios/*.json) on a fresh embedded stack and prints the timeline, then each agent's final state.\n"+
			"  --explain       print each decision's whole explanation, not just its first sentence\n"+
			"  --config FILE   config document to seed (default: the embedded infra/local/config.sample.json)\n"+
			"  --seed FILE     simulator seed file (default: the embedded infra/local/seed.json)\n"+
			"example: go run ./infra/local scenario infra/local/scenarios/presence-day.json")
	}
	if len(args) > 0 && isHelp(args[0]) {
		scenarioUsage(stdout)
		return nil
	}
	fs := flag.NewFlagSet("scenario", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	configFile := fs.String("config", "", "config document to seed (default: the embedded infra/local/config.sample.json)")
	seedFile := fs.String("seed", "", "simulator seed file (default: the embedded infra/local/seed.json)")
	explain := fs.Bool("explain", false, "print each decision's whole explanation, not just its first sentence")
	// The file may come before or after the flags.
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return helpIsNoError(err, stdout, stderr, scenarioUsage)
	}
	if file == "" && fs.NArg() > 0 {
		file = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return fmt.Errorf("scenario: unexpected argument %q", fs.Arg(0))
	}
	if file == "" {
		return errors.New("usage: scenario [--config FILE] [--seed FILE] [--explain] <file> (sample: infra/local/scenarios/presence-day.json)")
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("scenario: %w", err)
	}
	sc, err := parseScenario(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if err := runScenario(ctx, sc, scenarioOptions{configFile: *configFile, seedFile: *seedFile, explain: *explain}, stdout); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// scenarioOptions tune a run.
type scenarioOptions struct {
	configFile, seedFile string
	// explain prints whole explanations.
	explain bool
	// inspect, when set, is called with the stack after the last step, before it stops (tests
	// read the simulators' records).
	inspect func(*stack)
}

// scenarioAgent is one agent of the scenario, resolved in both systems.
type scenarioAgent struct {
	username     string
	connectID    string
	salesforceID string // 18 characters; empty when unlinked
	unlinked     error  // why no Salesforce user was found
	consoleShut  bool

	// sessions are the ids of the agent's AuthSession rows in sfsim.
	sessions []string
	// presenceRow is the id of the agent's current UserServicePresence row ("" when offline in
	// Omni-Channel), and presenceStatus its DeveloperName.
	presenceRow, presenceStatus string
}

// scenarioRunner plays one scenario against one stack.
type scenarioRunner struct {
	sc    *scenario
	st    *stack
	clock *scenarioClock
	out   io.Writer
	opts  scenarioOptions
	cfg   config.Document

	agents      map[string]*scenarioAgent // by Connect username
	bySF        map[string]*scenarioAgent // by 18-character Salesforce id
	byConnect   map[string]*scenarioAgent
	connectStat map[string]string // Connect status id → name
	sfStatus    map[string]string // ServicePresenceStatus id (as in the catalog) → DeveloperName
	sfStatusID  map[string]string // DeveloperName → id
	contacts    map[string]string // scenario contact name → Connect contact id
	contactName map[string]string // Connect contact id → scenario name

	agentEvents app.KinesisHandler
	webhook     http.Handler
	sweep       app.SweepHandler
	poll        app.PollHandler

	// presenceStatusID maps the org's ServicePresenceStatus DeveloperNames to their record ids,
	// for the UserServicePresence rows the console writes.
	presenceStatusID map[string]string
	sessionSeq       int // session webhook events sent
	// seenToggles counts the distribution toggle's inputs the timeline listed.
	seenToggles int

	// seenRecords and seenPlatform count the agent events fed to the stream and the platform
	// events played by the console; seenRequests and shownPlatform what the timeline listed.
	seenRecords, seenPlatform, seenRequests, shownPlatform int
	printed                                                map[string]bool // audit entries already shown
	echoed                                                 map[string]bool // command ids whose echo was shown
	consoleSeq                                             int

	// rt is the routing day's state (scenario_routing.go).
	rt routingRun
	// cl is the call day's state (scenario_call.go).
	cl callRun
}

// runScenario starts a stack on a scripted clock and plays sc on it, printing the timeline.
func runScenario(ctx context.Context, sc *scenario, opts scenarioOptions, out io.Writer) error {
	clock := &scenarioClock{t: sc.Day}
	if len(sc.Steps) > 0 {
		// Setup (links, tokens) happens a minute before the first step.
		clock.t = sc.Steps[0].At.Add(-time.Minute)
	}
	st, err := startStack(ctx, stackOptions{
		configFile: opts.configFile, seedFile: opts.seedFile, logOut: io.Discard,
		now: clock.Now, newID: sequentialIDs(),
	})
	if err != nil {
		return err
	}
	defer st.close()
	st.deps.Logger = silentLogger()
	r := &scenarioRunner{
		sc: sc, st: st, clock: clock, out: out, opts: opts,
		agents: map[string]*scenarioAgent{}, bySF: map[string]*scenarioAgent{}, byConnect: map[string]*scenarioAgent{},
		connectStat: map[string]string{}, sfStatus: map[string]string{}, sfStatusID: map[string]string{},
		contacts: map[string]string{}, contactName: map[string]string{}, printed: map[string]bool{}, echoed: map[string]bool{},
		presenceStatusID: map[string]string{},
	}
	if err := r.setup(ctx); err != nil {
		return err
	}
	r.header()
	for _, step := range sc.Steps {
		if err := r.play(ctx, step); err != nil {
			return fmt.Errorf("steps[%d] at %s: %w", step.Index, step.Clock, err)
		}
	}
	if err := r.summary(ctx); err != nil {
		return err
	}
	if opts.inspect != nil {
		opts.inspect(st)
	}
	return nil
}

// setup builds the handlers as warm Lambda containers would hold them, resolves the agents and
// checks the status names the scenario uses.
func (r *scenarioRunner) setup(ctx context.Context) error {
	d := r.st.deps
	vc, err := d.Store.GetConfig(ctx)
	if err != nil {
		return fmt.Errorf("read the seeded config: %w", err)
	}
	r.cfg = vc.Document
	if r.agentEvents, err = app.AgentEvents(ctx, d); err != nil {
		return err
	}
	if r.webhook, err = app.SalesforceWebhook(ctx, d); err != nil {
		return err
	}
	if r.sweep, err = app.PresenceSweep(ctx, d); err != nil {
		return err
	}
	if r.poll, err = app.SessionPoll(ctx, d); err != nil {
		return err
	}
	cn, err := app.Connect(d)
	if err != nil {
		return err
	}
	sf, err := app.Salesforce(ctx, d)
	if err != nil {
		return err
	}
	statuses, err := cn.AgentStatuses(ctx)
	if err != nil {
		return fmt.Errorf("list Connect agent statuses: %w", err)
	}
	known := map[string]bool{}
	for _, s := range statuses {
		r.connectStat[s.ID] = s.Name
		known[s.Name] = true
	}
	for _, s := range r.cfg.StatusCatalog.Salesforce {
		r.sfStatus[s.ID] = s.DeveloperName
		r.sfStatusID[s.DeveloperName] = s.ID
		if id18 := sfsim.CaseSafeID(s.ID); id18 != s.ID {
			r.sfStatus[id18] = s.DeveloperName
		}
	}
	if err := r.loadPresenceStatuses(ctx, sf); err != nil {
		return err
	}
	field := r.cfg.Settings.Identity.SalesforceField
	if field == "" {
		field = config.Defaults().Identity.SalesforceField
	}
	var probs scenarioProblems
	if err := r.setupRouting(ctx, cn, sf, &probs); err != nil {
		return err
	}
	r.setupCalls(sf)
	unknown := map[string]bool{} // agents already reported
	for _, step := range r.sc.Steps {
		path := fmt.Sprintf("steps[%d]", step.Index)
		if step.Agent != "" && r.agents[step.Agent] == nil && !unknown[step.Agent] {
			a, err := resolveAgent(ctx, cn, sf, field, step.Agent)
			if err != nil {
				probs.add(path+".agent", "%v", err)
				unknown[step.Agent] = true
			} else {
				r.agents[a.username], r.byConnect[a.connectID] = a, a
				if a.salesforceID != "" {
					r.bySF[a.salesforceID] = a
				}
			}
		}
		if a := r.agents[step.Agent]; a != nil && a.unlinked != nil && (step.Salesforce != nil && step.Salesforce.Console == nil || step.Session != nil || step.Omni != nil) {
			probs.add(path+".agent", "a Salesforce step needs the agent's Salesforce user: %v", a.unlinked)
		}
		if o := step.Omni; o != nil {
			if _, ok := r.presenceStatusID[*o.Status]; !ok && *o.Status != engine.OfflineStatus {
				probs.add(path+".omni.status", "%q is no ServicePresenceStatus DeveloperName in the seed (%s; Offline ends the presence)", *o.Status, strings.Join(sortedKeys(r.presenceStatusID), ", "))
			}
		}
		if c := step.Connect; c != nil {
			for _, s := range []*string{c.Login, c.SetStatus} {
				if s != nil && *s != "" && !known[*s] {
					probs.add(path+".connect", "Connect has no agent status %q (statuses: %s)", *s, strings.Join(sortedKeys(known), ", "))
				}
			}
		}
		if s := step.Salesforce; s != nil && s.StatusChanged != nil {
			if _, ok := r.sfStatusID[*s.StatusChanged]; !ok || *s.StatusChanged == "Offline" {
				probs.add(path+".salesforce.statusChanged", "%q is no ServicePresenceStatus in the config's statusCatalog (for Offline use {\"logout\": true})", *s.StatusChanged)
			}
		}
	}
	r.checkRoutingSteps(&probs)
	if err := probs.err("scenario"); err != nil {
		return err
	}
	// What setup asked the simulators is not part of the day.
	r.seenRecords = len(r.st.sims.connect.Events())
	r.seenRequests = len(r.st.sims.connect.Requests())
	r.seenPlatform = len(r.st.sims.salesforce.Events())
	r.shownPlatform = r.seenPlatform
	r.markRoutingSeen()
	if t := r.st.sims.toggles; t != nil {
		r.seenToggles = len(t.Inputs())
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// resolveAgent finds the agent's Connect user by username and its Salesforce user as the
// engine links them. An agent with no Salesforce user is kept, unlinked: its Connect steps show
// the engine's "unlinked" outcome.
func resolveAgent(ctx context.Context, cn *connect.Client, sf *salesforce.Client, field, username string) (*scenarioAgent, error) {
	u, err := cn.FindUserByUsername(ctx, username)
	if err != nil {
		return nil, fmt.Errorf("no Connect user with username %q in the seed", username)
	}
	a := &scenarioAgent{username: username, connectID: u.ID}
	a.salesforceID, a.unlinked = salesforceUserID(ctx, sf, field, username)
	return a, nil
}

// salesforceUserID finds the active Salesforce user linked to a Connect username, as the
// engine's identity resolution does.
func salesforceUserID(ctx context.Context, sf *salesforce.Client, field, username string) (string, error) {
	soql, err := salesforce.Select("Id").From("User").Where(field+" = ?", username).Where("IsActive = true").Limit(2).Build()
	if err != nil {
		return "", err
	}
	var ids []string
	for rec, err := range sf.Query(ctx, soql) {
		if err != nil {
			return "", fmt.Errorf("look up the Salesforce user of %s: %w", username, err)
		}
		if id, _ := rec["Id"].(string); id != "" {
			ids = append(ids, id)
		}
	}
	switch len(ids) {
	case 0:
		return "", fmt.Errorf("no active Salesforce user has %s %q in the seed", field, username)
	case 1:
		return sfsim.CaseSafeID(ids[0]), nil
	}
	return "", fmt.Errorf("more than one active Salesforce user has %s %q", field, username)
}

// header prints the scenario's name, day, agents and the settings that shape the timeline.
func (r *scenarioRunner) header() {
	fmt.Fprintf(r.out, "Scenario %q on %s (UTC)\n", r.sc.Name, r.sc.Day.Format(time.DateOnly))
	for _, name := range sortedKeys(r.agents) {
		a := r.agents[name]
		sfUser := a.salesforceID
		if a.unlinked != nil {
			sfUser = "none (" + a.unlinked.Error() + ")"
		}
		fmt.Fprintf(r.out, "  agent %-8s Connect user %s, Salesforce user %s\n", a.username, a.connectID, sfUser)
	}
	s := r.cfg.Settings
	fmt.Fprintf(r.out, "  config: %d rules, %d mappings; echo window %ds, command ack timeout %ds, loop guard %d crossings/%ds\n",
		len(r.cfg.Rules), len(r.cfg.StatusMappings), s.EchoWindowSeconds, s.CommandAckTimeoutSeconds, s.LoopGuard.MaxCrossings, s.LoopGuard.WindowSeconds)
	if r.sc.usesSessions() {
		fmt.Fprintf(r.out, "  %s\n", r.sessionHeader())
	}
	if r.sc.usesRouting() {
		fmt.Fprintf(r.out, "  %s\n", r.routingHeader())
	}
	if r.sc.usesCalls() {
		fmt.Fprintf(r.out, "  %s\n", r.callsHeader())
	}
	fmt.Fprintln(r.out)
}

// line prints one indented timeline line under a step.
func (r *scenarioRunner) line(kind, format string, args ...any) {
	fmt.Fprintf(r.out, "          %-10s  %s\n", kind, fmt.Sprintf(format, args...))
}

// more prints a continuation of the line above.
func (r *scenarioRunner) more(format string, args ...any) {
	fmt.Fprintf(r.out, "%24s%s\n", "", fmt.Sprintf(format, args...))
}

// play runs one step: the action, then stream and console rounds until nothing new happens.
func (r *scenarioRunner) play(ctx context.Context, step scenarioStep) error {
	fmt.Fprintf(r.out, "%s  %s\n", step.Clock, step.describe())
	if step.Note != "" {
		fmt.Fprintf(r.out, "          # %s\n", step.Note)
	}
	r.clock.moveTo(step.At)
	r.cl.step = step.Index
	var err error
	switch {
	case step.Connect != nil:
		err = r.connectAction(step)
	case step.Salesforce != nil:
		err = r.salesforceAction(ctx, step)
	case step.Sweep:
		err = r.runSweep(ctx)
	case step.Session != nil:
		err = r.sessionAction(ctx, step)
	case step.Omni != nil:
		err = r.omniAction(step)
	case step.Poll:
		err = r.runPoll(ctx)
	case step.Case != nil:
		err = r.caseAction(ctx, step)
	case step.Task != nil:
		err = r.taskAction(step)
	case step.CaseSweep:
		err = r.runCaseSweep(ctx)
	case step.Call != nil:
		err = r.callAction(ctx, step)
	}
	if err != nil {
		return err
	}
	if err := r.collect(ctx); err != nil {
		return err
	}
	for round := 0; ; round++ {
		progressed, err := r.round(ctx)
		if err != nil {
			return err
		}
		if !progressed {
			break
		}
		if round+1 == scenarioMaxRounds {
			r.line("warning", "still not quiet after %d stream/console rounds; stopped here (the loop guard should cut a chain like this)", scenarioMaxRounds)
			break
		}
	}
	fmt.Fprintln(r.out)
	return nil
}

// connectAction applies a CCP action to connectsim; the agent event it emits is fed in the next
// round.
func (r *scenarioRunner) connectAction(step scenarioStep) error {
	sim := r.st.sims.connect
	a := r.agents[step.Agent]
	c := step.Connect
	contact := func(name string) string { return r.contacts[name] }
	switch {
	case c.Login != nil:
		return sim.Login(a.connectID, *c.Login)
	case c.SetStatus != nil:
		return sim.SetStatus(a.connectID, *c.SetStatus)
	case c.Logout != nil:
		return sim.Logout(a.connectID)
	case c.Offer != nil:
		nc := connectsim.NewContact{Channel: agentevent.Channel(c.Offer.Channel), Queue: c.Offer.Queue}
		var id string
		var err error
		if c.Offer.Direction == "outbound" {
			id, err = sim.Place(a.connectID, nc)
		} else {
			id, err = sim.Offer(a.connectID, nc)
		}
		if err != nil {
			return err
		}
		r.contacts[c.Offer.Contact], r.contactName[id] = id, c.Offer.Contact
		return nil
	case c.Accept != nil:
		return sim.Accept(contact(*c.Accept))
	case c.Connect != nil:
		return sim.Connect(contact(*c.Connect))
	case c.Hold != nil:
		return sim.Hold(contact(*c.Hold))
	case c.Resume != nil:
		return sim.Resume(contact(*c.Resume))
	case c.Miss != nil:
		return sim.Miss(contact(*c.Miss))
	case c.Reject != nil:
		return sim.Reject(contact(*c.Reject))
	case c.End != nil:
		return sim.End(contact(*c.End))
	case c.Clear != nil:
		return sim.Clear(contact(*c.Clear))
	}
	return errors.New("connect step with no action")
}

// consoleEvent is one event of the presence webhook contract, as the console component sends it.
type consoleEvent struct {
	ID                  string   `json:"id"`
	Type                string   `json:"type"`
	UserID              string   `json:"userId"`
	Time                string   `json:"time"`
	StatusID            string   `json:"statusId,omitempty"`
	StatusDeveloperName string   `json:"statusDeveloperName,omitempty"`
	CommandID           string   `json:"commandId,omitempty"`
	WorkItemID          string   `json:"workItemId,omitempty"`
	ServiceChannel      string   `json:"serviceChannel,omitempty"`
	ConfiguredCapacity  *float64 `json:"configuredCapacity,omitempty"`
	PreviousWorkload    *float64 `json:"previousWorkload,omitempty"`
	NewWorkload         *float64 `json:"newWorkload,omitempty"`
	Result              string   `json:"result,omitempty"`
}

// newConsoleEvent starts an event of the agent at the current scripted time.
func (r *scenarioRunner) newConsoleEvent(typ sfevents.Type, sfUserID string) consoleEvent {
	r.consoleSeq++
	return consoleEvent{
		ID: fmt.Sprintf("console-%04d", r.consoleSeq), Type: string(typ), UserID: sfUserID,
		Time: r.clock.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
	}
}

// salesforceAction sends a console event through the salesforce-webhook handler, or opens or
// closes the agent's console.
func (r *scenarioRunner) salesforceAction(ctx context.Context, step scenarioStep) error {
	a := r.agents[step.Agent]
	s := step.Salesforce
	var ev consoleEvent
	switch {
	case s.Console != nil:
		a.consoleShut = *s.Console == "closed"
		if a.consoleShut {
			r.line("console", "%s's Omni-Channel console is closed: presence commands for them go unanswered", a.username)
		} else {
			r.line("console", "%s's Omni-Channel console is open again", a.username)
		}
		return nil
	case s.StatusChanged != nil:
		// The org records the change (UserServicePresence) and the console pushes it.
		if err := r.setPresence(a, *s.StatusChanged); err != nil {
			return err
		}
		ev = r.newConsoleEvent(sfevents.TypeStatusChanged, a.salesforceID)
		ev.StatusDeveloperName, ev.StatusID = *s.StatusChanged, r.sfStatusID[*s.StatusChanged]
	case s.Logout != nil:
		if err := r.setPresence(a, engine.OfflineStatus); err != nil {
			return err
		}
		ev = r.newConsoleEvent(sfevents.TypeLogout, a.salesforceID)
	case s.WorkAccepted != nil:
		ev = r.newConsoleEvent(sfevents.TypeWorkAccepted, a.salesforceID)
		ev.ServiceChannel, ev.WorkItemID = s.WorkAccepted.Channel, s.WorkAccepted.WorkItem
		if ev.WorkItemID == "" {
			ev.WorkItemID = fmt.Sprintf("500xx%010d", step.Index)
		}
	case s.WorkloadChanged != nil:
		w := s.WorkloadChanged
		ev = r.newConsoleEvent(sfevents.TypeWorkloadChanged, a.salesforceID)
		ev.ConfiguredCapacity, ev.PreviousWorkload, ev.NewWorkload = w.Capacity, w.Previous, w.New
	}
	return r.postConsole(ctx, ev)
}

// postConsole sends console events in one signed webhook request at the scripted time, through
// the real salesforce-webhook handler, and reports results that are not plain successes.
func (r *scenarioRunner) postConsole(ctx context.Context, evs ...consoleEvent) error {
	return r.postWebhook(ctx, webhook.Path, evs)
}

// postWebhook sends events in one signed request to a route of the real salesforce-webhook
// handler at the scripted time, and reports results that are not plain successes.
func (r *scenarioRunner) postWebhook(ctx context.Context, path string, evs any) error {
	body, err := json.Marshal(map[string]any{
		"schemaVersion": sfevents.SchemaVersion, "orgId": scenarioOrgID,
		"sentAt": r.clock.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "events": evs,
	})
	if err != nil {
		return err
	}
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.SignatureHeader, webhook.Sign([]byte(webhook.LocalSecret), r.clock.Now(), body))
	rec := httptest.NewRecorder()
	r.webhook.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		r.line("webhook", "answered %d: %s", rec.Code, strings.TrimSpace(rec.Body.String()))
		return nil
	}
	var resp webhook.Response
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		return fmt.Errorf("webhook response: %w", err)
	}
	for _, res := range resp.Results {
		switch res.Outcome {
		case webhook.OutcomeRejected, webhook.OutcomeError, webhook.OutcomeSkipped:
			r.line("webhook", "%s %s: %s %s", res.Type, res.ID, res.Outcome, res.Detail)
		}
	}
	return nil
}

// runSweep runs the presence-sweep handler, as its schedule would at the current time.
func (r *scenarioRunner) runSweep(ctx context.Context) error {
	now := r.clock.Now()
	rep, err := r.sweep(ctx, events.EventBridgeEvent{
		Version: "0", ID: fmt.Sprintf("sweep-%d", now.Unix()), DetailType: "Scheduled Event", Source: "aws.scheduler",
		Time: now, Region: r.st.sims.connect.Region(), Detail: json.RawMessage("{}"),
	})
	r.line("sweep", "%d command(s) past their acknowledgement deadline: %d never acknowledged, %d settled earlier; %d undelivered outbox(es) retried",
		rep.Due, rep.Expired, rep.Due-rep.Expired, rep.OutboxAgents)
	if err != nil {
		r.line("sweep", "failed: %v", err)
	}
	return nil
}

// round feeds the agent events Connect emitted since the last round to the agent-events
// function, then plays the console for the presence commands published since. It reports
// whether anything happened.
func (r *scenarioRunner) round(ctx context.Context) (bool, error) {
	progressed := false
	sim := r.st.sims.connect
	if recs := sim.Events()[r.seenRecords:]; len(recs) > 0 {
		r.seenRecords += len(recs)
		progressed = true
		r.clock.advance(scenarioStreamDelay)
		for _, rec := range recs {
			r.line("stream", "%s", r.describeRecord(rec))
		}
		resp, err := r.agentEvents(ctx, sim.KinesisEvent(recs))
		if err != nil {
			r.line("stream", "agent-events failed the whole batch: %v", err)
		}
		if n := len(resp.BatchItemFailures); n > 0 {
			r.line("stream", "%d record(s) reported as failed; Lambda would retry them", n)
		}
		if err := r.collect(ctx); err != nil {
			return false, err
		}
	}
	if fed, err := r.feedContactEvents(ctx); err != nil {
		return false, err
	} else if fed {
		progressed = true
	}
	var cmds []map[string]any
	for _, ev := range r.st.sims.salesforce.Events()[r.seenPlatform:] {
		r.seenPlatform++
		if ev.Type == engine.PresenceCommandEvent {
			cmds = append(cmds, ev.Fields)
		}
	}
	if len(cmds) > 0 {
		progressed = true
		if err := r.playConsole(ctx, cmds); err != nil {
			return false, err
		}
	}
	return progressed, nil
}

// playConsole is the Omni-Channel console utility of each agent: it applies each presence
// command (reporting the status change with the command id, the echo) and acknowledges it.
// A closed console does neither.
func (r *scenarioRunner) playConsole(ctx context.Context, cmds []map[string]any) error {
	r.clock.advance(scenarioConsoleDelay)
	for _, f := range cmds {
		userID, _ := f[engine.FieldUserID].(string)
		statusID, _ := f[engine.FieldStatusID].(string)
		cmdID, _ := f[engine.FieldCommandID].(string)
		who := userID
		a := r.bySF[sfsim.CaseSafeID(userID)]
		if a != nil {
			who = a.username
		}
		if a != nil && a.consoleShut {
			r.line("console", "%s's console is closed: command %s (%s) is not applied or acknowledged", who, short(cmdID), r.sfStatusName(statusID))
			continue
		}
		if a != nil {
			name := r.sfStatusName(statusID)
			if err := r.setPresence(a, name); err != nil {
				return err
			}
		}
		var echo consoleEvent
		if statusID == engine.OfflineStatus {
			echo = r.newConsoleEvent(sfevents.TypeLogout, userID)
			r.line("console", "%s logged out of Omni-Channel by command %s", who, short(cmdID))
		} else {
			name := r.sfStatusName(statusID)
			echo = r.newConsoleEvent(sfevents.TypeStatusChanged, userID)
			echo.StatusID, echo.StatusDeveloperName = statusID, name
			r.line("console", "%s set to %s by command %s", who, name, short(cmdID))
		}
		echo.CommandID = cmdID
		if err := r.postConsole(ctx, echo); err != nil {
			return err
		}
		if err := r.collect(ctx); err != nil {
			return err
		}
		r.clock.advance(scenarioAckDelay)
		ack := r.newConsoleEvent(sfevents.TypeCommandAck, userID)
		ack.CommandID, ack.Result = cmdID, string(sfevents.AckApplied)
		r.line("console", "%s acknowledges command %s: applied", who, short(cmdID))
		if err := r.postConsole(ctx, ack); err != nil {
			return err
		}
		if err := r.collect(ctx); err != nil {
			return err
		}
	}
	return nil
}

// sfStatusName returns a status id's DeveloperName from the catalog (or the id itself).
func (r *scenarioRunner) sfStatusName(id string) string {
	if id == engine.OfflineStatus {
		return "Offline"
	}
	if n, ok := r.sfStatus[id]; ok {
		return n
	}
	if n, ok := r.sfStatus[sfsim.CaseSafeID(id)]; ok {
		return n
	}
	if _, f, ok := r.st.sims.salesforce.Record(id); ok {
		if n, _ := f["DeveloperName"].(string); n != "" {
			return n
		}
	}
	return id
}

// describeRecord summarises an agent event record: type, agent, status, next status, contacts.
func (r *scenarioRunner) describeRecord(rec connectsim.Record) string {
	ev := rec.Event
	who := rec.PartitionKey
	if snap := ev.CurrentAgentSnapshot; snap != nil && snap.Configuration != nil {
		who = snap.Configuration.Username
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", ev.EventType, who)
	if snap := ev.CurrentAgentSnapshot; snap != nil {
		if snap.AgentStatus != nil {
			fmt.Fprintf(&b, ": %s", snap.AgentStatus.Name)
		}
		if snap.NextAgentStatus != nil {
			fmt.Fprintf(&b, ", next %s", snap.NextAgentStatus.Name)
		}
		for _, c := range snap.Contacts {
			name := r.contactName[c.ContactID]
			if name == "" {
				name = c.ContactID
			}
			fmt.Fprintf(&b, ", %s %s %s", c.Channel, name, c.State)
		}
	}
	return b.String()
}

// collect prints what happened since the last call: new audit entries of the scenario's agents
// (oldest first), then the Connect status changes the bridge made and the presence commands it
// published.
func (r *scenarioRunner) collect(ctx context.Context) error {
	r.nameTasks()
	var entries []audit.Entry
	for _, name := range sortedKeys(r.agents) {
		a := r.agents[name]
		subjects := []string{audit.Subject(audit.KindAgent, a.connectID)}
		if a.salesforceID != "" {
			subjects = append(subjects, audit.Subject(audit.KindUser, a.salesforceID))
		}
		for _, subject := range subjects {
			es, err := r.auditSince(ctx, subject)
			if err != nil {
				return err
			}
			entries = append(entries, es...)
		}
	}
	cases, err := r.caseAudit(ctx)
	if err != nil {
		return err
	}
	entries = append(entries, cases...)
	slices.SortStableFunc(entries, func(x, y audit.Entry) int {
		if c := x.Time.Compare(y.Time); c != 0 {
			return c
		}
		// A session decision comes before the availability requests it made at the same time.
		return cmp.Compare(sessionRank(x), sessionRank(y))
	})
	for _, e := range entries {
		r.printDecision(e)
	}
	r.printToggles()
	reqs := r.st.sims.connect.Requests()
	for _, q := range reqs[min(r.seenRequests, len(reqs)):] {
		if r.printTaskRequest(q) {
			continue
		}
		if q.Op != "PutUserStatus" {
			continue
		}
		var body struct{ AgentStatusId string }
		_ = json.Unmarshal(q.Body, &body)
		who := q.Path
		parts := strings.Split(strings.Trim(q.Path, "/"), "/")
		if len(parts) == 4 {
			if a := r.byConnect[parts[2]]; a != nil {
				who = a.username
			}
		}
		result := fmt.Sprintf("HTTP %d", q.Status)
		if q.ErrorType != "" {
			result += " " + q.ErrorType
		}
		r.line("Connect", "PutUserStatus: %s → %s (%s)", who, r.connectStat[body.AgentStatusId], result)
	}
	r.seenRequests = len(reqs)
	r.flushTaskRequests()
	r.printCaseWrites()
	// Platform events are listed here and consumed by the next round.
	pes := r.st.sims.salesforce.Events()
	for _, ev := range pes[min(r.shownPlatform, len(pes)):] {
		if ev.Type == screenpop.Event {
			r.printScreenPop(ev)
			continue
		}
		if ev.Type != engine.PresenceCommandEvent {
			continue
		}
		userID, _ := ev.Fields[engine.FieldUserID].(string)
		statusID, _ := ev.Fields[engine.FieldStatusID].(string)
		cmdID, _ := ev.Fields[engine.FieldCommandID].(string)
		who := userID
		if a := r.bySF[sfsim.CaseSafeID(userID)]; a != nil {
			who = a.username
		}
		r.line("Salesforce", "published %s: %s → %s, command %s", engine.PresenceCommandEvent, who, r.sfStatusName(statusID), short(cmdID))
	}
	r.shownPlatform = len(pes)
	return nil
}

// auditSince returns the subject's audit entries not shown yet, oldest first. It reads the
// whole scenario day rather than since the step began: an expired command is audited at its
// deadline, which may lie before the sweep step that found it.
func (r *scenarioRunner) auditSince(ctx context.Context, subject string) ([]audit.Entry, error) {
	var out []audit.Entry
	q := audit.Query{Subject: subject, Since: r.sc.Day.Add(-24 * time.Hour), Limit: audit.MaxLimit}
	for {
		page, err := r.st.deps.Store.QueryAudit(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("read the audit of %s: %w", subject, err)
		}
		for _, e := range page.Entries {
			key := e.Subject + "|" + e.Time.UTC().Format(time.RFC3339Nano) + "|" + e.ID
			if !r.printed[key] {
				r.printed[key] = true
				out = append(out, e)
			}
		}
		if page.NextPageToken == "" {
			break
		}
		q.PageToken = page.NextPageToken
	}
	slices.Reverse(out)
	return out, nil
}

// auditDetails is the part of an audit entry's details the timeline shows.
type auditDetails struct {
	Results  []presence.Result  `json:"results"`
	Commands []presence.Command `json:"commands"`
}

// printDecision prints one audit entry: its outcome and the first sentence of its explanation
// (for an echo, the sentence naming the command it confirms too), then each destination's
// result, with the command it issued.
func (r *scenarioRunner) printDecision(e audit.Entry) {
	if isCaseEntry(e) {
		r.printCaseDecision(e)
		return
	}
	if isSessionEntry(e) {
		r.printSessionDecision(e)
		return
	}
	if m := echoOf.FindStringSubmatch(e.Message); e.Outcome == string(presence.OutcomeEcho) && m != nil {
		r.echoed[m[1]] = true
	}
	if id, _ := e.Details["commandId"].(string); e.Outcome == string(presence.OutcomeAcknowledged) && r.echoed[id] && !r.opts.explain {
		// The console's echo already confirmed the command and settled it; its acknowledgement
		// arriving after is the normal order of things, not an anomaly.
		r.line("decision", "acknowledged: command %s applied, as its echo already showed (routine; nothing to do)", short(id))
		return
	}
	msg := shortIDs(e.Message)
	availability := e.Details["eventKind"] == string(presence.KindAvailability)
	if availability && !r.opts.explain {
		// "Salesforce: applied: session availability (reason) → target; what was done (crossing
		// 1 of max 3 in chain ...)." says it all in one clause, without the chain.
		msg = strings.TrimSuffix(msg, ".")
		if _, rest, ok := strings.Cut(msg, ": "+e.Outcome+": "); ok {
			msg = rest
		}
		if i := strings.LastIndex(msg, " (crossing "); i >= 0 {
			msg = msg[:i]
		}
	} else if !r.opts.explain {
		first := firstSentence(msg)
		if e.Outcome == string(presence.OutcomeEcho) {
			if rest := strings.TrimPrefix(msg, first+". "); rest != msg {
				first += "; " + strings.TrimSuffix(firstSentence(rest), ".")
			}
		}
		msg = first
	}
	if !strings.HasPrefix(msg, strings.ReplaceAll(e.Outcome, "-", " ")+":") {
		msg = e.Outcome + ": " + msg
	}
	if kind, id, _ := strings.Cut(e.Subject, "/"); kind == audit.KindUser {
		msg = "(Salesforce user " + id + ", linked to no agent) " + msg
	}
	r.line("decision", "%s", msg)
	if r.opts.explain {
		return
	}
	var d auditDetails
	if raw, err := json.Marshal(e.Details); err == nil {
		_ = json.Unmarshal(raw, &d)
	}
	for _, res := range d.Results {
		if e.Outcome == string(presence.OutcomeNotApplied) || e.Outcome == string(presence.OutcomeAcknowledged) || e.Outcome == string(presence.OutcomeFailed) ||
			availability && res.CommandID == "" {
			continue // the explanation said it all
		}
		src := ""
		if s := resultSource(res); s != "" {
			src = " (" + s + ")"
		}
		i := slices.IndexFunc(d.Commands, func(c presence.Command) bool { return c.ID == res.CommandID })
		if res.CommandID != "" && i >= 0 {
			mode := ""
			if d.Commands[i].Mode == presence.ModeNextStatus {
				mode = " as Connect's next status, after the contact"
			}
			r.more("→ %s%s: command %s%s", res.Target, src, short(res.CommandID), mode)
			continue
		}
		text := fmt.Sprintf("%s: %s", res.Destination.Label(), res.Outcome)
		if res.Target.Destination != "" {
			text = fmt.Sprintf("%s%s: %s", res.Target, src, res.Outcome)
		}
		if res.Detail != "" {
			text += " — " + shortIDs(firstSentence(res.Detail))
		}
		r.more("%s", text)
	}
}

// echoOf finds the command an echo's explanation names.
var echoOf = regexp.MustCompile(`Echo of command ([0-9a-f]{32})`)

// longID matches the 32-hex-digit command ids, shortened in the timeline.
var longID = regexp.MustCompile(`\b([0-9a-f]{8})[0-9a-f]{24}\b`)

// shortIDs shortens the command ids in text to their first 8 digits.
func shortIDs(text string) string { return longID.ReplaceAllString(text, "$1") }

// resultSource names what chose a result's target: a rule or the status mapping.
func resultSource(res presence.Result) string {
	if res.RuleID != "" {
		return "rule " + res.RuleID
	}
	if res.Source != "" && res.Source != "none" {
		return string(res.Source)
	}
	return ""
}

// firstSentence returns text up to the end of its first sentence.
func firstSentence(text string) string {
	if i := strings.Index(text, ". "); i >= 0 {
		return text[:i]
	}
	return strings.TrimSuffix(text, ".")
}

// short abbreviates a command id for the timeline.
func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
