package app

import (
	"context"
	"encoding/json"

	"github.com/omnibridge/omnibridge/shared/calllogsync"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/contactdispatch"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/runtime"
	"github.com/omnibridge/omnibridge/shared/salesforce"
)

// ContactEventHandler is the contact-events function's handler: it receives the raw
// EventBridge event, so the strict contact event decoder sees exactly what EventBridge sent.
type ContactEventHandler = func(ctx context.Context, raw json.RawMessage) (contactdispatch.Report, error)

// ContactEvents returns the constructor of the contact-events function's handler: every
// consumer of Amazon Connect contact events behind one dispatcher. numbers normalises callers'
// numbers for call logging (phone.Numbers); it is passed in by the function's main so that only
// that function links the phone number metadata, whose initialisation every other function
// would otherwise pay at cold start.
func ContactEvents(numbers calllogsync.Numbers) func(ctx context.Context, d *runtime.Deps) (ContactEventHandler, error) {
	return func(ctx context.Context, d *runtime.Deps) (ContactEventHandler, error) {
		disp, err := ContactDispatcher(ctx, d, numbers)
		if err != nil {
			return nil, err
		}
		return disp.Dispatch, nil
	}
}

// ContactDispatcher builds the dispatcher over every contact event consumer.
func ContactDispatcher(ctx context.Context, d *runtime.Deps, numbers calllogsync.Numbers) (*contactdispatch.Dispatcher, error) {
	configs := engine.NewConfigSource(d.Store, ConfigRefresh)
	settings := func(ctx context.Context) (config.Settings, error) {
		c, err := configs.Current(ctx)
		if err != nil {
			return config.Settings{}, err
		}
		return c.Settings, nil
	}
	handlers, err := contactHandlers(ctx, d, configs, numbers)
	if err != nil {
		return nil, err
	}
	return contactdispatch.New(d.Store, d.Store, settings, d.Now, d.Logger, handlers...), nil
}

// contactHandlers builds the consumers of contact events, in the order they run. Each is one
// entry: a new consumer is one more line here, not another function.
func contactHandlers(ctx context.Context, d *runtime.Deps, configs *engine.ConfigSource, numbers calllogsync.Numbers) ([]contactdispatch.Handler, error) {
	sf, eng, err := salesforceAndEngine(ctx, d)
	if err != nil {
		return nil, err
	}
	routing, err := routingService(d, sf, eng)
	if err != nil {
		return nil, err
	}
	calls, err := callLogging(d, sf, configs, numbers)
	if err != nil {
		return nil, err
	}
	return []contactdispatch.Handler{routing, calls}, nil
}

// callLogging builds the call-logging handler: Connect voice contacts logged to Salesforce.
func callLogging(d *runtime.Deps, sf *salesforce.Client, configs *engine.ConfigSource, numbers calllogsync.Numbers) (*calllogsync.Handler, error) {
	cn, err := Connect(d)
	if err != nil {
		return nil, err
	}
	settings := func(ctx context.Context) (calllogsync.Settings, error) {
		c, err := configs.Current(ctx)
		if err != nil {
			return calllogsync.Settings{}, err
		}
		return calllogsync.Settings{CallLogging: c.CallLogging, Settings: c.Settings}, nil
	}
	return calllogsync.New(calllogsync.Deps{Store: d.Store, Salesforce: sf, Connect: cn, Numbers: numbers, Config: settings, Now: d.Now, Logger: d.Logger}), nil
}
