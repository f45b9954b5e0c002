package sfsim

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// testOrg seeds two users (Bob reports to Alice) and four cases covering strings, numbers,
// booleans, nulls, dates and relationships.
func testOrg(t testing.TB) *Org {
	t.Helper()
	o := New(Config{})
	mustInsert := func(typ string, f map[string]any) string {
		id, err := o.Insert(typ, f)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	alice := mustInsert("User", map[string]any{"Username": "alice@example.com", "Name": "Alice", "IsActive": true})
	bob := mustInsert("User", map[string]any{"Username": "bob@example.com", "Name": "Bob", "IsActive": false, "ManagerId": alice})
	ts := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339, s); return tm }
	mustInsert("Case", map[string]any{"Subject": "Printer on fire", "Status": "New", "Priority": "High", "OwnerId": alice,
		"Amount": 10, "IsEscalated": true, "CreatedDate": ts("2026-11-20T09:00:00Z"), "Due_Date__c": "2026-11-21"})
	mustInsert("Case", map[string]any{"Subject": "Can't log in", "Status": "Closed", "Priority": "Low", "OwnerId": bob,
		"Amount": 25.5, "IsEscalated": false, "CreatedDate": ts("2026-11-21T10:00:00Z"), "Due_Date__c": "2026-11-25"})
	mustInsert("Case", map[string]any{"Subject": "50% off_sale", "Status": "New", "Priority": nil, "OwnerId": nil,
		"Amount": nil, "IsEscalated": false, "CreatedDate": ts("2026-11-22T11:00:00Z")})
	mustInsert("Case", map[string]any{"Subject": "Line\nbreak", "Status": "Escalated", "Priority": "Medium", "OwnerId": alice,
		"Amount": 5, "IsEscalated": true, "CreatedDate": ts("2026-11-21T10:00:00Z")})
	return o
}

// subjects runs q and returns the Subject of each row, in order.
func subjects(t *testing.T, o *Org, q string) []string {
	t.Helper()
	res, e := o.run(q)
	if e != nil {
		t.Fatalf("%s: %s %s", q, e.Code, e.Message)
	}
	var out []string
	for _, r := range res.rows {
		out = append(out, r.get("Subject").(string))
	}
	return out
}

