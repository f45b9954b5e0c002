package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// SignatureHeader carries a request's signature: "t=<unix seconds>,v1=<hex HMAC-SHA256>".
const SignatureHeader = "X-Omnibridge-Signature"

// DefaultTolerance is how far a signature's timestamp may be from the bridge's clock, either way.
const DefaultTolerance = 300 * time.Second

// LocalSecret is the webhook secret of the local stack, and the one the samples in
// events/salesforce-webhook are signed with. It is public: never configure it in AWS.
const LocalSecret = "omnibridge-local-webhook-secret"

// Limits on the header and the secret. A header is short; more than a few v1 values only makes
// an attacker's request cost more HMACs.
const (
	maxHeaderBytes    = 1024
	maxSignatures     = 4
	minSecretBytes    = 16
	defaultSecretTTL  = 5 * time.Minute
	minRefetchBackoff = time.Minute
)

// SecretSource returns a secret's value by id. The Secrets Manager adapter (shared/secrets)
// implements it; tests use a fake.
type SecretSource interface {
	SecretValue(ctx context.Context, id string) ([]byte, error)
}

// ReplayGuard records a key once: Claim reports true to the first caller and false to every
// later one until ttl passes. dynamo.Store implements it with a conditional write, so the check
// holds across Lambda containers.
type ReplayGuard interface {
	Claim(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// replayReleaser is implemented by guards that can forget a key (dynamo.Store can). The handler
// releases the claim when it answers 503, so a sender that retries with the identical request is
// not rejected as a replay of a request that did nothing.
type replayReleaser interface {
	Release(ctx context.Context, key string) error
}

// VerifierOptions tune a Verifier; zero values mean the defaults.
type VerifierOptions struct {
	// Tolerance is the accepted clock difference; DefaultTolerance when zero.
	Tolerance time.Duration
	// SecretTTL is how long a fetched secret is reused before it is fetched again (5 minutes when
	// zero). A signature that matches no cached secret triggers an early refetch, at most once a
	// minute, so a rotation takes effect at once.
	SecretTTL time.Duration
}

// Verifier authenticates webhook requests: it checks the signature header against the shared
// secret (current and previous, so the secret can be rotated without downtime), the timestamp
// against the clock, and rejects any signed payload seen before.
//
// The secret is stored in Secrets Manager either as a plain string (the secret itself) or as
// JSON {"current":"...","previous":"..."} where previous is optional. Each secret is used as
// the HMAC key byte for byte (it is not hex- or base64-decoded) and must be at least 16 bytes.
type Verifier struct {
	secrets  SecretSource
	secretID string
	replay   ReplayGuard
	opts     VerifierOptions

	mu        sync.Mutex
	keys      [][]byte
	fetchedAt time.Time
}

// NewVerifier returns a Verifier over the secret named secretID. Every dependency is required:
// a verifier without a replay guard would accept replays.
func NewVerifier(secrets SecretSource, secretID string, replay ReplayGuard, opts VerifierOptions) (*Verifier, error) {
	switch {
	case secrets == nil:
		return nil, errors.New("webhook: NewVerifier needs a SecretSource")
	case secretID == "":
		return nil, errors.New("webhook: NewVerifier needs the secret id")
	case replay == nil:
		return nil, errors.New("webhook: NewVerifier needs a ReplayGuard")
	}
	if opts.Tolerance <= 0 {
		opts.Tolerance = DefaultTolerance
	}
	if opts.SecretTTL <= 0 {
		opts.SecretTTL = defaultSecretTTL
	}
	return &Verifier{secrets: secrets, secretID: secretID, replay: replay, opts: opts}, nil
}

// Verified identifies an authenticated request.
type Verified struct {
	// Timestamp is the signed t.
	Timestamp time.Time
	// ReplayKey is the key claimed in the replay guard.
	ReplayKey string
}

// Verify authenticates body against the signature header value at time now. A request that
// fails authentication gets an apperr.Unauthorized error whose cause says why, for the log only;
// the reason never contains the signature or the secret. A failing secret source or replay guard
// gives Unavailable (or Internal for a malformed secret), so the sender retries.
func (v *Verifier) Verify(ctx context.Context, header string, body []byte, now time.Time) (Verified, error) {
	sh, err := ParseSignatureHeader(header)
	if err != nil {
		return Verified{}, unauthorized(err.Error())
	}
	skew := now.Sub(sh.Timestamp)
	if skew > v.opts.Tolerance || -skew > v.opts.Tolerance {
		return Verified{}, unauthorized("timestamp is " + skew.Round(time.Second).String() + " from the clock, beyond the tolerance of " + v.opts.Tolerance.String())
	}
	payload := signedPayload(sh.Timestamp.Unix(), body)
	keys, fetchedAt, err := v.secretKeys(ctx, now, false)
	if err != nil {
		return Verified{}, err
	}
	if !matchAny(keys, payload, sh.Signatures) {
		if now.Sub(fetchedAt) < minRefetchBackoff {
			return Verified{}, unauthorized("no signature matches the current or previous secret")
		}
		// The secret may have been rotated since it was cached.
		if keys, _, err = v.secretKeys(ctx, now, true); err != nil {
			return Verified{}, err
		}
		if !matchAny(keys, payload, sh.Signatures) {
			return Verified{}, unauthorized("no signature matches the current or previous secret")
		}
	}
	// The key is a digest of the signed payload rather than of one v1 value: a replay that drops
	// or swaps a v1 value (say the previous secret's instead of the current one's) is still the
	// same signed request.
	sum := sha256.Sum256(payload)
	key := "webhook-signature:" + hex.EncodeToString(sum[:])
	// The claim outlives the window on both sides of t, with a margin for clock drift between
	// containers.
	fresh, err := v.replay.Claim(ctx, key, 2*v.opts.Tolerance+time.Minute)
	if err != nil {
		return Verified{}, apperr.Wrap(apperr.Unavailable, err, "replay check unavailable")
	}
	if !fresh {
		return Verified{}, unauthorized("signature was used before (replay)")
	}
	return Verified{Timestamp: sh.Timestamp, ReplayKey: key}, nil
}

// Release forgets a verified request's replay claim, when the guard supports it, so that the
// identical request may be sent again. The handler calls it before answering 503.
func (v *Verifier) Release(ctx context.Context, vr Verified) error {
	r, ok := v.replay.(replayReleaser)
	if !ok || vr.ReplayKey == "" {
		return nil
	}
	return r.Release(ctx, vr.ReplayKey)
}

func unauthorized(reason string) error {
	return apperr.Wrap(apperr.Unauthorized, errors.New(reason), "request not authenticated")
}

// secretKeys returns the cached secrets, fetching them when the cache is stale or force is set.
func (v *Verifier) secretKeys(ctx context.Context, now time.Time, force bool) ([][]byte, time.Time, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !force && v.keys != nil && now.Sub(v.fetchedAt) < v.opts.SecretTTL && !now.Before(v.fetchedAt) {
		return v.keys, v.fetchedAt, nil
	}
	raw, err := v.secrets.SecretValue(ctx, v.secretID)
	if err != nil {
		if v.keys != nil {
			// Keep serving with the previous secret rather than failing every request while
			// Secrets Manager is briefly unreachable.
			return v.keys, v.fetchedAt, nil
		}
		return nil, time.Time{}, apperr.Wrap(apperr.Unavailable, err, "webhook secret unavailable")
	}
	keys, err := ParseSecret(raw)
	if err != nil {
		return nil, time.Time{}, apperr.Wrap(apperr.Internal, err, "webhook secret is malformed")
	}
	v.keys, v.fetchedAt = keys, now
	return keys, now, nil
}

// ParseSecret reads a webhook secret value: JSON {"current":"...","previous":"..."} (previous
// optional) or, when the value is not a JSON object, the plain string itself with surrounding
// white space removed. It returns the current secret first. The error never contains the secret.
func ParseSecret(raw []byte) ([][]byte, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var s struct {
			Current  *string `json:"current"`
			Previous *string `json:"previous"`
		}
		if err := json.Unmarshal(trimmed, &s); err != nil {
			return nil, errors.New(`secret looks like JSON but is not {"current":"...","previous":"..."}`)
		}
		if s.Current == nil || len(*s.Current) < minSecretBytes {
			return nil, errors.New(`secret JSON needs "current" of at least 16 bytes`)
		}
		keys := [][]byte{[]byte(*s.Current)}
		if s.Previous != nil && *s.Previous != "" {
			if len(*s.Previous) < minSecretBytes {
				return nil, errors.New(`secret JSON "previous" must be at least 16 bytes when set`)
			}
			keys = append(keys, []byte(*s.Previous))
		}
		return keys, nil
	}
	if len(trimmed) < minSecretBytes {
		return nil, errors.New("secret must be at least 16 bytes")
	}
	return [][]byte{bytes.Clone(trimmed)}, nil
}

// SignatureParts is a parsed signature header.
type SignatureParts struct {
	// Timestamp is t, in seconds.
	Timestamp time.Time
	// Signatures are the v1 values, decoded; a sender rotating its secret may send one per secret.
	Signatures [][]byte
}

// ParseSignatureHeader parses "t=<unix seconds>,v1=<64 hex digits>[,v1=...]". Spaces around
// elements are allowed, and elements other than t and v1 (future schemes) are ignored. t must
// appear exactly once and v1 at least once and at most four times.
func ParseSignatureHeader(h string) (SignatureParts, error) {
	var out SignatureParts
	if strings.TrimSpace(h) == "" {
		return out, errors.New("signature header is missing")
	}
	if len(h) > maxHeaderBytes {
		return out, errors.New("signature header is too long")
	}
	seenT := false
	for part := range strings.SplitSeq(h, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return out, errors.New("signature header element is not key=value")
		}
		switch k {
		case "t":
			if seenT {
				return out, errors.New("signature header has more than one t")
			}
			seenT = true
			sec, err := parseUnix(val)
			if err != nil {
				return out, err
			}
			out.Timestamp = time.Unix(sec, 0).UTC()
		case "v1":
			if len(out.Signatures) == maxSignatures {
				return out, errors.New("signature header has too many v1 values")
			}
			if len(val) != 2*sha256.Size {
				return out, errors.New("signature header v1 is not 64 hex digits")
			}
			sig, err := hex.DecodeString(val)
			if err != nil {
				return out, errors.New("signature header v1 is not 64 hex digits")
			}
			out.Signatures = append(out.Signatures, sig)
		}
	}
	if !seenT {
		return out, errors.New("signature header has no t")
	}
	if len(out.Signatures) == 0 {
		return out, errors.New("signature header has no v1")
	}
	return out, nil
}

