// Command salesforce-webhook is the HTTP API Lambda for pushes from the Salesforce org
// (HMAC-signed, replay-protected): Omni-Channel presence events and command acknowledgements.
package main

import (
	"fmt"
	"os"

	"github.com/omnibridge/omnibridge/shared/app"
)

func main() {
	if err := app.Start(app.HTTPFunction(app.SalesforceWebhook)); err != nil {
		fmt.Fprintln(os.Stderr, "salesforce-webhook: "+err.Error())
		os.Exit(1)
	}
}
