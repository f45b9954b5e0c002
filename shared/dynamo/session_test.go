package dynamo_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamolocal"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamotest"
	"github.com/omnibridge/omnibridge/shared/eventtime"
	"github.com/omnibridge/omnibridge/shared/session"
)

// sessionT0 is the time of the first observation in these tests.
var sessionT0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// testBound is a clock-skew bound past every time the tests store.
var testBound = eventtime.New(sessionT0.Add(365*24*time.Hour), 0)

func sessionUser(i int) string { return fmt.Sprintf("0055e00000%05dAAA", i) }

func TestSessionItemVersions(t *testing.T) {
	ctx := context.Background()
	s := dynamotest.NewStore(t)
	const user = "0055e000003AbCdAAK"
	if _, err := s.GetSession(ctx, user); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("GetSession on empty table: %v, want not_found", err)
	}
	on := true
	first := session.State{
		UserID: user, Active: true, At: sessionT0.Add(120 * time.Millisecond), Source: session.SourceWebhook, LastEventID: "e1",
		SessionExpires: sessionT0.Add(2 * time.Hour), Available: &on,
		Retry: []session.Action{{Target: session.TargetOmniChannel, UserID: user, Online: true, Status: "Available", Reason: "Logged in", CausedBy: "e1", Attempts: 2}},
	}
	v1, err := s.PutSession(ctx, first, 0, testBound)
	if err != nil || v1 != 1 {
		t.Fatalf("create: %d, %v", v1, err)
	}
	got, err := s.GetSession(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 1 || !got.State.At.Equal(first.At) || !got.State.SessionExpires.Equal(first.SessionExpires) ||
		got.State.Available == nil || !*got.State.Available || !slices.Equal(got.State.Retry, first.Retry) ||
		got.State.LastEventID != "e1" || got.State.Source != session.SourceWebhook || !got.State.Active {
		t.Fatalf("round trip = %+v", got)
	}

	// Each step writes on top of the previous one.
	steps := []struct {
		name        string
		expected    int64
		at          time.Duration // after first.At
		wantCode    apperr.Code
		wantVersion int64
	}{
		{name: "create again", expected: 0, at: time.Second, wantCode: apperr.Conflict},
		{name: "stale version", expected: 5, at: time.Second, wantCode: apperr.Conflict},
		{name: "older observation at the current version", expected: 1, at: -time.Millisecond, wantCode: apperr.Conflict},
		{name: "same observation time", expected: 1, at: 0, wantVersion: 2},
		{name: "newer observation", expected: 2, at: time.Minute, wantVersion: 3},
		{name: "previous observation after the newer one", expected: 3, at: 0, wantCode: apperr.Conflict},
		{name: "negative version", expected: -1, at: time.Hour, wantCode: apperr.Invalid},
	}
	for _, tc := range steps {
		t.Run(tc.name, func(t *testing.T) {
			st := first
			st.At = first.At.Add(tc.at)
			v, err := s.PutSession(ctx, st, tc.expected, testBound)
			if apperr.CodeOf(err) != tc.wantCode || v != tc.wantVersion {
				t.Fatalf("PutSession at version %d: %d, %v; want %d, code %q", tc.expected, v, err, tc.wantVersion, tc.wantCode)
			}
			cur, err := s.GetSession(ctx, user)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantCode == "" && (cur.Version != tc.wantVersion || !cur.State.At.Equal(st.At)) {
				t.Errorf("stored %d at %v, want %d at %v", cur.Version, cur.State.At, tc.wantVersion, st.At)
			}
		})
	}

	t.Run("no user id", func(t *testing.T) {
		if _, err := s.PutSession(ctx, session.State{At: sessionT0}, 0, testBound); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("PutSession: %v", err)
		}
		if _, err := s.GetSession(ctx, ""); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("GetSession: %v", err)
		}
	})
}

