package connectflow_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	connectflow "github.com/omnibridge/omnibridge/infra/connect"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/routing"
)

// queueARNPlaceholder is the one value the admin replaces before publishing the flow.
const queueARNPlaceholder = "arn:aws:connect:REGION:ACCOUNT:instance/INSTANCE_ID/queue/QUEUE_ID"

type flowDoc struct {
	Version     string          `json:"Version"`
	StartAction string          `json:"StartAction"`
	Metadata    json.RawMessage `json:"Metadata"`
	Actions     []action        `json:"Actions"`
}

type action struct {
	Identifier  string         `json:"Identifier"`
	Type        string         `json:"Type"`
	Parameters  map[string]any `json:"Parameters"`
	Transitions transitions    `json:"Transitions"`
}

type transitions struct {
	NextAction string       `json:"NextAction"`
	Conditions []condition  `json:"Conditions"`
	Errors     []errorRoute `json:"Errors"`
}

type condition struct {
	NextAction string `json:"NextAction"`
	Condition  struct {
		Operator string   `json:"Operator"`
		Operands []string `json:"Operands"`
	} `json:"Condition"`
}

type errorRoute struct {
	NextAction string `json:"NextAction"`
	ErrorType  string `json:"ErrorType"`
}

// documentedErrors is, per action type the flow may use, the exact set of error branches the
// Flow language reference lists for it; the flow must route every one of them (and no other).
var documentedErrors = map[string][]string{
	"UpdateFlowLoggingBehavior":    nil,
	"Compare":                      {"NoMatchingCondition"},
	"UpdateContactRoutingCriteria": {"NoMatchingError"},
	"UpdateContactRoutingBehavior": nil,
	"UpdateContactTargetQueue":     {"NoMatchingError"},
	"TransferContactToQueue":       {"NoMatchingError", "QueueAtCapacity"},
	"DisconnectParticipant":        nil,
}

// load decodes the embedded flow strictly: an unknown field (a misspelt "Transition") fails.
func load(t *testing.T) (flowDoc, map[string]action) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(connectflow.Flow))
	dec.DisallowUnknownFields()
	var f flowDoc
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("decode flow: %v", err)
	}
	if dec.More() {
		t.Fatal("trailing data after the flow document")
	}
	byID := make(map[string]action, len(f.Actions))
	for _, a := range f.Actions {
		if _, dup := byID[a.Identifier]; dup {
			t.Fatalf("duplicate action identifier %q", a.Identifier)
		}
		byID[a.Identifier] = a
	}
	return f, byID
}

// targets lists every action a transition of a can lead to, in declaration order.
func targets(a action) []string {
	var out []string
	if a.Transitions.NextAction != "" {
		out = append(out, a.Transitions.NextAction)
	}
	for _, c := range a.Transitions.Conditions {
		out = append(out, c.NextAction)
	}
	for _, e := range a.Transitions.Errors {
		out = append(out, e.NextAction)
	}
	return out
}

