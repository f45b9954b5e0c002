package secrets

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// fakeAPI is a hand-written Secrets Manager fake: get answers each call and calls counts them.
type fakeAPI struct {
	calls atomic.Int32
	get   func(id string) (*secretsmanager.GetSecretValueOutput, error)
}

func (f *fakeAPI) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.calls.Add(1)
	return f.get(aws.ToString(in.SecretId))
}

const secretValue = `{"clientSecret":"s3cr3t-value-123"}`

func value(s string) func(string) (*secretsmanager.GetSecretValueOutput, error) {
	return func(string) (*secretsmanager.GetSecretValueOutput, error) {
		return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(s)}, nil
	}
}

type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.t.Load()) }
func (c *clock) advance(d time.Duration) { c.t.Add(int64(d)) }

func TestSecretValueCaching(t *testing.T) {
	tests := []struct {
		name      string
		advance   time.Duration
		wantCalls int32
	}{
		{name: "within TTL served from cache", advance: 4 * time.Minute, wantCalls: 1},
		{name: "after TTL fetched again", advance: 5 * time.Minute, wantCalls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeAPI{get: value(secretValue)}
			clk := &clock{}
			c := newClient(fake, 0, clk.now)
			for range 2 {
				got, err := c.SecretValue(t.Context(), "omnibridge/salesforce")
				if err != nil || string(got) != secretValue {
					t.Fatalf("SecretValue = %q, %v", got, err)
				}
				clk.advance(tt.advance)
			}
			if n := fake.calls.Load(); n != tt.wantCalls {
				t.Errorf("GetSecretValue calls = %d, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestSecretValueBinaryAndCopy(t *testing.T) {
	fake := &fakeAPI{get: func(string) (*secretsmanager.GetSecretValueOutput, error) {
		return &secretsmanager.GetSecretValueOutput{SecretBinary: []byte("bin")}, nil
	}}
	c := newClient(fake, time.Minute, time.Now)
	got, err := c.SecretValue(t.Context(), "b")
	if err != nil || string(got) != "bin" {
		t.Fatalf("SecretValue = %q, %v", got, err)
	}
	got[0] = 'X' // callers must not be able to corrupt the cache
	again, _ := c.SecretValue(t.Context(), "b")
	if string(again) != "bin" {
		t.Errorf("cached value changed to %q", again)
	}
}

func TestSecretValueSingleFlight(t *testing.T) {
	release := make(chan struct{})
	fake := &fakeAPI{get: func(string) (*secretsmanager.GetSecretValueOutput, error) {
		<-release
		return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(secretValue)}, nil
	}}
	c := newClient(fake, time.Minute, time.Now)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := c.SecretValue(t.Context(), "id"); err != nil {
				t.Error(err)
			}
		})
	}
	time.Sleep(20 * time.Millisecond) // let the callers pile up on the one fetch
	close(release)
	wg.Wait()
	if n := fake.calls.Load(); n != 1 {
		t.Errorf("GetSecretValue calls = %d, want 1", n)
	}
}

func TestSecretValueErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want apperr.Code
	}{
		{name: "not found", err: &types.ResourceNotFoundException{Message: aws.String("Secrets Manager can't find the specified secret.")}, want: apperr.NotFound},
		{name: "internal service error", err: &types.InternalServiceError{Message: aws.String("boom")}, want: apperr.Unavailable},
		{name: "throttled", err: &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}, want: apperr.Unavailable},
		{name: "access denied", err: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized"}, want: apperr.Internal},
		{name: "decryption failure", err: &types.DecryptionFailure{Message: aws.String("kms")}, want: apperr.Internal},
		{name: "network", err: errors.New("dial tcp: connection refused"), want: apperr.Unavailable},
		{name: "deadline", err: context.DeadlineExceeded, want: apperr.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeAPI{get: func(string) (*secretsmanager.GetSecretValueOutput, error) { return nil, tt.err }}
			c := newClient(fake, time.Minute, time.Now)
			_, err := c.SecretValue(t.Context(), "omnibridge/salesforce")
			if got := apperr.CodeOf(err); got != tt.want {
				t.Errorf("code = %q, want %q (err %v)", got, tt.want, err)
			}
			if !strings.Contains(err.Error(), "omnibridge/salesforce") {
				t.Errorf("error %q does not name the secret", err)
			}
		})
	}
}

func TestSecretValueNeverInErrors(t *testing.T) {
	// A value is cached, then the secret vanishes: errors must never repeat the old value.
	fail := atomic.Bool{}
	fake := &fakeAPI{get: func(string) (*secretsmanager.GetSecretValueOutput, error) {
		if fail.Load() {
			return nil, &types.ResourceNotFoundException{Message: aws.String("gone")}
		}
		return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(secretValue)}, nil
	}}
	clk := &clock{}
	c := newClient(fake, time.Minute, clk.now)
	if _, err := c.SecretValue(t.Context(), "id"); err != nil {
		t.Fatal(err)
	}
	fail.Store(true)
	clk.advance(time.Hour)
	_, err := c.SecretValue(t.Context(), "id")
	if err == nil {
		t.Fatal("want an error for a deleted secret")
	}
	if strings.Contains(err.Error(), "s3cr3t-value-123") {
		t.Errorf("error leaks the secret: %v", err)
	}
}

func TestSecretValueServesStaleWhenUnavailable(t *testing.T) {
	fail := atomic.Bool{}
	fake := &fakeAPI{get: func(string) (*secretsmanager.GetSecretValueOutput, error) {
		if fail.Load() {
			return nil, &types.InternalServiceError{Message: aws.String("down")}
		}
		return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(secretValue)}, nil
	}}
	clk := &clock{}
	c := newClient(fake, time.Minute, clk.now)
	if _, err := c.SecretValue(t.Context(), "id"); err != nil {
		t.Fatal(err)
	}
	fail.Store(true)
	clk.advance(time.Hour)
	got, err := c.SecretValue(t.Context(), "id")
	if err != nil || string(got) != secretValue {
		t.Errorf("SecretValue = %q, %v; want the stale value", got, err)
	}
}

func TestSecretValueEmptyID(t *testing.T) {
	c := newClient(&fakeAPI{get: value("x")}, 0, time.Now)
	if _, err := c.SecretValue(t.Context(), ""); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("err = %v, want invalid", err)
	}
}
