package dynamo_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamotest"
)

// BenchmarkStoreRoundTrip measures one store call, SDK to server and back, for each operation a
// function performs on a hot path. It runs against the embedded server by default and against
// dynalite under infra/scripts/with-dynalite.sh (make bench-store runs both), so the two
// implementations are compared in the same run.
//
// Every sub-benchmark has its own table, created and seeded before any of them runs (a
// benchmark that calls b.Run runs its own body once, while each sub-benchmark's body runs again
// as b.N grows). That matters: minidyn answers a Query by evaluating the key condition on every
// item of the table, so a table that grew during a write benchmark would slow the reads. The
// two QueryAuditPage variants show that cost directly: the same page from a table of 100 items
// and from one holding 2,000 more items under other subjects.
func BenchmarkStoreRoundTrip(b *testing.B) {
	ctx := context.Background()
	_, server := dynamotest.Endpoint(b)
	b.Logf("server: %s", server)

	raw, err := os.ReadFile("../../infra/local/config.sample.json")
	if err != nil {
		b.Fatal(err)
	}
	doc, err := config.Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	configStore := dynamotest.NewStore(b)
	if _, err := configStore.PutConfig(ctx, doc, 0, "bench"); err != nil {
		b.Fatal(err)
	}
	const subject = "agent/bench"
	base := time.Now().Add(-time.Hour)
	seedAudit := func(s *dynamo.Store, subject string, n int) {
		for i := range n {
			e := audit.Entry{Subject: subject, Time: base.Add(time.Duration(i) * time.Second), ID: fmt.Sprint("seed-", i),
				Outcome: "applied", Message: "seeded", Details: map[string]any{"rule": "r1", "n": i}}
			if err := s.AppendAudit(ctx, e, 24*time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	}
	smallAudit, bigAudit := dynamotest.NewStore(b), dynamotest.NewStore(b)
	seedAudit(smallAudit, subject, 2*audit.DefaultLimit)
	seedAudit(bigAudit, subject, 2*audit.DefaultLimit)
	for i := range 20 {
		seedAudit(bigAudit, fmt.Sprint("agent/other-", i), 100)
	}
	newerStore, claimStore, appendStore := dynamotest.NewStore(b), dynamotest.NewStore(b), dynamotest.NewStore(b)
	// seq keeps keys and stamps unique across the repeated runs of each sub-benchmark.
	var seq int64

	b.Run("GetConfig", func(b *testing.B) {
		for b.Loop() {
			if _, err := configStore.GetConfig(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("PutIfNewer", func(b *testing.B) {
		k := dynamo.Key{PK: "AGENT#bench", SK: "STATE"}
		item := struct {
			Status  string `dynamodbav:"status"`
			Contact string `dynamodbav:"contact"`
		}{"Available", "c-1"}
		for b.Loop() {
			seq++
			applied, err := newerStore.PutIfNewer(ctx, k, seq, item, 0)
			if err != nil || !applied {
				b.Fatalf("applied=%v err=%v", applied, err)
			}
		}
	})
	b.Run("Claim", func(b *testing.B) {
		for b.Loop() {
			seq++
			won, err := claimStore.Claim(ctx, fmt.Sprint("evt-", seq), time.Hour)
			if err != nil || !won {
				b.Fatalf("won=%v err=%v", won, err)
			}
		}
	})
	b.Run("AppendAudit", func(b *testing.B) {
		e := audit.Entry{Subject: "agent/bench-append", Outcome: "applied", Message: "bench", Details: map[string]any{"rule": "r1"}}
		for b.Loop() {
			seq++
			e.ID, e.Time = fmt.Sprint("e-", seq), base.Add(time.Duration(seq)*time.Millisecond)
			if err := appendStore.AppendAudit(ctx, e, 24*time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, q := range []struct {
		name  string
		store *dynamo.Store
	}{{"QueryAuditPage/items=100", smallAudit}, {"QueryAuditPage/items=2100", bigAudit}} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				p, err := q.store.QueryAudit(ctx, audit.Query{Subject: subject})
				if err != nil || len(p.Entries) != audit.DefaultLimit {
					b.Fatalf("%d entries, err %v", len(p.Entries), err)
				}
			}
		})
	}
}
