package calllog_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/calllog"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/contactevent"
	"github.com/omnibridge/omnibridge/shared/eventtime"
)

// bound is far enough after the samples (2024) for every event to be within it.
var bound = eventtime.New(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC), 0)

func load(t *testing.T, name string) contactevent.Event {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "contact-events", name))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := contactevent.Decode(b)
	if err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return ev
}

// lifecycle is one inbound call's events, from events/contact-events.
var lifecycle = []string{
	"voice-inbound-initiated.json",
	"voice-inbound-queued.json",
	"voice-inbound-connected-to-agent.json",
	"voice-inbound-disconnected.json",
	"voice-inbound-completed-after-acw.json",
}

func at(s string) *time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func secs(n int) *int { return &n }

func TestStepTransitions(t *testing.T) {
	queued := calllog.StepRecord{Step: calllog.StepQueued, StartedAt: at("2024-03-11T15:00:04.500Z")}
	queuedDone := queued
	queuedDone.EndedAt, queuedDone.Seconds = at("2024-03-11T15:00:31.250Z"), secs(26)
	connected := calllog.StepRecord{Step: calllog.StepConnected, StartedAt: at("2024-03-11T15:00:31.250Z"), Agent: true}
	connectedDone := connected
	connectedDone.EndedAt, connectedDone.Seconds = at("2024-03-11T15:04:10Z"), secs(218)
	hold := calllog.StepRecord{Step: calllog.StepHold, Seconds: secs(35), Agent: true}
	acw := calllog.StepRecord{Step: calllog.StepACW, StartedAt: at("2024-03-11T15:04:10Z"), EndedAt: at("2024-03-11T15:05:02.400Z"), Seconds: secs(52), Agent: true}
	completed := calllog.StepRecord{Step: calllog.StepCompleted, StartedAt: at("2024-03-11T15:00:00.120Z"), EndedAt: at("2024-03-11T15:05:02.400Z"), Seconds: secs(302)}
	tests := []struct {
		name  string
		files []string
		phase calllog.Phase
		want  []calllog.StepRecord
	}{
		{"initiated: no step yet", lifecycle[:1], calllog.PhaseWaiting, nil},
		{"queued: open Queued step", lifecycle[:2], calllog.PhaseWaiting, []calllog.StepRecord{queued}},
		{"connected: Queued ends, Connected opens", lifecycle[:3], calllog.PhaseConnected, []calllog.StepRecord{queuedDone, connected}},
		{"disconnected: Connected ends, hold total reported", lifecycle[:4], calllog.PhaseConnected, []calllog.StepRecord{queuedDone, connectedDone, hold}},
		{"completed after ACW: every step", lifecycle, calllog.PhaseCompleted, []calllog.StepRecord{queuedDone, connectedDone, hold, acw, completed}},
		{"completed alone carries the whole history", lifecycle[4:], calllog.PhaseCompleted, []calllog.StepRecord{queuedDone, connectedDone, hold, acw, completed}},
		{"unanswered task: Queued ends at the disconnect", []string{"task-disconnected-unanswered.json"}, calllog.PhaseWaiting,
			[]calllog.StepRecord{{Step: calllog.StepQueued, StartedAt: at("2024-03-12T10:00:01.020Z"), EndedAt: at("2024-03-12T10:30:00Z"), Seconds: secs(1798)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s calllog.State
			for _, f := range tc.files {
				s.Apply(load(t, f), bound)
			}
			if got := s.Phase(); got != tc.phase {
				t.Errorf("phase = %s, want %s", got, tc.phase)
			}
			got := s.StepRecords()
			if len(got) != len(tc.want) {
				t.Fatalf("steps =\n%s\nwant\n%s", js(got), js(tc.want))
			}
			for i := range got {
				if !got[i].Equal(tc.want[i]) {
					t.Errorf("step %d =\n%s\nwant\n%s", i, js(got[i]), js(tc.want[i]))
				}
			}
		})
	}
	t.Run("abandoned voice call: Queued ends at the disconnect", func(t *testing.T) {
		q := load(t, "voice-inbound-queued.json")
		d := q
		d.ID = "abandoned-disconnect"
		d.Detail.EventType = contactevent.Disconnected
		d.Detail.DisconnectTimestamp = at("2024-03-11T15:01:04.500Z")
		var s calllog.State
		s.Apply(q, bound)
		s.Apply(d, bound)
		got := s.StepRecords()
		if len(got) != 1 || got[0].Step != calllog.StepQueued || got[0].Seconds == nil || *got[0].Seconds != 60 {
			t.Fatalf("steps = %s, want one Queued step of 60 s", js(got))
		}
		if s.TalkSeconds() != 64 || s.CallType() != "Inbound" {
			t.Fatalf("talk = %d, type %s; want 64 s from initiation, Inbound", s.TalkSeconds(), s.CallType())
		}
	})
	t.Run("task figures of the completed call", func(t *testing.T) {
		var s calllog.State
		for _, f := range lifecycle {
			s.Apply(load(t, f), bound)
		}
		s.Sync.WhoID, s.Sync.WhoType = "003xx000004TmiQAAS", "Contact"
		f := s.TaskFields("500xx000001AbCdAAK")
		want := map[string]any{"CallDurationInSeconds": 218, "CallType": "Inbound", "CallObject": "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b",
			"TaskSubtype": "Call", "WhoId": "003xx000004TmiQAAS", "WhatId": "500xx000001AbCdAAK", "Status": "Completed"}
		for k, v := range want {
			if f[k] != v {
				t.Errorf("%s = %v, want %v", k, f[k], v)
			}
		}
		s.Sync.WhoType = "Lead"
		if _, ok := s.TaskFields("500xx000001AbCdAAK")["WhatId"]; ok {
			t.Error("a Task on a Lead carries a WhatId; Salesforce refuses that")
		}
	})
}

// TestEveryPermutation delivers one call's five events in all 120 orders, each event also
// delivered a second time somewhere later: the state, the steps and the durations are the same
// every time.
func TestEveryPermutation(t *testing.T) {
	evs := make([]contactevent.Event, len(lifecycle))
	for i, f := range lifecycle {
		evs[i] = load(t, f)
	}
	var ref calllog.State
	for _, e := range evs {
		ref.Apply(e, bound)
	}
	want := ref.StepRecords()
	n := 0
	permute(len(evs), func(order []int) {
		n++
		var s calllog.State
		for i, idx := range order {
			s.Apply(evs[idx], bound)
			// Redeliver an earlier event after each one.
			s.Apply(evs[order[i/2]], bound)
		}
		if !reflect.DeepEqual(s, ref) {
			t.Fatalf("order %v: state differs:\n%s\nwant\n%s", order, js(s), js(ref))
		}
		got := s.StepRecords()
		for i := range want {
			if !got[i].Equal(want[i]) {
				t.Fatalf("order %v: step %d = %s, want %s", order, i, js(got[i]), js(want[i]))
			}
		}
	})
	if n != 120 {
		t.Fatalf("%d permutations, want 120", n)
	}
}

func TestApplyIgnoresOtherContactsAndFutureEvents(t *testing.T) {
	var s calllog.State
	s.Apply(load(t, "voice-inbound-queued.json"), bound)
	other := load(t, "voice-transfer-initiated.json")
	if s.Apply(other, bound) {
		t.Fatal("an event of another contact changed the state")
	}
	future := load(t, "voice-inbound-connected-to-agent.json")
	past := eventtime.New(time.Date(2024, 3, 11, 15, 0, 10, 0, time.UTC), time.Second)
	if s.Apply(future, past) || s.ConnectedAt.Set() {
		t.Fatal("an event beyond the clock bound was merged")
	}
	t.Run("a newer event overrides a value, an older one does not", func(t *testing.T) {
		a := load(t, "voice-inbound-disconnected.json")
		b := a
		b.Detail.Agent = &contactevent.AgentInfo{ARN: a.Detail.Agent.ARN, AgentInitiatedHoldDuration: secs(40)}
		b.Detail.DisconnectTimestamp = at("2024-03-11T15:04:11Z")
		var x, y calllog.State
		x.Apply(a, bound)
		x.Apply(b, bound)
		y.Apply(b, bound)
		y.Apply(a, bound)
		if !reflect.DeepEqual(x, y) || x.HoldSeconds.V != 40 {
			t.Fatalf("merge depends on order or kept the older value: %s vs %s", js(x.HoldSeconds), js(y.HoldSeconds))
		}
	})
}

func TestTransferChain(t *testing.T) {
	var s calllog.State
	s.Apply(load(t, "voice-transfer-initiated.json"), bound)
	if got := s.ChainParent(); got != "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b" {
		t.Fatalf("ChainParent = %q, want the previous contact", got)
	}
	var first calllog.State
	first.Apply(load(t, "voice-inbound-initiated.json"), bound)
	if got := first.ChainParent(); got != "" {
		t.Fatalf("first contact's ChainParent = %q, want none", got)
	}
	ref := load(t, "reference-outbound-disconnected-mixed-case.json")
	var r calllog.State
	r.Apply(ref, bound)
	if got := r.ChainParent(); got != "11111111-2222-3333-4444-555555555555" || r.CallType() != "Outbound" {
		t.Fatalf("reference sample: parent %q, type %s", got, r.CallType())
	}
}

func TestDecide(t *testing.T) {
	old, recent := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	c1 := calllog.Candidate{ID: "003xx0000000001AAA", Type: "Contact", LastModified: old}
	c2 := calllog.Candidate{ID: "003xx0000000002AAA", Type: "Contact", LastModified: recent}
	lead := calllog.Candidate{ID: "00Qxx0000000001AAA", Type: "Lead", LastModified: recent.Add(time.Hour)}
	cfg := func(onNoMatch, tie string) config.CallLogging {
		return config.CallLogging{Enabled: true, OnNoMatch: onNoMatch, TieBreak: tie}
	}
	tests := []struct {
		name      string
		found     []calllog.Candidate
		cfg       config.CallLogging
		outcome   string
		chosen    string
		ambiguous bool
	}{
		{"one contact", []calllog.Candidate{c1}, cfg("", ""), calllog.MatchFound, c1.ID, false},
		{"none: create contact by default", nil, cfg("", ""), calllog.MatchCreateContact, "", false},
		{"none: create lead", nil, cfg(config.OnNoMatchCreateLead, ""), calllog.MatchCreateLead, "", false},
		{"none: nothing", nil, cfg(config.OnNoMatchNone, ""), calllog.MatchNone, "", false},
		{"several: most recently modified", []calllog.Candidate{c1, c2}, cfg("", config.TieBreakMostRecentlyModified), calllog.MatchFound, c2.ID, true},
		{"several: tie-break none", []calllog.Candidate{c2, c1}, cfg("", config.TieBreakNone), calllog.MatchNone, "", true},
		{"contact preferred over a newer lead", []calllog.Candidate{lead, c1}, cfg(config.OnNoMatchCreateLead, ""), calllog.MatchFound, c1.ID, false},
		{"a lead alone", []calllog.Candidate{lead}, cfg(config.OnNoMatchCreateLead, ""), calllog.MatchFound, lead.ID, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := calllog.Decide(tc.found, tc.cfg)
			chosen := ""
			if m.Chosen != nil {
				chosen = m.Chosen.ID
			}
			if m.Outcome != tc.outcome || chosen != tc.chosen || m.Ambiguous != tc.ambiguous || m.Reason == "" {
				t.Fatalf("Decide = %s, want outcome %s chosen %q ambiguous %v", js(m), tc.outcome, tc.chosen, tc.ambiguous)
			}
		})
	}
}

