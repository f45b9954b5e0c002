package sfsim

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// presenceOrg seeds the objects the session poll reads: profiles, permission sets and their
// assignments, users, sessions and Omni-Channel presence. Reference fields mix 15- and
// 18-character ids, as real data does.
//
//	user  active profile        department  Omnibridge_Agent  sessions (type/login)          presence
//	ana   yes    Support Agent  Support     yes               UI/Application ×2             Available (+ an old row)
//	ben   yes    Support Agent  Support     no                UI/Application                Busy
//	cid   no     Support Agent  Support     yes               UI/Application                -
//	dee   yes    Sys Admin      Support     yes               UI/Application                -
//	eve   yes    Support Agent  Sales       yes               UI/Application                -
//	fay   yes    Support Agent  Support     yes (+ Other)     UI/SAML Sfdc Initiated SSO    null status
//	gus   yes    Support Agent  Support     yes               -                             -
func presenceOrg(t testing.TB) (*Org, map[string]string) {
	t.Helper()
	o := New(Config{})
	ids := map[string]string{}
	one := func(typ string, f map[string]any) string {
		t.Helper()
		id, err := o.Insert(typ, f)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	agentProfile := one("Profile", map[string]any{"Name": "Support Agent"})
	adminProfile := one("Profile", map[string]any{"Name": "System Administrator"})
	agentPS := one("PermissionSet", map[string]any{"Name": "Omnibridge_Agent", "Label": "Omnibridge Agent"})
	otherPS := one("PermissionSet", map[string]any{"Name": "Other"})
	available := one("ServicePresenceStatus", map[string]any{"DeveloperName": "Available", "MasterLabel": "Available"})
	busy := one("ServicePresenceStatus", map[string]any{"DeveloperName": "Busy", "MasterLabel": "Busy"})
	users := []struct {
		name          string
		active        bool
		profile, dept string
		ps            []string
	}{
		{"ana", true, agentProfile, "Support", []string{agentPS}},
		{"ben", true, agentProfile, "Support", nil},
		{"cid", false, agentProfile, "Support", []string{agentPS}},
		{"dee", true, adminProfile, "Support", []string{agentPS}},
		{"eve", true, agentProfile, "Sales", []string{agentPS}},
		{"fay", true, agentProfile, "Support", []string{otherPS, agentPS}},
		{"gus", true, agentProfile, "Support", []string{agentPS}},
	}
	for i, u := range users {
		profile := u.profile
		if i%2 == 1 {
			profile = profile[:15]
		}
		id := one("User", map[string]any{"Username": u.name + "@example.com", "Name": u.name, "IsActive": u.active,
			"ProfileId": profile, "Department": u.dept})
		ids[u.name] = id
		for _, ps := range u.ps {
			assignee := id
			if i%2 == 0 {
				assignee = id[:15]
			}
			one("PermissionSetAssignment", map[string]any{"AssigneeId": assignee, "PermissionSetId": ps})
		}
	}
	for _, s := range []struct{ user, login string }{
		{"ana", "Application"}, {"ana", "Application"}, {"ben", "Application"}, {"cid", "Application"},
		{"dee", "Application"}, {"eve", "Application"}, {"fay", "SAML Sfdc Initiated SSO"},
	} {
		one("AuthSession", map[string]any{"UsersId": ids[s.user], "SessionType": "UI", "LoginType": s.login,
			"NumSecondsValid": 7200, "SessionSecurityLevel": "STANDARD"})
	}
	one("UserServicePresence", map[string]any{"UserId": ids["ana"], "ServicePresenceStatusId": busy, "IsCurrentState": false})
	one("UserServicePresence", map[string]any{"UserId": ids["ana"], "ServicePresenceStatusId": available, "IsCurrentState": true})
	one("UserServicePresence", map[string]any{"UserId": ids["ben"][:15], "ServicePresenceStatusId": busy[:15], "IsCurrentState": true})
	one("UserServicePresence", map[string]any{"UserId": ids["fay"], "ServicePresenceStatusId": nil, "IsCurrentState": true})
	return o, ids
}

// column runs q and returns the first selected field of each row (through relationships),
// formatted as text, in order.
func column(t *testing.T, o *Org, q string) []string {
	t.Helper()
	res, e := o.run(q)
	if e != nil {
		t.Fatalf("%s:\n%s %s", q, e.Code, e.Message)
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	var out []string
	for _, r := range res.rows {
		v := o.value(o.byID[r.id], &res.c.sel[0])
		s, _ := v.(string)
		out = append(out, strings.TrimSuffix(s, "@example.com"))
	}
	return out
}

// The filter the session poll applies to users, in its three forms.
const (
	agentUsers = "SELECT Id FROM User WHERE IsActive = true AND Profile.Name IN ('Support Agent') AND Department = 'Support'"
	agentPSA   = "SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSet.Name IN ('Omnibridge_Agent')"
	agentsByPS = "SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSet.Name IN ('Omnibridge_Agent') " +
		"AND Assignee.IsActive = true AND Assignee.Profile.Name IN ('Support Agent') AND Assignee.Department = 'Support'"
)

func TestSemiJoins(t *testing.T) {
	o, ids := presenceOrg(t)
	tests := []struct {
		name, query string
		want        []string
	}{
		{"IN on a reference field, sub-select with relationship paths",
			"SELECT Users.Username FROM AuthSession WHERE SessionType IN ('UI') AND LoginType IN ('Application') AND UsersId IN (" + agentUsers + ")",
			[]string{"ana", "ana", "ben"}},
		{"two semi-joins ANDed: user filter plus permission set",
			"SELECT Users.Username FROM AuthSession WHERE SessionType IN ('UI') AND LoginType IN ('Application') AND UsersId IN (" + agentUsers + ") AND UsersId IN (" + agentPSA + ")",
			[]string{"ana", "ana"}},
		{"one semi-join on PermissionSetAssignment filtering through Assignee",
			"SELECT Users.Username FROM AuthSession WHERE SessionType IN ('UI') AND UsersId IN (" + agentsByPS + ")",
			[]string{"ana", "ana", "fay"}},
		{"UserServicePresence current state of agents",
			"SELECT User.Username FROM UserServicePresence WHERE IsCurrentState = true AND UserId IN (" + agentUsers + ")",
			[]string{"ana", "ben", "fay"}},
		{"relationship field of a semi-joined row",
			"SELECT ServicePresenceStatus.DeveloperName FROM UserServicePresence WHERE IsCurrentState = true AND UserId IN (" + agentsByPS + ")",
			[]string{"Available", ""}},
		{"IN on Id matches each outer row once",
			"SELECT Username FROM User WHERE Id IN (SELECT UsersId FROM AuthSession)",
			[]string{"ana", "ben", "cid", "dee", "eve", "fay"}},
		{"anti-join: users without a session",
			"SELECT Username FROM User WHERE Id NOT IN (SELECT UsersId FROM AuthSession)",
			[]string{"gus"}},
		{"anti-join: users without the permission set",
			"SELECT Username FROM User WHERE Id NOT IN (" + agentPSA + ")",
			[]string{"ben"}},
		{"anti-join keeps nulls, as NOT IN with values does",
			"SELECT User.Username FROM UserServicePresence WHERE IsCurrentState = true AND ServicePresenceStatusId NOT IN (SELECT Id FROM ServicePresenceStatus WHERE DeveloperName = 'Busy')",
			[]string{"ana", "fay"}},
		{"semi-join and anti-join together",
			"SELECT Username FROM User WHERE Id IN (" + agentPSA + ") AND Id NOT IN (SELECT UsersId FROM AuthSession WHERE LoginType = 'Application')",
			[]string{"fay", "gus"}},
		{"sub-select WHERE with parenthesized OR",
			"SELECT Username FROM User WHERE Id IN (SELECT UsersId FROM AuthSession WHERE (LoginType != 'Application' OR Users.Department = 'Sales'))",
			[]string{"eve", "fay"}},
		{"semi-join inside a parenthesized AND",
			"SELECT Username FROM User WHERE IsActive = true AND (Department = 'Support' AND Id IN (SELECT UsersId FROM AuthSession))",
			[]string{"ana", "ben", "dee", "fay"}},
		{"sub-select matching nothing",
			"SELECT Username FROM User WHERE Id IN (SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSet.Name = 'Nope')",
			nil},
		{"ORDER BY and LIMIT on the outer query",
			"SELECT Users.Username FROM AuthSession WHERE UsersId IN (" + agentsByPS + ") ORDER BY Users.Username DESC LIMIT 2",
			[]string{"fay", "ana"}},
		{"ids list with a filter, ids in either form",
			"SELECT Username FROM User WHERE Id IN ('" + ids["ana"] + "', '" + ids["ben"][:15] + "', '" + strings.ToLower(ids["cid"]) + "', '" + ids["eve"] + "') AND IsActive = true AND Department = 'Support'",
			[]string{"ana", "ben"}},
		{"ids list on a reference field",
			"SELECT Users.Username FROM AuthSession WHERE UsersId IN ('" + ids["ben"] + "', '" + ids["fay"][:15] + "')",
			[]string{"ben", "fay"}},
		{"NOT IN ids list",
			"SELECT Username FROM User WHERE Id NOT IN ('" + ids["ana"] + "', '" + ids["ben"] + "', '" + ids["cid"] + "', '" + ids["dee"] + "')",
			[]string{"eve", "fay", "gus"}},
		{"keywords in any case",
			"select username from user where id in (select usersid from authsession where logintype = 'application') and id not in (select assigneeid from permissionsetassignment)",
			[]string{"ben"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := column(t, o, tt.query); !slices.Equal(got, tt.want) {
				t.Errorf("%s\n got  %q\n want %q", tt.query, got, tt.want)
			}
		})
	}
	t.Run("COUNT with a semi-join", func(t *testing.T) {
		res, e := o.run("SELECT COUNT() FROM AuthSession WHERE UsersId IN (" + agentUsers + ") AND UsersId IN (" + agentPSA + ")")
		if e != nil || res.total != 3 {
			t.Errorf("COUNT() = %v, %v; want 3 (ana ×2, fay)", res, e)
		}
	})
}

func TestSemiJoinErrors(t *testing.T) {
	const (
		nested  = "Nesting of semi join sub-selects is not supported"
		max2    = "Maximum 2 semi join sub-selects are allowed"
		withOr  = "Semi join sub-selects are not allowed with the 'OR' operator"
		topOnly = "Semi join sub-selects are only allowed at the top level WHERE expressions and not in nested WHERE expressions."
		withNot = "Semi join sub-selects are not allowed with the 'NOT' operator"
	)
	tests := []struct {
		name     string
		query    string
		wantCode string
		wantMsg  string // the message's last line
		wantCol  int    // 0: not checked
	}{
		{"semi-join nested in a semi-join (the poll's first draft)",
			"SELECT UsersId FROM AuthSession WHERE UsersId IN (SELECT Id FROM User WHERE IsActive = true AND Id IN (SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSet.Name IN ('Omnibridge_Agent')))",
			"MALFORMED_QUERY", nested, 104},
		{"anti-join nested in a semi-join",
			"SELECT Id FROM Profile WHERE Id IN (SELECT ProfileId FROM User WHERE Id NOT IN (SELECT UsersId FROM AuthSession))",
			"MALFORMED_QUERY", nested, 0},
		{"three semi-joins",
			"SELECT Id FROM AuthSession WHERE UsersId IN (" + agentUsers + ") AND UsersId IN (" + agentPSA + ") AND UsersId NOT IN (SELECT UserId FROM UserServicePresence)",
			"MALFORMED_QUERY", max2, 0},
		{"semi-join as a term of the top-level OR",
			"SELECT Id FROM User WHERE Department = 'Sales' OR Id IN (" + agentPSA + ")",
			"MALFORMED_QUERY", withOr, 51},
		{"semi-join inside a parenthesized OR",
			"SELECT Id FROM User WHERE IsActive = true AND (Department = 'Sales' OR Id IN (" + agentPSA + "))",
			"MALFORMED_QUERY", topOnly, 0},
		{"semi-joins ORed with each other",
			"SELECT Id FROM Profile WHERE Name != null AND (Id IN (SELECT ProfileId FROM User) OR Id IN (SELECT ProfileId FROM PermissionSet))",
			"MALFORMED_QUERY", topOnly, 0},
		{"semi-join in an AND under the top-level OR",
			"SELECT Id FROM User WHERE (IsActive = true AND Id IN (" + agentPSA + ")) OR Department = 'Sales'",
			"MALFORMED_QUERY", topOnly, 0},
		{"NOT before a semi-join",
			"SELECT Id FROM User WHERE NOT Id IN (" + agentPSA + ")",
			"MALFORMED_QUERY", withNot, 0},
		{"NOT before a parenthesized anti-join",
			"SELECT Id FROM User WHERE IsActive = true AND NOT (Id NOT IN (" + agentPSA + "))",
			"MALFORMED_QUERY", withNot, 0},
		{"inner and outer on the same object",
			"SELECT Id FROM User WHERE ManagerId IN (SELECT Id FROM user WHERE IsActive = true)",
			"MALFORMED_QUERY", "The inner and outer selects should not be on the same object type", 56},
		{"activity object in the sub-select",
			"SELECT Id FROM User WHERE Id IN (SELECT OwnerId FROM Task)",
			"MALFORMED_QUERY", "Entity 'Task' is not supported for semi join inner selects", 0},
		{"sub-select of a non-id field",
			"SELECT Id FROM AuthSession WHERE UsersId IN (SELECT Username FROM User)",
			"MALFORMED_QUERY", "semi join sub selects can only query id fields, cannot use: 'Username'", 53},
		{"sub-select through a relationship",
			"SELECT Id FROM AuthSession WHERE UsersId IN (SELECT Assignee.Id FROM PermissionSetAssignment)",
			"MALFORMED_QUERY", "semi join sub selects can only query id fields, cannot use: 'Assignee.Id'", 0},
		{"left operand through a relationship",
			"SELECT Id FROM AuthSession WHERE Users.ProfileId IN (SELECT Id FROM Profile)",
			"MALFORMED_QUERY", "The left operand of a semi join or anti join must be an id or reference field of AuthSession, without a relationship path: 'Users.ProfileId'", 34},
		{"left operand not an id",
			"SELECT Id FROM User WHERE Username IN (SELECT AssigneeId FROM PermissionSetAssignment)",
			"MALFORMED_QUERY", "The left operand of a semi join or anti join must be an id or reference field of User: 'Username'", 0},
		{"two fields in the sub-select",
			"SELECT Id FROM User WHERE Id IN (SELECT AssigneeId, PermissionSetId FROM PermissionSetAssignment)",
			"MALFORMED_QUERY", "unexpected token: ','", 0},
		{"COUNT in the sub-select",
			"SELECT Id FROM User WHERE Id IN (SELECT COUNT() FROM PermissionSetAssignment)",
			"MALFORMED_QUERY", "unexpected token: '('", 0},
		{"ORDER BY in the sub-select",
			"SELECT Id FROM User WHERE Id IN (SELECT AssigneeId FROM PermissionSetAssignment ORDER BY AssigneeId)",
			"MALFORMED_QUERY", "unexpected token: 'ORDER'", 0},
		{"LIMIT in the sub-select",
			"SELECT Id FROM User WHERE Id IN (SELECT AssigneeId FROM PermissionSetAssignment LIMIT 10)",
			"MALFORMED_QUERY", "unexpected token: 'LIMIT'", 0},
		{"unclosed sub-select",
			"SELECT Id FROM User WHERE Id IN (SELECT AssigneeId FROM PermissionSetAssignment",
			"MALFORMED_QUERY", "unexpected token: '<EOF>'", 0},
		{"unknown object in the sub-select",
			"SELECT Id FROM User WHERE Id IN (SELECT AssigneeId FROM Nope__c)",
			"INVALID_TYPE", "sObject type 'Nope__c' is not supported.", 0},
		{"unknown field in the sub-select",
			"SELECT Id FROM User WHERE Id IN (SELECT AssigneId FROM PermissionSetAssignment)",
			"INVALID_FIELD", "No such column 'AssigneId' on entity 'PermissionSetAssignment'.", 0},
		{"unknown relationship in the sub-select WHERE",
			"SELECT Id FROM User WHERE Id IN (SELECT AssigneeId FROM PermissionSetAssignment WHERE PermSet.Name = 'x')",
			"INVALID_FIELD", "Didn't understand relationship 'PermSet' in field path.", 0},
	}
	o, _ := presenceOrg(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, e := o.run(tt.query)
			if e == nil {
				t.Fatalf("%s: no error", tt.query)
			}
			lines := strings.Split(e.Message, "\n")
			if e.Code != tt.wantCode || !strings.HasPrefix(lines[len(lines)-1], tt.wantMsg) {
				t.Errorf("%s:\n got  %s %q\n want %s ending %q", tt.query, e.Code, e.Message, tt.wantCode, tt.wantMsg)
			}
			if !strings.Contains(e.Message, "ERROR at Row:1:Column:") {
				t.Errorf("message lacks the position: %q", e.Message)
			}
			if col := "ERROR at Row:1:Column:" + strconv.Itoa(tt.wantCol) + "\n"; tt.wantCol > 0 && !strings.Contains(e.Message, col) {
				t.Errorf("message %q lacks %q", e.Message, col)
			}
		})
	}
}

// Queries run under the read lock, so reading a standard type nothing was written to must not
// create its table (run with -race).
func TestConcurrentQueriesOnUntouchedTypes(t *testing.T) {
	o := New(Config{})
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			if _, e := o.run("SELECT UsersId FROM AuthSession WHERE UsersId IN (" + agentPSA + ")"); e != nil {
				t.Error(e.Message)
			}
		}()
	}
	for range 4 {
		<-done
	}
	if len(o.types) != 0 {
		t.Errorf("queries created tables: %v", slices.Collect(maps.Keys(o.types)))
	}
}
