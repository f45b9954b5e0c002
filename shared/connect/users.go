package connect

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconnect "github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/apperr"
)

// MaxAgentsPerUserDataCall is Connect's limit on Filters.Agents in one GetCurrentUserData call.
const MaxAgentsPerUserDataCall = 100

// User is a Connect user (agent).
type User struct {
	ID               string
	ARN              string
	Username         string
	FirstName        string
	LastName         string
	Email            string
	RoutingProfileID string
	HierarchyGroupID string
}

// UserData is an agent's live state as GetCurrentUserData reports it.
type UserData struct {
	UserID           string
	UserARN          string
	RoutingProfileID string
	// Status is the name of the agent's current status; StatusARN and StatusStart go with it.
	Status      string
	StatusARN   string
	StatusStart time.Time
	// NextStatus is the name of the status waiting for the agent's contacts to end, if any.
	NextStatus string
	Contacts   []ContactRef
	// Slots per channel ("VOICE", "CHAT", "TASK").
	AvailableSlots map[string]int
	MaxSlots       map[string]int
	ActiveSlots    map[string]int
}

// ContactRef is a contact on an agent as GetCurrentUserData reports it.
type ContactRef struct {
	ContactID        string
	Channel          agentevent.Channel
	InitiationMethod agentevent.InitiationMethod
	State            agentevent.ContactState
	StateStart       time.Time
	ConnectedToAgent *time.Time
	QueueID          string
	QueueARN         string
}

// CurrentUserData returns the live state of the given users (ids or ARNs). Connect accepts at
// most MaxAgentsPerUserDataCall agents per call, so the ids are split into batches and each
// batch is paginated. Users that are not logged in are absent from the result.
func (c *Client) CurrentUserData(ctx context.Context, userIDs []string) ([]UserData, error) {
	const op = "GetCurrentUserData"
	ids := dedupe(userIDs)
	var all []UserData
	for start := 0; start < len(ids); start += MaxAgentsPerUserDataCall {
		batch := ids[start:min(start+MaxAgentsPerUserDataCall, len(ids))]
		var token *string
		for {
			if err := c.wait(ctx, op); err != nil {
				return nil, err
			}
			out, err := c.api.GetCurrentUserData(ctx, &awsconnect.GetCurrentUserDataInput{
				InstanceId: aws.String(c.instanceID),
				Filters:    &types.UserDataFilters{Agents: batch},
				MaxResults: aws.Int32(100),
				NextToken:  token,
			})
			if err != nil {
				return nil, mapError(op, err)
			}
			for _, d := range out.UserDataList {
				all = append(all, userData(d))
			}
			if aws.ToString(out.NextToken) == "" {
				break
			}
			token = out.NextToken
		}
	}
	return all, nil
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func userData(d types.UserData) UserData {
	u := UserData{
		NextStatus:     aws.ToString(d.NextStatus),
		AvailableSlots: slots(d.AvailableSlotsByChannel),
		MaxSlots:       slots(d.MaxSlotsByChannel),
		ActiveSlots:    slots(d.ActiveSlotsByChannel),
	}
	if d.User != nil {
		u.UserID, u.UserARN = aws.ToString(d.User.Id), aws.ToString(d.User.Arn)
	}
	if d.RoutingProfile != nil {
		u.RoutingProfileID = aws.ToString(d.RoutingProfile.Id)
	}
	if d.Status != nil {
		u.Status, u.StatusARN = aws.ToString(d.Status.StatusName), aws.ToString(d.Status.StatusArn)
		u.StatusStart = aws.ToTime(d.Status.StatusStartTimestamp)
	}
	for _, ct := range d.Contacts {
		ref := ContactRef{
			ContactID:        aws.ToString(ct.ContactId),
			Channel:          agentevent.Channel(ct.Channel),
			InitiationMethod: agentevent.InitiationMethod(ct.InitiationMethod),
			State:            agentevent.ContactState(ct.AgentContactState),
			StateStart:       aws.ToTime(ct.StateStartTimestamp),
			ConnectedToAgent: ct.ConnectedToAgentTimestamp,
		}
		if ct.Queue != nil {
			ref.QueueID, ref.QueueARN = aws.ToString(ct.Queue.Id), aws.ToString(ct.Queue.Arn)
		}
		u.Contacts = append(u.Contacts, ref)
	}
	return u
}

func slots(m map[string]int32) map[string]int {
	if m == nil {
		return nil
	}
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = int(v)
	}
	return out
}

