package salesforce_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
)

func TestEscapeSOSL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+14155551212", `\+14155551212`},
		{"(415) 555-1212", `\(415\) 555\-1212`},
		{`a{b}c\d'e`, `a\{b\}c\\d\'e`},
		{"plain", "plain"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := salesforce.EscapeSOSL(tc.in); got != tc.want {
				t.Fatalf("EscapeSOSL(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSearchAndUpsert(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sfsim.Config{})
	c := e.client(t)
	id, err := e.org.Insert("Contact", map[string]any{"LastName": "Rivera", "Phone": "(415) 555-1212"})
	if err != nil {
		t.Fatal(err)
	}
	sosl := "FIND {" + salesforce.EscapeSOSL("+14155551212") + "} IN PHONE FIELDS RETURNING Contact(Id, AccountId, LastModifiedDate ORDER BY LastModifiedDate DESC LIMIT 5)"
	t.Run("search finds the formatted number", func(t *testing.T) {
		recs, err := c.Search(ctx, sosl)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 || recs[0]["Id"] != id {
			t.Fatalf("Search = %v, want contact %s", recs, id)
		}
	})
	t.Run("a disabled search is recognised", func(t *testing.T) {
		e.org.DisableSearch(true)
		defer e.org.DisableSearch(false)
		_, err := c.Search(ctx, sosl)
		if err == nil || !salesforce.SearchUnavailable(err) {
			t.Fatalf("Search with search off = %v, want a search-unavailable error", err)
		}
	})
	t.Run("a malformed search is not a disabled one", func(t *testing.T) {
		_, err := c.Search(ctx, "FIND nothing")
		if err == nil || salesforce.SearchUnavailable(err) || !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("Search = %v, want an invalid, not unavailable, error", err)
		}
	})
	t.Run("upsert inserts then updates by external id", func(t *testing.T) {
		first, err := c.Upsert(ctx, "Omnibridge_Call_Log__c", "Step_Key__c", "c-1:queued", map[string]any{"Step__c": "Queued"})
		if err != nil || !first.Created || first.ID == "" {
			t.Fatalf("first Upsert = %+v, %v", first, err)
		}
		again, err := c.Upsert(ctx, "Omnibridge_Call_Log__c", "Step_Key__c", "c-1:queued", map[string]any{"Duration_Seconds__c": 26})
		if err != nil || again.Created || again.ID != first.ID {
			t.Fatalf("second Upsert = %+v, %v; want an update of %s", again, err, first.ID)
		}
		if n := e.org.Count("Omnibridge_Call_Log__c"); n != 1 {
			t.Fatalf("%d log records, want 1", n)
		}
		_, f, _ := e.org.Record(first.ID)
		if f["Step__c"] != "Queued" || f["Step_Key__c"] != "c-1:queued" {
			t.Fatalf("record = %v", f)
		}
	})
	t.Run("several records with the value conflict", func(t *testing.T) {
		for range 2 {
			if _, err := e.org.Insert("Omnibridge_Call_Log__c", map[string]any{"Step_Key__c": "dup:acw"}); err != nil {
				t.Fatal(err)
			}
		}
		_, err := c.Upsert(ctx, "Omnibridge_Call_Log__c", "Step_Key__c", "dup:acw", map[string]any{"Step__c": "After-contact work"})
		if !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("Upsert = %v, want conflict", err)
		}
	})
	t.Run("composite: create, reference and upsert in one call", func(t *testing.T) {
		before := e.org.APIUsage()
		res, err := c.Composite(ctx, true, []salesforce.Subrequest{
			salesforce.CreateRequest("newContact", "Contact", map[string]any{"LastName": "Unknown caller", "Phone": "+14155550000"}),
			salesforce.CreateRequest("newCase", "Case", map[string]any{"ContactId": "@{newContact.id}", "Origin": "Phone"}),
			salesforce.UpsertRequest("log0", "Omnibridge_Call_Log__c", "Step_Key__c", "c-2:queued", map[string]any{"Case__c": "@{newCase.id}"}),
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Err() != nil {
				t.Fatalf("%s: %v", r.ReferenceID, r.Err())
			}
		}
		var up salesforce.UpsertResult
		var cs struct{ ID string }
		if err := json.Unmarshal(res[2].Body, &up); err != nil || !up.Created {
			t.Fatalf("upsert body %s: %v", res[2].Body, err)
		}
		_ = json.Unmarshal(res[1].Body, &cs)
		_, logf, _ := e.org.Record(up.ID)
		if logf["Case__c"] != cs.ID {
			t.Fatalf("log Case__c = %v, want the new case %s", logf["Case__c"], cs.ID)
		}
		if used := e.org.APIUsage() - before; used != 1 {
			t.Fatalf("composite cost %d API calls, want 1", used)
		}
	})
}
