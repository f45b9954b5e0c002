package dynamo_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamolocal"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamotest"
)

// unprocessedAPI is the real client with BatchWriteItem wrapped: each call hands the server only
// some of its requests and returns the rest as UnprocessedItems, as DynamoDB does when it
// throttles, for as many calls as holdCalls says.
type unprocessedAPI struct {
	*dynamodb.Client

	mu sync.Mutex
	// hold is how many requests of a call are returned unprocessed while holdCalls > 0.
	hold      int
	holdCalls int
	// failSize makes every call carrying this many requests fail (throttled).
	failSize int
	calls    int
	sizes    []int
}

func (a *unprocessedAPI) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	a.mu.Lock()
	a.calls++
	var held map[string][]types.WriteRequest
	send := in
	fail := false
	for table, reqs := range in.RequestItems {
		a.sizes = append(a.sizes, len(reqs))
		fail = fail || len(reqs) == a.failSize
		if a.holdCalls > 0 {
			a.holdCalls--
			n := min(a.hold, len(reqs))
			held = map[string][]types.WriteRequest{table: reqs[len(reqs)-n:]}
			send = &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs[:len(reqs)-n]}}
			if n == len(reqs) {
				send = nil
			}
		}
	}
	a.mu.Unlock()
	if fail {
		return nil, &types.ProvisionedThroughputExceededException{Message: new(string)}
	}
	out := &dynamodb.BatchWriteItemOutput{}
	if send != nil {
		var err error
		if out, err = a.Client.BatchWriteItem(ctx, send, opts...); err != nil {
			return nil, err
		}
	}
	if held != nil {
		out.UnprocessedItems = held
	}
	return out, nil
}

func auditEntries(subject string, n int, at time.Time) []audit.Entry {
	out := make([]audit.Entry, n)
	for i := range out {
		out[i] = audit.Entry{Subject: subject, Time: at.Add(time.Duration(i) * time.Millisecond), ID: fmt.Sprintf("e%03d", i),
			Outcome: "applied", Message: fmt.Sprintf("entry %d", i), Details: map[string]any{"n": float64(i)}}
	}
	return out
}

// storedAudit reads every entry of subject back, oldest first.
func storedAudit(t *testing.T, s *dynamo.Store, subject string) []audit.Entry {
	t.Helper()
	var out []audit.Entry
	q := audit.Query{Subject: subject, Limit: audit.MaxLimit}
	for {
		page, err := s.QueryAudit(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Entries...)
		if page.NextPageToken == "" {
			break
		}
		q.PageToken = page.NextPageToken
	}
	slices.Reverse(out)
	return out
}

func TestAppendAuditsBatches(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		entries   int
		hold      int
		holdCalls int
		failSize  int
		// wantCalls is the number of BatchWriteItem calls; wantStored the entries read back.
		wantCalls  int
		wantStored int
		wantErr    apperr.Code
	}{
		{name: "one partial call", entries: 7, wantCalls: 1, wantStored: 7},
		{name: "exactly 25", entries: 25, wantCalls: 1, wantStored: 25},
		{name: "61 entries in 3 calls", entries: 61, wantCalls: 3, wantStored: 61},
		{name: "unprocessed items are sent again", entries: 30, hold: 10, holdCalls: 2, wantCalls: 4, wantStored: 30},
		{name: "still unprocessed after every attempt", entries: 3, hold: 1, holdCalls: 100, wantCalls: 8, wantStored: 2, wantErr: apperr.Unavailable},
		{name: "a failed call is reported", entries: 26, failSize: 25, wantCalls: 2, wantStored: 1, wantErr: apperr.Unavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			direct := dynamotest.NewStore(t)
			url, _ := dynamotest.Endpoint(t)
			api := &unprocessedAPI{Client: dynamo.NewClient(dynamolocal.Config(), url), hold: tc.hold, holdCalls: tc.holdCalls, failSize: tc.failSize}
			s := dynamo.New(api, direct.Table())
			in := auditEntries("agent/a1", tc.entries, at)
			err := s.AppendAudits(ctx, in, 24*time.Hour)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && !apperr.Is(err, tc.wantErr) {
				t.Fatalf("AppendAudits: %v, want code %q", err, tc.wantErr)
			}
			if api.calls != tc.wantCalls {
				t.Errorf("%d BatchWriteItem calls (sizes %v), want %d", api.calls, api.sizes, tc.wantCalls)
			}
			for _, n := range api.sizes {
				if n > dynamo.BatchWriteMax {
					t.Errorf("a call carried %d requests, more than %d", n, dynamo.BatchWriteMax)
				}
			}
			got := storedAudit(t, direct, "agent/a1")
			if len(got) != tc.wantStored {
				t.Fatalf("%d entries stored, want %d", len(got), tc.wantStored)
			}
			if tc.wantErr != "" {
				return
			}
			for i, e := range got {
				want := in[i]
				if e.ID != want.ID || !e.Time.Equal(want.Time) || e.Message != want.Message || e.Details["n"] != want.Details["n"] {
					t.Errorf("entry %d = %+v, want %+v", i, e, want)
				}
			}
		})
	}
}

