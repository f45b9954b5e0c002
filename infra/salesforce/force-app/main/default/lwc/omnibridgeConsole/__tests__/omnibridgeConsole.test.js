import { createElement } from 'lwc';
import OmnibridgeConsole from 'c/omnibridgeConsole';
import { subscribe, unsubscribe, onError } from 'lightning/empApi';
import sendPresenceEvents from '@salesforce/apex/Omnibridge_ConsoleController.sendPresenceEvents';
import serviceChannelOf from '@salesforce/apex/Omnibridge_ConsoleController.serviceChannelOf';

jest.mock('@salesforce/apex/Omnibridge_ConsoleController.sendPresenceEvents', () => ({ default: jest.fn() }), { virtual: true });
jest.mock('@salesforce/apex/Omnibridge_ConsoleController.serviceChannelOf', () => ({ default: jest.fn() }), { virtual: true });

// The running user (@salesforce/user/Id), as an org would give it; the commands name it in its
// 15-character form below, as an older publisher might.
const RUNNING_USER = '0055e000003AbCdAAK';
jest.mock('@salesforce/user/Id', () => ({ default: '0055e000003AbCdAAK' }), { virtual: true });

function mount(toolkit, workspace = null) {
    const element = createElement('c-omnibridge-console', { is: OmnibridgeConsole });
    element.toolkit = toolkit;
    element.workspace = workspace;
    document.body.appendChild(element);
    return element;
}

function commandMessage(over = {}) {
    return {
        channel: '/event/Omnibridge_Presence_Command__e',
        data: {
            payload: {
                UserId__c: '0055e000003AbCd',
                StatusId__c: '0N55e000000ABCE',
                CommandId__c: '1b7c0e6a2f9d4c3e8a5b6d7e8f9a0b1c',
                Reason__c: '',
                IssuedAt__c: '2030-01-01T00:00:00.000Z',
                ...over
            },
            event: { replayId: 7 }
        }
    };
}

/** The callback the component gave empApi's subscribe for channel. */
function callbackOf(channel) {
    const call = subscribe.mock.calls.find((c) => c[0] === channel);
    return call[2];
}

function deliver(message) {
    return callbackOf('/event/Omnibridge_Presence_Command__e')(message);
}

const POP_TIME = Date.parse('2026-12-07T09:00:00.000Z');

function popMessage(over = {}) {
    return {
        channel: '/event/Omnibridge_Screen_Pop__e',
        data: {
            payload: {
                PopId__c: 'contact-1',
                UserId__c: '0055e000003AbCd',
                RecordId__c: '5005e00000AbCdEAAV',
                ConnectContactId__c: 'contact-1',
                Reason__c: 'call',
                IssuedAt__c: '2026-12-07T08:59:59.500Z',
                ...over
            },
            event: { replayId: 9 }
        }
    };
}

