package presence

import (
	"encoding/json"
	"os"
	"testing"
)

func TestEffectiveState(t *testing.T) {
	in := func(state string) Contact {
		return Contact{State: state, InitiationMethod: "INBOUND", Channel: "VOICE"}
	}
	out := func(state string) Contact {
		return Contact{State: state, InitiationMethod: "OUTBOUND", Channel: "VOICE"}
	}
	chat := func(state string) Contact { return Contact{State: state, InitiationMethod: "API", Channel: "CHAT"} }
	tests := []struct {
		name     string
		contacts []Contact
		want     string
	}{
		{"no contacts", nil, "Available"},
		{"inbound INCOMING", []Contact{in("INCOMING")}, "PendingBusy"},
		{"inbound PENDING", []Contact{in("PENDING")}, "PendingBusy"},
		{"inbound CONNECTING", []Contact{in("CONNECTING")}, "PendingBusy"},
		{"transfer CONNECTING is offered like inbound", []Contact{{State: "CONNECTING", InitiationMethod: "TRANSFER"}}, "PendingBusy"},
		{"outbound CONNECTING", []Contact{out("CONNECTING")}, "CallingCustomer"},
		{"outbound PENDING", []Contact{out("PENDING")}, "CallingCustomer"},
		{"CONNECTED", []Contact{in("CONNECTED")}, "Busy"},
		{"CONNECTED_ONHOLD", []Contact{out("CONNECTED_ONHOLD")}, "Busy"},
		{"ENDED", []Contact{out("ENDED")}, "AfterCallWork"},
		{"MISSED", []Contact{in("MISSED")}, "Missed"},
		{"ERROR", []Contact{in("ERROR")}, "Error"},
		{"REJECTED falls back to the status", []Contact{in("REJECTED")}, "Available"},
		{"unknown state falls back to the status", []Contact{in("PAUSED")}, "Available"},
		{"lower-case states", []Contact{{State: "connected", InitiationMethod: "inbound"}}, "Busy"},
		{"one chat with slots left is still Busy", []Contact{chat("CONNECTED")}, "Busy"},
		{"Busy beats a ringing chat", []Contact{chat("INCOMING"), in("CONNECTED")}, "Busy"},
		{"Busy beats after-contact work", []Contact{chat("ENDED"), chat("CONNECTED")}, "Busy"},
		{"CallingCustomer beats PendingBusy", []Contact{chat("INCOMING"), out("CONNECTING")}, "CallingCustomer"},
		{"PendingBusy beats AfterCallWork", []Contact{in("ENDED"), chat("INCOMING")}, "PendingBusy"},
		{"Missed beats Busy", []Contact{chat("CONNECTED"), chat("MISSED")}, "Missed"},
		{"Error beats Missed", []Contact{chat("MISSED"), in("ERROR")}, "Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EffectiveState("Available", tt.contacts); got != tt.want {
				t.Errorf("EffectiveState = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("custom status during a call", func(t *testing.T) {
		if got := EffectiveState("Lunch", []Contact{in("CONNECTED")}); got != "Busy" {
			t.Errorf("got %q: contacts apply whatever the status type", got)
		}
	})
}

func TestOnContact(t *testing.T) {
	for state, want := range map[string]bool{
		"INCOMING": true, "PENDING": true, "CONNECTING": true, "CONNECTED": true, "CONNECTED_ONHOLD": true,
		"ENDED": true, "MISSED": false, "ERROR": false, "REJECTED": false,
	} {
		t.Run(state, func(t *testing.T) {
			if got := OnContact([]Contact{{State: state}}); got != want {
				t.Errorf("OnContact = %v, want %v", got, want)
			}
		})
	}
	if OnContact(nil) {
		t.Error("no contacts")
	}
}

// TestEffectiveStateReferenceEvent reads the real agent event sample: a voice call ending puts
// the agent in after-contact work while AgentStatus.Name stays Available.
func TestEffectiveStateReferenceEvent(t *testing.T) {
	b, err := os.ReadFile("../../../shared/reference/connect-agent-event-acw.json")
	if err != nil {
		t.Skipf("reference payloads not present: %v", err)
	}
	type snapshot struct {
		AgentStatus struct{ Name string }
		Contacts    []struct{ State, InitiationMethod, Channel, ContactId string }
	}
	var rec struct {
		CurrentAgentSnapshot, PreviousAgentSnapshot snapshot
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	conv := func(s snapshot) (string, []Contact) {
		var cs []Contact
		for _, c := range s.Contacts {
			cs = append(cs, Contact{ID: c.ContactId, State: c.State, InitiationMethod: c.InitiationMethod, Channel: c.Channel})
		}
		return s.AgentStatus.Name, cs
	}
	if got := EffectiveState(conv(rec.CurrentAgentSnapshot)); got != "AfterCallWork" {
		t.Errorf("current = %q, want AfterCallWork", got)
	}
	if got := EffectiveState(conv(rec.PreviousAgentSnapshot)); got != "Busy" {
		t.Errorf("previous = %q, want Busy", got)
	}
}
