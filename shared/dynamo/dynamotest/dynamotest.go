// Package dynamotest gives tests a real DynamoDB-compatible table: the embedded server by
// default, or the server at OMNIBRIDGE_DYNAMODB_ENDPOINT (dynalite in CI) when it is set.
//
// It never skips: if the endpoint is set but unreachable the test fails, so a CI run that was
// meant to exercise dynalite cannot silently pass without it.
package dynamotest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamolocal"
)

// EndpointEnv names the variable that points tests at an external server.
const EndpointEnv = "OMNIBRIDGE_DYNAMODB_ENDPOINT"

var (
	embeddedOnce sync.Once
	embedded     *dynamolocal.Server
	embeddedErr  error
	tableSeq     atomic.Int64
)

// Endpoint returns the endpoint tests use and the server's name ("dynalite" or "embedded").
func Endpoint(tb testing.TB) (url, name string) {
	tb.Helper()
	if ep := os.Getenv(EndpointEnv); ep != "" {
		return ep, "external (" + EndpointEnv + ")"
	}
	embeddedOnce.Do(func() { embedded, embeddedErr = dynamolocal.Start() })
	if embeddedErr != nil {
		tb.Fatalf("start embedded DynamoDB: %v", embeddedErr)
	}
	return embedded.URL, "embedded"
}

// NewStore returns a store over a fresh, uniquely named table.
func NewStore(tb testing.TB) *dynamo.Store {
	tb.Helper()
	url, name := Endpoint(tb)
	client := dynamo.NewClient(dynamolocal.Config(), url)
	table := fmt.Sprintf("omnibridge-test-%d-%d", time.Now().UnixNano(), tableSeq.Add(1))
	s := dynamo.New(client, table)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.CreateTable(ctx); err != nil {
		tb.Fatalf("create table on %s DynamoDB at %s: %v", name, url, err)
	}
	tb.Logf("DynamoDB: %s server at %s, table %s", name, url, table)
	return s
}
