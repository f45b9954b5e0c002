package connectsim_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/connect"
	"github.com/omnibridge/omnibridge/shared/connect/connectsim"
)

// Example runs the adapter on the real SDK client against a simulated instance, drives an
// agent through a call, and reads back the agent event stream records the sim emitted.
func Example() {
	sim, err := connectsim.NewFromJSON([]byte(`{
		"instanceId": "aaaaaaaa-bbbb-cccc-dddd-111111111111",
		"agentStatuses": [{"name": "Available", "type": "ROUTABLE"}, {"name": "Lunch"}, {"name": "Offline", "type": "OFFLINE"}],
		"users": [{"id": "u-jdoe", "username": "jdoe", "firstName": "Jane", "lastName": "Doe"}]
	}`), connectsim.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
	client := connect.New(connect.NewSDKClient(cfg, srv.URL), sim.InstanceID(), connect.Options{})
	ctx := context.Background()

	_ = sim.Login("u-jdoe", "Available")
	callID, _ := sim.Offer("u-jdoe", connectsim.NewContact{})
	_ = sim.Connect(callID)
	_, _ = client.SetStatus(ctx, "u-jdoe", "Lunch") // on a call: becomes the next status
	_ = sim.End(callID)
	_ = sim.Clear(callID) // ACW cleared: Lunch applies

	for _, rec := range sim.Events() {
		ev, err := agentevent.Decode(rec.Data)
		if err != nil {
			fmt.Println(err)
			return
		}
		cur := ev.CurrentAgentSnapshot
		line := fmt.Sprintf("%-12s %-9s", ev.EventType, cur.AgentStatus.Name)
		if cur.NextAgentStatus != nil {
			line += " next=" + cur.NextAgentStatus.Name
		}
		for _, c := range cur.Contacts {
			line += " " + string(c.Channel) + ":" + string(c.State)
		}
		fmt.Println(strings.TrimSpace(line))
	}
	fmt.Println("PutUserStatus calls:", sim.Calls("PutUserStatus"))
	// Output:
	// LOGIN        Available
	// STATE_CHANGE Available VOICE:INCOMING
	// STATE_CHANGE Available VOICE:CONNECTED
	// STATE_CHANGE Available next=Lunch VOICE:CONNECTED
	// STATE_CHANGE Available next=Lunch VOICE:ENDED
	// STATE_CHANGE Lunch
	// PutUserStatus calls: 1
}
