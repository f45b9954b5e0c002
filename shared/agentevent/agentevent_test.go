package agentevent_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/apperr"
)

const refInstance = "arn:aws:connect:us-east-1:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111"

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ts(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func tsp(t testing.TB, s string) *time.Time {
	v := ts(t, s)
	return &v
}

// TestDecodeReference is the golden test: the reference ACW sample from the handbook decodes
// field for field.
func TestDecodeReference(t *testing.T) {
	got, err := agentevent.Decode(readTestdata(t, "connect-agent-event-acw.json"))
	if err != nil {
		t.Fatal(err)
	}
	basic := agentevent.Queue{ARN: refInstance + "/queue/queue-ARN-for-BasicQueue", Name: "BasicQueue"}
	primary := agentevent.Queue{ARN: refInstance + "/queue/queue-ARN-for-PrimaryQueue", Name: "PrimaryQueue"}
	config := func() *agentevent.Configuration {
		b := basic
		return &agentevent.Configuration{
			Username:  "(Removed)",
			FirstName: "(Removed)",
			LastName:  "(Removed)",
			RoutingProfile: &agentevent.RoutingProfile{
				ARN:                  refInstance + "/routing-profile/routing-profile-ARN",
				Name:                 "Basic Routing Profile",
				DefaultOutboundQueue: &b,
				InboundQueues:        []agentevent.Queue{basic, primary},
			},
		}
	}
	status := &agentevent.AgentStatus{
		ARN:            refInstance + "/agent-state/agent-state-ARN",
		Name:           "Available",
		StartTimestamp: ts(t, "2019-05-25T18:43:59.049Z"),
	}
	contact := func(state agentevent.ContactState, start string) []agentevent.Contact {
		q := basic
		return []agentevent.Contact{{
			ContactID:                 "ContactId-1",
			Channel:                   agentevent.ChannelVoice,
			InitiationMethod:          agentevent.InitiationOutbound,
			State:                     state,
			StateStartTimestamp:       ts(t, start),
			ConnectedToAgentTimestamp: tsp(t, "2019-05-25T18:55:21.011Z"),
			Queue:                     &q,
		}}
	}
	want := agentevent.Event{
		AWSAccountID:   "012345678901",
		AgentARN:       refInstance + "/agent/agent-ARN",
		EventID:        "EventId-1",
		EventTimestamp: ts(t, "2019-05-25T18:55:27.017Z"),
		EventType:      agentevent.EventTypeStateChange,
		InstanceARN:    refInstance,
		Version:        "2019-05-25",
		CurrentAgentSnapshot: &agentevent.AgentSnapshot{
			AgentStatus:   status,
			Configuration: config(),
			Contacts:      contact(agentevent.ContactStateEnded, "2019-05-25T18:55:27.017Z"),
		},
		PreviousAgentSnapshot: &agentevent.AgentSnapshot{
			AgentStatus:   status,
			Configuration: config(),
			Contacts:      contact(agentevent.ContactStateConnected, "2019-05-25T18:55:21.011Z"),
		},
	}
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.MarshalIndent(got, "", " ")
		wj, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("decoded reference differs\n got: %s\nwant: %s", gj, wj)
	}
	// Spot checks that read like the record, so a failure names the field.
	c := got.CurrentAgentSnapshot.Contacts[0]
	if c.InitialContactID != "" || c.QueueTimestamp != nil {
		t.Errorf("null InitialContactId/QueueTimestamp decoded as %q/%v", c.InitialContactID, c.QueueTimestamp)
	}
	if got.CurrentAgentSnapshot.Configuration.AgentHierarchyGroups != nil {
		t.Error("null AgentHierarchyGroups decoded as non-nil")
	}
	if got.CurrentAgentSnapshot.NextAgentStatus != nil {
		t.Error("absent NextAgentStatus decoded as non-nil")
	}
	if id := got.AgentID(); id != "agent-ARN" {
		t.Errorf("AgentID() = %q", id)
	}
	if id := got.InstanceID(); id != "aaaaaaaa-bbbb-cccc-dddd-111111111111" {
		t.Errorf("InstanceID() = %q", id)
	}
}