// FindUserByUsername finds the Connect user whose Username is username, with SearchUsers and an
// EXACT string condition. Connect compares usernames without regard to case, so an exact
// (case-sensitive) match is preferred and a case-insensitive one accepted. No match is
// apperr.NotFound.
func (c *Client) FindUserByUsername(ctx context.Context, username string) (User, error) {
	if username == "" {
		return User{}, apperr.Invalidf([]apperr.Problem{{Path: "username", Message: "required"}}, "username is required")
	}
	users, err := c.searchUsers(ctx, exact("Username", username))
	if err != nil {
		return User{}, err
	}
	var fold *User
	for i, u := range users {
		if u.Username == username {
			return u, nil
		}
		if fold == nil && strings.EqualFold(u.Username, username) {
			fold = &users[i]
		}
	}
	if fold != nil {
		return *fold, nil
	}
	return User{}, apperr.New(apperr.NotFound, "no Connect user with username %q", username)
}

// MaxUsersPerSearch is how many ids UsersByID puts in one SearchUsers call. Connect documents
// no limit on the OR conditions of a UserSearchCriteria; 25 is its documented limit on the tag
// conditions of a user search filter, kept here as the safe bound.
const MaxUsersPerSearch = 25

// UsersByID returns the Connect users with the given ids, keyed by id, found with
// SearchUsers (OR'ed EXACT ResourceId conditions, MaxUsersPerSearch ids a call) instead of one
// DescribeUser call each. Unknown ids are absent from the result.
func (c *Client) UsersByID(ctx context.Context, ids []string) (map[string]User, error) {
	out := map[string]User{}
	for chunk := range slices.Chunk(dedupe(ids), MaxUsersPerSearch) {
		crit := &types.UserSearchCriteria{}
		for _, id := range chunk {
			crit.OrConditions = append(crit.OrConditions, *exact("ResourceId", id))
		}
		users, err := c.searchUsers(ctx, crit)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			out[u.ID] = u // Connect matches ids without regard to case; DescribeUser does not
		}
	}
	return out, nil
}

// exact is the criterion "field equals value" (Connect compares without regard to case).
func exact(field, value string) *types.UserSearchCriteria {
	return &types.UserSearchCriteria{StringCondition: &types.StringCondition{
		FieldName: aws.String(field), Value: aws.String(value), ComparisonType: types.StringComparisonTypeExact,
	}}
}

// searchUsers returns every user that crit matches, page by page.
func (c *Client) searchUsers(ctx context.Context, crit *types.UserSearchCriteria) ([]User, error) {
	const op = "SearchUsers"
	var users []User
	var token *string
	for {
		if err := c.wait(ctx, op); err != nil {
			return nil, err
		}
		out, err := c.api.SearchUsers(ctx, &awsconnect.SearchUsersInput{
			InstanceId:     aws.String(c.instanceID),
			SearchCriteria: crit,
			MaxResults:     aws.Int32(100),
			NextToken:      token,
		})
		if err != nil {
			return nil, mapError(op, err)
		}
		for _, s := range out.Users {
			users = append(users, searchUser(s))
		}
		if aws.ToString(out.NextToken) == "" {
			return users, nil
		}
		token = out.NextToken
	}
}

func searchUser(s types.UserSearchSummary) User {
	u := User{
		ID:               aws.ToString(s.Id),
		ARN:              aws.ToString(s.Arn),
		Username:         aws.ToString(s.Username),
		RoutingProfileID: aws.ToString(s.RoutingProfileId),
		HierarchyGroupID: aws.ToString(s.HierarchyGroupId),
	}
	if s.IdentityInfo != nil {
		u.FirstName, u.LastName = aws.ToString(s.IdentityInfo.FirstName), aws.ToString(s.IdentityInfo.LastName)
	}
	return u
}

// DescribeUser returns the Connect user with id userID; an unknown id is apperr.NotFound.
func (c *Client) DescribeUser(ctx context.Context, userID string) (User, error) {
	const op = "DescribeUser"
	if userID == "" {
		return User{}, apperr.Invalidf([]apperr.Problem{{Path: "userID", Message: "required"}}, "Connect user id is required")
	}
	if err := c.wait(ctx, op); err != nil {
		return User{}, err
	}
	out, err := c.api.DescribeUser(ctx, &awsconnect.DescribeUserInput{
		InstanceId: aws.String(c.instanceID),
		UserId:     aws.String(userID),
	})
	if err != nil {
		return User{}, mapError(op, err)
	}
	if out.User == nil {
		return User{}, apperr.New(apperr.NotFound, "Connect user %q not found", userID)
	}
	d := out.User
	u := User{
		ID:               aws.ToString(d.Id),
		ARN:              aws.ToString(d.Arn),
		Username:         aws.ToString(d.Username),
		RoutingProfileID: aws.ToString(d.RoutingProfileId),
		HierarchyGroupID: aws.ToString(d.HierarchyGroupId),
	}
	if d.IdentityInfo != nil {
		u.FirstName = aws.ToString(d.IdentityInfo.FirstName)
		u.LastName = aws.ToString(d.IdentityInfo.LastName)
		u.Email = aws.ToString(d.IdentityInfo.Email)
	}
	return u, nil
}
