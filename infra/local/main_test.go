package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/omnibridge/omnibridge/shared/adminapi"
	"github.com/omnibridge/omnibridge/shared/httpjson"
)

// TestServe starts the local stack on a free port and walks through what `make run` promises:
// health, config validation with every problem listed, optimistic concurrency, JSON 404s and a
// clean shutdown.
func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout bytes.Buffer // written only by serve; read after it returns
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, "127.0.0.1:0", stackOptions{logOut: io.Discard}, &stdout, ready) }()
	var base string
	select {
	case addr := <-ready:
		base = "http://" + addr
	case err := <-done:
		t.Fatalf("serve returned before listening: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not become ready")
	}

	call := func(t *testing.T, method, path string, header map[string]string, body string) (int, http.Header, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s %s: Content-Type %q, want application/json", method, path, ct)
		}
		return resp.StatusCode, resp.Header, b
	}
	put := func(t *testing.T, ifMatch, body string) (int, http.Header, []byte) {
		return call(t, http.MethodPut, "/config", map[string]string{"Content-Type": "application/json", "If-Match": ifMatch}, body)
	}
	sample := string(sampleConfig)

	t.Run("GET /health is 200 with the seeded version", func(t *testing.T) {
		status, _, body := call(t, http.MethodGet, "/health", nil, "")
		var h adminapi.HealthReport
		if status != http.StatusOK || json.Unmarshal(body, &h) != nil || h.Status != "ok" || h.ConfigVersion != 1 {
			t.Fatalf("%d %s", status, body)
		}
	})
	t.Run("PUT /config with a broken document is 400 listing each problem", func(t *testing.T) {
		broken := `{"schemaVersion": 2, "rules": [{"id": "r1", "enabled": "yes", "sourceEvent": "connect.agentStateChanged",
			"criteria": [], "destination": "email", "targetState": "Away"}], "settings": {"colour": "blue"}}`
		status, _, body := put(t, `"1"`, broken)
		var e httpjson.ErrorBody
		if status != http.StatusBadRequest || json.Unmarshal(body, &e) != nil {
			t.Fatalf("%d %s", status, body)
		}
		var paths []string
		for _, p := range e.Error.Problems {
			paths = append(paths, p.Path)
		}
		want := []string{"$.rules[0].enabled", "$.settings.colour", "$.schemaVersion", "$.rules[0].criteria", "$.rules[0].destination"}
		if !slices.Equal(paths, want) {
			t.Fatalf("problem paths %v, want %v", paths, want)
		}
	})
	t.Run("PUT /config with a valid document is 200 and the version goes up", func(t *testing.T) {
		status, h, body := put(t, `"1"`, sample)
		if status != http.StatusOK || h.Get("ETag") != `"2"` {
			t.Fatalf("%d ETag %q %s", status, h.Get("ETag"), body)
		}
		status, h, _ = call(t, http.MethodGet, "/config", nil, "")
		if status != http.StatusOK || h.Get("ETag") != `"2"` {
			t.Fatalf("GET /config after PUT: %d ETag %q", status, h.Get("ETag"))
		}
	})
	t.Run("stale If-Match is 409", func(t *testing.T) {
		if status, _, body := put(t, `"1"`, sample); status != http.StatusConflict {
			t.Fatalf("%d %s", status, body)
		}
	})
	t.Run("the README's GET | PUT one-liner answers 200 and bumps the version", func(t *testing.T) {
		for _, tool := range []string{"sh", "curl", "jq", "sed"} {
			if _, err := exec.LookPath(tool); err != nil {
				t.Skipf("%s is not installed: %v", tool, err)
			}
		}
		readme, err := os.ReadFile("../../README.md")
		if err != nil {
			t.Fatal(err)
		}
		var line string
		for _, l := range strings.Split(string(readme), "\n") {
			if strings.HasPrefix(l, "curl -s -D /tmp/ob.h localhost:8080/config |") {
				line = l
			}
		}
		if line == "" {
			t.Fatal("the README has no GET | PUT one-liner")
		}
		dir := t.TempDir()
		line = strings.ReplaceAll(line, "localhost:8080", strings.TrimPrefix(base, "http://"))
		line = strings.ReplaceAll(line, "/tmp/ob.", dir+"/ob.")
		out, err := exec.Command("sh", "-c", line).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if !strings.HasPrefix(string(out), "HTTP/1.1 200 OK") || !strings.Contains(string(out), `"version":3`) {
			t.Fatalf("the one-liner answered:\n%s", out)
		}
		status, h, body := call(t, http.MethodGet, "/config", nil, "")
		var got adminapi.ConfigResponse
		if status != http.StatusOK || h.Get("ETag") != `"3"` || json.Unmarshal(body, &got) != nil || got.Document.Settings.EchoWindowSeconds != 45 {
			t.Fatalf("after the one-liner: %d ETag %q %s", status, h.Get("ETag"), body)
		}
	})
	t.Run("restore brings version 1 back as version 4, a rollback in history", func(t *testing.T) {
		status, h, body := call(t, http.MethodPost, "/config/versions/1/restore", map[string]string{"If-Match": `"3"`}, "")
		if status != http.StatusOK || h.Get("ETag") != `"4"` {
			t.Fatalf("%d ETag %q %s", status, h.Get("ETag"), body)
		}
		_, _, body = call(t, http.MethodGet, "/config/history?limit=1", nil, "")
		if !strings.Contains(string(body), `"version":4`) || !strings.Contains(string(body), `"rollbackOf":1`) {
			t.Fatalf("history %s", body)
		}
	})
	t.Run("OPTIONS through the local stack is 204 with Allow", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodOptions, base+"/config", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Allow") != "GET, HEAD, OPTIONS, PUT" {
			t.Fatalf("%d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
		}
	})
	for _, path := range []string{"/nope", "/config/versions/1/x", "/"} {
		t.Run("GET "+path+" is a JSON 404", func(t *testing.T) {
			status, _, body := call(t, http.MethodGet, path, nil, "")
			var e httpjson.ErrorBody
			if status != http.StatusNotFound || json.Unmarshal(body, &e) != nil || e.Error.Code != "not_found" {
				t.Fatalf("%d %s", status, body)
			}
		})
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop after cancel")
	}
	out := stdout.String()
	for _, want := range []string{"Omnibridge local stack", "DynamoDB (embedded)", "admin-api", "stopped"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := http.Get(base + "/health"); err == nil {
		t.Error("server still answers after shutdown")
	}
}

