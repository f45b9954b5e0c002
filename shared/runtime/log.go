package runtime

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// NewLogger returns a JSON logger that adds the Lambda request id to every record logged with a
// context, and redacts attributes whose names suggest a credential.
func NewLogger(w io.Writer, level string) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil || level == "" {
		lvl = slog.LevelInfo
	}
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lvl, ReplaceAttr: redact})
	return slog.New(requestIDHandler{h})
}

// sensitive lists substrings of attribute keys whose values must never be logged.
var sensitive = []string{"token", "secret", "password", "authorization", "assertion", "signature", "privatekey", "private_key", "cookie"}

// redact replaces the value of a sensitive attribute, or of any attribute inside a sensitive
// group: slog never passes group attributes themselves to ReplaceAttr, so without the groups
// check slog.Group("authorization", "value", tok) would log the token.
func redact(groups []string, a slog.Attr) slog.Attr {
	if isSensitive(a.Key) || slices.ContainsFunc(groups, isSensitive) {
		return slog.String(a.Key, "[REDACTED]")
	}
	return a
}

func isSensitive(key string) bool {
	k := strings.ToLower(key)
	for _, s := range sensitive {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// requestIDHandler adds "requestId" from the Lambda context, so each line can be traced to its
// invocation without every caller passing it.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		r.AddAttrs(slog.String("requestId", lc.AwsRequestID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