// TestSessionRaces runs the interleavings the conditional write exists for.
func TestSessionRaces(t *testing.T) {
	ctx := context.Background()
	s := dynamotest.NewStore(t)
	const user = "0055e000004QrStAAK"
	if _, err := s.PutSession(ctx, session.State{UserID: user, Active: true, At: sessionT0}, 0, testBound); err != nil {
		t.Fatal(err)
	}

	t.Run("older event loses to a newer one that loaded the same version", func(t *testing.T) {
		loaded, err := s.GetSession(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		// Both writers loaded the same version; the logout (newer) writes first.
		logout := session.State{UserID: user, Active: false, At: sessionT0.Add(2 * time.Minute), LastEventID: "logout"}
		login := session.State{UserID: user, Active: true, At: sessionT0.Add(time.Minute), LastEventID: "login"}
		if _, err := s.PutSession(ctx, logout, loaded.Version, testBound); err != nil {
			t.Fatalf("newer writer: %v", err)
		}
		if _, err := s.PutSession(ctx, login, loaded.Version, testBound); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("older writer at the loaded version: %v, want conflict", err)
		}
		// It reloads and tries again at the current version: the newer state still wins.
		reloaded, err := s.GetSession(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutSession(ctx, login, reloaded.Version, testBound); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("older writer after reload: %v, want conflict", err)
		}
		final, _ := s.GetSession(ctx, user)
		if final.State.LastEventID != "logout" || final.State.Active {
			t.Errorf("stored %+v, want the logout", final.State)
		}
	})

	t.Run("concurrent writers: one wins", func(t *testing.T) {
		cur, err := s.GetSession(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		oneWins(t, 8, func(i int) error {
			st := session.State{UserID: user, Active: i%2 == 0, At: cur.State.At.Add(time.Duration(i+1) * time.Second)}
			_, err := s.PutSession(ctx, st, cur.Version, testBound)
			return err
		})
	})

	t.Run("concurrent creators: one wins", func(t *testing.T) {
		oneWins(t, 8, func(i int) error {
			st := session.State{UserID: "0055e000005NewUAAK", Active: true, At: sessionT0.Add(time.Duration(i) * time.Second)}
			_, err := s.PutSession(ctx, st, 0, testBound)
			return err
		})
	})
}

// TestSessionStoredFutureTime: an observation stored with a time beyond the clock-skew bound
// (written before the bound was enforced) refuses no later write, while one within it still does.
func TestSessionStoredFutureTime(t *testing.T) {
	ctx := context.Background()
	s := dynamotest.NewStore(t)
	now := sessionT0
	bound := eventtime.New(now, 0)
	for _, tc := range []struct {
		name   string
		stored time.Time
		want   apperr.Code // "" for written
	}{
		{"stored 2099", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), ""},
		{"stored 9999-12-31", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), ""},
		{"stored just outside the skew", now.Add(eventtime.DefaultMaxSkew + time.Millisecond), ""},
		{"stored just inside the skew", now.Add(eventtime.DefaultMaxSkew), apperr.Conflict},
		{"stored in the past", now.Add(-time.Hour), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user := "0055e000009" + fmt.Sprintf("%04d", len(tc.name)) + "AAK"
			// Stored without the bound being checked, as before it existed.
			if _, err := s.PutSession(ctx, session.State{UserID: user, Active: true, At: tc.stored, LastEventID: "future"}, 0, eventtime.New(tc.stored, 0)); err != nil {
				t.Fatal(err)
			}
			logout := session.State{UserID: user, At: now, LastEventID: "logout"}
			_, err := s.PutSession(ctx, logout, 1, bound)
			if apperr.CodeOf(err) != tc.want {
				t.Fatalf("logout write: %v, want %q", err, tc.want)
			}
			got, _ := s.GetSession(ctx, user)
			if wantID := map[bool]string{true: "logout", false: "future"}[tc.want == ""]; got.State.LastEventID != wantID {
				t.Errorf("stored %+v, want event %s", got.State, wantID)
			}
		})
	}
}

