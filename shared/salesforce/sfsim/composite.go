package sfsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
)

// maxSubrequests is Salesforce's limit of subrequests per composite call.
const maxSubrequests = 25

type subrequest struct {
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	ReferenceID string            `json:"referenceId"`
	Body        json.RawMessage   `json:"body"`
	Headers     map[string]string `json:"httpHeaders"`
}

type subresponse struct {
	Body        json.RawMessage   `json:"body"`
	Headers     map[string]string `json:"httpHeaders"`
	StatusCode  int               `json:"httpStatusCode"`
	ReferenceID string            `json:"referenceId"`
}

var refRE = regexp.MustCompile(`@\{([A-Za-z][A-Za-z0-9_]*)\.([A-Za-z0-9_.\[\]]+)\}`)

// serveComposite runs subrequests in order through the same handlers, resolving @{ref.path}
// references. With allOrNone, a failure restores the data as it was before the call (platform
// events stay published, as "publish immediately" events do) and marks the other subrequests
// PROCESSING_HALTED. The rollback is not isolated from concurrent requests.
func (o *Org) serveComposite(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		AllOrNone bool         `json:"allOrNone"`
		Requests  []subrequest `json:"compositeRequest"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeErrors(w, http.StatusBadRequest, Error{Code: "JSON_PARSER_ERROR", Message: "The request body is not a valid composite request"})
		return
	}
	if len(req.Requests) > maxSubrequests {
		writeErrors(w, http.StatusBadRequest, Error{Code: "LIMIT_EXCEEDED", Message: fmt.Sprintf("Exceeded max number of subrequests: %d", maxSubrequests)})
		return
	}
	var snap *snapshot
	if req.AllOrNone {
		snap = o.snapshot()
	}
	refs := map[string]any{}
	out := make([]subresponse, len(req.Requests))
	failedAt := -1
	for i, sr := range req.Requests {
		if failedAt >= 0 && req.AllOrNone {
			out[i] = halted(sr.ReferenceID, "The transaction was rolled back since another operation in the same transaction failed.")
			continue
		}
		url, missing := resolveRefs(sr.URL, refs)
		b, missing2 := resolveRefs(string(sr.Body), refs)
		if missing != "" || missing2 != "" {
			out[i] = halted(sr.ReferenceID, "Invalid reference specified. No value for "+missing+missing2+" found.")
			failedAt = i
			continue
		}
		rec := httptest.NewRecorder()
		sub := httptest.NewRequestWithContext(r.Context(), sr.Method, url, strings.NewReader(b))
		for k, v := range sr.Headers {
			sub.Header.Set(k, v)
		}
		o.dispatch(rec, sub, []byte(b))
		resp := subresponse{StatusCode: rec.Code, ReferenceID: sr.ReferenceID, Headers: map[string]string{}, Body: json.RawMessage("null")}
		if raw := bytes.TrimSpace(rec.Body.Bytes()); len(raw) > 0 {
			resp.Body = raw
			var v any
			if json.Unmarshal(raw, &v) == nil {
				refs[sr.ReferenceID] = v
			}
		}
		if loc := rec.Header().Get("Location"); loc != "" {
			resp.Headers["Location"] = loc
		}
		out[i] = resp
		if rec.Code >= 300 && failedAt < 0 {
			failedAt = i
		}
	}
	if req.AllOrNone && failedAt >= 0 {
		o.restore(snap)
		for i := range failedAt {
			out[i] = halted(out[i].ReferenceID, "The transaction was rolled back since another operation in the same transaction failed.")
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"compositeResponse": out})
}

func halted(ref, msg string) subresponse {
	body, _ := json.Marshal([]restError{{ErrorCode: "PROCESSING_HALTED", Message: msg}})
	return subresponse{Body: body, Headers: map[string]string{}, StatusCode: http.StatusBadRequest, ReferenceID: ref}
}

// resolveRefs replaces @{ref.path} with values from earlier responses; it returns the first
// reference it could not resolve.
func resolveRefs(s string, refs map[string]any) (string, string) {
	missing := ""
	out := refRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := refRE.FindStringSubmatch(m)
		v, ok := refs[sub[1]]
		for part := range strings.SplitSeq(sub[2], ".") {
			if !ok {
				break
			}
			name, idx, hasIdx := strings.Cut(part, "[")
			obj, isObj := v.(map[string]any)
			v, ok = obj[name]
			ok = ok && isObj
			if hasIdx {
				var n int
				arr, isArr := v.([]any)
				_, err := fmt.Sscanf(idx, "%d]", &n)
				ok = ok && isArr && err == nil && n >= 0 && n < len(arr)
				if ok {
					v = arr[n]
				}
			}
		}
		if !ok || v == nil {
			if missing == "" {
				missing = sub[1] + "." + sub[2]
			}
			return m
		}
		if str, isStr := v.(string); isStr {
			return str
		}
		b, _ := json.Marshal(v)
		return string(b)
	})
	return out, missing
}

// snapshot is a copy of the data, for composite allOrNone rollback.
type snapshot struct {
	types  map[string]*table
	tables map[*table]table
	byID   map[string]*record
	vals   map[*record]map[string]any
}

func (o *Org) snapshot() *snapshot {
	o.mu.RLock()
	defer o.mu.RUnlock()
	s := &snapshot{types: map[string]*table{}, tables: map[*table]table{}, byID: map[string]*record{}, vals: map[*record]map[string]any{}}
	for k, t := range o.types {
		s.types[k] = t
		cp := *t
		cp.recs = append([]*record(nil), t.recs...)
		cp.order = append([]string(nil), t.order...)
		cp.fields = make(map[string]string, len(t.fields))
		for fk, fv := range t.fields {
			cp.fields[fk] = fv
		}
		s.tables[t] = cp
	}
	for id, r := range o.byID {
		s.byID[id] = r
		s.vals[r] = r.f // stored field maps are replaced, never mutated: no copy needed
	}
	return s
}

func (o *Org) restore(s *snapshot) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.types = s.types
	for t, cp := range s.tables {
		*t = cp
	}
	o.byID = s.byID
	for r, v := range s.vals {
		r.f = v
	}
}
