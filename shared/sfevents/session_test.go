package sfevents_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/session"
	"github.com/omnibridge/omnibridge/shared/sfevents"
)

func mustDecodeSession(t *testing.T, body string) sfevents.SessionBatch {
	t.Helper()
	b, err := sfevents.DecodeSession([]byte(body))
	if err != nil {
		t.Fatalf("DecodeSession: %v\nproblems: %v", err, apperr.ProblemsOf(err))
	}
	return b
}

func TestDecodeSessionSamples(t *testing.T) {
	const user = "0055e000003AbCdAAK"
	tests := []struct {
		file  string
		want  sfevents.SessionEvent
		event session.Event
	}{
		{
			file: "session-login.json",
			want: sfevents.SessionEvent{
				ID: "b2e4a6c8-0d1f-4a3b-8c5d-6e7f8a9b0c11", Type: sfevents.SessionLogin, UserID: user,
				Date:     time.Date(2026, 11, 21, 8, 59, 58, 120e6, time.UTC),
				Username: "jdoe@example.com.omni", SessionKey: "vMASKIU6AxEr+Op5", LoginKey: "QTd3mlXwqd2NqGqX",
				SessionLevel: "STANDARD", SourceIP: "203.0.113.24", LoginType: "Application",
			},
			event: session.Event{ID: "b2e4a6c8-0d1f-4a3b-8c5d-6e7f8a9b0c11", Kind: session.KindLogin, UserID: user,
				At: time.Date(2026, 11, 21, 8, 59, 58, 120e6, time.UTC), Source: session.SourceWebhook},
		},
		{
			file: "session-logout.json",
			want: sfevents.SessionEvent{
				ID: "0a4779b0-0da1-4619-a373-0a36991dff90", Type: sfevents.SessionLogout, UserID: user,
				Date:     time.Date(2026, 11, 21, 8, 59, 57, 4e6, time.UTC),
				Username: "jdoe@example.com.omni", SessionKey: "vMASKIU6AxEr+Op5", LoginKey: "QTd3mlXwqd2NqGqX",
				SessionLevel: "STANDARD", SourceIP: "203.0.113.24",
			},
			event: session.Event{ID: "0a4779b0-0da1-4619-a373-0a36991dff90", Kind: session.KindLogout, UserID: user,
				At: time.Date(2026, 11, 21, 8, 59, 57, 4e6, time.UTC), Source: session.SourceWebhook},
		},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".json"), func(t *testing.T) {
			b := mustDecodeSession(t, string(readTestdata(t, tt.file)))
			if b.OrgID != "00D5e000000Hkp2EAC" || b.SchemaVersion != "1" || b.SentAt.IsZero() {
				t.Errorf("batch header = %q %q %v", b.SchemaVersion, b.OrgID, b.SentAt)
			}
			if len(b.Input) != 1 || b.Input[0] != tt.want {
				t.Errorf("events\n got %+v\nwant [%+v]", b.Input, tt.want)
			}
			if got := b.Events(); len(got) != 1 || got[0] != tt.event {
				t.Errorf("Events() = %+v, want [%+v]", got, tt.event)
			}
		})
	}
}

