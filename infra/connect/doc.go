// Package connectflow holds the sample Amazon Connect contact flow that Omnibridge's case
// routing starts tasks in (StartTaskContact's ContactFlowId): it applies the routing criteria
// and queue priority the bridge passes as contact attributes, then queues the task. A Connect
// admin imports omnibridge-case-task.flow.json (see README.md); the Go package embeds the same
// file so its tests check the structure the admin imports.
package connectflow

import _ "embed"

// Flow is omnibridge-case-task.flow.json, the contact flow in Amazon Connect Flow language.
//
//go:embed omnibridge-case-task.flow.json
var Flow []byte
