package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/omnibridge/omnibridge/shared/app"
	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/httpjson"
	"github.com/omnibridge/omnibridge/shared/runtime"
)

// function is one Lambda of the product as the local stack runs it.
type function struct {
	// routes are the HTTP paths (prefixes ending in "/" match subtrees) served for an HTTP
	// function; event-triggered functions have none.
	routes []string
	// http builds an HTTP function's handler.
	http func(*runtime.Deps) http.Handler
	// invoke runs the function's real Lambda handler once on a raw event.
	invoke func(ctx context.Context, d *runtime.Deps, event []byte) (any, error)
}

// functions lists every function by its folder name under functions/.
var functions = map[string]function{
	"admin-api": {
		routes: []string{"/health", "/config", "/config/", "/audit", "/simulate"},
		http:   app.AdminAPI,
		invoke: invokeHTTP(app.AdminAPI),
	},
}

// invokeHTTP runs an HTTP function's Lambda entry point (the API Gateway v2 proxy adapter, as in
// main.go) on an API Gateway HTTP API event.
func invokeHTTP(build func(*runtime.Deps) http.Handler) func(context.Context, *runtime.Deps, []byte) (any, error) {
	return func(ctx context.Context, d *runtime.Deps, raw []byte) (any, error) {
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("event is not an API Gateway HTTP API (v2) request: %w", err)
		}
		if ev.RawPath == "" || ev.RequestContext.HTTP.Method == "" {
			return nil, fmt.Errorf("event is not an API Gateway HTTP API (v2) request: rawPath and requestContext.http.method are required")
		}
		return app.HTTPLambda(build(d))(ctx, ev)
	}
}

func functionNames() string {
	names := make([]string, 0, len(functions))
	for n := range functions {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// mux serves every HTTP function on one address, each on its own routes.
func mux(d *runtime.Deps) (*http.ServeMux, []string) {
	m := http.NewServeMux()
	var served []string
	names := make([]string, 0, len(functions))
	for n := range functions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := functions[n]
		if f.http == nil {
			continue
		}
		h := f.http(d)
		for _, r := range f.routes {
			m.Handle(r, h)
		}
		served = append(served, fmt.Sprintf("%-18s %s", n, strings.Join(f.routes, " ")))
	}
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		httpjson.WriteError(w, apperr.New(apperr.NotFound, "no route %s %s", r.Method, r.URL.Path))
	})
	return m, served
}