func TestQueryEvaluation(t *testing.T) {
	const (
		fire  = "Printer on fire"
		login = "Can't log in"
		sale  = "50% off_sale"
		line  = "Line\nbreak"
	)
	tests := []struct {
		name  string
		where string // appended to SELECT Subject FROM Case
		want  []string
	}{
		{"all", "", []string{fire, login, sale, line}},
		{"equals is case-insensitive", "WHERE Status = 'new'", []string{fire, sale}},
		{"not equals includes nulls", "WHERE Priority != 'High'", []string{login, sale, line}},
		{"angle not equals", "WHERE Priority <> 'High'", []string{login, sale, line}},
		{"less than number", "WHERE Amount < 10", []string{line}},
		{"less or equal", "WHERE Amount <= 10", []string{fire, line}},
		{"greater than decimal", "WHERE Amount > 10.5", []string{login}},
		{"greater or equal", "WHERE Amount >= 5", []string{fire, login, line}},
		{"negative number", "WHERE Amount > -1", []string{fire, login, line}},
		{"null", "WHERE Amount = null", []string{sale}},
		{"not null", "WHERE OwnerId != NULL", []string{fire, login, line}},
		{"boolean true", "WHERE IsEscalated = true", []string{fire, line}},
		{"boolean false", "WHERE IsEscalated = FALSE", []string{login, sale}},
		{"IN", "WHERE Status IN ('Closed', 'escalated')", []string{login, line}},
		{"NOT IN includes nulls", "WHERE Priority NOT IN ('High', 'Low')", []string{sale, line}},
		{"LIKE prefix", "WHERE Subject LIKE 'printer%'", []string{fire}},
		{"LIKE single char", "WHERE Subject LIKE 'Can_t log in'", []string{login}},
		{"LIKE escaped percent", "WHERE Subject LIKE '50\\% off%'", []string{sale}},
		{"LIKE escaped underscore", "WHERE Subject LIKE '%off\\_sale'", []string{sale}},
		{"LIKE literal underscore does not match other char", "WHERE Subject LIKE '%off\\_Xale'", nil},
		{"string escapes", "WHERE Subject = 'Can\\'t log in'", []string{login}},
		{"newline escape", "WHERE Subject = 'Line\\nbreak'", []string{line}},
		{"unicode escape", "WHERE Subject = 'Can\\u0027t log in'", []string{login}},
		{"AND", "WHERE Status = 'New' AND IsEscalated = true", []string{fire}},
		{"OR", "WHERE Status = 'Closed' OR Amount = 5", []string{login, line}},
		{"NOT", "WHERE NOT Status = 'New'", []string{login, line}},
		{"parentheses", "WHERE (Status = 'New' OR Status = 'Closed') AND IsEscalated = false", []string{login, sale}},
		{"NOT parentheses", "WHERE NOT (Status = 'New' OR Status = 'Closed')", []string{line}},
		{"dateTime literal", "WHERE CreatedDate > 2026-11-21T10:00:00Z", []string{sale}},
		{"dateTime with offset", "WHERE CreatedDate = 2026-11-21T11:00:00+01:00", []string{login, line}},
		{"dateTime with fraction", "WHERE CreatedDate >= 2026-11-21T10:00:00.000Z", []string{login, sale, line}},
		{"date literal on date field", "WHERE Due_Date__c < 2026-11-22", []string{fire}},
		{"relationship field", "WHERE Owner.Name = 'Alice'", []string{fire, line}},
		{"two-level relationship", "WHERE Owner.Manager.Username = 'alice@example.com'", []string{login}},
		{"relationship null", "WHERE Owner.Name = null", []string{sale}},
		{"id by 15 characters", "WHERE OwnerId = '" + "__ALICE15__" + "'", []string{fire, line}},
		{"ORDER BY ASC nulls first", "ORDER BY Amount", []string{sale, line, fire, login}},
		{"ORDER BY DESC nulls first", "ORDER BY Amount DESC", []string{sale, login, fire, line}},
		{"ORDER BY NULLS LAST", "ORDER BY Amount ASC NULLS LAST", []string{line, fire, login, sale}},
		{"ORDER BY several fields", "ORDER BY CreatedDate DESC, Subject ASC", []string{sale, login, line, fire}},
		{"ORDER BY relationship", "WHERE OwnerId != null ORDER BY Owner.Name DESC, Amount", []string{login, line, fire}},
		{"LIMIT", "ORDER BY Subject LIMIT 2", []string{sale, login}},
		{"LIMIT 0", "LIMIT 0", nil},
		{"OFFSET", "ORDER BY Subject LIMIT 2 OFFSET 1", []string{login, line}},
		{"keywords any case", "where status = 'Closed' order by subject limit 5", []string{login}},
	}
	o := testOrg(t)
	alice15 := o.types["user"].recs[0].id
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := strings.TrimSpace("SELECT Subject FROM Case " + strings.ReplaceAll(tt.where, "__ALICE15__", alice15))
			if got := subjects(t, o, q); !slices.Equal(got, tt.want) {
				t.Errorf("%s\n got  %q\n want %q", q, got, tt.want)
			}
		})
	}
}

func TestQueryCount(t *testing.T) {
	o := testOrg(t)
	res, e := o.run("SELECT COUNT() FROM Case WHERE Status = 'New'")
	if e != nil {
		t.Fatal(e.Message)
	}
	if res.total != 2 || len(res.rows) != 0 {
		t.Errorf("COUNT() = total %d, rows %d; want 2, 0", res.total, len(res.rows))
	}
}

func TestQueryRecordShape(t *testing.T) {
	o := testOrg(t)
	res, e := o.run("SELECT Id, subject, Owner.Name, Owner.Manager.Name, Amount, CreatedDate FROM Case WHERE Amount = 25.5")
	if e != nil {
		t.Fatal(e.Message)
	}
	b, err := json.Marshal(o.project(res.rows[0], res.c, "v62.0"))
	if err != nil {
		t.Fatal(err)
	}
	rec := res.rows[0]
	owner := o.byID[mustNormalize(t, rec.f["OwnerId"].(string))]
	manager := o.byID[mustNormalize(t, owner.f["ManagerId"].(string))]
	want := `{"attributes":{"type":"Case","url":"/services/data/v62.0/sobjects/Case/` + CaseSafeID(rec.id) + `"},` +
		`"Id":"` + CaseSafeID(rec.id) + `","Subject":"Can't log in",` +
		`"Owner":{"attributes":{"type":"User","url":"/services/data/v62.0/sobjects/User/` + CaseSafeID(owner.id) + `"},"Name":"Bob",` +
		`"Manager":{"attributes":{"type":"User","url":"/services/data/v62.0/sobjects/User/` + CaseSafeID(manager.id) + `"},"Name":"Alice"}},` +
		`"Amount":25.5,"CreatedDate":"2026-11-21T10:00:00.000+0000"}`
	if string(b) != want {
		t.Errorf("record JSON\n got  %s\n want %s", b, want)
	}

	res, _ = o.run("SELECT Owner.Name FROM Case WHERE OwnerId = null")
	if b, _ := json.Marshal(o.project(res.rows[0], res.c, "v62.0")); !strings.HasSuffix(string(b), `"Owner":null}`) {
		t.Errorf("null relationship renders as %s", b)
	}
}

