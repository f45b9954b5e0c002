package presence

import (
	"strings"

	"github.com/omnibridge/omnibridge/shared/rules"
)

// Contact is one contact in a Connect agent snapshot (CurrentAgentSnapshot.Contacts[]).
type Contact struct {
	ID string `json:"id,omitempty"`
	// State is the contact's state: INCOMING, PENDING, CONNECTING, CONNECTED, CONNECTED_ONHOLD,
	// MISSED, ERROR, ENDED or REJECTED.
	State string `json:"state"`
	// InitiationMethod is INBOUND, OUTBOUND, TRANSFER, CALLBACK, API, QUEUE_TRANSFER, ...
	InitiationMethod string `json:"initiationMethod,omitempty"`
	// Channel is VOICE, CHAT, TASK or EMAIL.
	Channel string `json:"channel,omitempty"`
}

// Contact states as Connect's agent event stream spells them.
const (
	// ContactIncoming is a contact being offered.
	ContactIncoming = "INCOMING"
	// ContactPending is a contact reserved for the agent.
	ContactPending = "PENDING"
	// ContactConnecting is a contact being connected.
	ContactConnecting = "CONNECTING"
	// ContactConnected is a live contact.
	ContactConnected = "CONNECTED"
	// ContactConnectedOnHold is a live contact on hold.
	ContactConnectedOnHold = "CONNECTED_ONHOLD"
	// ContactMissed is an offer the agent did not accept in time.
	ContactMissed = "MISSED"
	// ContactError is a contact that failed.
	ContactError = "ERROR"
	// ContactEnded is a contact in after-contact work.
	ContactEnded = "ENDED"
	// ContactRejected is an offer the agent rejected.
	ContactRejected = "REJECTED"
)

// contactState derives the system state one contact implies, with its precedence rank; rank 0
// means the contact implies nothing (REJECTED, unknown states).
//
// Precedence across contacts, highest first, and why:
//   - Error, Missed: Connect stops routing to the agent until they are cleared, so they are what
//     the agent most needs to act on, even while another contact is connected.
//   - Busy: the agent is talking or chatting; a connected contact on any channel makes the agent
//     busy even with slots left on that channel, because that is what they are doing.
//   - CallingCustomer: the agent started an outbound dial and is waiting on it.
//   - PendingBusy: an inbound offer is ringing; it may still be rejected.
//   - AfterCallWork: wrap-up; the conversation itself is over.
//
// Outbound contacts never ring the agent, so any outbound INCOMING/PENDING/CONNECTING state counts
// as CallingCustomer; every other initiation method (INBOUND, TRANSFER, CALLBACK, API, ...) is
// offered to the agent and counts as PendingBusy.
func contactState(c Contact) (string, int) {
	switch strings.ToUpper(c.State) {
	case ContactError:
		return rules.StateError, 6
	case ContactMissed:
		return rules.StateMissed, 5
	case ContactConnected, ContactConnectedOnHold:
		return rules.StateBusy, 4
	case ContactIncoming, ContactPending, ContactConnecting:
		if strings.EqualFold(c.InitiationMethod, "OUTBOUND") {
			return rules.StateCallingCustomer, 3
		}
		return rules.StatePendingBusy, 2
	case ContactEnded:
		return rules.StateAfterCallWork, 1
	}
	return "", 0
}

// EffectiveState returns the state an agent is really in. Connect keeps AgentStatus.Name (for
// example "Available") while the agent handles a contact, so the contacts decide:
//
//	contact State (InitiationMethod)          effective state
//	INCOMING, PENDING, CONNECTING (inbound)   PendingBusy
//	INCOMING, PENDING, CONNECTING (OUTBOUND)  CallingCustomer
//	CONNECTED, CONNECTED_ONHOLD               Busy
//	ENDED                                     AfterCallWork
//	MISSED                                    Missed
//	ERROR                                     Error
//	REJECTED, other, no contacts              statusName
//
// With several contacts (concurrency across channels) the highest of
// Error > Missed > Busy > CallingCustomer > PendingBusy > AfterCallWork wins.
//
// Contact-derived states apply whenever there are contacts, whatever the status type. The agent
// event's AgentStatus does not always carry the status type, and an agent who picked a custom
// status during a call is still on that call: rules should see Busy, not "Lunch". State names
// are case-insensitive, because Connect's contact events mix cases.
func EffectiveState(statusName string, contacts []Contact) string {
	best, rank := statusName, 0
	for _, c := range contacts {
		if s, r := contactState(c); r > rank {
			best, rank = s, r
		}
	}
	return best
}

// OnContact reports whether the agent is handling a contact: one ringing, dialing, connected or
// in after-contact work. Missed and errored contacts don't count, because setting a status is how
// an agent leaves those states.
func OnContact(contacts []Contact) bool {
	for _, c := range contacts {
		switch s, _ := contactState(c); s {
		case rules.StatePendingBusy, rules.StateCallingCustomer, rules.StateBusy, rules.StateAfterCallWork:
			return true
		}
	}
	return false
}
