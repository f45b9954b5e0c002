package connect

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconnect "github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// Endpoint is a contact's customer or system endpoint.
type Endpoint struct {
	// Address is the phone number (E.164) or other address; "" when Connect returned none.
	Address string
	// Type is TELEPHONE_NUMBER, VOIP, CONTACT_FLOW, CONNECT_PHONENUMBER_ARN or EMAIL_ADDRESS.
	Type string
}

// ContactInfo is what DescribeContact tells call logging beyond the contact events: the
// customer's number above all, which contact events never carry.
type ContactInfo struct {
	// ID, InitialContactID and PreviousContactID identify the contact and its transfer chain.
	ID, InitialContactID, PreviousContactID string
	// Channel is VOICE, CHAT, TASK or EMAIL; InitiationMethod INBOUND, OUTBOUND, TRANSFER ...
	Channel, InitiationMethod string
	// Customer is the customer endpoint (the caller of an inbound call); its Address is ""
	// for a withheld number.
	Customer Endpoint
	// System is the number the customer dialled (or the caller id of an outbound call).
	System Endpoint
	// AgentID is the Connect user the contact was connected to, "" when none.
	AgentID string
	// InitiatedAt and DisconnectedAt are the contact's timestamps (zero when not set).
	InitiatedAt, DisconnectedAt time.Time
}

// DescribeContact reads a contact. A contact Connect no longer knows (contacts are kept 24
// months) is apperr.NotFound.
func (c *Client) DescribeContact(ctx context.Context, contactID string) (ContactInfo, error) {
	const op = "DescribeContact"
	if contactID == "" {
		return ContactInfo{}, apperr.Invalidf([]apperr.Problem{{Path: "contactId", Message: "required"}}, "describe contact: contact id is empty")
	}
	if err := c.wait(ctx, op); err != nil {
		return ContactInfo{}, err
	}
	out, err := c.api.DescribeContact(ctx, &awsconnect.DescribeContactInput{
		InstanceId: aws.String(c.instanceID),
		ContactId:  aws.String(contactID),
	})
	if err != nil {
		return ContactInfo{}, mapError(op, err)
	}
	ct := out.Contact
	if ct == nil {
		return ContactInfo{}, apperr.New(apperr.Internal, "connect %s: response without a contact", op)
	}
	info := ContactInfo{
		ID: aws.ToString(ct.Id), InitialContactID: aws.ToString(ct.InitialContactId), PreviousContactID: aws.ToString(ct.PreviousContactId),
		Channel: string(ct.Channel), InitiationMethod: string(ct.InitiationMethod),
		InitiatedAt: aws.ToTime(ct.InitiationTimestamp), DisconnectedAt: aws.ToTime(ct.DisconnectTimestamp),
	}
	if e := ct.CustomerEndpoint; e != nil {
		info.Customer = Endpoint{Address: aws.ToString(e.Address), Type: string(e.Type)}
	}
	if e := ct.SystemEndpoint; e != nil {
		info.System = Endpoint{Address: aws.ToString(e.Address), Type: string(e.Type)}
	}
	if a := ct.AgentInfo; a != nil {
		info.AgentID = aws.ToString(a.Id)
	}
	return info, nil
}
