package salesforce

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// soslReserved are the characters SOSL requires a backslash before inside FIND {...}.
const soslReserved = `?&|!{}[]()^~*:\"'+-`

// EscapeSOSL escapes s for use between the braces of a SOSL FIND clause, putting a backslash
// before each reserved character, so a term such as "+14155551212" searches for itself.
func EscapeSOSL(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(soslReserved, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Search runs a SOSL search (GET /search/?q=...) and returns its searchRecords, each with its
// attributes.type. Build sosl with EscapeSOSL around the term.
func (c *Client) Search(ctx context.Context, sosl string) ([]Record, error) {
	var res struct {
		SearchRecords []Record `json:"searchRecords"`
	}
	if _, err := c.callJSON(ctx, call{op: "search", method: http.MethodGet, path: c.dataPath("search") + "/", query: url.Values{"q": {sosl}}}, nil, &res); err != nil {
		return nil, err
	}
	return res.SearchRecords, nil
}

// Error codes with which an org refuses a search it does not offer: search disabled or not
// licensed for the user, the cue to fall back to SOQL.
var searchUnavailableCodes = []string{"FUNCTIONALITY_NOT_ENABLED", "API_DISABLED_FOR_ORG", "INVALID_SEARCH_SCOPE", "INSUFFICIENT_ACCESS"}

// SearchUnavailable reports whether err is a search the org refused because search is
// disabled or not available to the user (not a malformed search or an outage).
func SearchUnavailable(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range searchUnavailableCodes {
		if ae.ErrorCode == c {
			return true
		}
	}
	return false
}

// UpsertResult is the outcome of an upsert by external id.
type UpsertResult struct {
	// ID is the record's id.
	ID string `json:"id"`
	// Created is true when the upsert inserted the record.
	Created bool `json:"created"`
}

// upsertPath is the relative path of an upsert of sObject by its external id field.
func upsertPath(sObject, field, value string) string {
	return "sobjects/" + sObject + "/" + field + "/" + url.PathEscape(value)
}

// Upsert inserts or updates the record of type sObject whose external id field equals value
// (PATCH /sobjects/<type>/<field>/<value>). Several records with the value are an
// apperr.Conflict.
func (c *Client) Upsert(ctx context.Context, sObject, field, value string, fields any) (UpsertResult, error) {
	if err := CheckObject(sObject); err != nil {
		return UpsertResult{}, err
	}
	if err := CheckField(field); err != nil {
		return UpsertResult{}, err
	}
	if value == "" {
		return UpsertResult{}, apperr.New(apperr.Invalid, "salesforce: upsert of %s needs a %s value", sObject, field)
	}
	var res UpsertResult
	rep, err := c.callJSON(ctx, call{op: "upsert", method: http.MethodPatch, path: c.dataPath(upsertPath(sObject, field, value))}, fields, &res)
	if rep != nil && rep.status == http.StatusMultipleChoices {
		return UpsertResult{}, apperr.New(apperr.Conflict, "salesforce: several %s records have %s %q", sObject, field, value)
	}
	if err != nil {
		return UpsertResult{}, err
	}
	return res, nil
}

// UpsertRequest is the composite subrequest of an upsert by external id.
func UpsertRequest(referenceID, sObject, field, value string, body any) Subrequest {
	return Subrequest{Method: http.MethodPatch, URL: upsertPath(sObject, field, value), ReferenceID: referenceID, Body: body}
}

// CreateRequest is the composite subrequest that creates a record of type sObject.
func CreateRequest(referenceID, sObject string, body any) Subrequest {
	return Subrequest{Method: http.MethodPost, URL: "sobjects/" + sObject, ReferenceID: referenceID, Body: body}
}
