// Package connect is Omnibridge's adapter over the Amazon Connect API
// (github.com/aws/aws-sdk-go-v2/service/connect).
//
// It gives the rest of the bridge a few intention-revealing calls (set an agent's status by
// name, read agents' live state, find users, start and stop tasks) and hides what makes
// Connect awkward to call from a busy Lambda:
//
//   - Connect's API quotas are low (2 requests/s, burst 5 for most operations on a default
//     instance), so every call waits on a client-side token bucket, and the SDK client built by
//     NewSDKClient uses adaptive retry mode, which backs off and slows down on
//     ThrottlingException and TooManyRequestsException instead of failing.
//   - A storm of presence changes for one agent only needs its newest status sent, so
//     SetStatusCoalesced lets newer requests replace older ones that are still waiting.
//   - Agent statuses are addressed by id in the API but by name in the bridge's config, so
//     names are resolved through a cached ListAgentStatuses.
//   - Errors come back as *apperr.Error with codes (NotFound, Invalid, Conflict, Unavailable,
//     Internal); no SDK error type leaks out.
//
// Package connectsim beside it serves the same REST-JSON protocol in memory, so the unchanged
// SDK client can be tested against it.
package connect

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconnect "github.com/aws/aws-sdk-go-v2/service/connect"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"
)

// API is the part of the Amazon Connect SDK client this adapter calls. *connect.Client from
// the SDK satisfies it; tests substitute hand-written fakes.
type API interface {
	DescribeQueue(ctx context.Context, in *awsconnect.DescribeQueueInput, optFns ...func(*awsconnect.Options)) (*awsconnect.DescribeQueueOutput, error)
	ListContactFlows(ctx context.Context, in *awsconnect.ListContactFlowsInput, optFns ...func(*awsconnect.Options)) (*awsconnect.ListContactFlowsOutput, error)
	DescribePredefinedAttribute(ctx context.Context, in *awsconnect.DescribePredefinedAttributeInput, optFns ...func(*awsconnect.Options)) (*awsconnect.DescribePredefinedAttributeOutput, error)
	ListAgentStatuses(ctx context.Context, in *awsconnect.ListAgentStatusesInput, optFns ...func(*awsconnect.Options)) (*awsconnect.ListAgentStatusesOutput, error)
	PutUserStatus(ctx context.Context, in *awsconnect.PutUserStatusInput, optFns ...func(*awsconnect.Options)) (*awsconnect.PutUserStatusOutput, error)
	GetCurrentUserData(ctx context.Context, in *awsconnect.GetCurrentUserDataInput, optFns ...func(*awsconnect.Options)) (*awsconnect.GetCurrentUserDataOutput, error)
	SearchUsers(ctx context.Context, in *awsconnect.SearchUsersInput, optFns ...func(*awsconnect.Options)) (*awsconnect.SearchUsersOutput, error)
	DescribeUser(ctx context.Context, in *awsconnect.DescribeUserInput, optFns ...func(*awsconnect.Options)) (*awsconnect.DescribeUserOutput, error)
	StartTaskContact(ctx context.Context, in *awsconnect.StartTaskContactInput, optFns ...func(*awsconnect.Options)) (*awsconnect.StartTaskContactOutput, error)
	StopContact(ctx context.Context, in *awsconnect.StopContactInput, optFns ...func(*awsconnect.Options)) (*awsconnect.StopContactOutput, error)
	UpdateContactAttributes(ctx context.Context, in *awsconnect.UpdateContactAttributesInput, optFns ...func(*awsconnect.Options)) (*awsconnect.UpdateContactAttributesOutput, error)
	DescribeContact(ctx context.Context, in *awsconnect.DescribeContactInput, optFns ...func(*awsconnect.Options)) (*awsconnect.DescribeContactOutput, error)
}

var _ API = (*awsconnect.Client)(nil)

// Defaults for Options; they match the default Connect quota of most APIs used here.
const (
	// DefaultRequestsPerSecond is the sustained call rate: Connect's default quota for
	// PutUserStatus, GetCurrentUserData and most other APIs is 2 requests/s.
	DefaultRequestsPerSecond = 2
	// DefaultBurst is the token bucket size: Connect's default burst is 5.
	DefaultBurst = 5
	// DefaultMinStatusRefresh bounds how often unknown status names reload the status list.
	DefaultMinStatusRefresh = 10 * time.Second
	// DefaultMaxAttempts is the SDK attempt limit NewSDKClient sets when cfg does not: one more
	// than the SDK's 3, because throttling is the expected failure and is cheap to retry.
	DefaultMaxAttempts = 5
)

