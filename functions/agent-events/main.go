// Command agent-events is the Amazon Connect agent event stream consumer (Kinesis, partial batch
// responses): it feeds state changes, logins and logouts to the presence engine and delivers the
// resulting commands to Salesforce and Connect.
package main

import (
	"fmt"
	"os"

	"github.com/omnibridge/omnibridge/shared/app"
)

func main() {
	if err := app.Start(app.AgentEvents); err != nil {
		fmt.Fprintln(os.Stderr, "agent-events: "+err.Error())
		os.Exit(1)
	}
}
