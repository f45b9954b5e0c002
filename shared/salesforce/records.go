package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// MaxCollectionRecords is Salesforce's limit of records per sObject Collections call (and the
// number of inputs per invocable-action call the client sends).
const MaxCollectionRecords = 200

// SObject is one record for the sObject Collections and platform event APIs.
type SObject struct {
	// Type is the API name, such as "Case" or "Omnibridge_Presence_Command__e".
	Type string
	// ID is the record id; required for updates, empty for creates.
	ID string
	// Fields holds the field values by API name.
	Fields map[string]any
}

// MarshalJSON renders the record as Salesforce expects: fields plus attributes.type (and Id).
func (s SObject) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(s.Fields)+2)
	maps.Copy(m, s.Fields)
	m["attributes"] = map[string]string{"type": s.Type}
	if s.ID != "" {
		m["Id"] = s.ID
	}
	return json.Marshal(m)
}

// SaveResult is the outcome of one record of a create or update, in input order.
type SaveResult struct {
	ID      string        `json:"id,omitempty"`
	Success bool          `json:"success"`
	Errors  []RecordError `json:"errors"`
}

// PublishResult is the outcome of one published platform event, in input order.
type PublishResult struct {
	// ID is the event's id as returned by Salesforce.
	ID string
	// EventUUID is the message of the OPERATION_ENQUEUED entry, the event's EventUuid.
	EventUUID string
	// Success is true when Salesforce accepted the event; OPERATION_ENQUEUED counts as success.
	Success bool
	// Errors lists the failures, OPERATION_ENQUEUED excluded.
	Errors []RecordError
}

// Record is a record decoded without a schema: field name to JSON value (string, float64, bool,
// nil, or map[string]any for relationship fields), "attributes" included.
type Record map[string]any

var idRE = regexp.MustCompile(`^[0-9A-Za-z]{15}([0-9A-Za-z]{3})?$`)

func checkID(id string) error {
	if !idRE.MatchString(id) {
		return apperr.New(apperr.Invalid, "salesforce: %q is not a 15 or 18 character record id", id)
	}
	return nil
}

// Create inserts one record of type sObject and returns its id. fields is any value that encodes
// to a JSON object. Publishing a platform event this way costs one API call per event; prefer
// PublishEvents.
func (c *Client) Create(ctx context.Context, sObject string, fields any) (string, error) {
	if err := CheckObject(sObject); err != nil {
		return "", err
	}
	var res SaveResult
	if _, err := c.callJSON(ctx, call{op: "create", method: http.MethodPost, path: c.dataPath("sobjects", sObject) + "/"}, fields, &res); err != nil {
		return "", err
	}
	if !res.Success {
		return "", wrap("create", c.recordAPIError(http.StatusOK, res.Errors))
	}
	return res.ID, nil
}

// Update applies fields (a JSON object) to the record id of type sObject.
func (c *Client) Update(ctx context.Context, sObject, id string, fields any) error {
	if err := CheckObject(sObject); err != nil {
		return err
	}
	if err := checkID(id); err != nil {
		return err
	}
	_, err := c.callJSON(ctx, call{op: "update", method: http.MethodPatch, path: c.dataPath("sobjects", sObject, id)}, fields, nil)
	return err
}

// Get reads the record id of type sObject into out (a pointer, such as *Record or *MyStruct).
// fields limits the fields returned; none means all.
func (c *Client) Get(ctx context.Context, sObject, id string, fields []string, out any) error {
	if err := CheckObject(sObject); err != nil {
		return err
	}
	if err := checkID(id); err != nil {
		return err
	}
	var q url.Values
	if len(fields) > 0 {
		for _, f := range fields {
			if err := CheckField(f); err != nil {
				return err
			}
		}
		q = url.Values{"fields": {strings.Join(fields, ",")}}
	}
	_, err := c.callJSON(ctx, call{op: "get", method: http.MethodGet, path: c.dataPath("sobjects", sObject, id), query: q}, nil, out)
	return err
}

