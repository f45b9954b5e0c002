package contactevent_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/contactevent"
)

// update rewrites the golden files: go test ./shared/contactevent -run TestSamples -update
var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the samples")

const samplesDir = "../../events/contact-events"

// samples returns the real-format events in events/contact-events, poison ones excluded.
func samples(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(samplesDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples in %s: %v", samplesDir, err)
	}
	var out []string
	for _, f := range files {
		if !strings.HasPrefix(filepath.Base(f), "invalid-") {
			out = append(out, f)
		}
	}
	return out
}

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSamples decodes every sample, compares the result with its golden file, and checks that
// Encode writes an event that decodes to the same value.
func TestSamples(t *testing.T) {
	for _, file := range samples(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			ev, err := contactevent.Decode(read(t, file))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			got, err := json.MarshalIndent(ev, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if want := read(t, golden); !bytes.Equal(got, want) {
				t.Errorf("decoded event differs from %s (run with -update after checking):\n%s", golden, got)
			}
			enc, err := contactevent.Encode(ev)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			again, err := contactevent.Decode(enc)
			if err != nil {
				t.Fatalf("Decode(Encode): %v\n%s", err, enc)
			}
			ev.Time = ev.Time.Truncate(time.Second) // the envelope time has second resolution
			if !reflect.DeepEqual(again, ev) {
				t.Errorf("round trip changed the event\nencoded: %s", enc)
			}
		})
	}
}

// TestMixedKeyCase pins what the reference sample needs: PascalCase AgentInfo/AgentArn beside
// camelCase keys, and "Voice" as a channel.
func TestMixedKeyCase(t *testing.T) {
	// A copy of ../shared/reference/connect-contact-event.json, so the test runs without it.
	ev, err := contactevent.Decode(read(t, filepath.Join(samplesDir, "reference-outbound-disconnected-mixed-case.json")))
	if err != nil {
		t.Fatal(err)
	}
	d := ev.Detail
	switch {
	case d.EventType != contactevent.Disconnected, d.Channel != "VOICE", d.InitiationMethod != "OUTBOUND":
		t.Errorf("type/channel/method: %s %s %s", d.EventType, d.Channel, d.InitiationMethod)
	case d.AgentID() != "a1", d.QueueID() != "q1", d.InstanceID() != "12345678-1234-1234-1234-123456789012":
		t.Errorf("agent %q queue %q instance %q", d.AgentID(), d.QueueID(), d.InstanceID())
	case d.Agent.ConnectedToAgentTimestamp == nil || !d.Agent.ConnectedToAgentTimestamp.Equal(time.Date(2021, 8, 4, 17, 29, 9, 0, time.UTC)):
		t.Errorf("AgentInfo.connectedToAgentTimestamp: %v", d.Agent.ConnectedToAgentTimestamp)
	case d.PreviousContactID != "11111111-2222-3333-4444-555555555555":
		t.Errorf("previousContactId %q", d.PreviousContactID)
	}
}

