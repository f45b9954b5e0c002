import {
    caseSafeId,
    sameId,
    channelNames,
    newEventId,
    parseCommand,
    statusChangedEvent,
    logoutEvent,
    workAcceptedEvent,
    workloadChangedEvent,
    commandAckEvent,
    Outbox,
    PresenceBridge,
    MAX_EVENTS
} from 'c/omnibridgePresence';

// The running user, in both forms: the console may report either.
const USER_18 = '0055e000003AbCdAAK';
const USER_15 = '0055e000003AbCd';
const OTHER_USER = '0055e000004QrStAAK';
const AVAILABLE = '0N55e000000ABCD';
const BUSY = '0N55e000000ABCE';
const T0 = Date.parse('2026-11-21T08:59:58.000Z');

function ids() {
    let n = 0;
    return () => `7c1e2d3f-0a4b-4c5d-9e6f-${String(++n).padStart(12, '0')}`;
}

function command(over = {}) {
    return {
        data: {
            schema: 'x',
            event: { replayId: 1 },
            payload: {
                UserId__c: USER_18,
                StatusId__c: BUSY,
                CommandId__c: '1b7c0e6a2f9d4c3e8a5b6d7e8f9a0b1c',
                Reason__c: 'rule busy-on-call',
                IssuedAt__c: '2026-11-21T08:59:57.900Z',
                ...over
            }
        }
    };
}

function quietLog() {
    return { error: jest.fn(), warn: jest.fn(), log: jest.fn() };
}

/** A bridge on jest's fake clock, with a toolkit and a controller that records what it got. */
function harness({ statusCodes = [202], toolkit, userId = USER_18, ...over } = {}) {
    const sent = [];
    const codes = [...statusCodes];
    const send = jest.fn((eventsJson) => {
        sent.push(JSON.parse(eventsJson));
        const statusCode = codes.length > 1 ? codes.shift() : codes[0];
        if (statusCode instanceof Error) {
            return Promise.reject(statusCode);
        }
        return Promise.resolve({ statusCode, body: statusCode === 202 ? '{"results":[]}' : `{"error":{"code":"x","message":"status ${statusCode}"}}` });
    });
    const tk = toolkit || {
        setServicePresenceStatus: jest.fn(() => Promise.resolve({ statusId: BUSY })),
        logout: jest.fn(() => Promise.resolve(true))
    };
    const log = quietLog();
    const bridge = new PresenceBridge({ userId, toolkit: tk, send, newId: ids(), log, random: () => 1, ...over });
    return { bridge, send, sent, toolkit: tk, log };
}

beforeEach(() => {
    jest.useFakeTimers();
    jest.setSystemTime(T0);
});

afterEach(() => {
    jest.useRealTimers();
});

describe('caseSafeId', () => {
    it.each([
        ['15 characters', USER_15, USER_18],
        ['18 characters', USER_18, USER_18],
        ['18 characters whose case was lost', USER_18.toLowerCase(), USER_18],
        ['an id of digits only', '005000000000001', '005000000000001AAA']
    ])('%s', (_, id, want) => {
        expect(caseSafeId(id)).toBe(want);
    });

    it.each([
        ['null', null],
        ['too short', '0055e000003AbC'],
        ['16 characters', '0055e000003AbCdA'],
        ['punctuation', '0055e000003Ab-dAAK'],
        ['a suffix marking a digit upper case', '005000000000001ZZZ']
    ])('rejects %s', (_, id) => {
        expect(caseSafeId(id)).toBeNull();
    });

    it('compares 15- and 18-character ids as the same user', () => {
        expect(sameId(USER_15, USER_18)).toBe(true);
        expect(sameId(USER_18.toUpperCase(), USER_15)).toBe(true);
        expect(sameId(USER_15, OTHER_USER)).toBe(false);
        expect(sameId('0055e000003abcd', USER_18)).toBe(false); // 15-character ids are case-sensitive
        expect(sameId(undefined, undefined)).toBe(false);
    });
});