// TestDecodeSamples checks the other recorded samples for the fields the bridge acts on.
func TestDecodeSamples(t *testing.T) {
	tests := []struct {
		file         string
		typ          agentevent.EventType
		agentID      string
		status       string
		statusType   agentevent.StatusType
		prevStatus   string // "" means PreviousAgentSnapshot must be nil
		next         string
		contactState agentevent.ContactState
		voiceSlots   int // AvailableSlots for VOICE; -1 to skip
	}{
		{file: "login.json", typ: agentevent.EventTypeLogin, agentID: "3f6c2a1e-8b4d-4c7e-9a2f-1d5e7b9c0a11", status: "Offline", statusType: agentevent.StatusTypeOffline, voiceSlots: 1},
		{file: "state-change-offline-to-available.json", typ: agentevent.EventTypeStateChange, agentID: "3f6c2a1e-8b4d-4c7e-9a2f-1d5e7b9c0a11", status: "Available", statusType: agentevent.StatusTypeRoutable, prevStatus: "Offline", voiceSlots: 1},
		{file: "state-change-available-to-lunch.json", typ: agentevent.EventTypeStateChange, agentID: "3f6c2a1e-8b4d-4c7e-9a2f-1d5e7b9c0a11", status: "Lunch", statusType: agentevent.StatusTypeCustom, prevStatus: "Available", voiceSlots: 1},
		{file: "heartbeat.json", typ: agentevent.EventTypeHeartBeat, agentID: "3f6c2a1e-8b4d-4c7e-9a2f-1d5e7b9c0a11", status: "Lunch", statusType: agentevent.StatusTypeCustom, prevStatus: "Lunch", voiceSlots: 1},
		{file: "logout.json", typ: agentevent.EventTypeLogout, agentID: "3f6c2a1e-8b4d-4c7e-9a2f-1d5e7b9c0a11", status: "Offline", statusType: agentevent.StatusTypeOffline, prevStatus: "Offline", voiceSlots: 1},
		{file: "inbound-call-connected.json", typ: agentevent.EventTypeStateChange, agentID: "7a9b1c3d-5e6f-4a8b-9c0d-2e4f6a8b0c22", status: "Available", statusType: agentevent.StatusTypeRoutable, prevStatus: "Available", contactState: agentevent.ContactStateConnected, voiceSlots: 0},
		{file: "state-change-next-status-on-chat.json", typ: agentevent.EventTypeStateChange, agentID: "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e33", status: "Available", statusType: agentevent.StatusTypeRoutable, prevStatus: "Available", next: "Lunch", contactState: agentevent.ContactStateConnected, voiceSlots: 1},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".json"), func(t *testing.T) {
			ev, err := agentevent.Decode(readTestdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if ev.EventType != tt.typ {
				t.Errorf("EventType = %q, want %q", ev.EventType, tt.typ)
			}
			if ev.AgentID() != tt.agentID {
				t.Errorf("AgentID() = %q, want %q", ev.AgentID(), tt.agentID)
			}
			cur := ev.CurrentAgentSnapshot
			if cur == nil || cur.AgentStatus == nil {
				t.Fatal("CurrentAgentSnapshot.AgentStatus missing")
			}
			if cur.AgentStatus.Name != tt.status || cur.AgentStatus.Type != tt.statusType {
				t.Errorf("AgentStatus = %q/%q, want %q/%q", cur.AgentStatus.Name, cur.AgentStatus.Type, tt.status, tt.statusType)
			}
			switch {
			case tt.prevStatus == "" && ev.PreviousAgentSnapshot != nil:
				t.Error("PreviousAgentSnapshot should be null")
			case tt.prevStatus != "" && (ev.PreviousAgentSnapshot == nil || ev.PreviousAgentSnapshot.AgentStatus.Name != tt.prevStatus):
				t.Errorf("PreviousAgentSnapshot status, want %q", tt.prevStatus)
			}
			gotNext := ""
			if cur.NextAgentStatus != nil {
				gotNext = cur.NextAgentStatus.Name
			}
			if gotNext != tt.next {
				t.Errorf("NextAgentStatus = %q, want %q", gotNext, tt.next)
			}
			gotState := agentevent.ContactState("")
			if len(cur.Contacts) > 0 {
				gotState = cur.Contacts[0].State
			}
			if gotState != tt.contactState {
				t.Errorf("Contacts[0].State = %q, want %q", gotState, tt.contactState)
			}
			if tt.voiceSlots >= 0 {
				found := false
				for _, c := range cur.Configuration.RoutingProfile.Concurrency {
					if c.Channel == agentevent.ChannelVoice {
						found = true
						if c.AvailableSlots != tt.voiceSlots {
							t.Errorf("VOICE AvailableSlots = %d, want %d", c.AvailableSlots, tt.voiceSlots)
						}
					}
				}
				if !found {
					t.Error("no VOICE concurrency")
				}
			}
		})
	}
}