// TestDecodeErrors checks that bad events are refused with the path of every problem.
func TestDecodeErrors(t *testing.T) {
	valid := string(read(t, filepath.Join(samplesDir, "voice-inbound-connected-to-agent.json")))
	tests := []struct {
		name  string
		input string
		paths []string
	}{
		{"empty", ``, []string{"$"}},
		{"not JSON", `{"version":`, []string{"$"}},
		{"null", `null`, []string{"$"}},
		{"array", `[]`, []string{"$"}},
		{"empty object", `{}`, []string{"$.account", "$.detail", "$.detail-type", "$.id", "$.region", "$.source", "$.time", "$.version"}},
		{"agent event stream record", `{"AWSAccountId":"012345678901","EventType":"STATE_CHANGE"}`, []string{"$.account", "$.detail", "$.detail-type", "$.id", "$.region", "$.source", "$.time", "$.version"}},
		{"other detail-type", strings.Replace(valid, `"Amazon Connect Contact Event"`, `"Amazon Connect Agent Event"`, 1), []string{"$.detail-type"}},
		{"other source", strings.Replace(valid, `"aws.connect"`, `"aws.s3"`, 1), []string{"$.source"}},
		{"bad version", strings.Replace(valid, `"version": "0"`, `"version": "1"`, 1), []string{"$.version"}},
		{"bad account", strings.Replace(valid, `"account": "123456789012"`, `"account": "12345"`, 1), []string{"$.account"}},
		{"bad time", strings.Replace(valid, `"time": "2024-03-11T15:00:31Z"`, `"time": "11/03/2024"`, 1), []string{"$.time"}},
		{"null detail", strings.Replace(valid, `"detail": {`, `"detail": null, "x": {`, 1), []string{"$.detail"}},
		{"detail is a string", `{"version":"0","id":"e","detail-type":"Amazon Connect Contact Event","source":"aws.connect","account":"123456789012","time":"2024-03-11T15:00:31Z","region":"us-east-1","resources":[],"detail":"x"}`, []string{"$.detail"}},
		{"missing contact id", strings.Replace(valid, `"contactId": "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b",`, ``, 1), []string{"$.detail.contactId"}},
		{"contact id is a number", strings.Replace(valid, `"contactId": "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"`, `"contactId": 42`, 1), []string{"$.detail.contactId"}},
		{"contact id not the resource's", strings.Replace(valid, `"contactId": "6f1c2b3a`, `"contactId": "7f1c2b3a`, 1), []string{"$.resources[0]"}},
		{"lower-case event type", strings.Replace(valid, `"CONNECTED_TO_AGENT"`, `"connected to agent"`, 1), []string{"$.detail.eventType"}},
		{"missing channel", strings.Replace(valid, `"channel": "VOICE",`, ``, 1), []string{"$.detail.channel"}},
		{"instance ARN of a queue", strings.Replace(valid, `"instanceArn": "arn:aws:connect:us-east-1:123456789012:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111"`, `"instanceArn": "arn:aws:connect:us-east-1:123456789012:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/queue/q"`, 1), []string{"$.detail.instanceArn"}},
		{"agent ARN of another instance", strings.Replace(valid, `instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/agent/`, `instance/ffffffff-bbbb-cccc-dddd-111111111111/agent/`, 1), []string{"$.detail.agentInfo.agentArn"}},
		{"agent ARN of a queue", strings.Replace(valid, `/agent/3f6c2a1e`, `/queue/3f6c2a1e`, 1), []string{"$.detail.agentInfo.agentArn"}},
		{"queue ARN not an ARN", strings.Replace(valid, `"queueArn": "arn:aws:connect`, `"queueArn": "queue:aws:connect`, 1), []string{"$.detail.queueInfo.queueArn"}},
		{"bad agent timestamp", strings.Replace(valid, `"connectedToAgentTimestamp": "2024-03-11T15:00:31.250Z"`, `"connectedToAgentTimestamp": "2024-03-11 15:00"`, 1), []string{"$.detail.agentInfo.connectedToAgentTimestamp"}},
		{"timestamp out of range", strings.Replace(valid, `"initiationTimestamp": "2024-03-11T15:00:00.120Z"`, `"initiationTimestamp": "1969-12-31T23:59:59Z"`, 1), []string{"$.detail.initiationTimestamp"}},
		{"timestamp as number", strings.Replace(valid, `"enqueueTimestamp": "2024-03-11T15:00:04.500Z"`, `"enqueueTimestamp": 1710169204.5`, 1), []string{"$.detail.queueInfo.enqueueTimestamp"}},
		{"tags not strings", strings.Replace(valid, `"aws:connect:systemEndpoint": "+18005550100"`, `"aws:connect:systemEndpoint": 18005550100`, 1), []string{"$.detail.tags.aws:connect:systemEndpoint"}},
		{"key in two spellings", strings.Replace(valid, `"agentInfo": {`, `"AgentInfo": {}, "agentInfo": {`, 1), []string{"$.detail.agentInfo"}},
		{"queueInfo is a list", strings.Replace(valid, `"queueInfo": {`, `"queueInfo": [], "x": {`, 1), []string{"$.detail.queueInfo"}},
		{"routing criteria a string", strings.Replace(valid, `"eventType"`, `"routingCriteria": "x", "eventType"`, 1), []string{"$.detail.routingCriteria"}},
		{"step without expression", strings.Replace(valid, `"eventType"`, `"routingCriteria": {"steps": [{"status": "ACTIVE"}]}, "eventType"`, 1), []string{"$.detail.routingCriteria.steps[0].expression"}},
		{"negative duration", strings.Replace(valid, `"connectedToAgentTimestamp"`, `"afterContactWorkDuration": -3, "connectedToAgentTimestamp"`, 1), []string{"$.detail.agentInfo.afterContactWorkDuration"}},
		{"expression nested too deep", strings.Replace(valid, `"eventType"`, `"routingCriteria": {"steps": [{"expression": `+strings.Repeat(`{"orExpression": [`, 9)+`{}`+strings.Repeat(`]}`, 9)+`}]}, "eventType"`, 1), []string{"$.detail.routingCriteria.steps[0].expression.orExpression[0].orExpression[0].orExpression[0].orExpression[0].orExpression[0].orExpression[0].orExpression[0].orExpression[0]"}},
		{"poison sample", string(read(t, filepath.Join(samplesDir, "invalid-no-contact-id.json"))), []string{"$.detail.contactId", "$.detail.queueInfo.enqueueTimestamp"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := contactevent.Decode([]byte(tc.input))
			if !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("err = %v, want Invalid", err)
			}
			var got []string
			for _, p := range apperr.ProblemsOf(err) {
				got = append(got, p.Path)
			}
			if !reflect.DeepEqual(got, tc.paths) {
				t.Errorf("problem paths %q, want %q (%v)", got, tc.paths, err)
			}
			for _, p := range tc.paths {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("message %q does not name %s", err, p)
				}
			}
		})
	}
}

