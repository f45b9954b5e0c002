package agentevent

import (
	"strings"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// AgentRef is what an agent ARN names:
// arn:<partition>:connect:<region>:<account>:instance/<instanceId>/agent/<agentId>.
// The agent id is the Connect user id that the API calls (PutUserStatus, DescribeUser) take.
type AgentRef struct {
	Partition  string
	Region     string
	AccountID  string
	InstanceID string
	AgentID    string
}

// ARN renders the agent ARN. Partition defaults to "aws".
func (r AgentRef) ARN() string {
	return InstanceARN(r.Partition, r.Region, r.AccountID, r.InstanceID) + "/agent/" + r.AgentID
}

// InstanceARN renders the ARN of a Connect instance; sub-resource ARNs (queues, routing
// profiles, agent states) append "/<kind>/<id>" to it. Partition defaults to "aws".
func InstanceARN(partition, region, accountID, instanceID string) string {
	if partition == "" {
		partition = "aws"
	}
	return "arn:" + partition + ":connect:" + region + ":" + accountID + ":instance/" + instanceID
}

// ParseAgentARN splits an agent ARN into its parts. It returns an apperr.Invalid error when
// arn is not a Connect agent ARN, because an event whose agent cannot be identified cannot be
// applied to any agent.
func ParseAgentARN(arn string) (AgentRef, error) {
	parts, resource, err := splitConnectARN(arn)
	if err != nil {
		return AgentRef{}, err
	}
	segs := strings.Split(resource, "/")
	if len(segs) != 4 || segs[0] != "instance" || segs[2] != "agent" || segs[1] == "" || segs[3] == "" {
		return AgentRef{}, apperr.New(apperr.Invalid, "not an agent ARN (want instance/<instanceId>/agent/<agentId>): %q", arn)
	}
	return AgentRef{Partition: parts[1], Region: parts[3], AccountID: parts[4], InstanceID: segs[1], AgentID: segs[3]}, nil
}

// InstanceIDFromARN returns the instance id of any Connect ARN under an instance: the instance
// ARN itself or an agent, queue, routing-profile or agent-state ARN.
func InstanceIDFromARN(arn string) (string, error) {
	_, resource, err := splitConnectARN(arn)
	if err != nil {
		return "", err
	}
	segs := strings.Split(resource, "/")
	if len(segs) < 2 || segs[0] != "instance" || segs[1] == "" {
		return "", apperr.New(apperr.Invalid, "not a Connect instance ARN: %q", arn)
	}
	return segs[1], nil
}

// splitConnectARN checks the fixed "arn:<partition>:connect:<region>:<account>:" prefix and
// returns the colon-separated parts and the resource part.
func splitConnectARN(arn string) ([]string, string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "connect" || parts[3] == "" || parts[4] == "" {
		return nil, "", apperr.New(apperr.Invalid, "not an Amazon Connect ARN: %q", arn)
	}
	return parts, parts[5], nil
}

// AgentID returns the agent (Connect user) id from AgentARN, or "" when AgentARN is not an
// agent ARN. Events returned by Decode always have a parsable AgentARN.
func (e Event) AgentID() string {
	ref, err := ParseAgentARN(e.AgentARN)
	if err != nil {
		return ""
	}
	return ref.AgentID
}

// InstanceID returns the instance id from AgentARN, falling back to InstanceARN, or "".
func (e Event) InstanceID() string {
	if ref, err := ParseAgentARN(e.AgentARN); err == nil {
		return ref.InstanceID
	}
	id, err := InstanceIDFromARN(e.InstanceARN)
	if err != nil {
		return ""
	}
	return id
}
