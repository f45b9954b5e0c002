package app

import (
	"context"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/routingsync"
	"github.com/omnibridge/omnibridge/shared/runtime"
	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/screenpop"
	"github.com/omnibridge/omnibridge/shared/sfevents"
	"github.com/omnibridge/omnibridge/shared/webhook"
)

// RoutingService builds case routing over both systems' clients and the presence engine (whose
// identity links name the agent's Salesforce user).
func RoutingService(ctx context.Context, d *runtime.Deps) (*routingsync.Service, error) {
	sf, eng, err := salesforceAndEngine(ctx, d)
	if err != nil {
		return nil, err
	}
	return routingService(d, sf, eng)
}

func routingService(d *runtime.Deps, sf *salesforce.Client, eng *engine.Engine) (*routingsync.Service, error) {
	return routingServiceWith(d, sf, eng, routingsync.Options{})
}

// routingServiceWith is routingService with options (the benchmarks' baseline sweeps one case at
// a time); the logger and clock always come from d.
func routingServiceWith(d *runtime.Deps, sf *salesforce.Client, eng *engine.Engine, o routingsync.Options) (*routingsync.Service, error) {
	cn, err := Connect(d)
	if err != nil {
		return nil, err
	}
	o.Logger, o.Now = d.Logger, d.Now
	return routingsync.New(routingsync.Deps{
		Store: d.Store, Configs: engine.NewConfigSource(d.Store, ConfigRefresh), Tasks: cn, Org: caseOrg{sf}, Identity: eng,
	}, o)
}

// SweepCasesHandler is the case-sweep function's handler, run by an EventBridge schedule.
type SweepCasesHandler = func(ctx context.Context, ev events.EventBridgeEvent) (routingsync.SweepReport, error)

// CaseSweep returns the case-sweep handler: one backlog sweep per scheduled invocation.
func CaseSweep(ctx context.Context, d *runtime.Deps) (SweepCasesHandler, error) {
	svc, err := RoutingService(ctx, d)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, _ events.EventBridgeEvent) (routingsync.SweepReport, error) {
		rep, err := svc.Sweep(ctx)
		d.Logger.InfoContext(ctx, "case sweep", "scanned", rep.Scanned, "routed", rep.Routed, "held", rep.Held,
			"failed", rep.Failed, "skipped", rep.Skipped, "errors", rep.Errors, "complete", rep.Complete, "error", err)
		return rep, err
	}, nil
}

// caseProcessor adapts case routing to the webhook.
type caseProcessor struct{ svc *routingsync.Service }

var _ webhook.CaseProcessor = caseProcessor{}

// ProcessCase applies one case event.
func (p caseProcessor) ProcessCase(ctx context.Context, ev sfevents.CaseEvent) (webhook.Result, error) {
	res, err := p.svc.ProcessCase(ctx, ev)
	return webhook.Result{Outcome: res.Outcome, Detail: res.Detail}, err
}

// caseOrg implements routingsync.Org with the Salesforce client; every value from the config or
// an event goes into SOQL through the client's literal builder.
type caseOrg struct{ c *salesforce.Client }

var _ routingsync.Org = caseOrg{}

// QueueIDs resolves queue DeveloperNames to Group ids.
func (o caseOrg) QueueIDs(ctx context.Context, names []string) (map[string]string, error) {
	out := map[string]string{}
	if len(names) == 0 {
		return out, nil
	}
	soql, err := salesforce.Select("Id", "DeveloperName").From("Group").
		Where("Type = 'Queue'").Where("DeveloperName IN ?", names).Build()
	if err != nil {
		return nil, err
	}
	type row struct {
		ID            string `json:"Id"`
		DeveloperName string `json:"DeveloperName"`
	}
	for page, err := range salesforce.QueryPages[row](ctx, o.c, soql) {
		if err != nil {
			return nil, err
		}
		for _, r := range page.Records {
			// SOQL compares text case-insensitively; SORS matches queue names exactly.
			for _, n := range names {
				if n == r.DeveloperName {
					out[n] = caseSafe(r.ID)
				}
			}
		}
	}
	return out, nil
}

// UpdateCase writes fields on a case.
func (o caseOrg) UpdateCase(ctx context.Context, caseID string, fields map[string]any) error {
	return o.c.Update(ctx, "Case", caseID, fields)
}

// UpdateCases writes fields on up to 200 cases in one sObject Collections call.
func (o caseOrg) UpdateCases(ctx context.Context, updates []routingsync.CaseUpdate) ([]error, error) {
	recs := make([]salesforce.SObject, len(updates))
	for i, u := range updates {
		recs[i] = salesforce.SObject{Type: "Case", ID: u.CaseID, Fields: u.Fields}
	}
	results, err := o.c.UpdateRecords(ctx, recs, false)
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(updates))
	for i := range errs {
		switch {
		case i >= len(results):
			errs[i] = apperr.New(apperr.Unavailable, "no save result for case %s", updates[i].CaseID)
		case !results[i].Success:
			errs[i] = publishError(results[i].Errors)
		}
	}
	return errs, nil
}

// OpenCases reads one page of the backlog.
func (o caseOrg) OpenCases(ctx context.Context, queueIDs []string, skillsField string, after dynamo.SweepCursor, limit int) ([]routingsync.CaseRow, error) {
	b := salesforce.Select("Id", "CaseNumber", "Subject", "Priority", "OwnerId", "CreatedDate", skillsField).From("Case").
		Where("IsClosed = false").Where("OwnerId IN ?", queueIDs)
	if !after.CreatedDate.IsZero() {
		b = b.Where("CreatedDate > ? OR (CreatedDate = ? AND Id > ?)", after.CreatedDate, after.CreatedDate, after.CaseID)
	}
	soql, err := b.OrderBy("CreatedDate").OrderBy("Id").Limit(limit).Build()
	if err != nil {
		return nil, err
	}
	var out []routingsync.CaseRow
	for rec, err := range o.c.Query(ctx, soql) {
		if err != nil {
			return nil, err
		}
		row := routingsync.CaseRow{
			ID: caseSafe(str(rec["Id"])), Number: str(rec["CaseNumber"]), Subject: str(rec["Subject"]),
			Priority: str(rec["Priority"]), OwnerID: caseSafe(str(rec["OwnerId"])), Skills: str(rec[skillsField]),
		}
		var t sfTime
		if err := t.UnmarshalJSON([]byte(`"` + str(rec["CreatedDate"]) + `"`)); err != nil {
			return nil, err
		}
		row.CreatedDate = t.Time
		out = append(out, row)
	}
	return out, nil
}

// PublishScreenPop publishes one screen pop.
func (o caseOrg) PublishScreenPop(ctx context.Context, p screenpop.Pop) error {
	return publishScreenPop(ctx, o.c, p)
}

// CaseURL is the case's Lightning record page on the org's instance.
func (o caseOrg) CaseURL(ctx context.Context, caseID string) (string, error) {
	base, err := o.c.InstanceURL(ctx)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(base, "/") + "/lightning/r/Case/" + url.PathEscape(caseID) + "/view", nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
