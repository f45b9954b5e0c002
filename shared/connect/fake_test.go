package connect_test

import (
	"context"
	"errors"

	awsconnect "github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/omnibridge/omnibridge/shared/connect"
)

// fakeAPI is a hand-written connect.API: each test sets the functions it expects to be called;
// any other call fails the operation.
type fakeAPI struct {
	describeQueue               func(context.Context, *awsconnect.DescribeQueueInput) (*awsconnect.DescribeQueueOutput, error)
	listContactFlows            func(context.Context, *awsconnect.ListContactFlowsInput) (*awsconnect.ListContactFlowsOutput, error)
	describePredefinedAttribute func(context.Context, *awsconnect.DescribePredefinedAttributeInput) (*awsconnect.DescribePredefinedAttributeOutput, error)

	listAgentStatuses       func(context.Context, *awsconnect.ListAgentStatusesInput) (*awsconnect.ListAgentStatusesOutput, error)
	putUserStatus           func(context.Context, *awsconnect.PutUserStatusInput) (*awsconnect.PutUserStatusOutput, error)
	getCurrentUserData      func(context.Context, *awsconnect.GetCurrentUserDataInput) (*awsconnect.GetCurrentUserDataOutput, error)
	searchUsers             func(context.Context, *awsconnect.SearchUsersInput) (*awsconnect.SearchUsersOutput, error)
	describeUser            func(context.Context, *awsconnect.DescribeUserInput) (*awsconnect.DescribeUserOutput, error)
	startTaskContact        func(context.Context, *awsconnect.StartTaskContactInput) (*awsconnect.StartTaskContactOutput, error)
	stopContact             func(context.Context, *awsconnect.StopContactInput) (*awsconnect.StopContactOutput, error)
	updateContactAttributes func(context.Context, *awsconnect.UpdateContactAttributesInput) (*awsconnect.UpdateContactAttributesOutput, error)
	describeContact         func(context.Context, *awsconnect.DescribeContactInput) (*awsconnect.DescribeContactOutput, error)
}

func (f *fakeAPI) DescribeContact(ctx context.Context, in *awsconnect.DescribeContactInput, _ ...func(*awsconnect.Options)) (*awsconnect.DescribeContactOutput, error) {
	if f.describeContact == nil {
		return nil, errUnexpected
	}
	return f.describeContact(ctx, in)
}

var _ connect.API = (*fakeAPI)(nil)

var errUnexpected = errors.New("fakeAPI: unexpected call")

func (f *fakeAPI) ListAgentStatuses(ctx context.Context, in *awsconnect.ListAgentStatusesInput, _ ...func(*awsconnect.Options)) (*awsconnect.ListAgentStatusesOutput, error) {
	if f.listAgentStatuses == nil {
		return nil, errUnexpected
	}
	return f.listAgentStatuses(ctx, in)
}

func (f *fakeAPI) PutUserStatus(ctx context.Context, in *awsconnect.PutUserStatusInput, _ ...func(*awsconnect.Options)) (*awsconnect.PutUserStatusOutput, error) {
	if f.putUserStatus == nil {
		return nil, errUnexpected
	}
	return f.putUserStatus(ctx, in)
}

func (f *fakeAPI) GetCurrentUserData(ctx context.Context, in *awsconnect.GetCurrentUserDataInput, _ ...func(*awsconnect.Options)) (*awsconnect.GetCurrentUserDataOutput, error) {
	if f.getCurrentUserData == nil {
		return nil, errUnexpected
	}
	return f.getCurrentUserData(ctx, in)
}

func (f *fakeAPI) SearchUsers(ctx context.Context, in *awsconnect.SearchUsersInput, _ ...func(*awsconnect.Options)) (*awsconnect.SearchUsersOutput, error) {
	if f.searchUsers == nil {
		return nil, errUnexpected
	}
	return f.searchUsers(ctx, in)
}

func (f *fakeAPI) DescribeUser(ctx context.Context, in *awsconnect.DescribeUserInput, _ ...func(*awsconnect.Options)) (*awsconnect.DescribeUserOutput, error) {
	if f.describeUser == nil {
		return nil, errUnexpected
	}
	return f.describeUser(ctx, in)
}

func (f *fakeAPI) StartTaskContact(ctx context.Context, in *awsconnect.StartTaskContactInput, _ ...func(*awsconnect.Options)) (*awsconnect.StartTaskContactOutput, error) {
	if f.startTaskContact == nil {
		return nil, errUnexpected
	}
	return f.startTaskContact(ctx, in)
}

func (f *fakeAPI) StopContact(ctx context.Context, in *awsconnect.StopContactInput, _ ...func(*awsconnect.Options)) (*awsconnect.StopContactOutput, error) {
	if f.stopContact == nil {
		return nil, errUnexpected
	}
	return f.stopContact(ctx, in)
}

func (f *fakeAPI) UpdateContactAttributes(ctx context.Context, in *awsconnect.UpdateContactAttributesInput, _ ...func(*awsconnect.Options)) (*awsconnect.UpdateContactAttributesOutput, error) {
	if f.updateContactAttributes == nil {
		return nil, errUnexpected
	}
	return f.updateContactAttributes(ctx, in)
}
