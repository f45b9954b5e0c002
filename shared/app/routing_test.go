package app

// End-to-end tests of case routing, wired as the Lambdas wire it: the webhook's case processor,
// the contact-events dispatcher and the case-sweep handler over a real DynamoDB-compatible table,
// sfsim behind the real Salesforce client and connectsim behind the real AWS SDK client.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/connect"
	"github.com/omnibridge/omnibridge/shared/connect/connectsim"
	"github.com/omnibridge/omnibridge/shared/contactdispatch"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamolocal"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamotest"
	"github.com/omnibridge/omnibridge/shared/phone"
	"github.com/omnibridge/omnibridge/shared/routing"
	"github.com/omnibridge/omnibridge/shared/routingsync"
	"github.com/omnibridge/omnibridge/shared/runtime"
	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
	"github.com/omnibridge/omnibridge/shared/screenpop"
	"github.com/omnibridge/omnibridge/shared/secrets"
	"github.com/omnibridge/omnibridge/shared/sfevents"
)

// The routing rig's Connect resources.
const (
	rrQueueA   = "aaaaaaaa-0000-4000-8000-00000000000a"
	rrQueueB   = "aaaaaaaa-0000-4000-8000-00000000000b"
	rrFlow     = "bbbbbbbb-0000-4000-8000-00000000000f"
	rrAgent    = "cccccccc-0000-4000-8000-0000000000a1"
	rrUsername = "agent1@example.com"
)

var routingT0 = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

type routingRig struct {
	tb       testing.TB
	ctx      context.Context
	clock    *rigClock
	org      *sfsim.Org
	cn       *connectsim.Sim
	store    *dynamo.Store
	deps     *runtime.Deps
	cases    caseProcessor
	dispatch *contactdispatch.Dispatcher
	sweep    SweepCasesHandler
	svc      *routingsync.Service

	queueA, queueB, agentUser string
	cnURL                     string
	seq                       int
}

// connectClient is a Connect client of the rig's instance, for what a supervisor does by hand.
func (r *routingRig) connectClient() *connect.Client {
	return connect.New(connect.NewSDKClient(r.deps.AWS, r.cnURL), r.cn.InstanceID(), connect.Options{RequestsPerSecond: 100})
}

type routingRigOptions struct {
	routing   map[string]any // overrides of the routing section
	sfFaults  float64        // share of Salesforce API requests failing with 503
	cnFaults  float64        // share of Connect requests failing with 429 or 503
	connectRP float64        // Connect client rate (default 200/s)
}

