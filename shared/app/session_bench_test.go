package app

// Benchmarks of the session poll, end to end over the rig of session_test.go: the session-poll
// handler, the embedded DynamoDB (or dynalite with OMNIBRIDGE_DYNAMODB_ENDPOINT), sfsim over
// loopback HTTP with the real Salesforce client. Results and commands are in BENCHMARKS.md,
// section 7.
//
//	go test -run '^$' -bench 'SessionPoll' -benchtime 3x ./shared/app/

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamolocal"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamotest"
	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
	"github.com/omnibridge/omnibridge/shared/session"
)

// benchSessionValid keeps the benchmark's sessions valid however many runs the clock advances
// through.
const benchSessionValid = 24 * time.Hour

// benchOrg is a rig with n relevant users, 95% of them logged in, for the benchmarks.
type benchOrg struct {
	*sessionRig
	in, out []string // logged-in and logged-out users, rotated by churn
}

func newBenchOrg(b *testing.B, n int) *benchOrg {
	b.Helper()
	r := newSessionRig(b, rigOptions{targets: distributionOnly})
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("agent%05d", i)
	}
	r.addUsers(rigUserSpec{relevant: true}, names...)
	o := &benchOrg{sessionRig: r}
	for i, name := range names {
		if i%20 == 19 {
			o.out = append(o.out, name)
		} else {
			o.in = append(o.in, name)
		}
	}
	r.startSession(sessionT0, benchSessionValid, o.in...)
	return o
}

// churn logs k/2 users out (their sessions end, no event) and k/2 others in, at the clock's time.
func (o *benchOrg) churn(k int) {
	outs, ins := slices.Clone(o.in[:k/2]), slices.Clone(o.out[:k-k/2])
	o.endSessions(outs...)
	o.startSession(o.clock.Now(), benchSessionValid, ins...)
	o.in = append(slices.Clone(o.in[k/2:]), ins...)
	o.out = append(slices.Clone(o.out[k-k/2:]), outs...)
}

// heapPeak samples, every few milliseconds until stopped, HeapInuse (live objects and garbage
// not collected yet: it can reach about twice the live heap with GOGC=100) and the live heap as
// marked by the latest garbage collection (/gc/heap/live:bytes).
type heapPeak struct {
	stop, done  chan struct{}
	inuse, live uint64
	sample      []metrics.Sample
}

