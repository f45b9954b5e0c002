package runtime_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/omnibridge/omnibridge/shared/runtime"
)

func TestLoadEnv(t *testing.T) {
	full := map[string]string{
		runtime.EnvTable:               "omnibridge-prod",
		runtime.EnvDynamoEndpoint:      "http://127.0.0.1:8000",
		runtime.EnvConnectEndpoint:     "http://127.0.0.1:9100",
		runtime.EnvConnectInstanceID:   "11111111-2222-3333-4444-555555555555",
		runtime.EnvSalesforceSecretARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:sf",
		runtime.EnvWebhookSecretARN:    "arn:aws:secretsmanager:us-east-1:123456789012:secret:wh",
		runtime.EnvLogLevel:            "debug",
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    runtime.Env
		wantErr []string // substrings of the error; nil means no error
	}{
		{
			name: "every variable",
			env:  full,
			want: runtime.Env{
				Table: "omnibridge-prod", DynamoEndpoint: "http://127.0.0.1:8000",
				ConnectEndpoint: "http://127.0.0.1:9100", ConnectInstanceID: "11111111-2222-3333-4444-555555555555",
				SalesforceSecretARN: full[runtime.EnvSalesforceSecretARN], WebhookSecretARN: full[runtime.EnvWebhookSecretARN], LogLevel: "debug",
			},
		},
		{name: "only the table", env: map[string]string{runtime.EnvTable: "t"}, want: runtime.Env{Table: "t"}},
		{name: "empty environment", env: map[string]string{}, wantErr: []string{"missing", runtime.EnvTable}},
		{name: "table missing, others set", env: without(full, runtime.EnvTable), wantErr: []string{runtime.EnvTable}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := runtime.LoadEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("LoadEnv = %+v, want an error", got)
				}
				for _, s := range tc.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Fatalf("error %q does not mention %q", err, s)
					}
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("LoadEnv = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func without(m map[string]string, key string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		if k != key {
			c[k] = v
		}
	}
	return c
}

// lines decodes each JSON line the logger wrote.
func lines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

func TestLoggerRequestID(t *testing.T) {
	lc := &lambdacontext.LambdaContext{AwsRequestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"}
	ctx := lambdacontext.NewContext(context.Background(), lc)
	tests := []struct {
		name string
		log  func(l *slog.Logger)
		want any // the requestId field, nil for absent
	}{
		{"with a Lambda context", func(l *slog.Logger) { l.InfoContext(ctx, "hello", "agent", "a1") }, lc.AwsRequestID},
		{"through With", func(l *slog.Logger) { l.With("eventId", "e1").WarnContext(ctx, "hello") }, lc.AwsRequestID},
		{"without a context", func(l *slog.Logger) { l.Info("hello") }, nil},
		{"with a plain context", func(l *slog.Logger) { l.InfoContext(context.Background(), "hello") }, nil},
		{"with an empty request id", func(l *slog.Logger) {
			l.InfoContext(lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{}), "hello")
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			tc.log(runtime.NewLogger(&b, "info"))
			got := lines(t, &b)
			if len(got) != 1 {
				t.Fatalf("%d lines, want 1: %s", len(got), b.String())
			}
			if got[0]["requestId"] != tc.want || got[0]["msg"] != "hello" {
				t.Fatalf("line %v: requestId %v, want %v", got[0], got[0]["requestId"], tc.want)
			}
		})
	}
}

