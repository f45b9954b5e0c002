package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/app"
	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/connect"
	"github.com/omnibridge/omnibridge/shared/connect/connectsim"
	"github.com/omnibridge/omnibridge/shared/contactdispatch"
	"github.com/omnibridge/omnibridge/shared/contactevent"
	"github.com/omnibridge/omnibridge/shared/phone"
	"github.com/omnibridge/omnibridge/shared/routing"
	"github.com/omnibridge/omnibridge/shared/routingsync"
	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
	"github.com/omnibridge/omnibridge/shared/screenpop"
	"github.com/omnibridge/omnibridge/shared/sfevents"
	"github.com/omnibridge/omnibridge/shared/webhook"
)

// The routing day: steps that play Salesforce cases as Email-to-Case and the package's triggers
// record them, the agent's work on the Connect tasks the bridge creates for them, and the
// scheduled case sweep.
//
//	{"at": "07:00:00", "case": {"waiting": {"case": "old-1", "queue": "Support_Tier_A", "subject": "..."}}}
//	                   a case already in the queue: inserted in the org, no webhook (a backlog)
//	{"at": "09:00:00", "case": {"new": {"case": "refund", "queue": "Support_Tier_A", "subject": "...",
//	                   "skills": "Billing;Spanish", "priority": "High"}}}
//	                   Email-to-Case creates the case; the trigger sends case.created
//	{"at": "09:05:00", "task": {"accept": "refund"}}            the case's waiting task rings for the
//	                   agent, who accepts it (RouteContact, Accept, Connect in connectsim)
//	{"at": "09:20:00", "task": {"complete": "refund"}}          the agent ends the task (unless the
//	                   bridge stopped it) and clears its after-contact work
//	{"at": "11:00:00", "case": {"customerEmail": "refund"}}     an incoming EmailMessage; case.email_added
//	{"at": "11:30:00", "case": {"agentReply": "refund"}}        the agent's outgoing EmailMessage
//	{"at": "11:40:00", "case": {"comment": {"case": "refund", "byOwner": false}}}
//	                   the agent's CaseComment; byOwner must match whether the agent owns the case
//	{"at": "12:00:00", "caseSweep": true}                       the case-sweep function runs
//
// Cases are names the scenario gives them in "new" or "waiting"; queues are Group
// DeveloperNames in the seed. Email-to-Case records (cases, customer emails) are created by the
// seed's Automated Case User; the agent's replies and comments by the agent's Salesforce user.
// Owner changes the bridge makes send no webhook: the package's trigger skips the integration
// user's changes.

// scenarioCaseUser is the Username of the seed's Automated Case User, who creates Email-to-Case
// records (Support Settings' "Automated Case User").
const scenarioCaseUser = "autocase@example.com"

// Delays inside the task steps, so each part happens at its own instant on the scripted clock.
const (
	// scenarioRingTime is how long a task rings before the agent accepts it.
	scenarioRingTime = 2 * time.Second
	// scenarioConnectTime is how long after the accept the task connects.
	scenarioConnectTime = time.Second
	// scenarioWrapTime is how long the agent spends in after-contact work before clearing.
	scenarioWrapTime = 5 * time.Second
)

// caseStepAction is what happens to a case in Salesforce; exactly one field is set.
type caseStepAction struct {
	New           *newCaseAction `json:"new"`
	Waiting       *newCaseAction `json:"waiting"`
	CustomerEmail *string        `json:"customerEmail"`
	AgentReply    *string        `json:"agentReply"`
	Comment       *commentAction `json:"comment"`
}

// newCaseAction is a case created in a queue.
type newCaseAction struct {
	// Case is the scenario's name for the case, used by the later steps.
	Case     string `json:"case"`
	Queue    string `json:"queue"`
	Subject  string `json:"subject"`
	Skills   string `json:"skills"`
	Priority string `json:"priority"`
}

// commentAction is a CaseComment by the step's agent.
type commentAction struct {
	Case string `json:"case"`
	// ByOwner is what the trigger sends: whether the author owns the case. The runner checks it
	// against the case's owner at that time.
	ByOwner *bool `json:"byOwner"`
}

// taskStepAction is what the agent does with a case's task in the CCP; exactly one field is set.
type taskStepAction struct {
	Accept   *string `json:"accept"`
	Complete *string `json:"complete"`
}

// needsAgent reports whether a case action is the agent's (a reply or a comment) rather than
// Email-to-Case's.
func (a *caseStepAction) needsAgent() bool { return a.AgentReply != nil || a.Comment != nil }

// caseRef returns the case a case action acts on, and the action's field path.
func (a *caseStepAction) caseRef() (string, string) {
	switch {
	case a.New != nil:
		return a.New.Case, "new.case"
	case a.Waiting != nil:
		return a.Waiting.Case, "waiting.case"
	case a.CustomerEmail != nil:
		return *a.CustomerEmail, "customerEmail"
	case a.AgentReply != nil:
		return *a.AgentReply, "agentReply"
	case a.Comment != nil:
		return a.Comment.Case, "comment.case"
	}
	return "", ""
}

// caseRef returns the case a task action acts on, and the action's field name.
func (a *taskStepAction) caseRef() (string, string) {
	if a.Accept != nil {
		return *a.Accept, "accept"
	}
	if a.Complete != nil {
		return *a.Complete, "complete"
	}
	return "", ""
}

