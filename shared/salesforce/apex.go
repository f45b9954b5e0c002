package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// ActionResult is the outcome of one input of an invocable action, in input order.
type ActionResult struct {
	IsSuccess    bool           `json:"isSuccess"`
	Errors       []RecordError  `json:"errors"`
	OutputValues map[string]any `json:"outputValues"`
}

// InvokeAction calls the invocable Apex action name (the Apex class name) with inputs, 200 per
// call, and returns one result per input in input order. Failed inputs are reported in their
// results; the error is for failures of a whole call. On error the results cover the calls that
// completed.
func (c *Client) InvokeAction(ctx context.Context, name string, inputs []map[string]any) ([]ActionResult, error) {
	if err := CheckObject(name); err != nil {
		return nil, err
	}
	op := "action " + name
	out := make([]ActionResult, 0, len(inputs))
	for chunk := range slices.Chunk(inputs, MaxCollectionRecords) {
		req := struct {
			Inputs []map[string]any `json:"inputs"`
		}{chunk}
		var res []ActionResult
		rep, err := c.callJSON(ctx, call{op: op, method: http.MethodPost, path: c.dataPath("actions", "custom", "apex", name)}, req, &res)
		if err != nil {
			// When every input fails, Salesforce answers 400 with the per-input results.
			if res, ok := actionResults(rep, len(chunk)); ok {
				out = append(out, res...)
				continue
			}
			return out, err
		}
		if len(res) != len(chunk) {
			return out, wrap(op, fmt.Errorf("salesforce returned %d results for %d inputs", len(res), len(chunk)))
		}
		out = append(out, res...)
	}
	return out, nil
}

// actionResults decodes an error reply that is in fact a list of per-input results.
func actionResults(rep *reply, n int) ([]ActionResult, bool) {
	if rep == nil || rep.status != http.StatusBadRequest {
		return nil, false
	}
	var probe []struct {
		IsSuccess *bool `json:"isSuccess"`
	}
	if json.Unmarshal(rep.body, &probe) != nil || len(probe) != n {
		return nil, false
	}
	for _, p := range probe {
		if p.IsSuccess == nil {
			return nil, false
		}
	}
	var res []ActionResult
	if json.Unmarshal(rep.body, &res) != nil {
		return nil, false
	}
	return res, true
}

// ApexREST calls a custom Apex REST endpoint: method on /services/apexrest/<path>. body (if
// non-nil) is sent as JSON and a JSON answer is decoded into out (if non-nil). path may carry a
// query string.
func (c *Client) ApexREST(ctx context.Context, method, path string, body, out any) error {
	u, err := url.Parse(path)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.Contains(u.Path, "..") || strings.Trim(u.Path, "/") == "" {
		return apperr.New(apperr.Invalid, "salesforce: apex rest path %q is not a relative path", path)
	}
	if method == "" || strings.ContainsAny(method, " \t\r\n") {
		return apperr.New(apperr.Invalid, "salesforce: invalid HTTP method %q", method)
	}
	cl := call{op: "apex rest", method: method, path: "/services/apexrest/" + strings.TrimLeft(u.Path, "/"), query: u.Query()}
	_, err = c.callJSON(ctx, cl, body, out)
	return err
}
