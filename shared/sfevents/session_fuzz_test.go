package sfevents_test

import (
	"slices"
	"testing"

	"github.com/omnibridge/omnibridge/shared/session"
	"github.com/omnibridge/omnibridge/shared/sfevents"
)

// FuzzDecodeSession checks that no input makes DecodeSession panic, that every failure is an
// Invalid error with a bounded list of problems, and that every accepted batch keeps the promises
// callers rely on: indexes, 18-character user ids, repeats that really repeat, and Events in time
// order holding each distinct event once, from the webhook.
func FuzzDecodeSession(f *testing.F) {
	addSeeds(f, "session-*.json")
	f.Add([]byte(batchOf(sessionEvent, sessionEvent)))
	f.Add([]byte(`{"schemaVersion":"1","orgId":"00D5e000000Hkp2","sentAt":"2026-11-21T08:59:59Z","events":[{"type":"logout","eventId":"a","userId":"0055e000003abcdAAA","eventDate":"2026-11-21T08:59:58.1+14:00","loginType":"x"}]}`))
	f.Add([]byte(`{"events":[{"type":"x","type":"login","eventId":"","username":[1,{}]}],"schemaVersion":null}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := sfevents.DecodeSession(data)
		if err != nil {
			checkRejected(t, err)
			return
		}
		if len(b.Input) == 0 || len(b.Input) > sfevents.MaxEvents || len(b.OrgID) != 18 {
			t.Fatalf("accepted batch breaks limits: %d events, org %q", len(b.Input), b.OrgID)
		}
		distinct := map[string]bool{}
		for i, e := range b.Input {
			if _, ok := e.Type.Kind(); !ok || e.Index != i || e.ID == "" || len(e.UserID) != 18 || e.Date.IsZero() {
				t.Fatalf("event %d breaks a promise: %+v", i, e)
			}
			if e.Repeat {
				first := b.Input[e.RepeatOf]
				if e.RepeatOf >= i || first.Repeat || first.ID != e.ID || first.UserID != e.UserID || first.Type != e.Type || !first.Date.Equal(e.Date) {
					t.Fatalf("event %d is not a repeat of %d: %+v, %+v", i, e.RepeatOf, e, first)
				}
				continue
			}
			if distinct[e.ID] {
				t.Fatalf("event %d: id %q used twice without a repeat", i, e.ID)
			}
			distinct[e.ID] = true
		}
		evs := b.Events()
		if len(evs) != len(distinct) {
			t.Fatalf("Events() has %d events, want %d", len(evs), len(distinct))
		}
		if !slices.IsSortedFunc(evs, func(x, y session.Event) int { return x.At.Compare(y.At) }) {
			t.Fatal("Events() not in time order")
		}
		for _, ev := range evs {
			if !distinct[ev.ID] || ev.Source != session.SourceWebhook || (ev.Kind != session.KindLogin && ev.Kind != session.KindLogout) {
				t.Fatalf("event %+v", ev)
			}
			delete(distinct, ev.ID)
		}
	})
}