func mustNormalize(t *testing.T, id string) string {
	t.Helper()
	n, ok := normalizeID(id)
	if !ok {
		t.Fatalf("bad id %q", id)
	}
	return n
}

func TestQueryErrors(t *testing.T) {
	tests := []struct {
		name     string
		query    string
		wantCode string
		wantMsg  string
	}{
		{"missing fields", "SELECT FROM Case", "MALFORMED_QUERY", "unexpected token: 'FROM'"},
		{"trailing comma", "SELECT Id, FROM Case", "MALFORMED_QUERY", "unexpected token: 'FROM'"},
		{"missing FROM", "SELECT Id Case", "MALFORMED_QUERY", "unexpected token: 'Case'"},
		{"empty WHERE", "SELECT Id FROM Case WHERE", "MALFORMED_QUERY", "unexpected token: '<EOF>'"},
		{"AND mixed with OR", "SELECT Id FROM Case WHERE Status = 'a' AND Status = 'b' OR Status = 'c'", "MALFORMED_QUERY", "unexpected token: 'OR'"},
		{"unterminated string", "SELECT Id FROM Case WHERE Subject = 'abc", "MALFORMED_QUERY", "unterminated string literal"},
		{"invalid escape", `SELECT Id FROM Case WHERE Subject = 'a\qb'`, "MALFORMED_QUERY", `invalid escape sequence '\q'`},
		{"LIKE escape outside LIKE", `SELECT Id FROM Case WHERE Subject = '50\%'`, "MALFORMED_QUERY", "outside LIKE"},
		{"bad unicode escape", `SELECT Id FROM Case WHERE Subject = '\u12'`, "MALFORMED_QUERY", "invalid unicode escape"},
		{"invalid date", "SELECT Id FROM Case WHERE CreatedDate > 2026-13-01", "MALFORMED_QUERY", "invalid date"},
		{"invalid dateTime", "SELECT Id FROM Case WHERE CreatedDate > 2026-11-01T25:00:00Z", "MALFORMED_QUERY", "invalid dateTime"},
		{"ordering against null", "SELECT Id FROM Case WHERE Amount < null", "MALFORMED_QUERY", "invalid operator on null"},
		{"NOT LIKE is not SOQL", "SELECT Id FROM Case WHERE Subject NOT LIKE 'x'", "MALFORMED_QUERY", "unexpected token: 'LIKE'"},
		{"negative LIMIT", "SELECT Id FROM Case LIMIT -1", "MALFORMED_QUERY", "unexpected token: '-1'"},
		{"semicolon", "SELECT Id FROM Case;", "MALFORMED_QUERY", "unexpected character: ';'"},
		{"bind variable", "SELECT Id FROM Case WHERE Id = :id", "MALFORMED_QUERY", "unexpected character: ':'"},
		{"reserved word as field", "SELECT Id FROM Case WHERE Limit = 1", "MALFORMED_QUERY", "unexpected token: 'Limit'"},
		{"empty IN", "SELECT Id FROM Case WHERE Status IN ()", "MALFORMED_QUERY", "unexpected token: ')'"},
		{"unsupported GROUP BY", "SELECT Status FROM Case GROUP BY Status", "MALFORMED_QUERY", "unexpected token: 'GROUP'"},
		{"unknown field", "SELECT Foo__c FROM Case", "INVALID_FIELD", "No such column 'Foo__c' on entity 'Case'"},
		{"unknown field in WHERE", "SELECT Id FROM Case WHERE Foo__c = 1", "INVALID_FIELD", "No such column 'Foo__c'"},
		{"unknown field in ORDER BY", "SELECT Id FROM Case ORDER BY Foo__c", "INVALID_FIELD", "No such column 'Foo__c'"},
		{"unknown relationship", "SELECT Parent__r.Name FROM Case", "INVALID_FIELD", "Didn't understand relationship 'Parent__r'"},
		{"unknown object", "SELECT Id FROM Nope__c", "INVALID_TYPE", "sObject type 'Nope__c' is not supported"},
	}
	o := testOrg(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, e := o.run(tt.query)
			if e == nil {
				t.Fatalf("%s: no error", tt.query)
			}
			if e.Code != tt.wantCode || !strings.Contains(e.Message, tt.wantMsg) {
				t.Errorf("%s:\n got  %s %q\n want %s containing %q", tt.query, e.Code, e.Message, tt.wantCode, tt.wantMsg)
			}
			if tt.wantCode == "MALFORMED_QUERY" && !strings.Contains(e.Message, "ERROR at Row:1:Column:") {
				t.Errorf("message lacks the position: %q", e.Message)
			}
		})
	}
}

