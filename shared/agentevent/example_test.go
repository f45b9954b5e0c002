package agentevent_test

import (
	"fmt"
	"os"

	"github.com/omnibridge/omnibridge/shared/agentevent"
)

// ExampleDecode reads the reference ACW record: the agent's status is still "Available" while
// its only contact has ENDED, which is how after contact work shows in the stream.
func ExampleDecode() {
	data, err := os.ReadFile("testdata/connect-agent-event-acw.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	ev, err := agentevent.Decode(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	cur := ev.CurrentAgentSnapshot
	fmt.Println(ev.EventType, ev.AgentID(), cur.AgentStatus.Name, cur.Contacts[0].State)

	_, err = agentevent.Decode([]byte(`{"EventType":"NAP"}`))
	fmt.Println(err)
	// Output:
	// STATE_CHANGE agent-ARN Available ENDED
	// invalid: invalid agent event: $.EventType: unknown event type "NAP" (want STATE_CHANGE, HEART_BEAT, LOGIN or LOGOUT); $.EventId: required; $.EventTimestamp: required; $.AgentARN: required
}
