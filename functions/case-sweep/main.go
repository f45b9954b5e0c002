// Command case-sweep runs on an EventBridge schedule: it finds open Salesforce cases in the
// monitored queues that have no Amazon Connect task and routes them, a bounded number per run,
// resuming where the previous run stopped.
package main

import (
	"fmt"
	"os"

	"github.com/omnibridge/omnibridge/shared/app"
)

func main() {
	if err := app.Start(app.CaseSweep); err != nil {
		fmt.Fprintln(os.Stderr, "case-sweep: "+err.Error())
		os.Exit(1)
	}
}