// oneWins runs write n times concurrently and checks that exactly one call succeeds and that
// the others fail with apperr.Conflict.
func oneWins(t *testing.T, n int, write func(i int) error) {
	t.Helper()
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := write(i); err == nil {
				wins.Add(1)
			} else if !apperr.Is(err, apperr.Conflict) {
				t.Errorf("writer %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d writers won, want 1", wins.Load())
	}
}

func TestSessionRetention(t *testing.T) {
	ctx := context.Background()
	clock := sessionT0
	s := dynamotest.NewStore(t).WithClock(func() time.Time { return clock })
	const active, inactive, returning = "0055e000001ActvAAA", "0055e000001InacAAA", "0055e000001RetnAAA"
	for _, st := range []session.State{
		{UserID: active, Active: true, At: sessionT0},
		{UserID: inactive, Active: false, At: sessionT0},
		{UserID: returning, Active: false, At: sessionT0},
	} {
		if _, err := s.PutSession(ctx, st, 0, testBound); err != nil {
			t.Fatal(err)
		}
	}
	// The returning user logs in again 10 days later: the item no longer expires.
	clock = sessionT0.Add(10 * 24 * time.Hour)
	if _, err := s.PutSession(ctx, session.State{UserID: returning, Active: true, At: clock}, 1, testBound); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		after     time.Duration
		user      string
		wantFound bool
	}{
		{name: "inactive within retention", after: dynamo.SessionRetention - time.Second, user: inactive, wantFound: true},
		{name: "inactive after retention", after: dynamo.SessionRetention, user: inactive},
		{name: "active never expires", after: 10 * dynamo.SessionRetention, user: active, wantFound: true},
		{name: "reactivated never expires", after: 10 * dynamo.SessionRetention, user: returning, wantFound: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock = sessionT0.Add(tc.after)
			_, err := s.GetSession(ctx, tc.user)
			if found := err == nil; found != tc.wantFound || (err != nil && !apperr.Is(err, apperr.NotFound)) {
				t.Errorf("GetSession: %v, want found %v", err, tc.wantFound)
			}
			got, err := s.VersionedSessions(ctx, []string{tc.user})
			if _, found := got[tc.user]; err != nil || found != tc.wantFound {
				t.Errorf("VersionedSessions: %v, %v; want found %v", got, err, tc.wantFound)
			}
		})
	}
	t.Run("an expired item counts as absent", func(t *testing.T) {
		clock = sessionT0.Add(dynamo.SessionRetention + time.Hour)
		for rec, err := range s.Sessions(ctx) {
			if err != nil || rec.State.UserID == inactive {
				t.Errorf("Sessions yielded %+v, %v", rec, err)
			}
		}
		if v, err := s.PutSession(ctx, session.State{UserID: inactive, Active: true, At: clock}, 0, testBound); err != nil || v != 1 {
			t.Errorf("create over the expired item: %d, %v", v, err)
		}
	})
}

// spyAPI is the DynamoDB client with hooks: it counts calls, can cut query pages short, can hold
// back some keys of a BatchGetItem as unprocessed, and can fail a query page.
type spyAPI struct {
	*dynamodb.Client
	queries, batchGets atomic.Int32
	queryLimit         int32
	failQueryPage      int32 // 1-based; 0 never
	// holdBack returns how many keys of a batch request to return unprocessed.
	holdBack func(call int32, keys int) int
}

func (a *spyAPI) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	n := a.queries.Add(1)
	if n == a.failQueryPage {
		return nil, &types.ProvisionedThroughputExceededException{}
	}
	if a.queryLimit > 0 {
		in.Limit = &a.queryLimit
	}
	return a.Client.Query(ctx, in, opts...)
}