func TestFlowDocument(t *testing.T) {
	f, byID := load(t)
	forbidden := regexp.MustCompile(`[%:(\\/)=$,;\[\]{}]`)

	t.Run("version", func(t *testing.T) {
		if f.Version != "2019-10-30" {
			t.Errorf("Version = %q, want 2019-10-30", f.Version)
		}
	})
	t.Run("start action exists", func(t *testing.T) {
		if _, ok := byID[f.StartAction]; !ok {
			t.Errorf("StartAction %q names no action", f.StartAction)
		}
	})
	t.Run("identifiers are valid", func(t *testing.T) {
		for _, a := range f.Actions {
			if a.Identifier == "" || len(a.Identifier) > 50 || forbidden.MatchString(a.Identifier) {
				t.Errorf("identifier %q: must be 1 to 50 characters without %% : ( \\ / ) = $ , ; [ ] { }", a.Identifier)
			}
		}
	})
	t.Run("action types are known", func(t *testing.T) {
		for _, a := range f.Actions {
			if _, ok := documentedErrors[a.Type]; !ok {
				t.Errorf("action %q: type %q is not one this flow's test knows the errors of", a.Identifier, a.Type)
			}
		}
	})
	t.Run("every transition targets an existing action", func(t *testing.T) {
		for _, a := range f.Actions {
			for _, to := range targets(a) {
				if _, ok := byID[to]; !ok {
					t.Errorf("action %q transitions to %q, which does not exist", a.Identifier, to)
				}
			}
		}
	})
	t.Run("every action is reachable", func(t *testing.T) {
		seen := map[string]bool{f.StartAction: true}
		queue := []string{f.StartAction}
		for len(queue) > 0 {
			id := queue[0]
			queue = queue[1:]
			for _, to := range targets(byID[id]) {
				if !seen[to] {
					seen[to] = true
					queue = append(queue, to)
				}
			}
		}
		for _, a := range f.Actions {
			if !seen[a.Identifier] {
				t.Errorf("action %q is unreachable from %q", a.Identifier, f.StartAction)
			}
		}
	})
	t.Run("only disconnect is terminal", func(t *testing.T) {
		for _, a := range f.Actions {
			terminal := a.Type == "DisconnectParticipant"
			if terminal && len(targets(a)) > 0 {
				t.Errorf("action %q (%s) must have no transitions", a.Identifier, a.Type)
			}
			if !terminal && a.Transitions.NextAction == "" {
				t.Errorf("action %q (%s) has no NextAction", a.Identifier, a.Type)
			}
		}
	})
	t.Run("every documented error is routed", func(t *testing.T) {
		for _, a := range f.Actions {
			var got []string
			for _, e := range a.Transitions.Errors {
				got = append(got, e.ErrorType)
			}
			slices.Sort(got)
			if want := documentedErrors[a.Type]; !slices.Equal(got, want) {
				t.Errorf("action %q (%s) routes errors %v, want exactly %v", a.Identifier, a.Type, got, want)
			}
		}
	})
	t.Run("error branches end in disconnect", func(t *testing.T) {
		for _, a := range f.Actions {
			for _, e := range a.Transitions.Errors {
				if a.Type == "Compare" && e.ErrorType == "NoMatchingCondition" {
					// Check contact attributes' "No match" branch: the attribute is absent, so
					// the block is skipped. The console writes it as both NextAction and this error.
					if e.NextAction != a.Transitions.NextAction {
						t.Errorf("action %q: NoMatchingCondition goes to %q, NextAction to %q; want the same", a.Identifier, e.NextAction, a.Transitions.NextAction)
					}
					continue
				}
				if to := byID[e.NextAction]; to.Type != "DisconnectParticipant" {
					t.Errorf("action %q: error %s goes to %q (%s), want a DisconnectParticipant", a.Identifier, e.ErrorType, e.NextAction, to.Type)
				}
			}
		}
	})
	t.Run("parameter scalars are strings", func(t *testing.T) {
		// Console exports quote every scalar (QueuePriority "1", not 1).
		for _, a := range f.Actions {
			walk(a.Parameters, func(path string, v any) {
				if _, ok := v.(string); !ok {
					t.Errorf("action %q: Parameters%s is %T, want a string", a.Identifier, path, v)
				}
			})
		}
	})
}

func TestFlowReadsRoutingAttributes(t *testing.T) {
	f, _ := load(t)
	known := []string{
		routing.AttrCaseID, routing.AttrCaseNumber, routing.AttrCasePriority, routing.AttrQueuePriority,
		routing.AttrSkills, routing.AttrRoutingCriteria, routing.AttrReason,
	}
	ref := regexp.MustCompile(`^\$\.Attributes\.(.+)$`)
	read := map[string][]string{} // attribute → the actions reading it
	for _, a := range f.Actions {
		walk(a.Parameters, func(_ string, v any) {
			if s, ok := v.(string); ok {
				if m := ref.FindStringSubmatch(s); m != nil {
					read[m[1]] = append(read[m[1]], a.Identifier)
				}
			}
		})
	}

	t.Run("every attribute read is one the bridge sets", func(t *testing.T) {
		for name, by := range read {
			if !slices.Contains(known, name) {
				t.Errorf("actions %v read $.Attributes.%s, which shared/routing never sets", by, name)
			}
		}
	})
	tests := []struct {
		name string
		attr string
		want []string // the actions that read it, in flow order
	}{
		{"routing criteria", routing.AttrRoutingCriteria, []string{"check-routing-criteria", "set-routing-criteria"}},
		{"queue priority", routing.AttrQueuePriority, []string{"check-queue-priority"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := read[tt.attr]; !slices.Equal(got, tt.want) {
				t.Errorf("$.Attributes.%s is read by %v, want %v", tt.attr, got, tt.want)
			}
		})
	}
	t.Run("routing criteria come from the attribute", func(t *testing.T) {
		for _, a := range f.Actions {
			if a.Type != "UpdateContactRoutingCriteria" {
				continue
			}
			if got, want := a.Parameters["RoutingCriteria"], "$.Attributes."+routing.AttrRoutingCriteria; got != want {
				t.Errorf("action %q: RoutingCriteria = %v, want %q", a.Identifier, got, want)
			}
		}
	})
}

