// Command admin-api is the operator's HTTP API Lambda (API Gateway HTTP API, IAM auth): health,
// the config document, the audit log and dry-run simulation.
package main

import (
	"fmt"
	"os"

	"github.com/omnibridge/omnibridge/shared/app"
)

func main() {
	if err := app.Start(app.HTTPFunction(app.AdminAPIHandler)); err != nil {
		fmt.Fprintln(os.Stderr, "admin-api: "+err.Error())
		os.Exit(1)
	}
}