// parseUnix reads a positive decimal count of seconds of at most 12 digits (year 33658), so the
// time arithmetic that follows cannot overflow.
func parseUnix(s string) (int64, error) {
	if s == "" || len(s) > 12 {
		return 0, errors.New("signature header t is not unix seconds")
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("signature header t is not unix seconds")
		}
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil || sec <= 0 {
		return 0, errors.New("signature header t is not unix seconds")
	}
	return sec, nil
}

// Sign returns the signature header value for body at time t under secret: what the Salesforce
// side sends. The samples generator and tests use it.
func Sign(secret []byte, t time.Time, body []byte) string {
	return "t=" + strconv.FormatInt(t.Unix(), 10) + ",v1=" + hex.EncodeToString(mac(secret, signedPayload(t.Unix(), body)))
}

func signedPayload(t int64, body []byte) []byte {
	p := make([]byte, 0, 21+len(body))
	p = strconv.AppendInt(p, t, 10)
	p = append(p, '.')
	return append(p, body...)
}

func mac(key, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(payload)
	return m.Sum(nil)
}

// matchAny compares every signature with every key's MAC in constant time, without stopping at
// the first match, so timing does not tell which secret or which v1 value matched.
func matchAny(keys [][]byte, payload []byte, sigs [][]byte) bool {
	ok := false
	for _, k := range keys {
		want := mac(k, payload)
		for _, s := range sigs {
			if hmac.Equal(want, s) {
				ok = true
			}
		}
	}
	return ok
}
