package engine

import "github.com/omnibridge/omnibridge/shared/presence"

// PresenceCommandEvent is the API name of the platform event that carries presence commands to
// the console utility component.
const PresenceCommandEvent = "Omnibridge_Presence_Command__e"

// Field API names of PresenceCommandEvent.
const (
	FieldUserID    = "UserId__c"
	FieldStatusID  = "StatusId__c"
	FieldCommandID = "CommandId__c"
	FieldReason    = "Reason__c"
	FieldIssuedAt  = "IssuedAt__c"
)

// OfflineStatus is the StatusId__c value that asks the console to log the agent out of
// Omni-Channel: Offline is no ServicePresenceStatus record, so it has no id to send.
const OfflineStatus = "Offline"

// maxReason is the length of the Reason__c text field.
const maxReason = 255

// CommandEventFields renders a Salesforce command as the fields of one PresenceCommandEvent, for
// the publisher adapter: the user, the status id (or OfflineStatus), the command id the console
// de-duplicates and acknowledges by, the reason (truncated to the field's 255 characters) and
// the issue time (UTC, milliseconds).
func CommandEventFields(cmd presence.Command) map[string]any {
	status := cmd.Target.SalesforceStatusID
	if cmd.Target.SalesforceOffline {
		status = OfflineStatus
	}
	reason := cmd.Reason
	if r := []rune(reason); len(r) > maxReason {
		reason = string(r[:maxReason-1]) + "…"
	}
	return map[string]any{
		FieldUserID:    cmd.UserID,
		FieldStatusID:  status,
		FieldCommandID: cmd.ID,
		FieldReason:    reason,
		FieldIssuedAt:  cmd.IssuedAt.UTC().Format("2006-01-02T15:04:05.000Z"),
	}
}