func TestNextPlan(t *testing.T) {
	cfg := config.CallLogging{Enabled: true}
	apply := func(files ...string) calllog.State {
		var s calllog.State
		for _, f := range files {
			s.Apply(load(t, f), bound)
		}
		return s
	}
	t.Run("waiting writes nothing", func(t *testing.T) {
		if p := apply(lifecycle[:2]...).Next(cfg); !p.Empty() {
			t.Fatalf("plan = %+v", p)
		}
	})
	t.Run("connected: case, known steps and pop", func(t *testing.T) {
		p := apply(lifecycle[:3]...).Next(cfg)
		if !p.NeedCase || len(p.Steps) != 2 || !p.Pop || p.Task {
			t.Fatalf("plan = %s", js(p))
		}
	})
	t.Run("disconnect after the case: nothing until completion", func(t *testing.T) {
		s := apply(lifecycle[:3]...)
		p := s.Next(cfg)
		s.Sync.CaseID, s.Sync.PopID = "500xx000001AbCdAAK", calllog.PopID(s.ContactID)
		s.Written(p.Steps)
		s.Apply(load(t, lifecycle[3]), bound)
		if p := s.Next(cfg); !p.Empty() {
			t.Fatalf("plan = %s", js(p))
		}
		s.Apply(load(t, lifecycle[4]), bound)
		p = s.Next(cfg)
		if p.NeedCase || len(p.Steps) != 4 || !p.Task || p.Pop {
			t.Fatalf("completion plan = %s, want the 4 changed steps and the task", js(p))
		}
		s.Written(p.Steps)
		s.Sync.TaskDone = true
		if p := s.Next(cfg); !p.Empty() {
			t.Fatalf("after completion plan = %s", js(p))
		}
	})
	t.Run("completed first: everything at once, no pop", func(t *testing.T) {
		p := apply(lifecycle[4]).Next(cfg)
		if !p.NeedCase || len(p.Steps) != 5 || !p.Task || p.Pop || p.SkipPop == "" {
			t.Fatalf("plan = %s", js(p))
		}
	})
	t.Run("first heard of after the disconnect: the case and steps, no pop", func(t *testing.T) {
		p := apply(lifecycle[3]).Next(cfg)
		if !p.NeedCase || p.Pop || p.SkipPop != "the call had ended before its Case was popped" {
			t.Fatalf("plan = %s", js(p))
		}
	})
	t.Run("no task when disabled", func(t *testing.T) {
		no := false
		if p := apply(lifecycle...).Next(config.CallLogging{Enabled: true, CreateTask: &no}); p.Task {
			t.Fatal("plan has a task")
		}
	})
}

func permute(n int, f func([]int)) {
	a := make([]int, n)
	for i := range a {
		a[i] = i
	}
	var rec func(k int)
	rec = func(k int) {
		if k == n {
			f(append([]int(nil), a...))
			return
		}
		for i := k; i < n; i++ {
			a[k], a[i] = a[i], a[k]
			rec(k + 1)
			a[k], a[i] = a[i], a[k]
		}
	}
	rec(0)
}

func js(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}
