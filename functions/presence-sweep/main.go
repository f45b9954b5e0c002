// Command presence-sweep runs on an EventBridge schedule: it audits Salesforce presence commands
// the console never acknowledged ("not applied: console not open") and retries commands whose
// delivery failed.
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
		fmt.Fprintln(os.Stderr, "presence-sweep: "+err.Error())
		os.Exit(1)
	}
	handler, err := app.PresenceSweep(ctx, deps)
	if err != nil {
		fmt.Fprintln(os.Stderr, "presence-sweep: "+err.Error())
		os.Exit(1)
	}
	lambda.Start(handler)
}
