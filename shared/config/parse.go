package config

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/strictjson"
)

// Parse decodes and structurally validates a document. On failure it returns an apperr.Invalid
// error whose Problems list every problem found, each with its JSON path; it never stops at the
// first one. Duplicate keys and invalid UTF-8 are problems, not silently resolved. Settings left
// out are filled with Defaults; a setting given as 0 stays 0 and fails its range check.
func Parse(data []byte) (Document, error) {
	var doc Document
	tree, problems, err := strictjson.Tree(data)
	if err != nil {
		if len(bytes.TrimSpace(data)) == 0 {
			return doc, apperr.Invalidf([]apperr.Problem{{Path: "$", Message: "document is empty"}}, "document is not valid JSON")
		}
		return doc, apperr.Invalidf(apperr.ProblemsOf(err), "document is not valid JSON")
	}
	// Shape prunes every mistyped value from the tree, so decoding the pruned tree fills
	// every well-typed field. Decoding the raw bytes instead would stop at the first error a
	// json.Unmarshaler returns (a Literal given an object), leaving later fields zero and
	// producing spurious problems below. Validate's findings at, under or above a path already
	// reported as mistyped, unknown or duplicated are dropped as noise.
	src := data
	if !strictjson.Shape(tree, reflect.TypeOf(doc), "$", &problems) {
		tree = nil
	}
	if len(problems) > 0 {
		var err error
		if src, err = json.Marshal(tree); err != nil {
			return doc, apperr.Wrap(apperr.Internal, err, "re-encode document")
		}
	}
	// Decoding over the defaults fills only the settings the document leaves out, so an
	// explicit 0 is seen (and rejected) rather than replaced.
	doc.Settings = Defaults()
	if err := json.Unmarshal(src, &doc); err != nil && len(problems) == 0 {
		problems = append(problems, apperr.Problem{Path: "$", Message: err.Error()})
	}
	shape := len(problems)
	for _, p := range Validate(doc) {
		if !relatedToAny(p.Path, problems[:shape]) {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return doc, apperr.Invalidf(problems, "document has %d problem(s)", len(problems))
	}
	return doc, nil
}

// relatedToAny reports whether path is, lies under, or lies above the path of one of the
// problems. A finding under a mistyped value is noise, and so is one about its parent: a
// criterion whose mistyped value was dropped would otherwise also be reported as having neither
// operand nor value.
func relatedToAny(path string, problems []apperr.Problem) bool {
	for _, p := range problems {
		if within(path, p.Path) || within(p.Path, path) {
			return true
		}
	}
	return false
}

// within reports whether path equals or lies under parent.
func within(path, parent string) bool {
	return path == parent || strings.HasPrefix(path, parent+".") || strings.HasPrefix(path, parent+"[")
}
