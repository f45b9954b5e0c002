package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamotest"
	"github.com/omnibridge/omnibridge/shared/session"
)

// TestFirstSightSessions: a first-sight item is a user's state only while they have no
// versioned item; the versioned item supersedes it whatever the two items' times, every read
// (GetSession, Sessions) agrees on that, VersionedSessions sees only versioned items, and both
// kinds are cleared by DeleteSession and DeleteFirstSights.
func TestFirstSightSessions(t *testing.T) {
	ctx := context.Background()
	clock := sessionT0
	s := dynamotest.NewStore(t).WithClock(func() time.Time { return clock })
	// Ids chosen so that one is a prefix of another's first-sight key range neighbour: the
	// merge must pair items by user, not by position alone.
	const (
		onlyFirst   = "0055e000001AaaaAAA" // first-sight item only
		both        = "0055e000001BbbbAAA" // versioned item written after the first-sight one
		newerFirst  = "0055e000001CcccAAA" // first-sight item dated after the versioned one
		onlyVersion = "0055e000001DdddAAA"
		inactive    = "0055e000001EeeeAAA" // an inactive first-sight state expires
	)
	if _, err := s.PutSession(ctx, session.State{UserID: newerFirst, Active: false, At: sessionT0}, 0, testBound); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutSession(ctx, session.State{UserID: onlyVersion, Active: true, At: sessionT0}, 0, testBound); err != nil {
		t.Fatal(err)
	}
	poll := sessionT0.Add(time.Minute)
	if err := s.PutFirstSights(ctx, []session.State{
		{UserID: onlyFirst, Active: true, At: poll, Source: session.SourcePoll},
		{UserID: both, Active: true, At: poll, Source: session.SourcePoll},
		{UserID: newerFirst, Active: true, At: poll, Source: session.SourcePoll},
		{UserID: inactive, Active: false, At: poll, Source: session.SourcePoll},
	}); err != nil {
		t.Fatal(err)
	}
	// A webhook decision taken on the first-sight state creates the versioned item.
	rec, err := s.GetSession(ctx, both)
	if err != nil || !rec.FirstSight || rec.Version != 0 || !rec.State.Active {
		t.Fatalf("GetSession(%s) before the webhook = %+v, %v; want the first-sight state at version 0", both, rec, err)
	}
	if _, err := s.PutSession(ctx, session.State{UserID: both, Active: false, At: poll.Add(time.Second)}, rec.Version, testBound); err != nil {
		t.Fatalf("PutSession on a first-sight record: %v", err)
	}

	type want struct {
		found, firstSight, stale, active bool
		version                          int64
	}
	wants := map[string]want{
		onlyFirst:   {found: true, firstSight: true, active: true},
		both:        {found: true, stale: true, active: false, version: 1},
		newerFirst:  {found: true, stale: true, active: false, version: 1},
		onlyVersion: {found: true, active: true, version: 1},
		inactive:    {found: true, firstSight: true, active: false},
	}
	check := func(t *testing.T, wants map[string]want) {
		t.Helper()
		streamed := map[string]dynamo.SessionRecord{}
		var order []string
		for rec, err := range s.Sessions(ctx) {
			if err != nil {
				t.Fatalf("Sessions: %v", err)
			}
			if _, dup := streamed[rec.State.UserID]; dup {
				t.Errorf("Sessions yielded %s twice", rec.State.UserID)
			}
			streamed[rec.State.UserID] = rec
			order = append(order, rec.State.UserID)
		}
		for id, w := range wants {
			got, err := s.GetSession(ctx, id)
			if found := err == nil; found != w.found || (err != nil && !apperr.Is(err, apperr.NotFound)) {
				t.Errorf("GetSession(%s): %v, want found %v", id, err, w.found)
				continue
			}
			srec, inStream := streamed[id]
			if inStream != w.found {
				t.Errorf("Sessions: %s streamed %v, want %v", id, inStream, w.found)
			}
			if !w.found {
				continue
			}
			for name, r := range map[string]dynamo.SessionRecord{"GetSession": got, "Sessions": srec} {
				if r.State.UserID != id || r.FirstSight != w.firstSight || r.Version != w.version || r.State.Active != w.active {
					t.Errorf("%s(%s) = %+v, want %+v", name, id, r, w)
				}
			}
			if srec.StaleFirstSight != w.stale {
				t.Errorf("Sessions(%s).StaleFirstSight = %v, want %v", id, srec.StaleFirstSight, w.stale)
			}
		}
		for i := 1; i < len(order); i++ {
			if order[i-1] >= order[i] {
				t.Errorf("Sessions order %v is not by user id", order)
			}
		}
	}
	t.Run("the versioned item supersedes the first-sight item", func(t *testing.T) { check(t, wants) })

	t.Run("VersionedSessions reads versioned items only", func(t *testing.T) {
		got, err := s.VersionedSessions(ctx, []string{onlyFirst, both, newerFirst, onlyVersion, inactive})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[both].Version != 1 || got[newerFirst].Version != 1 || got[onlyVersion].Version != 1 {
			t.Errorf("VersionedSessions = %+v, want %s, %s and %s at version 1", got, both, newerFirst, onlyVersion)
		}
	})

	t.Run("superseded first-sight items deleted", func(t *testing.T) {
		if err := s.DeleteFirstSights(ctx, []string{both, newerFirst, both}); err != nil {
			t.Fatal(err)
		}
		w := map[string]want{}
		for id, x := range wants {
			x.stale = false
			w[id] = x
		}
		check(t, w)
	})

	t.Run("an inactive first-sight state expires", func(t *testing.T) {
		clock = sessionT0.Add(dynamo.SessionRetention + time.Hour)
		w := map[string]want{inactive: {}, onlyFirst: wants[onlyFirst]}
		check(t, w)
		clock = sessionT0
	})

	t.Run("DeleteSession clears both items", func(t *testing.T) {
		if err := s.PutFirstSights(ctx, []session.State{{UserID: onlyVersion, Active: false, At: poll}}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			id      string
			version int64
		}{{onlyVersion, 1}, {onlyFirst, 0}} {
			got, err := s.DeleteSession(ctx, tc.id)
			if err != nil || got.Version != tc.version || got.State == "" {
				t.Errorf("DeleteSession(%s) = %+v, %v; want the state in effect, version %d", tc.id, got, err, tc.version)
			}
			if _, err := s.GetSession(ctx, tc.id); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("GetSession(%s) after DeleteSession: %v, want not found", tc.id, err)
			}
			if _, err := s.DeleteSession(ctx, tc.id); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("second DeleteSession(%s): %v, want not found", tc.id, err)
			}
		}
	})

	t.Run("empty ids", func(t *testing.T) {
		if err := s.PutFirstSights(ctx, []session.State{{UserID: ""}}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("PutFirstSights: %v, want invalid", err)
		}
		if err := s.DeleteFirstSights(ctx, []string{""}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("DeleteFirstSights: %v, want invalid", err)
		}
	})
}
