package dynamo_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamotest"
	"github.com/omnibridge/omnibridge/shared/eventtime"
	"github.com/omnibridge/omnibridge/shared/session"
)

// BenchmarkWriteThroughput measures what a first session poll writes, per item: new session
// states (one conditional PutItem each) one at a time and 8 or 32 at once, and audit entries
// one PutItem each against AppendAudits (25 per BatchWriteItem). The server's throughput, not
// the round trip, bounds a poll that writes tens of thousands of items: run it under
// infra/scripts/with-dynalite.sh to see dynalite's (BENCHMARKS.md §8.4).
//
//	infra/scripts/with-dynalite.sh go test ./shared/dynamo -run '^$' -bench WriteThroughput -benchtime 4000x
func BenchmarkWriteThroughput(b *testing.B) {
	ctx := context.Background()
	_, server := dynamotest.Endpoint(b)
	b.Logf("server: %s", server)
	now := time.Now()
	bound := eventtime.New(now, time.Minute)
	for _, conc := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("put-session-%d-at-once", conc), func(b *testing.B) {
			s := dynamotest.NewStore(b)
			ids := make(chan int)
			var wg sync.WaitGroup
			for range conc {
				wg.Go(func() {
					for i := range ids {
						st := session.State{UserID: fmt.Sprintf("005%015d", i), Active: true, At: now}
						if _, err := s.PutSession(ctx, st, 0, bound); err != nil {
							b.Error(err)
						}
					}
				})
			}
			i := 0
			for b.Loop() {
				ids <- i
				i++
			}
			close(ids)
			wg.Wait()
		})
	}
	entry := func(i int) audit.Entry {
		return audit.Entry{Subject: fmt.Sprintf("user/005%015d", i), Time: now, ID: fmt.Sprintf("poll/%d", i), Outcome: "toggled-on",
			Message: "poll: user has a valid session; switched on", Details: map[string]any{"kind": "poll-active", "source": "poll", "active": true}}
	}
	b.Run("audit-one-by-one", func(b *testing.B) {
		s := dynamotest.NewStore(b)
		i := 0
		for b.Loop() {
			if err := s.AppendAudit(ctx, entry(i), time.Hour); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("audit-batched", func(b *testing.B) {
		s := dynamotest.NewStore(b)
		var batch []audit.Entry
		i := 0
		for b.Loop() {
			batch = append(batch, entry(i))
			i++
			if len(batch) == 200 { // one delivery's worth, as the poll writes them
				if err := s.AppendAudits(ctx, batch, time.Hour); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
		if err := s.AppendAudits(ctx, batch, time.Hour); err != nil {
			b.Fatal(err)
		}
	})
}
