package sfsim

import (
	"fmt"
	"net/http"
	"strings"
)

// upsertResult is the body of an upsert by external id: 201 with created true for an insert,
// 200 with created false for an update (API v46.0 and later).
type upsertResult struct {
	ID      string        `json:"id"`
	Success bool          `json:"success"`
	Errors  []recordError `json:"errors"`
	Created bool          `json:"created"`
}

// serveUpsert handles PATCH /sobjects/<Type>/<ExternalIdField>/<value>: it updates the one
// record whose field equals value (case-sensitive, as a unique case-sensitive external id
// compares), inserts one with field set to value when there is none, and answers 300 with the
// matching records' URLs when several have it. Custom object types are created on first use,
// as inserts create them. The search and the write run under one lock, so concurrent upserts
// of one value never insert it twice.
func (o *Org) serveUpsert(w http.ResponseWriter, ver, typeName, field, value string, body []byte) {
	fields, e := decodeObject(body)
	if e != nil {
		writeErrors(w, http.StatusBadRequest, *e)
		return
	}
	if !validName(field) || strings.EqualFold(field, "Id") {
		writeErrors(w, http.StatusBadRequest, Error{Code: "NOT_FOUND", Message: fmt.Sprintf("Provided external ID field does not exist or is not accessible: %s", field)})
		return
	}
	if v, ok := lookupFold(fields, field); ok {
		if s, _ := v.(string); s != value {
			writeErrors(w, http.StatusBadRequest, Error{Code: "INVALID_FIELD", Message: fmt.Sprintf("The external ID field %s in the body does not match the value in the URL", field), Fields: []string{field}})
			return
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.table(typeName, !strings.HasSuffix(strings.ToLower(typeName), "__e"))
	if t == nil || t.isEvent() {
		writeErrors(w, http.StatusNotFound, *notFoundType(typeName))
		return
	}
	var matches []*record
	if canon, ok := t.fields[strings.ToLower(field)]; ok {
		for _, r := range t.recs {
			if s, ok := r.f[canon].(string); ok && s == value {
				matches = append(matches, r)
			}
		}
	}
	switch len(matches) {
	case 0:
		f := make(map[string]any, len(fields)+1)
		for k, v := range fields {
			f[k] = v
		}
		if _, ok := lookupFold(f, field); !ok {
			f[field] = value
		}
		wr, e := o.prepare(t, nil, f, false)
		if e != nil {
			writeErrors(w, http.StatusBadRequest, *e)
			return
		}
		id := CaseSafeID(o.commit(wr))
		writeJSON(w, http.StatusCreated, upsertResult{ID: id, Success: true, Errors: []recordError{}, Created: true})
	case 1:
		wr, e := o.prepare(t, matches[0], fields, false)
		if e != nil {
			writeErrors(w, http.StatusBadRequest, *e)
			return
		}
		id := CaseSafeID(o.commit(wr))
		writeJSON(w, http.StatusOK, upsertResult{ID: id, Success: true, Errors: []recordError{}, Created: false})
	default:
		urls := make([]string, len(matches))
		for i, r := range matches {
			urls[i] = "/services/data/" + ver + "/sobjects/" + t.name + "/" + CaseSafeID(r.id)
		}
		writeJSON(w, http.StatusMultipleChoices, urls)
	}
}
