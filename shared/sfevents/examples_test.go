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

// exampleContract is one contract's examples: the decoder their bodies go to (returning the
// event types decoded) and the types the examples must cover between them.
type exampleContract struct {
	decode func([]byte) ([]string, error)
	types  []string
}

// exampleDecoders maps each example file name prefix to its contract.
var exampleDecoders = map[string]exampleContract{
	"presence-": {
		decode: func(b []byte) ([]string, error) {
			batch, err := Decode(b)
			var got []string
			for _, e := range batch.Events {
				got = append(got, string(e.Type))
			}
			return got, err
		},
		types: typeNames(Types()),
	},
	"session-": {
		decode: func(b []byte) ([]string, error) {
			batch, err := DecodeSession(b)
			var got []string
			for _, e := range batch.Input {
				got = append(got, string(e.Type))
			}
			return got, err
		},
		types: typeNames(SessionTypes()),
	},
	"case-": {
		decode: func(b []byte) ([]string, error) {
			batch, err := DecodeCases(b)
			var got []string
			for _, e := range batch.Input {
				got = append(got, string(e.Type))
			}
			return got, err
		},
		types: typeNames(CaseTypes()),
	},
}

func typeNames[T ~string](ts []T) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return out
}

// TestContractExamplesDecode decodes every contract example with the decoder of its contract, so
// a body the Salesforce package builds is one the bridge accepts. A file whose name matches no
// contract fails, rather than going unchecked, and so does a contract whose examples leave out
// one of its event types.
func TestContractExamplesDecode(t *testing.T) {
	entries, err := os.ReadDir(examplesDir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]map[string]bool{}
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
			var decode func([]byte) ([]string, error)
			var contract string
			for prefix, c := range exampleDecoders {
				if strings.HasPrefix(e.Name(), prefix) {
					decode, contract = c.decode, prefix
				}
			}
			if decode == nil {
				t.Fatalf("%s matches no contract: name examples presence-*.json, session-*.json or case-*.json", e.Name())
			}
			body, err := os.ReadFile(filepath.Join(examplesDir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			types, err := decode(body)
			if err != nil {
				t.Errorf("the bridge rejects %s: %v", e.Name(), err)
			}
			if seen[contract] == nil {
				seen[contract] = map[string]bool{}
			}
			for _, typ := range types {
				seen[contract][typ] = true
			}
		})
	}
	if n == 0 {
		t.Fatalf("no contract examples in %s", examplesDir)
	}
	for prefix, c := range exampleDecoders {
		for _, typ := range c.types {
			if !seen[prefix][typ] {
				t.Errorf("no %s*.json example has a %q event", prefix, typ)
			}
		}
	}
}
