// The Aura wrapper holds no logic, but its wiring is where a typo would silently drop an
// Omni-Channel event: these tests read the bundle's markup and run its controller (an Aura
// controller is a plain object literal) against a fake component, toolkit and inner LWC.
const fs = require('fs');
const path = require('path');
const { XMLParser } = require('fast-xml-parser');

const bundle = path.join(__dirname, '..');
const markup = fs.readFileSync(path.join(bundle, 'Omnibridge_Console.cmp'), 'utf8');
// eslint-disable-next-line no-new-func
const controller = new Function(`return ${fs.readFileSync(path.join(bundle, 'Omnibridge_ConsoleController.js'), 'utf8')}`)();

const component = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(markup)['aura:component'];
const handlers = [].concat(component['aura:handler']);

function fakeComponent() {
    const omniAPI = {
        setServicePresenceStatus: jest.fn(() => Promise.resolve({ statusId: '0N55e000000ABCE' })),
        logout: jest.fn(() => Promise.resolve(true))
    };
    const workspaceAPI = { openTab: jest.fn(() => Promise.resolve('ctab0')) };
    const inner = { statusChanged: jest.fn(), loggedOut: jest.fn(), workAccepted: jest.fn(), workloadChanged: jest.fn() };
    const attributes = {};
    const cmp = {
        find: (id) => ({ omniToolkit: omniAPI, workspace: workspaceAPI, bridge: inner })[id],
        set: (name, value) => (attributes[name] = value),
        get: (name) => attributes[name]
    };
    return { cmp, omniAPI, workspaceAPI, inner };
}

function fakeEvent(params) {
    return { getParams: () => params, getParam: (name) => params[name] };
}

describe('aura:Omnibridge_Console', () => {
    it('can sit in the utility bar, with the toolkit, the workspace API and the inner LWC', () => {
        expect(component.implements.split(',')).toContain('flexipage:availableForAllPageTypes');
        expect(component['lightning:omniToolkitAPI']).toEqual({ 'aura:id': 'omniToolkit' });
        expect(component['lightning:workspaceAPI']).toEqual({ 'aura:id': 'workspace' });
        expect(component['c:omnibridgeConsole']).toEqual({ 'aura:id': 'bridge', toolkit: '{!v.toolkit}', workspace: '{!v.workspace}' });
        const attributes = [].concat(component['aura:attribute']).map((a) => a.name);
        expect(attributes).toEqual(['toolkit', 'workspace']);
    });

    it('hands the inner LWC an openTab over lightning:workspaceAPI', async () => {
        const { cmp, workspaceAPI } = fakeComponent();
        controller.onInit(cmp);
        await expect(cmp.get('v.workspace').openTab({ recordId: '5005e00000AbCdEAAV', focus: true })).resolves.toBe('ctab0');
        expect(workspaceAPI.openTab).toHaveBeenCalledWith({ recordId: '5005e00000AbCdEAAV', focus: true });
    });

    it("passes the workspace API's rejection through unchanged, so the log names its reason", async () => {
        const { cmp, workspaceAPI } = fakeComponent();
        workspaceAPI.openTab.mockReturnValue(Promise.reject(new Error('Not a console app')));
        controller.onInit(cmp);
        await expect(cmp.get('v.workspace').openTab({ recordId: '5005e00000AbCdEAAV', focus: true })).rejects.toThrow('Not a console app');
    });

    it('handles exactly the Omni-Channel events it forwards, each with a controller action', () => {
        const byEvent = Object.fromEntries(handlers.filter((h) => h.event).map((h) => [h.event, h.action]));
        expect(byEvent).toEqual({
            'lightning:omniChannelStatusChanged': '{!c.onStatusChanged}',
            'lightning:omniChannelLogout': '{!c.onLogout}',
            'lightning:omniChannelWorkAccepted': '{!c.onWorkAccepted}',
            'lightning:omniChannelWorkloadChanged': '{!c.onWorkloadChanged}'
        });
        for (const h of handlers) {
            expect(typeof controller[h.action.replace(/^\{!c\.(\w+)\}$/, '$1')]).toBe('function');
        }
    });

    it('hands the inner LWC a toolkit over lightning:omniToolkitAPI', async () => {
        const { cmp, omniAPI } = fakeComponent();
        controller.onInit(cmp);
        const toolkit = cmp.get('v.toolkit');
        await expect(toolkit.setServicePresenceStatus('0N55e000000ABCE')).resolves.toEqual({ statusId: '0N55e000000ABCE' });
        expect(omniAPI.setServicePresenceStatus).toHaveBeenCalledWith({ statusId: '0N55e000000ABCE' });
        await expect(toolkit.logout()).resolves.toBe(true);
        expect(omniAPI.logout).toHaveBeenCalledTimes(1);
    });

    it("passes the toolkit's rejection through unchanged, so the acknowledgement carries its reason", async () => {
        const { cmp, omniAPI } = fakeComponent();
        omniAPI.setServicePresenceStatus.mockReturnValue(Promise.reject(new Error('Invalid status id')));
        controller.onInit(cmp);
        await expect(cmp.get('v.toolkit').setServicePresenceStatus('0N5x')).rejects.toThrow('Invalid status id');
    });

    it.each([
        ['onStatusChanged', 'statusChanged', { statusId: '0N55e000000ABCD', statusApiName: 'Available', channels: '[]', statusName: 'Available', reason: 'OmniManualStatusChange' }],
        ['onLogout', 'loggedOut', {}],
        ['onWorkAccepted', 'workAccepted', { workItemId: '5005e00000XyZwQ', workId: '0Bz5e000000AbCd' }],
        ['onWorkloadChanged', 'workloadChanged', { configuredCapacity: 10, previousWorkload: 0, newWorkload: 5 }]
    ])('%s forwards the event parameters to the inner LWC', (action, method, params) => {
        const { cmp, inner } = fakeComponent();
        controller[action](cmp, fakeEvent(params));
        expect(inner[method]).toHaveBeenCalledWith(params);
    });
});
