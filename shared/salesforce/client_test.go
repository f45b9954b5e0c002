package salesforce_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
)

// ping makes one cheap authenticated call.
func ping(ctx context.Context, c *salesforce.Client) error {
	for _, err := range c.Query(ctx, "SELECT Id FROM User LIMIT 1") {
		if err != nil {
			return err
		}
	}
	return nil
}

func apiError(t *testing.T, err error) *salesforce.APIError {
	t.Helper()
	var ae *salesforce.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) has no *APIError", err, err)
	}
	return ae
}

func TestJWTBearerFlow(t *testing.T) {
	e := newEnv(t, sfsim.Config{})
	if _, err := e.org.Insert("User", map[string]any{"Username": "gone@example.com", "IsActive": false}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		edit     func(*salesforce.Credentials)
		now      func() time.Time
		wantDesc string // OAuth error_description; "" means success
	}{
		{name: "valid assertion"},
		{name: "PKCS#1 key", edit: func(c *salesforce.Credentials) { c.PrivateKey = pkcs1PEM(testKey()) }},
		{name: "audience login.salesforce.com", edit: func(c *salesforce.Credentials) { c.Audience = "https://login.salesforce.com" }},
		{name: "wrong key", edit: func(c *salesforce.Credentials) { c.PrivateKey = pkcs8PEM(t, otherKey()) }, wantDesc: "invalid assertion"},
		{name: "unknown sub", edit: func(c *salesforce.Credentials) { c.Username = "nobody@example.com" }, wantDesc: "user hasn't approved this consumer"},
		{name: "inactive user", edit: func(c *salesforce.Credentials) { c.Username = "gone@example.com" }, wantDesc: "inactive user"},
		{name: "wrong issuer", edit: func(c *salesforce.Credentials) { c.ClientID = "someone-else" }, wantDesc: "client identifier invalid"},
		{name: "wrong audience", edit: func(c *salesforce.Credentials) { c.Audience = "https://evil.example.com" }, wantDesc: "audience is invalid"},
		{name: "expired assertion", now: func() time.Time { return time.Now().Add(-10 * time.Minute) }, wantDesc: "expired assertion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds := e.creds
			if tt.edit != nil {
				tt.edit(&creds)
			}
			c := e.clientWith(t, creds, salesforce.Options{Retry: fastRetry, Now: tt.now})
			err := ping(t.Context(), c)
			if tt.wantDesc == "" {
				if err != nil {
					t.Fatalf("ping: %v", err)
				}
				return
			}
			ae := apiError(t, err)
			if ae.StatusCode != http.StatusBadRequest || ae.Message != tt.wantDesc {
				t.Errorf("got %d %q, want 400 %q", ae.StatusCode, ae.Message, tt.wantDesc)
			}
			if apperr.CodeOf(err) != apperr.Internal {
				t.Errorf("code = %s, want internal: a rejected login is a configuration problem", apperr.CodeOf(err))
			}
		})
	}
}

func TestClientCredentialsFlow(t *testing.T) {
	e := newEnv(t, sfsim.Config{})
	tests := []struct {
		name     string
		secret   string
		wantCode string
	}{
		{name: "valid secret", secret: testClientSecret},
		{name: "wrong secret", secret: "not-the-secret", wantCode: "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds := salesforce.Credentials{Flow: salesforce.FlowClientCredentials, LoginURL: e.srv.URL, ClientID: testClientID, ClientSecret: tt.secret}
			err := ping(t.Context(), e.clientWith(t, creds, salesforce.Options{Retry: fastRetry}))
			if tt.wantCode == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if ae := apiError(t, err); ae.ErrorCode != tt.wantCode {
				t.Errorf("errorCode = %q, want %q", ae.ErrorCode, tt.wantCode)
			}
		})
	}
}