describe('event builders', () => {
    const base = { id: 'e1', userId: USER_18, time: T0 };

    it('read the toolkit channels as a JSON string or a list', () => {
        expect(channelNames('[{"channelId":"0N9x","developerName":"Case_Channel"}]')).toEqual(['Case_Channel']);
        expect(channelNames([{ developerName: 'sfdc_phone' }])).toEqual(['sfdc_phone']);
        expect(channelNames(undefined)).toBeNull();
        expect(() => channelNames('{}')).toThrow('channels must be a list');
    });

    it('leave out optional fields that are unset', () => {
        expect(statusChangedEvent(base, { statusId: AVAILABLE, statusApiName: 'Available' })).toEqual({
            id: 'e1', type: 'statusChanged', userId: USER_18, time: '2026-11-21T08:59:58.000Z', statusId: AVAILABLE, statusDeveloperName: 'Available'
        });
        expect(logoutEvent(base)).toEqual({ id: 'e1', type: 'logout', userId: USER_18, time: '2026-11-21T08:59:58.000Z' });
        expect(commandAckEvent(base, 'c1', 'applied', null)).not.toHaveProperty('reason');
    });

    it('accept the workload figures the toolkit documents as strings', () => {
        expect(workloadChangedEvent(base, { configuredCapacity: '10', previousWorkload: '0', newWorkload: 5 })).toMatchObject({
            configuredCapacity: 10, previousWorkload: 0, newWorkload: 5
        });
    });

    it.each([
        ['a status without its API name', () => statusChangedEvent(base, { statusId: AVAILABLE }), 'statusApiName'],
        ['a status without an id', () => statusChangedEvent(base, { statusApiName: 'Available' }), 'statusId'],
        ['work without a channel', () => workAcceptedEvent(base, { workItemId: '5005e00000XyZwQ', serviceChannel: null }), 'serviceChannel'],
        ['work without an item', () => workAcceptedEvent(base, { serviceChannel: 'Case_Channel' }), 'workItemId'],
        ['a negative workload', () => workloadChangedEvent(base, { configuredCapacity: 10, previousWorkload: -1, newWorkload: 0 }), 'previousWorkload'],
        ['a workload that is no number', () => workloadChangedEvent(base, { configuredCapacity: 'ten', previousWorkload: 0, newWorkload: 0 }), 'configuredCapacity']
    ])('refuse %s, naming the field', (_, build, field) => {
        expect(build).toThrow(field);
    });

    it('cap an acknowledgement reason at the contract maximum', () => {
        expect(commandAckEvent(base, 'c1', 'failed', 'x'.repeat(1200)).reason).toHaveLength(1000);
    });

    it('make event ids the contract accepts, each different', () => {
        const a = newEventId();
        expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(newEventId()).not.toBe(a);
    });
});

describe('parseCommand', () => {
    it('reads a command', () => {
        expect(parseCommand(command().data.payload)).toEqual({
            commandId: '1b7c0e6a2f9d4c3e8a5b6d7e8f9a0b1c',
            command: {
                commandId: '1b7c0e6a2f9d4c3e8a5b6d7e8f9a0b1c', statusId: BUSY, offline: false,
                issuedAt: Date.parse('2026-11-21T08:59:57.900Z'), issuedAtText: '2026-11-21T08:59:57.900Z', reason: 'rule busy-on-call'
            }
        });
    });

    it.each(['Offline', '0'])('reads StatusId__c %s as a logout', (status) => {
        expect(parseCommand(command({ StatusId__c: status }).data.payload).command).toMatchObject({ offline: true, statusId: null });
    });

    it.each([
        ['no command id', { CommandId__c: undefined }, 'CommandId__c', false],
        ['a status that is no presence status id', { StatusId__c: '005000000000001' }, 'StatusId__c', true],
        ['no status', { StatusId__c: '' }, 'StatusId__c', true],
        ['an issue time that is no time', { IssuedAt__c: 'yesterday' }, 'IssuedAt__c', true],
        ['an issue time without a zone', { IssuedAt__c: '2026-11-21T08:59:57.900' }, 'IssuedAt__c', true]
    ])('names the problem with %s', (_, over, field, ackable) => {
        const got = parseCommand(command(over).data.payload);
        expect(got.command).toBeUndefined();
        expect(got.problem).toContain(field);
        expect(Boolean(got.commandId)).toBe(ackable);
    });
});

