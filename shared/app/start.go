package app

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/omnibridge/omnibridge/shared/runtime"
)

// Start is every function's main: it loads the runtime dependencies from the environment, builds
// the function's handler with build and hands it to the Lambda runtime, which never returns. An
// error means the function could not start; main prints it and exits.
func Start[H any](build func(context.Context, *runtime.Deps) (H, error)) error {
	ctx := context.Background()
	deps, err := runtime.Load(ctx)
	if err != nil {
		return err
	}
	h, err := build(ctx, deps)
	if err != nil {
		return err
	}
	lambda.Start(h)
	return nil
}

// HTTPHandler is an API Gateway HTTP API (payload v2) Lambda handler.
type HTTPHandler = func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// HTTPFunction turns an HTTP handler builder into a builder of its Lambda handler, for Start.
func HTTPFunction(build func(context.Context, *runtime.Deps) (http.Handler, error)) func(context.Context, *runtime.Deps) (HTTPHandler, error) {
	return func(ctx context.Context, d *runtime.Deps) (HTTPHandler, error) {
		h, err := build(ctx, d)
		if err != nil {
			return nil, err
		}
		return HTTPLambda(h), nil
	}
}

// AdminAPIHandler is AdminAPI in the builder form Start and the local stack take.
func AdminAPIHandler(_ context.Context, d *runtime.Deps) (http.Handler, error) {
	return AdminAPI(d), nil
}
