package sfsim_test

// Tests and benchmarks that drive the simulator with the real client (shared/salesforce), the
// way the session poll will.

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
)

// newClient serves org over HTTP and returns the real client, logged in with client credentials.
func newClient(tb testing.TB, org *sfsim.Org) *salesforce.Client {
	tb.Helper()
	srv := httptest.NewServer(org)
	tb.Cleanup(srv.Close)
	c, err := salesforce.New(salesforce.Credentials{Flow: salesforce.FlowClientCredentials, LoginURL: srv.URL,
		ClientID: "app", ClientSecret: "shh"}, salesforce.Options{Retry: salesforce.RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		tb.Fatal(err)
	}
	// Log in now, so that call counts below see only API calls.
	for _, err := range c.Query(tb.Context(), "SELECT Id FROM Profile LIMIT 1") {
		if err != nil {
			tb.Fatal(err)
		}
	}
	return c
}

// The session poll's queries, in the forms SOQL accepts: the permission-set condition is a second
// top-level semi-join, or the whole filter one semi-join on PermissionSetAssignment that reaches
// the user through Assignee. (A semi-join nested in the User sub-select is rejected.)
const (
	pollUsers    = "SELECT Id FROM User WHERE IsActive = true AND Profile.Name IN ('Support Agent') AND Department = 'Support'"
	pollPS       = "SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSet.Name IN ('Omnibridge_Agent')"
	pollAssignee = "SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSet.Name IN ('Omnibridge_Agent') AND Assignee.IsActive = true AND Assignee.Profile.Name IN ('Support Agent') AND Assignee.Department = 'Support'"

	sessionsTwoJoins = "SELECT UsersId, LastModifiedDate, NumSecondsValid FROM AuthSession WHERE SessionType IN ('UI') AND LoginType IN ('Application') AND UsersId IN (" + pollUsers + ") AND UsersId IN (" + pollPS + ")"
	sessionsOneJoin  = "SELECT UsersId, LastModifiedDate, NumSecondsValid FROM AuthSession WHERE SessionType IN ('UI') AND LoginType IN ('Application') AND UsersId IN (" + pollAssignee + ")"
	sessionsNoJoin   = "SELECT UsersId, LastModifiedDate, NumSecondsValid FROM AuthSession WHERE SessionType IN ('UI') AND LoginType IN ('Application')"
	presenceTwoJoins = "SELECT UserId, ServicePresenceStatusId, ServicePresenceStatus.DeveloperName, StatusStartDate FROM UserServicePresence WHERE IsCurrentState = true AND UserId IN (" + pollUsers + ") AND UserId IN (" + pollPS + ")"
)

// agentSeed returns the records of an org of n users, each with one UI session and one current
// presence row, by type in insertion order; ids are explicit, so records can link before they
// exist. User i is an agent the poll wants unless i%10 == 9 (inactive), i%10 == 8 (Sales) or
// i%20 == 7 (no permission set): 75% of users.
func agentSeed(n int) (types []string, records map[string][]map[string]any, userIDs []string, agents int) {
	const (
		agentProfile = "00exx0000000001"
		ps           = "0PSxx0000000001"
		status       = "0N5xx0000000001"
	)
	records = map[string][]map[string]any{
		"Profile":               {{"Id": agentProfile, "Name": "Support Agent"}, {"Name": "System Administrator"}},
		"PermissionSet":         {{"Id": ps, "Name": "Omnibridge_Agent"}},
		"ServicePresenceStatus": {{"Id": status, "DeveloperName": "Available", "MasterLabel": "Available"}},
	}
	start := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	for i := range n {
		id := sfsim.CaseSafeID(fmt.Sprintf("005xx%010d", i+1))
		userIDs = append(userIDs, id)
		dept := "Support"
		if i%10 == 8 {
			dept = "Sales"
		}
		records["User"] = append(records["User"], map[string]any{"Id": id, "Username": fmt.Sprintf("agent%d@example.com", i),
			"IsActive": i%10 != 9, "ProfileId": agentProfile, "Department": dept})
		if i%20 != 7 {
			records["PermissionSetAssignment"] = append(records["PermissionSetAssignment"], map[string]any{"AssigneeId": id, "PermissionSetId": ps})
		}
		if i%10 != 9 && i%10 != 8 && i%20 != 7 {
			agents++
		}
		records["AuthSession"] = append(records["AuthSession"], map[string]any{"UsersId": id, "SessionType": "UI", "LoginType": "Application",
			"NumSecondsValid": 7200, "LastModifiedDate": start.Add(time.Duration(i) * time.Second)})
		records["UserServicePresence"] = append(records["UserServicePresence"], map[string]any{"UserId": id,
			"ServicePresenceStatusId": status, "IsCurrentState": true, "StatusStartDate": start})
	}
	types = []string{"Profile", "PermissionSet", "ServicePresenceStatus", "User", "PermissionSetAssignment", "AuthSession", "UserServicePresence"}
	return types, records, userIDs, agents
}

// agentOrg seeds agentSeed(n) with InsertMany.
func agentOrg(tb testing.TB, n int) (org *sfsim.Org, userIDs []string, agents int) {
	tb.Helper()
	types, records, userIDs, agents := agentSeed(n)
	org = sfsim.New(sfsim.Config{ClientID: "app", ClientSecret: "shh", APILimit: 1 << 30})
	for _, typ := range types {
		if _, err := org.InsertMany(typ, records[typ]); err != nil {
			tb.Fatal(err)
		}
	}
	return org, userIDs, agents
}

type sessionRow struct {
	UsersID          string  `json:"UsersId"`
	LastModifiedDate string  `json:"LastModifiedDate"`
	NumSecondsValid  float64 `json:"NumSecondsValid"`
}

// drain pages through soql with the real client and returns the records and the page count.
func drain[T any](ctx context.Context, c *salesforce.Client, soql string) ([]T, int, error) {
	var out []T
	pages := 0
	for page, err := range salesforce.QueryPages[T](ctx, c, soql) {
		if err != nil {
			return out, pages, err
		}
		pages++
		out = append(out, page.Records...)
	}
	return out, pages, nil
}

func TestSessionPollQueries(t *testing.T) {
	const n = 5000 // 3,750 agents: two pages of 2,000
	org, userIDs, agents := agentOrg(t, n)
	c := newClient(t, org)
	tests := []struct {
		name, soql string
		want       int
	}{
		{"sessions, permission set as a second semi-join", sessionsTwoJoins, agents},
		{"sessions, one semi-join through Assignee", sessionsOneJoin, agents},
		{"current presence", presenceTwoJoins, agents},
		{"sessions without a join", sessionsNoJoin, n},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org.Reset()
			recs, pages, err := drain[sessionRow](t.Context(), c, tt.soql)
			if err != nil {
				t.Fatal(err)
			}
			wantPages := (tt.want + 1999) / 2000
			if len(recs) != tt.want || pages != wantPages {
				t.Errorf("%d records in %d pages, want %d in %d", len(recs), pages, tt.want, wantPages)
			}
			// Each page, the first and every nextRecordsUrl fetch, is one API call.
			if q, api := org.Calls(sfsim.KindQuery), org.APIUsage(); q != pages || api != pages || org.Calls("") != pages {
				t.Errorf("query calls %d, API usage %d, requests %d; want %d each", q, api, org.Calls(""), pages)
			}
		})
	}

	t.Run("users by id list", func(t *testing.T) {
		ids := make([]string, 200)
		for i := range ids {
			ids[i] = "'" + userIDs[i*7] + "'"
		}
		soql := "SELECT Id FROM User WHERE Id IN (" + strings.Join(ids, ",") + ") AND IsActive = true AND Profile.Name IN ('Support Agent') AND Department = 'Support' AND Id IN (" + pollPS + ")"
		recs, _, err := drain[struct{ Id string }](t.Context(), c, soql)
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for i := range 200 {
			if j := i * 7; j%10 != 9 && j%10 != 8 && j%20 != 7 {
				want++
			}
		}
		if len(recs) != want {
			t.Errorf("%d users, want %d", len(recs), want)
		}
	})

	t.Run("sessions that end are gone from the next poll", func(t *testing.T) {
		recs, _, err := drain[struct{ Id string }](t.Context(), c, "SELECT Id FROM AuthSession WHERE UsersId IN ('"+userIDs[0]+"', '"+userIDs[1]+"')")
		if err != nil || len(recs) != 2 {
			t.Fatalf("%v %v", recs, err)
		}
		if err := org.Delete(recs[0].Id); err != nil {
			t.Fatal(err)
		}
		// The client has no Delete; a composite DELETE subrequest goes through the same REST handler.
		res, err := c.Composite(t.Context(), false, []salesforce.Subrequest{{Method: "DELETE", URL: "sobjects/AuthSession/" + recs[1].Id, ReferenceID: "end"}})
		if err != nil || res[0].Err() != nil {
			t.Fatalf("%+v %v", res, err)
		}
		got, _, err := drain[sessionRow](t.Context(), c, sessionsTwoJoins)
		if err != nil || len(got) != agents-2 {
			t.Errorf("%d sessions after two ended, want %d (%v)", len(got), agents-2, err)
		}
	})

	t.Run("malformed query error reaches the client", func(t *testing.T) {
		nested := "SELECT UsersId FROM AuthSession WHERE UsersId IN (SELECT Id FROM User WHERE Id IN (" + pollPS + "))"
		_, _, err := drain[sessionRow](t.Context(), c, nested)
		if err == nil || !strings.Contains(err.Error(), "MALFORMED_QUERY") || !strings.Contains(err.Error(), "Nesting of semi join sub-selects is not supported") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestInvokeActionPerInputFailures(t *testing.T) {
	const action = "Omnibridge_SetAvailability"
	org := newOrg(t, sfsim.Config{APILimit: 1 << 30})
	rec := sfsim.NewActionRecorder("userId")
	rec.SetOutput(func(in map[string]any) map[string]any { return map[string]any{"userId": in["userId"], "applied": true} })
	org.RegisterAction(action, rec.Handle)
	c := newClient(t, org)

	inputs := make([]map[string]any, 450)
	for i := range inputs {
		inputs[i] = map[string]any{"userId": sfsim.CaseSafeID(fmt.Sprintf("005xx%010d", i)), "available": true}
	}
	locked := sfsim.Error{Code: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access to this record"}
	missing := sfsim.Error{Code: "INVALID_CROSS_REFERENCE_KEY", Message: "invalid cross reference id", Fields: []string{"userId"}}
	rec.Fail(locked, fmt.Sprintf("005xx%010d", 3)) // a 15-character id matches the 18-character input
	rec.Fail(missing, inputs[250]["userId"].(string), inputs[449]["userId"].(string))
	org.Reset()

	res, err := c.InvokeAction(t.Context(), action, inputs)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(inputs) {
		t.Fatalf("%d results for %d inputs", len(res), len(inputs))
	}
	failed := map[int]salesforce.RecordError{}
	for i, r := range res {
		if !r.IsSuccess {
			if len(r.Errors) != 1 {
				t.Fatalf("result %d: %+v", i, r)
			}
			failed[i] = r.Errors[0]
		} else if r.OutputValues["userId"] != inputs[i]["userId"] || r.OutputValues["applied"] != true {
			t.Errorf("result %d outputValues = %v", i, r.OutputValues)
		}
	}
	want := map[int]salesforce.RecordError{
		3:   {StatusCode: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access to this record"},
		250: {StatusCode: "INVALID_CROSS_REFERENCE_KEY", Message: "invalid cross reference id", Fields: []string{"userId"}},
		449: {StatusCode: "INVALID_CROSS_REFERENCE_KEY", Message: "invalid cross reference id", Fields: []string{"userId"}},
	}
	if fmt.Sprint(failed) != fmt.Sprint(want) {
		t.Errorf("failures %v, want %v", failed, want)
	}
	if org.Calls(sfsim.KindAction) != 3 || rec.Calls() != 3 || len(rec.Inputs()) != 450 || org.APIUsage() != 3 {
		t.Errorf("action calls %d, recorder calls %d, inputs %d, API usage %d; want 3, 3, 450, 3",
			org.Calls(sfsim.KindAction), rec.Calls(), len(rec.Inputs()), org.APIUsage())
	}

	t.Run("every input of a call failing", func(t *testing.T) {
		// Salesforce answers 400 with the per-input results; the client still returns them.
		res, err := c.InvokeAction(t.Context(), action, []map[string]any{inputs[3], inputs[250]})
		if err != nil || len(res) != 2 || res[0].IsSuccess || res[1].IsSuccess || res[1].Errors[0].StatusCode != "INVALID_CROSS_REFERENCE_KEY" {
			t.Errorf("%+v %v", res, err)
		}
	})
	t.Run("succeed again", func(t *testing.T) {
		rec.Succeed(inputs[250]["userId"].(string))
		res, err := c.InvokeAction(t.Context(), action, []map[string]any{inputs[3], inputs[250]})
		if err != nil || len(res) != 2 || res[0].IsSuccess || !res[1].IsSuccess {
			t.Errorf("%+v %v", res, err)
		}
		rec.Succeed()
		res, err = c.InvokeAction(t.Context(), action, []map[string]any{inputs[3]})
		if err != nil || !res[0].IsSuccess {
			t.Errorf("%+v %v", res, err)
		}
	})
	t.Run("wire format", func(t *testing.T) {
		rec.Fail(missing, "005xx0000000001")
		raw := newRaw(t, org)
		status, body := raw.do("POST", "/services/data/v62.0/actions/custom/apex/"+action,
			`{"inputs":[{"userId":"005xx0000000000AAA"},{"userId":"005xx0000000001AAA"}]}`)
		want := `[{"actionName":"Omnibridge_SetAvailability","errors":null,"isSuccess":true,"outputValues":{"applied":true,"userId":"005xx0000000000AAA"},"version":1},` +
			`{"actionName":"Omnibridge_SetAvailability","errors":[{"statusCode":"INVALID_CROSS_REFERENCE_KEY","message":"invalid cross reference id","fields":["userId"]}],"isSuccess":false,"outputValues":null,"version":1}]`
		if status != 200 || strings.TrimSpace(string(body)) != want {
			t.Errorf("got %d %s\nwant 200 %s", status, body, want)
		}
	})
}

// BenchmarkSessionPoll50k pages through the session poll's queries over 50,000 users, 50,000
// sessions and 50,000 presence rows with the real client (25 pages of 2,000 at most), against
// the baseline of the same session scan without semi-joins. Each sub-select runs once per query.
func BenchmarkSessionPoll50k(b *testing.B) {
	org, _, agents := agentOrg(b, 50000)
	c := newClient(b, org)
	for _, bm := range []struct {
		name, soql string
		want       int
	}{
		{"sessions-two-semi-joins", sessionsTwoJoins, agents},
		{"sessions-one-semi-join", sessionsOneJoin, agents},
		{"presence-two-semi-joins", presenceTwoJoins, agents},
		{"baseline-sessions-no-join", sessionsNoJoin, 50000},
	} {
		b.Run(bm.name, func(b *testing.B) {
			pages := 0
			for b.Loop() {
				recs, p, err := drain[sessionRow](b.Context(), c, bm.soql)
				if err != nil || len(recs) != bm.want {
					b.Fatalf("%d records, want %d: %v", len(recs), bm.want, err)
				}
				pages += p
				org.Reset() // keeps the request log from growing
			}
			b.ReportMetric(float64(pages)/float64(b.N), "sf-calls/op")
		})
	}
}

// BenchmarkSeed50k seeds 50,000 users, sessions, presence rows and permission set assignments:
// with InsertMany, and with the baseline of one Insert per record.
func BenchmarkSeed50k(b *testing.B) {
	types, records, _, _ := agentSeed(50000)
	b.Run("InsertMany", func(b *testing.B) {
		for b.Loop() {
			org := sfsim.New(sfsim.Config{})
			for _, typ := range types {
				if _, err := org.InsertMany(typ, records[typ]); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("Insert-per-record", func(b *testing.B) {
		for b.Loop() {
			org := sfsim.New(sfsim.Config{})
			for _, typ := range types {
				for _, rec := range records[typ] {
					if _, err := org.Insert(typ, rec); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	})
}
