// Package salesforce is Omnibridge's thin net/http client for the Salesforce REST API.
//
// It authenticates with the OAuth 2.0 JWT bearer or client credentials flow (never
// username-password), caches the access token for the life of the Client, refreshes it once,
// single-flight, when Salesforce answers 401 INVALID_SESSION_ID, and retries throttling and
// transient failures with capped, fully jittered exponential backoff that never sleeps past the
// caller's deadline. Operations batch the way Salesforce limits require: 200 records per sObject
// Collections or invocable-action call, 25 subrequests per composite call.
//
// Errors are *apperr.Error values whose cause is an *APIError (or a transport error); no error
// string ever contains the access token, the client secret, the private key or a signed assertion.
package salesforce

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/sync/singleflight"
)

// Options tunes a Client. The zero value gives production defaults.
type Options struct {
	// HTTPClient sends the requests; nil means a client with Timeout.
	HTTPClient *http.Client
	// Timeout bounds each HTTP attempt when HTTPClient is nil (default 30s). The context passed
	// to each call bounds the whole operation, retries included.
	Timeout time.Duration
	// Retry bounds retries of throttled and transient failures.
	Retry RetryPolicy
	// Now is the clock used for JWT assertions; nil means time.Now.
	Now func() time.Time
}

// RetryPolicy bounds the backoff applied to HTTP 429, 502, 503, 504, 403 REQUEST_LIMIT_EXCEEDED and,
// for requests that are safe to repeat, transport errors. Zero fields take the defaults in brackets.
type RetryPolicy struct {
	// MaxAttempts counts every attempt, the first included [4]; 1 disables retries.
	MaxAttempts int
	// BaseDelay is the backoff ceiling before the first retry; it doubles per retry [250ms].
	BaseDelay time.Duration
	// MaxDelay caps one backoff [8s].
	MaxDelay time.Duration
	// MaxWait caps the total time spent sleeping between attempts of one request [20s].
	MaxWait time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 4
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 250 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 8 * time.Second
	}
	if p.MaxWait <= 0 {
		p.MaxWait = 20 * time.Second
	}
	return p
}

// backoff returns a full-jitter delay for the given retry (1-based): uniform in [0, min(MaxDelay,
// BaseDelay*2^(retry-1))), which spreads a burst of throttled Lambdas instead of synchronising them.
func (p RetryPolicy) backoff(retry int) time.Duration {
	ceil := p.MaxDelay
	if retry-1 < 32 {
		if d := p.BaseDelay << (retry - 1); d > 0 && d < ceil {
			ceil = d
		}
	}
	return rand.N(ceil)
}

// LimitInfo is the org's API usage from the latest Sforce-Limit-Info response header.
type LimitInfo struct {
	Used int
	Max  int
}

// Client calls one Salesforce org. It is safe for concurrent use and meant to be built once per
// Lambda container.
type Client struct {
	creds    Credentials
	key      *rsa.PrivateKey
	version  string
	audience string
	http     *http.Client
	retry    RetryPolicy
	now      func() time.Time

	refresh singleflight.Group

	mu        sync.Mutex
	tok       *token
	prevToken string // kept for redaction: a slow response may still echo it
	limits    LimitInfo
	hasLimits bool
}

type token struct {
	access      string
	instanceURL string
}