// checkCaseAction checks a step's case action.
func checkCaseAction(a *caseStepAction, path string, probs *scenarioProblems) bool {
	if !oneAction(setFields(a), a, path, probs) {
		return false
	}
	n := len(*probs)
	for _, nc := range []struct {
		field string
		a     *newCaseAction
	}{{"new", a.New}, {"waiting", a.Waiting}} {
		if nc.a == nil {
			continue
		}
		if nc.a.Case == "" {
			probs.add(path+"."+nc.field+".case", "required: a name for the case, used by the later steps")
		}
		if nc.a.Queue == "" {
			probs.add(path+"."+nc.field+".queue", "required: the DeveloperName of the Salesforce queue that owns the case")
		}
		if len(nc.a.Skills) > 255 {
			probs.add(path+"."+nc.field+".skills", "%d characters; the skills field is Text(255)", len(nc.a.Skills))
		}
	}
	if c := a.Comment; c != nil && c.ByOwner == nil {
		probs.add(path+".comment.byOwner", "required: true when the case's owner writes the comment")
	}
	if name, field := a.caseRef(); name == "" && a.New == nil && a.Waiting == nil {
		probs.add(path+"."+field, "required: the name of a case created earlier")
	}
	return len(*probs) == n
}

// checkTaskAction checks a step's task action.
func checkTaskAction(a *taskStepAction, path string, probs *scenarioProblems) bool {
	if !oneAction(setFields(a), a, path, probs) {
		return false
	}
	if name, field := a.caseRef(); name == "" {
		probs.add(path+"."+field, "required: the name of a case created earlier")
		return false
	}
	return true
}

// checkCases checks that a step's case names are new where it creates a case and known where it
// uses one, and tracks the cases created.
func checkCases(st scenarioStep, path string, cases map[string]bool, probs *scenarioProblems) {
	var name, field, kind string
	switch {
	case st.Case != nil:
		name, field = st.Case.caseRef()
		kind = "case"
	case st.Task != nil:
		name, field = st.Task.caseRef()
		kind = "task"
	default:
		return
	}
	if name == "" {
		return
	}
	if st.Case != nil && (st.Case.New != nil || st.Case.Waiting != nil) {
		if cases[name] {
			probs.add(path+"."+kind+"."+field, "a case %q was created in an earlier step", name)
		}
		cases[name] = true
		return
	}
	if !cases[name] {
		probs.add(path+"."+kind+"."+field, "no case %q was created in an earlier step", name)
	}
}

// describeRouting renders a routing step's action for the timeline's header line.
func (st scenarioStep) describeRouting() string {
	switch {
	case st.CaseSweep:
		return "[caseSweep] case sweep (open cases in monitored queues without a task)"
	case st.Task != nil:
		name, field := st.Task.caseRef()
		return "[task] " + st.Agent + " " + field + " " + name
	case st.Case != nil:
		c := st.Case
		switch {
		case c.New != nil:
			return fmt.Sprintf("[case] new %s in %s (Email-to-Case)", c.New.Case, c.New.Queue)
		case c.Waiting != nil:
			return fmt.Sprintf("[case] %s waiting in %s (before the bridge: no webhook)", c.Waiting.Case, c.Waiting.Queue)
		case c.CustomerEmail != nil:
			return "[case] customer email on " + *c.CustomerEmail
		case c.AgentReply != nil:
			return "[case] " + st.Agent + " replies by email on " + *c.AgentReply
		case c.Comment != nil:
			by := "not the owner"
			if *c.Comment.ByOwner {
				by = "the owner"
			}
			return fmt.Sprintf("[case] %s comments on %s (%s)", st.Agent, c.Comment.Case, by)
		}
	}
	return "?"
}

// usesRouting reports whether the scenario has case, task or caseSweep steps.
func (sc *scenario) usesRouting() bool {
	return slices.ContainsFunc(sc.Steps, func(st scenarioStep) bool { return st.Case != nil || st.Task != nil || st.CaseSweep })
}

// scenarioCase is one case of the scenario.
type scenarioCase struct {
	name   string
	id     string // 18 characters
	number string
	queue  string // the DeveloperName of the queue it was created in
	tasks  int    // tasks named so far
}

// routingRun is the runner's state for the routing steps.
type routingRun struct {
	contactEvents app.ContactEventHandler
	caseSweep     app.SweepCasesHandler

	caseUser     string            // the Automated Case User's id (18 characters)
	queueIDs     map[string]string // Group DeveloperName → id (18 characters)
	queueNames   map[string]string // Group id (18 characters) → DeveloperName
	connectQueue map[string]string // Connect queue id → name
	flows        map[string]string // Connect contact flow id → name

	cases    []*scenarioCase
	byName   map[string]*scenarioCase
	byID     map[string]*scenarioCase
	taskName map[string]string // Connect contact id → "refund#1"

	// taskCalls are the task calls listed by printTaskRequest, printed by flushTaskRequests.
	taskCalls []orderedLine

	// seenContactEvents counts the contact events fed to contact-events; seenSFRequests the
	// Salesforce requests the timeline looked through for case writes.
	seenContactEvents, seenSFRequests int
}

