package connectsim_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconnect "github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
	"github.com/aws/smithy-go"

	"github.com/omnibridge/omnibridge/shared/connect/connectsim"
	"github.com/omnibridge/omnibridge/shared/contactevent"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// seqIDs returns an Options.NewID that counts, so emitted events are reproducible.
func seqIDs() func() string {
	var mu sync.Mutex
	n := 0
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
	}
}

func apiCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func eventTypes(recs []connectsim.ContactEventRecord) []contactevent.EventType {
	var out []contactevent.EventType
	for _, r := range recs {
		out = append(out, r.Event.Detail.EventType)
	}
	return out
}

// checkWire checks that every emitted event decodes, from its bytes and from the Lambda
// envelope, to the event the sim recorded.
func checkWire(t *testing.T, recs []connectsim.ContactEventRecord) {
	t.Helper()
	for _, r := range recs {
		got, err := contactevent.Decode(r.Data)
		if err != nil {
			t.Fatalf("emitted event does not decode: %v\n%s", err, r.Data)
		}
		if !reflect.DeepEqual(got, r.Event) {
			t.Errorf("decoded event differs from the recorded one:\n%+v\n%+v", got, r.Event)
		}
		eb, err := r.EventBridgeEvent()
		if err != nil {
			t.Fatal(err)
		}
		if got, err := contactevent.FromEventBridge(eb); err != nil || !reflect.DeepEqual(got, r.Event) {
			t.Errorf("FromEventBridge: %v", err)
		}
	}
}

func startTask(ctx context.Context, e *env, token, flow, name string) (string, error) {
	out, err := e.sdk.StartTaskContact(ctx, &awsconnect.StartTaskContactInput{
		InstanceId: aws.String(e.sim.InstanceID()), ContactFlowId: aws.String(flow), Name: aws.String(name),
		ClientToken: aws.String(token), Attributes: map[string]string{"caseId": "500xx0000001"},
	})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ContactId), nil
}

// TestStartTaskClientToken checks StartTaskContact's idempotency on ClientToken through the
// SDK: a repeat with the same parameters returns the first contact, a repeat with other
// parameters too (as Connect documents) unless StrictClientToken asks for IdempotencyException,
// and ClientTokens and the request log show what happened.
func TestStartTaskClientToken(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		strict    bool
		second    string // the second request's Name; "Case 1" repeats the first
		wantErr   string
		wantUse   connectsim.TokenUse
		wantTasks int
	}{
		{name: "same parameters", second: "Case 1", wantUse: connectsim.TokenUse{Replays: 1}, wantTasks: 1},
		{name: "other parameters", second: "Case 1 (edited)", wantUse: connectsim.TokenUse{Mismatches: 1}, wantTasks: 1},
		{name: "other parameters, strict", strict: true, second: "Case 1 (edited)", wantErr: "IdempotencyException", wantUse: connectsim.TokenUse{Mismatches: 1}, wantTasks: 1},
		{name: "same parameters, strict", strict: true, second: "Case 1", wantUse: connectsim.TokenUse{Replays: 1}, wantTasks: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, basicSeed(), connectsim.Options{StrictClientToken: tc.strict})
			first, err := startTask(ctx, e, "tok-1", "flow-cases", "Case 1")
			mustNoErr(t, err)
			again, err := startTask(ctx, e, "tok-1", "flow-cases", tc.second)
			if got := apiCode(err); got != tc.wantErr {
				t.Fatalf("second StartTaskContact: %v, want %q", err, tc.wantErr)
			}
			if err == nil && again != first {
				t.Errorf("same token gave contacts %s and %s", first, again)
			}
			tc.wantUse.Token, tc.wantUse.ContactID = "tok-1", first
			if got := e.sim.ClientTokens(); len(got) != 1 || got[0] != tc.wantUse {
				t.Errorf("ClientTokens = %+v, want %+v", got, tc.wantUse)
			}
			if n := len(e.sim.Tasks()); n != tc.wantTasks {
				t.Errorf("%d tasks, want %d", n, tc.wantTasks)
			}
			if n := e.sim.Calls("StartTaskContact"); n != 2 {
				t.Errorf("request log counts %d StartTaskContact, want 2", n)
			}
			if n := len(e.sim.ContactEventsFor(first)); n != 2 { // INITIATED, QUEUED: once
				t.Errorf("%d contact events for the task, want 2", n)
			}
		})
	}
}