func newRoutingRig(tb testing.TB, o routingRigOptions) *routingRig {
	tb.Helper()
	clock := &rigClock{now: routingT0}
	r := &routingRig{tb: tb, ctx: context.Background(), clock: clock}
	r.org = sfsim.New(sfsim.Config{ClientID: rigClientID, ClientSecret: rigClientSecret, APILimit: 1 << 30, Now: clock.Now})
	var err error
	ids, err := r.org.InsertMany("Group", []map[string]any{
		{"Name": "Support Tier A", "DeveloperName": "Support_Tier_A", "Type": "Queue"},
		{"Name": "Support Tier B", "DeveloperName": "Support_Tier_B", "Type": "Queue"},
		{"Name": "Other", "DeveloperName": "Other_Queue", "Type": "Queue"},
	})
	if err != nil {
		tb.Fatal(err)
	}
	r.queueA, r.queueB = ids[0], ids[1]
	if r.agentUser, err = r.org.Insert("User", map[string]any{"Username": rrUsername, "LastName": "Agent", "IsActive": true}); err != nil {
		tb.Fatal(err)
	}
	sfSrv := httptest.NewServer(r.org)
	tb.Cleanup(sfSrv.Close)

	r.cn, err = connectsim.New(connectsim.Seed{
		AgentStatuses:   []connectsim.SeedAgentStatus{{Name: "Available", Type: "ROUTABLE"}, {Name: "Offline", Type: "OFFLINE"}},
		Queues:          []connectsim.SeedQueue{{ID: rrQueueA, Name: "Tier A"}, {ID: rrQueueB, Name: "Tier B"}},
		RoutingProfiles: []connectsim.SeedRoutingProfile{{Name: "Cases", InboundQueues: []string{"Tier A", "Tier B"}, Concurrency: map[string]int{"TASK": 5}}},
		Users:           []connectsim.SeedUser{{ID: rrAgent, Username: rrUsername, RoutingProfile: "Cases"}},
		ContactFlows: []connectsim.SeedContactFlow{{ID: rrFlow, Name: "Omnibridge case task", Queue: "Tier A",
			RoutingCriteriaAttribute: routing.AttrRoutingCriteria, PriorityAttribute: routing.AttrQueuePriority}},
		PredefinedAttributes: []connectsim.SeedPredefinedAttribute{{Name: "Skill", Values: []string{"Billing", "Spanish"}}},
	}, connectsim.Options{Now: clock.Now, FaultSeed: 7})
	if err != nil {
		tb.Fatal(err)
	}
	cnSrv := httptest.NewServer(r.cn)
	tb.Cleanup(cnSrv.Close)
	r.cnURL = cnSrv.URL

	creds, err := json.Marshal(salesforce.Credentials{Flow: salesforce.FlowClientCredentials, LoginURL: sfSrv.URL,
		ClientID: rigClientID, ClientSecret: rigClientSecret})
	if err != nil {
		tb.Fatal(err)
	}
	rps := o.connectRP
	if rps == 0 {
		rps = 200
	}
	r.store = dynamotest.NewStore(tb).WithClock(clock.Now)
	awsCfg := dynamolocal.Config()
	// The SDK's standard retries with a short backoff: the fault tests retry thousands of calls.
	awsCfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 5
			o.Backoff = retry.NewExponentialJitterBackoff(10 * time.Millisecond)
		})
	}
	r.deps = &runtime.Deps{
		Env: runtime.Env{ConnectEndpoint: cnSrv.URL, ConnectInstanceID: r.cn.InstanceID(), SalesforceSecretARN: rigSecretID,
			Table: r.store.Table(), ConnectRequestsPerSecond: rps},
		Logger: slog.New(slog.DiscardHandler), AWS: awsCfg, Secrets: secrets.Static{rigSecretID: creds},
		Now: clock.Now, Store: r.store,
	}
	if _, err := r.store.PutConfig(r.ctx, routingConfigDoc(tb, o.routing), 0, "test"); err != nil {
		tb.Fatal(err)
	}
	if r.svc, err = RoutingService(r.ctx, r.deps); err != nil {
		tb.Fatal(err)
	}
	r.cases = caseProcessor{r.svc}
	if r.dispatch, err = ContactDispatcher(r.ctx, r.deps, phone.Numbers{}); err != nil {
		tb.Fatal(err)
	}
	if r.sweep, err = CaseSweep(r.ctx, r.deps); err != nil {
		tb.Fatal(err)
	}
	if o.sfFaults > 0 {
		r.org.AddRule(sfsim.Rule{Path: "/services/data/", Probability: o.sfFaults, Fault: sfsim.FaultUnavailable})
	}
	if o.cnFaults > 0 {
		r.cn.AddFault(connectsim.Fault{Kind: connectsim.FaultThrottling, Probability: o.cnFaults / 2})
		r.cn.AddFault(connectsim.Fault{Kind: connectsim.FaultUnavailable, Probability: o.cnFaults / 2})
	}
	return r
}

