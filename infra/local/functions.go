package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/omnibridge/omnibridge/shared/app"
	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/httpjson"
	"github.com/omnibridge/omnibridge/shared/phone"
	"github.com/omnibridge/omnibridge/shared/runtime"
	"github.com/omnibridge/omnibridge/shared/webhook"
)

// function is one Lambda of the product as the local stack runs it.
type function struct {
	// routes are the HTTP paths (prefixes ending in "/" match subtrees) served for an HTTP
	// function; event-triggered functions have none.
	routes []string
	// http builds an HTTP function's handler.
	http func(context.Context, *runtime.Deps) (http.Handler, error)
	// invoke runs the function's real Lambda handler once on a raw event.
	invoke func(ctx context.Context, d *runtime.Deps, event []byte) (any, error)
}

// functions lists every function by its folder name under functions/.
var functions = map[string]function{
	"admin-api": {
		routes: []string{"/health", "/config", "/config/", "/audit", "/simulate", "/routing/", "/calls/"},
		http:   app.AdminAPIHandler,
		invoke: invokeHTTP(app.AdminAPIHandler),
	},
	"salesforce-webhook": {
		routes: []string{"/webhooks/"},
		http:   app.SalesforceWebhook,
		invoke: resignLocal(invokeHTTP(app.SalesforceWebhook)),
	},
	"agent-events":   {invoke: invokeKinesis(app.AgentEvents)},
	"presence-sweep": {invoke: invokeSchedule(app.PresenceSweep)},
	"session-poll":   {invoke: invokeSchedule(app.SessionPoll)},
	"contact-events": {invoke: invokeRaw(app.ContactEvents(phone.Numbers{}))},
	"case-sweep":     {invoke: invokeSchedule(app.CaseSweep)},
}

// invokeHTTP runs an HTTP function's Lambda entry point (the API Gateway v2 proxy adapter, as in
// main.go) on an API Gateway HTTP API event.
func invokeHTTP(build func(context.Context, *runtime.Deps) (http.Handler, error)) func(context.Context, *runtime.Deps, []byte) (any, error) {
	return func(ctx context.Context, d *runtime.Deps, raw []byte) (any, error) {
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("event is not an API Gateway HTTP API (v2) request: %w", err)
		}
		if ev.RawPath == "" || ev.RequestContext.HTTP.Method == "" {
			return nil, fmt.Errorf("event is not an API Gateway HTTP API (v2) request: rawPath and requestContext.http.method are required")
		}
		h, err := build(ctx, d)
		if err != nil {
			return nil, err
		}
		return app.HTTPLambda(h)(ctx, ev)
	}
}

// invokeKinesis runs a Kinesis consumer on a Kinesis event.
func invokeKinesis(build func(context.Context, *runtime.Deps) (app.KinesisHandler, error)) func(context.Context, *runtime.Deps, []byte) (any, error) {
	return func(ctx context.Context, d *runtime.Deps, raw []byte) (any, error) {
		var ev events.KinesisEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("event is not a Kinesis event: %w", err)
		}
		if len(ev.Records) == 0 {
			return nil, fmt.Errorf("event is not a Kinesis event: no Records")
		}
		h, err := build(ctx, d)
		if err != nil {
			return nil, err
		}
		return h(ctx, ev)
	}
}

// invokeSchedule runs a scheduled function on an EventBridge Scheduler or rule event.
func invokeSchedule[R any](build func(context.Context, *runtime.Deps) (func(context.Context, events.EventBridgeEvent) (R, error), error)) func(context.Context, *runtime.Deps, []byte) (any, error) {
	return func(ctx context.Context, d *runtime.Deps, raw []byte) (any, error) {
		var ev events.EventBridgeEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("event is not an EventBridge event: %w", err)
		}
		h, err := build(ctx, d)
		if err != nil {
			return nil, err
		}
		return h(ctx, ev)
	}
}

// invokeRaw runs a function whose handler takes the raw event (an EventBridge rule target that
// decodes the envelope itself).
func invokeRaw[R any](build func(context.Context, *runtime.Deps) (func(context.Context, json.RawMessage) (R, error), error)) func(context.Context, *runtime.Deps, []byte) (any, error) {
	return func(ctx context.Context, d *runtime.Deps, raw []byte) (any, error) {
		h, err := build(ctx, d)
		if err != nil {
			return nil, err
		}
		return h(ctx, raw)
	}
}

func functionNames() string {
	names := make([]string, 0, len(functions))
	for n := range functions {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// mux serves every HTTP function on one address, each on its own routes.
func mux(ctx context.Context, d *runtime.Deps) (*http.ServeMux, []string, error) {
	m := http.NewServeMux()
	var served []string
	names := make([]string, 0, len(functions))
	for n := range functions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := functions[n]
		if f.http == nil {
			continue
		}
		h, err := f.http(ctx, d)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", n, err)
		}
		for _, r := range f.routes {
			m.Handle(r, h)
		}
		served = append(served, fmt.Sprintf("%-18s %s", n, strings.Join(f.routes, " ")))
	}
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		httpjson.WriteError(w, apperr.New(apperr.NotFound, "no route %s %s", r.Method, r.URL.Path))
	})
	return m, served, nil
}

// signLocal sets the X-Omnibridge-Signature header of an API Gateway request event to the
// signature of its body under the local webhook secret at t, for hand-made webhook events.
func signLocal(raw []byte, t time.Time) ([]byte, error) {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("event is not an API Gateway HTTP API (v2) request: %w", err)
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return nil, fmt.Errorf("body is not base64 although isBase64Encoded is set: %w", err)
		}
	}
	if ev.Headers == nil {
		ev.Headers = map[string]string{}
	}
	for k := range ev.Headers {
		if strings.EqualFold(k, webhook.SignatureHeader) {
			delete(ev.Headers, k)
		}
	}
	ev.Headers[strings.ToLower(webhook.SignatureHeader)] = webhook.Sign([]byte(webhook.LocalSecret), t, body)
	return json.Marshal(ev)
}

// resignLocal lets the signed samples in events/salesforce-webhook be replayed at any time: a
// request whose signature is valid under the local webhook secret gets a fresh one for the
// current time, since its own timestamp has long left the five-minute window. A request signed
// with anything else (bad-signature.json) is passed on untouched and rejected, as in AWS.
func resignLocal(next func(context.Context, *runtime.Deps, []byte) (any, error)) func(context.Context, *runtime.Deps, []byte) (any, error) {
	return func(ctx context.Context, d *runtime.Deps, raw []byte) (any, error) {
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			return next(ctx, d, raw)
		}
		name, header := "", ""
		for k, v := range ev.Headers {
			if strings.EqualFold(k, webhook.SignatureHeader) {
				name, header = k, v
			}
		}
		parts, err := webhook.ParseSignatureHeader(header)
		if err != nil {
			return next(ctx, d, raw)
		}
		body := []byte(ev.Body)
		if ev.IsBase64Encoded {
			if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
				return next(ctx, d, raw)
			}
		}
		if webhook.Sign([]byte(webhook.LocalSecret), parts.Timestamp, body) != strings.TrimSpace(header) {
			return next(ctx, d, raw)
		}
		ev.Headers[name] = webhook.Sign([]byte(webhook.LocalSecret), time.Now(), body)
		fresh, err := json.Marshal(ev)
		if err != nil {
			return nil, err
		}
		return next(ctx, d, fresh)
	}
}