// Options tunes a Client. The zero value gives the defaults.
type Options struct {
	// RequestsPerSecond is the sustained rate of Connect calls this client allows itself;
	// 0 means DefaultRequestsPerSecond. Set it to the instance's quota for the busiest API.
	RequestsPerSecond float64
	// Burst is the token bucket size; 0 means DefaultBurst.
	Burst int
	// MinStatusRefresh is the shortest time between two reloads of the agent status list caused
	// by unknown names, so a misconfigured name cannot turn every request into a
	// ListAgentStatuses call. 0 means DefaultMinStatusRefresh; negative means reload on every
	// miss.
	MinStatusRefresh time.Duration
}

// Client calls one Connect instance through API, rate limited and with errors mapped to apperr.
// It is safe for concurrent use; build one per process (per warm Lambda) so the limiter, the
// status cache and the coalescing slots are shared by all requests.
type Client struct {
	api        API
	instanceID string
	limiter    *rate.Limiter
	minRefresh time.Duration

	// statusMu guards the agent status cache; refresh collapses concurrent reloads into one.
	statusMu     sync.RWMutex
	statusByName map[string]AgentStatus
	statuses     []AgentStatus
	loadedAt     time.Time
	refresh      singleflight.Group

	// slotMu guards slots, the per-agent coalescing state of SetStatusCoalesced.
	slotMu sync.Mutex
	slots  map[string]*statusSlot
}

// New returns a Client for the Connect instance instanceID (the id, not the ARN).
func New(api API, instanceID string, opts Options) *Client {
	rps := opts.RequestsPerSecond
	if rps <= 0 {
		rps = DefaultRequestsPerSecond
	}
	burst := opts.Burst
	if burst <= 0 {
		burst = DefaultBurst
	}
	minRefresh := opts.MinStatusRefresh
	switch {
	case minRefresh == 0:
		minRefresh = DefaultMinStatusRefresh
	case minRefresh < 0:
		minRefresh = 0
	}
	return &Client{
		api:        api,
		instanceID: instanceID,
		limiter:    rate.NewLimiter(rate.Limit(rps), burst),
		minRefresh: minRefresh,
		slots:      make(map[string]*statusSlot),
	}
}

// InstanceID returns the id of the instance the client calls.
func (c *Client) InstanceID() string { return c.instanceID }

// NewSDKClient builds the SDK's Connect client from cfg with adaptive retry mode, and points it
// at baseEndpoint when that is not empty (connectsim in tests and local runs).
//
// Adaptive mode replaces any cfg.Retryer: besides retrying ThrottlingException and
// TooManyRequestsException with backoff, it lowers the client's own send rate while Connect
// throttles, which is what a shared quota needs. cfg.RetryMaxAttempts still applies when set;
// otherwise DefaultMaxAttempts.
//
// The HTTP client is wrapped so that request bodies do not expose io.WriterTo. smithy-go's
// body wrapper answers WriteTo with io.EOF once the SDK has closed it, which the SDK does as
// soon as the response headers arrive; when a fast server answers before net/http has finished
// its final read of the body, the transport takes that io.EOF for a write error and closes the
// connection under the response being decoded ("use of closed network connection"), so the SDK
// sends the request a second time. Without WriterTo, net/http reads the closed body through
// Read, which ends cleanly.
func NewSDKClient(cfg aws.Config, baseEndpoint string) *awsconnect.Client {
	return awsconnect.NewFromConfig(cfg, func(o *awsconnect.Options) {
		if baseEndpoint != "" {
			o.BaseEndpoint = aws.String(baseEndpoint)
		}
		if o.HTTPClient != nil {
			o.HTTPClient = bodyGuard{next: o.HTTPClient}
		}
		if cfg.Retryer != nil {
			return // the caller chose its retry policy (tests shorten the backoff)
		}
		o.RetryMode = aws.RetryModeAdaptive
		o.Retryer = retry.NewAdaptiveMode(func(ao *retry.AdaptiveModeOptions) {
			ao.StandardOptions = append(ao.StandardOptions, func(so *retry.StandardOptions) {
				so.MaxAttempts = DefaultMaxAttempts
			})
		})
	})
}

// bodyGuard hides io.WriterTo on request bodies; see NewSDKClient.
type bodyGuard struct {
	next awsconnect.HTTPClient
}

func (g bodyGuard) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = readOnlyBody{r.Body}
	}
	return g.next.Do(r)
}

// readOnlyBody exposes only Read and Close of a request body.
type readOnlyBody struct {
	io.ReadCloser
}

// wait takes a token from the client's bucket before a Connect call.
func (c *Client) wait(ctx context.Context, op string) error {
	if err := c.limiter.Wait(ctx); err != nil {
		return limiterError(ctx, op, err)
	}
	return nil
}
