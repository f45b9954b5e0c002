package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/omnibridge/omnibridge/shared/agentstream"
	"github.com/omnibridge/omnibridge/shared/connect"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/runtime"
	"github.com/omnibridge/omnibridge/shared/salesforce"
)

// ConfigRefresh is how often a warm container checks the stored config version; a new version
// is compiled once and used by the next event.
const ConfigRefresh = 15 * time.Second

// Salesforce builds the Salesforce client from the credentials secret named by
// OMNIBRIDGE_SALESFORCE_SECRET_ARN.
func Salesforce(ctx context.Context, d *runtime.Deps) (*salesforce.Client, error) {
	if d.Env.SalesforceSecretARN == "" {
		return nil, fmt.Errorf("missing environment variable %s", runtime.EnvSalesforceSecretARN)
	}
	if d.Secrets == nil {
		return nil, errors.New("no secret source to read the Salesforce credentials from")
	}
	raw, err := d.Secrets.SecretValue(ctx, d.Env.SalesforceSecretARN)
	if err != nil {
		return nil, fmt.Errorf("read the Salesforce credentials secret: %w", err)
	}
	creds, err := salesforce.ParseCredentials(raw)
	if err != nil {
		return nil, err
	}
	return salesforce.New(creds, salesforce.Options{})
}

// Connect builds the Amazon Connect client for OMNIBRIDGE_CONNECT_INSTANCE_ID, through the
// endpoint override when one is set (the local simulator).
func Connect(d *runtime.Deps) (*connect.Client, error) {
	if d.Env.ConnectInstanceID == "" {
		return nil, fmt.Errorf("missing environment variable %s", runtime.EnvConnectInstanceID)
	}
	return connect.New(connect.NewSDKClient(d.AWS, d.Env.ConnectEndpoint), d.Env.ConnectInstanceID,
		connect.Options{RequestsPerSecond: d.Env.ConnectRequestsPerSecond}), nil
}

// Engine builds the presence engine over the table and both systems' clients.
func Engine(ctx context.Context, d *runtime.Deps) (*engine.Engine, error) {
	_, eng, err := salesforceAndEngine(ctx, d)
	return eng, err
}

// salesforceAndEngine builds the Salesforce client and the presence engine over it, for the
// services that use both.
func salesforceAndEngine(ctx context.Context, d *runtime.Deps) (*salesforce.Client, *engine.Engine, error) {
	sf, err := Salesforce(ctx, d)
	if err != nil {
		return nil, nil, err
	}
	eng, err := engineWith(d, sf)
	if err != nil {
		return nil, nil, err
	}
	return sf, eng, nil
}

// engineWith builds the presence engine over an existing Salesforce client.
func engineWith(d *runtime.Deps, sf *salesforce.Client) (*engine.Engine, error) {
	cn, err := Connect(d)
	if err != nil {
		return nil, err
	}
	return engine.New(engine.Deps{
		Store:           d.Store,
		Configs:         engine.NewConfigSource(d.Store, ConfigRefresh),
		SalesforceUsers: salesforceUsers{sf},
		ConnectUsers:    connectUsers{cn},
		ConnectStatus:   connectStatus{cn},
		Publisher:       presencePublisher{sf},
	}, engine.Options{Logger: d.Logger, Now: d.Now})
}

// KinesisHandler is a Kinesis event source mapping's handler with partial batch responses.
type KinesisHandler = func(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error)

// AgentEvents returns the agent-events function's handler: the Connect agent event stream
// consumer.
func AgentEvents(ctx context.Context, d *runtime.Deps) (KinesisHandler, error) {
	eng, err := Engine(ctx, d)
	if err != nil {
		return nil, err
	}
	return agentstream.New(eng, agentstream.Options{Logger: d.Logger}).Handle, nil
}

// SweepHandler is the presence-sweep function's handler, run by an EventBridge schedule.
type SweepHandler = func(ctx context.Context, ev events.EventBridgeEvent) (engine.SweepReport, error)

// PresenceSweep returns the presence-sweep handler: it audits Salesforce commands never
// acknowledged as "not applied: console not open" and retries undelivered commands.
func PresenceSweep(ctx context.Context, d *runtime.Deps) (SweepHandler, error) {
	eng, err := Engine(ctx, d)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, _ events.EventBridgeEvent) (engine.SweepReport, error) {
		now := time.Now
		if d.Now != nil {
			now = d.Now
		}
		rep, err := eng.Sweep(ctx, now())
		d.Logger.InfoContext(ctx, "presence sweep", "due", rep.Due, "expired", rep.Expired,
			"outboxAgents", rep.OutboxAgents, "error", err)
		return rep, err
	}, nil
}
