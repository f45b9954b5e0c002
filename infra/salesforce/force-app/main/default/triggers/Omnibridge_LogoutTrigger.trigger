/**
 * Forwards Salesforce UI logouts to the bridge's session webhook. Triggers cannot call out, so
 * the events go to a Queueable. Requires LogoutEventStream streaming (Setup > Event Manager).
 */
trigger Omnibridge_LogoutTrigger on LogoutEventStream (after insert) {
    Omnibridge_SessionSender.enqueue(Omnibridge_SessionEvents.fromLogouts(Trigger.new));
}
