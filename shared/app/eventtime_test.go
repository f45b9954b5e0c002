package app

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/eventtime"
	"github.com/omnibridge/omnibridge/shared/session"
	"github.com/omnibridge/omnibridge/shared/sfevents"
)

var year2099 = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)

// TestSessionEventTimesBounded runs the session path end to end (decoder, service, table) with
// event times around the clock-skew bound.
func TestSessionEventTimesBounded(t *testing.T) {
	for _, tc := range []struct {
		name    string
		at      func(now time.Time) time.Time
		outcome session.Outcome
	}{
		{"far future", func(time.Time) time.Time { return year2099 }, session.OutcomeInvalid},
		{"9999-12-31", func(time.Time) time.Time { return time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC) }, session.OutcomeInvalid},
		{"just inside the skew", func(now time.Time) time.Time { return now.Add(eventtime.DefaultMaxSkew) }, session.OutcomeToggledOn},
		{"just outside the skew", func(now time.Time) time.Time { return now.Add(eventtime.DefaultMaxSkew + time.Millisecond) }, session.OutcomeInvalid},
		{"far past", func(time.Time) time.Time { return time.Date(1971, 1, 1, 0, 0, 0, 0, time.UTC) }, session.OutcomeToggledOn},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newSessionRig(t, rigOptions{targets: allTargets})
			r.addUsers(rigUserSpec{relevant: true, linked: true}, "ana")
			now := r.at(time.Minute)
			r.startSession(now, 0, "ana")
			if got := r.send(sfevents.SessionLogin, "ana", tc.at(now)); got != string(tc.outcome) {
				t.Fatalf("outcome %q, want %q", got, tc.outcome)
			}
			st, stored := r.state("ana")
			if tc.outcome == session.OutcomeInvalid {
				if stored {
					t.Errorf("a refused event was stored: %s", stateString(st))
				}
				if got := outcomes(r.audits("ana")); !slices.Equal(got, []string{"invalid"}) {
					t.Errorf("audits %q, want the refusal", got)
				}
				return
			}
			if !stored || !st.Active {
				t.Errorf("state %s, want logged in", stateString(st))
			}
		})
	}
}

// TestSessionTrialReplay is the trial on the session route, with the state a 2099 login left in
// the table before the bound existed: the real logout must still switch the user off, and the
// next login on.
func TestSessionTrialReplay(t *testing.T) {
	r := newSessionRig(t, rigOptions{targets: allTargets})
	r.addUsers(rigUserSpec{relevant: true, linked: true}, "ana")
	now := r.at(time.Minute)
	r.startSession(now, 0, "ana")
	if got := r.send(sfevents.SessionLogin, "ana", year2099); got != string(session.OutcomeInvalid) {
		t.Fatalf("2099 login: %q, want invalid", got)
	}
	// What the trial's bridge stored for it.
	future := session.State{UserID: r.user("ana").id, Active: true, At: year2099, Source: session.SourceWebhook, LastEventID: "future", Available: ptr(true)}
	if _, err := r.store.PutSession(r.ctx, future, 0, eventtime.New(year2099, 0)); err != nil {
		t.Fatal(err)
	}
	now = r.at(10 * time.Minute)
	r.endSessions("ana")
	if got := r.send(sfevents.SessionLogout, "ana", now); got != string(session.OutcomeToggledOff) {
		t.Fatalf("real logout: %q, want toggled-off", got)
	}
	if st, _ := r.state("ana"); st.Active || !st.At.Equal(now) {
		t.Fatalf("state after the logout %s", stateString(st))
	}
	if got := r.connectStatus("ana"); got != "Offline" {
		t.Errorf("Connect status %q, want Offline", got)
	}
	now = r.at(20 * time.Minute)
	r.startSession(now, 0, "ana")
	if got := r.send(sfevents.SessionLogin, "ana", now); got != string(session.OutcomeToggledOn) {
		t.Fatalf("next login: %q, want toggled-on", got)
	}
}

// TestPollRowsBounded: AuthSession and presence rows dated beyond the bound are skipped and
// audited. A session "modified" in 2099 would otherwise keep the user logged in until then.
func TestPollRowsBounded(t *testing.T) {
	r := newSessionRig(t, rigOptions{targets: allTargets})
	r.addUsers(rigUserSpec{relevant: true, linked: true}, "ana")
	now := r.at(time.Minute)
	r.startSession(now, 0, "ana")
	if got := r.send(sfevents.SessionLogin, "ana", now); got != string(session.OutcomeToggledOn) {
		t.Fatalf("login: %q", got)
	}
	r.endSessions("ana")
	r.startSession(year2099, 0, "ana")
	r.setPresence("ana", "Away", year2099)
	r.at(10 * time.Minute)
	before := r.audits("ana")
	rep := r.poll()
	if rep.AheadRows != 2 || rep.ActiveUsers != 0 || rep.ToggledOff != 1 || rep.PresenceEvents != 0 {
		t.Errorf("report %+v: want both rows skipped and the user switched off", rep)
	}
	added := newAudits(before, r.audits("ana"))
	var refused int
	for _, e := range added {
		if e.Outcome == string(session.OutcomeInvalid) && strings.Contains(e.Message, "ahead of the bridge's clock") {
			refused++
		}
	}
	if refused != 2 || !slices.Contains(outcomes(added), string(session.OutcomeToggledOff)) {
		t.Errorf("audits %+v", added)
	}
	if st, _ := r.state("ana"); st.Active {
		t.Errorf("state %s, want logged out", stateString(st))
	}
}