describe('PresenceBridge commands', () => {
    it('applies a command for the running user and acknowledges it', async () => {
        const h = harness();
        await h.bridge.handleCommand(command());
        expect(h.toolkit.setServicePresenceStatus).toHaveBeenCalledWith(BUSY);
        await jest.advanceTimersByTimeAsync(500);
        expect(h.sent).toEqual([[expect.objectContaining({ type: 'commandAck', commandId: '1b7c0e6a2f9d4c3e8a5b6d7e8f9a0b1c', result: 'applied' })]]);
    });

    it.each([
        ['the 18-character id, running user known by 15', USER_18, USER_15],
        ['the 15-character id, running user known by 18', USER_15, USER_18],
        ['an 18-character id whose case was lost', USER_18.toLowerCase(), USER_15]
    ])('recognises the running user in %s', async (_, commandUser, runningUser) => {
        const h = harness({ userId: runningUser });
        await h.bridge.handleCommand(command({ UserId__c: commandUser }));
        expect(h.toolkit.setServicePresenceStatus).toHaveBeenCalledTimes(1);
    });

    it.each([
        ['another agent', OTHER_USER],
        ['a user id differing only in case (15 characters)', '0055e000003abcd'],
        ['no user', undefined]
    ])("ignores %s's commands, without acknowledging", async (_, user) => {
        const h = harness();
        await h.bridge.handleCommand(command({ UserId__c: user }));
        await jest.advanceTimersByTimeAsync(5000);
        expect(h.toolkit.setServicePresenceStatus).not.toHaveBeenCalled();
        expect(h.send).not.toHaveBeenCalled();
    });

    it('logs out for Offline', async () => {
        const h = harness();
        await h.bridge.handleCommand(command({ StatusId__c: 'Offline' }));
        expect(h.toolkit.logout).toHaveBeenCalledTimes(1);
        expect(h.toolkit.setServicePresenceStatus).not.toHaveBeenCalled();
    });

    it('applies a command at most once: a replayed event does nothing', async () => {
        const h = harness();
        await h.bridge.handleCommand(command());
        await h.bridge.handleCommand(command());
        await h.bridge.handleCommand(command({ StatusId__c: AVAILABLE })); // same id, other content
        await jest.advanceTimersByTimeAsync(500);
        expect(h.toolkit.setServicePresenceStatus).toHaveBeenCalledTimes(1);
        expect(h.sent.flat().filter((e) => e.type === 'commandAck')).toHaveLength(1);
    });

    it('does not apply again a command it refused', async () => {
        const h = harness();
        await h.bridge.handleCommand(command({ StatusId__c: 'bogus' }));
        await h.bridge.handleCommand(command());
        await jest.advanceTimersByTimeAsync(500);
        expect(h.toolkit.setServicePresenceStatus).not.toHaveBeenCalled();
        expect(h.sent.flat()).toEqual([expect.objectContaining({ type: 'commandAck', result: 'failed', reason: expect.stringContaining('StatusId__c') })]);
    });

    it('logs a command without a usable id and cannot acknowledge it', async () => {
        const h = harness();
        await h.bridge.handleCommand(command({ CommandId__c: 'not an id!' }));
        await jest.advanceTimersByTimeAsync(500);
        expect(h.send).not.toHaveBeenCalled();
        expect(h.log.error).toHaveBeenCalledWith(expect.stringContaining('CommandId__c'));
    });

    it("acknowledges a failure with the toolkit's reason", async () => {
        const toolkit = {
            setServicePresenceStatus: jest.fn(() => Promise.reject(new Error('Agent does not have access to the presence status'))),
            logout: jest.fn(() => Promise.resolve(false))
        };
        const h = harness({ toolkit });
        await h.bridge.handleCommand(command());
        await h.bridge.handleCommand(command({ CommandId__c: 'c2', StatusId__c: 'Offline', IssuedAt__c: '2026-11-21T08:59:57.950Z' }));
        await jest.advanceTimersByTimeAsync(500);
        expect(h.sent.flat().map((e) => [e.commandId, e.result, e.reason])).toEqual([
            ['1b7c0e6a2f9d4c3e8a5b6d7e8f9a0b1c', 'failed', 'Agent does not have access to the presence status'],
            ['c2', 'failed', 'Omni-Channel logout returned false']
        ]);
    });

    it('fails a command when the console has no toolkit', async () => {
        const h = harness({ toolkit: null });
        h.bridge.toolkit = null;
        await h.bridge.handleCommand(command());
        await jest.advanceTimersByTimeAsync(500);
        expect(h.sent.flat()[0]).toMatchObject({ result: 'failed', reason: expect.stringContaining('toolkit is not available') });
    });

    it('applies commands one at a time, in arrival order', async () => {
        const calls = [];
        let release;
        const toolkit = {
            setServicePresenceStatus: jest.fn((id) => {
                calls.push(id);
                return id === BUSY ? new Promise((r) => (release = r)) : Promise.resolve();
            }),
            logout: jest.fn()
        };
        const h = harness({ toolkit });
        h.bridge.handleCommand(command());
        const second = h.bridge.handleCommand(command({ CommandId__c: 'c2', StatusId__c: AVAILABLE, IssuedAt__c: '2026-11-21T08:59:57.950Z' }));
        await Promise.resolve();
        expect(calls).toEqual([BUSY]);
        release();
        await second;
        expect(calls).toEqual([BUSY, AVAILABLE]);
    });
});

