package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// childEnv makes the test binary itself act as a Lambda bootstrap, so the fake Runtime API is
// exercised by the real aws-lambda-go client without building anything.
const childEnv = "COLDSTART_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "ok":
		lambda.Start(func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "{}"}, nil
		})
	case "fail":
		lambda.Start(func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{}, errors.New("handler failed")
		})
	case "500":
		lambda.Start(func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{StatusCode: 500}, nil
		})
	case "exit":
		os.Exit(3)
	default:
		os.Exit(m.Run())
	}
}

func TestRuntimeAPIStart(t *testing.T) {
	api, err := startRuntimeAPI()
	if err != nil {
		t.Fatal(err)
	}
	defer api.close()
	event, err := os.ReadFile("../../events/admin-api/get-health.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		child   string
		wantErr string
	}{
		{"ok", ""},
		{"fail", "function error"},
		{"500", "unexpected response"},
		{"exit", "process exited before responding"},
	}
	for i, tc := range tests {
		t.Run(tc.child, func(t *testing.T) {
			env := append(lambdaEnv("test", api.addr, "http://127.0.0.1:1", t.TempDir()), childEnv+"="+tc.child)
			initD, coldD, err := api.start(context.Background(), os.Args[0], env, "req-"+tc.child, event, 20*time.Second)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("start %d: err %v, want %q", i, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if initD <= 0 || coldD < initD {
				t.Fatalf("init %v, cold %v: want 0 < init <= cold", initD, coldD)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name string
		in   []time.Duration
		want stats
	}{
		{"empty", nil, stats{}},
		{"one", ms(7), stats{7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond}},
		{"odd count, unsorted", ms(5, 1, 3), stats{1 * time.Millisecond, 3 * time.Millisecond, 5 * time.Millisecond, 5 * time.Millisecond}},
		{"even count averages the middle two", ms(4, 1, 3, 2), stats{1 * time.Millisecond, 2500 * time.Microsecond, 4 * time.Millisecond, 4 * time.Millisecond}},
		{"p90 of twenty is the eighteenth", ms(20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1),
			stats{1 * time.Millisecond, 10500 * time.Microsecond, 18 * time.Millisecond, 20 * time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := summarize(tc.in); got != tc.want {
				t.Fatalf("summarize = %+v, want %+v", got, tc.want)
			}
		})
	}
}
