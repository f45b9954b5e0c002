import { decidePop, ScreenPopper, SCREEN_POP_CHANNEL, MAX_POP_AGE_MS } from 'c/omnibridgeScreenPop';

const USER_18 = '0055e000003AbCdAAK';
const USER_15 = '0055e000003AbCd';
const OTHER_USER = '0055e000004QrStAAK';
const CASE_18 = '5005e00000AbCdEAAV';
const NOW = Date.parse('2026-12-07T09:00:00.000Z');

/** An empApi message of the screen pop channel, as shared/screenpop publishes it. */
function popMessage(over = {}) {
    return {
        channel: SCREEN_POP_CHANNEL,
        data: {
            schema: 'x',
            event: { replayId: 3 },
            payload: {
                PopId__c: '4d1ba2f8-8d2b-4b5e-9f66-0c4c1d2e3f40:case-routed',
                UserId__c: USER_18,
                RecordId__c: CASE_18,
                ConnectContactId__c: '4d1ba2f8-8d2b-4b5e-9f66-0c4c1d2e3f40',
                Reason__c: 'case-routed',
                IssuedAt__c: '2026-12-07T08:59:59.250Z',
                ...over
            }
        }
    };
}

function harness({ userId = USER_18, openTab = jest.fn(() => Promise.resolve('tab-1')), workspace } = {}) {
    const log = { error: jest.fn(), warn: jest.fn(), log: jest.fn() };
    const onActivity = jest.fn();
    const ws = workspace === undefined ? { openTab } : workspace;
    const popper = new ScreenPopper({ userId, workspace: ws, now: () => NOW, log, onActivity });
    return { popper, openTab, log, onActivity };
}

describe('decidePop', () => {
    const decide = (message, userId = USER_18) => decidePop(message, { userId, now: NOW, seen: new Set() });

    it("opens the running user's fresh pop, naming the record in its 18-character form", () => {
        expect(decide(popMessage({ RecordId__c: CASE_18.slice(0, 15) }))).toEqual({
            action: 'open',
            pop: { popId: '4d1ba2f8-8d2b-4b5e-9f66-0c4c1d2e3f40:case-routed', recordId: CASE_18, connectContactId: '4d1ba2f8-8d2b-4b5e-9f66-0c4c1d2e3f40', reason: 'case-routed', issuedAt: NOW - 750 }
        });
    });

    it.each([
        ['a 15-character pop for an 18-character user', USER_15, USER_18],
        ['an 18-character pop for a 15-character user', USER_18, USER_15],
        ['an 18-character id whose case was lost', USER_18.toLowerCase(), USER_18]
    ])('matches %s', (_, popUser, runningUser) => {
        expect(decide(popMessage({ UserId__c: popUser }), runningUser).action).toBe('open');
    });

    it("ignores another user's pop without logging", () => {
        expect(decide(popMessage({ UserId__c: OTHER_USER }))).toEqual({ action: 'ignore', why: 'other-user', log: false });
        // Two 15-character ids that differ only in case are different users.
        expect(decide(popMessage({ UserId__c: '0055e000003abcd' }), USER_15).why).toBe('other-user');
    });

    it.each([
        ['exactly 60 s old', '2026-12-07T08:59:00.000Z', 'open'],
        ['60.001 s old', '2026-12-07T08:58:59.999Z', 'stale'],
        ['an hour old', '2026-12-07T08:00:00.000Z', 'stale'],
        ['60 s ahead', '2026-12-07T09:01:00.000Z', 'open'],
        ['60.001 s ahead', '2026-12-07T09:01:00.001Z', 'future'],
        ['a day ahead', '2026-12-08T09:00:00.000Z', 'future'],
        ['in another zone, 30 s old', '2026-12-07T09:59:30.000+01:00', 'open']
    ])('a pop issued %s: %s', (_, issuedAt, want) => {
        const d = decide(popMessage({ IssuedAt__c: issuedAt }));
        expect(d.action === 'open' ? 'open' : d.why).toBe(want);
        if (d.action === 'ignore') {
            expect(d.log).toBe(true);
            expect(d.detail).toContain(issuedAt);
        }
    });

    it.each([
        ['no payload', { data: {} }, 'has no payload'],
        ['no message', null, 'has no payload'],
        ['no user', popMessage({ UserId__c: undefined }), 'UserId__c'],
        ['a user that is no id', popMessage({ UserId__c: 'jdoe' }), 'UserId__c'],
        ['no pop id', popMessage({ PopId__c: '' }), 'PopId__c'],
        ['a pop id over 255 characters', popMessage({ PopId__c: 'p'.repeat(256) }), 'PopId__c'],
        ['no record', popMessage({ RecordId__c: null }), 'RecordId__c'],
        ['a record that is no id', popMessage({ RecordId__c: '5005e00000AbCdEAAV!' }), 'RecordId__c'],
        ['no issue time', popMessage({ IssuedAt__c: undefined }), 'IssuedAt__c'],
        ['an issue time without a zone', popMessage({ IssuedAt__c: '2026-12-07T08:59:59.250' }), 'IssuedAt__c'],
        ['an issue time that is no date', popMessage({ IssuedAt__c: '2026-13-45T99:00:00Z' }), 'IssuedAt__c']
    ])('rejects a pop with %s, to be logged', (_, message, field) => {
        const d = decide(message);
        expect(d).toMatchObject({ action: 'ignore', why: 'invalid', log: true });
        expect(d.detail).toContain(field);
    });

    it('opens optional fields as empty when the bridge left them out', () => {
        const d = decide(popMessage({ ConnectContactId__c: null, Reason__c: undefined }));
        expect(d.pop).toMatchObject({ connectContactId: '', reason: '' });
    });

    it('ignores a pop id already seen', () => {
        const seen = new Set(['4d1ba2f8-8d2b-4b5e-9f66-0c4c1d2e3f40:case-routed']);
        expect(decidePop(popMessage(), { userId: USER_18, now: NOW, seen })).toEqual({ action: 'ignore', why: 'duplicate', log: false });
    });
});