// TestForwardCompatible checks that what the guide asks consumers to tolerate decodes: an
// unknown event type and unknown keys.
func TestForwardCompatible(t *testing.T) {
	valid := string(read(t, filepath.Join(samplesDir, "task-initiated.json")))
	in := strings.Replace(valid, `"INITIATED"`, `"WEBRTC_API"`, 1)
	in = strings.Replace(in, `"eventType"`, `"contactLens": {"conversationalAnalytics": {}}, "segmentAttributes": {"connect:Subtype": {"ValueString": "connect:Guide"}}, "eventType"`, 1)
	ev, err := contactevent.Decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Detail.EventType.Known() || ev.Detail.EventType != "WEBRTC_API" {
		t.Errorf("event type %q known=%v", ev.Detail.EventType, ev.Detail.EventType.Known())
	}
}

// TestFromEventBridge checks that the envelope the Lambda runtime parsed decodes like the raw
// event, and that its problems keep the same paths.
func TestFromEventBridge(t *testing.T) {
	for _, file := range samples(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw := read(t, file)
			var eb events.EventBridgeEvent
			if err := json.Unmarshal(raw, &eb); err != nil {
				t.Fatal(err)
			}
			got, err := contactevent.FromEventBridge(eb)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := contactevent.Decode(raw)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("FromEventBridge differs from Decode:\n%+v\n%+v", got, want)
			}
		})
	}
	t.Run("zero envelope", func(t *testing.T) {
		_, err := contactevent.FromEventBridge(events.EventBridgeEvent{})
		if !apperr.Is(err, apperr.Invalid) || !strings.Contains(err.Error(), "$.time: required") || !strings.Contains(err.Error(), "$.detail: required") {
			t.Errorf("err = %v", err)
		}
	})
}

// TestOccurredAt checks which timestamp each event type reports.
func TestOccurredAt(t *testing.T) {
	tests := []struct{ file, want string }{
		{"voice-inbound-initiated.json", "2024-03-11T15:00:00.120Z"},
		{"voice-inbound-queued.json", "2024-03-11T15:00:04.500Z"},
		{"voice-inbound-connected-to-agent.json", "2024-03-11T15:00:31.250Z"},
		{"voice-inbound-disconnected.json", "2024-03-11T15:04:10.000Z"},
		{"voice-inbound-completed-after-acw.json", "2024-03-11T15:05:02.400Z"},
		{"task-completed-without-agent.json", "2024-03-12T10:30:00.000Z"},
		{"task-contact-data-updated-attributes.json", "2024-03-12T09:15:07.000Z"}, // envelope time
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			ev, err := contactevent.Decode(read(t, filepath.Join(samplesDir, tc.file)))
			if err != nil {
				t.Fatal(err)
			}
			if got := ev.OccurredAt().Format(contactevent.TimestampLayout); got != tc.want {
				t.Errorf("OccurredAt %s, want %s", got, tc.want)
			}
		})
	}
}

// TestPlaceholderTimestamp checks that Connect's epoch placeholder reads as "not set".
func TestPlaceholderTimestamp(t *testing.T) {
	ev, err := contactevent.Decode(read(t, filepath.Join(samplesDir, "chat-routing-step-expired.json")))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Detail.Agent == nil || ev.Detail.Agent.ConnectedToAgentTimestamp != nil {
		t.Errorf("agent %+v: the 1970-01-01T00:00:00.001Z placeholder must read as absent", ev.Detail.Agent)
	}
	rc := ev.Detail.RoutingCriteria
	if len(rc) != 1 || rc[0].Index != 1 || len(rc[0].Steps) != 3 || rc[0].Steps[0].Status != "EXPIRED" || rc[0].Steps[1].Expression.AttributeCondition.Value != "Spanish" {
		t.Errorf("routing criteria %+v", rc)
	}
}

// TestCheckClock checks the bounded-skew rule on an event's timestamps.
func TestCheckClock(t *testing.T) {
	ev, err := contactevent.Decode(read(t, filepath.Join(samplesDir, "voice-inbound-completed-after-acw.json")))
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(2024, 3, 11, 15, 5, 2, 400e6, time.UTC)
	tests := []struct {
		name  string
		now   time.Time
		paths []string
	}{
		{"now after every timestamp", end.Add(time.Hour), nil},
		{"within the skew", end.Add(-4 * time.Second), nil},
		{"event and ACW end ahead of the clock", end.Add(-10 * time.Second), []string{"$.time", "$.detail.agentInfo.afterContactWorkEndTimestamp"}},
		{"all ahead", time.Date(2024, 3, 11, 14, 0, 0, 0, time.UTC), []string{"$.time", "$.detail.initiationTimestamp", "$.detail.connectedToSystemTimestamp", "$.detail.disconnectTimestamp", "$.detail.queueInfo.enqueueTimestamp", "$.detail.agentInfo.connectedToAgentTimestamp", "$.detail.agentInfo.afterContactWorkStartTimestamp", "$.detail.agentInfo.afterContactWorkEndTimestamp"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ev.CheckClock(tc.now, 5*time.Second)
			var got []string
			for _, p := range apperr.ProblemsOf(err) {
				got = append(got, p.Path)
			}
			if !reflect.DeepEqual(got, tc.paths) || (tc.paths == nil) != (err == nil) {
				t.Errorf("CheckClock = %v, paths %q, want %q", err, got, tc.paths)
			}
		})
	}
}
