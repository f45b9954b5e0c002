package calllogsync_test

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/calllog"
	"github.com/omnibridge/omnibridge/shared/calllogsync"
	"github.com/omnibridge/omnibridge/shared/connect/connectsim"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamotest"
	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
)

// simCall is one simulated call: its contact, caller and events.
type simCall struct {
	id, number string
	known      bool
	events     [][]byte
}

// placeCalls runs n calls through connectsim, one agent answering each in turn; every other
// caller is a Contact already in the org (its Phone stored formatted).
func placeCalls(tb testing.TB, r *rig, n int) []simCall {
	tb.Helper()
	calls := make([]simCall, n)
	for i := range calls {
		c := &calls[i]
		c.number = fmt.Sprintf("+1415%07d", 1000000+i)
		c.known = i%2 == 0
		if c.known {
			d := c.number[2:]
			if _, err := r.org.Insert("Contact", map[string]any{"LastName": fmt.Sprintf("Caller %d", i), "Phone": "(" + d[:3] + ") " + d[3:6] + "-" + d[6:]}); err != nil {
				tb.Fatal(err)
			}
		}
		c.id, c.events = r.call(c.number, 0, time.Duration(5+i%30)*time.Second, time.Duration(60+i%240)*time.Second, time.Duration(i%45)*time.Second)
	}
	return calls
}