// TestStartTaskErrors checks StartTaskContact's refusals.
func TestStartTaskErrors(t *testing.T) {
	e := newEnv(t, basicSeed(), connectsim.Options{})
	ctx := context.Background()
	tests := []struct {
		name, flow, taskName, want string
	}{
		{"unknown flow", "flow-missing", "Case", "ResourceNotFoundException"},
		{"no name", "flow-cases", "", "InvalidParameterException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := startTask(ctx, e, "tok-"+tc.name, tc.flow, tc.taskName)
			if got := apiCode(err); got != tc.want {
				t.Errorf("err %v, want %s", err, tc.want)
			}
		})
	}
	if n := len(e.sim.ClientTokens()); n != 0 {
		t.Errorf("refused requests left %d ClientTokens", n)
	}
}

// TestTaskLifecycleEvents plays a case task from StartTaskContact to the agent clearing it and
// checks the contact events against a golden file, their wire format, and their timestamps.
func TestTaskLifecycleEvents(t *testing.T) {
	clk := &clock{}
	clk.Set(t, "2024-03-12T09:15:00.042Z")
	e := newEnv(t, basicSeed(), connectsim.Options{Now: clk.Now, NewID: seqIDs()})
	ctx := context.Background()
	id, err := startTask(ctx, e, "tok-1", "flow-cases", "00001026 Printer on fire")
	mustNoErr(t, err)

	mustNoErr(t, e.sim.Login("u-jdoe", "Available"))
	clk.Set(t, "2024-03-12T09:16:10.500Z")
	mustNoErr(t, e.sim.RouteContact(id, "u-jdoe"))
	mustNoErr(t, e.sim.Accept(id))
	clk.Set(t, "2024-03-12T09:16:12.905Z")
	mustNoErr(t, e.sim.Connect(id))
	clk.Set(t, "2024-03-12T09:31:40.000Z")
	mustNoErr(t, e.sim.End(id))
	clk.Set(t, "2024-03-12T09:32:25.700Z")
	mustNoErr(t, e.sim.Clear(id))

	recs := e.sim.ContactEventsFor(id)
	want := []contactevent.EventType{contactevent.Initiated, contactevent.Queued, contactevent.ConnectedToAgent, contactevent.Disconnected, contactevent.Completed}
	if got := eventTypes(recs); !reflect.DeepEqual(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	checkWire(t, recs)
	occurred := []string{"2024-03-12T09:15:00.042Z", "2024-03-12T09:15:00.042Z", "2024-03-12T09:16:12.905Z", "2024-03-12T09:31:40.000Z", "2024-03-12T09:32:25.700Z"}
	for i, r := range recs {
		if got := r.Event.OccurredAt().Format(contactevent.TimestampLayout); got != occurred[i] {
			t.Errorf("%s OccurredAt %s, want %s", r.Event.Detail.EventType, got, occurred[i])
		}
	}
	done := recs[4].Event.Detail
	if done.Agent == nil || done.Agent.AfterContactWorkDuration == nil || *done.Agent.AfterContactWorkDuration != 45 || done.AgentID() != "u-jdoe" || done.QueueID() != "q-primary" {
		t.Errorf("COMPLETED detail %+v agent %+v", done, done.Agent)
	}

	var golden bytes.Buffer
	for _, r := range recs {
		golden.Write(r.Data)
		golden.WriteByte('\n')
	}
	path := filepath.Join("testdata", "task-lifecycle.contact-events.golden.jsonl")
	if *update {
		mustNoErr(t, os.MkdirAll("testdata", 0o755))
		mustNoErr(t, os.WriteFile(path, golden.Bytes(), 0o644))
	}
	wantBytes, err := os.ReadFile(path)
	mustNoErr(t, err)
	if !bytes.Equal(golden.Bytes(), wantBytes) {
		t.Errorf("emitted events differ from %s (run with -update after checking):\n%s", path, golden.Bytes())
	}
}

// TestStopContactEvents checks the events of a task stopped while queued and while on an agent.
func TestStopContactEvents(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		onAgent bool
		want    []contactevent.EventType
	}{
		{"queued", false, []contactevent.EventType{contactevent.Initiated, contactevent.Queued, contactevent.Disconnected, contactevent.Completed}},
		{"on an agent", true, []contactevent.EventType{contactevent.Initiated, contactevent.Queued, contactevent.ConnectedToAgent, contactevent.Disconnected}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, basicSeed(), connectsim.Options{})
			id, err := startTask(ctx, e, "tok", "flow-cases", "Case")
			mustNoErr(t, err)
			if tc.onAgent {
				mustNoErr(t, e.sim.Login("u-jdoe", "Available"))
				mustNoErr(t, e.sim.RouteContact(id, "u-jdoe"))
				mustNoErr(t, e.sim.Connect(id))
			}
			_, err = e.sdk.StopContact(ctx, &awsconnect.StopContactInput{InstanceId: aws.String(e.sim.InstanceID()), ContactId: aws.String(id)})
			mustNoErr(t, err)
			recs := e.sim.ContactEventsFor(id)
			if got := eventTypes(recs); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("events %v, want %v", got, tc.want)
			}
			checkWire(t, recs)
			if !tc.onAgent && recs[3].Event.Detail.Agent != nil {
				t.Errorf("COMPLETED of an unanswered task has agent %+v", recs[3].Event.Detail.Agent)
			}
			_, err = e.sdk.StopContact(ctx, &awsconnect.StopContactInput{InstanceId: aws.String(e.sim.InstanceID()), ContactId: aws.String(id)})
			if apiCode(err) != "ContactNotFoundException" {
				t.Errorf("second stop: %v", err)
			}
		})
	}
}