func TestCaseSafeID(t *testing.T) {
	tests := []struct{ id15, id18 string }{
		{"005xx000001SwiU", "005xx000001SwiUAAS"}, // from the reference payloads
		{"001A0000006Vm9r", "001A0000006Vm9rIAC"}, // Salesforce's documented example
		{"e01xx0000000001", "e01xx0000000001AAA"},
		{"0Akxx000000AAAA", "0Akxx000000AAAACA4"},
		{"ABCDEABCDEABCDE", "ABCDEABCDEABCDE555"},
	}
	for _, tt := range tests {
		t.Run(tt.id15, func(t *testing.T) {
			if got := CaseSafeID(tt.id15); got != tt.id18 {
				t.Errorf("CaseSafeID(%q) = %q, want %q", tt.id15, got, tt.id18)
			}
			for _, in := range []string{tt.id18, strings.ToLower(tt.id18), strings.ToUpper(tt.id18), tt.id15} {
				if got, ok := normalizeID(in); !ok || got != tt.id15 {
					t.Errorf("normalizeID(%q) = %q, %v; want %q", in, got, ok, tt.id15)
				}
			}
		})
	}
}

func FuzzCaseSafeID(f *testing.F) {
	f.Add("005xx000001SwiU")
	f.Add("aBcDeFgHiJkLmNo")
	f.Fuzz(func(t *testing.T, id string) {
		if len(id) != 15 || !isIDShape(id) {
			return
		}
		id18 := CaseSafeID(id)
		for _, in := range []string{id18, strings.ToLower(id18), strings.ToUpper(id18)} {
			if got, ok := normalizeID(in); !ok || got != id {
				t.Fatalf("normalizeID(%q) = %q, %v; want %q", in, got, ok, id)
			}
		}
	})
}

// FuzzQueryParser checks that no input makes the lexer, parser, compiler or evaluator panic, and
// that every rejection is one of Salesforce's query error codes.
func FuzzQueryParser(f *testing.F) {
	for _, s := range []string{
		"SELECT Id, Subject, Owner.Name FROM Case WHERE Status IN ('New','Closed') AND Amount >= 10 ORDER BY CreatedDate DESC NULLS LAST LIMIT 5 OFFSET 1",
		"SELECT COUNT() FROM Case WHERE NOT (Subject LIKE '50\\%%' OR IsEscalated = true)",
		"select subject from case where CreatedDate > 2026-11-21T10:00:00Z and Due_Date__c < 2026-11-22",
		"SELECT Id FROM Case WHERE Subject = 'a\\'b\\u00e9\\n'",
		"SELECT Owner.Manager.Name FROM Case WHERE Owner.Name != null",
		"SELECT Subject FROM Case WHERE OwnerId IN (SELECT Id FROM User WHERE IsActive = true AND Manager.Name != null) AND OwnerId NOT IN (SELECT ManagerId FROM User)",
		"SELECT Id FROM Case WHERE Status = 'New' OR (OwnerId IN (SELECT Id FROM User WHERE Id IN (SELECT ManagerId FROM User)))",
	} {
		f.Add(s)
	}
	o := testOrg(f)
	f.Fuzz(func(t *testing.T, q string) {
		res, e := o.run(q)
		if e == nil {
			for _, r := range res.rows {
				o.project(r, res.c, "v62.0") // relationship rendering must not panic either
			}
		}
		if e != nil && e.Code != "MALFORMED_QUERY" && e.Code != "INVALID_FIELD" && e.Code != "INVALID_TYPE" {
			t.Fatalf("unexpected error code %s for %q", e.Code, q)
		}
	})
}
