package routingsync

import (
	"context"
	"fmt"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/connect"
)

// Catalog is what the routing config names in Amazon Connect (*connect.Client).
type Catalog interface {
	DescribeQueue(ctx context.Context, id string) (connect.Queue, error)
	ContactFlows(ctx context.Context) ([]connect.ContactFlow, error)
	PredefinedAttributeValues(ctx context.Context, name string) ([]string, error)
}

var _ Catalog = (*connect.Client)(nil)

// CheckResources checks, when saving a config, that its routing section names Connect resources
// that exist: each queue (and that it is enabled), each contact flow (active, of type
// CONTACT_FLOW), and the predefined attribute the skills are values of. It returns one problem
// per missing resource with its path; an error when Connect cannot be asked (the save is then
// refused with that error rather than taken unchecked). A document without routing, or with
// routing disabled, is not checked: turning routing on re-checks it.
func CheckResources(ctx context.Context, doc config.Document, c Catalog) ([]apperr.Problem, error) {
	if doc.Routing == nil || !doc.Routing.Enabled {
		return nil, nil
	}
	r := doc.Routing.WithDefaults()
	var probs []apperr.Problem
	add := func(path, format string, args ...any) {
		probs = append(probs, apperr.Problem{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	flows, err := c.ContactFlows(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]connect.ContactFlow, len(flows))
	for _, f := range flows {
		byID[f.ID] = f
	}
	queues := map[string]error{}
	for i, q := range r.Queues {
		p := fmt.Sprintf("$.routing.queues[%d]", i)
		qerr, seen := queues[q.ConnectQueueID]
		if !seen {
			var cq connect.Queue
			cq, qerr = c.DescribeQueue(ctx, q.ConnectQueueID)
			if qerr == nil && cq.Status == "DISABLED" {
				qerr = apperr.New(apperr.Invalid, "is disabled")
			}
			queues[q.ConnectQueueID] = qerr
		}
		switch {
		case apperr.Is(qerr, apperr.NotFound):
			add(p+".connectQueueId", "Connect has no queue %q", q.ConnectQueueID)
		case apperr.Is(qerr, apperr.Invalid):
			add(p+".connectQueueId", "Connect queue %q is disabled", q.ConnectQueueID)
		case qerr != nil:
			return nil, qerr
		}
		f, ok := byID[q.ContactFlowID]
		switch {
		case !ok:
			add(p+".contactFlowId", "Connect has no contact flow %q of type CONTACT_FLOW", q.ContactFlowID)
		case f.State == "ARCHIVED":
			add(p+".contactFlowId", "contact flow %q (%s) is archived", q.ContactFlowID, f.Name)
		}
	}
	if _, err := c.PredefinedAttributeValues(ctx, r.SkillAttribute); apperr.Is(err, apperr.NotFound) {
		add("$.routing.skillAttribute", "Connect has no predefined attribute %q (create it, with the skills as its values)", r.SkillAttribute)
	} else if err != nil {
		return nil, err
	}
	return probs, nil
}
