package salesforce

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// Flow names an OAuth 2.0 flow the client can use. Username-password is deliberately absent:
// Salesforce is retiring it and it would put a user's password in the secret.
type Flow string

// The supported OAuth 2.0 flows.
const (
	// FlowJWTBearer signs an RS256 assertion with the connected app's private key.
	FlowJWTBearer Flow = "jwt_bearer"
	// FlowClientCredentials exchanges the connected app's id and secret for a token that
	// runs as the app's configured "run as" user.
	FlowClientCredentials Flow = "client_credentials"
)

// DefaultAPIVersion is the REST API version used when the secret names none.
const DefaultAPIVersion = "v62.0"

// minAPIMajor is the oldest API version the client accepts: DESIGN.md §5 relies on v62.0
// behaviour (collections, composite and platform event responses).
const minAPIMajor = 62

// Credentials is the JSON document stored in the AWS Secrets Manager secret that configures
// Salesforce access. Its shape is:
//
//	{
//	  "flow":         "jwt_bearer" | "client_credentials",
//	  "loginUrl":     "https://login.salesforce.com" | "https://test.salesforce.com" | "https://MyDomain.my.salesforce.com",
//	  "clientId":     "3MVG9...",                      // connected app consumer key
//	  "username":     "integration@example.com",       // jwt_bearer: the user the token runs as
//	  "privateKey":   "-----BEGIN PRIVATE KEY-----...", // jwt_bearer: PKCS#8 or PKCS#1 RSA PEM
//	  "clientSecret": "...",                           // client_credentials: consumer secret
//	  "audience":     "https://login.salesforce.com",  // optional jwt_bearer "aud"; default: loginUrl
//	  "apiVersion":   "v62.0"                          // optional; default v62.0, minimum v62.0
//	}
//
// A privateKey pasted on one line with literal "\n" sequences is accepted too. Credentials
// never prints its secrets: String, GoString and LogValue redact them.
type Credentials struct {
	Flow         Flow   `json:"flow"`
	LoginURL     string `json:"loginUrl"`
	ClientID     string `json:"clientId"`
	Username     string `json:"username,omitempty"`
	PrivateKey   string `json:"privateKey,omitempty"`
	ClientSecret string `json:"clientSecret,omitempty"`
	Audience     string `json:"audience,omitempty"`
	APIVersion   string `json:"apiVersion,omitempty"`
}

// ParseCredentials decodes and validates the secret's JSON. Errors name the offending field but
// never quote the secret's content.
func ParseCredentials(secret []byte) (Credentials, error) {
	var c Credentials
	dec := json.NewDecoder(strings.NewReader(string(secret)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		// json errors can quote a fragment of the input, which here is secret material.
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return Credentials{}, apperr.New(apperr.Invalid, "salesforce credentials: invalid JSON at offset %d", syn.Offset)
		case errors.As(err, &typ):
			return Credentials{}, apperr.New(apperr.Invalid, "salesforce credentials: field %q has the wrong type", typ.Field)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return Credentials{}, apperr.New(apperr.Invalid, "salesforce credentials: %s", strings.TrimPrefix(err.Error(), "json: "))
		default:
			return Credentials{}, apperr.New(apperr.Invalid, "salesforce credentials: invalid JSON")
		}
	}
	if err := c.Validate(); err != nil {
		return Credentials{}, err
	}
	return c, nil
}

// Validate reports every problem with c as an apperr.Invalid error with one Problem per field.
func (c Credentials) Validate() error {
	var probs []apperr.Problem
	add := func(field, msg string) {
		probs = append(probs, apperr.Problem{Path: "$." + field, Message: field + " " + msg})
	}
	if c.ClientID == "" {
		add("clientId", "is required")
	}
	if err := checkEndpoint(c.LoginURL); err != nil {
		add("loginUrl", err.Error())
	}
	if _, err := apiVersion(c.APIVersion); err != nil {
		add("apiVersion", err.Error())
	}
	switch c.Flow {
	case FlowJWTBearer:
		if c.Username == "" {
			add("username", "is required for the jwt_bearer flow")
		}
		if c.PrivateKey == "" {
			add("privateKey", "is required for the jwt_bearer flow")
		} else if _, err := parsePrivateKey(c.PrivateKey); err != nil {
			add("privateKey", err.Error())
		}
		if c.Audience != "" {
			if err := checkEndpoint(c.Audience); err != nil {
				add("audience", err.Error())
			}
		}
	case FlowClientCredentials:
		if c.ClientSecret == "" {
			add("clientSecret", "is required for the client_credentials flow")
		}
	case "":
		add("flow", `is required ("jwt_bearer" or "client_credentials")`)
	default:
		add("flow", `must be "jwt_bearer" or "client_credentials"`)
	}
	if len(probs) == 0 {
		return nil
	}
	msgs := make([]string, len(probs))
	for i, p := range probs {
		msgs[i] = p.Message
	}
	return apperr.Invalidf(probs, "salesforce credentials: %s", strings.Join(msgs, "; "))
}

// String describes c without its secrets, so that credentials printed by mistake leak nothing.
func (c Credentials) String() string {
	return fmt.Sprintf("salesforce.Credentials{flow=%s loginUrl=%s clientId=%s username=%s secrets=redacted}",
		c.Flow, c.LoginURL, c.ClientID, c.Username)
}

// GoString is String, so %#v redacts too.
func (c Credentials) GoString() string { return c.String() }

// LogValue lets slog log credentials without their secrets.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("flow", string(c.Flow)),
		slog.String("loginUrl", c.LoginURL),
		slog.String("clientId", c.ClientID),
		slog.String("username", c.Username),
	)
}

// checkEndpoint accepts https URLs, and plain http only on loopback hosts so the simulator can run
// without TLS while real credentials can never be sent in clear text.
func checkEndpoint(raw string) error {
	if raw == "" {
		return errors.New("is required")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return errors.New("must be a base URL such as https://login.salesforce.com")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
	}
	return errors.New("must use https")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

var versionRE = regexp.MustCompile(`^v([0-9]{2,3})\.0$`)

// apiVersion normalises and checks a version string such as "v62.0".
func apiVersion(v string) (string, error) {
	if v == "" {
		return DefaultAPIVersion, nil
	}
	m := versionRE.FindStringSubmatch(v)
	if m == nil {
		return "", errors.New(`must look like "v62.0"`)
	}
	if n, _ := strconv.Atoi(m[1]); n < minAPIMajor {
		return "", fmt.Errorf("must be v%d.0 or later", minAPIMajor)
	}
	return v, nil
}

// parsePrivateKey reads an RSA key from PKCS#8 or PKCS#1 PEM. Its errors never include key bytes.
func parsePrivateKey(s string) (*rsa.PrivateKey, error) {
	if !strings.Contains(s, "\n") && strings.Contains(s, `\n`) {
		s = strings.ReplaceAll(s, `\n`, "\n")
	}
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("is not a PEM block")
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("is not a valid PKCS#8 private key")
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("must be an RSA key (RS256)")
		}
		return rk, nil
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("is not a valid PKCS#1 private key")
		}
		return k, nil
	default:
		return nil, fmt.Errorf("has PEM type %q, want PRIVATE KEY or RSA PRIVATE KEY", block.Type)
	}
}