// setupRouting builds the contact-events and case-sweep handlers and, for a scenario with
// routing steps, resolves the queues, the Automated Case User and the Connect names the timeline
// shows.
func (r *scenarioRunner) setupRouting(ctx context.Context, cn *connect.Client, sf *salesforce.Client, probs *scenarioProblems) error {
	d := r.st.deps
	rt := &r.rt
	rt.queueIDs, rt.queueNames, rt.connectQueue, rt.flows = map[string]string{}, map[string]string{}, map[string]string{}, map[string]string{}
	rt.byName, rt.byID, rt.taskName = map[string]*scenarioCase{}, map[string]*scenarioCase{}, map[string]string{}
	var err error
	if rt.contactEvents, err = app.ContactEvents(phone.Numbers{})(ctx, d); err != nil {
		return err
	}
	if !r.sc.usesRouting() {
		return nil
	}
	if rt.caseSweep, err = app.CaseSweep(ctx, d); err != nil {
		return err
	}
	soql, err := salesforce.Select("Id", "DeveloperName").From("Group").Where("Type = 'Queue'").Build()
	if err != nil {
		return err
	}
	for rec, err := range sf.Query(ctx, soql) {
		if err != nil {
			return fmt.Errorf("read the org's queues: %w", err)
		}
		id, _ := rec["Id"].(string)
		name, _ := rec["DeveloperName"].(string)
		rt.queueIDs[name], rt.queueNames[sfsim.CaseSafeID(id)] = sfsim.CaseSafeID(id), name
	}
	emailToCase := slices.ContainsFunc(r.sc.Steps, func(st scenarioStep) bool {
		return st.Case != nil && (st.Case.New != nil || st.Case.Waiting != nil || st.Case.CustomerEmail != nil)
	})
	if rt.caseUser, err = salesforceUserID(ctx, sf, "Username", scenarioCaseUser); err != nil && emailToCase {
		probs.add("steps", "Email-to-Case steps (case new, waiting, customerEmail) need the org's Automated Case User: %v", err)
	}
	for _, q := range r.cfg.EffectiveRouting().Queues {
		if cq, err := cn.DescribeQueue(ctx, q.ConnectQueueID); err == nil {
			rt.connectQueue[q.ConnectQueueID] = cq.Name
		}
	}
	flows, err := cn.ContactFlows(ctx)
	if err != nil {
		return fmt.Errorf("list Connect contact flows: %w", err)
	}
	for _, f := range flows {
		rt.flows[f.ID] = f.Name
	}
	return nil
}

// checkRoutingSteps checks the routing steps against the stack, once the agents are resolved:
// the queues exist, and replies and comments have a Salesforce author.
func (r *scenarioRunner) checkRoutingSteps(probs *scenarioProblems) {
	rt := &r.rt
	for _, step := range r.sc.Steps {
		path := fmt.Sprintf("steps[%d]", step.Index)
		c := step.Case
		if c == nil {
			continue
		}
		for _, nc := range []struct {
			field string
			a     *newCaseAction
		}{{"new", c.New}, {"waiting", c.Waiting}} {
			if nc.a != nil && rt.queueIDs[nc.a.Queue] == "" {
				probs.add(path+".case."+nc.field+".queue", "%q is no queue (Group of Type Queue) in the seed (queues: %s)", nc.a.Queue, strings.Join(sortedKeys(rt.queueIDs), ", "))
			}
		}
		if a := r.agents[step.Agent]; a != nil && a.unlinked != nil && c.needsAgent() {
			probs.add(path+".agent", "a reply or comment needs the agent's Salesforce user: %v", a.unlinked)
		}
	}
}

// markRoutingSeen makes what setup asked Salesforce and Connect no part of the day.
func (r *scenarioRunner) markRoutingSeen() {
	r.rt.seenContactEvents = len(r.st.sims.connect.ContactEvents())
	r.rt.seenSFRequests = len(r.st.sims.salesforce.Requests())
}

// routingHeader describes the config's routing section, for scenarios that use it.
func (r *scenarioRunner) routingHeader() string {
	rc := r.cfg.EffectiveRouting()
	if !rc.Enabled {
		return "routing: disabled"
	}
	var queues []string
	for _, q := range rc.Queues {
		s := fmt.Sprintf("%s → Connect %s (flow %q", q.SalesforceQueue, cmp.Or(r.rt.connectQueue[q.ConnectQueueID], q.ConnectQueueID), cmp.Or(r.rt.flows[q.ContactFlowID], q.ContactFlowID))
		if q.Priority > 0 {
			s += fmt.Sprintf(", priority %d", q.Priority)
		}
		queues = append(queues, s+")")
	}
	var opts []string
	if rc.AssignOwnerOnAccept {
		opts = append(opts, "owner on accept")
	}
	if rc.AutoDisconnectOnReply {
		opts = append(opts, "auto-disconnect on reply")
	}
	opts = append(opts, "invalid skills "+rc.InvalidSkills, "unanswered "+rc.OnUnanswered)
	return fmt.Sprintf("routing: %s; skills %s on attribute %s; %s; triggers %s", strings.Join(queues, ", "), rc.SkillsField, rc.SkillAttribute,
		strings.Join(opts, ", "), strings.Join(rc.Triggers, ","))
}

