package salesforce_test

import (
	"testing"

	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
)

// BenchmarkPublishPresenceCommands publishes 1,000 presence-command platform events per op against
// the simulator over real HTTP: batched through sObject Collections (200 per call) versus the
// baseline of one POST /sobjects/<event>/ per command. sf-calls/op is the Salesforce API calls spent.
func BenchmarkPublishPresenceCommands(b *testing.B) {
	e := newEnv(b, sfsim.Config{APILimit: 1 << 30})
	if err := e.org.DefineObject(presenceEvent, presenceFields()...); err != nil {
		b.Fatal(err)
	}
	c := e.client(b)
	if err := ping(b.Context(), c); err != nil { // token outside the measurement
		b.Fatal(err)
	}
	cmds := presenceCommands(1000)

	run := func(b *testing.B, kind sfsim.Kind, publish func() error) {
		calls := 0
		for b.Loop() {
			if err := publish(); err != nil {
				b.Fatal(err)
			}
			calls += e.org.Calls(kind)
			if got := len(e.org.Events()); got != len(cmds) {
				b.Fatalf("%d events published, want %d", got, len(cmds))
			}
			e.org.Reset() // keeps the request log from growing across iterations
			e.org.ClearEvents()
		}
		b.ReportMetric(float64(calls)/float64(b.N), "sf-calls/op")
	}
	b.Run("batched", func(b *testing.B) {
		run(b, sfsim.KindCollections, func() error {
			res, err := c.PublishEvents(b.Context(), presenceEvent, cmds)
			for _, r := range res {
				if !r.Success {
					b.Fatalf("publish failed: %+v", r)
				}
			}
			return err
		})
	})
	b.Run("one-per-call", func(b *testing.B) {
		run(b, sfsim.KindSObject, func() error {
			for _, cmd := range cmds {
				if _, err := c.Create(b.Context(), presenceEvent, cmd); err != nil {
					return err
				}
			}
			return nil
		})
	})
}
