package sfevents_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/omnibridge/omnibridge/shared/sfevents"
)

// FuzzDecodeCases checks that no input makes DecodeCases panic, that every failure is an Invalid
// error with a bounded list of problems, and that accepted batches keep their promises:
// 18-character case, owner and actor ids, a known type, type-specific fields only where they
// belong, real repeats, and InTimeOrder holding each distinct event once, in time order.
func FuzzDecodeCases(f *testing.F) {
	files, _ := filepath.Glob("../../infra/salesforce/contracts/examples/case-*.json")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"schemaVersion":"1","orgId":"00D5e000000Hkp2","sentAt":"2026-12-07T09:00:00Z","events":[{"type":"case.owner_changed","eventId":"a","eventDate":"2026-12-07T09:00:00Z","caseId":"5005e00000AbCdE","caseNumber":"1","status":"New","isClosed":true,"ownerId":"0055e000003AbCd","previousOwnerId":"00G5e000001QueU","actorId":"0055e000003AbCd"}]}`))
	f.Add([]byte(`{"events":[{"type":"case.created","isClosed":"no","byOwner":1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := sfevents.DecodeCases(data)
		if err != nil {
			checkRejected(t, err)
			return
		}
		if len(b.Input) == 0 || len(b.Input) > sfevents.MaxEvents || len(b.OrgID) != 18 {
			t.Fatalf("accepted batch breaks limits: %d events, org %q", len(b.Input), b.OrgID)
		}
		distinct := map[string]bool{}
		for i, e := range b.Input {
			if !slices.Contains(sfevents.CaseTypes(), e.Type) || e.Index != i || e.ID == "" || len(e.CaseID) != 18 ||
				len(e.OwnerID) != 18 || len(e.ActorID) != 18 || e.Date.IsZero() {
				t.Fatalf("event %d breaks a promise: %+v", i, e)
			}
			if (e.Type == sfevents.CaseOwnerChanged) != (e.PreviousOwnerID != "") || (e.Type != sfevents.CaseCommentAdded && e.ByOwner) ||
				(e.Type != sfevents.CaseEmailAdded && e.Incoming) {
				t.Fatalf("event %d has another type's fields: %+v", i, e)
			}
			if e.Repeat {
				first := b.Input[e.RepeatOf]
				if e.RepeatOf >= i || first.ID != e.ID || first.CaseID != e.CaseID || first.Type != e.Type || !first.Date.Equal(e.Date) {
					t.Fatalf("event %d is not a repeat of %d", i, e.RepeatOf)
				}
				continue
			}
			if distinct[e.ID] {
				t.Fatalf("event %d: id %q used twice without a repeat", i, e.ID)
			}
			distinct[e.ID] = true
		}
		in := b.InTimeOrder()
		if len(in) != len(distinct) || !slices.IsSortedFunc(in, func(x, y sfevents.CaseEvent) int { return x.Date.Compare(y.Date) }) {
			t.Fatalf("InTimeOrder: %d events (want %d) or not sorted", len(in), len(distinct))
		}
	})
}