// TestCallsAndDescribeContact checks inbound calls with customer endpoints, withheld numbers
// and transfers through DescribeContact and the contact events.
func TestCallsAndDescribeContact(t *testing.T) {
	clk := &clock{}
	clk.Set(t, "2024-03-11T15:00:00.120Z")
	e := newEnv(t, basicSeed(), connectsim.Options{Now: clk.Now})
	ctx := context.Background()
	describe := func(id string) *types.Contact {
		t.Helper()
		out, err := e.sdk.DescribeContact(ctx, &awsconnect.DescribeContactInput{InstanceId: aws.String(e.sim.InstanceID()), ContactId: aws.String(id)})
		mustNoErr(t, err)
		return out.Contact
	}
	known, err := e.sim.Call(connectsim.NewCall{Customer: "+14155551212", Queue: "BasicQueue"})
	mustNoErr(t, err)
	withheld, err := e.sim.Call(connectsim.NewCall{})
	mustNoErr(t, err)

	t.Run("known caller", func(t *testing.T) {
		c := describe(known)
		if c.CustomerEndpoint == nil || aws.ToString(c.CustomerEndpoint.Address) != "+14155551212" || c.CustomerEndpoint.Type != types.EndpointTypeTelephoneNumber {
			t.Errorf("CustomerEndpoint %+v", c.CustomerEndpoint)
		}
		if c.SystemEndpoint == nil || aws.ToString(c.SystemEndpoint.Address) != "+18005550100" {
			t.Errorf("SystemEndpoint %+v", c.SystemEndpoint)
		}
		if c.Channel != types.ChannelVoice || c.InitiationMethod != types.ContactInitiationMethodInbound || c.QueueInfo == nil || aws.ToString(c.QueueInfo.Id) != "q-basic" || c.AgentInfo != nil {
			t.Errorf("contact %+v", c)
		}
		recs := e.sim.ContactEventsFor(known)
		if got := eventTypes(recs); !reflect.DeepEqual(got, []contactevent.EventType{contactevent.Initiated, contactevent.Queued}) {
			t.Errorf("events %v", got)
		}
		if recs[0].Event.Detail.SystemEndpoint() != "+18005550100" {
			t.Errorf("tags %v", recs[0].Event.Detail.Tags)
		}
		checkWire(t, recs)
	})
	t.Run("withheld number", func(t *testing.T) {
		if c := describe(withheld); c.CustomerEndpoint != nil {
			t.Errorf("CustomerEndpoint %+v, want none", c.CustomerEndpoint)
		}
	})
	t.Run("answered and transferred", func(t *testing.T) {
		mustNoErr(t, e.sim.Login("u-jdoe", "Available"))
		clk.Set(t, "2024-03-11T15:00:31.250Z")
		mustNoErr(t, e.sim.RouteContact(known, "u-jdoe"))
		mustNoErr(t, e.sim.Connect(known))
		c := describe(known)
		if c.AgentInfo == nil || aws.ToString(c.AgentInfo.Id) != "u-jdoe" || !aws.ToTime(c.AgentInfo.ConnectedToAgentTimestamp).Equal(clk.Now()) {
			t.Errorf("AgentInfo %+v", c.AgentInfo)
		}
		clk.Set(t, "2024-03-11T15:03:58.731Z")
		next, err := e.sim.Transfer(known, "PrimaryQueue")
		mustNoErr(t, err)
		n := describe(next)
		if n.InitiationMethod != types.ContactInitiationMethodTransfer || aws.ToString(n.PreviousContactId) != known || aws.ToString(n.InitialContactId) != known || aws.ToString(n.CustomerEndpoint.Address) != "+14155551212" {
			t.Errorf("transferred contact %+v", n)
		}
		if old := describe(known); !aws.ToTime(old.DisconnectTimestamp).Equal(clk.Now()) {
			t.Errorf("old contact DisconnectTimestamp %v", old.DisconnectTimestamp)
		}
		recs := e.sim.ContactEventsFor(next)
		if got := eventTypes(recs); !reflect.DeepEqual(got, []contactevent.EventType{contactevent.Initiated, contactevent.Queued}) || recs[0].Event.Detail.PreviousContactID != known {
			t.Errorf("transfer events %v %+v", got, recs[0].Event.Detail)
		}
		checkWire(t, e.sim.ContactEvents())
	})
	t.Run("unknown contact", func(t *testing.T) {
		_, err := e.sdk.DescribeContact(ctx, &awsconnect.DescribeContactInput{InstanceId: aws.String(e.sim.InstanceID()), ContactId: aws.String("nope")})
		if apiCode(err) != "ResourceNotFoundException" {
			t.Errorf("err %v", err)
		}
	})
}

