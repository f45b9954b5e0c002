// Command salesforce-webhook is the HTTP API Lambda for pushes from the Salesforce org
// (HMAC-signed, replay-protected): Omni-Channel presence events and command acknowledgements.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/omnibridge/omnibridge/shared/app"
	"github.com/omnibridge/omnibridge/shared/runtime"
)

func main() {
	ctx := context.Background()
	deps, err := runtime.Load(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "salesforce-webhook: "+err.Error())
		os.Exit(1)
	}
	handler, err := app.SalesforceWebhook(ctx, deps)
	if err != nil {
		fmt.Fprintln(os.Stderr, "salesforce-webhook: "+err.Error())
		os.Exit(1)
	}
	lambda.Start(app.HTTPLambda(handler))
}
