package agentstream_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/omnibridge/omnibridge/shared/agentstream"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamolocal"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamotest"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/engine/enginetest"
	"github.com/omnibridge/omnibridge/shared/presence"
)

// slowAPI adds a fixed latency to every DynamoDB data call, as a round trip to DynamoDB from
// Lambda would (single-digit to ~10 ms).
type slowAPI struct {
	dynamo.API
	d time.Duration
}

func (s slowAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	time.Sleep(s.d)
	return s.API.GetItem(ctx, in, o...)
}

func (s slowAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	time.Sleep(s.d)
	return s.API.PutItem(ctx, in, o...)
}

func (s slowAPI) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	time.Sleep(s.d)
	return s.API.DeleteItem(ctx, in, o...)
}

// BatchWriteItem is one round trip too, whatever it carries (at most 25 items).
func (s slowAPI) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	time.Sleep(s.d)
	return s.API.(interface {
		BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	}).BatchWriteItem(ctx, in, o...)
}

// BatchGetItem is one round trip too (at most 100 keys).
func (s slowAPI) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	time.Sleep(s.d)
	return s.API.(interface {
		BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	}).BatchGetItem(ctx, in, o...)
}

func (s slowAPI) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	time.Sleep(s.d)
	return s.API.Query(ctx, in, o...)
}

// benchTable returns a fresh table whose every data call takes at least latency.
func benchTable(b *testing.B, latency time.Duration) *dynamo.Store {
	b.Helper()
	fast := dynamotest.NewStore(b)
	url, _ := dynamotest.Endpoint(b)
	return dynamo.New(slowAPI{API: dynamo.NewClient(dynamolocal.Config(), url), d: latency}, fast.Table())
}

func benchUsers(n int) []enginetest.User {
	us := make([]enginetest.User, n)
	for i := range us {
		us[i] = enginetest.User{ConnectID: fmt.Sprintf("agent-%03d", i), Username: fmt.Sprintf("agent-%03d", i), SalesforceID: fmt.Sprintf("005xx%010dAAA", i)}
	}
	return us
}

// benchBatch is one state change per agent; round alternates the status so every event
// changes state and sends a Salesforce command.
func benchBatch(b *testing.B, us []enginetest.User, round int) events.KinesisEvent {
	status := []string{"Available", "Lunch"}[round%2]
	at := time.Date(2024, 3, 11, 8, 0, 0, 0, time.UTC).Add(time.Duration(round) * time.Second)
	var in events.KinesisEvent
	for i, u := range us {
		in.Records = append(in.Records, record(b, u.ConnectID, fmt.Sprintf("r%d-%s", round, u.ConnectID), at, status, round*len(us)+i))
	}
	return in
}

type benchSetup struct {
	h      *enginetest.Harness
	users  []enginetest.User
	handle func(events.KinesisEvent)
}

// newBench builds a harness with the given latencies, resolves every agent's link and creates
// its item (one warm-up batch, untimed), and returns a handle function for the mode.
func newBench(b *testing.B, storeLatency, sfLatency time.Duration, agents int, perEvent bool) *benchSetup {
	return newBenchConc(b, storeLatency, sfLatency, agents, perEvent, 0)
}