func TestLoggerLevel(t *testing.T) {
	tests := []struct {
		level string
		want  []string // messages that get through, of debug, info, warn, error
	}{
		{"", []string{"info", "warn", "error"}},
		{"debug", []string{"debug", "info", "warn", "error"}},
		{"warn", []string{"warn", "error"}},
		{"ERROR", []string{"error"}},
		{"loud", []string{"info", "warn", "error"}},
	}
	for _, tc := range tests {
		t.Run("level "+tc.level, func(t *testing.T) {
			var b bytes.Buffer
			l := runtime.NewLogger(&b, tc.level)
			l.Debug("debug")
			l.Info("info")
			l.Warn("warn")
			l.Error("error")
			var got []string
			for _, m := range lines(t, &b) {
				got = append(got, m["msg"].(string))
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("logged %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLoggerRedactsSecrets(t *testing.T) {
	const raw = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXZhbHVl"
	tests := []struct {
		name string
		log  func(l *slog.Logger)
	}{
		{"token", func(l *slog.Logger) { l.Info("m", "token", raw) }},
		{"access_token", func(l *slog.Logger) { l.Info("m", "access_token", raw) }},
		{"accessToken", func(l *slog.Logger) { l.Info("m", "accessToken", raw) }},
		{"secret", func(l *slog.Logger) { l.Info("m", "secret", raw) }},
		{"clientSecret", func(l *slog.Logger) { l.Info("m", "clientSecret", raw) }},
		{"password", func(l *slog.Logger) { l.Info("m", "password", raw) }},
		{"authorization", func(l *slog.Logger) { l.Info("m", "authorization", "Bearer "+raw) }},
		{"Authorization header", func(l *slog.Logger) { l.Info("m", "Authorization", "Bearer "+raw) }},
		{"signature", func(l *slog.Logger) { l.Info("m", "signature", raw) }},
		{"X-Amz-Signature", func(l *slog.Logger) { l.Info("m", "X-Amz-Signature", raw) }},
		{"assertion", func(l *slog.Logger) { l.Info("m", "assertion", raw) }},
		{"private key", func(l *slog.Logger) { l.Info("m", "privateKey", raw) }},
		{"cookie", func(l *slog.Logger) { l.Info("m", "cookie", raw) }},
		{"error value under a secret name", func(l *slog.Logger) { l.Info("m", "token", errors.New(raw)) }},
		{"structured value", func(l *slog.Logger) { l.Info("m", slog.Any("secret", map[string]string{"v": raw})) }},
		{"through With", func(l *slog.Logger) { l.With("password", raw).Info("m") }},
		{"inside a group", func(l *slog.Logger) { l.Info("m", slog.Group("request", "authorization", raw)) }},
		{"group named authorization", func(l *slog.Logger) { l.Info("m", slog.Group("authorization", "value", raw)) }},
		{"logger group named secret", func(l *slog.Logger) { l.WithGroup("secret").Info("m", "value", raw) }},
		{"with a Lambda context", func(l *slog.Logger) {
			ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "r1"})
			l.InfoContext(ctx, "m", "token", raw)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			tc.log(runtime.NewLogger(&b, "debug"))
			out := b.String()
			if strings.Contains(out, raw) || strings.Contains(out, "c2VjcmV0LXZhbHVl") {
				t.Fatalf("secret logged: %s", out)
			}
			if !strings.Contains(out, "[REDACTED]") {
				t.Fatalf("no [REDACTED] marker: %s", out)
			}
			lines(t, &b) // still valid JSON lines
		})
	}
	t.Run("ordinary attributes are kept", func(t *testing.T) {
		var b bytes.Buffer
		runtime.NewLogger(&b, "info").Info("m", "agent", "a1", "eventId", "e1", "status", "Available")
		m := lines(t, &b)[0]
		if m["agent"] != "a1" || m["eventId"] != "e1" || m["status"] != "Available" {
			t.Fatalf("line %v", m)
		}
	})
}

func TestNewClock(t *testing.T) {
	t.Run("New reads the wall clock", func(t *testing.T) {
		d := runtime.New(runtime.Env{Table: "t"}, aws.Config{}, slog.New(slog.DiscardHandler))
		if d.Now == nil {
			t.Fatal("Now is nil")
		}
		if skew := time.Since(d.Now()); skew < 0 || skew > time.Minute {
			t.Fatalf("Now is %v away from the wall clock", skew)
		}
	})
}
