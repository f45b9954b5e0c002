// Package secrets reads AWS Secrets Manager secrets for Omnibridge's Lambdas.
//
// Values are cached per container for a TTL, so a warm Lambda does not pay a Secrets Manager call
// (and its cost and throttling) per invocation, while rotated secrets are still picked up.
// Concurrent misses for one secret share a single fetch. Errors carry apperr codes and never the
// secret's value.
package secrets

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/singleflight"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// DefaultTTL is how long a value is served from the cache when New is given no TTL.
const DefaultTTL = 5 * time.Minute

// api is the part of the Secrets Manager client this package uses.
type api interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var _ api = (*secretsmanager.Client)(nil)

// Client reads secrets through a per-container cache. It is safe for concurrent use.
type Client struct {
	api   api
	ttl   time.Duration
	now   func() time.Time
	group singleflight.Group

	mu    sync.Mutex
	cache map[string]entry
}

type entry struct {
	value   []byte
	fetched time.Time
}

// New returns a Client over sm that caches values for ttl (DefaultTTL when ttl <= 0).
func New(sm *secretsmanager.Client, ttl time.Duration) *Client {
	return newClient(sm, ttl, time.Now)
}

func newClient(a api, ttl time.Duration, now func() time.Time) *Client {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Client{api: a, ttl: ttl, now: now, cache: map[string]entry{}}
}

// SecretValue returns the current value (SecretString, or else SecretBinary) of the secret id, a
// name or ARN. When Secrets Manager is unavailable and an expired value is cached, that value is
// returned rather than failing: a recently valid credential beats an outage.
func (c *Client) SecretValue(ctx context.Context, id string) ([]byte, error) {
	if id == "" {
		return nil, apperr.New(apperr.Invalid, "secrets: empty secret id")
	}
	c.mu.Lock()
	e, cached := c.cache[id]
	c.mu.Unlock()
	if cached && c.now().Sub(e.fetched) < c.ttl {
		return slices.Clone(e.value), nil
	}
	ch := c.group.DoChan(id, func() (any, error) {
		// The fetch serves every waiter, so one caller's cancellation must not abort it.
		fctx := context.WithoutCancel(ctx)
		if dl, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			fctx, cancel = context.WithDeadline(fctx, dl)
			defer cancel()
		}
		v, err := c.fetch(fctx, id)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.cache[id] = entry{value: v, fetched: c.now()}
		c.mu.Unlock()
		return v, nil
	})
	var res singleflight.Result
	select {
	case <-ctx.Done():
		res.Err = apperr.Wrap(apperr.Unavailable, ctx.Err(), "secret %q not read in time", id)
	case res = <-ch:
	}
	if res.Err != nil {
		if cached && apperr.Is(res.Err, apperr.Unavailable) {
			return slices.Clone(e.value), nil
		}
		return nil, res.Err
	}
	return slices.Clone(res.Val.([]byte)), nil
}

func (c *Client) fetch(ctx context.Context, id string) ([]byte, error) {
	out, err := c.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return nil, mapError(id, err)
	}
	switch {
	case out.SecretString != nil:
		return []byte(*out.SecretString), nil
	case out.SecretBinary != nil:
		return out.SecretBinary, nil
	}
	return nil, apperr.New(apperr.Internal, "secret %q has no value", id)
}

// mapError classifies a GetSecretValue failure. The SDK's errors hold the request id and the
// service message, never the value, so they are kept as the cause.
func mapError(id string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ResourceNotFoundException":
			return apperr.Wrap(apperr.NotFound, err, "secret %q not found", id)
		case "InternalServiceError", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded", "ServiceUnavailable":
			return apperr.Wrap(apperr.Unavailable, err, "secrets manager unavailable reading %q", id)
		default: // AccessDenied, DecryptionFailure, InvalidRequest...: configuration, not transient
			return apperr.Wrap(apperr.Internal, err, "cannot read secret %q (%s)", id, ae.ErrorCode())
		}
	}
	// No API answer: network failure, timeout or cancellation.
	return apperr.Wrap(apperr.Unavailable, err, "secrets manager unreachable reading %q", id)
}

// Static is a fixed set of secrets by id, for the local stack, whose simulators accept only
// local, well-known credentials; Lambda functions read Secrets Manager through Client.
type Static map[string][]byte

// SecretValue returns the secret id, or apperr.NotFound.
func (s Static) SecretValue(_ context.Context, id string) ([]byte, error) {
	v, ok := s[id]
	if !ok {
		return nil, apperr.New(apperr.NotFound, "secrets: no secret %q", id)
	}
	return v, nil
}
