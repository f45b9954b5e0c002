// Package rules checks, compiles and evaluates Omnibridge's presence rules and status mapping:
// the second and third of three stages (config.Parse turns JSON into plain structs; Compile
// validates and compiles; Set.Decide runs many times). It is a domain package: no I/O, no
// clock, no AWS SDK.
//
// # Vocabulary (the JSON names in the config document)
//
// Source events (Rule.SourceEvent): "connect.agentStateChanged", "salesforce.agentStateChanged",
// "salesforce.agentLogout", "salesforce.workAccepted", "salesforce.workloadChanged".
//
// Operands (Operand.Operand), with the events that supply them:
//
//	connect.newState, connect.oldState     state   connect.agentStateChanged (effective state)
//	connect.newStatus, connect.oldStatus   state   connect.agentStateChanged (raw status name)
//	salesforce.newState                    state   salesforce.agentStateChanged, salesforce.agentLogout ("Offline")
//	salesforce.channel                     state   salesforce.workAccepted
//	salesforce.previousWorkload, salesforce.newWorkload, salesforce.previousWorkloadPct,
//	salesforce.newWorkloadPct, salesforce.configuredCapacity
//	                                       number  salesforce.workloadChanged
//
// A static value is Operand.Value. Comparators are exactly "eq", "ne", "gt", "ge", "lt", "le".
// States compare as exact, case-sensitive strings with eq and ne only; numbers compare
// numerically, and a static value compared with a number must parse as one (it is parsed once,
// at compile time). Percentages are of the configured capacity on a 0–100 scale.
//
// # Evaluation order
//
// An event has one kind, and only rules with that source event are considered. Rules always
// cross systems: a Connect event's rules target Salesforce and a Salesforce event's rules
// target Connect, so each event decides one destination. Evaluation:
//
//  1. Rules are visited in ascending Priority, then by id (so equal priorities are still
//     deterministic).
//  2. A disabled rule is skipped ("disabled").
//  3. A rule whose destination already has a winner is skipped ("shadowed").
//  4. Otherwise its criteria are tested, joined by "all" (the default) or "any". A criterion
//     that reads an operand the event did not supply (absent) is false, whatever its
//     comparator. The first rule that matches wins its destination.
//  5. A destination without a winner falls back to the status mapping, keyed by the new
//     state: the effective Connect state for Connect events (rows with toSalesforce), the
//     Salesforce DeveloperName for Salesforce state changes and "Offline" for logouts (rows
//     with toConnect). Work and workload events have no mapping.
//  6. Failing both, the outcome is "none": nothing is sent, and the audit says why.
//
// Evaluation.Trace lists every rule considered with its result and, through Step.Detail, the
// failing criterion and the values it saw; the admin API's dry-run simulator shows it.
//
// Set.Decide is the hot path: it allocates nothing, because Compile renders every outcome,
// reason and summary entry once, and the Trace it returns keeps only its input (the rules and
// the facts), expanding into Steps when read. Set.Evaluate is Decide with the Steps expanded.
//
// # Example 1: the CTI Adapter's Lunch rules
//
// Rules (testdata/lunch.json): "lunch-to-away" (priority 10): connect.newState eq "Lunch" →
// Salesforce Away; "available-to-available" (20): connect.newState eq "Available" → Salesforce
// Available; "sf-available" (10, Salesforce event): salesforce.newState eq "Available" →
// Connect Available.
//
// The agent picks Lunch in the Connect CCP. The event is connect.agentStateChanged with
// connect.newState "Lunch". "lunch-to-away" matches and decides Salesforce: Away (status id
// 0N5xx0000004D56). "available-to-available" is shadowed. "sf-available" is not considered:
// it listens to another event. When the console reports Away, package presence recognises the
// echo of its own command, and no rule runs for it.
//
// # Example 2: contacts and the mapping fallback
//
// Same rules, plus the mapping row Busy → Salesforce Busy (toSalesforce). The agent is
// Available and answers a call: AgentStatus.Name stays "Available", but the contact is
// CONNECTED, so connect.newState is "Busy" and connect.newStatus "Available". Both Connect
// rules are false (criteria[0]: connect.newState is "Busy"), so the mapping decides Salesforce:
// Busy. When the call ends the contact is ENDED: connect.newState "AfterCallWork", no rule, no
// mapping row: nothing is sent ("no-rule"). When the agent clears the contact,
// connect.newState is "Available" and "available-to-available" sets Salesforce Available.
//
// # Example 3: numbers, all, and absent values
//
// Rule "full-load" (salesforce.workloadChanged, all): salesforce.newWorkloadPct ge 100 and
// salesforce.previousWorkloadPct lt 100 → Connect Break, whileOnContact "ignore". A workload
// change from 3 to 4 with capacity 4 gives 75 → 100: both criteria hold and Connect is set to
// Break, unless the agent is on a Connect contact, in which case the command is dropped
// ("ignored-on-contact"). Without a known capacity the percentages are absent, both criteria
// are false, and nothing is sent; the mapping never applies to workload events.
//
// # Validation and warnings
//
// Compile returns every problem with its JSON path and no Set when there is any; see Compile
// for the list. Set.Warnings reports what does not block saving: static values that name no
// known state, whileOnContact on a Salesforce rule, and status cycles. Cycle detection treats
// every state the bridge can set as a node and follows, for the event that setting it causes,
// the rules whose criteria may hold and the mapping; a simple cycle through four or more states
// (Connect A → Salesforce X → Connect B → Salesforce Y → Connect A) would make the agent's
// status oscillate if an echo were missed, and each rule and mapping row on it is named. A
// two-state cycle (A → X → A) is a consistent pair, not a loop.
package rules
