package agentevent_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/apperr"
)

// FuzzDecode checks that no input makes Decode panic, that every failure is an Invalid error
// with at least one problem, and that a decoded event survives Encode/Decode unchanged after
// its first normalisation (so the simulator's records and the decoder agree).
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		// Compact seeds: the fuzzer minimises every new interesting input, and that costs time
		// in proportion to its length; indentation adds nothing to explore.
		var compact bytes.Buffer
		if err := json.Compact(&compact, b); err != nil {
			f.Fatal(err)
		}
		f.Add(compact.Bytes())
	}
	f.Add([]byte(`{"EventType":"LOGIN","EventId":"e","EventTimestamp":"2024-01-01T00:00:00Z","AgentARN":"arn:aws:connect:r:1:instance/i/agent/a"}`))
	f.Add([]byte(`{"EventType":"STATE_CHANGE","CurrentAgentSnapshot":{"Contacts":[{"QueueTimestamp":"0000-01-01T00:00:00+01:00"}]}}`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := agentevent.Decode(data)
		if err != nil {
			if !apperr.Is(err, apperr.Invalid) || len(apperr.ProblemsOf(err)) == 0 {
				t.Fatalf("error without code/problems: %v", err)
			}
			return
		}
		first, err := agentevent.Encode(ev)
		if err != nil {
			t.Fatalf("Encode of a decoded event failed: %v", err)
		}
		again, err := agentevent.Decode(first)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", first, err)
		}
		second, err := agentevent.Encode(again)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("encoding not stable\nfirst:  %s\nsecond: %s", first, second)
		}
	})
}