// TestSessionMixed runs session-mixed.json: two users, 15- and 18-character ids, an offset time
// zone, null optionals and one event delivered twice.
func TestSessionMixed(t *testing.T) {
	b := mustDecodeSession(t, string(readTestdata(t, "session-mixed.json")))
	if b.OrgID != "00D5e000000Hkp2EAC" {
		t.Errorf("OrgID = %q, want the 18-character form", b.OrgID)
	}
	t.Run("input order, indexes and 18-character ids", func(t *testing.T) {
		if len(b.Input) != 6 {
			t.Fatalf("%d events", len(b.Input))
		}
		for i, e := range b.Input {
			if e.Index != i || len(e.UserID) != 18 {
				t.Errorf("event %d: %+v", i, e)
			}
		}
	})
	t.Run("the repeat is marked", func(t *testing.T) {
		for i, e := range b.Input {
			if want := i == 3; e.Repeat != want || (want && e.RepeatOf != 0) {
				t.Errorf("event %d: Repeat %v RepeatOf %d", i, e.Repeat, e.RepeatOf)
			}
		}
	})
	t.Run("time order is stable and leaves the repeat out", func(t *testing.T) {
		var got []int
		for _, e := range b.InTimeOrder() {
			got = append(got, e.Index)
		}
		// 4 is 09:45:10.500+01:00 = 08:45:10.500Z.
		if want := []int{1, 4, 2, 0, 5}; !slices.Equal(got, want) {
			t.Errorf("InTimeOrder indexes = %v, want %v", got, want)
		}
	})
	t.Run("events", func(t *testing.T) {
		const a, bb = "0055e000003AbCdAAK", "0055e000004QrStAAK"
		at := func(s string) time.Time {
			v, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				t.Fatal(err)
			}
			return v.UTC()
		}
		want := []session.Event{
			{ID: "5e8d1c2b-3a4f-4b6e-9d7c-000000000001", Kind: session.KindLogin, UserID: a, At: at("2026-11-21T08:30:00Z")},
			{ID: "5e8d1c2b-3a4f-4b6e-9d7c-000000000002", Kind: session.KindLogin, UserID: a, At: at("2026-11-21T08:45:10.5Z")},
			{ID: "5e8d1c2b-3a4f-4b6e-9d7c-000000000004", Kind: session.KindLogin, UserID: bb, At: at("2026-11-21T08:59:50.25Z")},
			{ID: "5e8d1c2b-3a4f-4b6e-9d7c-000000000003", Kind: session.KindLogout, UserID: a, At: at("2026-11-21T08:59:57Z")},
			{ID: "5e8d1c2b-3a4f-4b6e-9d7c-000000000005", Kind: session.KindLogout, UserID: bb, At: at("2026-11-21T08:59:58.5Z")},
		}
		for i := range want {
			want[i].Source = session.SourceWebhook
		}
		if got := b.Events(); !slices.Equal(got, want) {
			t.Errorf("Events()\n got %+v\nwant %+v", got, want)
		}
	})
	t.Run("nulls read as absent", func(t *testing.T) {
		if e := b.Input[4]; e.LoginType != "" || e.SourceIP != "" {
			t.Errorf("event 4 = %+v", e)
		}
	})
}

// sessionEvent is a valid login event to break one field at a time.
const sessionEvent = `{"type":"login","eventId":"e1","userId":"0055e000003AbCd","eventDate":"2026-11-21T08:59:58.120Z","loginType":"Application"}`