func (a *spyAPI) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	n := a.batchGets.Add(1)
	var held map[string]types.KeysAndAttributes
	if a.holdBack != nil {
		held = map[string]types.KeysAndAttributes{}
		for table, ka := range in.RequestItems {
			h := min(a.holdBack(n, len(ka.Keys)), len(ka.Keys))
			if h == 0 {
				continue
			}
			rest := ka
			rest.Keys = ka.Keys[len(ka.Keys)-h:]
			held[table] = rest
			ka.Keys = ka.Keys[:len(ka.Keys)-h]
			in.RequestItems[table] = ka
			if len(ka.Keys) == 0 {
				delete(in.RequestItems, table)
			}
		}
	}
	out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}}
	if len(in.RequestItems) > 0 {
		var err error
		if out, err = a.Client.BatchGetItem(ctx, in, opts...); err != nil {
			return nil, err
		}
	}
	if len(held) > 0 {
		out.UnprocessedKeys = held
	}
	return out, nil
}

// apiOnly hides BatchGetItem, like a wrapper that implements only dynamo.API.
type apiOnly struct{ dynamo.API }

// spyStore returns a store over a fresh table through spy, and one over the same table that
// writes directly.
func spyStore(t *testing.T) (*dynamo.Store, *spyAPI, *dynamo.Store) {
	t.Helper()
	direct := dynamotest.NewStore(t)
	url, _ := dynamotest.Endpoint(t)
	spy := &spyAPI{Client: dynamo.NewClient(dynamolocal.Config(), url)}
	return dynamo.New(spy, direct.Table()), spy, direct
}