describe('PresenceBridge ordering', () => {
    it('ignores a command older than the last one applied, acknowledging it as stale', async () => {
        const h = harness();
        await h.bridge.handleCommand(command({ CommandId__c: 'new', IssuedAt__c: '2026-11-21T08:59:57.900Z' }));
        await h.bridge.handleCommand(command({ CommandId__c: 'old', StatusId__c: AVAILABLE, IssuedAt__c: '2026-11-21T08:59:57.899Z' }));
        await jest.advanceTimersByTimeAsync(500);
        expect(h.toolkit.setServicePresenceStatus).toHaveBeenCalledTimes(1);
        expect(h.sent.flat().map((e) => [e.commandId, e.result])).toEqual([['new', 'applied'], ['old', 'failed']]);
        expect(h.sent.flat()[1].reason).toBe('stale: issued at 2026-11-21T08:59:57.899Z, before the status the console shows (since 2026-11-21T08:59:57.900Z)');
    });

    it('applies a command issued at the same millisecond as the status shown', async () => {
        const h = harness();
        await h.bridge.handleCommand(command({ CommandId__c: 'a' }));
        await h.bridge.handleCommand(command({ CommandId__c: 'b', StatusId__c: AVAILABLE }));
        expect(h.toolkit.setServicePresenceStatus).toHaveBeenCalledTimes(2);
    });

    it("ignores a command issued before the agent's own status change", async () => {
        const h = harness();
        jest.setSystemTime(Date.parse('2026-11-21T08:59:58.000Z'));
        h.bridge.statusChanged({ statusId: AVAILABLE, statusApiName: 'Available', reason: 'OmniManualStatusChange' });
        await h.bridge.handleCommand(command({ IssuedAt__c: '2026-11-21T08:59:57.999Z' }));
        await h.bridge.handleCommand(command({ CommandId__c: 'later', IssuedAt__c: '2026-11-21T08:59:58.001Z' }));
        expect(h.toolkit.setServicePresenceStatus).toHaveBeenCalledTimes(1);
        await jest.advanceTimersByTimeAsync(500);
        expect(h.sent.flat().map((e) => [e.type, e.commandId, e.result])).toEqual([
            ['statusChanged', undefined, undefined],
            ['commandAck', '1b7c0e6a2f9d4c3e8a5b6d7e8f9a0b1c', 'failed'],
            ['commandAck', 'later', 'applied']
        ]);
    });

    it("marks the toolkit's echo of a command with the command id, and does not count it as the agent's change", async () => {
        const h = harness();
        const toolkit = h.toolkit;
        toolkit.setServicePresenceStatus.mockImplementation((id) => {
            // Omni-Channel fires the status event while the call is under way.
            h.bridge.statusChanged({ statusId: id, statusApiName: 'Busy', channels: '[]', reason: 'OmniToolkitStatusChange' });
            return Promise.resolve({ statusId: id });
        });
        jest.setSystemTime(Date.parse('2026-11-21T08:59:59.000Z')); // the console clock is past both commands
        await h.bridge.handleCommand(command({ CommandId__c: 'c1', IssuedAt__c: '2026-11-21T08:59:57.000Z' }));
        await h.bridge.handleCommand(command({ CommandId__c: 'c2', StatusId__c: AVAILABLE, IssuedAt__c: '2026-11-21T08:59:57.500Z' }));
        await jest.advanceTimersByTimeAsync(500);
        expect(toolkit.setServicePresenceStatus).toHaveBeenCalledTimes(2);
        expect(h.sent.flat().map((e) => [e.type, e.commandId, e.result])).toEqual([
            ['statusChanged', 'c1', undefined],
            ['commandAck', 'c1', 'applied'],
            ['statusChanged', 'c2', undefined],
            ['commandAck', 'c2', 'applied']
        ]);
    });

    it('expects the echo for a short time after applying, then treats changes as the agent’s', async () => {
        const h = harness();
        await h.bridge.handleCommand(command({ CommandId__c: 'c1' }));
        await jest.advanceTimersByTimeAsync(2000);
        h.bridge.statusChanged({ statusId: caseSafeId(BUSY), statusApiName: 'Busy' }); // 18-character form
        await jest.advanceTimersByTimeAsync(11000);
        h.bridge.statusChanged({ statusId: BUSY, statusApiName: 'Busy' });
        await jest.advanceTimersByTimeAsync(500);
        const changes = h.sent.flat().filter((e) => e.type === 'statusChanged');
        expect(changes.map((e) => e.commandId)).toEqual(['c1', undefined]);
    });

    it('marks the logout that applies an Offline command', async () => {
        const h = harness();
        h.toolkit.logout.mockImplementation(() => Promise.resolve(true));
        await h.bridge.handleCommand(command({ CommandId__c: 'off', StatusId__c: 'Offline' }));
        h.bridge.loggedOut({});
        await jest.advanceTimersByTimeAsync(500);
        expect(h.sent.flat().map((e) => [e.type, e.commandId])).toEqual([['commandAck', 'off'], ['logout', 'off']]);
    });
});

