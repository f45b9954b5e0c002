// Package app assembles each function's handler from the shared runtime dependencies. It is the
// composition root: functions/*/main.go and the local stack both call it, so what runs locally
// is exactly what runs in Lambda.
package app

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/omnibridge/omnibridge/shared/adminapi"
	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/routingsync"
	"github.com/omnibridge/omnibridge/shared/rules"
	"github.com/omnibridge/omnibridge/shared/runtime"
	"github.com/omnibridge/omnibridge/shared/sessionsync"
)

// AdminAPI returns the admin API's HTTP handler.
func AdminAPI(d *runtime.Deps) http.Handler {
	configs := engine.NewConfigSource(d.Store, ConfigRefresh)
	sim := engine.NewSimulator(d.Store, configs, engine.Options{})
	var checkResources func(ctx context.Context, doc config.Document) ([]apperr.Problem, error)
	if cn, err := Connect(d); err == nil {
		checkResources = func(ctx context.Context, doc config.Document) ([]apperr.Problem, error) {
			return routingsync.CheckResources(ctx, doc, cn)
		}
	}
	return adminapi.New(d.Store, adminapi.Options{
		CheckResources:   checkResources,
		Routing:          routingsync.NewReader(d.Store),
		CaseSimulator:    routingsync.NewSimulator(d.Store, configs),
		Validate:         ValidateConfig,
		Commit:           d.Commit,
		Logger:           d.Logger,
		Caller:           iamCaller,
		Simulator:        sim,
		SessionSimulator: sessionsync.NewSimulator(d.Store, configs, nil),
		States:           d.Store,
		Calls:            d.Store,
	})
}

// ValidateConfig checks a parsed document's rules and mappings: problems block saving, warnings
// (such as status cycles) are shown to the operator.
func ValidateConfig(doc config.Document) (problems, warnings []apperr.Problem) {
	set, problems := rules.Compile(doc)
	if len(problems) > 0 {
		return problems, nil
	}
	return nil, set.Warnings()
}

// HTTPLambda adapts an HTTP handler to API Gateway HTTP API (payload v2) events.
func HTTPLambda(h http.Handler) func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return httpadapter.NewV2(h).ProxyWithContext
}

// iamCaller returns the IAM principal API Gateway authenticated, when the request came through it.
func iamCaller(r *http.Request) string {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || rc.Authorizer == nil || rc.Authorizer.IAM == nil {
		return ""
	}
	return rc.Authorizer.IAM.UserARN
}
