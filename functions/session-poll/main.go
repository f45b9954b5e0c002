// Command session-poll runs on an EventBridge schedule: it polls AuthSession for the relevant
// Salesforce users, switches availability on the users whose session began or ended, retries
// failed toggles, and reconciles Omni-Channel presence changes the webhook missed.
package main

import (
	"fmt"
	"os"

	"github.com/omnibridge/omnibridge/shared/app"
)

func main() {
	if err := app.Start(app.SessionPoll); err != nil {
		fmt.Fprintln(os.Stderr, "session-poll: "+err.Error())
		os.Exit(1)
	}
}