describe('PresenceBridge console events', () => {
    it('forwards accepted work with the channel it came on', async () => {
        const serviceChannelOf = jest.fn(() => Promise.resolve('Case_Channel'));
        const h = harness({ serviceChannelOf });
        await h.bridge.workAccepted({ workItemId: '5005e00000XyZwQ', workId: '0Bz5e000000AbCd' });
        await jest.advanceTimersByTimeAsync(500);
        expect(serviceChannelOf).toHaveBeenCalledWith('0Bz5e000000AbCd');
        expect(h.sent.flat()).toEqual([expect.objectContaining({ type: 'workAccepted', workItemId: '5005e00000XyZwQ', serviceChannel: 'Case_Channel' })]);
    });

    it.each([
        ['the lookup finds nothing', () => Promise.resolve(null)],
        ['the lookup fails', () => Promise.reject({ body: { message: 'insufficient access' } })]
    ])('logs accepted work it cannot complete when %s, and sends nothing', async (_, lookup) => {
        const h = harness({ serviceChannelOf: jest.fn(lookup) });
        await h.bridge.workAccepted({ workItemId: '5005e00000XyZwQ', workId: '0Bz5e000000AbCd' });
        await jest.advanceTimersByTimeAsync(500);
        expect(h.send).not.toHaveBeenCalled();
        expect(h.log.error).toHaveBeenCalledWith(expect.stringContaining('serviceChannel'));
    });

    it('logs a status event it cannot turn into a contract event', async () => {
        const h = harness();
        h.bridge.statusChanged({ statusId: AVAILABLE });
        await jest.advanceTimersByTimeAsync(500);
        expect(h.send).not.toHaveBeenCalled();
        expect(h.log.error).toHaveBeenCalledWith(expect.stringContaining('statusApiName'));
    });
});

