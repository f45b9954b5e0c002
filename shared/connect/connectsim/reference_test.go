package connectsim_test

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/connect"
	"github.com/omnibridge/omnibridge/shared/connect/connectsim"
)

// TestReferenceEvent drives the sim through the transition of the handbook's reference sample
// (an outbound call that ends, putting the agent in ACW) with the same ids, names and clock,
// the status being set through the real SDK client, and checks that the record the sim emits
// is the reference: field for field once decoded, and byte for byte once encoded. Only the
// generated EventId differs.
func TestReferenceEvent(t *testing.T) {
	raw, err := os.ReadFile("../../agentevent/testdata/connect-agent-event-acw.json")
	if err != nil {
		t.Fatal(err)
	}
	want, err := agentevent.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}

	clk := &clock{}
	clk.Set(t, "2019-05-25T18:40:00.000Z")
	e := newEnv(t, connectsim.Seed{
		Region:     "us-east-1",
		AccountID:  "012345678901",
		InstanceID: "aaaaaaaa-bbbb-cccc-dddd-111111111111",
		Queues: []connectsim.SeedQueue{
			{ID: "queue-ARN-for-BasicQueue", Name: "BasicQueue"},
			{ID: "queue-ARN-for-PrimaryQueue", Name: "PrimaryQueue"},
		},
		RoutingProfiles: []connectsim.SeedRoutingProfile{{
			ID: "routing-profile-ARN", Name: "Basic Routing Profile", DefaultOutboundQueue: "BasicQueue",
			InboundQueues: []string{"BasicQueue", "PrimaryQueue"}, Concurrency: map[string]int{"VOICE": 1},
		}},
		AgentStatuses: []connectsim.SeedAgentStatus{
			{ID: "agent-state-ARN", Name: "Available", Type: "ROUTABLE"},
			{ID: "agent-state-offline", Name: "Offline", Type: "OFFLINE"},
		},
		Users: []connectsim.SeedUser{{ID: "agent-ARN", Username: "(Removed)", FirstName: "(Removed)", LastName: "(Removed)"}},
	}, connectsim.Options{Now: clk.Now, ReferenceShape: true})

	ctx := context.Background()
	client := connect.New(e.sdk, e.sim.InstanceID(), connect.Options{RequestsPerSecond: 100, Burst: 10})
	steps := []struct {
		at string
		do func() error
	}{
		{"2019-05-25T18:40:00.000Z", func() error { return e.sim.Login("agent-ARN", "") }},
		{"2019-05-25T18:43:59.049Z", func() error { _, err := client.SetStatus(ctx, "agent-ARN", "Available"); return err }},
		{"2019-05-25T18:55:15.000Z", func() error {
			_, err := e.sim.Place("agent-ARN", connectsim.NewContact{ID: "ContactId-1", Channel: agentevent.ChannelVoice})
			return err
		}},
		{"2019-05-25T18:55:21.011Z", func() error { return e.sim.Connect("ContactId-1") }},
		{"2019-05-25T18:55:27.017Z", func() error { return e.sim.End("ContactId-1") }},
	}
	for _, st := range steps {
		clk.Set(t, st.at)
		if err := st.do(); err != nil {
			t.Fatalf("at %s: %v", st.at, err)
		}
	}

	events := e.sim.Events()
	if len(events) != 5 {
		t.Fatalf("%d records, want 5 (LOGIN, Offline→Available, CONNECTING, CONNECTED, ENDED)", len(events))
	}
	last := events[len(events)-1]
	got, err := agentevent.Decode(last.Data)
	if err != nil {
		t.Fatalf("sim record does not decode: %v\n%s", err, last.Data)
	}
	if got.EventID == "" || got.EventID == want.EventID {
		t.Errorf("EventId %q should be generated", got.EventID)
	}
	want.EventID = got.EventID
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.MarshalIndent(got, "", " ")
		wj, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("sim record differs from the reference\n got: %s\nwant: %s", gj, wj)
	}
	wantBytes, err := agentevent.Encode(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(last.Data) != string(wantBytes) {
		t.Errorf("sim record bytes differ from the reference\n got: %s\nwant: %s", last.Data, wantBytes)
	}
	if last.PartitionKey != want.AgentARN {
		t.Errorf("partition key %q, want the agent ARN", last.PartitionKey)
	}
}
