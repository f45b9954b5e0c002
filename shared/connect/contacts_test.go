package connect_test

import (
	"context"
	"testing"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/connect"
	"github.com/omnibridge/omnibridge/shared/connect/connectsim"
)

// TestDescribeContact reads voice contacts back through the real SDK client: the customer
// endpoint that contact events lack, a withheld number, and a transfer's chain.
func TestDescribeContact(t *testing.T) {
	ctx := context.Background()
	sd := seed(0)
	sd.Queues = []connectsim.SeedQueue{{ID: "q-support", Name: "Support"}}
	r := newRig(t, sd, connectsim.Options{}, connect.Options{RequestsPerSecond: 1000, Burst: 1000})
	if err := r.sim.Login("u-jdoe", "Available"); err != nil {
		t.Fatal(err)
	}
	known, err := r.sim.Call(connectsim.NewCall{Customer: "+14155551212"})
	if err != nil {
		t.Fatal(err)
	}
	withheld, err := r.sim.Call(connectsim.NewCall{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.sim.RouteContact(known, "u-jdoe"); err != nil {
		t.Fatal(err)
	}
	if err := r.sim.Connect(known); err != nil {
		t.Fatal(err)
	}
	moved, err := r.sim.Transfer(known, "Support")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, id           string
		customer, typ      string
		previous, agent    string
		wantInitialContact string
	}{
		{"known caller", known, "+14155551212", "TELEPHONE_NUMBER", "", "u-jdoe", known},
		{"withheld number", withheld, "", "", "", "", withheld},
		{"transfer keeps the caller and the chain", moved, "+14155551212", "TELEPHONE_NUMBER", known, "", known},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, err := r.client.DescribeContact(ctx, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if info.ID != tc.id || info.Customer.Address != tc.customer || info.Customer.Type != tc.typ ||
				info.PreviousContactID != tc.previous || info.AgentID != tc.agent || info.InitialContactID != tc.wantInitialContact ||
				info.Channel != "VOICE" || info.InitiatedAt.IsZero() {
				t.Fatalf("DescribeContact = %+v", info)
			}
		})
	}
	t.Run("unknown contact is not found", func(t *testing.T) {
		if _, err := r.client.DescribeContact(ctx, "no-such-contact"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("err = %v, want not_found", err)
		}
	})
	t.Run("empty id is invalid", func(t *testing.T) {
		if _, err := r.client.DescribeContact(ctx, ""); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("err = %v, want invalid", err)
		}
	})
}