func putSessions(t *testing.T, s *dynamo.Store, n int) {
	t.Helper()
	for i := range n {
		if _, err := s.PutSession(context.Background(), session.State{UserID: sessionUser(i), Active: i%3 != 0, At: sessionT0}, 0, testBound); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSessionsStream(t *testing.T) {
	ctx := context.Background()
	s, spy, direct := spyStore(t)
	const n = 23
	putSessions(t, direct, n)
	// Items of other kinds in the table are not streamed.
	if _, err := direct.PutAgent(ctx, dynamo.AgentRecord{ConnectUserID: "a1"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		limit       int32
		stopAfter   int
		failPage    int32
		wantUsers   int
		wantQueries int32
		wantErr     apperr.Code
	}{
		{name: "one page", wantUsers: n, wantQueries: 1},
		{name: "pages of 5", limit: 5, wantUsers: n, wantQueries: 5},
		{name: "pages of 5, stop after 7", limit: 5, stopAfter: 7, wantUsers: 7, wantQueries: 2},
		{name: "third page fails", limit: 5, failPage: 3, wantUsers: 10, wantQueries: 3, wantErr: apperr.Unavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spy.queries.Store(0)
			spy.queryLimit, spy.failQueryPage = tc.limit, tc.failPage
			var users []string
			var errs []error
			for rec, err := range s.Sessions(ctx) {
				if err != nil {
					errs = append(errs, err)
					continue
				}
				users = append(users, rec.State.UserID)
				if rec.Version != 1 || rec.State.At.IsZero() {
					t.Errorf("record %+v", rec)
				}
				if len(users) == tc.stopAfter {
					break
				}
			}
			if len(users) != tc.wantUsers || !slices.IsSorted(users) || len(slices.Compact(slices.Clone(users))) != len(users) {
				t.Errorf("streamed %d users %v, want %d distinct in order", len(users), users, tc.wantUsers)
			}
			if q := spy.queries.Load(); q != tc.wantQueries {
				t.Errorf("%d queries, want %d", q, tc.wantQueries)
			}
			if tc.wantErr == "" && len(errs) > 0 || tc.wantErr != "" && (len(errs) != 1 || !apperr.Is(errs[0], tc.wantErr)) {
				t.Errorf("errors %v, want code %q", errs, tc.wantErr)
			}
		})
	}
}

func TestVersionedSessions(t *testing.T) {
	ctx := context.Background()
	s, spy, direct := spyStore(t)
	const stored = 230
	putSessions(t, direct, stored)
	// Ask for every stored user, 20 unknown ones and some twice.
	var ids []string
	for i := range stored + 20 {
		ids = append(ids, sessionUser(i))
	}
	ids = append(ids, sessionUser(0), sessionUser(7))

	tests := []struct {
		name      string
		store     *dynamo.Store
		holdBack  func(call int32, keys int) int
		timeout   time.Duration
		wantCalls int32
		wantErr   apperr.Code
	}{
		{name: "chunks of 100", store: s, wantCalls: 3},
		{name: "unprocessed keys are asked again", store: s, wantCalls: 6,
			holdBack: func(call int32, keys int) int {
				if call%2 == 1 {
					return keys / 2
				}
				return 0
			}},
		{name: "keys that stay unprocessed (3 chunks, 8 calls each)", store: s, wantCalls: 3 * 8, wantErr: apperr.Unavailable,
			holdBack: func(int32, int) int { return 1 }},
		{name: "deadline while keys are unprocessed", store: s, timeout: 30 * time.Millisecond, wantErr: apperr.Unavailable,
			holdBack: func(int32, int) int { return 1 }},
		{name: "API without BatchGetItem", store: dynamo.New(apiOnly{spy}, direct.Table())},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spy.batchGets.Store(0)
			spy.holdBack = tc.holdBack
			ctx := ctx
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			got, err := tc.store.VersionedSessions(ctx, ids)
			if apperr.CodeOf(err) != tc.wantErr {
				t.Fatalf("VersionedSessions: %v, want code %q", err, tc.wantErr)
			}
			if tc.wantCalls > 0 && spy.batchGets.Load() != tc.wantCalls {
				t.Errorf("%d BatchGetItem calls, want %d", spy.batchGets.Load(), tc.wantCalls)
			}
			if err != nil {
				return
			}
			if len(got) != stored {
				t.Errorf("%d records, want %d", len(got), stored)
			}
			for i := range stored {
				id := sessionUser(i)
				if rec, ok := got[id]; !ok || rec.State.UserID != id || rec.Version != 1 || rec.State.Active != (i%3 != 0) {
					t.Errorf("%s: %+v, %v", id, rec, ok)
				}
			}
		})
	}
	t.Run("no ids", func(t *testing.T) {
		spy.batchGets.Store(0)
		got, err := s.VersionedSessions(ctx, nil)
		if err != nil || len(got) != 0 || spy.batchGets.Load() != 0 {
			t.Errorf("VersionedSessions(nil) = %v, %v after %d calls", got, err, spy.batchGets.Load())
		}
	})
	t.Run("empty id", func(t *testing.T) {
		if _, err := s.VersionedSessions(ctx, []string{sessionUser(1), ""}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("VersionedSessions: %v, want invalid", err)
		}
	})
}

// TestSessionsStreamCorruptItem: a corrupt state yields an error that names its user, and the
// stream goes on, so one bad item cannot stop a poll run.
func TestSessionsStreamCorruptItem(t *testing.T) {
	ctx := context.Background()
	_, spy, direct := spyStore(t)
	putSessions(t, direct, 3)
	bad := sessionUser(1)
	_, err := spy.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(direct.Table()), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "SESSION"}, "sk": &types.AttributeValueMemberS{Value: bad},
		"version": &types.AttributeValueMemberN{Value: "2"}, "at": &types.AttributeValueMemberS{Value: "2026-11-21T09:00:00.000000000Z"},
		"active": &types.AttributeValueMemberBOOL{Value: true}, "state": &types.AttributeValueMemberS{Value: "{not json"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var ok, failed []string
	for r, err := range direct.Sessions(ctx) {
		if err != nil {
			failed = append(failed, r.State.UserID)
			continue
		}
		ok = append(ok, r.State.UserID)
	}
	if len(ok) != 2 || len(failed) != 1 || failed[0] != bad {
		t.Fatalf("streamed %v, failed %v", ok, failed)
	}
}