func TestTokenCachedAcrossCalls(t *testing.T) {
	e := newEnv(t, sfsim.Config{})
	c := e.client(t)
	for range 5 {
		if err := ping(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.org.Calls(sfsim.KindToken); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
}

func TestExpiredTokenRefreshedOnceForConcurrentCallers(t *testing.T) {
	e := newEnv(t, sfsim.Config{})
	c := e.client(t)
	if err := ping(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	e.org.RevokeTokens()
	e.org.Reset()
	// A slow token endpoint widens the window in which callers pile up on the refresh.
	e.org.AddRule(sfsim.Rule{Kind: sfsim.KindToken, Latency: 50 * time.Millisecond})

	const callers = 50
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			<-start
			errs <- ping(t.Context(), c)
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := e.org.Calls(sfsim.KindToken); n != 1 {
		t.Errorf("token requests = %d, want exactly 1", n)
	}
	if n := e.org.Calls(sfsim.KindQuery); n < callers || n > 2*callers {
		t.Errorf("query requests = %d, want between %d and %d (each retried at most once)", n, callers, 2*callers)
	}
}

func TestTokenLifetime(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, sfsim.Config{TokenLifetime: time.Hour, Now: clock})
	c := e.clientWith(t, e.creds, salesforce.Options{Retry: fastRetry, Now: clock})
	if err := ping(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(61 * time.Minute)
	mu.Unlock()
	if err := ping(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if n := e.org.Calls(sfsim.KindToken); n != 2 {
		t.Errorf("token requests = %d, want 2 (initial + refresh after expiry)", n)
	}
}

func TestInvalidSessionRetriedOnce(t *testing.T) {
	tests := []struct {
		name        string
		times       int // how many 401s the sim injects; 0 = always
		wantErr     bool
		wantQueries int
		wantTokens  int
	}{
		{name: "one 401 then success", times: 1, wantQueries: 2, wantTokens: 2},
		{name: "401 persists", times: 0, wantErr: true, wantQueries: 2, wantTokens: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sfsim.Config{})
			e.org.AddRule(sfsim.Rule{Kind: sfsim.KindQuery, Times: tt.times, Fault: sfsim.FaultInvalidSession})
			err := ping(t.Context(), e.client(t))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && apiError(t, err).ErrorCode != salesforce.CodeInvalidSession {
				t.Errorf("err = %v, want INVALID_SESSION_ID", err)
			}
			if q, tok := e.org.Calls(sfsim.KindQuery), e.org.Calls(sfsim.KindToken); q != tt.wantQueries || tok != tt.wantTokens {
				t.Errorf("queries, tokens = %d, %d; want %d, %d", q, tok, tt.wantQueries, tt.wantTokens)
			}
		})
	}
}

func TestBackoffNeverOutlivesDeadline(t *testing.T) {
	tests := []struct {
		name       string
		fault      sfsim.Fault
		wantStatus int
	}{
		{name: "503", fault: sfsim.FaultUnavailable, wantStatus: http.StatusServiceUnavailable},
		{name: "REQUEST_LIMIT_EXCEEDED", fault: sfsim.FaultRequestLimit, wantStatus: http.StatusForbidden},
		{name: "429", fault: sfsim.FaultTooManyRequests, wantStatus: http.StatusTooManyRequests},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sfsim.Config{})
			// A generous budget: only the deadline can stop the retries.
			c := e.clientWith(t, e.creds, salesforce.Options{Retry: salesforce.RetryPolicy{
				MaxAttempts: 1000, BaseDelay: 40 * time.Millisecond, MaxDelay: 2 * time.Second, MaxWait: time.Hour}})
			if err := ping(t.Context(), c); err != nil { // get the token outside the measured call
				t.Fatal(err)
			}
			e.org.Reset()
			e.org.AddRule(sfsim.Rule{Kind: sfsim.KindQuery, Fault: tt.fault})

			const budget = 400 * time.Millisecond
			ctx, cancel := context.WithTimeout(t.Context(), budget)
			defer cancel()
			deadline, _ := ctx.Deadline()
			err := ping(ctx, c)
			if over := time.Since(deadline); over > 50*time.Millisecond {
				t.Errorf("returned %v after the deadline", over)
			}
			if ae := apiError(t, err); ae.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d (the last answer, not a timeout)", ae.StatusCode, tt.wantStatus)
			}
			if !apperr.Is(err, apperr.Unavailable) {
				t.Errorf("code = %s, want unavailable", apperr.CodeOf(err))
			}
			if n := e.org.Calls(sfsim.KindQuery); n < 2 {
				t.Errorf("attempts = %d, want retries before giving up", n)
			}
		})
	}
}