// deliverAll delivers every call's events in a random order per call, calls in parallel, each
// event redelivered until it succeeds, as Lambda retries an asynchronous invocation.
func deliverAll(tb testing.TB, r *rig, calls []simCall, workers int, seed uint64) (deliveries, retries int64) {
	tb.Helper()
	var wg sync.WaitGroup
	next := atomic.Int64{}
	var nDeliveries, nRetries atomic.Int64
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for {
				i := int(next.Add(1)) - 1
				if i >= len(calls) {
					return
				}
				evs := append([][]byte(nil), calls[i].events...)
				rng.Shuffle(len(evs), func(a, b int) { evs[a], evs[b] = evs[b], evs[a] })
				for _, raw := range evs {
					ok := false
					for range 40 {
						nDeliveries.Add(1)
						if _, err := r.disp.Dispatch(r.ctx, raw); err == nil {
							ok = true
							break
						}
						nRetries.Add(1)
					}
					if !ok {
						errs <- fmt.Errorf("call %s: an event kept failing", calls[i].id)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
	return nDeliveries.Load(), nRetries.Load()
}

// TestFaults1000Calls: with 20% of requests failing at both vendors (Salesforce 503s, 500s and
// connection resets; Connect 500s on DescribeContact), 1,000 calls, their events shuffled and
// redelivered until processed, end with 1,000 Cases and complete logs, nothing twice.
func TestFaults1000Calls(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 calls: skipped with -short")
	}
	n := 1000
	if os.Getenv(dynamotest.EndpointEnv) != "" {
		// The second implementation (dynalite, `make dynalite`) is several times slower; 200
		// calls exercise the same conditional writes there.
		n = 200
	}
	r := newRig(t, rigOptions{cfg: enabled, sfAttempts: 1, cnAttempts: 1, sfFaultSeed: 42})
	calls := placeCalls(t, r, n)
	for _, f := range []sfsim.Fault{sfsim.FaultUnavailable, sfsim.FaultServerError, sfsim.FaultConnReset} {
		r.org.AddRule(sfsim.Rule{Probability: 0.072, Fault: f})
	}
	r.cn.AddFault(connectsim.Fault{Op: "DescribeContact", Kind: connectsim.FaultInternal, Probability: 0.2})
	r.org.Reset()
	start := time.Now()
	deliveries, retries := deliverAll(t, r, calls, 16, 1)
	t.Logf("%d calls: %d deliveries, %d failed and redelivered, %d Salesforce requests (%d API calls), %d DescribeContact, in %s",
		n, deliveries, retries, r.org.Calls(""), r.org.APIUsage(), r.cn.Calls("DescribeContact"), time.Since(start).Round(time.Millisecond))
	if retries == 0 {
		t.Fatal("no delivery failed: the faults were not injected")
	}
	r.org.ClearRules()
	r.cn.ClearFaults()

	if got := r.org.Count("Case"); got != n {
		t.Errorf("%d Cases, want %d", got, n)
	}
	if got := r.org.Count("Task"); got != n {
		t.Errorf("%d Tasks, want %d", got, n)
	}
	if got := r.org.Count(calllog.LogObject); got != 4*n {
		t.Errorf("%d step records, want %d", got, 4*n)
	}
	if got, want := r.org.Count("Contact"), n/2+n/2; got != want {
		t.Errorf("%d Contacts, want %d (%d seeded, one per unknown caller)", got, want, n/2)
	}
	// Every call: one Case on the right Contact, its four steps on that Case, one Task.
	byCase := map[string]int{}
	for _, c := range calls {
		cases := r.records("Case", "Description", "Amazon Connect contact "+c.id)
		if len(cases) != 1 {
			t.Fatalf("call %s: %d Cases", c.id, len(cases))
		}
		cs := cases[0]
		who, _ := cs["ContactId"].(string)
		_, contact, ok := r.org.Record(who)
		if !ok || digits(fmt.Sprint(contact["Phone"])) != digits(c.number)[1:] && contact["Phone"] != c.number {
			t.Fatalf("call %s from %s: Case Contact %v", c.id, c.number, contact)
		}
		logs := r.records(calllog.LogObject, "Connect_Contact_Id__c", c.id)
		steps := map[string]bool{}
		for _, l := range logs {
			if l["Case__c"] != cs["Id"] {
				t.Fatalf("call %s: step %v on another Case", c.id, l)
			}
			steps[fmt.Sprint(l["Step__c"])] = true
		}
		if len(logs) != 4 || len(steps) != 4 {
			page, _ := r.store.QueryAudit(r.ctx, audit.Query{Subject: audit.Subject(audit.KindContact, c.id), Limit: 100})
			for _, e := range page.Entries {
				t.Logf("audit %s %s: %s %v", e.Time.Format(time.RFC3339Nano), e.Outcome, e.Message, e.Details)
			}
			st, _ := r.store.GetCallLog(r.ctx, c.id)
			t.Logf("state %+v", st.State.Sync)
			t.Fatalf("call %s: %d steps", c.id, len(logs))
		}
		if tasks := r.records("Task", "CallObject", c.id); len(tasks) != 1 || tasks[0]["WhatId"] != cs["Id"] {
			t.Fatalf("call %s: tasks %v", c.id, tasks)
		}
		byCase[fmt.Sprint(cs["Id"])]++
	}
	if len(byCase) != n {
		t.Fatalf("%d distinct Cases for %d calls", len(byCase), n)
	}
}

func digits(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// lossySF forwards to Salesforce but loses the answer of the first composite request, as a
// timeout after Salesforce committed does.
type lossySF struct {
	calllogsync.Salesforce
	mu   sync.Mutex
	lose int
}

func (l *lossySF) Composite(ctx context.Context, allOrNone bool, subs []salesforce.Subrequest) ([]salesforce.SubResponse, error) {
	res, err := l.Salesforce.Composite(ctx, allOrNone, subs)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lose > 0 {
		l.lose--
		return nil, apperr.New(apperr.Unavailable, "lossySF: the answer was lost")
	}
	return res, err
}

func (l *lossySF) Search(ctx context.Context, sosl string) ([]salesforce.Record, error) {
	return l.Salesforce.Search(ctx, sosl)
}

func (l *lossySF) Query(ctx context.Context, soql string) iter.Seq2[salesforce.Record, error] {
	return l.Salesforce.Query(ctx, soql)
}

// TestLostAnswers: when Salesforce applied a composite request but its answer never arrived,
// the retry finds the Case and the Task it wrote instead of creating them again.
func TestLostAnswers(t *testing.T) {
	for _, lose := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d answers lost", lose), func(t *testing.T) {
			lossy := &lossySF{lose: lose}
			r := newRig(t, rigOptions{cfg: enabled, wrapSF: func(s calllogsync.Salesforce) calllogsync.Salesforce {
				lossy.Salesforce = s
				return lossy
			}})
			id, evs := r.call("+14155551212", 0, 10*time.Second, time.Minute, 5*time.Second)
			failures := r.deliver(5, evs...)
			if failures != lose {
				t.Fatalf("%d failed deliveries, want %d", failures, lose)
			}
			if c, tk, l := len(r.records("Case", "Description", "Amazon Connect contact "+id)), len(r.records("Task", "CallObject", id)),
				len(r.records(calllog.LogObject, "Connect_Contact_Id__c", id)); c != 1 || tk != 1 || l != 4 || r.org.Count("Contact") != 1 {
				t.Fatalf("%d cases, %d tasks, %d logs, %d contacts; want 1, 1, 4, 1", c, tk, l, r.org.Count("Contact"))
			}
			checkAudit(t, r, id, "had written the Case")
		})
	}
}