// New returns a Client for the validated credentials. It does no I/O: the first call fetches the
// token.
func New(creds Credentials, opts Options) (*Client, error) {
	if err := creds.Validate(); err != nil {
		return nil, err
	}
	c := &Client{
		creds:    creds,
		audience: strings.TrimRight(creds.LoginURL, "/"),
		http:     opts.HTTPClient,
		retry:    opts.Retry.withDefaults(),
		now:      opts.Now,
	}
	c.version, _ = apiVersion(creds.APIVersion)
	if creds.Audience != "" {
		c.audience = strings.TrimRight(creds.Audience, "/")
	}
	if creds.Flow == FlowJWTBearer {
		c.key, _ = parsePrivateKey(creds.PrivateKey) // Validate already parsed it once
	}
	if c.http == nil {
		timeout := opts.Timeout
		if timeout <= 0 {
			timeout = 30 * time.Second
		}
		c.http = &http.Client{Timeout: timeout}
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// String identifies the client without its credentials or token, so printing it is safe.
func (c *Client) String() string {
	return fmt.Sprintf("salesforce.Client{loginUrl=%s flow=%s version=%s}", c.creds.LoginURL, c.creds.Flow, c.version)
}

// LimitInfo returns the API usage reported by the latest response that carried Sforce-Limit-Info,
// and false before any did.
func (c *Client) LimitInfo() (LimitInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.limits, c.hasLimits
}

// call describes one logical request; do turns it into one or more HTTP attempts.
type call struct {
	op     string // for error messages: "query", "create", ...
	method string
	path   string // absolute path on the instance, or on the login host when login is set
	query  url.Values
	body   []byte
	form   bool // body is application/x-www-form-urlencoded
	login  bool // token request: login host, no Authorization, safe to repeat
}

type reply struct {
	status int
	body   []byte
}

// do sends c with authentication, one token refresh on INVALID_SESSION_ID, and backoff. On an
// HTTP error it returns the reply as well as the *APIError, for endpoints whose error bodies
// carry results. Errors are not yet wrapped with apperr.
func (c *Client) do(ctx context.Context, cl call) (*reply, error) {
	var (
		refreshed bool
		slept     time.Duration
	)
	for attempt := 1; ; attempt++ {
		var tok *token
		base := strings.TrimRight(c.creds.LoginURL, "/")
		if !cl.login {
			t, err := c.token(ctx, "")
			if err != nil {
				return nil, err
			}
			tok, base = t, t.instanceURL
		}
		rep, err := c.send(ctx, cl, base, tok)
		if err == nil && rep.status < 300 {
			return rep, nil
		}
		if err == nil {
			ae := parseAPIError(rep.status, rep.body, c.redact)
			if !cl.login && ae.StatusCode == http.StatusUnauthorized && ae.ErrorCode == CodeInvalidSession && !refreshed {
				refreshed = true
				if _, err := c.token(ctx, tok.access); err != nil {
					return nil, err
				}
				attempt-- // the retry after a refresh is not a backoff attempt
				continue
			}
			if !ae.retryable() {
				return rep, ae
			}
			err = ae
		} else if ctx.Err() != nil || !(cl.login || idempotent(cl.method)) {
			// A POST that died mid-flight may have been applied; the caller decides.
			return nil, err
		}
		if attempt >= c.retry.MaxAttempts {
			return rep, err
		}
		d := c.retry.backoff(attempt)
		if slept+d > c.retry.MaxWait {
			return rep, err
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
			return rep, err // sleeping would outlive the caller: fail now with what we know
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return rep, fmt.Errorf("%w (stopped retrying: %w)", err, ctx.Err())
		case <-t.C:
		}
		slept += d
	}
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// send makes one HTTP attempt and reads the whole body so the connection can be reused.
func (c *Client) send(ctx context.Context, cl call, base string, tok *token) (*reply, error) {
	u := base + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u, body)
	if err != nil {
		return nil, c.transportErr(cl, errors.New("invalid request URL"))
	}
	req.Header.Set("Accept", "application/json")
	if cl.body != nil {
		ct := "application/json"
		if cl.form {
			ct = "application/x-www-form-urlencoded"
		}
		req.Header.Set("Content-Type", ct)
	}
	if tok != nil {
		req.Header.Set("Authorization", "Bearer "+tok.access)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// *url.Error repeats the URL, query string included; keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, c.transportErr(cl, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, c.transportErr(cl, err)
	}
	c.noteLimits(resp.Header.Get("Sforce-Limit-Info"))
	return &reply{status: resp.StatusCode, body: b}, nil
}

func (c *Client) transportErr(cl call, err error) error {
	return &transportError{msg: fmt.Sprintf("salesforce: %s %s: %s", cl.method, cl.path, c.redact(err.Error())), err: err}
}

// noteLimits parses "api-usage=25/15000[, per-app-api-usage=...]".
func (c *Client) noteLimits(h string) {
	for part := range strings.SplitSeq(h, ",") {
		v, ok := strings.CutPrefix(strings.TrimSpace(part), "api-usage=")
		if !ok {
			continue
		}
		used, max, ok := strings.Cut(v, "/")
		u, err1 := strconv.Atoi(used)
		m, err2 := strconv.Atoi(max)
		if !ok || err1 != nil || err2 != nil {
			return
		}
		c.mu.Lock()
		c.limits, c.hasLimits = LimitInfo{Used: u, Max: m}, true
		c.mu.Unlock()
		return
	}
}

// redact strips anything secret from text that came back from the network or the transport.
func (c *Client) redact(s string) string {
	s = sessionIDRE.ReplaceAllString(s, "[REDACTED]")
	s = jwtRE.ReplaceAllString(s, "[REDACTED]")
	c.mu.Lock()
	lits := []string{c.creds.ClientSecret, c.creds.PrivateKey, c.prevToken}
	if c.tok != nil {
		lits = append(lits, c.tok.access)
	}
	c.mu.Unlock()
	for _, lit := range lits {
		if len(lit) >= 4 { // shorter strings would redact ordinary words; real secrets are long
			s = strings.ReplaceAll(s, lit, "[REDACTED]")
		}
	}
	return s
}

// token returns the cached token unless it is missing or equal to stale (the token a request just
// saw rejected). Concurrent callers share one refresh; a caller whose stale token was already
// replaced gets the new one without another round trip.
func (c *Client) token(ctx context.Context, stale string) (*token, error) {
	current := func() *token {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.tok != nil && c.tok.access != stale {
			return c.tok
		}
		return nil
	}
	if t := current(); t != nil {
		return t, nil
	}
	ch := c.refresh.DoChan("token", func() (any, error) {
		if t := current(); t != nil {
			return t, nil
		}
		// The refresh serves every waiter, so the first caller's cancellation must not abort it;
		// its deadline still bounds it.
		fctx := context.WithoutCancel(ctx)
		if dl, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			fctx, cancel = context.WithDeadline(fctx, dl)
			defer cancel()
		}
		t, err := c.fetchToken(fctx)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		if c.tok != nil {
			c.prevToken = c.tok.access
		}
		c.tok = t
		c.mu.Unlock()
		return t, nil
	})
	select {
	case <-ctx.Done():
		return nil, wrap("token", ctx.Err())
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*token), nil
	}
}

