// Package dynamolocal runs an in-process DynamoDB-compatible server (minidyn) on a loopback port.
// The local stack and the tests point the real store code at it, so what runs locally is the
// same code that runs against DynamoDB in AWS.
package dynamolocal

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/truora/minidyn/server"
)

// Server is a running embedded DynamoDB.
type Server struct {
	// URL is the endpoint to give the SDK, such as "http://127.0.0.1:38211".
	URL string
	srv *http.Server
}

// Start listens on a free loopback port and serves the DynamoDB JSON API there.
func Start() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + ln.Addr().String(), srv: &http.Server{Handler: server.NewServer(), ReadHeaderTimeout: 5 * time.Second}}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the listener failed; callers see it as connection errors
		}
	}()
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

// Config returns an AWS config with dummy static credentials, for talking to a local server.
func Config() aws.Config {
	return aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}
}
