package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"-help"}, {"help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			if err := run(context.Background(), args, &out, &errOut); err != nil {
				t.Fatalf("%v (want success, which exits 0)", err)
			}
			for _, want := range []string{
				"Usage: go run ./infra/local", "invoke", "scenario", "fresh embedded",
				"example: go run ./infra/local -addr", "example: go run ./infra/local invoke agent-events --event events/agent-events/login.json",
				"example: go run ./infra/local scenario infra/local/scenarios/presence-day.json", "--sign",
			} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("help lacks %q:\n%s", want, out.String())
				}
			}
			if errOut.Len() != 0 {
				t.Errorf("help wrote to stderr: %s", errOut.String())
			}
		})
	}
	for _, args := range [][]string{{"invoke", "-h"}, {"invoke", "agent-events", "-h"}, {"scenario", "-h"}, {"scenario", "--explain", "-h"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			if err := run(context.Background(), args, &out, &errOut); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(out.String(), "usage: "+args[0]) || errOut.Len() != 0 {
				t.Fatalf("stdout %q stderr %q", out.String(), errOut.String())
			}
		})
	}
}

func TestBadArguments(t *testing.T) {
	event := filepath.Join("..", "..", "events", "admin-api", "get-health.json")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"serve"}, `unknown command "serve"`},
		{"stray argument after the stack's flags", []string{"-addr", "127.0.0.1:0", "now"}, `unexpected argument "now"`},
		{"unknown stack flag", []string{"-port", "8080"}, "flag provided but not defined: -port"},
		{"stray argument to invoke", []string{"invoke", "admin-api", "--event", event, "again"}, `unexpected argument "again"`},
		{"unknown function", []string{"invoke", "admin"}, `unknown function "admin"`},
		{"--sign on another function", []string{"invoke", "admin-api", "--event", event, "--sign"}, "--sign is for salesforce-webhook events"},
		{"two scenario files", []string{"scenario", "a.json", "b.json"}, `unexpected argument "b.json"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var errOut bytes.Buffer
			err := run(context.Background(), tc.args, io.Discard, &errOut)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error()+errOut.String(), tc.want) {
				t.Fatalf("error %q (stderr %q), want %q", err, errOut.String(), tc.want)
			}
		})
	}
}

// TestInvokeSign sends a hand-made, unsigned presence webhook event through invoke --sign.
func TestInvokeSign(t *testing.T) {
	body := `{"schemaVersion":"1","orgId":"00D5e000000Hkp2EAC","sentAt":"` + time.Now().UTC().Format(time.RFC3339) + `","events":[` +
		`{"id":"hand-made-1","type":"statusChanged","userId":"0055e000003AbCdAAK","time":"` + time.Now().UTC().Add(-time.Second).Format(time.RFC3339) + `",` +
		`"statusId":"0N5xx0000004D56","statusDeveloperName":"Away"}]}`
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /webhooks/salesforce/presence", RawPath: "/webhooks/salesforce/presence",
		Headers: map[string]string{"content-type": "application/json"},
		Body:    body,
	}
	ev.RequestContext.HTTP.Method = "POST"
	ev.RequestContext.HTTP.Path = ev.RawPath
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "hand-made.json")
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		sign   bool
		status int
	}{{"unsigned is refused", false, 401}, {"--sign makes it pass", true, 202}} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"invoke", "salesforce-webhook", "--event", file}
			if tc.sign {
				args = append(args, "--sign")
			}
			var out bytes.Buffer
			if err := run(context.Background(), args, &out, io.Discard); err != nil {
				t.Fatal(err)
			}
			var resp events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(out.Bytes(), &resp); err != nil || resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, out.String())
			}
		})
	}
}
