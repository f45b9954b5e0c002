package sfsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// decodeObject decodes a JSON object body, keeping numbers exact until normValue.
func decodeObject(body []byte) (map[string]any, *Error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, &Error{Code: "JSON_PARSER_ERROR", Message: "The request body is not a JSON object"}
	}
	return m, nil
}

func notFoundType(name string) *Error {
	return &Error{Code: "NOT_FOUND", Message: fmt.Sprintf("The requested resource does not exist: sObject type '%s'", name)}
}

// serveCreate handles POST /sobjects/<Type>/; for a platform event it publishes.
func (o *Org) serveCreate(w http.ResponseWriter, typeName string, body []byte) {
	fields, e := decodeObject(body)
	if e != nil {
		writeErrors(w, http.StatusBadRequest, *e)
		return
	}
	res, status := o.createOne(typeName, fields)
	if !res.Success {
		writeErrors(w, status, fromRecordErrors(res.Errors)...)
		return
	}
	writeJSON(w, http.StatusCreated, res)
}

// saveResult is a per-record result of create, update and collections.
type saveResult struct {
	ID      string        `json:"id,omitempty"`
	Success bool          `json:"success"`
	Errors  []recordError `json:"errors"`
}

func failed(e Error) saveResult {
	return saveResult{Errors: toRecordErrors(e)}
}

func fromRecordErrors(errs []recordError) []Error {
	out := make([]Error, len(errs))
	for i, e := range errs {
		out[i] = Error{Code: e.StatusCode, Message: e.Message, Fields: e.Fields}
	}
	return out
}

func (o *Org) createOne(typeName string, fields map[string]any) (saveResult, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.table(typeName, strings.HasSuffix(strings.ToLower(typeName), "__e"))
	if t == nil {
		return failed(*notFoundType(typeName)), http.StatusNotFound
	}
	wr, e := o.prepare(t, nil, fields, false)
	if e != nil {
		return failed(*e), http.StatusBadRequest
	}
	return o.commitResult(wr), http.StatusCreated
}

// commitResult commits and renders the success result; events carry OPERATION_ENQUEUED.
func (o *Org) commitResult(wr *write) saveResult {
	id := CaseSafeID(o.commit(wr))
	if wr.t.isEvent() {
		uuid := o.events[len(o.events)-1].EventUUID
		return saveResult{ID: id, Success: true, Errors: toRecordErrors(Error{Code: "OPERATION_ENQUEUED", Message: uuid})}
	}
	return saveResult{ID: id, Success: true, Errors: []recordError{}}
}

// lookup finds a record of typeName by id under the read or write lock.
func (o *Org) lookup(typeName, id string) *record {
	id15, ok := normalizeID(id)
	if !ok {
		return nil
	}
	r := o.byID[id15]
	if r == nil || !strings.EqualFold(r.t.name, typeName) {
		return nil
	}
	return r
}

func (o *Org) serveGet(w http.ResponseWriter, r *http.Request, ver, typeName, id string) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	rec := o.lookup(typeName, id)
	if rec == nil {
		writeNotFound(w)
		return
	}
	names := rec.t.order
	if fs := r.URL.Query().Get("fields"); fs != "" {
		names = nil
		for f := range strings.SplitSeq(fs, ",") {
			c, ok := rec.t.fields[strings.ToLower(strings.TrimSpace(f))]
			if !ok {
				writeErrors(w, http.StatusBadRequest, Error{Code: "INVALID_FIELD", Message: fmt.Sprintf("No such column '%s' on entity '%s'.", f, rec.t.name)})
				return
			}
			names = append(names, c)
		}
	}
	obj := &object{}
	obj.set("attributes", attributes(rec.t, rec.id, ver))
	for _, n := range names {
		obj.set(n, jsonValue(rec.f[n]))
	}
	writeJSON(w, http.StatusOK, obj)
}

func (o *Org) serveUpdate(w http.ResponseWriter, typeName, id string, body []byte) {
	fields, e := decodeObject(body)
	if e != nil {
		writeErrors(w, http.StatusBadRequest, *e)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	rec := o.lookup(typeName, id)
	if rec == nil {
		writeNotFound(w)
		return
	}
	wr, e := o.prepare(rec.t, rec, fields, false)
	if e != nil {
		writeErrors(w, http.StatusBadRequest, *e)
		return
	}
	o.commit(wr)
	w.WriteHeader(http.StatusNoContent)
}

func (o *Org) serveDelete(w http.ResponseWriter, typeName, id string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	rec := o.lookup(typeName, id)
	if rec == nil {
		writeNotFound(w)
		return
	}
	o.deleteRecord(rec)
	w.WriteHeader(http.StatusNoContent)
}

// maxCollection is Salesforce's limit of records per sObject Collections call.
const maxCollection = 200

// serveCollections handles POST (create) and PATCH (update) on /composite/sobjects. Every record is
// validated first; with allOrNone a single failure commits nothing and marks the valid records
// ALL_OR_NONE_OPERATION_ROLLED_BACK.
func (o *Org) serveCollections(w http.ResponseWriter, method string, body []byte) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var req struct {
		AllOrNone bool             `json:"allOrNone"`
		Records   []map[string]any `json:"records"`
	}
	if err := dec.Decode(&req); err != nil {
		writeErrors(w, http.StatusBadRequest, Error{Code: "JSON_PARSER_ERROR", Message: "The request body is not a valid collections request"})
		return
	}
	if len(req.Records) > maxCollection {
		writeErrors(w, http.StatusBadRequest, Error{Code: "EXCEEDED_ID_LIMIT", Message: "record limit reached. cannot submit more than 200 records into this call"})
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	results := make([]saveResult, len(req.Records))
	writes := make([]*write, len(req.Records))
	anyFailed := false
	for i, fields := range req.Records {
		wr, e := o.prepareCollectionRecord(method, fields)
		if e != nil {
			results[i], anyFailed = failed(*e), true
			continue
		}
		writes[i] = wr
	}
	for i, wr := range writes {
		switch {
		case wr == nil:
		case anyFailed && req.AllOrNone:
			results[i] = failed(Error{Code: "ALL_OR_NONE_OPERATION_ROLLED_BACK", Message: "Record rolled back because not all records were valid and the request was using AllOrNone header"})
		default:
			results[i] = o.commitResult(wr)
		}
	}
	writeJSON(w, http.StatusOK, results)
}

func (o *Org) prepareCollectionRecord(method string, fields map[string]any) (*write, *Error) {
	attrs, _ := fields["attributes"].(map[string]any)
	typeName, _ := attrs["type"].(string)
	if typeName == "" {
		return nil, &Error{Code: "INVALID_TYPE", Message: "Must specify a type in attributes"}
	}
	if method == http.MethodPost {
		t := o.table(typeName, strings.HasSuffix(strings.ToLower(typeName), "__e"))
		if t == nil {
			return nil, &Error{Code: "INVALID_TYPE", Message: fmt.Sprintf("sObject type '%s' is not supported.", typeName)}
		}
		return o.prepare(t, nil, fields, false)
	}
	id, _ := lookupFold(fields, "Id")
	ids, _ := id.(string)
	if _, ok := normalizeID(ids); !ok {
		return nil, &Error{Code: "MALFORMED_ID", Message: fmt.Sprintf("Id: invalid id: %v", id), Fields: []string{"Id"}}
	}
	rec := o.lookup(typeName, ids)
	if rec == nil {
		return nil, &Error{Code: "INVALID_CROSS_REFERENCE_KEY", Message: "invalid cross reference id", Fields: []string{"Id"}}
	}
	return o.prepare(rec.t, rec, fields, false)
}
