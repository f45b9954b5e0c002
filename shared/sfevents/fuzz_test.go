package sfevents_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/sfevents"
)

// FuzzDecode checks that no input makes Decode panic, that every failure is an Invalid error with
// a bounded list of problems, and that every accepted batch keeps the promises callers rely on:
// indexes, 18-character user ids, unique ids and a time order that is a permutation.
func FuzzDecode(f *testing.F) {
	addSeeds(f, "*.json")
	f.Add([]byte(`{"schemaVersion":"1","orgId":"00D5e000000Hkp2","sentAt":"2026-11-21T08:59:59Z","events":[{"id":"a","type":"logout","userId":"0055e000003abcdAAA","time":"2026-11-21T08:59:58.1+14:00"}]}`))
	f.Add([]byte(`{"events":[{"type":"x","type":"logout","id":"","channels":[1,{}]}],"schemaVersion":null}`))
	f.Add([]byte(`{"schemaVersion":"2"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := sfevents.Decode(data)
		if err != nil {
			checkRejected(t, err)
			return
		}
		if len(b.Events) == 0 || len(b.Events) > sfevents.MaxEvents || len(b.OrgID) != 18 {
			t.Fatalf("accepted batch breaks limits: %d events, org %q", len(b.Events), b.OrgID)
		}
		seen := map[string]bool{}
		for i, e := range b.Events {
			if e.Index != i || e.ID == "" || seen[e.ID] || len(e.UserID) != 18 || e.Time.IsZero() {
				t.Fatalf("event %d breaks a promise: %+v", i, e)
			}
			seen[e.ID] = true
			_, isPresence := e.Presence()
			_, isAck := e.Ack()
			if isPresence == isAck {
				t.Fatalf("event %d is both or neither presence and ack: %+v", i, e)
			}
		}
		ordered := b.InTimeOrder()
		var idx []int
		for i, e := range ordered {
			if i > 0 && e.Time.Before(ordered[i-1].Time) {
				t.Fatalf("InTimeOrder not sorted at %d", i)
			}
			idx = append(idx, e.Index)
		}
		slices.Sort(idx)
		for i, v := range idx {
			if v != i {
				t.Fatalf("InTimeOrder is not a permutation: %v", idx)
			}
		}
	})
}

// addSeeds adds the testdata files matching pattern to the fuzz corpus.
func addSeeds(f *testing.F, pattern string) {
	files, _ := filepath.Glob(filepath.Join("testdata", pattern))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// checkRejected checks a decoder's error: Invalid, with at least one problem and at most
// MaxProblems plus the count of the rest.
func checkRejected(t *testing.T, err error) {
	t.Helper()
	problems := apperr.ProblemsOf(err)
	if !apperr.Is(err, apperr.Invalid) || len(problems) == 0 || len(problems) > sfevents.MaxProblems+1 {
		t.Fatalf("error without code or with %d problems: %v", len(problems), err)
	}
}
