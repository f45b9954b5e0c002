package webhook_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/omnibridge/omnibridge/shared/webhook"
)

// update rewrites the samples: go test ./shared/webhook -run TestSamples -update
var update = flag.Bool("update", false, "rewrite the API Gateway samples in events/salesforce-webhook")

const (
	samplesDir = "../../events/salesforce-webhook"
	bodiesDir  = "../sfevents/testdata"
)

// sampleTime is the signature timestamp of every sample (2026-11-21T09:00:00Z); tests run their
// clock at it.
var sampleTime = time.Unix(1795251600, 0).UTC()

// wrongSecret signs bad-signature.json: a plausible secret that is not the configured one.
const wrongSecret = "not-the-omnibridge-webhook-secret"

// samples maps each file in events/salesforce-webhook to the route it is sent to, the body it
// carries (from shared/sfevents/testdata) and the secret it is signed with.
var samples = []struct {
	file, path, body, secret string
}{
	{"status-changed.json", webhook.Path, "status-changed.json", webhook.LocalSecret},
	{"logout.json", webhook.Path, "logout.json", webhook.LocalSecret},
	{"work-accepted.json", webhook.Path, "work-accepted.json", webhook.LocalSecret},
	{"workload-changed.json", webhook.Path, "workload-changed.json", webhook.LocalSecret},
	{"command-ack.json", webhook.Path, "command-ack.json", webhook.LocalSecret},
	{"batch-mixed.json", webhook.Path, "batch-mixed.json", webhook.LocalSecret},
	{"bad-signature.json", webhook.Path, "status-changed.json", wrongSecret},
	{"invalid-body.json", webhook.Path, "invalid-body.json", webhook.LocalSecret},
	{"session-login.json", webhook.SessionPath, "session-login.json", webhook.LocalSecret},
	{"session-logout.json", webhook.SessionPath, "session-logout.json", webhook.LocalSecret},
	{"session-mixed.json", webhook.SessionPath, "session-mixed.json", webhook.LocalSecret},
	{"case-created.json", webhook.CasesPath, "case-created.json", webhook.LocalSecret},
}

// envelope is an API Gateway HTTP API (payload 2.0) event with the fields, and field order, of
// the other samples in events/; events.APIGatewayV2HTTPRequest would add an empty mTLS block
// that API Gateway only sends when mutual TLS is on.
type envelope struct {
	Version        string            `json:"version"`
	RouteKey       string            `json:"routeKey"`
	RawPath        string            `json:"rawPath"`
	RawQueryString string            `json:"rawQueryString"`
	Headers        map[string]string `json:"headers"`
	RequestContext struct {
		AccountID    string `json:"accountId"`
		APIID        string `json:"apiId"`
		DomainName   string `json:"domainName"`
		DomainPrefix string `json:"domainPrefix"`
		HTTP         struct {
			Method    string `json:"method"`
			Path      string `json:"path"`
			Protocol  string `json:"protocol"`
			SourceIP  string `json:"sourceIp"`
			UserAgent string `json:"userAgent"`
		} `json:"http"`
		RequestID string `json:"requestId"`
		RouteKey  string `json:"routeKey"`
		Stage     string `json:"stage"`
		Time      string `json:"time"`
		TimeEpoch int64  `json:"timeEpoch"`
	} `json:"requestContext"`
	IsBase64Encoded bool   `json:"isBase64Encoded"`
	Body            string `json:"body"`
}

// buildSample wraps a compacted body the way API Gateway delivers a Salesforce callout to path,
// signed as the Salesforce package signs it.
func buildSample(t *testing.T, path, bodyFile, secret string) envelope {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(bodiesDir, bodyFile))
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	if err := json.Compact(&body, raw); err != nil {
		t.Fatalf("%s: %v", bodyFile, err)
	}
	const host = "wbhk5678.execute-api.us-east-1.amazonaws.com"
	const agent = "SFDC-Callout/62.0"
	const sourceIP = "13.108.0.10"
	e := envelope{
		Version:        "2.0",
		RouteKey:       "POST " + path,
		RawPath:        path,
		RawQueryString: "",
		Headers: map[string]string{
			"content-length":                         strconv.Itoa(body.Len()),
			"content-type":                           "application/json",
			"host":                                   host,
			"user-agent":                             agent,
			"x-amzn-trace-id":                        "Root=1-693fb7d0-5c2b9a4e1f3d6c8b7a9e0d1f",
			"x-forwarded-for":                        sourceIP,
			"x-forwarded-port":                       "443",
			"x-forwarded-proto":                      "https",
			strings.ToLower(webhook.SignatureHeader): webhook.Sign([]byte(secret), sampleTime, body.Bytes()),
		},
		Body: body.String(),
	}
	rc := &e.RequestContext
	rc.AccountID, rc.APIID, rc.DomainName, rc.DomainPrefix = "123456789012", "wbhk5678", host, "wbhk5678"
	rc.HTTP.Method, rc.HTTP.Path, rc.HTTP.Protocol, rc.HTTP.SourceIP, rc.HTTP.UserAgent = http.MethodPost, path, "HTTP/1.1", sourceIP, agent
	rc.RequestID, rc.RouteKey, rc.Stage = "Kq3vXhL2IAMEbWw=", "POST "+path, "$default"
	rc.Time, rc.TimeEpoch = "21/Nov/2026:09:00:00 +0000", sampleTime.UnixMilli()
	return e
}

// TestSamples keeps events/salesforce-webhook in step with the bodies in shared/sfevents/testdata,
// so that no signature in them is computed by hand.
func TestSamples(t *testing.T) {
	for _, s := range samples {
		t.Run(strings.TrimSuffix(s.file, ".json"), func(t *testing.T) {
			path := filepath.Join(samplesDir, s.file)
			want, err := json.MarshalIndent(buildSample(t, s.path, s.body, s.secret), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, '\n')
			if *update {
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s is out of date; run go test ./shared/webhook -run TestSamples -update", path)
			}
		})
	}
}

// loadSample reads a sample and turns it into the request the API Gateway proxy adapter would
// hand the handler.
func loadSample(t *testing.T, file string) *http.Request {
	t.Helper()
	return requestFromV2(t, loadSampleEvent(t, file))
}

// loadSampleEvent reads a sample as the API Gateway event the Lambda receives.
func loadSampleEvent(t *testing.T, file string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(samplesDir, file))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return ev
}

func requestFromV2(t *testing.T, ev events.APIGatewayV2HTTPRequest) *http.Request {
	t.Helper()
	if ev.IsBase64Encoded {
		t.Fatal("base64 bodies are not used by the samples")
	}
	target := ev.RawPath
	if ev.RawQueryString != "" {
		target += "?" + ev.RawQueryString
	}
	r := httptest.NewRequest(ev.RequestContext.HTTP.Method, target, strings.NewReader(ev.Body))
	for k, v := range ev.Headers {
		r.Header.Set(k, v)
	}
	return r
}
