package sfevents_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/rules"
	"github.com/omnibridge/omnibridge/shared/sfevents"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustDecode(t *testing.T, body string) sfevents.Batch {
	t.Helper()
	b, err := sfevents.Decode([]byte(body))
	if err != nil {
		t.Fatalf("Decode: %v\nproblems: %v", err, apperr.ProblemsOf(err))
	}
	return b
}

func TestDecodeSamples(t *testing.T) {
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	const user = "0055e000003AbCdAAK"
	tests := []struct {
		file         string
		wantPresence []presence.Event
		wantAcks     []sfevents.Ack
	}{
		{
			file: "status-changed.json",
			wantPresence: []presence.Event{{
				ID: "4f9a1c2e-7b3d-4e5f-8a6b-1c2d3e4f5a61", Kind: rules.EventSalesforceAgentStateChanged,
				Time: utc("2026-11-21T08:59:58.120Z"), Origin: presence.OriginWebhook,
				Salesforce: presence.SalesforceData{StatusID: "0N5xx0000004CSO", StatusName: "Available"},
			}},
		},
		{
			file: "logout.json",
			wantPresence: []presence.Event{{
				ID: "4f9a1c2e-7b3d-4e5f-8a6b-1c2d3e4f5a62", Kind: rules.EventSalesforceAgentLogout,
				Time: utc("2026-11-21T08:59:57.004Z"), Origin: presence.OriginWebhook,
				Salesforce: presence.SalesforceData{StatusID: "0", StatusName: "Offline"},
			}},
		},
		{
			file: "work-accepted.json",
			wantPresence: []presence.Event{{
				ID: "4f9a1c2e-7b3d-4e5f-8a6b-1c2d3e4f5a63", Kind: rules.EventSalesforceWorkAccepted,
				Time: utc("2026-11-21T08:59:56.310Z"), Origin: presence.OriginWebhook,
				Salesforce: presence.SalesforceData{Channel: "Case_Channel"},
			}},
		},
		{
			file: "workload-changed.json",
			wantPresence: []presence.Event{{
				ID: "4f9a1c2e-7b3d-4e5f-8a6b-1c2d3e4f5a64", Kind: rules.EventSalesforceWorkloadChanged,
				Time: utc("2026-11-21T08:59:56.450Z"), Origin: presence.OriginWebhook,
				Salesforce: presence.SalesforceData{ConfiguredCapacity: rules.Num(10), PreviousWorkload: rules.Num(5), NewWorkload: rules.Num(10)},
			}},
		},
		{
			file: "command-ack.json",
			wantAcks: []sfevents.Ack{{
				CommandID: "9d5ed678fe57bcca610140957afab571", Applied: true,
				Time: utc("2026-11-21T08:59:58.900Z"), EventID: "4f9a1c2e-7b3d-4e5f-8a6b-1c2d3e4f5a65", UserID: user,
			}},
		},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".json"), func(t *testing.T) {
			b := mustDecode(t, string(readTestdata(t, tt.file)))
			if b.OrgID != "00D5e000000Hkp2EAC" || b.SchemaVersion != "1" || b.SentAt.IsZero() {
				t.Errorf("batch header = %q %q %v", b.SchemaVersion, b.OrgID, b.SentAt)
			}
			var gotP []presence.Event
			var gotA []sfevents.Ack
			for _, e := range b.Events {
				if e.UserID != user {
					t.Errorf("UserID = %q, want %q", e.UserID, user)
				}
				if pe, ok := e.Presence(); ok {
					gotP = append(gotP, pe)
				}
				if a, ok := e.Ack(); ok {
					gotA = append(gotA, a)
				}
			}
			if !equalEvents(gotP, tt.wantPresence) {
				t.Errorf("presence events\n got %+v\nwant %+v", gotP, tt.wantPresence)
			}
			if !slices.Equal(gotA, tt.wantAcks) {
				t.Errorf("acks\n got %+v\nwant %+v", gotA, tt.wantAcks)
			}
		})
	}
}

func equalEvents(a, b []presence.Event) bool {
	return slices.EqualFunc(a, b, func(x, y presence.Event) bool {
		return x.ID == y.ID && x.Kind == y.Kind && x.Time.Equal(y.Time) && x.Origin == y.Origin &&
			x.Salesforce == y.Salesforce && x.CommandID == y.CommandID
	})
}