// TestUpdateContactRoutingData checks routing criteria on a task: validation against the
// predefined attributes, the step statuses DescribeContact reports as the clock moves, and the
// criteria carried by CONNECTED_TO_AGENT.
func TestUpdateContactRoutingData(t *testing.T) {
	clk := &clock{}
	clk.Set(t, "2024-03-12T09:15:00.000Z")
	e := newEnv(t, basicSeed(), connectsim.Options{Now: clk.Now})
	ctx := context.Background()
	id, err := startTask(ctx, e, "tok", "flow-cases", "Case")
	mustNoErr(t, err)
	cond := func(name, value string, level float32) types.Expression {
		return types.Expression{AttributeCondition: &types.AttributeCondition{Name: aws.String(name), Value: aws.String(value), ComparisonOperator: aws.String("NumberGreaterOrEqualTo"), ProficiencyLevel: aws.Float32(level)}}
	}
	update := func(id string, steps ...types.RoutingCriteriaInputStep) error {
		_, err := e.sdk.UpdateContactRoutingData(ctx, &awsconnect.UpdateContactRoutingDataInput{
			InstanceId: aws.String(e.sim.InstanceID()), ContactId: aws.String(id), QueuePriority: aws.Int64(2),
			RoutingCriteria: &types.RoutingCriteriaInput{Steps: steps},
		})
		return err
	}
	both := cond("Omnibridge_Skill", "Billing", 1)
	both.AttributeCondition = nil
	both.AndExpression = []types.Expression{cond("Omnibridge_Skill", "Billing", 1), cond("Omnibridge_Skill", "Spanish", 1)}
	errTests := []struct {
		name, contact string
		steps         []types.RoutingCriteriaInputStep
		want          string
	}{
		{"unknown attribute", id, []types.RoutingCriteriaInputStep{{Expression: ptr(cond("Skill", "Billing", 1))}}, "InvalidParameterException"},
		{"unknown value", id, []types.RoutingCriteriaInputStep{{Expression: ptr(cond("Omnibridge_Skill", "Plumbing", 1))}}, "InvalidParameterException"},
		{"proficiency out of range", id, []types.RoutingCriteriaInputStep{{Expression: ptr(cond("Omnibridge_Skill", "Billing", 7))}}, "InvalidParameterException"},
		{"no steps", id, nil, "InvalidParameterException"},
		{"unknown contact", "nope", []types.RoutingCriteriaInputStep{{Expression: ptr(both)}}, "ResourceNotFoundException"},
	}
	for _, tc := range errTests {
		t.Run(tc.name, func(t *testing.T) {
			if got := apiCode(update(tc.contact, tc.steps...)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}

	mustNoErr(t, update(id,
		types.RoutingCriteriaInputStep{Expiry: &types.RoutingCriteriaInputStepExpiry{DurationInSeconds: aws.Int32(60)}, Expression: ptr(both)},
		types.RoutingCriteriaInputStep{Expression: ptr(cond("Omnibridge_Skill", "Billing", 1))},
	))
	statuses := func() []types.RoutingCriteriaStepStatus {
		out, err := e.sdk.DescribeContact(ctx, &awsconnect.DescribeContactInput{InstanceId: aws.String(e.sim.InstanceID()), ContactId: aws.String(id)})
		mustNoErr(t, err)
		if aws.ToInt64(out.Contact.QueuePriority) != 2 || out.Contact.RoutingCriteria == nil {
			t.Fatalf("contact %+v", out.Contact)
		}
		var s []types.RoutingCriteriaStepStatus
		for _, st := range out.Contact.RoutingCriteria.Steps {
			s = append(s, st.Status)
		}
		return s
	}
	steps := []struct {
		at   string
		want []types.RoutingCriteriaStepStatus
	}{
		{"2024-03-12T09:15:30.000Z", []types.RoutingCriteriaStepStatus{"ACTIVE", "INACTIVE"}},
		{"2024-03-12T09:16:00.000Z", []types.RoutingCriteriaStepStatus{"EXPIRED", "ACTIVE"}},
	}
	for _, st := range steps {
		t.Run("statuses at "+st.at, func(t *testing.T) {
			clk.Set(t, st.at)
			if got := statuses(); !reflect.DeepEqual(got, st.want) {
				t.Errorf("statuses %v, want %v", got, st.want)
			}
		})
	}
	t.Run("connected", func(t *testing.T) {
		mustNoErr(t, e.sim.Login("u-jdoe", "Available"))
		mustNoErr(t, e.sim.RouteContact(id, "u-jdoe"))
		mustNoErr(t, e.sim.Connect(id))
		recs := e.sim.ContactEventsFor(id)
		last := recs[len(recs)-1].Event.Detail
		if last.EventType != contactevent.ConnectedToAgent || len(last.RoutingCriteria) != 1 || last.RoutingCriteria[0].Steps[1].Status != "JOINED" {
			t.Errorf("CONNECTED_TO_AGENT routing criteria %+v", last.RoutingCriteria)
		}
		checkWire(t, recs)
	})
}

func ptr[T any](v T) *T { return &v }

// TestUpdateContactAttributesEvent checks the CONTACT_DATA_UPDATED event of an attribute update.
func TestUpdateContactAttributesEvent(t *testing.T) {
	e := newEnv(t, basicSeed(), connectsim.Options{})
	ctx := context.Background()
	id, err := startTask(ctx, e, "tok", "flow-1", "Case")
	mustNoErr(t, err)
	_, err = e.sdk.UpdateContactAttributes(ctx, &awsconnect.UpdateContactAttributesInput{
		InstanceId: aws.String(e.sim.InstanceID()), InitialContactId: aws.String(id), Attributes: map[string]string{"status": "replied"},
	})
	mustNoErr(t, err)
	recs := e.sim.ContactEventsFor(id)
	// flow-1 transfers to no queue: INITIATED only, then the update.
	if got := eventTypes(recs); !reflect.DeepEqual(got, []contactevent.EventType{contactevent.Initiated, contactevent.ContactDataUpdated}) {
		t.Fatalf("events %v", got)
	}
	if up := recs[1].Event.Detail.UpdatedProperties; !reflect.DeepEqual(up, []string{contactevent.PropertyUserDefinedAttributes}) {
		t.Errorf("updatedProperties %v", up)
	}
	checkWire(t, recs)
}

// TestSubscribeContactEvents checks that a subscriber receives the events in emission order.
func TestSubscribeContactEvents(t *testing.T) {
	e := newEnv(t, basicSeed(), connectsim.Options{})
	got := make(chan connectsim.ContactEventRecord, 16)
	unsubscribe := e.sim.SubscribeContactEvents(func(r connectsim.ContactEventRecord) { got <- r })
	defer unsubscribe()
	id, err := e.sim.Call(connectsim.NewCall{Customer: "+14155551212"})
	mustNoErr(t, err)
	for _, want := range []contactevent.EventType{contactevent.Initiated, contactevent.Queued} {
		select {
		case r := <-got:
			if r.Event.Detail.EventType != want || r.Event.Detail.ContactID != id {
				t.Errorf("got %s of %s, want %s of %s", r.Event.Detail.EventType, r.Event.Detail.ContactID, want, id)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s event delivered", want)
		}
	}
}

// TestListsAndDescribes checks queues, flows and predefined attributes through the SDK's
// paginators and describe calls.
func TestListsAndDescribes(t *testing.T) {
	e := newEnv(t, basicSeed(), connectsim.Options{MaxPageSize: 1})
	ctx := context.Background()
	inst := aws.String(e.sim.InstanceID())

	t.Run("queues", func(t *testing.T) {
		var names []string
		p := awsconnect.NewListQueuesPaginator(e.sdk, &awsconnect.ListQueuesInput{InstanceId: inst, QueueTypes: []types.QueueType{types.QueueTypeStandard}})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			mustNoErr(t, err)
			for _, q := range out.QueueSummaryList {
				names = append(names, aws.ToString(q.Name))
			}
		}
		if !reflect.DeepEqual(names, []string{"BasicQueue", "PrimaryQueue"}) {
			t.Errorf("queues %v", names)
		}
		out, err := e.sdk.DescribeQueue(ctx, &awsconnect.DescribeQueueInput{InstanceId: inst, QueueId: aws.String("q-primary")})
		mustNoErr(t, err)
		if aws.ToString(out.Queue.Name) != "PrimaryQueue" || out.Queue.Status != types.QueueStatusEnabled || aws.ToString(out.Queue.QueueArn) != e.sim.InstanceARN()+"/queue/q-primary" {
			t.Errorf("queue %+v", out.Queue)
		}
		_, err = e.sdk.DescribeQueue(ctx, &awsconnect.DescribeQueueInput{InstanceId: inst, QueueId: aws.String("q-missing")})
		if apiCode(err) != "ResourceNotFoundException" {
			t.Errorf("missing queue: %v", err)
		}
	})
	t.Run("flows", func(t *testing.T) {
		var names []string
		p := awsconnect.NewListContactFlowsPaginator(e.sdk, &awsconnect.ListContactFlowsInput{InstanceId: inst, ContactFlowTypes: []types.ContactFlowType{types.ContactFlowTypeContactFlow}})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			mustNoErr(t, err)
			for _, f := range out.ContactFlowSummaryList {
				names = append(names, aws.ToString(f.Id))
				if f.ContactFlowState != types.ContactFlowStateActive || f.ContactFlowStatus != types.ContactFlowStatusPublished {
					t.Errorf("flow %+v", f)
				}
			}
		}
		if !reflect.DeepEqual(names, []string{"flow-1", "flow-cases"}) {
			t.Errorf("flows %v", names)
		}
	})
	t.Run("predefined attributes", func(t *testing.T) {
		out, err := e.sdk.ListPredefinedAttributes(ctx, &awsconnect.ListPredefinedAttributesInput{InstanceId: inst})
		mustNoErr(t, err)
		if len(out.PredefinedAttributeSummaryList) != 1 || aws.ToString(out.PredefinedAttributeSummaryList[0].Name) != "Omnibridge_Skill" {
			t.Errorf("attributes %+v", out.PredefinedAttributeSummaryList)
		}
		d, err := e.sdk.DescribePredefinedAttribute(ctx, &awsconnect.DescribePredefinedAttributeInput{InstanceId: inst, Name: aws.String("Omnibridge_Skill")})
		mustNoErr(t, err)
		vals, ok := d.PredefinedAttribute.Values.(*types.PredefinedAttributeValuesMemberStringList)
		if !ok || !reflect.DeepEqual(vals.Value, []string{"Billing", "Spanish", "Hardware"}) {
			t.Errorf("values %#v", d.PredefinedAttribute.Values)
		}
		_, err = e.sdk.DescribePredefinedAttribute(ctx, &awsconnect.DescribePredefinedAttributeInput{InstanceId: inst, Name: aws.String("Nope")})
		if apiCode(err) != "ResourceNotFoundException" {
			t.Errorf("missing attribute: %v", err)
		}
	})
	t.Run("request log", func(t *testing.T) {
		for _, op := range []string{"ListQueues", "DescribeQueue", "ListContactFlows", "ListPredefinedAttributes", "DescribePredefinedAttribute"} {
			if e.sim.Calls(op) == 0 {
				t.Errorf("no %s in the request log", op)
			}
		}
		for _, r := range e.sim.Requests() {
			if r.Op == "DescribePredefinedAttribute" && r.Status == 200 {
				if r.Path != "/predefined-attributes/"+e.sim.InstanceID()+"/Omnibridge_Skill" {
					t.Errorf("path %s", r.Path)
				}
			}
		}
	})
}