func (c *Client) fetchToken(ctx context.Context) (*token, error) {
	form := url.Values{}
	switch c.creds.Flow {
	case FlowJWTBearer:
		now := c.now()
		assertion, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
			"iss": c.creds.ClientID,
			"sub": c.creds.Username,
			"aud": c.audience, // a plain string: Salesforce does not take an array here
			"exp": now.Add(3 * time.Minute).Unix(),
		}).SignedString(c.key)
		if err != nil {
			return nil, wrap("token", errors.New("cannot sign the JWT assertion"))
		}
		form.Set("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
		form.Set("assertion", assertion)
	case FlowClientCredentials:
		form.Set("grant_type", "client_credentials")
		form.Set("client_id", c.creds.ClientID)
		form.Set("client_secret", c.creds.ClientSecret)
	}
	rep, err := c.do(ctx, call{op: "token", method: http.MethodPost, path: "/services/oauth2/token",
		body: []byte(form.Encode()), form: true, login: true})
	if err != nil {
		return nil, wrap("token", err)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
	}
	if err := json.Unmarshal(rep.body, &tr); err != nil || tr.AccessToken == "" {
		// Never quote the body: it holds the token.
		return nil, wrap("token", errors.New("token response has no access_token"))
	}
	if err := checkEndpoint(tr.InstanceURL); err != nil {
		return nil, wrap("token", fmt.Errorf("token response instance_url %v", err))
	}
	return &token{access: tr.AccessToken, instanceURL: strings.TrimRight(tr.InstanceURL, "/")}, nil
}

// callJSON sends in as JSON (when non-nil) and decodes a successful body into out (when non-nil).
func (c *Client) callJSON(ctx context.Context, cl call, in, out any) (*reply, error) {
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, wrap(cl.op, fmt.Errorf("encoding request: %w", err))
		}
		cl.body = b
	}
	rep, err := c.do(ctx, cl)
	if err != nil {
		return rep, wrap(cl.op, err)
	}
	if out != nil && len(bytes.TrimSpace(rep.body)) > 0 {
		if err := json.Unmarshal(rep.body, out); err != nil {
			return rep, wrap(cl.op, fmt.Errorf("decoding response: %w", err))
		}
	}
	return rep, nil
}

// dataPath joins parts under /services/data/<version>/.
func (c *Client) dataPath(parts ...string) string {
	return "/services/data/" + c.version + "/" + strings.Join(parts, "/")
}

// InstanceURL returns the org's instance URL (from the token response, fetching a token when
// none is held), such as https://example.my.salesforce.com, for links to records.
func (c *Client) InstanceURL(ctx context.Context) (string, error) {
	tok, err := c.token(ctx, "")
	if err != nil {
		return "", err
	}
	return tok.instanceURL, nil
}
