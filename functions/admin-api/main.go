// Command admin-api is the operator's HTTP API Lambda (API Gateway HTTP API, IAM auth): health,
// the config document and the audit log.
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
	deps, err := runtime.Load(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "admin-api: "+err.Error())
		os.Exit(1)
	}
	lambda.Start(app.HTTPLambda(app.AdminAPI(deps)))
}