func TestAppendAuditsKeysAndProblems(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	direct := dynamotest.NewStore(t)
	url, _ := dynamotest.Endpoint(t)
	api := &unprocessedAPI{Client: dynamo.NewClient(dynamolocal.Config(), url)}
	s := dynamo.New(api, direct.Table())

	t.Run("the same key twice: the last one wins, in one call", func(t *testing.T) {
		first := audit.Entry{Subject: "user/u1", Time: at, ID: "ev1", Outcome: "toggled-on", Message: "first"}
		other := audit.Entry{Subject: "user/u1", Time: at, ID: "ev2", Outcome: "toggled-on", Message: "other"}
		last := first
		last.Message = "last"
		if err := s.AppendAudits(ctx, []audit.Entry{first, other, last}, time.Hour); err != nil {
			t.Fatal(err)
		}
		got := storedAudit(t, direct, "user/u1")
		if len(got) != 2 || got[0].Message != "last" || got[1].Message != "other" {
			t.Fatalf("stored %+v, want ev1 as \"last\" and ev2", got)
		}
	})
	t.Run("bad entries are reported with their paths, the rest written", func(t *testing.T) {
		in := []audit.Entry{
			{Subject: "user/u2", Time: at, ID: "ok1"},
			{Time: at, ID: "no-subject"},
			{Subject: "user/u2", Time: at},
			{Subject: "user/u2", Time: at, ID: "bad-details", Details: map[string]any{"f": func() {}}},
			{Subject: "user/u2", Time: at, ID: "ok2"},
		}
		err := s.AppendAudits(ctx, in, time.Hour)
		if !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("got %v, want invalid", err)
		}
		var paths []string
		for _, p := range apperr.ProblemsOf(err) {
			paths = append(paths, p.Path)
		}
		if want := []string{"$[1].subject", "$[2].id", "$[3].details"}; !slices.Equal(paths, want) {
			t.Errorf("problem paths %v, want %v", paths, want)
		}
		got := storedAudit(t, direct, "user/u2")
		if len(got) != 2 || got[0].ID != "ok1" || got[1].ID != "ok2" {
			t.Errorf("stored %+v, want ok1 and ok2", got)
		}
	})
	t.Run("no entries, no call", func(t *testing.T) {
		calls := api.calls
		if err := s.AppendAudits(ctx, nil, time.Hour); err != nil {
			t.Fatal(err)
		}
		if api.calls != calls {
			t.Errorf("%d calls for no entries", api.calls-calls)
		}
	})
	t.Run("without BatchWriteItem, entries are put one by one", func(t *testing.T) {
		one := dynamo.New(apiOnly{dynamo.NewClient(dynamolocal.Config(), url)}, direct.Table())
		if err := one.AppendAudits(ctx, auditEntries("user/u3", 4, at), time.Hour); err != nil {
			t.Fatal(err)
		}
		if got := storedAudit(t, direct, "user/u3"); len(got) != 4 {
			t.Errorf("%d entries stored, want 4", len(got))
		}
	})
	t.Run("a cancelled context stops the retries", func(t *testing.T) {
		held := &unprocessedAPI{Client: dynamo.NewClient(dynamolocal.Config(), url), hold: 1, holdCalls: 100}
		hs := dynamo.New(held, direct.Table())
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		err := hs.AppendAudits(cctx, auditEntries("user/u4", 2, at), time.Hour)
		if !apperr.Is(err, apperr.Unavailable) {
			t.Fatalf("got %v, want unavailable", err)
		}
		if held.calls > 1 {
			t.Errorf("%d calls after the context was cancelled, want at most 1", held.calls)
		}
	})
}
