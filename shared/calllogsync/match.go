package calllogsync

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/calllog"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/salesforce"
)

// SearchOffRecheck is how long a handler that found SOSL refused matches by SOQL alone before
// trying SOSL again, so an org without search costs one refused search per warm container and
// hour, not one per call.
const SearchOffRecheck = time.Hour

var errSearchOff error = apperr.New(apperr.Unavailable, "SOSL was refused recently; not tried again yet")

// maxCandidates is how many records with the number are read: enough to see an ambiguity and
// break the tie, few enough for one small response.
const maxCandidates = 5

// SOSL builds the phone search for an E.164 number: IN PHONE FIELDS matches however the number
// is formatted in Phone, MobilePhone and the other phone fields. Leads are searched too when
// unknown callers become Leads, so a second call from the number finds the first's Lead.
func SOSL(e164 string, withLeads bool) string {
	q := "FIND {" + salesforce.EscapeSOSL(e164) + "} IN PHONE FIELDS RETURNING Contact(Id, AccountId, LastModifiedDate ORDER BY LastModifiedDate DESC LIMIT 5)"
	if withLeads {
		q += ", Lead(Id, LastModifiedDate WHERE IsConverted = false ORDER BY LastModifiedDate DESC LIMIT 5)"
	}
	return q
}

// fallbackSOQL compares Phone and MobilePhone with the number's usual spellings, for orgs
// where search is off.
func fallbackSOQL(object, fields string, variants []string) (string, error) {
	list, err := salesforce.QuoteList(variants)
	if err != nil {
		return "", err
	}
	where := "(Phone IN " + list + " OR MobilePhone IN " + list + ")"
	if object == "Lead" {
		where += " AND IsConverted = false"
	}
	return "SELECT " + fields + " FROM " + object + " WHERE " + where + " ORDER BY LastModifiedDate DESC LIMIT 5", nil
}

type candidateRow struct {
	Attributes struct {
		Type string `json:"type"`
	} `json:"attributes"`
	ID           string `json:"Id"`
	AccountID    string `json:"AccountId"`
	LastModified sfTime `json:"LastModifiedDate"`
}

// sfTime decodes Salesforce REST datetimes ("2026-11-21T09:00:00.000+0000") and RFC 3339.
type sfTime struct{ time.Time }

// UnmarshalJSON accepts both layouts, and null.
func (t *sfTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil || s == "" {
		return nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", time.RFC3339Nano} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v
			return nil
		}
	}
	return fmt.Errorf("unrecognised Salesforce datetime %q", s)
}

// match finds the records with the caller's number and decides among them.
func (r *run) match(ctx context.Context) (calllog.Match, error) {
	number := r.st.Sync.Number
	withLeads := r.cfg.OnNoMatch == config.OnNoMatchCreateLead
	via := "sosl"
	var recs []salesforce.Record
	var err error = errSearchOff
	if !r.h.searchOff() {
		recs, err = r.h.d.Salesforce.Search(ctx, SOSL(number, withLeads))
	}
	if err != nil {
		if err != errSearchOff && !salesforce.SearchUnavailable(err) {
			return calllog.Match{}, err
		}
		if err != errSearchOff {
			r.h.noSearchFor(SearchOffRecheck)
		}
		via = "soql"
		r.audit(ctx, "search-fallback", "SOSL is not available ("+apperr.MessageOf(err)+"): matching by exact Phone and MobilePhone spellings", nil)
		recs, err = r.fallback(ctx, number, withLeads)
		if err != nil {
			return calllog.Match{}, err
		}
	}
	var found []calllog.Candidate
	for _, rec := range recs {
		var row candidateRow
		if err := decodeRecord(rec, &row); err != nil {
			return calllog.Match{}, err
		}
		found = append(found, calllog.Candidate{ID: row.ID, Type: row.Attributes.Type, AccountID: row.AccountID, LastModified: row.LastModified.Time})
	}
	m := calllog.Decide(found, r.cfg)
	m.Via = via
	return m, nil
}

func (r *run) fallback(ctx context.Context, number string, withLeads bool) ([]salesforce.Record, error) {
	variants := r.h.d.Numbers.Variants(number)
	objects := [][2]string{{"Contact", "Id, AccountId, LastModifiedDate"}}
	if withLeads {
		objects = append(objects, [2]string{"Lead", "Id, LastModifiedDate"})
	}
	var out []salesforce.Record
	for _, o := range objects {
		soql, err := fallbackSOQL(o[0], o[1], variants)
		if err != nil {
			return nil, err
		}
		for rec, err := range r.h.d.Salesforce.Query(ctx, soql) {
			if err != nil {
				return nil, err
			}
			out = append(out, rec)
		}
	}
	return out, nil
}

// openCase returns the newest open Case of a Contact created within the attach window, or "".
func (r *run) openCase(ctx context.Context, contactID string) (string, error) {
	since := r.h.d.Now().Add(-time.Duration(r.cfg.Case.AttachWindowMinutes) * time.Minute)
	soql, err := salesforce.Format("SELECT Id FROM Case WHERE ContactId = ? AND IsClosed = false AND CreatedDate >= ? ORDER BY CreatedDate DESC LIMIT 1", contactID, since)
	if err != nil {
		return "", err
	}
	for rec, err := range r.h.d.Salesforce.Query(ctx, soql) {
		if err != nil {
			return "", err
		}
		id, _ := rec["Id"].(string)
		return id, nil
	}
	return "", nil
}