func TestDecodeSessionProblems(t *testing.T) {
	logout := `{"type":"logout","eventId":"e1","userId":"0055e000003AbCd","eventDate":"2026-11-21T08:59:58.120Z"}`
	tests := []struct {
		name string
		body string
		want []string // "path: message substring"
	}{
		{"not JSON", `{"events":[`, []string{"$: invalid JSON"}},
		{"missing everything", `{}`, []string{"$.schemaVersion: required", "$.orgId: required", "$.sentAt: required", "$.events: required"}},
		{"unsupported version", `{"schemaVersion":"2"}`, []string{`$.schemaVersion: unsupported schema version "2"`}},
		{"no events", batchOf(), []string{"$.events: must hold at least one event"}},
		{"too many events", batchOf(slices.Repeat([]string{sessionEvent}, sfevents.MaxEvents+1)...), []string{"$.events: holds 501 events"}},
		{"presence field names", batchOf(`{"id":"e1","type":"login","userId":"0055e000003AbCd","time":"2026-11-21T08:59:58Z"}`),
			[]string{"$.events[0].id: unknown field", "$.events[0].time: unknown field", "$.events[0].eventId: required", "$.events[0].eventDate: required"}},
		{"unknown type", batchOf(strings.Replace(sessionEvent, `"login"`, `"statusChanged"`, 1)), []string{`$.events[0].type: unknown type "statusChanged" (want login or logout)`}},
		{"login field on a logout", batchOf(strings.Replace(logout, `{`, `{"loginType":"Application",`, 1)), []string{"$.events[0].loginType: not allowed on a logout event"}},
		{"user id of a contact", batchOf(strings.Replace(sessionEvent, "0055e000003AbCd", "0035e000003AbCd", 1)), []string{"$.events[0].userId: must be a user id"}},
		{"user id bad checksum", batchOf(strings.Replace(sessionEvent, "0055e000003AbCd", "0055e000003AbCdAA5", 1)), []string{"$.events[0].userId: must be a user id"}},
		{"date without zone", batchOf(strings.Replace(sessionEvent, "08:59:58.120Z", "08:59:58.120", 1)), []string{"$.events[0].eventDate: must be an RFC 3339 time"}},
		{"bad event id", batchOf(strings.Replace(sessionEvent, `"e1"`, `"e 1"`, 1)), []string{"$.events[0].eventId: must be 1 to 128"}},
		{"empty optional", batchOf(strings.Replace(sessionEvent, `"Application"`, `""`, 1)), []string{"$.events[0].loginType: must not be empty"}},
		{"optional not a string", batchOf(strings.Replace(sessionEvent, `{`, `{"username":42,`, 1)), []string{"$.events[0].username: must be a string, not a number"}},
		{"long optional", batchOf(strings.Replace(sessionEvent, `{`, `{"sessionKey":"`+strings.Repeat("k", 256)+`",`, 1)), []string{"$.events[0].sessionKey: must be at most 255 characters"}},
		{"null required", batchOf(strings.Replace(sessionEvent, `"0055e000003AbCd"`, `null`, 1)), []string{"$.events[0].userId: required; must not be null"}},
		{"same id on another event", batchOf(sessionEvent, logout), []string{`$.events[1].eventId: event id "e1" is also at $.events[0], on a different event`}},
		{"same id on another user", batchOf(sessionEvent, strings.Replace(sessionEvent, "0055e000003AbCd", "0055e000004QrSt", 1)), []string{`$.events[1].eventId: event id "e1" is also at $.events[0]`}},
		{"duplicate key", batchOf(strings.Replace(sessionEvent, `"eventId":"e1"`, `"eventId":"e1","eventId":"e2"`, 1)), []string{"$.events[0].eventId: duplicate key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sfevents.DecodeSession([]byte(tt.body))
			wantProblems(t, err, tt.want)
			if !strings.Contains(apperr.MessageOf(err), "session webhook batch") {
				t.Errorf("message %q does not name the session contract", apperr.MessageOf(err))
			}
		})
	}
}

func TestDecodeSessionRepeats(t *testing.T) {
	tests := []struct {
		name    string
		events  []string
		repeats []bool
	}{
		{"identical twice", []string{sessionEvent, sessionEvent}, []bool{false, true}},
		{"same event, other optional fields", []string{sessionEvent, strings.Replace(sessionEvent, `"Application"`, `"SAML Idp Initiated SSO"`, 1)}, []bool{false, true}},
		{"same event, 15- and 18-character user id", []string{sessionEvent, strings.Replace(sessionEvent, "0055e000003AbCd", "0055e000003AbCdAAK", 1)}, []bool{false, true}},
		{"same instant in another zone", []string{sessionEvent, strings.Replace(sessionEvent, "08:59:58.120Z", "09:59:58.12+01:00", 1)}, []bool{false, true}},
		{"three times", []string{sessionEvent, sessionEvent, sessionEvent}, []bool{false, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustDecodeSession(t, batchOf(tt.events...))
			var got []bool
			for _, e := range b.Input {
				got = append(got, e.Repeat)
				if e.Repeat && e.RepeatOf != 0 {
					t.Errorf("event %d repeats %d, want 0", e.Index, e.RepeatOf)
				}
			}
			if !slices.Equal(got, tt.repeats) {
				t.Errorf("repeats %v, want %v", got, tt.repeats)
			}
			if n := len(b.Events()); n != 1 {
				t.Errorf("Events() has %d events, want 1", n)
			}
		})
	}
}

func TestSessionTypeKinds(t *testing.T) {
	for _, ty := range sfevents.SessionTypes() {
		if k, ok := ty.Kind(); !ok || (k != session.KindLogin && k != session.KindLogout) {
			t.Errorf("%s: kind %q, %v", ty, k, ok)
		}
	}
	if _, ok := sfevents.SessionType("statusChanged").Kind(); ok {
		t.Error("unknown type has a kind")
	}
}
