package sfsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
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
