package connect

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconnect "github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// Connect's limits on task fields, checked before calling so that a bad case produces an
// Invalid error with a path instead of a round trip.
const (
	maxTaskName        = 512
	maxTaskDescription = 4096
	maxReferences      = 25
)

// Task is a task contact to start.
type Task struct {
	// IdempotencyKey identifies the event that caused the task; the same key always yields the
	// same ClientToken, so a replayed event cannot create a second task. Required.
	IdempotencyKey string
	// ContactFlowID is the flow that routes the task to a queue. Required.
	ContactFlowID string
	// Name is shown to the agent in the CCP. Required, at most 512 characters.
	Name string
	// Description is shown to the agent; at most 4096 characters.
	Description string
	// Attributes are contact attributes the flow can read (skills, case id ...).
	Attributes map[string]string
	// References are links and values shown on the task, keyed by display name.
	References map[string]Reference
}

// Reference is a task reference: Type is URL, STRING, NUMBER, DATE or EMAIL.
type Reference struct {
	Type  string
	Value string
}

// ClientToken derives the StartTaskContact ClientToken from an idempotency key: the SHA-256
// of the key, formatted as an RFC 9562 version 8 (custom) UUID. It is deterministic, so retries
// and replays reuse it, and at 36 characters well under Connect's 500-character limit whatever
// the key's length.
func ClientToken(key string) string {
	sum := sha256.Sum256([]byte("omnibridge/connect/StartTaskContact\x00" + key))
	b := sum[:16]
	b[6] = (b[6] & 0x0f) | 0x80 // version 8
	b[8] = (b[8] & 0x3f) | 0x80 // RFC 9562 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (t Task) validate() error {
	var probs []apperr.Problem
	if t.IdempotencyKey == "" {
		probs = append(probs, apperr.Problem{Path: "idempotencyKey", Message: "required"})
	}
	if t.ContactFlowID == "" {
		probs = append(probs, apperr.Problem{Path: "contactFlowId", Message: "required"})
	}
	switch n := len([]rune(t.Name)); {
	case n == 0:
		probs = append(probs, apperr.Problem{Path: "name", Message: "required"})
	case n > maxTaskName:
		probs = append(probs, apperr.Problem{Path: "name", Message: fmt.Sprintf("%d characters, at most %d allowed", n, maxTaskName)})
	}
	if n := len([]rune(t.Description)); n > maxTaskDescription {
		probs = append(probs, apperr.Problem{Path: "description", Message: fmt.Sprintf("%d characters, at most %d allowed", n, maxTaskDescription)})
	}
	if len(t.References) > maxReferences {
		probs = append(probs, apperr.Problem{Path: "references", Message: fmt.Sprintf("%d references, at most %d allowed", len(t.References), maxReferences)})
	}
	names := make([]string, 0, len(t.References))
	for name := range t.References {
		names = append(names, name)
	}
	sort.Strings(names) // stable problem order
	for _, name := range names {
		ref := t.References[name]
		switch ref.Type {
		case "URL", "STRING", "NUMBER", "DATE", "EMAIL":
		default:
			probs = append(probs, apperr.Problem{Path: "references." + name + ".type", Message: fmt.Sprintf("unsupported reference type %q", ref.Type)})
		}
		if ref.Value == "" {
			probs = append(probs, apperr.Problem{Path: "references." + name + ".value", Message: "required"})
		}
	}
	if len(probs) > 0 {
		return apperr.Invalidf(probs, "invalid task")
	}
	return nil
}

// StartTask starts a task contact and returns its contact id. Starting the same task again
// with the same IdempotencyKey returns the same contact id and creates nothing (Connect keeps
// ClientTokens for 7 days).
func (c *Client) StartTask(ctx context.Context, t Task) (string, error) {
	const op = "StartTaskContact"
	if err := t.validate(); err != nil {
		return "", err
	}
	in := &awsconnect.StartTaskContactInput{
		InstanceId:    aws.String(c.instanceID),
		ClientToken:   aws.String(ClientToken(t.IdempotencyKey)),
		ContactFlowId: aws.String(t.ContactFlowID),
		Name:          aws.String(t.Name),
		Attributes:    t.Attributes,
	}
	if t.Description != "" {
		in.Description = aws.String(t.Description)
	}
	if len(t.References) > 0 {
		in.References = make(map[string]types.Reference, len(t.References))
		for name, ref := range t.References {
			in.References[name] = types.Reference{Type: types.ReferenceType(ref.Type), Value: aws.String(ref.Value)}
		}
	}
	if err := c.wait(ctx, op); err != nil {
		return "", err
	}
	out, err := c.api.StartTaskContact(ctx, in)
	if err != nil {
		return "", mapError(op, err)
	}
	return aws.ToString(out.ContactId), nil
}

// StopContact ends a contact (the bridge stops a case's task when an agent replies in
// Salesforce). A contact that has already ended is apperr.NotFound, which callers stopping
// tasks idempotently should treat as done.
func (c *Client) StopContact(ctx context.Context, contactID string) error {
	const op = "StopContact"
	if contactID == "" {
		return apperr.Invalidf([]apperr.Problem{{Path: "contactID", Message: "required"}}, "contact id is required")
	}
	if err := c.wait(ctx, op); err != nil {
		return err
	}
	_, err := c.api.StopContact(ctx, &awsconnect.StopContactInput{
		InstanceId: aws.String(c.instanceID),
		ContactId:  aws.String(contactID),
	})
	return mapError(op, err)
}

// UpdateContactAttributes merges attrs into the attributes of the contact whose initial
// contact id is initialContactID. Setting the same values again is harmless, so the call is
// safe to repeat.
func (c *Client) UpdateContactAttributes(ctx context.Context, initialContactID string, attrs map[string]string) error {
	const op = "UpdateContactAttributes"
	var probs []apperr.Problem
	if initialContactID == "" {
		probs = append(probs, apperr.Problem{Path: "initialContactID", Message: "required"})
	}
	if len(attrs) == 0 {
		probs = append(probs, apperr.Problem{Path: "attributes", Message: "at least one attribute is required"})
	}
	if len(probs) > 0 {
		return apperr.Invalidf(probs, "invalid contact attributes update")
	}
	if err := c.wait(ctx, op); err != nil {
		return err
	}
	_, err := c.api.UpdateContactAttributes(ctx, &awsconnect.UpdateContactAttributesInput{
		InstanceId:       aws.String(c.instanceID),
		InitialContactId: aws.String(initialContactID),
		Attributes:       attrs,
	})
	return mapError(op, err)
}
