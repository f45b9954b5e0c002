package connect

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconnect "github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/apperr"
)

// AgentStatus is an agent status defined in the Connect instance.
type AgentStatus struct {
	ID   string
	ARN  string
	Name string
	Type agentevent.StatusType
}

// AgentStatuses returns the instance's agent statuses, loading them once and then from cache.
func (c *Client) AgentStatuses(ctx context.Context) ([]AgentStatus, error) {
	c.statusMu.RLock()
	list := c.statuses
	c.statusMu.RUnlock()
	if list != nil {
		return append([]AgentStatus(nil), list...), nil
	}
	if err := c.refreshStatuses(ctx); err != nil {
		return nil, err
	}
	c.statusMu.RLock()
	defer c.statusMu.RUnlock()
	return append([]AgentStatus(nil), c.statuses...), nil
}

// ResolveStatus finds the agent status with exactly this name. A name missing from the cache
// triggers one reload (shared by all concurrent callers, and at most one per
// Options.MinStatusRefresh), because statuses are created in the Connect console while the
// bridge runs. A name still unknown after that is an apperr.NotFound.
func (c *Client) ResolveStatus(ctx context.Context, name string) (AgentStatus, error) {
	if name == "" {
		return AgentStatus{}, apperr.Invalidf([]apperr.Problem{{Path: "statusName", Message: "required"}}, "agent status name is required")
	}
	if st, ok := c.cachedStatus(name); ok {
		return st, nil
	}
	if err := c.refreshStatuses(ctx); err != nil {
		return AgentStatus{}, err
	}
	if st, ok := c.cachedStatus(name); ok {
		return st, nil
	}
	return AgentStatus{}, apperr.New(apperr.NotFound, "agent status %q does not exist in the Connect instance", name)
}

func (c *Client) cachedStatus(name string) (AgentStatus, bool) {
	c.statusMu.RLock()
	defer c.statusMu.RUnlock()
	st, ok := c.statusByName[name]
	return st, ok
}

// refreshStatuses reloads the status list unless it was loaded less than minRefresh ago.
func (c *Client) refreshStatuses(ctx context.Context) error {
	c.statusMu.RLock()
	fresh := c.statuses != nil && time.Since(c.loadedAt) < c.minRefresh
	c.statusMu.RUnlock()
	if fresh {
		return nil
	}
	_, err, _ := c.refresh.Do("statuses", func() (any, error) {
		// Re-check: a reload may have finished between the check above and Do.
		c.statusMu.RLock()
		fresh := c.statuses != nil && time.Since(c.loadedAt) < c.minRefresh
		c.statusMu.RUnlock()
		if fresh {
			return nil, nil
		}
		list, err := c.listAgentStatuses(ctx)
		if err != nil {
			return nil, err
		}
		byName := make(map[string]AgentStatus, len(list))
		for _, st := range list {
			byName[st.Name] = st
		}
		c.statusMu.Lock()
		c.statuses, c.statusByName, c.loadedAt = list, byName, time.Now()
		c.statusMu.Unlock()
		return nil, nil
	})
	return err
}

func (c *Client) listAgentStatuses(ctx context.Context) ([]AgentStatus, error) {
	const op = "ListAgentStatuses"
	list := []AgentStatus{}
	var token *string
	for {
		if err := c.wait(ctx, op); err != nil {
			return nil, err
		}
		out, err := c.api.ListAgentStatuses(ctx, &awsconnect.ListAgentStatusesInput{
			InstanceId: aws.String(c.instanceID),
			MaxResults: aws.Int32(100),
			NextToken:  token,
		})
		if err != nil {
			return nil, mapError(op, err)
		}
		for _, s := range out.AgentStatusSummaryList {
			list = append(list, AgentStatus{
				ID:   aws.ToString(s.Id),
				ARN:  aws.ToString(s.Arn),
				Name: aws.ToString(s.Name),
				Type: agentevent.StatusType(s.Type),
			})
		}
		if aws.ToString(out.NextToken) == "" {
			return list, nil
		}
		token = out.NextToken
	}
}

// SetStatus sets the agent status of Connect user userID to the status named statusName.
//
// While the agent handles a contact, Connect does not switch the status at once: it records it
// as the agent's next status (NextAgentStatus in the agent event stream), stops routing new
// contacts, and applies it when the agent's contacts and their after contact work are cleared.
// Callers that need the change to be visible immediately must check the agent's contacts.
//
// Each call is sent; use SetStatusCoalesced when several changes for one agent may queue up.
func (c *Client) SetStatus(ctx context.Context, userID, statusName string) (AgentStatus, error) {
	if userID == "" {
		return AgentStatus{}, apperr.Invalidf([]apperr.Problem{{Path: "userID", Message: "required"}}, "Connect user id is required")
	}
	st, err := c.ResolveStatus(ctx, statusName)
	if err != nil {
		return AgentStatus{}, err
	}
	if err := c.wait(ctx, "PutUserStatus"); err != nil {
		return AgentStatus{}, err
	}
	return st, c.putUserStatus(ctx, userID, st.ID)
}

// putUserStatus sends PutUserStatus; the caller has already taken a limiter token.
func (c *Client) putUserStatus(ctx context.Context, userID, statusID string) error {
	_, err := c.api.PutUserStatus(ctx, &awsconnect.PutUserStatusInput{
		InstanceId:    aws.String(c.instanceID),
		UserId:        aws.String(userID),
		AgentStatusId: aws.String(statusID),
	})
	return mapError("PutUserStatus", err)
}
