package sfsim

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

type session struct {
	userID  string
	expires time.Time
}

// RevokeTokens invalidates every access token issued so far, so the next API call with one gets
// 401 INVALID_SESSION_ID, as when sessions expire or an admin revokes them.
func (o *Org) RevokeTokens() {
	o.authMu.Lock()
	defer o.authMu.Unlock()
	o.tokens = map[string]session{}
}

func (o *Org) authenticate(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		tok, ok = strings.CutPrefix(h, "OAuth ")
	}
	if !ok {
		return false
	}
	o.authMu.Lock()
	defer o.authMu.Unlock()
	s, ok := o.tokens[tok]
	return ok && o.now().Before(s.expires)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (o *Org) serveToken(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method != http.MethodPost {
		oauthError(w, http.StatusBadRequest, "invalid_request", "must use HTTP POST")
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "malformed request body")
		return
	}
	switch form.Get("grant_type") {
	case jwtBearerGrant:
		o.jwtBearer(w, r, form.Get("assertion"))
	case "client_credentials":
		id, secret := form.Get("client_id"), form.Get("client_secret")
		if u, p, ok := r.BasicAuth(); ok {
			id, secret = u, p
		}
		o.clientCredentials(w, r, id, secret)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant type not supported")
	}
}

func (o *Org) jwtBearer(w http.ResponseWriter, r *http.Request, assertion string) {
	if o.cfg.PublicKey == nil {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "JWT bearer flow is not enabled for this app")
		return
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(assertion, claims, func(*jwt.Token) (any, error) { return o.cfg.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired(), jwt.WithTimeFunc(o.now))
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "expired assertion")
		return
	case err != nil:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "invalid assertion")
		return
	}
	if iss, _ := claims.GetIssuer(); iss != o.cfg.ClientID {
		oauthError(w, http.StatusBadRequest, "invalid_client_id", "client identifier invalid")
		return
	}
	auds, _ := claims.GetAudience()
	accepted := o.cfg.Audiences
	if len(accepted) == 0 {
		accepted = []string{"https://login.salesforce.com", "https://test.salesforce.com", baseURL(r)}
	}
	if !slices.ContainsFunc(auds, func(a string) bool { return slices.Contains(accepted, strings.TrimRight(a, "/")) }) {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "audience is invalid")
		return
	}
	sub, _ := claims.GetSubject()
	userID, msg := o.activeUser(sub)
	if userID == "" {
		oauthError(w, http.StatusBadRequest, "invalid_grant", msg)
		return
	}
	o.issue(w, r, userID)
}

func (o *Org) clientCredentials(w http.ResponseWriter, r *http.Request, id, secret string) {
	if o.cfg.ClientSecret == "" {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "no client credentials user enabled")
		return
	}
	if id != o.cfg.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(o.cfg.ClientSecret)) != 1 {
		oauthError(w, http.StatusBadRequest, "invalid_client", "invalid client credentials")
		return
	}
	userID := "005xx0000000000"
	if o.cfg.ClientCredentialsUser != "" {
		u, msg := o.activeUser(o.cfg.ClientCredentialsUser)
		if u == "" {
			oauthError(w, http.StatusBadRequest, "invalid_grant", msg)
			return
		}
		userID = u
	}
	o.issue(w, r, userID)
}

// activeUser finds the active User with the given Username (case-insensitive, as in Salesforce).
func (o *Org) activeUser(username string) (id, problem string) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	t := o.types["user"]
	if t == nil || username == "" {
		return "", "user hasn't approved this consumer"
	}
	for _, rec := range t.recs {
		if u, _ := rec.get("Username").(string); strings.EqualFold(u, username) {
			if active, ok := rec.get("IsActive").(bool); ok && !active {
				return "", "inactive user"
			}
			return rec.id, ""
		}
	}
	return "", "user hasn't approved this consumer"
}

func (o *Org) issue(w http.ResponseWriter, r *http.Request, userID string) {
	raw := make([]byte, 72)
	_, _ = rand.Read(raw)
	tok := orgID + "!" + strings.NewReplacer("+", ".", "/", "_", "=", "").Replace(base64.StdEncoding.EncodeToString(raw))
	now := o.now()
	o.authMu.Lock()
	o.tokens[tok] = session{userID: userID, expires: now.Add(o.cfg.TokenLifetime)}
	o.authMu.Unlock()

	base := baseURL(r)
	id := "https://login.salesforce.com/id/" + CaseSafeID(orgID) + "/" + CaseSafeID(userID)
	issuedAt := strconv.FormatInt(now.UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(o.cfg.ClientSecret+"sfsim"))
	mac.Write([]byte(id + issuedAt))
	writeJSON(w, http.StatusOK, map[string]string{
		"access_token": tok,
		"signature":    base64.StdEncoding.EncodeToString(mac.Sum(nil)),
		"scope":        "api",
		"instance_url": base,
		"id":           id,
		"token_type":   "Bearer",
		"issued_at":    issuedAt,
	})
}