describe('ScreenPopper', () => {
    it('opens the record in a focused console tab and says so', async () => {
        const { popper, openTab, onActivity, log } = harness();
        await expect(popper.handlePop(popMessage())).resolves.toBe('opened');
        expect(openTab).toHaveBeenCalledWith({ recordId: CASE_18, focus: true });
        expect(onActivity).toHaveBeenCalledWith(`Opened ${CASE_18} (case-routed)`);
        expect(log.error).not.toHaveBeenCalled();
    });

    it('opens each pop id once, even when the second arrives while the first is opening', async () => {
        let finish;
        const openTab = jest.fn(() => Promise.resolve('tab-2'));
        openTab.mockImplementationOnce(() => new Promise((resolve) => (finish = resolve)));
        const { popper } = harness({ openTab });
        const first = popper.handlePop(popMessage());
        await expect(popper.handlePop(popMessage())).resolves.toBe('duplicate');
        finish('tab-1');
        await expect(first).resolves.toBe('opened');
        await expect(popper.handlePop(popMessage({ RecordId__c: '5005e00000AbCdFAAV' }))).resolves.toBe('duplicate');
        expect(openTab).toHaveBeenCalledTimes(1);
        await expect(popper.handlePop(popMessage({ PopId__c: 'call-2', Reason__c: 'call' }))).resolves.toBe('opened');
        expect(openTab).toHaveBeenCalledTimes(2);
    });

    it("leaves other users' pops alone without a log line", async () => {
        const { popper, openTab, log } = harness();
        await expect(popper.handlePop(popMessage({ UserId__c: OTHER_USER }))).resolves.toBe('other-user');
        expect(openTab).not.toHaveBeenCalled();
        expect(log.warn).not.toHaveBeenCalled();
    });

    it.each([
        ['stale', { IssuedAt__c: '2026-12-07T08:58:00.000Z' }],
        ['future', { IssuedAt__c: '2026-12-07T09:05:00.000Z' }],
        ['invalid', { RecordId__c: undefined }]
    ])('does not open a %s pop, and logs why', async (why, over) => {
        const { popper, openTab, log } = harness();
        await expect(popper.handlePop(popMessage(over))).resolves.toBe(why);
        expect(openTab).not.toHaveBeenCalled();
        expect(log.warn).toHaveBeenCalledWith(expect.stringContaining(`screen pop ignored (${why})`));
    });

    it('does not remember a stale pop, so nothing about it changes later pops', async () => {
        const { popper } = harness();
        await popper.handlePop(popMessage({ IssuedAt__c: '2026-12-07T08:58:00.000Z' }));
        expect(popper.seen.size).toBe(0);
    });

    it('logs a failed openTab and neither throws nor opens it again', async () => {
        const openTab = jest.fn(() => Promise.reject(new Error('Invalid recordId')));
        const { popper, log, onActivity } = harness({ openTab });
        await expect(popper.handlePop(popMessage())).resolves.toBe('failed');
        expect(log.error).toHaveBeenCalledWith(expect.stringContaining(`could not open ${CASE_18}: Invalid recordId`));
        expect(onActivity).toHaveBeenCalledWith(`Could not open ${CASE_18}: Invalid recordId`);
        await expect(popper.handlePop(popMessage())).resolves.toBe('duplicate');
        expect(openTab).toHaveBeenCalledTimes(1);
    });

    it('logs a pop it cannot open outside a console (no workspace API)', async () => {
        const { popper, log } = harness({ workspace: null });
        await expect(popper.handlePop(popMessage())).resolves.toBe('failed');
        expect(log.error).toHaveBeenCalledWith(expect.stringContaining('workspace API is not available'));
    });

    it('uses a workspace API set after it started', async () => {
        const { popper } = harness({ workspace: null });
        const openTab = jest.fn(() => Promise.resolve('tab-1'));
        popper.workspace = { openTab };
        await expect(popper.handlePop(popMessage())).resolves.toBe('opened');
        expect(openTab).toHaveBeenCalledTimes(1);
    });

    it('forgets the oldest pop ids beyond the last 1,000', async () => {
        const { popper } = harness();
        for (let i = 0; i < 1001; i++) {
            // eslint-disable-next-line no-await-in-loop
            await popper.handlePop(popMessage({ PopId__c: `pop-${i}` }));
        }
        expect(popper.seen.size).toBe(1000);
        expect(popper.seen.has('pop-0')).toBe(false);
        expect(popper.seen.has('pop-1000')).toBe(true);
    });

    it('shares its age limit with the bridge (shared/screenpop.MaxAge, one minute)', () => {
        expect(MAX_POP_AGE_MS).toBe(60 * 1000);
    });
});
