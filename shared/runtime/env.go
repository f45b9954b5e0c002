// Package runtime is the one wiring step every function shares: it reads the environment,
// builds the logger and the AWS clients once per container, and hands them to the function's
// handler. Lambda reuses a container across invocations, so whatever is built here is paid for
// once, at cold start.
package runtime

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// Environment variable names. Endpoint overrides point a function at the embedded DynamoDB and
// the simulators instead of AWS and Salesforce.
const (
	EnvTable               = "OMNIBRIDGE_TABLE"
	EnvDynamoEndpoint      = "OMNIBRIDGE_DYNAMODB_ENDPOINT"
	EnvConnectEndpoint     = "OMNIBRIDGE_CONNECT_ENDPOINT"
	EnvConnectInstanceID   = "OMNIBRIDGE_CONNECT_INSTANCE_ID"
	EnvSalesforceSecretARN = "OMNIBRIDGE_SALESFORCE_SECRET_ARN"
	EnvWebhookSecretARN    = "OMNIBRIDGE_WEBHOOK_SECRET_ARN"
	EnvLogLevel            = "OMNIBRIDGE_LOG_LEVEL"
	EnvBuildCommit         = "OMNIBRIDGE_BUILD_COMMIT"
	EnvConnectRPS          = "OMNIBRIDGE_CONNECT_RPS"
)

// Env is the configuration a function reads from its environment.
type Env struct {
	Table               string
	DynamoEndpoint      string
	ConnectEndpoint     string
	ConnectInstanceID   string
	SalesforceSecretARN string
	WebhookSecretARN    string
	LogLevel            string
	// ConnectRequestsPerSecond is the sustained Amazon Connect call rate the bridge allows
	// itself (OMNIBRIDGE_CONNECT_RPS); 0 means the client's default, Connect's default quota of
	// 2 per second. Set it to the instance's raised quota.
	ConnectRequestsPerSecond float64
}

// LoadEnv reads the environment through getenv (os.Getenv in production) and reports every
// required variable that is missing.
func LoadEnv(getenv func(string) string) (Env, error) {
	e := Env{
		Table:               getenv(EnvTable),
		DynamoEndpoint:      getenv(EnvDynamoEndpoint),
		ConnectEndpoint:     getenv(EnvConnectEndpoint),
		ConnectInstanceID:   getenv(EnvConnectInstanceID),
		SalesforceSecretARN: getenv(EnvSalesforceSecretARN),
		WebhookSecretARN:    getenv(EnvWebhookSecretARN),
		LogLevel:            getenv(EnvLogLevel),
	}
	if v := getenv(EnvConnectRPS); v != "" {
		rps, err := strconv.ParseFloat(v, 64)
		if err != nil || rps <= 0 || rps > 1000 {
			return e, fmt.Errorf("%s must be a number of requests per second between 0 and 1000, not %q", EnvConnectRPS, v)
		}
		e.ConnectRequestsPerSecond = rps
	}
	var missing []string
	if e.Table == "" {
		missing = append(missing, EnvTable)
	}
	if len(missing) > 0 {
		return e, fmt.Errorf("missing environment variable(s): %s", strings.Join(missing, ", "))
	}
	return e, nil
}

// Commit is the build's source revision, set at link time with
// -ldflags "-X github.com/omnibridge/omnibridge/shared/runtime.Commit=<sha>".
var Commit = ""

// BuildCommit returns the build's source revision: the link-time Commit, else the VCS revision
// Go stamped into the binary, else $OMNIBRIDGE_BUILD_COMMIT, else "unknown".
func BuildCommit() string {
	if Commit != "" {
		return Commit
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				return s.Value
			}
		}
	}
	if c := os.Getenv(EnvBuildCommit); c != "" {
		return c
	}
	return "unknown"
}
