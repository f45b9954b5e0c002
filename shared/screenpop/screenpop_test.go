package screenpop_test

import (
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/screenpop"
)

func TestFields(t *testing.T) {
	at := time.Date(2026, 12, 6, 15, 4, 5, 123456789, time.FixedZone("CET", 3600))
	full := screenpop.Pop{ID: "contact-1", UserID: "005000000000001AAA", RecordID: "500000000000001AAA",
		ConnectContactID: "contact-1", Reason: screenpop.ReasonCall, IssuedAt: at}
	tests := []struct {
		name     string
		pop      screenpop.Pop
		want     map[string]any
		problems []string
	}{
		{
			name: "complete pop, issue time in UTC milliseconds",
			pop:  full,
			want: map[string]any{
				"PopId__c": "contact-1", "UserId__c": "005000000000001AAA", "RecordId__c": "500000000000001AAA",
				"ConnectContactId__c": "contact-1", "Reason__c": "call", "IssuedAt__c": "2026-12-06T14:04:05.123Z",
			},
		},
		{name: "no user", pop: screenpop.Pop{ID: "x", RecordID: "500000000000001AAA"}, problems: []string{"$.userId"}},
		{name: "nothing", pop: screenpop.Pop{}, problems: []string{"$.id", "$.userId", "$.recordId"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.pop.Fields()
			if tt.problems != nil {
				ps := apperr.ProblemsOf(err)
				if !apperr.Is(err, apperr.Invalid) || len(ps) != len(tt.problems) {
					t.Fatalf("err = %v (%v), want problems at %v", err, ps, tt.problems)
				}
				for i, p := range ps {
					if p.Path != tt.problems[i] {
						t.Errorf("problem %d at %s, want %s", i, p.Path, tt.problems[i])
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("fields = %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}
