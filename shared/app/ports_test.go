package app

import (
	"testing"

	"github.com/omnibridge/omnibridge/shared/apperr"
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
}
