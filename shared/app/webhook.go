package app

import (
	"context"
	"fmt"
	"net/http"

	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/runtime"
	"github.com/omnibridge/omnibridge/shared/sfevents"
	"github.com/omnibridge/omnibridge/shared/webhook"
)

// SalesforceWebhook returns the salesforce-webhook function's HTTP handler: the HMAC-signed
// pushes from the Salesforce org, presence events applied through the presence engine,
// login/logout events through session-driven availability, and case events through case
// routing.
func SalesforceWebhook(ctx context.Context, d *runtime.Deps) (http.Handler, error) {
	if d.Env.WebhookSecretARN == "" {
		return nil, fmt.Errorf("missing environment variable %s", runtime.EnvWebhookSecretARN)
	}
	sf, eng, err := salesforceAndEngine(ctx, d)
	if err != nil {
		return nil, err
	}
	sessions, err := sessionService(d, sf, eng)
	if err != nil {
		return nil, err
	}
	cases, err := routingService(d, sf, eng)
	if err != nil {
		return nil, err
	}
	verifier, err := webhook.NewVerifier(d.Secrets, d.Env.WebhookSecretARN, d.Store, webhook.VerifierOptions{})
	if err != nil {
		return nil, err
	}
	return webhook.New(verifier, presenceProcessor{eng}, webhook.Options{Logger: d.Logger, Now: d.Now, Session: sessionProcessor{sessions},
		Cases: caseProcessor{cases}, Bound: eng.Bound}), nil
}

// presenceProcessor applies webhook events through the engine.
type presenceProcessor struct{ eng *engine.Engine }

var _ webhook.PresenceProcessor = presenceProcessor{}

// ProcessSalesforce applies one console event of the Salesforce user userID.
func (p presenceProcessor) ProcessSalesforce(ctx context.Context, userID string, ev presence.Event) (webhook.Result, error) {
	res, err := p.eng.ProcessSalesforce(ctx, userID, ev)
	return webhook.Result{Outcome: string(res.Outcome), Detail: res.Detail}, err
}

// Acknowledge settles a command the console applied or gave up on.
func (p presenceProcessor) Acknowledge(ctx context.Context, ack sfevents.Ack) (webhook.Result, error) {
	res, err := p.eng.Acknowledge(ctx, engine.Ack{EventID: ack.EventID, SalesforceUserID: ack.UserID, Time: ack.Time, Ack: ack.Presence()})
	return webhook.Result{Outcome: string(res.Outcome), Detail: res.Detail}, err
}