// newBenchConc is newBench with conc agents processed, and written in Flush, at once (0: the
// defaults).
func newBenchConc(b *testing.B, storeLatency, sfLatency time.Duration, agents int, perEvent bool, conc int) *benchSetup {
	b.Helper()
	var table *dynamo.Store
	if storeLatency > 0 {
		table = benchTable(b, storeLatency)
	}
	users := benchUsers(agents)
	h := enginetest.New(b, enginetest.Options{Table: table, Users: users, ConfigRefresh: engine.DefaultConfigRefresh,
		Engine: engine.Options{FlushConcurrency: conc}})
	sleep := func() {
		if sfLatency > 0 {
			time.Sleep(sfLatency)
		}
	}
	h.Publisher.PublishFunc = func(context.Context, []presence.Command) ([]error, error) { sleep(); return nil, nil }
	lookup := h.SF.UserIDByFieldFunc
	h.SF.UserIDByFieldFunc = func(ctx context.Context, f, v string) (string, error) { sleep(); return lookup(ctx, f, v) }
	h.SF.UserIDsByFieldFunc = func(ctx context.Context, f string, vs []string) ([]engine.UserLookup, error) {
		sleep() // one query for the batch
		out := make([]engine.UserLookup, len(vs))
		for i, v := range vs {
			out[i].Value, out[i].Err = lookup(ctx, f, v)
		}
		return out, nil
	}
	if perEvent {
		conc = 1
	}
	hd := agentstream.New(h.Engine, agentstream.Options{Concurrency: conc})
	s := &benchSetup{h: h, users: users}
	s.handle = func(in events.KinesisEvent) {
		if !perEvent {
			if resp, _ := hd.HandleWithStats(context.Background(), in); len(resp.BatchItemFailures) > 0 {
				b.Fatalf("%d failures", len(resp.BatchItemFailures))
			}
			return
		}
		// Baseline: one event at a time, each invocation publishing its own command.
		for _, r := range in.Records {
			if resp, _ := hd.HandleWithStats(context.Background(), events.KinesisEvent{Records: []events.KinesisEventRecord{r}}); len(resp.BatchItemFailures) > 0 {
				b.Fatalf("%d failures", len(resp.BatchItemFailures))
			}
		}
	}
	s.handle(benchBatch(b, users, 0))
	return s
}

// BenchmarkKinesisBatch measures the wall time of one 100-record batch of 100 distinct agents
// with 10 ms per DynamoDB call and 50 ms per Salesforce call: batched (agents in parallel, one
// publish) against the sequential baseline (one event at a time, one publish per event).
// batched runs at the default concurrency (agentstream.DefaultConcurrency agents, and
// engine.DefaultFlushConcurrency writes in Flush, 32 each); batched-concurrency-16 at the former
// default of 16 for both.
//
//	go test ./shared/agentstream -run '^$' -bench KinesisBatch -benchtime 3x
func BenchmarkKinesisBatch(b *testing.B) {
	for _, mode := range []struct {
		name     string
		perEvent bool
		conc     int
	}{{"batched", false, 0}, {"batched-concurrency-16", false, 16}, {"sequential", true, 0}} {
		b.Run(mode.name, func(b *testing.B) {
			s := newBenchConc(b, 10*time.Millisecond, 50*time.Millisecond, 100, mode.perEvent, mode.conc)
			calls := s.h.Publisher.Calls()
			round := 1
			for b.Loop() {
				b.StopTimer()
				in := benchBatch(b, s.users, round)
				round++
				s.h.Clock.Advance(time.Second)
				b.StartTimer()
				s.handle(in)
			}
			b.ReportMetric(float64(s.h.Publisher.Calls()-calls)/float64(round-1), "publish-calls/batch")
		})
	}
}

// BenchmarkSalesforceCallsPer1000Changes counts Salesforce API calls for 1,000 Connect state
// changes (10 batches of 100 agents, each change sending one presence command): publish calls
// and user lookups (first sight of each agent only).
//
//	go test ./shared/agentstream -run '^$' -bench SalesforceCallsPer1000 -benchtime 1x
func BenchmarkSalesforceCallsPer1000Changes(b *testing.B) {
	for _, mode := range []struct {
		name     string
		perEvent bool
	}{{"batched", false}, {"per-event", true}} {
		b.Run(mode.name, func(b *testing.B) {
			var publish, lookups, published int
			for b.Loop() {
				s := newBench(b, 0, 0, 100, mode.perEvent) // warm-up batch = round 0
				for round := 1; round < 10; round++ {
					s.h.Clock.Advance(time.Second)
					s.handle(benchBatch(b, s.users, round))
				}
				publish, lookups, published = s.h.Publisher.Calls(), s.h.SF.Calls(), len(s.h.Publisher.Published())
			}
			if published != 1000 {
				b.Fatalf("%d commands published, want 1000", published)
			}
			b.ReportMetric(float64(publish), "publish-calls/1000-changes")
			b.ReportMetric(float64(lookups), "lookup-calls/1000-changes")
			b.ReportMetric(float64(publish+lookups), "sf-calls/1000-changes")
		})
	}
}
