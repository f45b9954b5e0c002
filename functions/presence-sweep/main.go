// Command presence-sweep runs on an EventBridge schedule: it audits Salesforce presence commands
// the console never acknowledged ("not applied: console not open") and retries commands whose
// delivery failed.
package main

import (
	"fmt"
	"os"

	"github.com/omnibridge/omnibridge/shared/app"
)

func main() {
	if err := app.Start(app.PresenceSweep); err != nil {
		fmt.Fprintln(os.Stderr, "presence-sweep: "+err.Error())
		os.Exit(1)
	}
}
