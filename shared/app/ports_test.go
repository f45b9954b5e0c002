package app

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/connect/connectsim"
	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
)

func TestSalesforceUsersAdapter(t *testing.T) {
	r := newSessionRig(t, rigOptions{targets: distributionOnly})
	ids, err := r.org.InsertMany("User", []map[string]any{
		{"Username": "ana@example.com", "FederationIdentifier": "o'brien", "IsActive": true},
		{"Username": "twin1@example.com", "FederationIdentifier": "twin", "IsActive": true},
		{"Username": "twin2@example.com", "FederationIdentifier": "twin", "IsActive": true},
		{"Username": "gone@example.com", "FederationIdentifier": "gone", "IsActive": false},
	})
	if err != nil {
		t.Fatal(err)
	}
	sf, err := Salesforce(r.ctx, r.deps)
	if err != nil {
		t.Fatal(err)
	}
	users := salesforceUsers{sf}
	tests := []struct {
		name, field, value string
		wantID             string
		wantCode           apperr.Code
	}{
		{name: "quote in the value is escaped", field: "FederationIdentifier", value: "o'brien", wantID: ids[0]},
		{name: "by username", field: "Username", value: "ana@example.com", wantID: ids[0]},
		{name: "two users share a federation id: a final miss", field: "FederationIdentifier", value: "twin", wantCode: apperr.Invalid},
		{name: "inactive user", field: "FederationIdentifier", value: "gone", wantCode: apperr.NotFound},
		{name: "empty value", field: "FederationIdentifier", value: "", wantCode: apperr.NotFound},
		{name: "injection attempt finds nobody", field: "FederationIdentifier", value: "x' OR Username != '", wantCode: apperr.NotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := users.UserIDByField(r.ctx, tc.field, tc.value)
			if tc.wantCode != "" {
				if !apperr.Is(err, tc.wantCode) {
					t.Fatalf("got %q, %v; want code %s", id, err, tc.wantCode)
				}
				return
			}
			if err != nil || len(id) != 18 || id[:15] != tc.wantID[:15] {
				t.Fatalf("got %q, %v; want %s", id, err, tc.wantID)
			}
			back, err := users.FieldByUserID(r.ctx, tc.field, id)
			if err != nil || back != tc.value {
				t.Errorf("FieldByUserID: %q, %v; want %q", back, err, tc.value)
			}
		})
	}
	// The batch lookup answers every value as the single lookup does, in one query per field.
	for _, field := range []string{"Username", "FederationIdentifier"} {
		t.Run("batch by "+field, func(t *testing.T) {
			var values []string
			for _, tc := range tests {
				values = append(values, tc.value)
			}
			values = append(values, "ANA@example.com", "o'brien", "twin2@example.com", "gone@example.com")
			queries := r.org.Calls(sfsim.KindQuery)
			got, err := users.UserIDsByField(r.ctx, field, values)
			if err != nil || len(got) != len(values) {
				t.Fatalf("UserIDsByField: %d results, %v", len(got), err)
			}
			if n := r.org.Calls(sfsim.KindQuery) - queries; n != 1 {
				t.Errorf("%d queries, want 1", n)
			}
			for i, v := range values {
				id, err := users.UserIDByField(r.ctx, field, v)
				if got[i].Value != id || apperr.CodeOf(got[i].Err) != apperr.CodeOf(err) || apperr.MessageOf(got[i].Err) != apperr.MessageOf(err) {
					t.Errorf("%s %q: batch %q, %v; single %q, %v", field, v, got[i].Value, got[i].Err, id, err)
				}
			}
		})
	}
}

func TestConnectUsersAdapter(t *testing.T) {
	r := newSessionRig(t, rigOptions{targets: distributionOnly})
	var ids []string
	for i := range 30 {
		u, err := r.cn.AddUser(connectsim.SeedUser{Username: fmt.Sprintf("agent%02d@example.com", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u)
	}
	cn, err := Connect(r.deps)
	if err != nil {
		t.Fatal(err)
	}
	users := connectUsers{cn}
	ask := append(slices.Clone(ids), "00000000-0000-4000-8000-000000000000", strings.ToUpper(ids[3]), ids[0])
	r.cn.ResetRequests()
	got, err := users.UsernamesByUserIDs(r.ctx, ask)
	if err != nil || len(got) != len(ask) {
		t.Fatalf("UsernamesByUserIDs: %d results, %v", len(got), err)
	}
	// 32 distinct ids, 25 to a search.
	if s, d := r.cn.Calls("SearchUsers"), r.cn.Calls("DescribeUser"); s != 2 || d != 0 {
		t.Errorf("%d SearchUsers and %d DescribeUser calls, want 2 and 0", s, d)
	}
	// Against DescribeUser (rate-limited to 2 a second): the first and last of each search, the
	// unknown id and the upper-cased one.
	for _, i := range []int{0, 24, 25, 29, 30, 31} {
		id := ask[i]
		name, err := users.UsernameByUserID(r.ctx, id)
		if got[i].Value != name || apperr.CodeOf(got[i].Err) != apperr.CodeOf(err) {
			t.Errorf("%s: batch %q, %v; single %q, %v", id, got[i].Value, got[i].Err, name, err)
		}
	}
}
