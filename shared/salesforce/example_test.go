package salesforce_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
)

// Example wires the client to the simulator the way tests and the local stack do: the secret's
// loginUrl is the simulator's URL.
func Example() {
	org := sfsim.New(sfsim.Config{ClientID: "app", ClientSecret: "s3cret"})
	_ = org.LoadSeed(strings.NewReader(`{"records": {"User": [
		{"Username": "ada@example.com", "Name": "Ada", "IsActive": true},
		{"Username": "bob@example.com", "Name": "Bob", "IsActive": false}]}}`))
	srv := httptest.NewServer(org)
	defer srv.Close()

	secret := `{"flow": "client_credentials", "loginUrl": "` + srv.URL + `", "clientId": "app", "clientSecret": "s3cret"}`
	creds, err := salesforce.ParseCredentials([]byte(secret))
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := salesforce.New(creds, salesforce.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	soql, _ := salesforce.Select("Name").From("User").Where("IsActive = ?", true).Build()
	for rec, err := range c.Query(context.Background(), soql) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(rec["Name"])
	}
	// Output: Ada
}