func TestRetryBudget(t *testing.T) {
	tests := []struct {
		name      string
		rule      sfsim.Rule
		policy    salesforce.RetryPolicy
		wantErr   bool
		wantCalls int
	}{
		{name: "transient 503 recovers", rule: sfsim.Rule{Kind: sfsim.KindQuery, Times: 2, Fault: sfsim.FaultUnavailable}, policy: fastRetry, wantCalls: 3},
		{name: "max attempts", rule: sfsim.Rule{Kind: sfsim.KindQuery, Fault: sfsim.FaultUnavailable}, policy: fastRetry, wantErr: true, wantCalls: 4},
		{name: "no retry on 500", rule: sfsim.Rule{Kind: sfsim.KindQuery, Fault: sfsim.FaultServerError}, policy: fastRetry, wantErr: true, wantCalls: 1},
		{name: "max wait", rule: sfsim.Rule{Kind: sfsim.KindQuery, Fault: sfsim.FaultUnavailable},
			policy: salesforce.RetryPolicy{MaxAttempts: 1000, BaseDelay: time.Hour, MaxDelay: time.Hour, MaxWait: time.Nanosecond}, wantErr: true, wantCalls: 1},
		{name: "GET retried after connection reset", rule: sfsim.Rule{Kind: sfsim.KindQuery, Times: 1, Fault: sfsim.FaultConnReset}, policy: fastRetry, wantCalls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sfsim.Config{})
			e.org.AddRule(tt.rule)
			err := ping(t.Context(), e.clientWith(t, e.creds, salesforce.Options{Retry: tt.policy}))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if n := e.org.Calls(sfsim.KindQuery); n != tt.wantCalls {
				t.Errorf("attempts = %d, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestPOSTNotRetriedAfterConnectionReset(t *testing.T) {
	e := newEnv(t, sfsim.Config{})
	e.org.AddRule(sfsim.Rule{Kind: sfsim.KindSObject, Method: http.MethodPost, Times: 1, Fault: sfsim.FaultConnReset})
	_, err := e.client(t).Create(t.Context(), "Case", map[string]any{"Subject": "x"})
	if !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("err = %v, want unavailable", err)
	}
	if n := e.org.Calls(sfsim.KindSObject); n != 1 {
		t.Errorf("attempts = %d, want 1: a POST that may have been applied is not repeated", n)
	}
}

func TestLimitInfo(t *testing.T) {
	e := newEnv(t, sfsim.Config{APILimit: 15000})
	c := e.client(t)
	if _, ok := c.LimitInfo(); ok {
		t.Error("LimitInfo before any call reports ok")
	}
	for range 3 {
		if err := ping(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	got, ok := c.LimitInfo()
	if !ok || got != (salesforce.LimitInfo{Used: 3, Max: 15000}) {
		t.Errorf("LimitInfo = %+v, %v; want {3 15000}", got, ok)
	}
}

func TestAPILimitExhausted(t *testing.T) {
	e := newEnv(t, sfsim.Config{APILimit: 2})
	c := e.clientWith(t, e.creds, salesforce.Options{Retry: salesforce.RetryPolicy{MaxAttempts: 1}})
	var err error
	for range 3 {
		err = ping(t.Context(), c)
	}
	if ae := apiError(t, err); ae.StatusCode != http.StatusForbidden || ae.ErrorCode != salesforce.CodeRequestLimitExceeded {
		t.Errorf("third call: %v, want 403 REQUEST_LIMIT_EXCEEDED", err)
	}
}