describe('Outbox batching', () => {
    it('sends the events of one window in one batch, and later ones in the next', async () => {
        const h = harness();
        h.bridge.workloadChanged({ configuredCapacity: 10, previousWorkload: 0, newWorkload: 5 });
        await jest.advanceTimersByTimeAsync(200);
        h.bridge.statusChanged({ statusId: AVAILABLE, statusApiName: 'Available' });
        await jest.advanceTimersByTimeAsync(299);
        expect(h.send).not.toHaveBeenCalled();
        await jest.advanceTimersByTimeAsync(1);
        expect(h.sent.map((b) => b.map((e) => e.type))).toEqual([['workloadChanged', 'statusChanged']]);
        h.bridge.loggedOut();
        await jest.advanceTimersByTimeAsync(500);
        expect(h.sent.map((b) => b.map((e) => e.type))).toEqual([['workloadChanged', 'statusChanged'], ['logout']]);
    });

    it('keeps batches within the contract: 500 events at most', async () => {
        const sent = [];
        const outbox = new Outbox({ send: (json) => (sent.push(JSON.parse(json)), Promise.resolve({ statusCode: 202, body: '{}' })), log: quietLog() });
        for (let i = 0; i < MAX_EVENTS + 20; i++) {
            outbox.add({ id: `e${i}`, type: 'logout' });
        }
        await jest.advanceTimersByTimeAsync(500);
        expect(sent.map((b) => b.length)).toEqual([MAX_EVENTS, 20]);
        expect(sent.flat().map((e) => e.id)).toEqual(Array.from({ length: MAX_EVENTS + 20 }, (_, i) => `e${i}`));
    });

    it('keeps batches within the contract: 256 KiB with the envelope', async () => {
        const sent = [];
        const outbox = new Outbox({ send: (json) => (sent.push(json), Promise.resolve({ statusCode: 202, body: '{}' })), log: quietLog() });
        for (let i = 0; i < 3; i++) {
            outbox.add({ id: `e${i}`, type: 'commandAck', reason: 'é'.repeat(50000) }); // 100 kB of UTF-8 each
        }
        await jest.advanceTimersByTimeAsync(500);
        expect(sent.map((b) => JSON.parse(b).length)).toEqual([2, 1]);
        for (const b of sent) {
            expect(Buffer.byteLength(b) + 256).toBeLessThanOrEqual(262144);
        }
    });

    it('holds events that come while a batch is in flight for the next batch', async () => {
        let answer;
        const sent = [];
        const outbox = new Outbox({ send: (json) => (sent.push(JSON.parse(json)), new Promise((r) => (answer = r))), log: quietLog() });
        outbox.add({ id: 'a' });
        await jest.advanceTimersByTimeAsync(500);
        outbox.add({ id: 'b' });
        outbox.add({ id: 'c' });
        await jest.advanceTimersByTimeAsync(5000);
        expect(sent).toHaveLength(1);
        answer({ statusCode: 202, body: '{}' });
        await jest.advanceTimersByTimeAsync(0);
        expect(sent.map((b) => b.map((e) => e.id))).toEqual([['a'], ['b', 'c']]);
    });

    it('logs the events a 202 reports as rejected', async () => {
        const log = quietLog();
        const body = '{"results":[{"index":0,"id":"a","type":"logout","outcome":"applied"},{"index":1,"id":"b","type":"logout","outcome":"rejected","detail":"unknown user"}]}';
        const outbox = new Outbox({ send: () => Promise.resolve({ statusCode: 202, body }), log });
        outbox.add({ id: 'a', type: 'logout' });
        outbox.add({ id: 'b', type: 'logout' });
        await jest.advanceTimersByTimeAsync(500);
        expect(log.error).toHaveBeenCalledTimes(1);
        expect(log.error).toHaveBeenCalledWith('Omnibridge: the bridge rejected logout b: unknown user');
    });
});

