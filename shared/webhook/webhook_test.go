package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamotest"
	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/rules"
	"github.com/omnibridge/omnibridge/shared/sfevents"
	"github.com/omnibridge/omnibridge/shared/webhook"
)

const (
	secretID       = "omnibridge/webhook-secret"
	previousSecret = "omnibridge-previous-webhook-secret"
	// unauthorizedBody is the whole 401 answer: nothing about why.
	unauthorizedBody = `{"error":{"code":"unauthorized","message":"unauthorized"}}` + "\n"
)

var errNoSuchSecret = errors.New("no such secret")

// The DynamoDB store is the production replay guard, and can release a claim.
var (
	_ webhook.ReplayGuard = (*dynamo.Store)(nil)
	_ interface {
		Release(context.Context, string) error
	} = (*dynamo.Store)(nil)
)

// fixture is a handler over fakes, with its clock at sampleTime.
type fixture struct {
	h       *webhook.Handler
	proc    *fakeProcessor
	secrets *fakeSecrets
	logs    *syncBuffer
	now     atomic.Pointer[time.Time]
}

func newFixture(t *testing.T, replay webhook.ReplayGuard, opts ...func(*webhook.Options)) *fixture {
	t.Helper()
	f := &fixture{proc: &fakeProcessor{}, secrets: &fakeSecrets{value: `{"current":"` + webhook.LocalSecret + `","previous":"` + previousSecret + `"}`}}
	f.setNow(sampleTime)
	if replay == nil {
		replay = &memReplay{}
	}
	v, err := webhook.NewVerifier(f.secrets, secretID, replay, webhook.VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	logger, logs := newLogger(t)
	f.logs = logs
	o := webhook.Options{Logger: logger, Now: func() time.Time { return *f.now.Load() }}
	for _, fn := range opts {
		fn(&o)
	}
	f.h = webhook.New(v, f.proc, o)
	return f
}

func (f *fixture) setNow(t time.Time) { f.now.Store(&t) }

func (f *fixture) do(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

// signed builds a webhook request for body, signed with secret at ts.
func signed(body, secret string, ts time.Time) *http.Request {
	r := httptest.NewRequest(http.MethodPost, webhook.Path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(webhook.SignatureHeader, webhook.Sign([]byte(secret), ts, []byte(body)))
	return r
}

// response is the JSON body of any answer.
type response struct {
	Error *struct {
		Code     string           `json:"code"`
		Message  string           `json:"message"`
		Problems []apperr.Problem `json:"problems"`
	} `json:"error"`
	Results []webhook.EventResult `json:"results"`
}

func decodeResponse(t *testing.T, w *httptest.ResponseRecorder) response {
	t.Helper()
	var resp response
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	return resp
}

func sampleBody(t *testing.T, file string) string {
	t.Helper()
	b, err := io.ReadAll(loadSample(t, file).Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSamplesThroughHandler(t *testing.T) {
	store := dynamotest.NewStore(t)
	tests := []struct {
		file     string
		status   int
		outcomes []string
		problems []string
	}{
		{file: "status-changed.json", status: http.StatusAccepted, outcomes: []string{"applied"}},
		{file: "logout.json", status: http.StatusAccepted, outcomes: []string{"applied"}},
		{file: "work-accepted.json", status: http.StatusAccepted, outcomes: []string{"applied"}},
		{file: "workload-changed.json", status: http.StatusAccepted, outcomes: []string{"applied"}},
		{file: "command-ack.json", status: http.StatusAccepted, outcomes: []string{"acknowledged"}},
		{file: "batch-mixed.json", status: http.StatusAccepted, outcomes: []string{"applied", "applied", "acknowledged", "applied", "applied", "acknowledged"}},
		{file: "bad-signature.json", status: http.StatusUnauthorized},
		{file: "invalid-body.json", status: http.StatusBadRequest, problems: []string{
			"$.extra", "$.events[0].userId", "$.events[0].time", "$.events[0].statusDeveloperName", "$.events[0].channels",
			"$.events[1].type", "$.events[2].workload", "$.events[2].configuredCapacity", "$.events[2].previousWorkload",
			"$.events[3].result", "$.events[3].id",
		}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".json"), func(t *testing.T) {
			f := newFixture(t, store)
			w := f.do(loadSample(t, tt.file))
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.status == http.StatusUnauthorized {
				if w.Body.String() != unauthorizedBody {
					t.Errorf("401 body %q", w.Body)
				}
				return
			}
			resp := decodeResponse(t, w)
			var paths []string
			if resp.Error != nil {
				for _, p := range resp.Error.Problems {
					paths = append(paths, p.Path)
				}
			}
			if !slices.Equal(paths, tt.problems) {
				t.Errorf("problem paths %v, want %v", paths, tt.problems)
			}
			var outcomes []string
			for i, r := range resp.Results {
				if r.Index != i || r.ID == "" || r.Type == "" {
					t.Errorf("result %d = %+v", i, r)
				}
				outcomes = append(outcomes, r.Outcome)
			}
			if !slices.Equal(outcomes, tt.outcomes) {
				t.Errorf("outcomes %v, want %v", outcomes, tt.outcomes)
			}
			if tt.status != http.StatusAccepted && len(f.proc.recorded()) > 0 {
				t.Errorf("processor called for a %d", tt.status)
			}
		})
	}
}

func TestAuthentication(t *testing.T) {
	body := `{"schemaVersion":"1","orgId":"00D5e000000Hkp2","sentAt":"2026-11-21T08:59:59Z","events":[{"id":"e1","type":"logout","userId":"0055e000003AbCd","time":"2026-11-21T08:59:58Z"}]}`
	good := webhook.Sign([]byte(webhook.LocalSecret), sampleTime, []byte(body))
	tests := []struct {
		name   string
		header string // the signature header; "-" leaves it out
		body   string
		want   int
		reason string // in the log for a 401
	}{
		{name: "good signature", header: good, want: http.StatusAccepted},
		{name: "previous secret", header: webhook.Sign([]byte(previousSecret), sampleTime, []byte(body)), want: http.StatusAccepted},
		{name: "one of several v1 values", header: good + ",v1=" + strings.Repeat("ab", 32) + ",v0=legacy", want: http.StatusAccepted},
		{name: "spaces and upper-case hex", header: " t=" + strings.TrimPrefix(strings.ReplaceAll(good, ",", " , "), "t=") + " ", want: http.StatusAccepted},
		{name: "tolerance edge past", header: webhook.Sign([]byte(webhook.LocalSecret), sampleTime.Add(-300*time.Second), []byte(body)), want: http.StatusAccepted},
		{name: "tolerance edge future", header: webhook.Sign([]byte(webhook.LocalSecret), sampleTime.Add(300*time.Second), []byte(body)), want: http.StatusAccepted},
		{name: "wrong secret", header: webhook.Sign([]byte(wrongSecret), sampleTime, []byte(body)), want: http.StatusUnauthorized, reason: "no signature matches"},
		{name: "missing header", header: "-", want: http.StatusUnauthorized, reason: "missing"},
		{name: "empty header", header: "", want: http.StatusUnauthorized, reason: "missing"},
		{name: "no t", header: strings.SplitN(good, ",", 2)[1], want: http.StatusUnauthorized, reason: "no t"},
		{name: "no v1", header: strings.SplitN(good, ",", 2)[0], want: http.StatusUnauthorized, reason: "no v1"},
		{name: "t not a number", header: strings.Replace(good, "t=1795251600", "t=2026-11-21T09:00:00Z", 1), want: http.StatusUnauthorized, reason: "unix seconds"},
		{name: "short v1", header: good[:len(good)-2], want: http.StatusUnauthorized, reason: "64 hex"},
		{name: "garbage", header: "sha256=deadbeef", want: http.StatusUnauthorized, reason: "no t"},
		{name: "expired 301 s", header: webhook.Sign([]byte(webhook.LocalSecret), sampleTime.Add(-301*time.Second), []byte(body)), want: http.StatusUnauthorized, reason: "tolerance"},
		{name: "future 301 s", header: webhook.Sign([]byte(webhook.LocalSecret), sampleTime.Add(301*time.Second), []byte(body)), want: http.StatusUnauthorized, reason: "tolerance"},
		{name: "tampered body", header: good, body: strings.Replace(body, "e1", "e2", 1), want: http.StatusUnauthorized, reason: "no signature matches"},
		{name: "timestamp swapped", header: strings.Replace(good, "t=1795251600", "t=1795251601", 1), want: http.StatusUnauthorized, reason: "no signature matches"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			b := body
			if tt.body != "" {
				b = tt.body
			}
			r := httptest.NewRequest(http.MethodPost, webhook.Path, strings.NewReader(b))
			r.Header.Set("Content-Type", "application/json")
			if tt.header != "-" {
				r.Header.Set(webhook.SignatureHeader, tt.header)
			}
			w := f.do(r)
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.want, w.Body)
			}
			if tt.want != http.StatusUnauthorized {
				return
			}
			if w.Body.String() != unauthorizedBody {
				t.Errorf("401 body %q carries detail", w.Body)
			}
			logs := f.logs.String()
			if !strings.Contains(logs, tt.reason) || !strings.Contains(logs, `"level":"INFO"`) {
				t.Errorf("log does not give the reason %q at info level:\n%s", tt.reason, logs)
			}
			if hexSig := tt.header[strings.LastIndex(tt.header, "=")+1:]; len(hexSig) > 16 && strings.Contains(logs, hexSig) {
				t.Errorf("log contains the signature:\n%s", logs)
			}
			for _, s := range []string{webhook.LocalSecret, previousSecret} {
				if strings.Contains(logs, s) {
					t.Errorf("log contains a secret:\n%s", logs)
				}
			}
			if len(f.proc.recorded()) != 0 {
				t.Error("processor called for an unauthenticated request")
			}
		})
	}
}

// TestReplay uses the real DynamoDB store as the replay guard.
func TestReplay(t *testing.T) {
	store := dynamotest.NewStore(t)
	f := newFixture(t, store)
	body := sampleBody(t, "status-changed.json")
	t.Run("identical request", func(t *testing.T) {
		first := f.do(loadSample(t, "status-changed.json"))
		if first.Code != http.StatusAccepted {
			t.Fatalf("first: %d %s", first.Code, first.Body)
		}
		again := f.do(loadSample(t, "status-changed.json"))
		if again.Code != http.StatusUnauthorized || again.Body.String() != unauthorizedBody {
			t.Fatalf("replay: %d %s", again.Code, again.Body)
		}
		if !strings.Contains(f.logs.String(), "replay") {
			t.Errorf("replay reason not logged:\n%s", f.logs)
		}
	})
	t.Run("same payload signed with the previous secret", func(t *testing.T) {
		w := f.do(signed(body, previousSecret, sampleTime))
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
	t.Run("same body re-signed later", func(t *testing.T) {
		w := f.do(signed(body, webhook.LocalSecret, sampleTime.Add(time.Second)))
		if w.Code != http.StatusAccepted {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
	if n := len(f.proc.recorded()); n != 2 {
		t.Errorf("processor called %d times, want 2", n)
	}
}

func TestReplayGuardFailures(t *testing.T) {
	body := sampleBody(t, "logout.json")
	t.Run("guard unavailable is 503", func(t *testing.T) {
		f := newFixture(t, &memReplay{claim: func(string) (bool, error) {
			return false, apperr.New(apperr.Unavailable, "throttled")
		}})
		if w := f.do(signed(body, webhook.LocalSecret, sampleTime)); w.Code != http.StatusServiceUnavailable {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
	t.Run("claim released on 503 so the identical request can be retried", func(t *testing.T) {
		guard := &memReplay{}
		f := newFixture(t, guard)
		fail := true
		f.proc.process = func(context.Context, string, presence.Event) (webhook.Result, error) {
			if fail {
				return webhook.Result{}, apperr.New(apperr.Unavailable, "table throttled")
			}
			return webhook.Result{Outcome: "applied"}, nil
		}
		r1 := signed(body, webhook.LocalSecret, sampleTime)
		header := r1.Header.Get(webhook.SignatureHeader)
		if w := f.do(r1); w.Code != http.StatusServiceUnavailable {
			t.Fatalf("first: %d %s", w.Code, w.Body)
		}
		if len(guard.released) != 1 {
			t.Fatalf("released %v", guard.released)
		}
		fail = false
		r2 := signed(body, webhook.LocalSecret, sampleTime)
		r2.Header.Set(webhook.SignatureHeader, header)
		if w := f.do(r2); w.Code != http.StatusAccepted {
			t.Fatalf("retry: %d %s", w.Code, w.Body)
		}
	})
	t.Run("TTL covers twice the window", func(t *testing.T) {
		var ttl time.Duration
		guard := &memReplay{}
		f := newFixture(t, guard)
		f.do(signed(body, webhook.LocalSecret, sampleTime))
		for _, d := range guard.keys {
			ttl = d
		}
		if ttl < 2*webhook.DefaultTolerance {
			t.Errorf("ttl %v", ttl)
		}
	})
}

func TestSecrets(t *testing.T) {
	body := sampleBody(t, "logout.json")
	tests := []struct {
		name   string
		value  string
		err    error
		secret string
		want   int
	}{
		{"plain string", webhook.LocalSecret + "\n", nil, webhook.LocalSecret, http.StatusAccepted},
		{"JSON current", `{"current":"` + webhook.LocalSecret + `"}`, nil, webhook.LocalSecret, http.StatusAccepted},
		{"JSON previous", `{"current":"` + webhook.LocalSecret + `","previous":"` + previousSecret + `"}`, nil, previousSecret, http.StatusAccepted},
		{"previous not configured", `{"current":"` + webhook.LocalSecret + `"}`, nil, previousSecret, http.StatusUnauthorized},
		{"malformed JSON secret", `{"current":`, nil, webhook.LocalSecret, http.StatusInternalServerError},
		{"short secret", "short", nil, "short", http.StatusInternalServerError},
		{"secret source down", "", apperr.New(apperr.Unavailable, "secrets manager throttled"), webhook.LocalSecret, http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.secrets.set(tt.value, tt.err)
			w := f.do(signed(body, tt.secret, sampleTime))
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.want, w.Body)
			}
			for _, s := range []string{webhook.LocalSecret, previousSecret, "short"} {
				if strings.Contains(w.Body.String()+f.logs.String(), s) {
					t.Errorf("a secret value reached the response or the log: %s\n%s", w.Body, f.logs)
				}
			}
		})
	}
}

func TestSecretRotation(t *testing.T) {
	const rotated = "omnibridge-rotated-webhook-secret"
	f := newFixture(t, nil)
	body := sampleBody(t, "logout.json")
	sign := func(secret string, at time.Time) *http.Request {
		return signed(strings.Replace(body, "4f9a1c2e", at.Format("150405"), 1), secret, at)
	}
	if w := f.do(sign(webhook.LocalSecret, sampleTime)); w.Code != http.StatusAccepted {
		t.Fatalf("before rotation: %d", w.Code)
	}
	f.secrets.set(`{"current":"`+rotated+`","previous":"`+webhook.LocalSecret+`"}`, nil)
	t.Run("cached secret within a minute", func(t *testing.T) {
		at := sampleTime.Add(30 * time.Second)
		f.setNow(at)
		if w := f.do(sign(rotated, at)); w.Code != http.StatusUnauthorized {
			t.Fatalf("status %d", w.Code)
		}
		if f.secrets.calls != 1 {
			t.Errorf("secret fetched %d times, want 1 (cached)", f.secrets.calls)
		}
	})
	t.Run("mismatch refetches after a minute", func(t *testing.T) {
		at := sampleTime.Add(90 * time.Second)
		f.setNow(at)
		if w := f.do(sign(rotated, at)); w.Code != http.StatusAccepted {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		at = at.Add(time.Second)
		f.setNow(at)
		if w := f.do(sign(webhook.LocalSecret, at)); w.Code != http.StatusAccepted {
			t.Fatalf("old secret as previous: %d", w.Code)
		}
	})
	t.Run("source down after caching keeps the cached secret", func(t *testing.T) {
		f.secrets.set("", apperr.New(apperr.Unavailable, "down"))
		at := sampleTime.Add(20 * time.Minute)
		f.setNow(at)
		if w := f.do(sign(rotated, at)); w.Code != http.StatusAccepted {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}

func TestBodyLimits(t *testing.T) {
	body := sampleBody(t, "logout.json")
	tests := []struct {
		name        string
		contentType string
		body        string
		want        int
		code        string
	}{
		{"too large", "application/json", `{"pad":"` + strings.Repeat("x", webhook.MaxBodyBytes) + `"}`, http.StatusRequestEntityTooLarge, "too_large"},
		{"text/plain", "text/plain", body, http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"form", "application/x-www-form-urlencoded", body, http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"no content type", "", body, http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"json with charset", "application/json; charset=utf-8", body, http.StatusAccepted, ""},
		{"empty body", "application/json", "", http.StatusBadRequest, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			r := signed(tt.body, webhook.LocalSecret, sampleTime)
			r.Header.Set("Content-Type", tt.contentType)
			w := f.do(r)
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d: %.200s", w.Code, tt.want, w.Body)
			}
			if resp := decodeResponse(t, w); tt.code != "" && (resp.Error == nil || resp.Error.Code != tt.code) {
				t.Errorf("error %+v, want code %s", resp.Error, tt.code)
			}
		})
	}
}

func TestBadRequestNamesFields(t *testing.T) {
	f := newFixture(t, nil)
	body := `{"schemaVersion":"1","orgId":"00D5e000000Hkp2","sentAt":"2026-11-21T08:59:59Z","events":[{"id":"e1","type":"workAccepted","userId":"0055e000003AbCd","time":"2026-11-21T08:59:58Z","serviceChannel":7}]}`
	w := f.do(signed(body, webhook.LocalSecret, sampleTime))
	if w.Code != http.StatusBadRequest {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	resp := decodeResponse(t, w)
	want := []apperr.Problem{
		{Path: "$.events[0].workItemId", Message: "required"},
		{Path: "$.events[0].serviceChannel", Message: "must be a string, not a number"},
	}
	if resp.Error == nil || resp.Error.Code != "invalid" || !slices.Equal(resp.Error.Problems, want) {
		t.Errorf("error %+v, want problems %v", resp.Error, want)
	}
}

// TestOrderingAndResults runs batch-mixed.json: results come back in input order, each agent's
// events reach the processor in time order (15- and 18-character ids name the same agent), and
// acknowledgements go to Acknowledge.
func TestOrderingAndResults(t *testing.T) {
	f := newFixture(t, nil)
	w := f.do(loadSample(t, "batch-mixed.json"))
	if w.Code != http.StatusAccepted {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	resp := decodeResponse(t, w)
	wantIDs := []string{
		"7c1e2d3f-0a4b-4c5d-9e6f-000000000003", "7c1e2d3f-0a4b-4c5d-9e6f-000000000001", "7c1e2d3f-0a4b-4c5d-9e6f-000000000004",
		"7c1e2d3f-0a4b-4c5d-9e6f-000000000002", "7c1e2d3f-0a4b-4c5d-9e6f-000000000006", "7c1e2d3f-0a4b-4c5d-9e6f-000000000005",
	}
	var gotIDs []string
	for i, r := range resp.Results {
		gotIDs = append(gotIDs, r.ID)
		if r.Index != i || r.Detail == "" {
			t.Errorf("result %d: %+v", i, r)
		}
	}
	if !slices.Equal(gotIDs, wantIDs) {
		t.Errorf("result ids %v, want input order %v", gotIDs, wantIDs)
	}
	perUser := map[string][]string{}
	for _, c := range f.proc.recorded() {
		id := c.event.ID
		if c.ack != nil {
			id = c.ack.EventID
		}
		perUser[c.userID] = append(perUser[c.userID], id[len(id)-1:])
	}
	want := map[string][]string{
		"0055e000003AbCdAAK": {"1", "2", "3", "4"},
		"0055e000004QrStAAK": {"5", "6"},
	}
	for user, seq := range want {
		if !slices.Equal(perUser[user], seq) {
			t.Errorf("user %s: events %v, want %v", user, perUser[user], seq)
		}
	}
	if len(perUser) != 2 {
		t.Errorf("users %v", perUser)
	}
	for _, c := range f.proc.recorded() {
		if c.ack != nil {
			if c.ack.CommandID == "" || c.ack.EventID == "" {
				t.Errorf("ack %+v", c.ack)
			}
			continue
		}
		if c.event.Origin != presence.OriginWebhook || !c.event.Kind.Valid() {
			t.Errorf("event %+v", c.event)
		}
	}
}

func TestAcksRoutedToAcknowledge(t *testing.T) {
	f := newFixture(t, nil)
	f.proc.process = func(context.Context, string, presence.Event) (webhook.Result, error) {
		t.Error("ProcessSalesforce called for an acknowledgement")
		return webhook.Result{}, nil
	}
	w := f.do(loadSample(t, "command-ack.json"))
	if w.Code != http.StatusAccepted {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	calls := f.proc.recorded()
	want := sfevents.Ack{
		CommandID: "9d5ed678fe57bcca610140957afab571", Applied: true, Time: time.Date(2026, 11, 21, 8, 59, 58, 900e6, time.UTC),
		EventID: "4f9a1c2e-7b3d-4e5f-8a6b-1c2d3e4f5a65", UserID: "0055e000003AbCdAAK",
	}
	if len(calls) != 1 || calls[0].ack == nil || *calls[0].ack != want {
		t.Fatalf("calls %+v, want one Acknowledge(%+v)", calls, want)
	}
}

// TestConcurrencyAcrossUsers blocks the first agent's event until the second agent's event has
// started: that only finishes if agents run concurrently. A third check bounds the parallelism.
func TestConcurrencyAcrossUsers(t *testing.T) {
	users := []string{"0055e000003AbCd", "0055e000004QrSt", "0055e000005Aaaa", "0055e000006Bbbb", "0055e000007Cccc"}
	var evs []string
	for i, u := range users {
		evs = append(evs, `{"id":"e`+string(rune('a'+i))+`","type":"logout","userId":"`+u+`","time":"2026-11-21T08:59:5`+string(rune('0'+i))+`Z"}`)
	}
	body := `{"schemaVersion":"1","orgId":"00D5e000000Hkp2","sentAt":"2026-11-21T08:59:59Z","events":[` + strings.Join(evs, ",") + `]}`

	t.Run("agents overlap", func(t *testing.T) {
		f := newFixture(t, nil)
		second := make(chan struct{})
		var once sync.Once
		f.proc.process = func(ctx context.Context, userID string, ev presence.Event) (webhook.Result, error) {
			switch ev.ID {
			case "ea":
				select {
				case <-second:
				case <-time.After(5 * time.Second):
					return webhook.Result{}, apperr.New(apperr.Internal, "agents were processed one after another")
				}
			case "eb":
				once.Do(func() { close(second) })
			}
			return webhook.Result{Outcome: "applied"}, nil
		}
		if w := f.do(signed(body, webhook.LocalSecret, sampleTime)); w.Code != http.StatusAccepted {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
	t.Run("bounded by Concurrency", func(t *testing.T) {
		f := newFixture(t, nil, func(o *webhook.Options) { o.Concurrency = 2 })
		var inFlight, peak atomic.Int32
		f.proc.process = func(context.Context, string, presence.Event) (webhook.Result, error) {
			n := inFlight.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(20 * time.Millisecond)
			inFlight.Add(-1)
			return webhook.Result{Outcome: "applied"}, nil
		}
		if w := f.do(signed(body, webhook.LocalSecret, sampleTime)); w.Code != http.StatusAccepted {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if p := peak.Load(); p != 2 {
			t.Errorf("peak concurrency %d, want 2", p)
		}
	})
}

// processorErrorCase is a case of the processor error tests: the event whose id ends in failID
// fails with err, or panics, and the batch is answered with want and outcomes in input order.
type processorErrorCase struct {
	name     string
	failID   string
	err      error
	panics   bool
	want     int
	outcomes []string
}

// fail is what the processor does for the event with the given id: nil unless it is failID's.
func (c processorErrorCase) fail(id string) error {
	if !strings.HasSuffix(id, c.failID) {
		return nil
	}
	if c.panics {
		panic("processor bug")
	}
	return c.err
}

// check checks the answer's status, outcomes and, on 503, its error.
func (c processorErrorCase) check(t *testing.T, w *httptest.ResponseRecorder) response {
	t.Helper()
	if w.Code != c.want {
		t.Fatalf("status %d, want %d: %s", w.Code, c.want, w.Body)
	}
	resp := decodeResponse(t, w)
	var outcomes []string
	for _, r := range resp.Results {
		outcomes = append(outcomes, r.Outcome)
	}
	if !slices.Equal(outcomes, c.outcomes) {
		t.Errorf("outcomes %v, want %v", outcomes, c.outcomes)
	}
	if c.want == http.StatusServiceUnavailable && (resp.Error == nil || resp.Error.Code != "unavailable") {
		t.Errorf("503 error %+v", resp.Error)
	}
	return resp
}

func TestProcessorErrors(t *testing.T) {
	tests := []processorErrorCase{
		{name: "retryable unavailable", failID: "1", err: apperr.New(apperr.Unavailable, "table throttled"), want: http.StatusServiceUnavailable,
			// Agent A's later events (3, 4, 2) are skipped; agent B (6, 5) is processed.
			outcomes: []string{"skipped", "error", "skipped", "skipped", "applied", "acknowledged"}},
		{name: "retryable internal", failID: "5", err: errors.New("boom"), want: http.StatusServiceUnavailable,
			outcomes: []string{"applied", "applied", "acknowledged", "applied", "skipped", "error"}},
		{name: "final invalid", failID: "2", err: apperr.New(apperr.Invalid, "no such status"), want: http.StatusAccepted,
			outcomes: []string{"applied", "applied", "acknowledged", "rejected", "applied", "acknowledged"}},
		{name: "panic", failID: "3", panics: true, want: http.StatusServiceUnavailable,
			outcomes: []string{"error", "applied", "skipped", "applied", "applied", "acknowledged"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.proc.process = func(_ context.Context, _ string, ev presence.Event) (webhook.Result, error) {
				if err := tt.fail(ev.ID); err != nil {
					return webhook.Result{}, err
				}
				return webhook.Result{Outcome: "applied", Detail: "ok"}, nil
			}
			f.proc.ack = func(_ context.Context, a sfevents.Ack) (webhook.Result, error) {
				if err := tt.fail(a.EventID); err != nil {
					return webhook.Result{}, err
				}
				return webhook.Result{Outcome: "acknowledged", Detail: "ok"}, nil
			}
			resp := tt.check(t, f.do(loadSample(t, "batch-mixed.json")))
			for _, r := range resp.Results {
				if r.Outcome == "error" && strings.Contains(r.Detail, "boom") {
					t.Errorf("internal error text leaked: %+v", r)
				}
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	f := newFixture(t, nil)
	tests := []struct {
		method, path string
		want         int
		allow        string
	}{
		{http.MethodGet, webhook.Path, http.StatusMethodNotAllowed, "OPTIONS, POST"},
		{http.MethodPut, webhook.Path, http.StatusMethodNotAllowed, "OPTIONS, POST"},
		{http.MethodDelete, webhook.Path, http.StatusMethodNotAllowed, "OPTIONS, POST"},
		{http.MethodPost, "/webhooks/salesforce/other", http.StatusNotFound, ""},
		{http.MethodOptions, "/webhooks/salesforce/other", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			w := f.do(httptest.NewRequest(tt.method, tt.path, nil))
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d", w.Code, tt.want)
			}
			if got := w.Header().Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
			decodeResponse(t, w)
		})
	}
	t.Run("OPTIONS answers 204 with Allow and no body", func(t *testing.T) {
		w := f.do(httptest.NewRequest(http.MethodOptions, webhook.Path, nil))
		if w.Code != http.StatusNoContent || w.Header().Get("Allow") != "OPTIONS, POST" || w.Body.Len() != 0 {
			t.Fatalf("status %d Allow %q body %q", w.Code, w.Header().Get("Allow"), w.Body)
		}
	})
}

func TestNewVerifierNeedsDependencies(t *testing.T) {
	tests := []struct {
		name    string
		secrets webhook.SecretSource
		id      string
		replay  webhook.ReplayGuard
	}{
		{"no secrets", nil, secretID, &memReplay{}},
		{"no secret id", &fakeSecrets{}, "", &memReplay{}},
		{"no replay guard", &fakeSecrets{}, secretID, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := webhook.NewVerifier(tt.secrets, tt.id, tt.replay, webhook.VerifierOptions{}); err == nil {
				t.Error("no error")
			}
		})
	}
}

// TestProcessedEventKinds checks the conversion the processor sees for each sample type.
func TestProcessedEventKinds(t *testing.T) {
	tests := map[string]rules.EventKind{
		"status-changed.json":   rules.EventSalesforceAgentStateChanged,
		"logout.json":           rules.EventSalesforceAgentLogout,
		"work-accepted.json":    rules.EventSalesforceWorkAccepted,
		"workload-changed.json": rules.EventSalesforceWorkloadChanged,
	}
	for file, kind := range tests {
		t.Run(strings.TrimSuffix(file, ".json"), func(t *testing.T) {
			f := newFixture(t, nil)
			if w := f.do(loadSample(t, file)); w.Code != http.StatusAccepted {
				t.Fatalf("status %d", w.Code)
			}
			calls := f.proc.recorded()
			if len(calls) != 1 || calls[0].event.Kind != kind || calls[0].userID != "0055e000003AbCdAAK" {
				t.Errorf("calls %+v, want one %s", calls, kind)
			}
		})
	}
}

// TestSamplesThroughLambdaAdapter feeds samples to the handler the way the Lambda does, through
// API Gateway's v2 proxy adapter, so the samples' header casing and body survive the real path.
func TestSamplesThroughLambdaAdapter(t *testing.T) {
	tests := map[string]int{"batch-mixed.json": http.StatusAccepted, "bad-signature.json": http.StatusUnauthorized, "invalid-body.json": http.StatusBadRequest}
	for file, want := range tests {
		t.Run(strings.TrimSuffix(file, ".json"), func(t *testing.T) {
			f := newFixture(t, nil)
			resp, err := httpadapter.NewV2(f.h).ProxyWithContext(context.Background(), loadSampleEvent(t, file))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, want, resp.Body)
			}
		})
	}
}

func TestEmptyOutcomeIsProcessed(t *testing.T) {
	f := newFixture(t, nil)
	f.proc.process = func(context.Context, string, presence.Event) (webhook.Result, error) { return webhook.Result{}, nil }
	w := f.do(loadSample(t, "logout.json"))
	if resp := decodeResponse(t, w); w.Code != http.StatusAccepted || resp.Results[0].Outcome != webhook.OutcomeProcessed {
		t.Errorf("status %d, results %+v", w.Code, resp.Results)
	}
}