func TestBatchMixed(t *testing.T) {
	b := mustDecode(t, string(readTestdata(t, "batch-mixed.json")))
	if b.OrgID != "00D5e000000Hkp2EAC" {
		t.Errorf("OrgID = %q, want the 18-character form", b.OrgID)
	}
	t.Run("input order and indexes", func(t *testing.T) {
		for i, e := range b.Events {
			if e.Index != i {
				t.Errorf("event %d has Index %d", i, e.Index)
			}
		}
	})
	t.Run("ids normalized to 18 characters", func(t *testing.T) {
		for _, e := range b.Events {
			if len(e.UserID) != 18 {
				t.Errorf("event %s: UserID %q", e.ID, e.UserID)
			}
		}
		if got := b.Events[1].WorkItemID; got != "5005e00000XyZwQAAV" {
			t.Errorf("WorkItemID = %q", got)
		}
	})
	t.Run("time order is stable", func(t *testing.T) {
		var got []int
		for _, e := range b.InTimeOrder() {
			got = append(got, e.Index)
		}
		// 5 is 09:59:54.250+01:00 = 08:59:54.250Z; 1 and 3 share a time and keep input order.
		if want := []int{1, 3, 5, 4, 0, 2}; !slices.Equal(got, want) {
			t.Errorf("InTimeOrder indexes = %v, want %v", got, want)
		}
	})
	t.Run("echo command id and failed ack", func(t *testing.T) {
		pe, _ := b.Events[0].Presence()
		if pe.CommandID != "1b7c0e6a2f9d4c3e8a5b6d7e8f9a0b1c" {
			t.Errorf("CommandID = %q", pe.CommandID)
		}
		a, ok := b.Events[5].Ack()
		if !ok || a.Applied || a.Reason == "" || a.Presence() != (presence.Ack{CommandID: a.CommandID, Reason: a.Reason}) {
			t.Errorf("ack = %+v, %v", a, ok)
		}
	})
}

// event is a valid statusChanged event to break one field at a time.
const event = `{"id":"e1","type":"statusChanged","userId":"0055e000003AbCd","time":"2026-11-21T08:59:58.120Z","statusId":"0N5xx0000004CSO","statusDeveloperName":"Available"}`

func batchOf(events ...string) string {
	return `{"schemaVersion":"1","orgId":"00D5e000000Hkp2","sentAt":"2026-11-21T08:59:59Z","events":[` + strings.Join(events, ",") + `]}`
}

