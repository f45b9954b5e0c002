package sfsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
)

// ActionResult is a Go handler's result for one input of an invocable action.
type ActionResult struct {
	IsSuccess    bool
	Errors       []Error
	OutputValues map[string]any
}

// ActionHandler implements an invocable Apex action: one result per input, in order.
type ActionHandler func(inputs []map[string]any) []ActionResult

// RegisterAction serves POST /services/data/vXX.X/actions/custom/apex/<name> with h. Handlers run
// without the org's lock, so they may call the Org.
func (o *Org) RegisterAction(name string, h ActionHandler) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.actions[name] = h
}

// ActionRecorder is a ready-made invocable action for tests: it records every call and input,
// succeeds by default, and fails the inputs whose key field holds a value it was told to fail,
// each with its own error, so callers can check their handling of per-input failures. Register
// its Handle method with RegisterAction. Ids match whether given in 15- or 18-character form.
type ActionRecorder struct {
	key string

	mu     sync.Mutex
	calls  int
	inputs []map[string]any
	fails  map[string]Error
	output func(input map[string]any) map[string]any
}

// NewActionRecorder returns a recorder whose inputs are keyed by keyField, such as "userId".
func NewActionRecorder(keyField string) *ActionRecorder {
	return &ActionRecorder{key: keyField, fails: map[string]Error{}}
}

// recorderKey normalizes a key value: ids to their 15-character form, other values as text.
func recorderKey(v any) string {
	s, ok := v.(string)
	if !ok {
		return fmt.Sprint(v)
	}
	if id, ok := normalizeID(s); ok {
		return id
	}
	return s
}

// Fail makes the inputs whose key field equals one of keys fail with e from now on.
func (a *ActionRecorder) Fail(e Error, keys ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, k := range keys {
		a.fails[recorderKey(k)] = e
	}
}

// Succeed makes the inputs with the given keys succeed again; no keys clears every failure.
func (a *ActionRecorder) Succeed(keys ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(keys) == 0 {
		clear(a.fails)
	}
	for _, k := range keys {
		delete(a.fails, recorderKey(k))
	}
}

// SetOutput sets the outputValues returned for each successful input; by default they are null,
// as for an action without outputs.
func (a *ActionRecorder) SetOutput(f func(input map[string]any) map[string]any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.output = f
}

// Handle is the ActionHandler.
func (a *ActionRecorder) Handle(inputs []map[string]any) []ActionResult {
	a.mu.Lock()
	a.calls++
	out := make([]ActionResult, len(inputs))
	for i, in := range inputs {
		a.inputs = append(a.inputs, maps.Clone(in))
		if e, failed := a.fails[recorderKey(in[a.key])]; failed {
			out[i] = ActionResult{Errors: []Error{e}}
			continue
		}
		out[i] = ActionResult{IsSuccess: true}
	}
	output := a.output
	a.mu.Unlock()
	if output != nil { // outside the lock: it may call the recorder
		for i, in := range inputs {
			if out[i].IsSuccess {
				out[i].OutputValues = output(maps.Clone(in))
			}
		}
	}
	return out
}

// Calls returns the number of action requests handled (each carries up to 200 inputs).
func (a *ActionRecorder) Calls() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls
}

// Inputs returns a copy of every input received, in order, failed ones included.
func (a *ActionRecorder) Inputs() []map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]map[string]any, len(a.inputs))
	for i, in := range a.inputs {
		out[i] = maps.Clone(in)
	}
	return out
}

// Reset forgets the recorded calls and inputs; failures stay.
func (a *ActionRecorder) Reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls, a.inputs = 0, nil
}

type actionResponse struct {
	ActionName   string         `json:"actionName"`
	Errors       []recordError  `json:"errors"`
	IsSuccess    bool           `json:"isSuccess"`
	OutputValues map[string]any `json:"outputValues"`
	Version      int            `json:"version"`
}

// serveAction answers 200 with per-input results, or 400 with them when every input failed, as
// Salesforce does.
func (o *Org) serveAction(w http.ResponseWriter, name string, body []byte) {
	o.mu.RLock()
	h := o.actions[name]
	o.mu.RUnlock()
	if h == nil {
		writeErrors(w, http.StatusNotFound, Error{Code: "NOT_FOUND", Message: fmt.Sprintf("No invocable action named '%s'", name)})
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var req struct {
		Inputs []map[string]any `json:"inputs"`
	}
	if err := dec.Decode(&req); err != nil || req.Inputs == nil {
		writeErrors(w, http.StatusBadRequest, Error{Code: "JSON_PARSER_ERROR", Message: "The request body must be {\"inputs\":[...]}"})
		return
	}
	if len(req.Inputs) > maxCollection {
		writeErrors(w, http.StatusBadRequest, Error{Code: "LIMIT_EXCEEDED", Message: "Too many inputs: the maximum is 200"})
		return
	}
	for _, in := range req.Inputs {
		for k, v := range in {
			if n, ok := v.(json.Number); ok {
				in[k], _ = n.Float64()
			}
		}
	}
	results := h(req.Inputs)
	out := make([]actionResponse, len(req.Inputs))
	allFailed := true
	for i := range out {
		res := ActionResult{Errors: []Error{{Code: "UNKNOWN_EXCEPTION", Message: "action returned no result for this input"}}}
		if i < len(results) {
			res = results[i]
		}
		out[i] = actionResponse{ActionName: name, IsSuccess: res.IsSuccess, OutputValues: res.OutputValues, Version: 1}
		if len(res.Errors) > 0 {
			out[i].Errors = toRecordErrors(res.Errors...)
		}
		allFailed = allFailed && !res.IsSuccess
	}
	status := http.StatusOK
	if allFailed && len(out) > 0 {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, out)
}

// HandleApexREST serves an Apex REST endpoint with h. pattern is an http.ServeMux pattern
// relative to /services/apexrest, such as "POST /omnibridge/v1/ack/{id}". Requests are
// authenticated, recorded and subject to fault rules like any API call.
func (o *Org) HandleApexREST(pattern string, h http.Handler) (err error) {
	method, path, found := strings.Cut(pattern, " ")
	if !found {
		method, path = "", pattern
	}
	full := "/services/apexrest/" + strings.TrimLeft(strings.TrimSpace(path), "/")
	if method != "" {
		full = method + " " + full
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	defer func() {
		// ServeMux panics on malformed or conflicting patterns; report it as an error.
		if r := recover(); r != nil {
			err = fmt.Errorf("sfsim: apex rest pattern %q: %v", pattern, r)
		}
	}()
	o.apex.Handle(full, h)
	return nil
}

func (o *Org) serveApexREST(w http.ResponseWriter, r *http.Request, body []byte) {
	o.mu.RLock()
	mux := o.apex
	o.mu.RUnlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if _, pattern := mux.Handler(r); pattern == "" {
		writeErrors(w, http.StatusNotFound, Error{Code: "NOT_FOUND", Message: "Could not find a match for URL"})
		return
	}
	mux.ServeHTTP(w, r)
}
