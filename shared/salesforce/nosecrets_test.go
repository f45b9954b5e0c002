package salesforce_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
)

// hostile is a fake Salesforce that echoes everything it receives, secrets included, into its
// error messages: the client must still keep them out of its errors.
type hostile struct {
	srv    *httptest.Server
	tokens []string // issued in order; the first is opaque, the rest look like session ids
	issued atomic.Int32
	// data answers API calls; nil answers 400 echoing the request.
	data func(w http.ResponseWriter, r *http.Request, echo string)
}

func newHostile(t *testing.T) *hostile {
	h := &hostile{tokens: []string{"opaque-token-value-7f3a9c", "00Dxx0000001gPL!AQ8AQJXsecretsessionA", "00Dxx0000001gPL!AQ8AQJXsecretsessionB"}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		echo := fmt.Sprintf("you sent %s %s auth=%q body=%q", r.Method, r.URL, r.Header.Get("Authorization"), body)
		form, _ := url.ParseQuery(string(body))
		if r.URL.Path == "/services/oauth2/token" {
			if strings.Contains(echo, "REJECT") || form.Get("client_id") == "reject-me" {
				w.WriteHeader(http.StatusBadRequest)
				_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": echo + " " + form.Get("assertion") + form.Get("client_secret")})
				return
			}
			n := min(int(h.issued.Add(1))-1, len(h.tokens)-1)
			_ = json.NewEncoder(w).Encode(map[string]string{"access_token": h.tokens[n], "instance_url": h.srv.URL})
			return
		}
		if h.data != nil {
			h.data(w, r, echo)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode([]map[string]any{{"errorCode": "ECHO", "message": echo, "fields": []string{r.Header.Get("Authorization")}}})
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func TestNoSecretsInErrors(t *testing.T) {
	key := testKey()
	keyPEM := pkcs8PEM(t, key)
	keyLine := strings.Split(keyPEM, "\n")[5] // a line from the middle of the key body
	const secret = "cc-secret-MUST-NOT-LEAK-91b2"

	h := newHostile(t)
	sim := newEnv(t, sfsim.Config{})

	jwtCreds := func(loginURL string) salesforce.Credentials {
		return salesforce.Credentials{Flow: salesforce.FlowJWTBearer, LoginURL: loginURL, ClientID: testClientID, Username: testUsername, PrivateKey: keyPEM}
	}
	ccCreds := func(loginURL, clientID string) salesforce.Credentials {
		return salesforce.Credentials{Flow: salesforce.FlowClientCredentials, LoginURL: loginURL, ClientID: clientID, ClientSecret: secret}
	}
	noRetry := salesforce.Options{Retry: salesforce.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}}
	newClient := func(c salesforce.Credentials) *salesforce.Client {
		cl, err := salesforce.New(c, noRetry)
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	query := func(c *salesforce.Client) error { return ping(t.Context(), c) }

	tests := []struct {
		name string
		run  func() error
	}{
		{"credentials: broken JSON", func() error {
			_, err := salesforce.ParseCredentials([]byte(`{"clientSecret":"` + secret + `" "flow":1}`))
			return err
		}},
		{"credentials: wrong type", func() error {
			_, err := salesforce.ParseCredentials([]byte(`{"privateKey":["` + keyLine + `"]}`))
			return err
		}},
		{"credentials: invalid key body", func() error {
			_, err := salesforce.ParseCredentials([]byte(`{"flow":"jwt_bearer","loginUrl":"https://login.salesforce.com","clientId":"x","username":"u","privateKey":"-----BEGIN PRIVATE KEY-----\n` + keyLine + `\n-----END PRIVATE KEY-----","clientSecret":"` + secret + `"}`))
			return err
		}},
		{"credentials: plain http", func() error {
			_, err := salesforce.New(ccCreds("http://login.example.com", "x"), salesforce.Options{})
			return err
		}},
		{"jwt: echoed assertion", func() error {
			c := jwtCreds(h.srv.URL)
			c.Username = "REJECT"
			return query(newClient(c))
		}},
		{"client credentials: echoed secret", func() error { return query(newClient(ccCreds(h.srv.URL, "reject-me"))) }},
		{"client credentials: sim rejects", func() error { return query(newClient(ccCreds(sim.srv.URL, testClientID))) }},
		{"jwt: sim rejects wrong key", func() error {
			c := jwtCreds(sim.srv.URL)
			c.PrivateKey = pkcs8PEM(t, otherKey())
			return query(newClient(c))
		}},
		{"api: opaque token echoed", func() error { return query(newClient(ccCreds(h.srv.URL, testClientID))) }},
		{"api: 401 twice, both tokens echoed", func() error {
			h.data = func(w http.ResponseWriter, r *http.Request, echo string) {
				w.WriteHeader(http.StatusUnauthorized)
				_ = json.NewEncoder(w).Encode([]map[string]string{{"errorCode": "INVALID_SESSION_ID", "message": echo}})
			}
			defer func() { h.data = nil }()
			return query(newClient(ccCreds(h.srv.URL, testClientID)))
		}},
		{"api: 503 echoed until budget ends", func() error {
			h.data = func(w http.ResponseWriter, r *http.Request, echo string) {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, "<html>"+echo+"</html>")
			}
			defer func() { h.data = nil }()
			return query(newClient(ccCreds(h.srv.URL, testClientID)))
		}},
		{"api: invocable 400 echoed", func() error {
			_, err := newClient(ccCreds(h.srv.URL, testClientID)).InvokeAction(t.Context(), "X", []map[string]any{{"a": 1}})
			return err
		}},
		{"api: composite sub-response echoed", func() error {
			h.data = func(w http.ResponseWriter, r *http.Request, echo string) {
				inner, _ := json.Marshal([]map[string]string{{"errorCode": "ECHO", "message": echo}})
				_ = json.NewEncoder(w).Encode(map[string]any{"compositeResponse": []map[string]any{{"referenceId": "a", "httpStatusCode": 400, "body": json.RawMessage(inner)}}})
			}
			defer func() { h.data = nil }()
			res, err := newClient(ccCreds(h.srv.URL, testClientID)).Composite(t.Context(), false, []salesforce.Subrequest{{Method: "GET", URL: "limits", ReferenceID: "a"}})
			if err != nil {
				return err
			}
			return res[0].Err()
		}},
		{"transport: connection reset", func() error {
			sim.org.AddRule(sfsim.Rule{Kind: sfsim.KindCollections, Fault: sfsim.FaultConnReset})
			defer sim.org.ClearRules()
			_, err := sim.client(t).PublishEvents(t.Context(), "X__e", []map[string]any{{"A__c": 1}})
			return err
		}},
		{"transport: deadline", func() error {
			sim.org.AddRule(sfsim.Rule{Kind: sfsim.KindQuery, Latency: time.Second})
			defer sim.org.ClearRules()
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			return ping(ctx, sim.client(t))
		}},
	}
	forbidden := append([]string{secret, keyLine, "eyJ", "BEGIN PRIVATE KEY"}, h.tokens...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if err == nil {
				t.Fatal("want an error")
			}
			for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				for _, f := range forbidden {
					if strings.Contains(text, f) {
						t.Errorf("error leaks %q:\n%s", f, text)
					}
				}
			}
		})
	}

	t.Run("printing credentials and clients", func(t *testing.T) {
		creds := ccCreds("https://login.salesforce.com", "x")
		creds.PrivateKey = keyPEM
		c := newClient(ccCreds(h.srv.URL, testClientID))
		_ = query(c) // holds a token now
		var logged bytes.Buffer
		slog.New(slog.NewJSONHandler(&logged, nil)).Info("creds", "creds", creds, "client", c)
		for _, text := range []string{fmt.Sprint(creds), fmt.Sprintf("%+v", creds), fmt.Sprintf("%#v", creds), fmt.Sprintf("%+v", c), logged.String()} {
			for _, f := range forbidden {
				if strings.Contains(text, f) {
					t.Errorf("leaks %q:\n%s", f, text)
				}
			}
		}
	})
}

