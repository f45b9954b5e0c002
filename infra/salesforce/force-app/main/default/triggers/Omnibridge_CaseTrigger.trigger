/**
 * Sends new Cases (case.created) and owner changes (case.owner_changed) to the bridge's case webhook.
 * Omnibridge_CaseEvents decides what to send (nothing for the integration user's changes);
 * triggers cannot call out, so the events go to a Queueable (Omnibridge_CaseSender).
 */
trigger Omnibridge_CaseTrigger on Case (after insert, after update) {
    Omnibridge_CaseSender.enqueue(Omnibridge_CaseEvents.fromCases(Trigger.new, Trigger.oldMap));
}
