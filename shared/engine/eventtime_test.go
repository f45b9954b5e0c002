package engine_test

import (
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/engine/enginetest"
	"github.com/omnibridge/omnibridge/shared/eventtime"
	"github.com/omnibridge/omnibridge/shared/presence"
)

// TestSimulateBoundsEventTimes: POST /simulate decides with the same bound as the live paths,
// relative to its decision time, under the configured settings.maxClockSkewSeconds.
func TestSimulateBoundsEventTimes(t *testing.T) {
	h := enginetest.New(t, enginetest.Options{})
	u := enginetest.JDoe
	now := at(16, 0, 0)
	for _, tc := range []struct {
		name string
		t    time.Time
		skew int // settings.maxClockSkewSeconds; 0 keeps the document's default
		want presence.Outcome
	}{
		{"far future", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), 0, presence.OutcomeInvalid},
		{"just inside the skew", now.Add(eventtime.DefaultMaxSkew), 0, presence.OutcomeApplied},
		{"just outside the skew", now.Add(eventtime.DefaultMaxSkew + time.Millisecond), 0, presence.OutcomeInvalid},
		{"far past", time.Date(1971, 1, 1, 0, 0, 0, 0, time.UTC), 0, presence.OutcomeApplied},
		{"outside a configured 60s", now.Add(61 * time.Second), 60, presence.OutcomeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skew > 0 {
				doc := enginetest.Document()
				doc.Settings.MaxClockSkewSeconds = tc.skew
				cur, err := h.Table.GetConfig(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := h.Table.PutConfig(ctx, doc, cur.Version, "test"); err != nil {
					t.Fatal(err)
				}
			}
			sim, err := h.Engine.Simulate(ctx, engine.SimulateInput{Event: connectEv("sim", tc.t, "Lunch"), ConnectUserID: u.ConnectID,
				State: &presence.AgentState{ConnectUserID: u.ConnectID, SalesforceUserID: u.SalesforceID}, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if sim.Decision.Audit.Outcome != tc.want {
				t.Errorf("outcome %s, want %s: %s", sim.Decision.Audit.Outcome, tc.want, sim.Decision.Audit.Explanation)
			}
		})
	}
}

// TestStoredConfigWithoutSkewSetting: a document stored before settings.maxClockSkewSeconds
// existed still compiles, with the default bound.
func TestStoredConfigWithoutSkewSetting(t *testing.T) {
	h := enginetest.New(t, enginetest.Options{})
	doc := enginetest.Document()
	doc.Settings.MaxClockSkewSeconds = 0 // absent from the stored JSON
	if _, err := h.Table.PutConfig(ctx, doc, 1, "before the setting"); err != nil {
		t.Fatal(err)
	}
	c, err := h.Configs.Current(ctx)
	if err != nil {
		t.Fatalf("Current: %v", err)
	}
	if c.Version != 2 || c.Settings.MaxClockSkewSeconds != 300 || c.Bound(at(16, 0, 0)).Latest() != at(16, 5, 0) {
		t.Errorf("compiled version %d with skew %d", c.Version, c.Settings.MaxClockSkewSeconds)
	}
}