// routingConfigDoc is a config with routing on two monitored queues (skills from
// Omnibridge_Skills__c on the predefined attribute Skill, owner assigned on accept,
// auto-disconnect on reply), with overrides.
func routingConfigDoc(tb testing.TB, overrides map[string]any) config.Document {
	tb.Helper()
	section := map[string]any{
		"enabled": true,
		"queues": []any{
			map[string]any{"salesforceQueue": "Support_Tier_A", "connectQueueId": rrQueueA, "contactFlowId": rrFlow, "priority": 2},
			map[string]any{"salesforceQueue": "Support_Tier_B", "connectQueueId": rrQueueB, "contactFlowId": rrFlow},
		},
		"autoDisconnectOnReply": true,
		"assignOwnerOnAccept":   true,
	}
	for k, v := range overrides {
		section[k] = v
	}
	doc := map[string]any{
		"schemaVersion":  config.SchemaVersion,
		"rules":          []any{},
		"statusMappings": []any{},
		"statusCatalog":  map[string]any{"connect": []any{}, "salesforce": []any{}},
		"settings":       map[string]any{"identity": map[string]any{"salesforceField": "Username"}},
		"routing":        section,
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	parsed, err := config.Parse(raw)
	if err != nil {
		tb.Fatalf("test config does not parse: %v", err)
	}
	if probs := config.Validate(parsed); len(probs) > 0 {
		tb.Fatalf("test config is invalid: %v", probs)
	}
	return parsed
}

// newCase inserts an open case owned by owner with skills.
func (r *routingRig) newCase(owner, subject, skills string) (id, number string) {
	r.tb.Helper()
	f := map[string]any{"Subject": subject, "Status": "New", "Priority": "High", "Origin": "Email", "OwnerId": owner}
	if skills != "" {
		f[config.DefaultSkillsField] = skills
	}
	id, err := r.org.Insert("Case", f)
	if err != nil {
		r.tb.Fatal(err)
	}
	return id, r.field(id, "CaseNumber")
}

func (r *routingRig) field(id, name string) string {
	r.tb.Helper()
	_, f, ok := r.org.Record(id)
	if !ok {
		r.tb.Fatalf("no record %s", id)
	}
	s, _ := f[name].(string)
	return s
}

// event builds the case webhook event the package's triggers send for the case's current state.
func (r *routingRig) event(typ sfevents.CaseType, caseID string, mod func(*sfevents.CaseEvent)) sfevents.CaseEvent {
	r.seq++
	_, f, _ := r.org.Record(caseID)
	str := func(k string) string { s, _ := f[k].(string); return s }
	e := sfevents.CaseEvent{ID: fmt.Sprintf("ev-%d", r.seq), Type: typ, Date: r.clock.Now(), CaseID: caseID,
		CaseNumber: str("CaseNumber"), Subject: str("Subject"), Priority: str("Priority"), Status: str("Status"),
		OwnerID: str("OwnerId"), Skills: str(config.DefaultSkillsField), ActorID: r.agentUser}
	if mod != nil {
		mod(&e)
	}
	return e
}

func (r *routingRig) process(ev sfevents.CaseEvent) string {
	r.tb.Helper()
	res, err := r.cases.ProcessCase(r.ctx, ev)
	if err != nil {
		r.tb.Fatalf("ProcessCase(%s): %v", ev, err)
	}
	return res.Outcome
}

// deliver hands every contact event Connect emitted since the last call to the dispatcher.
func (r *routingRig) deliver(from *int) {
	r.tb.Helper()
	evs := r.cn.ContactEvents()
	for _, e := range evs[*from:] {
		if _, err := r.dispatch.Dispatch(r.ctx, json.RawMessage(e.Data)); err != nil {
			r.tb.Fatalf("dispatch %s %s: %v", e.Event.Detail.EventType, e.Event.Detail.ContactID, err)
		}
	}
	*from = len(evs)
}

func (r *routingRig) entry(caseID string) routing.Entry {
	r.tb.Helper()
	e, err := r.svc.Case(r.ctx, caseID)
	if err != nil {
		r.tb.Fatal(err)
	}
	return e
}

func (r *routingRig) runSweep() routingsync.SweepReport {
	r.tb.Helper()
	rep, err := r.sweep(r.ctx, events.EventBridgeEvent{})
	if err != nil {
		r.tb.Fatalf("sweep: %v", err)
	}
	return rep
}

// TestCaseRoutingDay walks a case through the day the issue describes: new email case with
// skills → task → agent accepts → screen pop and owner → task completed → customer replies →
// routed again → agent replies → task stopped; with the webhook replayed and the sweep run
// twice along the way, asserting one task per cause on connectsim's ClientToken log.
func TestCaseRoutingDay(t *testing.T) {
	r := newRoutingRig(t, routingRigOptions{})
	caseID, number := r.newCase(r.queueA, "Refund not received", "Billing;Spanish")
	created := r.event(sfevents.CaseCreated, caseID, nil)
	for i, want := range []string{routingsync.OutcomeRouted, routingsync.OutcomeDuplicate, routingsync.OutcomeDuplicate} {
		if got := r.process(created); got != want {
			t.Fatalf("delivery %d: outcome %q, want %q", i+1, got, want)
		}
	}
	tasks := r.cn.Tasks()
	if len(tasks) != 1 {
		t.Fatalf("%d tasks after three deliveries, want 1", len(tasks))
	}
	task := tasks[0]
	if task.QueueID != rrQueueA || task.Priority != 2 || task.Attributes[routing.AttrCaseID] != caseID ||
		!slices.Equal(task.RoutingConditions, []string{"Skill=Billing>=1", "Skill=Spanish>=1"}) ||
		task.Name != "Case "+number+": Refund not received" || !strings.HasSuffix(task.References["Case"].Value, "/lightning/r/Case/"+caseID+"/view") {
		t.Fatalf("task = %+v", task)
	}
	if st, id := r.field(caseID, routingsync.FieldRoutingStatus), r.field(caseID, routingsync.FieldConnectContactID); st != "Routed" || id != task.ID {
		t.Fatalf("case write-back = %q %q", st, id)
	}

	// The routed write is lost (a crash after StartTaskContact): the sweep resumes the claimed
	// attempt with its key, and Connect answers the repeated ClientToken with the same task.
	rec, err := r.store.GetRouting(r.ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	lost := rec.Entry
	lost.State, lost.ContactID, lost.Tasks = routing.StateRouting, "", 0
	if _, err := r.store.PutRouting(r.ctx, lost, rec.Version); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		rep := r.runSweep()
		if !rep.Complete || rep.Scanned != 1 || rep.Errors != 0 {
			t.Fatalf("sweep %d: %+v", i+1, rep)
		}
	}
	tokens := r.cn.ClientTokens()
	if n := len(r.cn.Tasks()); n != 1 || len(tokens) != 1 || tokens[0].Replays != 1 || tokens[0].Mismatches != 0 {
		t.Fatalf("after the sweeps: %d tasks, tokens %+v", n, tokens)
	}
	if e := r.entry(caseID); e.State != routing.StateRouted || e.ContactID != task.ID {
		t.Fatalf("entry after the resumed attempt = %+v", e)
	}

	// The agent accepts: the case pops in their console and becomes theirs.
	seen := 0
	if err := r.cn.Login(rrAgent, "Available"); err != nil {
		t.Fatal(err)
	}
	if err := r.cn.RouteContact(task.ID, rrAgent); err != nil {
		t.Fatal(err)
	}
	if err := r.cn.Accept(task.ID); err != nil {
		t.Fatal(err)
	}
	if err := r.cn.Connect(task.ID); err != nil {
		t.Fatal(err)
	}
	r.deliver(&seen)
	if e := r.entry(caseID); e.State != routing.StateConnected || e.AgentID != rrAgent || e.AgentUserID != r.agentUser {
		t.Fatalf("entry after accept = %+v", e)
	}
	if owner, st := r.field(caseID, "OwnerId"), r.field(caseID, routingsync.FieldRoutingStatus); owner != r.agentUser || st != "Connected" {
		t.Fatalf("case after accept: owner %s status %q", owner, st)
	}
	pops := popsOf(r.org)
	if len(pops) != 1 || pops[0][screenpop.FieldUserID] != r.agentUser || pops[0][screenpop.FieldRecordID] != caseID ||
		pops[0][screenpop.FieldReason] != screenpop.ReasonCaseRouted || pops[0][screenpop.FieldConnectContactID] != task.ID {
		t.Fatalf("screen pops = %v", pops)
	}
	// The owner change the accept caused comes back from the trigger: not a reason to route.
	echo := r.event(sfevents.CaseOwnerChanged, caseID, func(e *sfevents.CaseEvent) { e.PreviousOwnerID = r.queueA })
	if got := r.process(echo); got != routingsync.OutcomeIgnored {
		t.Fatalf("owner change echo: %q", got)
	}

	// The agent finishes the task.
	r.clock.Set(routingT0.Add(10 * time.Minute))
	if err := r.cn.End(task.ID); err != nil {
		t.Fatal(err)
	}
	r.deliver(&seen)
	if e := r.entry(caseID); e.State != routing.StateCompleted {
		t.Fatalf("entry after the task ended = %+v", e)
	}

	// The customer replies by email: the case is routed again, to the queue it came from.
	r.clock.Set(routingT0.Add(time.Hour))
	reply := r.event(sfevents.CaseEmailAdded, caseID, func(e *sfevents.CaseEvent) { e.Incoming = true })
	if got := r.process(reply); got != routingsync.OutcomeRouted {
		t.Fatalf("customer reply: %q", got)
	}
	tasks = r.cn.Tasks()
	if len(tasks) != 2 || tasks[1].QueueID != rrQueueA || tasks[1].Attributes[routing.AttrReason] != config.TriggerCustomerEmail {
		t.Fatalf("tasks after the reply = %+v", tasks)
	}
	second := tasks[1]
	if err := r.cn.RouteContact(second.ID, rrAgent); err != nil {
		t.Fatal(err)
	}
	if err := r.cn.Accept(second.ID); err != nil {
		t.Fatal(err)
	}
	if err := r.cn.Connect(second.ID); err != nil {
		t.Fatal(err)
	}
	r.deliver(&seen)

	// The agent answers by email: the task is stopped (auto-disconnect on reply).
	answer := r.event(sfevents.CaseEmailAdded, caseID, nil)
	if got := r.process(answer); got != routingsync.OutcomeStopped {
		t.Fatalf("agent reply: %q", got)
	}
	if c, err := r.cn.Contact(second.ID); err != nil || !c.Ended {
		t.Fatalf("second task after the agent's reply: %+v %v", c, err)
	}
	r.deliver(&seen)
	e := r.entry(caseID)
	if e.State != routing.StateStopped || e.Tasks != 2 || r.field(caseID, routingsync.FieldRoutingStatus) != "Stopped" {
		t.Fatalf("entry at the end = %+v", e)
	}
	if n := len(r.cn.Tasks()); n != 2 {
		t.Fatalf("%d tasks at the end of the day, want 2", n)
	}
}

func popsOf(org *sfsim.Org) []map[string]any {
	var out []map[string]any
	for _, e := range org.Events() {
		if e.Type == screenpop.Event {
			out = append(out, e.Fields)
		}
	}
	return out
}

// TestCaseSkillsHeldUntilFixed holds a case whose skills break SORS' rules, writes the reason to
// the case, leaves it alone while unchanged, and routes it once the skills are fixed.
func TestCaseSkillsHeldUntilFixed(t *testing.T) {
	r := newRoutingRig(t, routingRigOptions{})
	caseID, _ := r.newCase(r.queueB, "Printer on fire", "Billing; Spanish")
	if got := r.process(r.event(sfevents.CaseCreated, caseID, nil)); got != routingsync.OutcomeHeld {
		t.Fatalf("outcome %q, want held", got)
	}
	if st := r.field(caseID, routingsync.FieldRoutingStatus); !strings.HasPrefix(st, "Skills invalid: ") || !strings.Contains(st, "starts with a space") {
		t.Fatalf("status = %q", st)
	}
	if rep := r.runSweep(); rep.Routed != 0 || rep.Skipped != 1 {
		t.Fatalf("sweep with unchanged skills: %+v", rep)
	}
	if err := r.org.Update(caseID, map[string]any{config.DefaultSkillsField: "Spanish"}); err != nil {
		t.Fatal(err)
	}
	if rep := r.runSweep(); rep.Routed != 1 {
		t.Fatalf("sweep with fixed skills: %+v", rep)
	}
	tasks := r.cn.Tasks()
	if len(tasks) != 1 || !slices.Equal(tasks[0].RoutingConditions, []string{"Skill=Spanish>=1"}) || tasks[0].Attributes[routing.AttrReason] != routing.ReasonBacklog {
		t.Fatalf("tasks = %+v", tasks)
	}
}

// TestCaseUnknownSkillRoutedWithoutWhenConfigured routes a case naming a skill Connect lacks
// without skills when routing.invalidSkills says so.
func TestCaseUnknownSkillRoutedWithoutWhenConfigured(t *testing.T) {
	r := newRoutingRig(t, routingRigOptions{routing: map[string]any{"invalidSkills": config.InvalidSkillsRouteWithout}})
	caseID, _ := r.newCase(r.queueA, "Bonjour", "French")
	if got := r.process(r.event(sfevents.CaseCreated, caseID, nil)); got != routingsync.OutcomeRouted {
		t.Fatalf("outcome %q", got)
	}
	if tasks := r.cn.Tasks(); len(tasks) != 1 || len(tasks[0].RoutingConditions) != 0 {
		t.Fatalf("tasks = %+v", tasks)
	}
}

// TestCaseUnansweredTaskIsRoutedAgain routes a case again when its task ends before an agent
// answers, up to routing.maxReroutes, then marks it failed.
func TestCaseUnansweredTaskIsRoutedAgain(t *testing.T) {
	r := newRoutingRig(t, routingRigOptions{routing: map[string]any{"maxReroutes": 1}})
	caseID, _ := r.newCase(r.queueA, "Nobody home", "")
	if got := r.process(r.event(sfevents.CaseCreated, caseID, nil)); got != routingsync.OutcomeRouted {
		t.Fatalf("outcome %q", got)
	}
	seen := 0
	for i := range 2 {
		tasks := r.cn.Tasks()
		if len(tasks) != i+1 {
			t.Fatalf("round %d: %d tasks", i, len(tasks))
		}
		// A supervisor stops the task while it waits in the queue: it ends unanswered.
		if err := r.connectClient().StopContact(r.ctx, r.entry(caseID).ContactID); err != nil {
			t.Fatal(err)
		}
		r.deliver(&seen)
	}
	e := r.entry(caseID)
	if e.State != routing.StateFailed || e.Unanswered != 2 || len(r.cn.Tasks()) != 2 || r.field(caseID, routingsync.FieldRoutingStatus) != "Failed: unanswered" {
		t.Fatalf("entry = %+v, tasks %d, status %q", e, len(r.cn.Tasks()), r.field(caseID, routingsync.FieldRoutingStatus))
	}
}

// TestCaseBacklogUnderFaults routes a 1,000-case backlog with 20% of the calls to Salesforce and
// to Connect failing: sweeps run until one completes cleanly, and every case ends with exactly
// one task.
func TestCaseBacklogUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 cases")
	}
	const n = 1000
	r := newRoutingRig(t, routingRigOptions{sfFaults: 0.2, cnFaults: 0.2, routing: map[string]any{"sweepBatch": 400}})
	want := map[string]bool{}
	recs := make([]map[string]any, n)
	for i := range recs {
		q := r.queueA
		if i%2 == 1 {
			q = r.queueB
		}
		recs[i] = map[string]any{"Subject": fmt.Sprintf("Backlog %d", i), "Status": "New", "OwnerId": q, config.DefaultSkillsField: "Billing"}
	}
	ids, err := r.org.InsertMany("Case", recs)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		want[id] = true
	}
	runs := 0
	for ; runs < 40; runs++ {
		rep, err := r.sweep(r.ctx, events.EventBridgeEvent{})
		t.Logf("sweep %d: %+v %v", runs+1, rep, err)
		if err == nil && rep.FromStart && rep.Complete && rep.Errors == 0 && rep.Routed == 0 {
			break
		}
	}
	got := map[string]int{}
	for _, task := range r.cn.Tasks() {
		got[task.Attributes[routing.AttrCaseID]]++
	}
	for id := range want {
		if got[id] != 1 {
			rec, err := r.store.GetRouting(r.ctx, id)
			t.Errorf("case %s has %d tasks; entry %+v %v", id, got[id], rec, err)
		}
	}
	if len(got) != n {
		t.Errorf("%d cases with tasks, want %d", len(got), n)
	}
	t.Logf("%d sweeps; Connect calls %v; Salesforce API calls %d", runs+1, r.cn.CallCounts(), r.org.APIUsage())
}

