package connect_test

import (
	"context"
	"slices"
	"testing"

	awsconnect "github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/connect"
	"github.com/omnibridge/omnibridge/shared/connect/connectsim"
)

func (f *fakeAPI) DescribeQueue(ctx context.Context, in *awsconnect.DescribeQueueInput, _ ...func(*awsconnect.Options)) (*awsconnect.DescribeQueueOutput, error) {
	if f.describeQueue == nil {
		return nil, errUnexpected
	}
	return f.describeQueue(ctx, in)
}

func (f *fakeAPI) ListContactFlows(ctx context.Context, in *awsconnect.ListContactFlowsInput, _ ...func(*awsconnect.Options)) (*awsconnect.ListContactFlowsOutput, error) {
	if f.listContactFlows == nil {
		return nil, errUnexpected
	}
	return f.listContactFlows(ctx, in)
}

func (f *fakeAPI) DescribePredefinedAttribute(ctx context.Context, in *awsconnect.DescribePredefinedAttributeInput, _ ...func(*awsconnect.Options)) (*awsconnect.DescribePredefinedAttributeOutput, error) {
	if f.describePredefinedAttribute == nil {
		return nil, errUnexpected
	}
	return f.describePredefinedAttribute(ctx, in)
}

// TestRoutingLookupsAgainstSim runs the queue, flow and skill lookups case routing's config
// check uses through the real SDK client against connectsim.
func TestRoutingLookupsAgainstSim(t *testing.T) {
	sd := seed(0)
	sd.Queues = []connectsim.SeedQueue{{Name: "Billing"}}
	sd.ContactFlows = []connectsim.SeedContactFlow{{Name: "Omnibridge case task", Queue: "Billing"}}
	sd.PredefinedAttributes = []connectsim.SeedPredefinedAttribute{{Name: "Skill", Values: []string{"Billing", "Spanish"}}}
	c := newRig(t, sd, connectsim.Options{}, connect.Options{RequestsPerSecond: 50, Burst: 10}).client
	ctx := context.Background()
	flows, err := c.ContactFlows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(flows, func(f connect.ContactFlow) bool { return f.Name == "Omnibridge case task" })
	if i < 0 {
		t.Fatalf("flows = %+v", flows)
	}
	vals, err := c.PredefinedAttributeValues(ctx, "Skill")
	if err != nil || !slices.Equal(vals, []string{"Billing", "Spanish"}) {
		t.Fatalf("values = %v, %v", vals, err)
	}
	if _, err := c.PredefinedAttributeValues(ctx, "Language"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("missing attribute: %v", err)
	}
	if _, err := c.DescribeQueue(ctx, "00000000-0000-0000-0000-000000000000"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("missing queue: %v", err)
	}
}