func TestParseCredentials(t *testing.T) {
	key := pkcs8PEM(t, testKey())
	oneLine := strings.ReplaceAll(key, "\n", `\n`)
	tests := []struct {
		name    string
		json    string
		wantErr string // substring; "" means valid
	}{
		{"jwt bearer", `{"flow":"jwt_bearer","loginUrl":"https://login.salesforce.com","clientId":"c","username":"u@x.com","privateKey":` + q(key) + `}`, ""},
		{"jwt bearer, key on one line", `{"flow":"jwt_bearer","loginUrl":"https://test.salesforce.com","clientId":"c","username":"u@x.com","privateKey":` + q(oneLine) + `}`, ""},
		{"jwt bearer, PKCS#1", `{"flow":"jwt_bearer","loginUrl":"https://acme.my.salesforce.com/","clientId":"c","username":"u","privateKey":` + q(pkcs1PEM(testKey())) + `,"apiVersion":"v64.0"}`, ""},
		{"client credentials", `{"flow":"client_credentials","loginUrl":"https://acme.my.salesforce.com","clientId":"c","clientSecret":"s"}`, ""},
		{"loopback http for the simulator", `{"flow":"client_credentials","loginUrl":"http://127.0.0.1:8080","clientId":"c","clientSecret":"s"}`, ""},
		{"no flow", `{"loginUrl":"https://login.salesforce.com","clientId":"c"}`, "flow is required"},
		{"password flow refused", `{"flow":"password","loginUrl":"https://login.salesforce.com","clientId":"c"}`, `flow must be "jwt_bearer" or "client_credentials"`},
		{"jwt without key and user", `{"flow":"jwt_bearer","loginUrl":"https://login.salesforce.com","clientId":"c"}`, "username is required for the jwt_bearer flow; privateKey is required"},
		{"not a key", `{"flow":"jwt_bearer","loginUrl":"https://login.salesforce.com","clientId":"c","username":"u","privateKey":"hello"}`, "privateKey is not a PEM block"},
		{"client credentials without secret", `{"flow":"client_credentials","loginUrl":"https://login.salesforce.com","clientId":"c"}`, "clientSecret is required"},
		{"http login URL", `{"flow":"client_credentials","loginUrl":"http://login.salesforce.com","clientId":"c","clientSecret":"s"}`, "loginUrl must use https"},
		{"login URL with path", `{"flow":"client_credentials","loginUrl":"https://login.salesforce.com/services/oauth2/token","clientId":"c","clientSecret":"s"}`, "loginUrl must be a base URL"},
		{"missing client id", `{"flow":"client_credentials","loginUrl":"https://login.salesforce.com","clientSecret":"s"}`, "clientId is required"},
		{"old API version", `{"flow":"client_credentials","loginUrl":"https://login.salesforce.com","clientId":"c","clientSecret":"s","apiVersion":"v61.0"}`, "apiVersion must be v62.0 or later"},
		{"malformed API version", `{"flow":"client_credentials","loginUrl":"https://login.salesforce.com","clientId":"c","clientSecret":"s","apiVersion":"62"}`, `apiVersion must look like "v62.0"`},
		{"unknown field", `{"flow":"client_credentials","loginUrl":"https://login.salesforce.com","clientId":"c","clientSecret":"s","password":"p"}`, `unknown field "password"`},
		{"not JSON", `flow=jwt`, "invalid JSON at offset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := salesforce.ParseCredentials([]byte(tt.json))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseCredentials: %v", err)
				}
				if _, err := salesforce.New(c, salesforce.Options{}); err != nil {
					t.Errorf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}

func q(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
