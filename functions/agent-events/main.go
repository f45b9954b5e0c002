// Command agent-events is the Amazon Connect agent event stream consumer (Kinesis, partial batch
// responses): it feeds state changes, logins and logouts to the presence engine and delivers the
// resulting commands to Salesforce and Connect.
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
		fmt.Fprintln(os.Stderr, "agent-events: "+err.Error())
		os.Exit(1)
	}
	handler, err := app.AgentEvents(ctx, deps)
	if err != nil {
		fmt.Fprintln(os.Stderr, "agent-events: "+err.Error())
		os.Exit(1)
	}
	lambda.Start(handler)
}
