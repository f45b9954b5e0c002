package salesforce_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
)

const (
	testClientID     = "3MVG9-test-consumer-key"
	testClientSecret = "cc-secret-4f9a1e7b2c"
	testUsername     = "integration@omnibridge.example"
)

// Keys are generated once per test binary: RSA generation is slow.
var (
	testKey  = sync.OnceValue(func() *rsa.PrivateKey { return genKey() })
	otherKey = sync.OnceValue(func() *rsa.PrivateKey { return genKey() })
)

func genKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil
	}
	return k
}

func pkcs8PEM(t testing.TB, k *rsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func pkcs1PEM(k *rsa.PrivateKey) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

// env is a simulated org behind a real HTTP server, with JWT-bearer credentials for it.
type env struct {
	org   *sfsim.Org
	srv   *httptest.Server
	creds salesforce.Credentials
}

func newEnv(t testing.TB, cfg sfsim.Config) *env {
	t.Helper()
	key := testKey()
	cfg.ClientID = testClientID
	cfg.ClientSecret = testClientSecret
	cfg.PublicKey = &key.PublicKey
	cfg.ClientCredentialsUser = testUsername
	org := sfsim.New(cfg)
	if _, err := org.Insert("User", map[string]any{"Username": testUsername, "Name": "Integration User", "IsActive": true}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(org)
	t.Cleanup(srv.Close)
	return &env{org: org, srv: srv, creds: salesforce.Credentials{
		Flow:       salesforce.FlowJWTBearer,
		LoginURL:   srv.URL,
		ClientID:   testClientID,
		Username:   testUsername,
		PrivateKey: pkcs8PEM(t, key),
	}}
}

// fastRetry keeps backoff short so tests stay fast.
var fastRetry = salesforce.RetryPolicy{MaxAttempts: 4, BaseDelay: 2 * time.Millisecond, MaxDelay: 20 * time.Millisecond, MaxWait: time.Second}

func (e *env) client(t testing.TB) *salesforce.Client {
	t.Helper()
	return e.clientWith(t, e.creds, salesforce.Options{Retry: fastRetry})
}

func (e *env) clientWith(t testing.TB, creds salesforce.Credentials, opts salesforce.Options) *salesforce.Client {
	t.Helper()
	c, err := salesforce.New(creds, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
