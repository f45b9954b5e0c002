package connect_test

import (
	"context"
	"flag"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/connect"
	"github.com/omnibridge/omnibridge/shared/connect/connectsim"
)

// timeScale speeds the benchmark's clock up: the limiter runs at 2×timeScale req/s and the
// reported "s@2rps" metric multiplies wall time back. Both variants are equally scaled, so the
// comparison holds; -connect.timescale=1 runs at a true 2 req/s (the direct variant then takes
// about 100 s).
var timeScale = flag.Float64("connect.timescale", 5, "speed-up factor for BenchmarkStatusChanges200Agents20")

const (
	benchAgents  = 20
	benchChanges = 200
)

var benchStatuses = []string{"Available", "Lunch", "Break", "Meeting", "Training"}

// benchChange is the i-th status change: round-robin over the agents, and never the status the
// agent's previous change asked for.
func benchChange(i int) (userID, status, key string) {
	agent := i % benchAgents
	return fmt.Sprintf("agent-%03d", agent), benchStatuses[(i/benchAgents+agent)%len(benchStatuses)], fmt.Sprintf("evt-%03d", i)
}

// BenchmarkStatusChanges200Agents20 measures the Connect calls and wall time needed to apply a
// burst of 200 status changes across 20 agents under a 2 req/s quota, through the real SDK
// client and connectsim:
//
//   - direct: one sender per agent applies that agent's changes in order with SetStatus, the
//     baseline a naive consumer would build;
//   - coalesced: every change goes through SubmitStatus; only the newest waiting change of each
//     agent is sent.
//
// Both variants must leave every agent in its newest status. Run with:
//
//	go test -run='^$' -bench=StatusChanges200Agents20 -benchtime=1x ./shared/connect
func BenchmarkStatusChanges200Agents20(b *testing.B) {
	for _, variant := range []string{"direct", "coalesced"} {
		b.Run(variant, func(b *testing.B) {
			var calls int
			var wall time.Duration
			for range b.N {
				b.StopTimer()
				r := newRig(b, seed(benchAgents), connectsim.Options{}, connect.Options{RequestsPerSecond: 2 * *timeScale, Burst: 5})
				ctx := context.Background()
				for a := range benchAgents {
					if err := r.sim.Login(fmt.Sprintf("agent-%03d", a), "Offline"); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := r.client.AgentStatuses(ctx); err != nil { // warm the name cache
					b.Fatal(err)
				}
				time.Sleep(time.Duration(float64(5*time.Second) / (2 * *timeScale))) // refill the burst
				r.sim.ResetRequests()

				b.StartTimer()
				start := time.Now()
				if variant == "direct" {
					runDirect(b, r.client)
				} else {
					runCoalesced(b, r.client)
				}
				wall += time.Since(start)
				b.StopTimer()

				calls += r.sim.Calls("PutUserStatus")
				for i := benchChanges - benchAgents; i < benchChanges; i++ {
					user, want, _ := benchChange(i)
					if got, _ := r.status(b, user); got != want {
						b.Fatalf("%s ends in %q, want its newest status %q", user, got, want)
					}
				}
			}
			n := float64(b.N)
			b.ReportMetric(float64(calls)/n, "calls/op")
			b.ReportMetric(wall.Seconds()/n, "wall-s/op")
			b.ReportMetric(wall.Seconds()**timeScale/n, "s@2rps/op")
		})
	}
}

func runDirect(b *testing.B, c *connect.Client) {
	var wg sync.WaitGroup
	for a := range benchAgents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := a; i < benchChanges; i += benchAgents {
				user, status, _ := benchChange(i)
				if _, err := c.SetStatus(context.Background(), user, status); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func runCoalesced(b *testing.B, c *connect.Client) {
	outs := make([]<-chan connect.StatusOutcome, 0, benchChanges)
	for i := range benchChanges {
		user, status, key := benchChange(i)
		ch, err := c.SubmitStatus(context.Background(), user, status, key)
		if err != nil {
			b.Fatal(err)
		}
		outs = append(outs, ch)
	}
	for _, ch := range outs {
		if o := <-ch; o.Err != nil {
			b.Error(o.Err)
		}
	}
}
