package app_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/omnibridge/omnibridge/shared/adminapi"
	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/httpjson"
	"github.com/omnibridge/omnibridge/shared/sessionsync"
	"github.com/omnibridge/omnibridge/shared/webhook"
)

var camelCase = regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)

// TestResponsesAreCamelCase walks the Go type of every JSON answer the functions give (the HTTP
// bodies and the scheduled functions' results, which `invoke` prints and Lambda logs) and
// requires every member name to be camelCase, never a Go field name.
func TestResponsesAreCamelCase(t *testing.T) {
	types := []any{
		adminapi.HealthReport{}, adminapi.ConfigResponse{}, adminapi.SimulateResponse{}, adminapi.SessionSimulateResponse{},
		audit.Page{}, dynamo.ConfigVersionInfo{}, httpjson.ErrorBody{}, webhook.Response{},
		engine.SweepReport{}, sessionsync.Report{},
	}
	for _, v := range types {
		rt := reflect.TypeOf(v)
		t.Run(rt.String(), func(t *testing.T) {
			checkCamel(t, rt, rt.Name(), map[reflect.Type]bool{})
		})
	}
}

func checkCamel(t *testing.T, rt reflect.Type, path string, seen map[reflect.Type]bool) {
	t.Helper()
	for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Slice || rt.Kind() == reflect.Array || rt.Kind() == reflect.Map {
		rt = rt.Elem()
	}
	if rt.Kind() != reflect.Struct || seen[rt] || !strings.HasPrefix(rt.PkgPath(), "github.com/omnibridge/") {
		return
	}
	seen[rt] = true
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
			continue
		case f.Anonymous && name == "":
			checkCamel(t, f.Type, path, seen)
			continue
		case !camelCase.MatchString(name):
			t.Errorf("%s.%s is %q in JSON, want a camelCase name", path, f.Name, name)
		}
		checkCamel(t, f.Type, path+"."+f.Name, seen)
	}
}

func TestSweepReportJSON(t *testing.T) {
	rep := engine.SweepReport{Due: 2, Expired: 1, Flush: engine.FlushReport{
		Published: 1, PublishCalls: 1,
		Failed: []engine.CommandFailure{{ConnectUserID: "a1", EventID: "e1", CommandID: "c1", Err: apperr.New(apperr.Unavailable, "Salesforce is unavailable")}},
		Errors: []error{errors.New("dynamodb: secret detail")},
	}}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"due":2,"expired":1,"outboxAgents":0,"flush":{"published":1,"publishCalls":1,` +
		`"failed":[{"connectUserId":"a1","eventId":"e1","commandId":"c1","error":"Salesforce is unavailable"}],"errors":["internal error"]}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	// The Kinesis answer is the AWS type, camelCase by its own tags.
	b, _ = json.Marshal(events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{{ItemIdentifier: "1"}}})
	if string(b) != `{"batchItemFailures":[{"itemIdentifier":"1"}]}` {
		t.Fatalf("Kinesis answer %s", b)
	}
}
