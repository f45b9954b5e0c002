package presence

import (
	"reflect"
	"strings"
	"testing"

	"github.com/omnibridge/omnibridge/shared/config"
)

// sentAway is the state right after the bridge sent Salesforce Away for Connect Lunch at 5 s.
func sentAway(t *testing.T) (AgentState, Command) {
	t.Helper()
	set := compile(t, []config.Rule{c2s("lunch", "Lunch", "Away")})
	d := Decide(linked(), connectEvent("e1", 5, "Lunch"), set, settings(), at(5))
	if len(d.Commands) != 1 {
		t.Fatalf("setup: %s", d.Audit.Explanation)
	}
	return d.State, d.Commands[0]
}

func TestAcknowledge(t *testing.T) {
	st, cmd := sentAway(t)
	tests := []struct {
		name       string
		ack        Ack
		outcome    Outcome
		pending    int
		echoes     int
		explain    string
		stateEqual bool
	}{
		{"applied", Ack{CommandID: cmd.ID, Applied: true}, OutcomeAcknowledged, 0, 1,
			"Salesforce console applied command " + cmd.ID + " (Salesforce Away), caused by event e1", false},
		{"failed", Ack{CommandID: cmd.ID, Reason: "status not allowed for this user"}, OutcomeFailed, 0, 0,
			"could not apply command " + cmd.ID + " (Salesforce Away), caused by event e1: status not allowed for this user", false},
		{"failed without reason", Ack{CommandID: cmd.ID}, OutcomeFailed, 0, 0, "no reason given", false},
		{"unknown command", Ack{CommandID: "nope", Applied: true}, OutcomeAcknowledged, 1, 1, "which is not pending", true},
		{"missing command id", Ack{Applied: true}, OutcomeInvalid, 1, 1, "missing command id", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := st.clone()
			got, a := Acknowledge(st, tt.ack, at(8))
			if !reflect.DeepEqual(st, before) {
				t.Error("input state modified")
			}
			if a.Outcome != tt.outcome || len(got.Pending) != tt.pending || len(got.Echoes) != tt.echoes {
				t.Errorf("outcome %s pending %d echoes %d", a.Outcome, len(got.Pending), len(got.Echoes))
			}
			if !strings.Contains(a.Explanation, tt.explain) {
				t.Errorf("explanation %q lacks %q", a.Explanation, tt.explain)
			}
			if tt.stateEqual != reflect.DeepEqual(got, st) {
				t.Errorf("state changed = %v", !tt.stateEqual)
			}
		})
	}
}

func TestExpireCommands(t *testing.T) {
	st, cmd := sentAway(t)
	if d, ok := st.NextDeadline(); !ok || !d.Equal(at(125)) {
		t.Fatalf("NextDeadline = %v, %v", d, ok)
	}
	t.Run("before the deadline", func(t *testing.T) {
		got, audits := ExpireCommands(st, at(124))
		if len(audits) != 0 || !reflect.DeepEqual(got, st) {
			t.Errorf("expired early: %+v", audits)
		}
	})
	t.Run("at the deadline", func(t *testing.T) {
		got, audits := ExpireCommands(st, at(125))
		if len(audits) != 1 || len(got.Pending) != 0 {
			t.Fatalf("audits %+v pending %+v", audits, got.Pending)
		}
		a := audits[0]
		if a.Outcome != OutcomeNotApplied || a.CommandID != cmd.ID || a.EventID != "e1" ||
			!strings.HasPrefix(a.Explanation, "not applied: console not open;") {
			t.Errorf("audit %+v", a)
		}
		if _, ok := got.NextDeadline(); ok {
			t.Error("no deadline should remain")
		}
	})
	t.Run("the expired command is no longer in flight", func(t *testing.T) {
		// Still within the echo window: the expected echo must go with the pending command, so the
		// next event that wants Away sends it again.
		st2 := st.clone()
		st2.Pending[0].Deadline = at(20)
		got, _ := ExpireCommands(st2, at(21))
		if len(got.Echoes) != 0 {
			t.Errorf("echo kept: %+v", got.Echoes)
		}
		set := compile(t, []config.Rule{c2s("lunch", "Lunch", "Away")})
		got.Connect.Status = "Break" // the agent moved on and came back
		d := Decide(got, connectEvent("e2", 22, "Lunch"), set, settings(), at(22))
		if d.Audit.Outcome != OutcomeApplied {
			t.Errorf("resend: %s", d.Audit.Explanation)
		}
	})
}

func TestDuplicate(t *testing.T) {
	a := Duplicate(linked(), connectEvent("e1", 5, "Lunch"), at(6))
	if a.Outcome != OutcomeDuplicate || a.EventID != "e1" || !strings.Contains(a.Explanation, "already processed") {
		t.Errorf("audit %+v", a)
	}
}