func TestServeBadAddress(t *testing.T) {
	err := serve(context.Background(), "127.0.0.1:notaport", stackOptions{logOut: io.Discard}, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "listen on 127.0.0.1:notaport") {
		t.Fatalf("got %v", err)
	}
}

func TestInvoke(t *testing.T) {
	event := filepath.Join("..", "..", "events", "admin-api", "get-health.json")
	t.Run("admin-api get-health prints an API Gateway v2 response", func(t *testing.T) {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"invoke", "admin-api", "--event", event}, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		var resp events.APIGatewayV2HTTPResponse
		dec := json.NewDecoder(&out)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&resp); err != nil {
			t.Fatalf("stdout is not an API Gateway v2 response: %v\n%s", err, out.String())
		}
		if resp.StatusCode != http.StatusOK || resp.Headers["Content-Type"] != "application/json" {
			t.Fatalf("response %+v", resp)
		}
		var h adminapi.HealthReport
		if err := json.Unmarshal([]byte(resp.Body), &h); err != nil || h.Status != "ok" || h.ConfigVersion != 1 {
			t.Fatalf("body %q: %+v %v", resp.Body, h, err)
		}
		if dec.More() {
			t.Fatal("stdout holds more than the response")
		}
	})

	dir := t.TempDir()
	notJSON := filepath.Join(dir, "not.json")
	notV2 := filepath.Join(dir, "sqs.json")
	if err := os.WriteFile(notJSON, []byte("{nope"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(notV2, []byte(`{"Records": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name string
		args []string
		want []string
	}{
		{"no function", []string{"invoke"}, []string{"usage: invoke", "admin-api"}},
		{"unknown function", []string{"invoke", "billing", "--event", event}, []string{`unknown function "billing"`, "admin-api"}},
		{"no event flag", []string{"invoke", "admin-api"}, []string{"--event <file> is required"}},
		{"unreadable event", []string{"invoke", "admin-api", "--event", filepath.Join(dir, "missing.json")}, []string{"cannot read event", "missing.json"}},
		{"event is a directory", []string{"invoke", "admin-api", "--event", dir}, []string{"cannot read event"}},
		{"event is not JSON", []string{"invoke", "admin-api", "--event", notJSON}, []string{"not valid JSON"}},
		{"event is not an HTTP API request", []string{"invoke", "admin-api", "--event", notV2}, []string{"not an API Gateway HTTP API (v2) request"}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), tc.args, &out, io.Discard)
			if err == nil {
				t.Fatalf("no error; stdout %s", out.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not mention %q", err, w)
				}
			}
			if out.Len() != 0 {
				t.Fatalf("stdout not empty on error: %s", out.String())
			}
		})
	}
}

// TestInvokeEventFunctions runs each event-driven function on its samples against the local
// stack: the response on stdout, and on stderr the calls the simulators recorded.
func TestInvokeEventFunctions(t *testing.T) {
	// A seed in which jdoe has a Salesforce session that began a minute ago.
	loggedIn := func(t *testing.T) string {
		var seed map[string]json.RawMessage
		var sf map[string]json.RawMessage
		var records map[string][]map[string]any
		if err := json.Unmarshal(sampleSeed, &seed); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(seed["salesforce"], &sf); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(sf["records"], &records); err != nil {
			t.Fatal(err)
		}
		records["AuthSession"] = []map[string]any{{
			"UsersId": "0055e000003AbCdAAK", "SessionType": "UI", "LoginType": "Application", "NumSecondsValid": 7200,
			"LastModifiedDate": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339),
		}}
		var err error
		if sf["records"], err = json.Marshal(records); err != nil {
			t.Fatal(err)
		}
		if seed["salesforce"], err = json.Marshal(sf); err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(seed)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "seed.json")
		if err := os.WriteFile(p, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, function, event string
		seed                  func(t *testing.T) string // a --seed file, if any
		stdout                []string                  // substrings of the response JSON
		calls                 []string                  // substrings of the recorded calls
	}{
		{
			name: "agent lunch publishes a presence command", function: "agent-events",
			event:  "agent-events/state-change-available-to-lunch.json",
			stdout: []string{`"batchItemFailures": []`},
			calls: []string{
				"SELECT Id, FederationIdentifier FROM User WHERE (FederationIdentifier IN ('jdoe')) AND (IsActive = true)",
				"POST  /services/data/v62.0/composite/sobjects",
				`"StatusId__c":"0N5xx0000004D56"`, `"UserId__c":"0055e000003AbCdAAK"`,
			},
		},
		{
			name: "malformed record is skipped, never retried", function: "agent-events",
			event:  "agent-events/batch-mixed.json",
			stdout: []string{`"batchItemFailures": []`},
		},
		{
			name: "salesforce available sets the connect status", function: "salesforce-webhook",
			event:  "salesforce-webhook/status-changed.json",
			stdout: []string{`"statusCode": 202`, `\"outcome\":\"applied\"`},
			calls:  []string{"POST  /search-users", `"Value":"jdoe"`, "PUT   /users/aaaaaaaa-bbbb-cccc-dddd-111111111111/3f6c2a1e-8b4d-4c7e-9a2f-1d5e7b9c0a11/status"},
		},
		{
			name: "a bad signature is refused", function: "salesforce-webhook",
			event:  "salesforce-webhook/bad-signature.json",
			stdout: []string{`"statusCode": 401`},
		},
		{
			name: "sweep with nothing due", function: "presence-sweep",
			event:  "presence-sweep/scheduled.json",
			stdout: []string{`"due": 0`},
		},
		{
			name: "session poll with nobody logged in reads the relevant users' sessions and presence", function: "session-poll",
			event:  "session-poll/scheduled.json",
			stdout: []string{`"sessionRows": 0`, `"toggledOn": 0`, `"toggleCalls": 0`},
			calls: []string{
				"SELECT UsersId, LastModifiedDate, NumSecondsValid FROM AuthSession WHERE SessionType IN ('UI') AND LoginType IN ('Application') AND UsersId IN (SELECT Id FROM User WHERE IsActive = true AND Department = 'Support')",
				"FROM UserServicePresence WHERE UserId IN (SELECT Id FROM User WHERE IsActive = true AND Department = 'Support')",
			},
		},
		{
			name: "session poll switches on a user it finds logged in", function: "session-poll",
			event: "session-poll/scheduled.json", seed: loggedIn,
			stdout: []string{`"activeUsers": 1`, `"toggledOn": 1`, `"toggled": 1`, `"toggleCalls": 1`, `"requested": 1`, `"failed": 0`},
			calls: []string{
				"POST  /services/data/v62.0/actions/custom/apex/Omnibridge_ToggleUsers",
				`{"inputs":[{"online":true,"reason":"Logged in to Salesforce","userId":"0055e000003AbCdAAK"}]}`,
				`"StatusId__c":"0N5xx0000004CSO"`,
				"Inputs the invocable action Omnibridge_ToggleUsers received (the distribution toggle): 1",
				`userId 0055e000003AbCdAAK, online true, reason "Logged in to Salesforce"`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := []string{"invoke", tc.function, "--event", filepath.Join("..", "..", "events", tc.event)}
			if tc.seed != nil {
				args = append(args, "--seed", tc.seed(t))
			}
			if err := run(context.Background(), args, &out, &errOut); err != nil {
				t.Fatal(err)
			}
			if !json.Valid(out.Bytes()) {
				t.Fatalf("stdout is not one JSON document:\n%s", out.String())
			}
			for _, w := range tc.stdout {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %s:\n%s", w, out.String())
				}
			}
			if !strings.Contains(errOut.String(), "Outgoing calls recorded by the simulators") {
				t.Errorf("stderr lacks the call list:\n%s", errOut.String())
			}
			for _, w := range tc.calls {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("recorded calls lack %s:\n%s", w, errOut.String())
				}
			}
			if strings.Contains(errOut.String(), localSalesforceClientSecret) {
				t.Error("the call list shows the client secret")
			}
		})
	}
}
