package sfsim_test

// Tests of what case routing and call logging need from the org: the case and queue objects,
// their SOQL, SOSL phone search and composite requests with references, through the real client
// where it has a method and over raw HTTP otherwise.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
)

func mustNoErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func asAPIError(err error, target **salesforce.APIError) bool { return errors.As(err, target) }

func newContactCenterOrg(t *testing.T) *sfsim.Org {
	t.Helper()
	return sfsim.New(sfsim.Config{ClientID: "app", ClientSecret: "shh"})
}

// search runs a SOSL search over raw HTTP and returns the status and the records' Ids by type.
func (c *rawClient) search(q string) (int, []string, []byte) {
	c.t.Helper()
	status, body := c.do("GET", "/services/data/v62.0/search/?q="+url.QueryEscape(q), "")
	if status != 200 {
		return status, nil, body
	}
	var res struct {
		SearchRecords []struct {
			Attributes struct{ Type, URL string } `json:"attributes"`
			ID         string                     `json:"Id"`
		} `json:"searchRecords"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		c.t.Fatalf("%s: %v", body, err)
	}
	var out []string
	for _, r := range res.SearchRecords {
		if !strings.HasSuffix(r.Attributes.URL, "/sobjects/"+r.Attributes.Type+"/"+r.ID) {
			c.t.Errorf("attributes %+v do not match Id %s", r.Attributes, r.ID)
		}
		out = append(out, r.Attributes.Type+":"+r.ID)
	}
	return status, out, body
}

// TestSearchPhoneFields checks SOSL IN PHONE FIELDS: numbers match whatever their formatting.
func TestSearchPhoneFields(t *testing.T) {
	org := newContactCenterOrg(t)
	doe := sfsim.CaseSafeID(mustInsert(t, org, "Contact", map[string]any{"FirstName": "Jane", "LastName": "Doe", "Phone": "(415) 555-1212"}))
	roe := sfsim.CaseSafeID(mustInsert(t, org, "Contact", map[string]any{"LastName": "Roe", "MobilePhone": "+1 415-555-3434", "HomePhone": "415.555.1212"}))
	uk := sfsim.CaseSafeID(mustInsert(t, org, "Contact", map[string]any{"LastName": "Smith", "Phone": "+44 20 7123 4567"}))
	lead := sfsim.CaseSafeID(mustInsert(t, org, "Lead", map[string]any{"LastName": "Poe", "Company": "Acme", "Phone": "+14155551212"}))
	c := newRaw(t, org)
	tests := []struct {
		name, q string
		want    []string
	}{
		{"E.164 against formatted numbers", `FIND {\+14155551212} IN PHONE FIELDS RETURNING Contact(Id, Name, Phone ORDER BY LastName)`, []string{"Contact:" + doe, "Contact:" + roe}},
		{"national against E.164", `FIND {4155551212} IN PHONE FIELDS RETURNING Lead(Id)`, []string{"Lead:" + lead}},
		{"mobile phone", `FIND {(415) 555-3434} IN PHONE FIELDS RETURNING Contact(Id)`, []string{"Contact:" + roe}},
		{"international", `FIND {\+442071234567} IN PHONE FIELDS RETURNING Contact(Id)`, []string{"Contact:" + uk}},
		{"several objects", `FIND {\+14155551212} IN PHONE FIELDS RETURNING Contact(Id WHERE LastName = 'Doe'), Lead(Id, Company)`, []string{"Contact:" + doe, "Lead:" + lead}},
		{"overall limit", `FIND {\+14155551212} IN PHONE FIELDS RETURNING Contact(Id ORDER BY LastName), Lead(Id) LIMIT 1`, []string{"Contact:" + doe}},
		{"per-object limit", `FIND {\+14155551212} IN PHONE FIELDS RETURNING Contact(Id ORDER BY LastName DESC LIMIT 1)`, []string{"Contact:" + roe}},
		{"no match", `FIND {\+14155550000} IN PHONE FIELDS RETURNING Contact(Id)`, nil},
		{"too short a tail", `FIND {1212} IN PHONE FIELDS RETURNING Contact(Id)`, nil},
		{"object without fields", `find {4155551212} in phone fields returning Contact`, []string{"Contact:" + doe, "Contact:" + roe}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, got, body := c.search(tc.q)
			if status != 200 {
				t.Fatalf("%d %s", status, body)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("selected fields", func(t *testing.T) {
		_, _, body := c.search(`FIND {\+14155551212} IN PHONE FIELDS RETURNING Contact(Id, Name, Phone WHERE LastName = 'Doe')`)
		var res struct {
			SearchRecords []map[string]any `json:"searchRecords"`
		}
		mustNoErr(t, json.Unmarshal(body, &res))
		if len(res.SearchRecords) != 1 || res.SearchRecords[0]["Name"] != "Jane Doe" || res.SearchRecords[0]["Phone"] != "(415) 555-1212" {
			t.Errorf("records %v", res.SearchRecords)
		}
	})
	errTests := []struct{ name, q, code string }{
		{"not SOSL", `SELECT Id FROM Contact`, "MALFORMED_SEARCH"},
		{"other scope", `FIND {Doe} IN NAME FIELDS RETURNING Contact(Id)`, "MALFORMED_SEARCH"},
		{"one digit", `FIND {4} IN PHONE FIELDS RETURNING Contact(Id)`, "MALFORMED_SEARCH"},
		{"unknown field", `FIND {4155551212} IN PHONE FIELDS RETURNING Contact(Id, Nope)`, "INVALID_FIELD"},
		{"unknown object", `FIND {4155551212} IN PHONE FIELDS RETURNING Nope__c(Id)`, "NOT_FOUND"},
	}
	for _, tc := range errTests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := c.search(tc.q)
			var errs []struct{ ErrorCode string }
			if status != 400 || json.Unmarshal(body, &errs) != nil || len(errs) != 1 || errs[0].ErrorCode != tc.code {
				t.Errorf("%d %s, want 400 %s", status, body, tc.code)
			}
		})
	}
	if n := org.Calls(sfsim.KindSearch); n != len(tests)+1+len(errTests) {
		t.Errorf("%d searches counted", n)
	}
}

// TestStandardBehaviours checks the computed and required fields of the standard objects
// through the real client.
func TestStandardBehaviours(t *testing.T) {
	org := newContactCenterOrg(t)
	c := newClient(t, org)
	ctx := t.Context()
	contact, err := c.Create(ctx, "Contact", map[string]any{"FirstName": "Jane", "LastName": "Doe", "Phone": "(415) 555-1212"})
	mustNoErr(t, err)
	first, err := c.Create(ctx, "Case", map[string]any{"Subject": "Printer on fire", "ContactId": contact, "Origin": "Phone"})
	mustNoErr(t, err)
	second, err := c.Create(ctx, "Case", map[string]any{"Subject": "Toner", "Status": "Closed"})
	mustNoErr(t, err)
	task, err := c.Create(ctx, "Task", map[string]any{"Subject": "Call", "TaskSubtype": "Call", "CallType": "Inbound", "CallDurationInSeconds": 252, "CallObject": "6f1c2b3a", "WhoId": contact, "WhatId": first, "Status": "Completed"})
	mustNoErr(t, err)

	got := map[string]map[string]any{}
	for _, q := range []string{
		"SELECT Id, Name FROM Contact",
		"SELECT Id, CaseNumber, Status, IsClosed, Priority, Contact.Name FROM Case ORDER BY CaseNumber",
		"SELECT Id, IsClosed, Status, Priority FROM Task",
	} {
		for rec, err := range c.Query(ctx, q) {
			mustNoErr(t, err)
			got[rec["Id"].(string)] = rec
		}
	}
	checks := []struct {
		name, id, field string
		want            any
	}{
		{"contact name", contact, "Name", "Jane Doe"},
		{"first case number", first, "CaseNumber", "00000001"},
		{"second case number", second, "CaseNumber", "00000002"},
		{"default status", first, "Status", "New"},
		{"open case", first, "IsClosed", false},
		{"closed case", second, "IsClosed", true},
		{"default priority", first, "Priority", "Medium"},
		{"completed task", task, "IsClosed", true},
	}
	for _, tc := range checks {
		t.Run(tc.name, func(t *testing.T) {
			if v := got[tc.id][tc.field]; v != tc.want {
				t.Errorf("%s = %v, want %v", tc.field, v, tc.want)
			}
		})
	}
	t.Run("relationship", func(t *testing.T) {
		if c, _ := got[first]["Contact"].(map[string]any); c == nil || c["Name"] != "Jane Doe" {
			t.Errorf("Contact %v", got[first]["Contact"])
		}
	})
	errs := []struct {
		name, sObject string
		fields        map[string]any
		code          string
	}{
		{"contact without last name", "Contact", map[string]any{"FirstName": "Jane"}, "REQUIRED_FIELD_MISSING"},
		{"lead without company", "Lead", map[string]any{"LastName": "Poe"}, "REQUIRED_FIELD_MISSING"},
		{"comment without parent", "CaseComment", map[string]any{"CommentBody": "hi"}, "REQUIRED_FIELD_MISSING"},
		{"case number is computed", "Case", map[string]any{"CaseNumber": "42"}, "INVALID_FIELD_FOR_INSERT_UPDATE"},
		{"contact name is computed", "Contact", map[string]any{"LastName": "Doe", "Name": "X"}, "INVALID_FIELD_FOR_INSERT_UPDATE"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Create(ctx, tc.sObject, tc.fields)
			var apiErr *salesforce.APIError
			if !asAPIError(err, &apiErr) || apiErr.ErrorCode != tc.code {
				t.Errorf("err %v, want %s", err, tc.code)
			}
		})
	}
	t.Run("closing a case through an update", func(t *testing.T) {
		mustNoErr(t, c.Update(ctx, "Case", first, map[string]any{"Status": "Closed"}))
		_, f, _ := org.Record(first)
		if f["IsClosed"] != true || f["ClosedDate"] == nil {
			t.Errorf("case after update %v", f)
		}
	})
}

// TestRoutingQueries runs the queries case routing makes: queues by DeveloperName, the objects a
// queue takes, and open cases owned by monitored queues, paged and with the owner's name.
func TestRoutingQueries(t *testing.T) {
	org := newContactCenterOrg(t)
	mustNoErr(t, org.DefineObject("Case", "Omnibridge_Skills__c", "Omnibridge_Routing_Status__c", "Omnibridge_Contact_Id__c"))
	billing := mustInsert(t, org, "Group", map[string]any{"Name": "Billing", "DeveloperName": "Billing_Queue", "Type": "Queue"})
	other := mustInsert(t, org, "Group", map[string]any{"Name": "Sales", "DeveloperName": "Sales_Team", "Type": "Regular"})
	mustInsert(t, org, "QueueSobject", map[string]any{"QueueId": billing, "SobjectType": "Case"})
	var open []string
	for i := range 5 {
		open = append(open, sfsim.CaseSafeID(mustInsert(t, org, "Case", map[string]any{"Subject": fmt.Sprintf("Case %d", i), "OwnerId": billing, "Omnibridge_Skills__c": "Billing;Spanish"})))
	}
	mustInsert(t, org, "Case", map[string]any{"Subject": "closed", "OwnerId": billing, "Status": "Closed"})
	mustInsert(t, org, "Case", map[string]any{"Subject": "elsewhere", "OwnerId": other})
	c := newClient(t, org)
	ctx := t.Context()
	ids := func(q string) []string {
		t.Helper()
		var out []string
		for rec, err := range c.Query(ctx, q) {
			mustNoErr(t, err)
			var m struct {
				ID                string `json:"Id"`
				QueueID           string `json:"QueueId"`
				OmnibridgeSkillsC string `json:"Omnibridge_Skills__c"`
				Owner             struct{ Name string }
			}
			raw, err := json.Marshal(rec)
			mustNoErr(t, err)
			mustNoErr(t, json.Unmarshal(raw, &m))
			if m.QueueID != "" {
				out = append(out, m.QueueID)
				continue
			}
			if m.OmnibridgeSkillsC != "" && (m.OmnibridgeSkillsC != "Billing;Spanish" || m.Owner.Name != "Billing") {
				t.Errorf("case %+v", m)
			}
			out = append(out, m.ID)
		}
		return out
	}
	t.Run("queues by developer name", func(t *testing.T) {
		got := ids("SELECT Id, DeveloperName FROM Group WHERE Type = 'Queue' AND DeveloperName IN ('Billing_Queue', 'Sales_Team')")
		if !reflect.DeepEqual(got, []string{sfsim.CaseSafeID(billing)}) {
			t.Errorf("queues %v", got)
		}
	})
	t.Run("queue objects", func(t *testing.T) {
		got := ids("SELECT QueueId, SobjectType FROM QueueSobject WHERE SobjectType = 'Case' AND QueueId IN (SELECT Id FROM Group WHERE Type = 'Queue')")
		if !reflect.DeepEqual(got, []string{sfsim.CaseSafeID(billing)}) {
			t.Errorf("queue objects %v", got)
		}
	})
	t.Run("open cases in monitored queues, paged by id", func(t *testing.T) {
		var all []string
		after := "000000000000000"
		for {
			page := ids("SELECT Id, CaseNumber, Subject, Priority, OwnerId, Owner.Name, Omnibridge_Skills__c FROM Case WHERE OwnerId IN (SELECT Id FROM Group WHERE Type = 'Queue' AND DeveloperName IN ('Billing_Queue')) AND IsClosed = false AND Id > " + salesforce.Quote(after) + " ORDER BY Id LIMIT 2")
			if len(page) == 0 {
				break
			}
			all = append(all, page...)
			after = page[len(page)-1]
		}
		want := slices.Clone(open)
		slices.Sort(want)
		if !reflect.DeepEqual(all, want) {
			t.Errorf("cases %v, want %v", all, want)
		}
	})
	t.Run("comments and emails of a case", func(t *testing.T) {
		mustInsert(t, org, "CaseComment", map[string]any{"ParentId": open[0], "CommentBody": "Any news?", "IsPublished": true})
		mustInsert(t, org, "EmailMessage", map[string]any{"ParentId": open[0], "Incoming": true, "Subject": "Re: Case 0", "FromAddress": "jane@example.com"})
		mustInsert(t, org, "EmailMessage", map[string]any{"ParentId": open[0], "Incoming": false, "Subject": "Re: Case 0"})
		if got := ids("SELECT Id FROM CaseComment WHERE ParentId = " + salesforce.Quote(open[0])); len(got) != 1 {
			t.Errorf("comments %v", got)
		}
		if got := ids("SELECT Id FROM EmailMessage WHERE ParentId = " + salesforce.Quote(open[0]) + " AND Incoming = true"); len(got) != 1 {
			t.Errorf("incoming emails %v", got)
		}
	})
}

// TestCallLogComposite creates a Contact, its Case, the first call-log record and the call Task
// in one composite request whose subrequests refer to each other, through the real client, then
// checks allOrNone rollback.
func TestCallLogComposite(t *testing.T) {
	org := newContactCenterOrg(t)
	mustNoErr(t, org.DefineObject("Omnibridge_Call_Log__c", "Case__c", "Step__c", "Start__c", "Duration_Seconds__c", "Contact_Id__c"))
	c := newClient(t, org)
	ctx := t.Context()
	subs := []salesforce.Subrequest{
		{Method: "POST", URL: "sobjects/Contact", ReferenceID: "contact", Body: map[string]any{"LastName": "Unknown", "Phone": "+14155551212"}},
		{Method: "POST", URL: "sobjects/Case", ReferenceID: "case", Body: map[string]any{"ContactId": "@{contact.id}", "Subject": "Call from +14155551212", "Origin": "Phone"}},
		{Method: "POST", URL: "sobjects/Omnibridge_Call_Log__c", ReferenceID: "log", Body: map[string]any{"Case__c": "@{case.id}", "Step__c": "Queued", "Start__c": "2024-03-11T15:00:04.500Z", "Duration_Seconds__c": 26.75}},
		{Method: "GET", URL: "sobjects/Case/@{case.id}?fields=CaseNumber,ContactId", ReferenceID: "caseNumber"},
	}
	before := org.APIUsage()
	res, err := c.Composite(ctx, true, subs)
	mustNoErr(t, err)
	if n := org.APIUsage() - before; n != 1 {
		t.Errorf("composite cost %d API calls, want 1", n)
	}
	for _, r := range res {
		mustNoErr(t, r.Err())
	}
	var created struct{ ID string }
	mustNoErr(t, json.Unmarshal(res[0].Body, &created))
	var got struct{ CaseNumber, ContactID string }
	mustNoErr(t, json.Unmarshal(res[3].Body, &got))
	if got.CaseNumber != "00000001" || got.ContactID != created.ID {
		t.Errorf("case %+v, contact %s", got, created.ID)
	}
	if org.Count("Omnibridge_Call_Log__c") != 1 {
		t.Errorf("%d call logs", org.Count("Omnibridge_Call_Log__c"))
	}

	t.Run("allOrNone rolls back", func(t *testing.T) {
		bad := []salesforce.Subrequest{
			{Method: "POST", URL: "sobjects/Contact", ReferenceID: "contact", Body: map[string]any{"LastName": "Second"}},
			{Method: "POST", URL: "sobjects/Case", ReferenceID: "case", Body: map[string]any{"ContactId": "@{contact.id}"}},
			{Method: "POST", URL: "sobjects/Omnibridge_Call_Log__c", ReferenceID: "log", Body: map[string]any{"Case__c": "@{case.id}", "Nope__c": 1}},
		}
		res, err := c.Composite(ctx, true, bad)
		mustNoErr(t, err)
		codes := make([]string, len(res))
		for i, r := range res {
			var apiErr *salesforce.APIError
			if asAPIError(r.Err(), &apiErr) {
				codes[i] = apiErr.ErrorCode
			}
		}
		if !reflect.DeepEqual(codes, []string{"PROCESSING_HALTED", "PROCESSING_HALTED", "INVALID_FIELD"}) {
			t.Errorf("codes %v", codes)
		}
		if org.Count("Contact") != 1 || org.Count("Case") != 1 {
			t.Errorf("rollback left %d contacts and %d cases", org.Count("Contact"), org.Count("Case"))
		}
	})
}