function deliverPop(message) {
    return callbackOf('/event/Omnibridge_Screen_Pop__e')(message);
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('c-omnibridge-console', () => {
    let toolkit;

    beforeEach(() => {
        toolkit = { setServicePresenceStatus: jest.fn(() => Promise.resolve({})), logout: jest.fn(() => Promise.resolve(true)) };
        sendPresenceEvents.mockResolvedValue({ statusCode: 202, body: '{"results":[]}' });
        serviceChannelOf.mockResolvedValue('Case_Channel');
        subscribe.mockImplementation((channel) =>
            Promise.resolve(channel === '/event/Omnibridge_Screen_Pop__e' ? { id: 'sub-2', channel } : { id: 'sub-1', channel }));
    });

    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
        jest.clearAllMocks();
        jest.useRealTimers();
    });

    it('subscribes to the command channel for new events and says so', async () => {
        const element = mount(toolkit);
        await flush();
        expect(subscribe).toHaveBeenCalledWith('/event/Omnibridge_Presence_Command__e', -1, expect.any(Function));
        expect(onError).toHaveBeenCalled();
        expect(element.shadowRoot.querySelector('.status').textContent).toBe('Subscribed to Omnibridge presence commands');
    });

    it('subscribes to the screen pop channel for new events and says so', async () => {
        const element = mount(toolkit);
        await flush();
        expect(subscribe).toHaveBeenCalledWith('/event/Omnibridge_Screen_Pop__e', -1, expect.any(Function));
        expect(element.shadowRoot.querySelector('.pop-status').textContent).toBe('Subscribed to Omnibridge screen pops');
    });

    it("opens the running user's pop in a focused console tab through the wrapper's workspace API", async () => {
        jest.useFakeTimers();
        jest.setSystemTime(POP_TIME);
        const workspace = { openTab: jest.fn(() => Promise.resolve('ctab1')) };
        const element = mount(toolkit, workspace);
        await jest.advanceTimersByTimeAsync(0);
        await expect(deliverPop(popMessage())).resolves.toBe('opened');
        await expect(deliverPop(popMessage())).resolves.toBe('duplicate');
        await expect(deliverPop(popMessage({ PopId__c: 'contact-2', UserId__c: '0055e000004QrStAAK' }))).resolves.toBe('other-user');
        expect(workspace.openTab).toHaveBeenCalledTimes(1);
        expect(workspace.openTab).toHaveBeenCalledWith({ recordId: '5005e00000AbCdEAAV', focus: true });
        expect(element.shadowRoot.querySelector('.activity').textContent).toBe('Opened 5005e00000AbCdEAAV (call)');
        expect(sendPresenceEvents).not.toHaveBeenCalled();
    });

    it('uses a workspace API the wrapper sets after the component started', async () => {
        jest.useFakeTimers();
        jest.setSystemTime(POP_TIME);
        const element = mount(toolkit);
        await jest.advanceTimersByTimeAsync(0);
        const workspace = { openTab: jest.fn(() => Promise.resolve('ctab1')) };
        element.workspace = workspace;
        await expect(deliverPop(popMessage())).resolves.toBe('opened');
        expect(workspace.openTab).toHaveBeenCalledTimes(1);
    });

    it('shows why it could not subscribe', async () => {
        subscribe.mockRejectedValue(new Error('Streaming API is not enabled'));
        jest.spyOn(console, 'error').mockImplementation(() => {});
        const element = mount(toolkit);
        await flush();
        expect(element.shadowRoot.querySelector('.status').textContent).toBe('Not subscribed: Streaming API is not enabled');
        expect(element.shadowRoot.querySelector('.pop-status').textContent).toBe('Screen pops not subscribed: Streaming API is not enabled');
    });

    it('applies a command for the running user through the toolkit and sends the acknowledgement through Apex', async () => {
        jest.useFakeTimers();
        const element = mount(toolkit);
        await jest.advanceTimersByTimeAsync(0);
        await deliver(commandMessage());
        expect(toolkit.setServicePresenceStatus).toHaveBeenCalledWith('0N55e000000ABCE');
        await jest.advanceTimersByTimeAsync(500);
        expect(sendPresenceEvents).toHaveBeenCalledTimes(1);
        const events = JSON.parse(sendPresenceEvents.mock.calls[0][0].eventsJson);
        expect(events).toEqual([expect.objectContaining({ type: 'commandAck', userId: RUNNING_USER, commandId: '1b7c0e6a2f9d4c3e8a5b6d7e8f9a0b1c', result: 'applied' })]);
        expect(element.shadowRoot.querySelector('.activity').textContent).toBe('Command 1b7c0e6a2f9d4c3e8a5b6d7e8f9a0b1c applied');
    });

    it("leaves another user's command alone", async () => {
        jest.useFakeTimers();
        mount(toolkit);
        await jest.advanceTimersByTimeAsync(0);
        await deliver(commandMessage({ UserId__c: '0055e000004QrStAAK' }));
        await jest.advanceTimersByTimeAsync(5000);
        expect(toolkit.setServicePresenceStatus).not.toHaveBeenCalled();
        expect(sendPresenceEvents).not.toHaveBeenCalled();
    });

    it('uses a toolkit the wrapper sets after the component started', async () => {
        jest.useFakeTimers();
        const element = mount(null);
        await jest.advanceTimersByTimeAsync(0);
        element.toolkit = toolkit;
        await deliver(commandMessage({ StatusId__c: 'Offline' }));
        expect(toolkit.logout).toHaveBeenCalledTimes(1);
    });

    it("forwards the console's events the wrapper hands it, in one batch", async () => {
        jest.useFakeTimers();
        const element = mount(toolkit);
        await jest.advanceTimersByTimeAsync(0);
        element.statusChanged({ statusId: '0N55e000000ABCD', statusApiName: 'Available', channels: '[{"channelId":"0N9","developerName":"Case_Channel"}]' });
        await element.workAccepted({ workItemId: '5005e00000XyZwQ', workId: '0Bz5e000000AbCd' });
        element.workloadChanged({ configuredCapacity: 10, previousWorkload: 0, newWorkload: 5 });
        element.loggedOut({});
        await jest.advanceTimersByTimeAsync(500);
        expect(serviceChannelOf).toHaveBeenCalledWith({ workId: '0Bz5e000000AbCd' });
        expect(sendPresenceEvents).toHaveBeenCalledTimes(1);
        const events = JSON.parse(sendPresenceEvents.mock.calls[0][0].eventsJson);
        expect(events.map((e) => e.type)).toEqual(['statusChanged', 'workAccepted', 'workloadChanged', 'logout']);
        expect(events[1].serviceChannel).toBe('Case_Channel');
    });

    it('unsubscribes and stops sending when removed', async () => {
        jest.useFakeTimers();
        const element = mount(toolkit);
        await jest.advanceTimersByTimeAsync(0);
        element.loggedOut({});
        document.body.removeChild(element);
        await jest.advanceTimersByTimeAsync(5000);
        expect(unsubscribe).toHaveBeenCalledWith({ id: 'sub-1', channel: '/event/Omnibridge_Presence_Command__e' });
        expect(unsubscribe).toHaveBeenCalledWith({ id: 'sub-2', channel: '/event/Omnibridge_Screen_Pop__e' });
        expect(sendPresenceEvents).not.toHaveBeenCalled();
    });
});
