// Command contact-events consumes Amazon Connect contact events from EventBridge and hands each
// to every contact event consumer (case routing, call logging), once per consumer.
package main

import (
	"fmt"
	"os"

	"github.com/omnibridge/omnibridge/shared/app"
	"github.com/omnibridge/omnibridge/shared/phone"
)

func main() {
	if err := app.Start(app.ContactEvents(phone.Numbers{})); err != nil {
		fmt.Fprintln(os.Stderr, "contact-events: "+err.Error())
		os.Exit(1)
	}
}
