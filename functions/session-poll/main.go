// Command session-poll runs on an EventBridge schedule: it polls AuthSession for the relevant
// Salesforce users, switches availability on the users whose session began or ended, retries
// failed toggles, and reconciles Omni-Channel presence changes the webhook missed.
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
		fmt.Fprintln(os.Stderr, "session-poll: "+err.Error())
		os.Exit(1)
	}
	handler, err := app.SessionPoll(ctx, deps)
	if err != nil {
		fmt.Fprintln(os.Stderr, "session-poll: "+err.Error())
		os.Exit(1)
	}
	lambda.Start(handler)
}
