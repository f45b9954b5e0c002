package sfsim_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
)

// query runs q over raw HTTP and returns the page, failing the test on a non-200 answer.
func (c *rawClient) query(q string) (total int, records []map[string]any) {
	c.t.Helper()
	status, body := c.do("GET", "/services/data/v62.0/query?q="+url.QueryEscape(q), "")
	if status != 200 {
		c.t.Fatalf("%s: %d %s", q, status, body)
	}
	var page struct {
		TotalSize int              `json:"totalSize"`
		Records   []map[string]any `json:"records"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		c.t.Fatal(err)
	}
	return page.TotalSize, page.Records
}

func mustInsert(t *testing.T, org *sfsim.Org, typ string, f map[string]any) string {
	t.Helper()
	id, err := org.Insert(typ, f)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestStandardObjects(t *testing.T) {
	t.Run("queries on empty standard objects know their fields", func(t *testing.T) {
		c := newRaw(t, newOrg(t, sfsim.Config{}))
		for _, q := range []string{
			"SELECT UsersId, SessionType, LoginType, LastModifiedDate, CreatedDate, NumSecondsValid, SessionSecurityLevel, ParentId, Users.Username FROM AuthSession",
			"SELECT UserId, ServicePresenceStatusId, ServicePresenceStatus.DeveloperName, IsCurrentState, StatusStartDate, StatusEndDate, IsAway, ConfiguredCapacity FROM UserServicePresence",
			"SELECT DeveloperName, MasterLabel FROM ServicePresenceStatus",
			"SELECT Name FROM Profile",
			"SELECT Name, Label FROM PermissionSet",
			"SELECT AssigneeId, PermissionSetId, PermissionSet.Name, Assignee.Profile.Name FROM PermissionSetAssignment",
			"SELECT Username, IsActive, ProfileId, Profile.Name, Department, FederationIdentifier FROM User",
		} {
			if total, _ := c.query(q); total != 0 {
				t.Errorf("%s: totalSize %d", q, total)
			}
		}
	})

	org := newOrg(t, sfsim.Config{})
	profile := mustInsert(t, org, "Profile", map[string]any{"Name": "Support Agent"})
	ps := mustInsert(t, org, "permissionset", map[string]any{"Name": "Omnibridge_Agent"}) // any spelling of a standard type
	user := mustInsert(t, org, "User", map[string]any{"Username": "ana@example.com", "ProfileId": profile, "IsActive": true, "Department": "Support"})
	psa := mustInsert(t, org, "PermissionSetAssignment", map[string]any{"AssigneeId": user, "PermissionSetId": ps})
	status := mustInsert(t, org, "ServicePresenceStatus", map[string]any{"DeveloperName": "Available", "MasterLabel": "Available"})
	usp := mustInsert(t, org, "UserServicePresence", map[string]any{"UserId": user, "ServicePresenceStatusId": status, "IsCurrentState": true,
		"StatusStartDate": "2026-11-21T08:00:00.000+0000", "IsAway": false, "ConfiguredCapacity": 5})
	session := mustInsert(t, org, "AuthSession", map[string]any{"UsersId": user, "SessionType": "UI", "LoginType": "Application",
		"NumSecondsValid": 7200, "SessionSecurityLevel": "STANDARD", "LastModifiedDate": "2026-11-21T08:01:12.000+0000"})
	child := mustInsert(t, org, "AuthSession", map[string]any{"UsersId": user, "SessionType": "Content", "ParentId": session})

	t.Run("key prefixes", func(t *testing.T) {
		for id, prefix := range map[string]string{profile: "00e", ps: "0PS", user: "005", psa: "0Pa", status: "0N5", usp: "0Hn", session: "0Ak"} {
			if !strings.HasPrefix(id, prefix) || len(id) != 18 {
				t.Errorf("id %s: want an 18-character id with prefix %s", id, prefix)
			}
		}
		if typ, _, _ := org.Record(ps); typ != "PermissionSet" {
			t.Errorf("type %q, want the canonical PermissionSet", typ)
		}
	})

	c := newRaw(t, org)
	t.Run("relationships render as nested records", func(t *testing.T) {
		tests := []struct{ q, want string }{
			{"SELECT Users.Profile.Name FROM AuthSession WHERE Id = '" + session + "'",
				`"Users":{"attributes":{"type":"User","url":"/services/data/v62.0/sobjects/User/` + user + `"},"Profile":{"attributes":{"type":"Profile","url":"/services/data/v62.0/sobjects/Profile/` + profile + `"},"Name":"Support Agent"}}`},
			{"SELECT Parent.SessionType FROM AuthSession WHERE Id = '" + child + "'", `"Parent":{"attributes":{"type":"AuthSession","url":"/services/data/v62.0/sobjects/AuthSession/` + session + `"},"SessionType":"UI"}`},
			{"SELECT PermissionSet.Name, Assignee.Username FROM PermissionSetAssignment", `"PermissionSet":{"attributes":{"type":"PermissionSet","url":"/services/data/v62.0/sobjects/PermissionSet/` + ps + `"},"Name":"Omnibridge_Agent"},"Assignee":{"attributes":{"type":"User","url":"/services/data/v62.0/sobjects/User/` + user + `"},"Username":"ana@example.com"}`},
			{"SELECT UserId, ServicePresenceStatus.DeveloperName, StatusStartDate, IsAway, ConfiguredCapacity FROM UserServicePresence WHERE IsCurrentState = true",
				`"UserId":"` + user + `","ServicePresenceStatus":{"attributes":{"type":"ServicePresenceStatus","url":"/services/data/v62.0/sobjects/ServicePresenceStatus/` + status + `"},"DeveloperName":"Available"},"StatusStartDate":"2026-11-21T08:00:00.000+0000","IsAway":false,"ConfiguredCapacity":5}`},
			{"SELECT UsersId, LastModifiedDate, NumSecondsValid FROM AuthSession WHERE SessionType = 'UI'",
				`"UsersId":"` + user + `","LastModifiedDate":"2026-11-21T08:01:12.000+0000","NumSecondsValid":7200}`},
		}
		for _, tt := range tests {
			status, body := c.do("GET", "/services/data/v62.0/query?q="+url.QueryEscape(tt.q), "")
			if status != 200 || !strings.Contains(string(body), tt.want) {
				t.Errorf("%s:\n got  %d %s\n want a record containing %s", tt.q, status, body, tt.want)
			}
		}
	})

	t.Run("REST delete ends a session", func(t *testing.T) {
		status, body := c.do("DELETE", "/services/data/v62.0/sobjects/AuthSession/"+child, "")
		if status != 204 || len(body) != 0 {
			t.Fatalf("delete: %d %s", status, body)
		}
		if _, _, ok := org.Record(child); ok {
			t.Error("record still there")
		}
		if total, _ := c.query("SELECT Id FROM AuthSession"); total != 1 {
			t.Errorf("%d sessions left, want 1", total)
		}
		status, body = c.do("DELETE", "/services/data/v62.0/sobjects/AuthSession/"+child, "")
		if status != 404 || !strings.Contains(string(body), "NOT_FOUND") {
			t.Errorf("second delete: %d %s", status, body)
		}
	})
}

func TestDelete(t *testing.T) {
	org := newOrg(t, sfsim.Config{})
	ids, err := org.InsertMany("AuthSession", []map[string]any{{"SessionType": "UI"}, {"SessionType": "UI"}, {"SessionType": "API"}})
	if err != nil {
		t.Fatal(err)
	}
	user := mustInsert(t, org, "User", map[string]any{"Username": "u@example.com"})
	tests := []struct {
		name      string
		ids       []string
		wantErr   bool
		wantCount int
	}{
		{"unknown id deletes nothing", []string{ids[0], "0Akxx0000009999AAA"}, true, 3},
		{"malformed id deletes nothing", []string{ids[0], "nope"}, true, 3},
		{"15-character and lower-cased 18-character ids", []string{ids[0][:15], strings.ToLower(ids[2])}, false, 1},
		{"already deleted", []string{ids[0]}, true, 1},
		{"several types at once", []string{ids[1], user}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := org.Delete(tt.ids...)
			if (err != nil) != tt.wantErr {
				t.Errorf("Delete(%v) = %v, want error %v", tt.ids, err, tt.wantErr)
			}
			if got := org.Count("AuthSession"); got != tt.wantCount {
				t.Errorf("%d sessions left, want %d", got, tt.wantCount)
			}
		})
	}
	if org.Count("User") != 0 {
		t.Error("user not deleted")
	}
}

func TestInsertMany(t *testing.T) {
	org := newOrg(t, sfsim.Config{})
	recs := make([]map[string]any, 3)
	for i := range recs {
		recs[i] = map[string]any{"Username": fmt.Sprintf("u%d@example.com", i), "IsActive": i != 1}
	}
	recs[2]["Nickname__c"] = "x"
	recs[1]["nickname__C"] = "y" // a new field spelled two ways in one batch
	ids, err := org.InsertMany("User", recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 3 {
		t.Fatalf("%d ids", len(ids))
	}
	for i, id := range ids {
		_, f, ok := org.Record(id)
		if !ok || f["Username"] != fmt.Sprintf("u%d@example.com", i) {
			t.Errorf("ids[%d] = %s holds %v", i, id, f)
		}
	}
	c := newRaw(t, org)
	if total, _ := c.query("SELECT Id FROM User WHERE NICKNAME__C != null"); total != 2 {
		t.Errorf("%d users with a nickname, want 2", total)
	}

	tests := []struct {
		name    string
		recs    []map[string]any
		wantErr string
	}{
		{"duplicate explicit ids in the batch", []map[string]any{{"Id": "005xx0000000ABC"}, {"Id": "005xx0000000ABCAAA"}}, "User[1]: INVALID_ID_FIELD"},
		{"id already in the org", []map[string]any{{"Username": "new"}, {"Id": ids[0]}}, "User[1]: INVALID_ID_FIELD"},
		{"bad value", []map[string]any{{"Username": "new"}, {"Photo": []byte("x")}}, "User[1]: INVALID_FIELD_FOR_INSERT_UPDATE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := org.InsertMany("User", tt.recs)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
			if org.Count("User") != 3 {
				t.Errorf("%d users: a failed batch inserted records", org.Count("User"))
			}
		})
	}
	if _, err := org.InsertMany("Presence__e", []map[string]any{{}}); err == nil {
		t.Error("platform event inserted from Go")
	}
	t.Run("generated ids never take explicit ones", func(t *testing.T) {
		org := newOrg(t, sfsim.Config{})
		// In a fresh org the first generated id would be 0Akxx0000000001 (and then ...02).
		first := mustInsert(t, org, "AuthSession", map[string]any{"Id": "0Akxx0000000001"})
		ids, err := org.InsertMany("AuthSession", []map[string]any{{}, {"Id": "0Akxx0000000003"}, {}})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{first: true}
		for _, id := range ids {
			seen[id] = true
		}
		if len(seen) != 4 || org.Count("AuthSession") != 4 || !seen["0Akxx0000000003CAA"] {
			t.Errorf("ids %s %v: want 4 distinct records", first, ids)
		}
	})
}

func TestLoadSeedPresenceObjects(t *testing.T) {
	org := newOrg(t, sfsim.Config{})
	seed := `{"records": {
	  "Profile": [{"Id": "00exx000000Agnt", "Name": "Support Agent"}],
	  "PermissionSet": [{"Id": "0PSxx000000Omni", "Name": "Omnibridge_Agent"}],
	  "User": [{"Id": "005xx000001SwiU", "Username": "ana@example.com", "IsActive": true, "ProfileId": "00exx000000Agnt", "Department": "Support"}],
	  "PermissionSetAssignment": [{"AssigneeId": "005xx000001SwiU", "PermissionSetId": "0PSxx000000Omni"}],
	  "AuthSession": [{"UsersId": "005xx000001SwiUAAS", "SessionType": "UI", "LoginType": "Application", "NumSecondsValid": 7200}]
	}}`
	if err := org.LoadSeed(strings.NewReader(seed)); err != nil {
		t.Fatal(err)
	}
	c := newRaw(t, org)
	total, recs := c.query("SELECT UsersId FROM AuthSession WHERE UsersId IN (SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSet.Name = 'Omnibridge_Agent' AND Assignee.Profile.Name = 'Support Agent')")
	if total != 1 || recs[0]["UsersId"] != "005xx000001SwiUAAS" {
		t.Errorf("got %d %v", total, recs)
	}
}