func startHeapPeak() *heapPeak {
	h := &heapPeak{stop: make(chan struct{}), done: make(chan struct{}),
		sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	go func() {
		defer close(h.done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			h.read()
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapPeak) read() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	h.inuse = max(h.inuse, m.HeapInuse)
	metrics.Read(h.sample)
	h.live = max(h.live, h.sample[0].Value.Uint64())
}

// Stop ends the sampling and returns the peaks in bytes.
func (h *heapPeak) Stop() (inuse, live uint64) {
	close(h.stop)
	<-h.done
	h.read()
	return h.inuse, h.live
}

// heapLevel collects garbage and returns HeapInuse and the live heap, the levels a measurement
// starts from.
func heapLevel() (inuse, live uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return m.HeapInuse, s[0].Value.Uint64()
}

const mb = 1 << 20

// BenchmarkSessionPoll10kChurn1pct measures one poll of an org of 10,000 relevant users after 1%
// of them logged in or out since the previous poll (50 logouts without an event, 50 logins).
// omnibridge is the session-poll handler; baseline is the older recipe, run against the same
// kind of org in the same run: query every relevant user and their sessions, and call the
// toggle for every one of them on every run (200 inputs a call). Metrics per poll: calls/op
// (Salesforce API calls, token requests excluded), queries/op (query pages), actioncalls/op
// and inputs/op (toggle inputs).
func BenchmarkSessionPoll10kChurn1pct(b *testing.B) {
	const users, churn = 10_000, 100
	run := func(b *testing.B, o *benchOrg, poll func() error) {
		o.tb = b
		var queries, actions, calls, inputs int
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			o.clock.Set(o.clock.Now().Add(5 * time.Minute))
			o.churn(churn)
			o.resetCounters()
			b.StartTimer()
			if err := poll(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			queries += o.org.Calls(sfsim.KindQuery)
			actions += o.org.Calls(sfsim.KindAction)
			calls += o.org.APIUsage() // every request but the OAuth token requests
			inputs += len(o.toggles.Inputs())
			b.StartTimer()
		}
		b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
		b.ReportMetric(float64(queries)/float64(b.N), "queries/op")
		b.ReportMetric(float64(actions)/float64(b.N), "actioncalls/op")
		b.ReportMetric(float64(inputs)/float64(b.N), "inputs/op")
	}

	// Each variant gets its own org, prepared before its runs: the first poll (every user
	// first seen) is not measured here.
	ob := newBenchOrg(b, users)
	ob.clock.Set(sessionT0.Add(time.Minute))
	ob.poll()
	b.Run("omnibridge", func(b *testing.B) {
		run(b, ob, func() error {
			_, err := ob.pollFn(ob.ctx, events.EventBridgeEvent{DetailType: "Scheduled Event", Source: "aws.events"})
			return err
		})
	})

	base := newBenchOrg(b, users)
	base.clock.Set(sessionT0.Add(time.Minute))
	sf := benchClient(b, base.sessionRig)
	cfg := sessionConfigDoc(b, base.opts).EffectiveSession()
	b.Run("baseline-toggle-everyone", func(b *testing.B) {
		run(b, base, func() error { return baselinePoll(base.ctx, sessionOrg{sf}, cfg, base.clock.Now()) })
	})
}

// baselinePoll is the older recipe: every relevant user's availability is sent on every run,
// from whether they have a valid session (one query of the relevant users, one of their
// sessions, then the toggle for everyone, 200 inputs a call).
func baselinePoll(ctx context.Context, org sessionOrg, s config.Session, now time.Time) error {
	active := map[string]bool{}
	for page, err := range org.SessionPages(ctx, s) {
		if err != nil {
			return err
		}
		for _, r := range page {
			if r.Expires().After(now) {
				active[r.UserID] = true
			}
		}
	}
	where, err := userConditions(s.RelevantUsers)
	if err != nil {
		return err
	}
	var actions []session.Action
	for rec, err := range org.c.Query(ctx, "SELECT Id FROM User WHERE "+where) {
		if err != nil {
			return err
		}
		id := caseSafe(rec["Id"].(string))
		reason := s.Reasons.NoSession
		if active[id] {
			reason = s.Reasons.LoggedIn
		}
		actions = append(actions, session.Action{Target: session.TargetDistribution, UserID: id, Online: active[id], Reason: reason})
	}
	errs, err := org.Toggle(ctx, s.Targets.Distribution, actions)
	if err != nil {
		return err
	}
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// benchClient is a Salesforce client for r's org, logged in.
func benchClient(b testing.TB, r *sessionRig) *salesforce.Client {
	b.Helper()
	raw, err := r.deps.Secrets.SecretValue(r.ctx, rigSecretID)
	if err != nil {
		b.Fatal(err)
	}
	creds, err := salesforce.ParseCredentials(raw)
	if err != nil {
		b.Fatal(err)
	}
	c, err := salesforce.New(creds, salesforce.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkSessionPoll50k measures polls of an org of 50,000 relevant users (47,500 logged in):
//
//   - first: the first poll over an empty table, which sees every user for the first time,
//     switches 47,500 on (238 toggle calls) and writes each user's state twice (decision, then
//     delivery) and an audit entry;
//   - steady-1pct-churn: a later poll after 1% churn (250 logouts without an event, 250 logins),
//     which reads every stored state and writes only the 500 that changed;
//   - part-authsession-pages-only and part-stored-states-stream-only: the two full reads of a
//     poll alone (the AuthSession query pages through the real client, and the stored states
//     through Store.Sessions), to show where a steady poll's time goes.
//
// Besides time per poll it reports the Salesforce calls and, sampled every 5 ms during the poll,
// the peak HeapInuse of the whole test process (peak-heap-MB), its rise over the level before
// the poll (poll-heap-MB) and the rise of the live heap marked by the garbage collections during
// the poll (poll-live-MB). The simulator's 50,000 users and sessions and, with the embedded
// server, the DynamoDB table live in the same process, so peak-heap-MB is far more than a Lambda
// running the poll would hold; the rises are nearer to that, but include what sfsim and the
// embedded DynamoDB allocate to serve the poll, and HeapInuse includes garbage not collected yet
// (up to about the live heap again with GOGC=100).
func BenchmarkSessionPoll50k(b *testing.B) {
	const users = 50_000
	o := newBenchOrg(b, users)
	measure := func(b *testing.B, before func(), poll func()) {
		o.tb = b
		var peak, rise, liveRise uint64
		var calls, actions int
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			before()
			o.resetCounters()
			baseInuse, baseLive := heapLevel()
			h := startHeapPeak()
			b.StartTimer()
			poll()
			b.StopTimer()
			inuse, live := h.Stop()
			peak, rise = max(peak, inuse), max(rise, inuse-min(inuse, baseInuse))
			liveRise = max(liveRise, live-min(live, baseLive))
			calls += o.org.APIUsage()
			actions += o.org.Calls(sfsim.KindAction)
			b.StartTimer()
		}
		b.ReportMetric(float64(peak)/mb, "peak-heap-MB")
		b.ReportMetric(float64(rise)/mb, "poll-heap-MB")
		b.ReportMetric(float64(liveRise)/mb, "poll-live-MB")
		b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
		b.ReportMetric(float64(actions)/float64(b.N), "actioncalls/op")
	}
	polled := false // the table holds every user's state
	poll := func() {
		if rep := o.poll(); rep.ToggledOn+rep.ToggledOff == 0 {
			b.Fatalf("poll changed nothing: %+v", rep)
		}
		polled = true
	}
	// ensurePolled runs the first poll, unmeasured, when -bench left "first" out.
	ensurePolled := func() {
		if !polled {
			o.clock.Set(o.clock.Now().Add(5 * time.Minute))
			poll()
		}
	}

	b.Run("first", func(b *testing.B) {
		measure(b, func() {
			dropTable(b, o.store.Table())
			o.tb = b
			o.newTable()
			o.clock.Set(o.clock.Now().Add(5 * time.Minute))
		}, poll)
	})
	b.Run("steady-1pct-churn", func(b *testing.B) {
		measure(b, func() {
			ensurePolled()
			o.clock.Set(o.clock.Now().Add(5 * time.Minute))
			o.churn(users / 100)
		}, poll)
	})

	// The two reads every poll makes in full, alone, to show where a steady poll's time goes.
	sf := benchClient(b, o.sessionRig)
	cfg := sessionConfigDoc(b, o.opts).EffectiveSession()
	b.Run("part-authsession-pages-only", func(b *testing.B) {
		measure(b, ensurePolled, func() {
			n := 0
			for page, err := range (sessionOrg{sf}).SessionPages(o.ctx, cfg) {
				if err != nil {
					b.Fatal(err)
				}
				n += len(page)
			}
			if n != len(o.in) {
				b.Fatalf("%d session rows, want %d", n, len(o.in))
			}
		})
	})
	b.Run("part-stored-states-stream-only", func(b *testing.B) {
		measure(b, ensurePolled, func() {
			n := 0
			for _, err := range o.store.Sessions(o.ctx) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n < len(o.in) { // users who never logged in have no state
				b.Fatalf("%d stored states, want at least the %d logged-in users'", n, len(o.in))
			}
		})
	})
}

// dropTable deletes a benchmark table, so that the embedded server's memory holds one table at a
// time.
func dropTable(b *testing.B, table string) {
	b.Helper()
	url, _ := dynamotest.Endpoint(b)
	db := dynamo.NewClient(dynamolocal.Config(), url)
	if _, err := db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
		b.Fatalf("delete table %s: %v", table, err)
	}
}

// BenchmarkSessionPollPresenceFirstSight measures the presence reconciliation's identity lookups:
// a first poll of 1,000 relevant users (none linked to a Connect agent) when rows users went
// Available in Omni-Channel within the presence lookback. The poll feeds each such row to the
// presence engine, which resolves the user's Connect link (one User query, one Connect
// SearchUsers) before it is cached; the Connect client allows itself 2 requests a second with a
// burst of 5, as Connect's default quota does. rows=0 is the baseline in the same run.
// Metrics: searchusers/op (Connect SearchUsers calls) and sfqueries/op (Salesforce query pages).
func BenchmarkSessionPollPresenceFirstSight(b *testing.B) {
	const users = 1000
	o := newBenchOrg(b, users)
	for _, rows := range []int{0, 5, 20} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			o.tb = b
			var search, queries int
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				dropTable(b, o.store.Table())
				o.newTable() // a new table and engine: no link cached
				now := o.clock.Now().Add(5 * time.Minute)
				o.clock.Set(now)
				for _, n := range o.in[:rows] {
					o.setPresence(n, "Available", now.Add(-30*time.Second))
				}
				o.resetCounters()
				o.cn.ResetRequests()
				b.StartTimer()
				rep := o.poll()
				b.StopTimer()
				if rep.PresenceEvents != rows {
					b.Fatalf("report %+v: want %d presence events", rep, rows)
				}
				search += o.cn.Calls("SearchUsers")
				queries += o.org.Calls(sfsim.KindQuery)
				b.StartTimer()
			}
			b.ReportMetric(float64(search)/float64(b.N), "searchusers/op")
			b.ReportMetric(float64(queries)/float64(b.N), "sfqueries/op")
		})
	}
}