// TestRoutingAdminRoutes saves routing configs through the admin API, whose save checks the
// Connect queues, flows and skill attribute against connectsim, and reads a case's routing
// history back.
func TestRoutingAdminRoutes(t *testing.T) {
	r := newRoutingRig(t, routingRigOptions{})
	api := AdminAPI(r.deps)
	do := func(method, path, body string, hdr map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		return rec
	}
	get := do("GET", "/config", "", nil)
	if get.Code != 200 {
		t.Fatalf("GET /config: %d %s", get.Code, get.Body)
	}
	var doc map[string]any
	if err := json.Unmarshal(get.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	section := doc["document"].(map[string]any)["routing"].(map[string]any)
	queues := section["queues"].([]any)
	queues[0].(map[string]any)["connectQueueId"] = "dddddddd-0000-4000-8000-000000000000"
	queues[1].(map[string]any)["contactFlowId"] = "eeeeeeee-0000-4000-8000-000000000000"
	section["skillAttribute"] = "Language"
	body, _ := json.Marshal(doc)
	put := do("PUT", "/config", string(body), map[string]string{"If-Match": get.Header().Get("ETag")})
	if put.Code != 400 {
		t.Fatalf("PUT with missing resources: %d %s", put.Code, put.Body)
	}
	for _, want := range []string{`$.routing.queues[0].connectQueueId`, `$.routing.queues[1].contactFlowId`, `$.routing.skillAttribute`} {
		if !strings.Contains(put.Body.String(), want) {
			t.Errorf("400 body lacks %s: %s", want, put.Body)
		}
	}
	queues[0].(map[string]any)["connectQueueId"] = rrQueueA
	queues[1].(map[string]any)["contactFlowId"] = rrFlow
	section["skillAttribute"] = "Skill"
	body, _ = json.Marshal(doc)
	if put := do("PUT", "/config", string(body), map[string]string{"If-Match": get.Header().Get("ETag")}); put.Code != 200 {
		t.Fatalf("PUT with existing resources: %d %s", put.Code, put.Body)
	}

	caseID, _ := r.newCase(r.queueA, "History please", "Billing")
	if got := r.process(r.event(sfevents.CaseCreated, caseID, nil)); got != routingsync.OutcomeRouted {
		t.Fatalf("outcome %q", got)
	}
	res := do("GET", "/routing/cases/"+caseID[:15], "", nil)
	if res.Code != 200 || !strings.Contains(res.Body.String(), `"state":"routed"`) || !strings.Contains(res.Body.String(), `"auditSubject":"case/`+caseID+`"`) {
		t.Fatalf("GET /routing/cases: %d %s", res.Code, res.Body)
	}
	if res := do("GET", "/routing/cases/0015e00000AbCdE", "", nil); res.Code != 400 {
		t.Errorf("account id: %d %s", res.Code, res.Body)
	}
	other, _ := r.newCase(r.queueA, "Never routed", "")
	if res := do("GET", "/routing/cases/"+other, "", nil); res.Code != 404 {
		t.Errorf("never routed: %d %s", res.Code, res.Body)
	}
	// POST /simulate with a case event: the stored entry (a live task) ignores a customer email;
	// a given entry (the task completed) routes it, showing the task it would start.
	email := r.event(sfevents.CaseEmailAdded, caseID, func(e *sfevents.CaseEvent) { e.Incoming = true })
	hook, _ := json.Marshal(map[string]any{"schemaVersion": "1", "orgId": rigOrgID, "sentAt": r.clock.Now(), "events": []any{map[string]any{
		"type": email.Type, "eventId": email.ID, "eventDate": email.Date, "caseId": email.CaseID, "caseNumber": email.CaseNumber,
		"subject": email.Subject, "priority": email.Priority, "status": email.Status, "isClosed": false, "ownerId": email.OwnerID,
		"skills": email.Skills, "actorId": email.ActorID, "incoming": true}}})
	sim := do("POST", "/simulate", `{"caseWebhook":`+string(hook)+`}`, nil)
	if sim.Code != 200 || !strings.Contains(sim.Body.String(), `"action":"ignore"`) || !strings.Contains(sim.Body.String(), `"entrySource":"stored"`) {
		t.Fatalf("simulate with the stored entry: %d %s", sim.Code, sim.Body)
	}
	entry := r.entry(caseID)
	entry.State = routing.StateCompleted
	entryJSON, _ := json.Marshal(entry)
	sim = do("POST", "/simulate", `{"caseWebhook":`+string(hook)+`,"caseEntry":`+string(entryJSON)+`}`, nil)
	if sim.Code != 200 || !strings.Contains(sim.Body.String(), `"action":"route"`) || !strings.Contains(sim.Body.String(), `"reason":"customerEmail"`) ||
		!strings.Contains(sim.Body.String(), `"skills":["Billing"]`) || !strings.Contains(sim.Body.String(), `"omnibridgeCaseId":"`+caseID+`"`) {
		t.Fatalf("simulate with a given entry: %d %s", sim.Code, sim.Body)
	}
	if bad := do("POST", "/simulate", `{"caseWebhook":`+string(hook)+`,"state":{}}`, nil); bad.Code != 400 || !strings.Contains(bad.Body.String(), "$.state") {
		t.Errorf("simulate with a presence state: %d %s", bad.Code, bad.Body)
	}
	if len(r.cn.Tasks()) != 1 {
		t.Errorf("the simulation started a task")
	}

	audits := do("GET", "/audit?subject=case/"+caseID, "", nil)
	if audits.Code != 200 || !strings.Contains(audits.Body.String(), `"outcome":"routed"`) {
		t.Errorf("GET /audit for the case: %d %s", audits.Code, audits.Body)
	}
}

// TestCaseReplyDuringAttemptIsRetried sends the agent's reply while the case's routing attempt is
// claimed but has no task yet (its StartTaskContact in flight): the reply is refused retryably
// rather than marking the case stopped, and once the attempt has its task the redelivered reply
// stops it.
func TestCaseReplyDuringAttemptIsRetried(t *testing.T) {
	r := newRoutingRig(t, routingRigOptions{})
	caseID, _ := r.newCase(r.queueA, "In flight", "Billing")
	if got := r.process(r.event(sfevents.CaseCreated, caseID, nil)); got != routingsync.OutcomeRouted {
		t.Fatalf("outcome %q", got)
	}
	rec, err := r.store.GetRouting(r.ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	inFlight := rec.Entry
	inFlight.State, inFlight.ContactID = routing.StateRouting, ""
	if _, err := r.store.PutRouting(r.ctx, inFlight, rec.Version); err != nil {
		t.Fatal(err)
	}
	reply := r.event(sfevents.CaseEmailAdded, caseID, nil)
	if _, err := r.cases.ProcessCase(r.ctx, reply); !apperr.Retryable(err) {
		t.Fatalf("reply during the attempt: %v, want a retryable error", err)
	}
	if rep := r.runSweep(); rep.Errors != 0 {
		t.Fatalf("sweep finishing the attempt: %+v", rep)
	}
	if got := r.process(reply); got != routingsync.OutcomeStopped {
		t.Fatalf("redelivered reply: %q", got)
	}
	tasks := r.cn.Tasks()
	if len(tasks) != 1 || !tasks[0].Ended {
		t.Fatalf("tasks = %+v", tasks)
	}
}

// TestCaseSweepBudgetLosesNoCase sweeps a backlog larger than routing.sweepBatch: each run routes
// at most the batch, with 8 cases in flight at once, and the cursor stops before any case the
// spent budget left waiting, so one pass over the backlog routes every case.
func TestCaseSweepBudgetLosesNoCase(t *testing.T) {
	const n, batch = 30, 7
	r := newRoutingRig(t, routingRigOptions{routing: map[string]any{"sweepBatch": batch}})
	recs := make([]map[string]any, n)
	for i := range recs {
		recs[i] = map[string]any{"Subject": fmt.Sprintf("Backlog %d", i), "Status": "New", "OwnerId": r.queueA, config.DefaultSkillsField: "Billing"}
	}
	if _, err := r.org.InsertMany("Case", recs); err != nil {
		t.Fatal(err)
	}
	routed := 0
	for run := 1; ; run++ {
		rep := r.runSweep()
		if rep.Routed > batch {
			t.Fatalf("run %d routed %d, more than the batch", run, rep.Routed)
		}
		routed += rep.Routed
		if rep.Complete {
			if routed != n {
				t.Fatalf("the first pass ended after %d runs with %d of %d cases routed", run, routed, n)
			}
			break
		}
		if run > n {
			t.Fatal("the sweep never completed a pass")
		}
	}
	if got := len(r.cn.Tasks()); got != n {
		t.Fatalf("%d tasks, want %d", got, n)
	}
}