describe('Outbox retries', () => {
    it.each([
        ['a 503', 503],
        ['a timeout (status 0)', 0],
        ['a 429', 429],
        ['a rejected Apex call', new Error('Disconnected or Canceled')]
    ])('sends the same batch again after %s, with exponential backoff, each time through the controller', async (_, failure) => {
        const h = harness({ statusCodes: [failure, failure, failure, 202] });
        h.bridge.loggedOut();
        await jest.advanceTimersByTimeAsync(500);
        expect(h.send).toHaveBeenCalledTimes(1);
        await jest.advanceTimersByTimeAsync(999);
        expect(h.send).toHaveBeenCalledTimes(1);
        await jest.advanceTimersByTimeAsync(1); // 1 s after the first failure
        expect(h.send).toHaveBeenCalledTimes(2);
        await jest.advanceTimersByTimeAsync(1999);
        expect(h.send).toHaveBeenCalledTimes(2);
        await jest.advanceTimersByTimeAsync(1); // then 2 s
        expect(h.send).toHaveBeenCalledTimes(3);
        await jest.advanceTimersByTimeAsync(4000); // then 4 s
        expect(h.send).toHaveBeenCalledTimes(4);
        await jest.advanceTimersByTimeAsync(60000);
        expect(h.send).toHaveBeenCalledTimes(4);
        expect(new Set(h.send.mock.calls.map((c) => c[0])).size).toBe(1); // the very same batch
        expect(h.log.error).not.toHaveBeenCalled();
    });

    it('caps the backoff, jitters it, and gives up after the last attempt, logging it', async () => {
        const log = quietLog();
        const send = jest.fn(() => Promise.resolve({ statusCode: 503, body: 'busy' }));
        const outbox = new Outbox({ send, log, baseDelayMs: 1000, maxDelayMs: 4000, maxAttempts: 5, random: () => 0 });
        expect([1, 2, 3, 4, 5].map((n) => outbox.backoff(n))).toEqual([500, 1000, 2000, 2000, 2000]);
        outbox.add({ id: 'a' });
        await jest.advanceTimersByTimeAsync(500 + 500 + 1000 + 2000 + 2000);
        expect(send).toHaveBeenCalledTimes(5);
        expect(log.error).toHaveBeenCalledWith('Omnibridge: presence batch of 1 dropped after 5 attempts; last answer 503: busy');
        await jest.advanceTimersByTimeAsync(60000);
        expect(send).toHaveBeenCalledTimes(5);
    });

    it.each([400, 401, 413, 415])('logs a %i to the console and does not retry', async (status) => {
        const h = harness({ statusCodes: [status, 202] });
        h.bridge.loggedOut();
        await jest.advanceTimersByTimeAsync(500);
        await jest.advanceTimersByTimeAsync(120000);
        expect(h.send).toHaveBeenCalledTimes(1);
        expect(h.log.error).toHaveBeenCalledWith(expect.stringContaining(`refused a presence batch of 1 with ${status}, not retried`));
        h.bridge.workloadChanged({ configuredCapacity: 1, previousWorkload: 0, newWorkload: 1 });
        await jest.advanceTimersByTimeAsync(500);
        expect(h.send).toHaveBeenCalledTimes(2); // the next batch still goes
    });

    it('sends nothing more once closed', async () => {
        const h = harness({ statusCodes: [503] });
        h.bridge.loggedOut();
        await jest.advanceTimersByTimeAsync(500);
        h.bridge.close();
        h.bridge.loggedOut();
        await jest.advanceTimersByTimeAsync(120000);
        expect(h.send).toHaveBeenCalledTimes(1);
    });
});