// caseAction plays a case step: the org's records change as Email-to-Case or the agent change
// them, and the package's trigger sends the case event through the real webhook handler.
func (r *scenarioRunner) caseAction(ctx context.Context, step scenarioStep) error {
	c := step.Case
	switch {
	case c.New != nil:
		return r.createCase(ctx, c.New, true)
	case c.Waiting != nil:
		return r.createCase(ctx, c.Waiting, false)
	case c.CustomerEmail != nil:
		sc := r.rt.byName[*c.CustomerEmail]
		id, err := r.st.sims.salesforce.Insert("EmailMessage", map[string]any{
			"ParentId": sc.id, "Incoming": true, "Status": "0", "Subject": "RE: " + r.caseField(sc, "Subject"),
			"FromAddress": "customer@example.com", "MessageDate": r.clock.Now(), "CreatedById": r.rt.caseUser,
		})
		if err != nil {
			return fmt.Errorf("insert the EmailMessage: %w", err)
		}
		r.line("Salesforce", "Email-to-Case adds the customer's email %s to case %s (Incoming); the trigger sends case.email_added", id, sc.name)
		ev := r.caseEvent(sfevents.CaseEmailAdded, sc, id, r.rt.caseUser)
		ev.Incoming = ptr(true)
		return r.postWebhook(ctx, webhook.CasesPath, []caseEvent{ev})
	case c.AgentReply != nil:
		a, sc := r.agents[step.Agent], r.rt.byName[*c.AgentReply]
		id, err := r.st.sims.salesforce.Insert("EmailMessage", map[string]any{
			"ParentId": sc.id, "Incoming": false, "Status": "3", "Subject": "RE: " + r.caseField(sc, "Subject"),
			"ToAddress": "customer@example.com", "MessageDate": r.clock.Now(), "CreatedById": a.salesforceID,
		})
		if err != nil {
			return fmt.Errorf("insert the EmailMessage: %w", err)
		}
		r.line("Salesforce", "%s sends email %s on case %s (outgoing); the trigger sends case.email_added", a.username, id, sc.name)
		ev := r.caseEvent(sfevents.CaseEmailAdded, sc, id, a.salesforceID)
		ev.Incoming = ptr(false)
		return r.postWebhook(ctx, webhook.CasesPath, []caseEvent{ev})
	case c.Comment != nil:
		a, sc := r.agents[step.Agent], r.rt.byName[c.Comment.Case]
		owner := sfsim.CaseSafeID(r.caseField(sc, "OwnerId"))
		if isOwner := owner == a.salesforceID; isOwner != *c.Comment.ByOwner {
			return fmt.Errorf("case.comment.byOwner is %t, but the case's owner is %s and the author %s (%s)", *c.Comment.ByOwner, r.ownerName(owner), a.username, a.salesforceID)
		}
		id, err := r.st.sims.salesforce.Insert("CaseComment", map[string]any{
			"ParentId": sc.id, "CommentBody": "Note on the case", "IsPublished": false, "CreatedById": a.salesforceID,
		})
		if err != nil {
			return fmt.Errorf("insert the CaseComment: %w", err)
		}
		r.line("Salesforce", "%s comments on case %s (CaseComment %s); the trigger sends case.comment_added", a.username, sc.name, id)
		ev := r.caseEvent(sfevents.CaseCommentAdded, sc, id, a.salesforceID)
		ev.ByOwner = c.Comment.ByOwner
		return r.postWebhook(ctx, webhook.CasesPath, []caseEvent{ev})
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// createCase inserts a case owned by its queue, as Email-to-Case creates it, and, unless it was
// waiting before the bridge, sends case.created.
func (r *scenarioRunner) createCase(ctx context.Context, nc *newCaseAction, webhookToo bool) error {
	f := map[string]any{
		"Subject": nc.Subject, "Status": "New", "Origin": "Email", "OwnerId": r.rt.queueIDs[nc.Queue],
		"CreatedById": r.rt.caseUser, "LastModifiedById": r.rt.caseUser,
	}
	if nc.Priority != "" {
		f["Priority"] = nc.Priority
	}
	if nc.Skills != "" {
		f[r.cfg.EffectiveRouting().SkillsField] = nc.Skills
	}
	id, err := r.st.sims.salesforce.Insert("Case", f)
	if err != nil {
		return fmt.Errorf("insert the case: %w", err)
	}
	sc := &scenarioCase{name: nc.Case, id: sfsim.CaseSafeID(id), queue: nc.Queue}
	sc.number = r.caseField(sc, "CaseNumber")
	r.rt.cases = append(r.rt.cases, sc)
	r.rt.byName[sc.name], r.rt.byID[sc.id] = sc, sc
	skills := "no skills"
	if nc.Skills != "" {
		skills = "skills " + nc.Skills
	}
	what := fmt.Sprintf("case %s (%s, %s) in queue %s: %q, priority %s, %s", sc.name, sc.number, sc.id, nc.Queue, nc.Subject, r.caseField(sc, "Priority"), skills)
	if !webhookToo {
		r.line("Salesforce", "%s has waited since before the bridge was deployed", what)
		return nil
	}
	r.line("Salesforce", "Email-to-Case creates %s; the trigger sends case.created", what)
	return r.postWebhook(ctx, webhook.CasesPath, []caseEvent{r.caseEvent(sfevents.CaseCreated, sc, sc.id+":created", r.rt.caseUser)})
}

// caseField returns a text field of the case as the org holds it now.
func (r *scenarioRunner) caseField(sc *scenarioCase, name string) string {
	_, f, _ := r.st.sims.salesforce.Record(sc.id)
	s, _ := f[name].(string)
	return s
}

// caseEvent is one event of the case webhook contract (v1), as the package's triggers send it.
type caseEvent struct {
	Type       string  `json:"type"`
	EventID    string  `json:"eventId"`
	EventDate  string  `json:"eventDate"`
	CaseID     string  `json:"caseId"`
	CaseNumber string  `json:"caseNumber"`
	Subject    *string `json:"subject"`
	Priority   *string `json:"priority"`
	Status     string  `json:"status"`
	IsClosed   bool    `json:"isClosed"`
	OwnerID    string  `json:"ownerId"`
	Skills     *string `json:"skills"`
	ActorID    string  `json:"actorId"`
	ByOwner    *bool   `json:"byOwner,omitempty"`
	Incoming   *bool   `json:"incoming,omitempty"`
}

// caseEvent builds the event the trigger sends for the case's current state, dated now.
func (r *scenarioRunner) caseEvent(typ sfevents.CaseType, sc *scenarioCase, eventID, actor string) caseEvent {
	_, f, _ := r.st.sims.salesforce.Record(sc.id)
	text := func(k string) *string {
		if s, _ := f[k].(string); s != "" {
			return &s
		}
		return nil
	}
	closed, _ := f["IsClosed"].(bool)
	return caseEvent{
		Type: string(typ), EventID: eventID, EventDate: r.clock.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		CaseID: sc.id, CaseNumber: sc.number, Subject: text("Subject"), Priority: text("Priority"),
		Status: r.caseField(sc, "Status"), IsClosed: closed, OwnerID: sfsim.CaseSafeID(r.caseField(sc, "OwnerId")),
		Skills: text(r.cfg.EffectiveRouting().SkillsField), ActorID: actor,
	}
}

// taskAction plays the agent's part on a case's task in the CCP.
func (r *scenarioRunner) taskAction(step scenarioStep) error {
	sim := r.st.sims.connect
	a := r.agents[step.Agent]
	name, _ := step.Task.caseRef()
	sc := r.rt.byName[name]
	r.nameTasks()
	tasks := r.caseTasks(sc)
	switch {
	case step.Task.Accept != nil:
		i := slices.IndexFunc(tasks, func(t connectsim.Contact) bool { return !t.Ended && t.AgentID == "" })
		if i < 0 {
			return fmt.Errorf("case %s has no task waiting in a Connect queue", sc.name)
		}
		t := tasks[i]
		offered := r.clock.Now()
		if err := sim.RouteContact(t.ID, a.connectID); err != nil {
			return err
		}
		accepted := r.clock.advance(scenarioRingTime)
		if err := sim.Accept(t.ID); err != nil {
			return err
		}
		connected := r.clock.advance(scenarioConnectTime)
		if err := sim.Connect(t.ID); err != nil {
			return err
		}
		r.line("CCP", "task %s rings for %s at %s, accepted at %s, connected at %s", r.rt.taskName[t.ID], a.username, clock(offered), clock(accepted), clock(connected))
	case step.Task.Complete != nil:
		i := slices.IndexFunc(tasks, func(t connectsim.Contact) bool { return t.AgentID == a.connectID })
		if i < 0 {
			return fmt.Errorf("case %s has no task on %s", sc.name, a.username)
		}
		t := tasks[i]
		how := "ends task %s and clears its after-contact work at %s"
		if t.State == agentevent.ContactStateEnded {
			how = "clears the after-contact work of task %s, which had already ended, at %s"
		} else if err := sim.End(t.ID); err != nil {
			return err
		}
		cleared := r.clock.advance(scenarioWrapTime)
		if err := sim.Clear(t.ID); err != nil {
			return err
		}
		r.line("CCP", "%s "+how, a.username, r.rt.taskName[t.ID], clock(cleared))
	}
	return nil
}

// caseTasks returns the case's tasks in connectsim, newest first.
func (r *scenarioRunner) caseTasks(sc *scenarioCase) []connectsim.Contact {
	var out []connectsim.Contact
	for _, t := range r.st.sims.connect.Tasks() {
		if sfsim.CaseSafeID(t.Attributes[routing.AttrCaseID]) == sc.id {
			out = append(out, t)
		}
	}
	slices.Reverse(out)
	return out
}

// nameTasks gives each task Connect created for a scenario case a name, "refund#1" for the
// first, in creation order, so the timeline and the stream records can refer to it.
func (r *scenarioRunner) nameTasks() {
	if len(r.rt.cases) == 0 {
		return
	}
	for _, t := range r.st.sims.connect.Tasks() {
		if r.rt.taskName[t.ID] != "" {
			continue
		}
		sc := r.rt.byID[sfsim.CaseSafeID(t.Attributes[routing.AttrCaseID])]
		if sc == nil {
			continue
		}
		sc.tasks++
		name := fmt.Sprintf("%s#%d", sc.name, sc.tasks)
		r.rt.taskName[t.ID], r.contactName[t.ID] = name, name
	}
}

// runCaseSweep runs the case-sweep handler, as its schedule would at the current time, and
// prints its report.
func (r *scenarioRunner) runCaseSweep(ctx context.Context) error {
	now := r.clock.Now()
	rep, err := r.rt.caseSweep(ctx, events.EventBridgeEvent{
		Version: "0", ID: fmt.Sprintf("case-sweep-%d", now.Unix()), DetailType: "Scheduled Event", Source: "aws.scheduler",
		Time: now, Region: r.st.sims.connect.Region(), Detail: json.RawMessage("{}"),
	})
	r.line("caseSweep", "%s", caseSweepSummary(rep))
	if err != nil {
		r.line("caseSweep", "failed: %v", err)
	}
	return nil
}

// caseSweepSummary renders a case sweep's report on one line.
func caseSweepSummary(rep routingsync.SweepReport) string {
	if rep.Disabled {
		return "case routing is disabled in the config; nothing read"
	}
	s := fmt.Sprintf("%d open case(s) in monitored queues: %d routed, %d held, %d failed, %d with a task or needing none, %d left for the next run",
		rep.Scanned, rep.Routed, rep.Held, rep.Failed, rep.Skipped, rep.Errors)
	switch {
	case rep.Complete:
		s += "; reached the newest case"
	default:
		s += "; stopped before the newest case (the next run resumes)"
	}
	if len(rep.MissingQueues) > 0 {
		s += "; no Salesforce queue for " + strings.Join(rep.MissingQueues, ", ")
	}
	return s
}

// feedContactEvents hands the contact events Connect emitted since the last call to the
// contact-events function, as its EventBridge rule would, listing those of the scenario's case
// tasks. It reports whether there were any.
func (r *scenarioRunner) feedContactEvents(ctx context.Context) (bool, error) {
	evs := r.st.sims.connect.ContactEvents()
	if r.rt.contactEvents == nil || len(evs) <= r.rt.seenContactEvents {
		return false, nil
	}
	fresh := slices.Clone(evs[r.rt.seenContactEvents:])
	r.rt.seenContactEvents = len(evs)
	r.nameTasks()
	// EventBridge delivers contact events unordered. The runner delivers each contact's events
	// in their order, the contacts in the order of their cases: the case sweep starts tasks
	// concurrently, and the timeline must not depend on which goroutine ran first.
	slices.SortStableFunc(fresh, func(x, y connectsim.ContactEventRecord) int {
		return cmp.Compare(r.taskOrder(x.Event.Detail.ContactID), r.taskOrder(y.Event.Detail.ContactID))
	})
	for _, ev := range fresh {
		if r.isCallEvent(ev) {
			if err := r.feedCallEvent(ctx, ev); err != nil {
				return false, err
			}
			continue
		}
		d := ev.Event.Detail
		name := r.rt.taskName[d.ContactID]
		if name != "" {
			r.line("contact", "%s", r.describeContactEvent(name, d))
		}
		r.dispatchContactEvent(ctx, ev, name)
	}
	return true, r.collect(ctx)
}

// dispatchContactEvent hands one contact event to the contact-events function and lists a
// failure or a refusal under the contact's name.
func (r *scenarioRunner) dispatchContactEvent(ctx context.Context, ev connectsim.ContactEventRecord, name string) contactdispatch.Report {
	d := ev.Event.Detail
	rep, err := r.rt.contactEvents(ctx, json.RawMessage(ev.Data))
	switch {
	case err != nil:
		r.line("contact", "%s %s: contact-events failed: %v (EventBridge would retry)", d.EventType, cmp.Or(name, d.ContactID), err)
	case rep.Poison != "":
		r.line("contact", "%s %s: refused: %s", d.EventType, cmp.Or(name, d.ContactID), rep.Poison)
	case len(rep.Failed) > 0:
		r.line("contact", "%s %s: %s could not process it", d.EventType, cmp.Or(name, d.ContactID), strings.Join(rep.Failed, ", "))
	}
	return rep
}

// taskOrder orders contacts for the timeline: case tasks by case, then by task, then everything
// else.
func (r *scenarioRunner) taskOrder(contactID string) int {
	name := r.rt.taskName[contactID]
	if name == "" {
		return len(r.rt.cases) << 16
	}
	base, n, _ := strings.Cut(name, "#")
	i := slices.IndexFunc(r.rt.cases, func(sc *scenarioCase) bool { return sc.name == base })
	k, _ := strconv.Atoi(n)
	return i<<16 | k
}

// describeContactEvent summarises a contact event of a case task.
func (r *scenarioRunner) describeContactEvent(name string, d contactevent.Detail) string {
	s := string(d.EventType) + " " + name
	switch d.EventType {
	case contactevent.Queued:
		if d.Queue != nil {
			s += " in " + r.connectQueueName(d.Queue.ARN)
		}
	case contactevent.ConnectedToAgent:
		s += " to " + r.agentName(d.AgentID())
	case contactevent.Disconnected:
		if d.Agent != nil && d.Agent.ConnectedToAgentTimestamp != nil {
			s += " after " + r.agentName(d.AgentID()) + " handled it"
		} else {
			s += " before an agent answered"
		}
	}
	return s
}

// connectQueueName names a Connect queue by its ARN.
func (r *scenarioRunner) connectQueueName(arn string) string {
	id := arn[strings.LastIndex(arn, "/")+1:]
	return cmp.Or(r.rt.connectQueue[id], id)
}

// agentName returns the scenario agent's username for a Connect user id (or the id).
func (r *scenarioRunner) agentName(connectID string) string {
	if a := r.byConnect[connectID]; a != nil {
		return a.username
	}
	return connectID
}

// ownerName names a case owner: a scenario agent, a queue, or the id.
func (r *scenarioRunner) ownerName(id string) string {
	id = sfsim.CaseSafeID(id)
	if a := r.bySF[id]; a != nil {
		return a.username
	}
	if q := r.rt.queueNames[id]; q != "" {
		return "queue " + q
	}
	return id
}

// caseAudit returns the routing audit entries of the scenario's cases not shown yet.
func (r *scenarioRunner) caseAudit(ctx context.Context) ([]audit.Entry, error) {
	var out []audit.Entry
	for _, sc := range r.rt.cases {
		es, err := r.auditSince(ctx, audit.Subject(audit.KindCase, sc.id))
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
	}
	return out, nil
}

// isCaseEntry reports whether an audit entry is case routing's.
func isCaseEntry(e audit.Entry) bool {
	kind, _, _ := strings.Cut(e.Subject, "/")
	return kind == audit.KindCase
}

// printCaseDecision prints one routing decision: the case, the outcome, the explanation and, for
// a route, the task, reason and skills.
func (r *scenarioRunner) printCaseDecision(e audit.Entry) {
	_, id, _ := strings.Cut(e.Subject, "/")
	name := id
	if sc := r.rt.byID[sfsim.CaseSafeID(id)]; sc != nil {
		name = sc.name
	}
	r.line("routing", "%s %s: %s", name, e.Outcome, r.routingNames(e.Message))
	var d struct {
		Reason       string   `json:"reason"`
		Skills       []string `json:"skills"`
		ContactID    string   `json:"contactId"`
		ContactEvent string   `json:"contactEvent"`
	}
	if raw, err := json.Marshal(e.Details); err == nil {
		_ = json.Unmarshal(raw, &d)
	}
	if e.Outcome == routingsync.OutcomeRouted && d.ContactID != "" {
		skills := "no skills"
		if len(d.Skills) > 0 {
			skills = "skills " + strings.Join(d.Skills, ", ")
		}
		r.more("→ task %s (reason %s, %s)", r.routingNames(d.ContactID), d.Reason, skills)
	}
}

// routingNames replaces the task and agent ids in text with their scenario names.
func (r *scenarioRunner) routingNames(text string) string {
	for _, id := range sortedKeys(r.rt.taskName) {
		text = strings.ReplaceAll(text, id, r.rt.taskName[id])
	}
	for _, id := range sortedKeys(r.byConnect) {
		text = strings.ReplaceAll(text, id, r.byConnect[id].username)
	}
	for _, id := range sortedKeys(r.rt.connectQueue) {
		text = strings.ReplaceAll(text, id, r.rt.connectQueue[id])
	}
	return text
}

// printTaskRequest lists a StartTaskContact or StopContact the bridge sent to Connect for
// flushTaskRequests, and reports whether q was one.
func (r *scenarioRunner) printTaskRequest(q connectsim.Request) bool {
	result := fmt.Sprintf("HTTP %d", q.Status)
	if q.ErrorType != "" {
		result += " " + q.ErrorType
	}
	switch q.Op {
	case "StartTaskContact":
		var body struct {
			Name, ContactFlowId, ClientToken string
		}
		_ = json.Unmarshal(q.Body, &body)
		task, id := "no task", ""
		for _, t := range r.st.sims.connect.Tasks() {
			if t.ClientToken == body.ClientToken && body.ClientToken != "" {
				task, id = cmp.Or(r.rt.taskName[t.ID], t.ID), t.ID
			}
		}
		r.rt.taskCalls = append(r.rt.taskCalls, orderedLine{r.taskOrder(id), fmt.Sprintf("StartTaskContact %q, flow %q, ClientToken %s → %s (%s)",
			body.Name, cmp.Or(r.rt.flows[body.ContactFlowId], body.ContactFlowId), short(body.ClientToken), task, result)})
		return true
	case "StopContact":
		var body struct{ ContactId string }
		_ = json.Unmarshal(q.Body, &body)
		r.rt.taskCalls = append(r.rt.taskCalls, orderedLine{r.taskOrder(body.ContactId),
			fmt.Sprintf("StopContact %s (%s)", cmp.Or(r.rt.taskName[body.ContactId], body.ContactId), result)})
		return true
	}
	return false
}

// orderedLine is a timeline line with its place among the lines of one listing.
type orderedLine struct {
	order int
	text  string
}

// printOrdered prints lines of one kind in their order (stable: lines of the same place keep
// their arrival order), and empties them.
func (r *scenarioRunner) printOrdered(kind string, lines *[]orderedLine) {
	slices.SortStableFunc(*lines, func(x, y orderedLine) int { return cmp.Compare(x.order, y.order) })
	for _, l := range *lines {
		r.line(kind, "%s", l.text)
	}
	*lines = nil
}

// flushTaskRequests prints the task calls printTaskRequest listed, in case order: the case
// sweep starts tasks concurrently.
func (r *scenarioRunner) flushTaskRequests() { r.printOrdered("Connect", &r.rt.taskCalls) }

// printCaseWrites lists the bridge's updates of cases since the last call: one PATCH of a Case,
// or the Cases of an sObject Collections update (the sweep writes a page's cases at once).
func (r *scenarioRunner) printCaseWrites() {
	reqs := r.st.sims.salesforce.Requests()
	var lines []orderedLine
	for _, q := range reqs[min(r.rt.seenSFRequests, len(reqs)):] {
		if q.Method != "PATCH" {
			continue
		}
		if i := strings.Index(q.Path, "/sobjects/Case/"); i >= 0 {
			var fields map[string]any
			_ = json.Unmarshal(q.Body, &fields)
			lines = append(lines, r.caseWrite(q.Path[i+len("/sobjects/Case/"):], fields))
			continue
		}
		if !strings.HasSuffix(q.Path, "/composite/sobjects") {
			continue
		}
		var body struct {
			Records []map[string]any `json:"records"`
		}
		_ = json.Unmarshal(q.Body, &body)
		for _, rec := range body.Records {
			attrs, _ := rec["attributes"].(map[string]any)
			id, _ := rec["Id"].(string)
			if attrs["type"] != "Case" || id == "" {
				continue
			}
			delete(rec, "attributes")
			delete(rec, "Id")
			lines = append(lines, r.caseWrite(id, rec))
		}
	}
	r.rt.seenSFRequests = len(reqs)
	// In case order: the case sweep writes cases back concurrently.
	r.printOrdered("Salesforce", &lines)
}

// caseWrite renders one update of a case's fields, in the case's place.
func (r *scenarioRunner) caseWrite(id string, fields map[string]any) orderedLine {
	name, order := id, len(r.rt.cases)
	if sc := r.rt.byID[sfsim.CaseSafeID(id)]; sc != nil {
		name, order = sc.name, slices.Index(r.rt.cases, sc)
	}
	var parts []string
	for _, k := range sortedKeys(fields) {
		v := fmt.Sprint(fields[k])
		switch k {
		case routingsync.FieldOwnerID:
			v = r.ownerName(v)
		case routingsync.FieldConnectContactID:
			v = cmp.Or(r.rt.taskName[v], v)
		default:
			v = fmt.Sprintf("%q", v)
		}
		parts = append(parts, k+" "+v)
	}
	text := fmt.Sprintf("case %s updated: %s", name, strings.Join(parts, ", "))
	if _, ok := fields[routingsync.FieldOwnerID]; ok {
		text += " (the integration user's change: the trigger sends no owner change)"
	}
	return orderedLine{order, text}
}

// printScreenPop lists a screen pop the bridge published and plays the console component, which
// opens the case in the agent's console unless the console is closed.
func (r *scenarioRunner) printScreenPop(ev sfsim.Event) {
	if r.printCallPop(ev) {
		return
	}
	userID, _ := ev.Fields[screenpop.FieldUserID].(string)
	recordID, _ := ev.Fields[screenpop.FieldRecordID].(string)
	contactID, _ := ev.Fields[screenpop.FieldConnectContactID].(string)
	reason, _ := ev.Fields[screenpop.FieldReason].(string)
	record := recordID
	sc := r.rt.byID[sfsim.CaseSafeID(recordID)]
	if sc != nil {
		record = "case " + sc.name
	}
	who := r.ownerName(userID)
	r.line("Salesforce", "published %s: %s → %s (task %s, %s)", screenpop.Event, who, record, cmp.Or(r.rt.taskName[contactID], contactID), reason)
	a := r.bySF[sfsim.CaseSafeID(userID)]
	switch {
	case a == nil:
	case a.consoleShut:
		r.line("console", "%s's console is closed: the screen pop is not shown", a.username)
	case sc != nil:
		r.line("console", "%s's console opens case %s (%s) in a tab", a.username, sc.number, sc.name)
	default:
		r.line("console", "%s's console opens record %s in a tab", a.username, recordID)
	}
}

// caseSummary prints, after the agents, where each case ended: its routing entry, its current
// task in Connect, and the case as the org holds it.
func (r *scenarioRunner) caseSummary(ctx context.Context) error {
	r.nameTasks()
	for _, sc := range r.rt.cases {
		fmt.Fprintf(r.out, "  case %s (%s, %s)\n", sc.name, sc.number, sc.id)
		row := func(kind, format string, args ...any) {
			fmt.Fprintf(r.out, "    %-12s%s\n", kind+":", fmt.Sprintf(format, args...))
		}
		rec, err := r.st.deps.Store.GetRouting(ctx, sc.id)
		switch {
		case apperr.Is(err, apperr.NotFound):
			row("routing", "never routed")
		case err != nil:
			return fmt.Errorf("summary: routing of case %s: %w", sc.name, err)
		default:
			e := rec.Entry
			state := string(e.State)
			if e.Detail != "" {
				state += ": " + r.routingNames(e.Detail)
			}
			row("routing", "%s; reason %s; %d task(s)", state, e.Reason, e.Tasks)
			if e.ContactID != "" {
				row("task", "%s", r.describeTask(e.ContactID))
			}
		}
		_, f, _ := r.st.sims.salesforce.Record(sc.id)
		text := func(k string) string { s, _ := f[k].(string); return s }
		sf := fmt.Sprintf("owner %s, Status %s, %s %q", r.ownerName(text("OwnerId")), text("Status"), routingsync.FieldRoutingStatus, text(routingsync.FieldRoutingStatus))
		if id := text(routingsync.FieldConnectContactID); id != "" {
			sf += ", " + routingsync.FieldConnectContactID + " " + cmp.Or(r.rt.taskName[id], id)
		}
		row("Salesforce", "%s", sf)
	}
	return nil
}

// describeTask renders a task's state in connectsim.
func (r *scenarioRunner) describeTask(id string) string {
	name := cmp.Or(r.rt.taskName[id], id)
	t, err := r.st.sims.connect.Contact(id)
	switch {
	case err != nil:
		return name + ", unknown to Connect"
	case t.AgentID != "" && t.State == agentevent.ContactStateEnded:
		return fmt.Sprintf("%s ended, in %s's after-contact work", name, r.agentName(t.AgentID))
	case t.AgentID != "":
		return fmt.Sprintf("%s %s with %s", name, t.State, r.agentName(t.AgentID))
	case t.Ended:
		return name + " ended"
	}
	return fmt.Sprintf("%s waiting in Connect queue %s", name, cmp.Or(r.rt.connectQueue[t.QueueID], t.QueueID))
}
