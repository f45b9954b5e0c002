package contactevent_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/contactevent"
)

// FuzzDecode checks that no input makes Decode panic, that every failure is an Invalid error
// with at least one problem, and that a decoded event survives Encode/Decode unchanged after
// its first normalisation (so the simulator's events and the decoder agree).
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(samplesDir, "*.json"))
	for _, name := range files {
		var compact bytes.Buffer
		if err := json.Compact(&compact, read(f, name)); err != nil {
			f.Fatal(err)
		}
		f.Add(compact.Bytes())
	}
	f.Add([]byte(`{"version":"0","id":"e","detail-type":"Amazon Connect Contact Event","source":"aws.connect","account":"123456789012","time":"2024-01-01T00:00:00Z","region":"r","detail":{"eventType":"QUEUED","contactId":"c","channel":"chat","instanceArn":"arn:aws:connect:r:1:instance/i","RoutingCriteria":[{"Steps":[{"Expression":{"OrExpression":[{"NotAttributeCondition":{"Range":{}}}]}}]}]}}`))
	f.Add([]byte(`{"detail":{"AgentInfo":{"hierarchyGroups":{"level9":{}}},"agentinfo":null}}`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := contactevent.Decode(data)
		if err != nil {
			if !apperr.Is(err, apperr.Invalid) || len(apperr.ProblemsOf(err)) == 0 {
				t.Fatalf("error without code/problems: %v", err)
			}
			return
		}
		first, err := contactevent.Encode(ev)
		if err != nil {
			t.Fatalf("Encode of a decoded event failed: %v", err)
		}
		again, err := contactevent.Decode(first)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", first, err)
		}
		second, err := contactevent.Encode(again)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("encoding not stable\nfirst:  %s\nsecond: %s", first, second)
		}
	})
}
