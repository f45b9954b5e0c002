package webhook_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/webhook"
)

func TestParseSignatureHeader(t *testing.T) {
	sig := strings.Repeat("0f", 32)
	tests := []struct {
		name    string
		header  string
		wantT   int64
		wantN   int
		wantErr string
	}{
		{"one v1", "t=1795251600,v1=" + sig, 1795251600, 1, ""},
		{"two v1 for rotation", "t=1795251600,v1=" + sig + ",v1=" + strings.ToUpper(sig), 1795251600, 2, ""},
		{"order and spaces free", " v1=" + sig + " , t=1795251600 ", 1795251600, 1, ""},
		{"unknown scheme ignored", "t=1,v0=abc,v1=" + sig, 1, 1, ""},
		{"empty", "", 0, 0, "missing"},
		{"no equals", "t=1,v1", 0, 0, "key=value"},
		{"two t", "t=1,t=2,v1=" + sig, 0, 0, "more than one t"},
		{"negative t", "t=-5,v1=" + sig, 0, 0, "unix seconds"},
		{"zero t", "t=0,v1=" + sig, 0, 0, "unix seconds"},
		{"huge t", "t=99999999999999999999,v1=" + sig, 0, 0, "unix seconds"},
		{"t with sign", "t=+17,v1=" + sig, 0, 0, "unix seconds"},
		{"v1 not hex", "t=1,v1=" + strings.Repeat("zz", 32), 0, 0, "64 hex"},
		{"v1 too long", "t=1,v1=" + sig + "00", 0, 0, "64 hex"},
		{"too many v1", "t=1" + strings.Repeat(",v1="+sig, 5), 0, 0, "too many"},
		{"too long", "t=1,v1=" + sig + strings.Repeat(",x=y", 300), 0, 0, "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := webhook.ParseSignatureHeader(tt.header)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Timestamp.Unix() != tt.wantT || len(got.Signatures) != tt.wantN {
				t.Errorf("got t=%d with %d signatures", got.Timestamp.Unix(), len(got.Signatures))
			}
		})
	}
}

func TestParseSecret(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    []string
		wantErr bool
	}{
		{"plain", "  " + webhook.LocalSecret + "\n", []string{webhook.LocalSecret}, false},
		{"json current", `{"current":"0123456789abcdef"}`, []string{"0123456789abcdef"}, false},
		{"json both", `{"current":"0123456789abcdef","previous":"fedcba9876543210"}`, []string{"0123456789abcdef", "fedcba9876543210"}, false},
		{"json empty previous", `{"current":"0123456789abcdef","previous":""}`, []string{"0123456789abcdef"}, false},
		{"json no current", `{"previous":"fedcba9876543210"}`, nil, true},
		{"json short previous", `{"current":"0123456789abcdef","previous":"x"}`, nil, true},
		{"broken json", `{"current":"0123456789abcdef"`, nil, true},
		{"short plain", "tiny", nil, true},
		{"empty", "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := webhook.ParseSecret([]byte(tt.raw))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("no error, got %q", got)
				}
				if strings.Contains(err.Error(), "0123456789abcdef") {
					t.Errorf("error reveals the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d secrets, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if string(got[i]) != tt.want[i] {
					t.Errorf("secret %d = %q, want %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestSignKnownAnswer pins the signing scheme to an independently computed value
// (printf '1795251600.{}' | openssl dgst -sha256 -hmac omnibridge-local-webhook-secret), so the
// Salesforce side can test its implementation against the same vector.
func TestSignKnownAnswer(t *testing.T) {
	got := webhook.Sign([]byte(webhook.LocalSecret), time.Unix(1795251600, 0), []byte("{}"))
	const want = "t=1795251600,v1=e5813ce540c971bf772d0c86e4d0795ffa3c4be10d8ba5a15400f6653caf82fb"
	if got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}

// FuzzSignatureHeader checks that no header makes the parser panic, that what it accepts keeps
// its limits, and that every header Sign produces parses back.
func FuzzSignatureHeader(f *testing.F) {
	f.Add("t=1795251600,v1="+strings.Repeat("ab", 32), int64(1795251600), []byte("{}"))
	f.Add("t=1,t=2", int64(1), []byte(""))
	f.Add(" , ,v1=,t=", int64(0), []byte("x"))
	f.Add("t=999999999999,v1="+strings.Repeat("AB", 32)+",v2=zz", int64(-1), []byte(nil))
	f.Fuzz(func(t *testing.T, header string, ts int64, body []byte) {
		p, err := webhook.ParseSignatureHeader(header)
		if err == nil {
			if p.Timestamp.Unix() <= 0 || len(p.Signatures) == 0 || len(p.Signatures) > 4 {
				t.Fatalf("accepted %q as t=%v with %d signatures", header, p.Timestamp, len(p.Signatures))
			}
			for _, s := range p.Signatures {
				if len(s) != 32 {
					t.Fatalf("signature of %d bytes", len(s))
				}
			}
		}
		if ts <= 0 || ts > 999999999999 {
			return
		}
		h := webhook.Sign([]byte(webhook.LocalSecret), time.Unix(ts, 0), body)
		p, err = webhook.ParseSignatureHeader(h)
		if err != nil || p.Timestamp.Unix() != ts || len(p.Signatures) != 1 || bytes.Equal(p.Signatures[0], make([]byte, 32)) {
			t.Fatalf("Sign produced %q, which parses to %+v, %v", h, p, err)
		}
	})
}