// TestEncodeRoundTrip checks that Encode writes the record format exactly: every sample, once
// decoded and encoded again, is the same JSON document (same keys, same nulls, same values).
func TestEncodeRoundTrip(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			raw := readTestdata(t, filepath.Base(f))
			ev, err := agentevent.Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			out, err := agentevent.Encode(ev)
			if err != nil {
				t.Fatal(err)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, raw); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, compact.Bytes()) {
				t.Errorf("re-encoded record differs\n got: %s\nwant: %s", out, compact.Bytes())
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	valid := func(mut func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal(readTestdata(t, "connect-agent-event-acw.json"), &m); err != nil {
			t.Fatal(err)
		}
		mut(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	contacts := func(m map[string]any) map[string]any {
		return m["CurrentAgentSnapshot"].(map[string]any)["Contacts"].([]any)[0].(map[string]any)
	}
	tests := []struct {
		name      string
		input     string
		wantPaths []string
	}{
		{name: "empty input", input: "", wantPaths: []string{"$"}},
		{name: "not JSON", input: "not json", wantPaths: []string{"$"}},
		{name: "truncated", input: `{"EventType":"STATE_CHANGE",`, wantPaths: []string{"$"}},
		{name: "JSON array", input: `[]`, wantPaths: []string{"$"}},
		{name: "JSON null", input: `null`, wantPaths: []string{"$.EventType", "$.EventId", "$.EventTimestamp", "$.AgentARN"}},
		{name: "empty object", input: `{}`, wantPaths: []string{"$.EventType", "$.EventId", "$.EventTimestamp", "$.AgentARN"}},
		{name: "missing EventType", input: valid(func(m map[string]any) { delete(m, "EventType") }), wantPaths: []string{"$.EventType"}},
		{name: "unknown EventType", input: valid(func(m map[string]any) { m["EventType"] = "AGENT_DANCED" }), wantPaths: []string{"$.EventType"}},
		{name: "missing EventId", input: valid(func(m map[string]any) { m["EventId"] = nil }), wantPaths: []string{"$.EventId"}},
		{name: "missing EventTimestamp", input: valid(func(m map[string]any) { delete(m, "EventTimestamp") }), wantPaths: []string{"$.EventTimestamp"}},
		{name: "bad EventTimestamp", input: valid(func(m map[string]any) { m["EventTimestamp"] = "yesterday" }), wantPaths: []string{"$.EventTimestamp"}},
		{name: "EventTimestamp before 1970", input: valid(func(m map[string]any) { m["EventTimestamp"] = "0001-01-01T00:00:00Z" }), wantPaths: []string{"$.EventTimestamp"}},
		{name: "missing AgentARN", input: valid(func(m map[string]any) { m["AgentARN"] = "" }), wantPaths: []string{"$.AgentARN"}},
		{name: "AgentARN not an agent", input: valid(func(m map[string]any) { m["AgentARN"] = refInstance + "/queue/q1" }), wantPaths: []string{"$.AgentARN"}},
		{name: "InstanceARN of another instance", input: valid(func(m map[string]any) {
			m["InstanceARN"] = "arn:aws:connect:us-east-1:012345678901:instance/other"
		}), wantPaths: []string{"$.InstanceARN"}},
		{name: "EventType of wrong type", input: valid(func(m map[string]any) { m["EventType"] = 7 }), wantPaths: []string{"$.EventType"}},
		{name: "Contacts not an array", input: valid(func(m map[string]any) {
			m["CurrentAgentSnapshot"].(map[string]any)["Contacts"] = "none"
		}), wantPaths: []string{"$.CurrentAgentSnapshot.Contacts"}},
		{name: "bad contact timestamp", input: valid(func(m map[string]any) { contacts(m)["StateStartTimestamp"] = "25/05/2019" }),
			wantPaths: []string{"$.CurrentAgentSnapshot.Contacts[0].StateStartTimestamp"}},
		{name: "several problems at once", input: valid(func(m map[string]any) {
			delete(m, "EventId")
			m["EventType"] = "NOPE"
			contacts(m)["ConnectedToAgentTimestamp"] = "soon"
		}), wantPaths: []string{"$.EventType", "$.EventId", "$.CurrentAgentSnapshot.Contacts[0].ConnectedToAgentTimestamp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := agentevent.Decode([]byte(tt.input))
			if err == nil {
				t.Fatal("Decode succeeded, want error")
			}
			if !apperr.Is(err, apperr.Invalid) {
				t.Errorf("code = %q, want invalid", apperr.CodeOf(err))
			}
			var got []string
			for _, p := range apperr.ProblemsOf(err) {
				got = append(got, p.Path)
				if !strings.Contains(err.Error(), p.Path) {
					t.Errorf("message %q does not name %s", err.Error(), p.Path)
				}
			}
			if !reflect.DeepEqual(got, tt.wantPaths) {
				t.Errorf("problem paths = %q, want %q (err: %v)", got, tt.wantPaths, err)
			}
		})
	}
}

// TestDecodeTolerates covers inputs that must decode even though they differ from the 2019
// sample: Connect adds fields and values without bumping Version.
func TestDecodeTolerates(t *testing.T) {
	tests := []struct {
		name  string
		input string
	}{
		{name: "unknown keys", input: `{"EventType":"HEART_BEAT","EventId":"e","EventTimestamp":"2024-01-01T00:00:00Z","AgentARN":"arn:aws:connect:us-east-1:1:instance/i/agent/a","NewField":{"x":1}}`},
		{name: "timestamp without millis and with offset", input: `{"EventType":"LOGIN","EventId":"e","EventTimestamp":"2024-01-01T02:00:00+02:00","AgentARN":"arn:aws:connect:us-east-1:1:instance/i/agent/a"}`},
		{name: "unknown contact state and channel", input: `{"EventType":"STATE_CHANGE","EventId":"e","EventTimestamp":"2024-01-01T00:00:00.000Z","AgentARN":"arn:aws-us-gov:connect:us-gov-west-1:1:instance/i/agent/a","CurrentAgentSnapshot":{"Contacts":[{"ContactId":"c","Channel":"EMAIL","State":"PAUSED"}]}}`},
		{name: "null snapshots and nested nulls", input: `{"EventType":"LOGOUT","EventId":"e","EventTimestamp":"2024-01-01T00:00:00.000Z","AgentARN":"arn:aws:connect:us-east-1:1:instance/i/agent/a","CurrentAgentSnapshot":{"AgentStatus":null,"Configuration":{"RoutingProfile":null},"Contacts":null},"PreviousAgentSnapshot":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := agentevent.Decode([]byte(tt.input))
			if err != nil {
				t.Fatal(err)
			}
			if ev.EventTimestamp.Location() != time.UTC {
				t.Errorf("EventTimestamp not normalised to UTC: %v", ev.EventTimestamp)
			}
		})
	}
}

func TestParseAgentARN(t *testing.T) {
	tests := []struct {
		name    string
		arn     string
		want    agentevent.AgentRef
		wantErr bool
	}{
		{name: "reference", arn: refInstance + "/agent/agent-ARN", want: agentevent.AgentRef{Partition: "aws", Region: "us-east-1", AccountID: "012345678901", InstanceID: "aaaaaaaa-bbbb-cccc-dddd-111111111111", AgentID: "agent-ARN"}},
		{name: "gov partition", arn: "arn:aws-us-gov:connect:us-gov-west-1:1:instance/i/agent/a", want: agentevent.AgentRef{Partition: "aws-us-gov", Region: "us-gov-west-1", AccountID: "1", InstanceID: "i", AgentID: "a"}},
		{name: "empty", arn: "", wantErr: true},
		{name: "other service", arn: "arn:aws:kinesis:us-east-1:1:instance/i/agent/a", wantErr: true},
		{name: "instance only", arn: refInstance, wantErr: true},
		{name: "queue", arn: refInstance + "/queue/q", wantErr: true},
		{name: "empty agent id", arn: refInstance + "/agent/", wantErr: true},
		{name: "extra segment", arn: refInstance + "/agent/a/b", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := agentevent.ParseAgentARN(tt.arn)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if err == nil && got.ARN() != tt.arn {
				t.Errorf("ARN() = %q, want %q", got.ARN(), tt.arn)
			}
		})
	}
}

func TestInstanceIDFromARN(t *testing.T) {
	tests := []struct {
		name, arn, want string
		wantErr         bool
	}{
		{name: "instance", arn: refInstance, want: "aaaaaaaa-bbbb-cccc-dddd-111111111111"},
		{name: "queue", arn: refInstance + "/queue/q", want: "aaaaaaaa-bbbb-cccc-dddd-111111111111"},
		{name: "not connect", arn: "arn:aws:s3:::bucket", wantErr: true},
		{name: "no instance", arn: "arn:aws:connect:us-east-1:1:domain/x", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := agentevent.InstanceIDFromARN(tt.arn)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("got %q, %v; want %q, err %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