func TestDecodeProblems(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string // "path: message substring"
	}{
		{"not JSON", `{"schemaVersion":`, []string{"$: invalid JSON"}},
		{"empty", ``, []string{"$: body is empty"}},
		{"not an object", `[]`, []string{"$: must be an object, not an array"}},
		{"missing everything", `{}`, []string{"$.schemaVersion: required", "$.orgId: required", "$.sentAt: required", "$.events: required"}},
		{"unsupported version", `{"schemaVersion":"2","whatever":1}`, []string{"$.whatever: unknown field", `$.schemaVersion: unsupported schema version "2"`}},
		{"version as number", `{"schemaVersion":1,"orgId":"00D5e000000Hkp2","sentAt":"2026-11-21T08:59:59Z","events":[` + event + `]}`, []string{"$.schemaVersion: must be a string, not a number"}},
		{"bad org", `{"schemaVersion":"1","orgId":"0055e000003AbCd","sentAt":"2026-11-21T08:59:59Z","events":[` + event + `]}`, []string{"$.orgId: must be an organization id"}},
		{"no events", batchOf(), []string{"$.events: must hold at least one event"}},
		{"events not array", `{"schemaVersion":"1","orgId":"00D5e000000Hkp2","sentAt":"2026-11-21T08:59:59Z","events":{}}`, []string{"$.events: must be an array, not an object"}},
		{"too many events", batchOf(slices.Repeat([]string{event}, sfevents.MaxEvents+1)...), []string{"$.events: holds 501 events"}},
		{"event not object", batchOf(`"x"`), []string{"$.events[0]: must be an object, not a string"}},
		{"duplicate ids", batchOf(event, event), []string{`$.events[1].id: duplicate event id "e1", also at $.events[0]`}},
		{"duplicate key", batchOf(strings.Replace(event, `"id":"e1"`, `"id":"e1","id":"e2"`, 1)), []string{"$.events[0].id: duplicate key"}},
		{"unknown field", batchOf(strings.Replace(event, `{`, `{"status":"x","we ird":1,`, 1)), []string{"$.events[0].status: unknown field", `$.events[0]["we ird"]: unknown field`}},
		{"field of another type", batchOf(strings.Replace(event, `{`, `{"workItemId":"5005e00000XyZwQ",`, 1)), []string{"$.events[0].workItemId: not allowed on a statusChanged event"}},
		{"unknown type", batchOf(`{"id":"e1","type":"nap","userId":"0055e000003AbCd","time":"2026-11-21T08:59:58Z","statusId":"x"}`), []string{`$.events[0].type: unknown type "nap"`}},
		{"missing type", batchOf(`{"id":"e1","userId":"0055e000003AbCd","time":"2026-11-21T08:59:58Z"}`), []string{"$.events[0].type: required"}},
		{"user id of a contact", batchOf(strings.Replace(event, "0055e000003AbCd", "0035e000003AbCd", 1)), []string{"$.events[0].userId: must be a user id"}},
		{"user id bad length", batchOf(strings.Replace(event, "0055e000003AbCd", "0055e000003AbC", 1)), []string{"$.events[0].userId: must be a user id"}},
		{"user id bad checksum", batchOf(strings.Replace(event, "0055e000003AbCd", "0055e000003AbCdAA5", 1)), []string{"$.events[0].userId: must be a user id"}},
		{"user id not a string", batchOf(strings.Replace(event, `"0055e000003AbCd"`, `5`, 1)), []string{"$.events[0].userId: must be a string, not a number"}},
		{"null required", batchOf(strings.Replace(event, `"Available"`, `null`, 1)), []string{"$.events[0].statusDeveloperName: required; must not be null"}},
		{"empty string", batchOf(strings.Replace(event, `"e1"`, `""`, 1)), []string{"$.events[0].id: must not be empty"}},
		{"bad id chars", batchOf(strings.Replace(event, `"e1"`, `"e 1"`, 1)), []string{"$.events[0].id: must be 1 to 128"}},
		{"time without zone", batchOf(strings.Replace(event, "08:59:58.120Z", "08:59:58.120", 1)), []string{"$.events[0].time: must be an RFC 3339 time"}},
		{"time with comma", batchOf(strings.Replace(event, "08:59:58.120Z", "08:59:58,120Z", 1)), []string{"$.events[0].time: must be an RFC 3339 time"}},
		{"time out of range", batchOf(strings.Replace(event, "2026-11-21T08:59:58.120Z", "2026-13-41T08:59:58Z", 1)), []string{"$.events[0].time: must be an RFC 3339 time"}},
		{"status id prefix", batchOf(strings.Replace(event, "0N5xx0000004CSO", "0", 1)), []string{"$.events[0].statusId: must be a presence status id"}},
		{"developer name", batchOf(strings.Replace(event, `"Available"`, `"On Break"`, 1)), []string{"$.events[0].statusDeveloperName: must be an API name"}},
		{"channels", batchOf(strings.Replace(event, `{`, `{"channels":["ok",3,"no-no",""],`, 1)), []string{"$.events[0].channels[1]: must be a string, not a number", "$.events[0].channels[2]: must be an API name", "$.events[0].channels[3]: must not be empty"}},
		{"workload", batchOf(`{"id":"w","type":"workloadChanged","userId":"0055e000003AbCd","time":"2026-11-21T08:59:58Z","configuredCapacity":"10","previousWorkload":-1}`),
			[]string{"$.events[0].configuredCapacity: must be a number of 0 or more, not a string", "$.events[0].previousWorkload: must be 0 or more", "$.events[0].newWorkload: required"}},
		{"huge number", batchOf(`{"id":"w","type":"workloadChanged","userId":"0055e000003AbCd","time":"2026-11-21T08:59:58Z","configuredCapacity":1e999,"previousWorkload":0,"newWorkload":0}`),
			[]string{"$.events[0].configuredCapacity: must be a number of 0 or more"}},
		{"ack", batchOf(`{"id":"a","type":"commandAck","userId":"0055e000003AbCd","time":"2026-11-21T08:59:58Z","result":"ok","reason":7}`),
			[]string{"$.events[0].commandId: required", `$.events[0].result: must be "applied" or "failed"`, "$.events[0].reason: must be a string, not a number"}},
		{"long reason", batchOf(`{"id":"a","type":"commandAck","userId":"0055e000003AbCd","time":"2026-11-21T08:59:58Z","commandId":"c","result":"failed","reason":"` + strings.Repeat("é", 1001) + `"}`),
			[]string{"$.events[0].reason: must be at most 1000 characters"}},
		{"work accepted", batchOf(`{"id":"a","type":"workAccepted","userId":"0055e000003AbCd","time":"2026-11-21T08:59:58Z","workItemId":"500","serviceChannel":"1x"}`),
			[]string{"$.events[0].workItemId: must be a Salesforce id", "$.events[0].serviceChannel: must be an API name"}},
		{"problems are capped", batchOf(slices.Repeat([]string{`{}`}, 60)...), []string{"$.events[0].id: required", "$: 140 more problem(s) not shown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sfevents.Decode([]byte(tt.body))
			wantProblems(t, err, tt.want)
		})
	}
}

