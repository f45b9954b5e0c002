package sfevents

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// examplesDir holds the bodies the Salesforce package's builders produce (the console's
// JavaScript for presence-*, the Apex session builders for session-*), pinned there by jest and
// by the Apex tests.
const examplesDir = "../../infra/salesforce/contracts/examples"

// exampleDecoders maps each example file name prefix to the decoder its body goes to.
var exampleDecoders = map[string]func([]byte) error{
	"presence-": func(b []byte) error { _, err := Decode(b); return err },
	"session-":  func(b []byte) error { _, err := DecodeSession(b); return err },
}

// TestContractExamplesDecode decodes every contract example with the decoder of its contract, so
// a body the Salesforce package builds is one the bridge accepts. A file whose name matches no
// contract fails, rather than going unchecked.
func TestContractExamplesDecode(t *testing.T) {
	entries, err := os.ReadDir(examplesDir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			if filepath.Ext(e.Name()) != ".json" {
				t.Fatalf("%s is not a .json contract example", e.Name())
			}
			var decode func([]byte) error
			for prefix, d := range exampleDecoders {
				if strings.HasPrefix(e.Name(), prefix) {
					decode = d
				}
			}
			if decode == nil {
				t.Fatalf("%s matches no contract: name examples presence-*.json or session-*.json", e.Name())
			}
			body, err := os.ReadFile(filepath.Join(examplesDir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := decode(body); err != nil {
				t.Errorf("the bridge rejects %s: %v", e.Name(), err)
			}
		})
	}
	if n == 0 {
		t.Fatalf("no contract examples in %s", examplesDir)
	}
}