// run follows the flow for a task with attrs the way Connect would when every action succeeds,
// evaluating Check contact attributes conditions, and returns the actions it passes through up
// to the transfer (or disconnect) and the queue priority it sets ("" when none).
func run(t *testing.T, f flowDoc, byID map[string]action, attrs map[string]string) (path []string, priority string) {
	t.Helper()
	ref := regexp.MustCompile(`^\$\.Attributes\.(.+)$`)
	for id := f.StartAction; ; {
		if len(path) > len(f.Actions) {
			t.Fatalf("flow loops: %v", path)
		}
		a := byID[id]
		path = append(path, id)
		switch a.Type {
		case "TransferContactToQueue", "DisconnectParticipant":
			return path, priority
		case "UpdateContactRoutingBehavior":
			priority, _ = a.Parameters["QueuePriority"].(string)
		}
		next := a.Transitions.NextAction
		if a.Type == "Compare" {
			m := ref.FindStringSubmatch(fmt.Sprint(a.Parameters["ComparisonValue"]))
			if m == nil {
				t.Fatalf("action %q compares %v, not a contact attribute", id, a.Parameters["ComparisonValue"])
			}
			value, present := attrs[m[1]]
			for _, c := range a.Transitions.Conditions {
				if present && matches(t, c.Condition.Operator, value, c.Condition.Operands) {
					next = c.NextAction
					break
				}
			}
		}
		id = next
	}
}

func matches(t *testing.T, op, value string, operands []string) bool {
	t.Helper()
	if len(operands) != 1 {
		t.Fatalf("operator %s with %d operands, want 1", op, len(operands))
	}
	switch op {
	case "Equals":
		return value == operands[0]
	case "TextStartsWith":
		return strings.HasPrefix(value, operands[0])
	}
	t.Fatalf("operator %q is not modelled by this test", op)
	return false
}

func TestFlowRoutesBridgeTasks(t *testing.T) {
	f, byID := load(t)
	c := routing.Case{ID: "500Hs00001XyZaBIAV", Number: "00001026", Subject: "Refund not received", Priority: "High"}
	base := []string{"enable-flow-logs", "check-routing-criteria"}
	tail := []string{"set-working-queue", "transfer-to-queue"}

	type route struct {
		name         string
		priority     int
		skills       []string
		wantPath     []string
		wantPriority string
	}
	tests := []route{
		{"no skills and no priority", 0, nil, concat(base, []string{"check-queue-priority"}, tail), ""},
		{"one skill", 0, []string{"Billing"}, concat(base, []string{"set-routing-criteria", "check-queue-priority"}, tail), ""},
		{"skills and priority", 2, []string{"Billing", "Spanish"}, concat(base, []string{"set-routing-criteria", "check-queue-priority", "set-queue-priority-2"}, tail), "2"},
	}
	for p := 1; p <= 5; p++ {
		tests = append(tests, route{fmt.Sprintf("priority %d", p), p, nil, concat(base, []string{"check-queue-priority", fmt.Sprintf("set-queue-priority-%d", p)}, tail), fmt.Sprint(p)})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := config.RoutingQueue{SalesforceQueue: "Support_Tier_A", ConnectQueueID: "q", ContactFlowID: "f", Priority: tt.priority}
			spec, err := routing.BuildTask(c, config.TriggerCreated, q, tt.skills, config.Routing{}, "https://example.my.salesforce.com/lightning/r/Case/500Hs00001XyZaBIAV/view")
			if err != nil {
				t.Fatalf("BuildTask: %v", err)
			}
			path, priority := run(t, f, byID, spec.Attributes)
			if !slices.Equal(path, tt.wantPath) {
				t.Errorf("path = %v, want %v", path, tt.wantPath)
			}
			if priority != tt.wantPriority {
				t.Errorf("queue priority = %q, want %q", priority, tt.wantPriority)
			}
		})
	}
}