// wantProblems checks that err is an Invalid error with a bounded list of problems that holds
// each of want, written "path: message substring".
func wantProblems(t *testing.T, err error, want []string) {
	t.Helper()
	if !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("err = %v, want Invalid", err)
	}
	problems := apperr.ProblemsOf(err)
	if len(problems) > sfevents.MaxProblems+1 {
		t.Errorf("%d problems, more than MaxProblems+1", len(problems))
	}
	for _, w := range want {
		path, msg, _ := strings.Cut(w, ": ")
		if !slices.ContainsFunc(problems, func(p apperr.Problem) bool { return p.Path == path && strings.Contains(p.Message, msg) }) {
			t.Errorf("no problem %q in %v", w, problems)
		}
	}
}

func TestDecodeInvalidBodySample(t *testing.T) {
	_, err := sfevents.Decode(readTestdata(t, "invalid-body.json"))
	want := []apperr.Problem{
		{Path: "$.extra", Message: "unknown field"},
		{Path: "$.events[0].userId", Message: `must be a user id (005 followed by 12 or 15 letters and digits), not "0035e000003AbCd"`},
		{Path: "$.events[0].time", Message: `must be an RFC 3339 time with a time zone, such as 2026-11-21T08:59:58.120Z, not "2026-11-21 08:59:58"`},
		{Path: "$.events[0].statusDeveloperName", Message: "required"},
		{Path: "$.events[0].channels", Message: "must be an array of service channel API names, not a string"},
		{Path: "$.events[1].type", Message: `unknown type "statusCleared" (want statusChanged, logout, workAccepted, workloadChanged or commandAck)`},
		{Path: "$.events[2].workload", Message: "unknown field"},
		{Path: "$.events[2].configuredCapacity", Message: "must be a number of 0 or more, not a string"},
		{Path: "$.events[2].previousWorkload", Message: "must be 0 or more"},
		{Path: "$.events[3].result", Message: `must be "applied" or "failed"`},
		{Path: "$.events[3].id", Message: `duplicate event id "8d2f3e4a-1b5c-4d6e-8f7a-000000000003", also at $.events[2]`},
	}
	if got := apperr.ProblemsOf(err); !slices.Equal(got, want) {
		t.Errorf("problems:\n got %v\nwant %v", got, want)
	}
}

func TestOptionalNulls(t *testing.T) {
	b := mustDecode(t, batchOf(strings.Replace(event, `{`, `{"channels":null,"commandId":null,`, 1)))
	if e := b.Events[0]; e.Channels != nil || e.CommandID != "" {
		t.Errorf("nulls read as %+v", e)
	}
}

func TestCaseSafeID(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"15 to 18", "001A0000006Vm9r", "001A0000006Vm9rIAC", true},
		{"18 unchanged", "001A0000006Vm9rIAC", "001A0000006Vm9rIAC", true},
		{"18 with case lost", "001a0000006vm9riac", "001A0000006Vm9rIAC", true},
		{"all lower", "0055e000003abcd", "0055e000003abcdAAA", true},
		{"too short", "001A0000006Vm9", "", false},
		{"bad char", "001A0000006Vm9-", "", false},
		{"suffix outside alphabet", "001A0000006Vm9rIA9", "", false},
		{"suffix marks a digit upper", "001A0000006Vm9rIA5", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := sfevents.CaseSafeID(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("CaseSafeID(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}