// CreateRecords inserts records through sObject Collections, 200 per call. The results are in
// input order. allOrNone applies per call of 200: Salesforce offers no transaction across calls.
// On error the results cover the calls that completed (a prefix of records).
func (c *Client) CreateRecords(ctx context.Context, records []SObject, allOrNone bool) ([]SaveResult, error) {
	for i, r := range records {
		if err := CheckObject(r.Type); err != nil {
			return nil, apperr.Wrap(apperr.Invalid, err, "salesforce: record %d has an invalid type", i)
		}
	}
	return c.collection(ctx, "create records", http.MethodPost, records, allOrNone)
}

// UpdateRecords updates records (each with ID) through sObject Collections, 200 per call, with
// the same result and allOrNone semantics as CreateRecords.
func (c *Client) UpdateRecords(ctx context.Context, records []SObject, allOrNone bool) ([]SaveResult, error) {
	for i, r := range records {
		if err := CheckObject(r.Type); err != nil {
			return nil, apperr.Wrap(apperr.Invalid, err, "salesforce: record %d has an invalid type", i)
		}
		if err := checkID(r.ID); err != nil {
			return nil, apperr.Wrap(apperr.Invalid, err, "salesforce: record %d has an invalid id", i)
		}
	}
	return c.collection(ctx, "update records", http.MethodPatch, records, allOrNone)
}

func (c *Client) collection(ctx context.Context, op, method string, records []SObject, allOrNone bool) ([]SaveResult, error) {
	out := make([]SaveResult, 0, len(records))
	for chunk := range slices.Chunk(records, MaxCollectionRecords) {
		var res []SaveResult
		req := struct {
			AllOrNone bool      `json:"allOrNone"`
			Records   []SObject `json:"records"`
		}{allOrNone, chunk}
		if _, err := c.callJSON(ctx, call{op: op, method: method, path: c.dataPath("composite", "sobjects")}, req, &res); err != nil {
			return out, err
		}
		if len(res) != len(chunk) {
			return out, wrap(op, fmt.Errorf("salesforce returned %d results for %d records", len(res), len(chunk)))
		}
		out = append(out, res...)
	}
	return out, nil
}

// PublishEvents publishes platform events of type eventType (an API name ending in "__e") through
// sObject Collections, 200 per call, and returns one result per event in input order. Each event
// is published on its own (allOrNone is false), so one bad event does not hold back the others.
func (c *Client) PublishEvents(ctx context.Context, eventType string, events []map[string]any) ([]PublishResult, error) {
	if err := CheckObject(eventType); err != nil {
		return nil, err
	}
	if !strings.HasSuffix(eventType, "__e") {
		return nil, apperr.New(apperr.Invalid, "salesforce: %q is not a platform event (no __e suffix)", eventType)
	}
	recs := make([]SObject, len(events))
	for i, e := range events {
		recs[i] = SObject{Type: eventType, Fields: e}
	}
	saved, err := c.collection(ctx, "publish events", http.MethodPost, recs, false)
	out := make([]PublishResult, len(saved))
	for i, s := range saved {
		r := PublishResult{ID: s.ID, Success: s.Success}
		enqueued := false
		for _, e := range s.Errors {
			if e.StatusCode == CodeOperationEnqueued {
				enqueued, r.EventUUID = true, e.Message
				continue
			}
			r.Errors = append(r.Errors, e)
		}
		r.Success = s.Success || (enqueued && len(r.Errors) == 0)
		out[i] = r
	}
	return out, err
}

// recordAPIError turns per-record errors into an *APIError for single-record operations.
func (c *Client) recordAPIError(status int, errs []RecordError) *APIError {
	e := &APIError{StatusCode: status, ErrorCode: "UNKNOWN", Message: "record not saved"}
	if len(errs) > 0 {
		e.ErrorCode, e.Message, e.Fields = errs[0].StatusCode, c.redact(errs[0].Message), errs[0].Fields
	}
	return e
}
