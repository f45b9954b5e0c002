package sfevents_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/eventtime"
	"github.com/omnibridge/omnibridge/shared/sfevents"
)

func readCaseExample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../infra/salesforce/contracts/examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeCasesExamples(t *testing.T) {
	const caseID, queue, user = "5005e00000AbCdEAAV", "00G5e000001QueUEAS", "0055e000003AbCdAAK"
	tests := []struct {
		file string
		want sfevents.CaseEvent
	}{
		{"case-created.json", sfevents.CaseEvent{
			ID: caseID + ":created", Type: sfevents.CaseCreated, Date: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC),
			CaseID: caseID, CaseNumber: "00001026", Subject: "Refund not received", Priority: "High", Status: "New",
			OwnerID: queue, Skills: "Billing;Spanish", ActorID: "0055e000005AutOAAS",
		}},
		{"case-owner-changed.json", sfevents.CaseEvent{
			ID: caseID + ":owner:1796634300000", Type: sfevents.CaseOwnerChanged, Date: time.Date(2026, 12, 7, 9, 5, 0, 0, time.UTC),
			CaseID: caseID, CaseNumber: "00001026", Subject: "Refund not received", Priority: "High", Status: "New",
			OwnerID: "00G5e000001Bil1EAC", PreviousOwnerID: queue, Skills: "Billing;Spanish", ActorID: user,
		}},
		{"case-comment-added.json", sfevents.CaseEvent{
			ID: "00a5e00000Cm001AAB", Type: sfevents.CaseCommentAdded, Date: time.Date(2026, 12, 7, 9, 10, 0, 0, time.UTC),
			CaseID: caseID, CaseNumber: "00001026", Subject: "Refund not received", Priority: "High", Status: "Working",
			OwnerID: user, Skills: "Billing;Spanish", ActorID: "0055e000004QrStAAK",
		}},
		{"case-email-added.json", sfevents.CaseEvent{
			ID: "02s5e00000Em001AAB", Type: sfevents.CaseEmailAdded, Date: time.Date(2026, 12, 7, 9, 15, 0, 0, time.UTC),
			CaseID: caseID, CaseNumber: "00001026", Subject: "Refund not received", Priority: "High", Status: "Working",
			OwnerID: user, Skills: "Billing;Spanish", ActorID: "0055e000005AutOAAS", Incoming: true,
		}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".json"), func(t *testing.T) {
			b, err := sfevents.DecodeCases(readCaseExample(t, tt.file))
			if err != nil {
				t.Fatalf("DecodeCases: %v %v", err, apperr.ProblemsOf(err))
			}
			if b.OrgID != "00D5e000000Hkp2EAC" || b.SchemaVersion != "1" || b.SentAt.IsZero() {
				t.Errorf("batch header = %q %q %v", b.SchemaVersion, b.OrgID, b.SentAt)
			}
			if len(b.Input) != 1 || b.Input[0] != tt.want {
				t.Errorf("events\n got %+v\nwant [%+v]", b.Input, tt.want)
			}
		})
	}
}

func TestDecodeCasesMixedInTimeOrder(t *testing.T) {
	b, err := sfevents.DecodeCases(readCaseExample(t, "case-batch-mixed.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := b.InTimeOrder()
	want := []sfevents.CaseType{sfevents.CaseCreated, sfevents.CaseOwnerChanged, sfevents.CaseCommentAdded, sfevents.CaseEmailAdded}
	if len(got) != len(want) {
		t.Fatalf("InTimeOrder = %+v", got)
	}
	for i, e := range got {
		if e.Type != want[i] {
			t.Errorf("event %d is %s, want %s (same times keep input order)", i, e.Type, want[i])
		}
	}
	if got[0].Subject != "" || got[0].Skills != "" || !got[2].ByOwner || got[3].Incoming {
		t.Errorf("null optional fields and flags: %+v", got)
	}
}

func TestDecodeCasesProblems(t *testing.T) {
	const head = `{"schemaVersion":"1","orgId":"00D5e000000Hkp2EAC","sentAt":"2026-12-07T09:00:01Z","events":[`
	const base = `"eventDate":"2026-12-07T09:00:00Z","caseId":"5005e00000AbCdE","caseNumber":"1","status":"New","isClosed":false,"ownerId":"00G5e000001QueU","actorId":"0055e000003AbCd"`
	tests := []struct {
		name, events string
		want         []string // paths
	}{
		{"owner change without previous owner", `{"type":"case.owner_changed","eventId":"e",` + base + `}`, []string{"$.events[0].previousOwnerId"}},
		{"owner change to the same owner", `{"type":"case.owner_changed","eventId":"e","previousOwnerId":"00G5e000001QueU",` + base + `}`, []string{"$.events[0].previousOwnerId"}},
		{"comment without byOwner", `{"type":"case.comment_added","eventId":"e",` + base + `}`, []string{"$.events[0].byOwner"}},
		{"email with a string for incoming", `{"type":"case.email_added","eventId":"e","incoming":"yes",` + base + `}`, []string{"$.events[0].incoming"}},
		{"byOwner on a created event", `{"type":"case.created","eventId":"e","byOwner":true,` + base + `}`, []string{"$.events[0].byOwner"}},
		{"not a case id", `{"type":"case.created","eventId":"e",` + strings.Replace(base, "5005e00000AbCdE", "0015e00000AbCdE", 1) + `}`, []string{"$.events[0].caseId"}},
		{"owner is an account", `{"type":"case.created","eventId":"e",` + strings.Replace(base, "00G5e000001QueU", "0015e00000AbCdE", 1) + `}`, []string{"$.events[0].ownerId"}},
		{"unknown type", `{"type":"case.deleted","eventId":"e",` + base + `}`, []string{"$.events[0].type"}},
		{"same id on two events", `{"type":"case.created","eventId":"e",` + base + `},{"type":"case.email_added","eventId":"e","incoming":true,` + base + `}`, []string{"$.events[1].eventId"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sfevents.DecodeCases([]byte(head + tt.events + `]}`))
			if apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("err = %v, want invalid", err)
			}
			var paths []string
			for _, p := range apperr.ProblemsOf(err) {
				paths = append(paths, p.Path)
			}
			if strings.Join(paths, ",") != strings.Join(tt.want, ",") {
				t.Errorf("problem paths = %v, want %v (%v)", paths, tt.want, apperr.ProblemsOf(err))
			}
		})
	}
	t.Run("a repeated event is marked, not refused", func(t *testing.T) {
		ev := `{"type":"case.created","eventId":"e",` + base + `}`
		b, err := sfevents.DecodeCases([]byte(head + ev + "," + ev + `]}`))
		if err != nil {
			t.Fatal(err)
		}
		if !b.Input[1].Repeat || len(b.InTimeOrder()) != 1 {
			t.Errorf("repeat not marked: %+v", b.Input)
		}
	})
}

func TestCaseCheckTimes(t *testing.T) {
	b, err := sfevents.DecodeCases(readCaseExample(t, "case-created.json"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	if err := b.CheckTimes(eventtime.New(now, 5*time.Minute)); err != nil {
		t.Errorf("in bound: %v", err)
	}
	err = b.CheckTimes(eventtime.New(now.Add(-time.Hour), 5*time.Minute))
	if ps := apperr.ProblemsOf(err); len(ps) != 1 || ps[0].Path != "$.events[0].eventDate" {
		t.Errorf("beyond bound: %v", ps)
	}
}