func TestQueuePriorityBlocks(t *testing.T) {
	f, byID := load(t)
	var cmp action
	for _, a := range f.Actions {
		if a.Type == "Compare" && a.Parameters["ComparisonValue"] == "$.Attributes."+routing.AttrQueuePriority {
			cmp = a
		}
	}
	if cmp.Identifier == "" {
		t.Fatalf("no Compare on $.Attributes.%s", routing.AttrQueuePriority)
	}
	covered := map[string]bool{}
	for _, c := range cmp.Transitions.Conditions {
		operand := strings.Join(c.Condition.Operands, ",")
		t.Run("priority "+operand, func(t *testing.T) {
			if c.Condition.Operator != "Equals" {
				t.Errorf("operator = %q, want Equals", c.Condition.Operator)
			}
			to := byID[c.NextAction]
			if to.Type != "UpdateContactRoutingBehavior" {
				t.Fatalf("condition %s goes to %q (%s), want UpdateContactRoutingBehavior", operand, to.Identifier, to.Type)
			}
			if got := to.Parameters["QueuePriority"]; got != operand {
				t.Errorf("action %q sets QueuePriority %v, want %q", to.Identifier, got, operand)
			}
			if to.Transitions.NextAction != cmp.Transitions.NextAction {
				t.Errorf("action %q continues to %q, want %q (as the no-priority branch)", to.Identifier, to.Transitions.NextAction, cmp.Transitions.NextAction)
			}
		})
		covered[operand] = true
	}
	for p := 1; p <= 5; p++ {
		if !covered[fmt.Sprint(p)] {
			t.Errorf("no branch for %s %d", routing.AttrQueuePriority, p)
		}
	}
	if len(covered) != 5 {
		t.Errorf("branches for %v, want exactly 1 to 5", covered)
	}
}

func TestQueueARNIsTheOnlyPlaceholder(t *testing.T) {
	var doc any
	if err := json.Unmarshal(connectflow.Flow, &doc); err != nil {
		t.Fatalf("decode: %v", err)
	}
	placeholder := regexp.MustCompile(`REGION|ACCOUNT|INSTANCE_ID|QUEUE_ID|REPLACE|CHANGE|TODO|FIXME|EXAMPLE|xxxx|<[^>]*>`)
	var found []string
	walk(doc, func(path string, v any) {
		if s, ok := v.(string); ok && placeholder.MatchString(s) {
			found = append(found, path+" = "+s)
		}
	})
	want := []string{`.Actions[9].Parameters.QueueId = ` + queueARNPlaceholder}
	if !slices.Equal(found, want) {
		t.Errorf("placeholders = %q, want only %q", found, want)
	}
	if !regexp.MustCompile(`^arn:aws:connect:[^:]+:[^:]+:instance/[^/]+/queue/[^/]+$`).MatchString(queueARNPlaceholder) {
		t.Errorf("%q is not shaped like a queue ARN", queueARNPlaceholder)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatalf("read README: %v", err)
	}
	if !strings.Contains(string(readme), queueARNPlaceholder) {
		t.Error("README.md does not tell the admin to replace the queue ARN placeholder")
	}
}

// walk calls fn for every scalar in v (decoded JSON), with its path.
func walk(v any, fn func(path string, v any)) {
	var rec func(path string, v any)
	rec = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				rec(path+"."+k, x[k])
			}
		case []any:
			for i, e := range x {
				rec(fmt.Sprintf("%s[%d]", path, i), e)
			}
		default:
			fn(path, v)
		}
	}
	rec("", v)
}

func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
