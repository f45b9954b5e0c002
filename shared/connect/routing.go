package connect

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconnect "github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// Queue is a Connect queue as case routing checks it.
type Queue struct {
	ID     string
	Name   string
	Status string // ENABLED or DISABLED
}

// DescribeQueue returns the queue with id; apperr.NotFound when the instance has none.
func (c *Client) DescribeQueue(ctx context.Context, id string) (Queue, error) {
	const op = "DescribeQueue"
	if id == "" {
		return Queue{}, apperr.Invalidf([]apperr.Problem{{Path: "queueId", Message: "required"}}, "queue id is required")
	}
	if err := c.wait(ctx, op); err != nil {
		return Queue{}, err
	}
	out, err := c.api.DescribeQueue(ctx, &awsconnect.DescribeQueueInput{InstanceId: aws.String(c.instanceID), QueueId: aws.String(id)})
	if err != nil {
		return Queue{}, mapError(op, err)
	}
	if out.Queue == nil {
		return Queue{}, apperr.New(apperr.NotFound, "queue %s not found", id)
	}
	return Queue{ID: aws.ToString(out.Queue.QueueId), Name: aws.ToString(out.Queue.Name), Status: string(out.Queue.Status)}, nil
}

// ContactFlow is a contact flow of the instance.
type ContactFlow struct {
	ID    string
	Name  string
	Type  string // CONTACT_FLOW, ...
	State string // ACTIVE or ARCHIVED
}

// ContactFlows lists the instance's contact flows of type CONTACT_FLOW (the type
// StartTaskContact runs), every page.
func (c *Client) ContactFlows(ctx context.Context) ([]ContactFlow, error) {
	const op = "ListContactFlows"
	var out []ContactFlow
	var next *string
	for {
		if err := c.wait(ctx, op); err != nil {
			return nil, err
		}
		res, err := c.api.ListContactFlows(ctx, &awsconnect.ListContactFlowsInput{
			InstanceId: aws.String(c.instanceID), ContactFlowTypes: []types.ContactFlowType{types.ContactFlowTypeContactFlow},
			MaxResults: aws.Int32(1000), NextToken: next,
		})
		if err != nil {
			return nil, mapError(op, err)
		}
		for _, f := range res.ContactFlowSummaryList {
			out = append(out, ContactFlow{ID: aws.ToString(f.Id), Name: aws.ToString(f.Name), Type: string(f.ContactFlowType), State: string(f.ContactFlowState)})
		}
		if next = res.NextToken; next == nil || *next == "" {
			return out, nil
		}
	}
}

// PredefinedAttributeValues returns the values of the predefined attribute name (the skills of
// proficiency-based routing); apperr.NotFound when the instance has no such attribute.
func (c *Client) PredefinedAttributeValues(ctx context.Context, name string) ([]string, error) {
	const op = "DescribePredefinedAttribute"
	if name == "" {
		return nil, apperr.Invalidf([]apperr.Problem{{Path: "name", Message: "required"}}, "attribute name is required")
	}
	if err := c.wait(ctx, op); err != nil {
		return nil, err
	}
	out, err := c.api.DescribePredefinedAttribute(ctx, &awsconnect.DescribePredefinedAttributeInput{InstanceId: aws.String(c.instanceID), Name: aws.String(name)})
	if err != nil {
		return nil, mapError(op, err)
	}
	if out.PredefinedAttribute == nil {
		return nil, apperr.New(apperr.NotFound, "predefined attribute %s not found", name)
	}
	if v, ok := out.PredefinedAttribute.Values.(*types.PredefinedAttributeValuesMemberStringList); ok {
		return v.Value, nil
	}
	return nil, nil
}
