package contactevent_test

import (
	"fmt"

	"github.com/omnibridge/omnibridge/shared/contactevent"
)

// The reference sample mixes camelCase and PascalCase keys and writes the channel "Voice".
func ExampleDecode() {
	ev, err := contactevent.Decode([]byte(`{
	  "version": "0", "id": "abcabcab-abca-abca-abca-abcabcabcabc",
	  "detail-type": "Amazon Connect Contact Event", "source": "aws.connect",
	  "account": "111122223333", "time": "2021-08-04T17:43:48Z", "region": "us-west-2", "resources": [],
	  "detail": {
	    "eventType": "DISCONNECTED", "contactId": "11111111-1111-1111-1111-111111111111", "channel": "Voice",
	    "instanceArn": "arn:aws:connect:us-west-2:111122223333:instance/12345678-1234-1234-1234-123456789012",
	    "initiationMethod": "OUTBOUND", "disconnectTimestamp": "2021-08-04T17:18:37.000Z",
	    "AgentInfo": {"AgentArn": "arn:aws:connect:us-west-2:111122223333:instance/12345678-1234-1234-1234-123456789012/agent/a1"}
	  }
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ev.Detail.EventType, ev.Detail.Channel, ev.Detail.AgentID(), ev.OccurredAt().Format(contactevent.TimestampLayout))

	_, err = contactevent.Decode([]byte(`{"version": "0", "source": "aws.connect"}`))
	fmt.Println(err)
	// Output:
	// DISCONNECTED VOICE a1 2021-08-04T17:18:37.000Z
	// invalid: invalid contact event: $.account: required; $.detail: required; $.detail-type: required; $.id: required; $.region: required; $.time: required
}
