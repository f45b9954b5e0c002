// The metadata the bridge writes through the REST API (case routing's Case fields, call logging's
// Omnibridge_Call_Log__c) and the permission sets that let it: checked against the names, types
// and grants the bridge's code relies on (CONTRACTS-11-12), since no org is there to refuse a
// wrong field at deploy time.
const fs = require('fs');
const path = require('path');
const { XMLParser } = require('fast-xml-parser');

const root = path.resolve(__dirname, '../../force-app/main/default');
const parser = new XMLParser({ parseTagValue: false, isArray: (name) => ['value', 'fieldPermissions', 'objectPermissions', 'userPermissions'].includes(name) });

function read(rel) {
    return parser.parse(fs.readFileSync(path.join(root, rel), 'utf8'));
}

function field(object, name) {
    const f = read(`objects/${object}/fields/${name}.field-meta.xml`).CustomField;
    expect(f.fullName).toBe(name);
    return f;
}

function permissionSet(name) {
    const ps = read(`permissionsets/${name}.permissionset-meta.xml`).PermissionSet;
    const fields = Object.fromEntries((ps.fieldPermissions || []).map((p) => [p.field, { readable: p.readable === 'true', editable: p.editable === 'true' }]));
    const objects = Object.fromEntries((ps.objectPermissions || []).map((o) => [o.object, {
        create: o.allowCreate === 'true', read: o.allowRead === 'true', edit: o.allowEdit === 'true', delete: o.allowDelete === 'true',
        viewAll: o.viewAllRecords === 'true', modifyAll: o.modifyAllRecords === 'true'
    }]));
    return { fields, objects, userPermissions: (ps.userPermissions || []).filter((p) => p.enabled === 'true').map((p) => p.name) };
}

const CASE_FIELDS = ['Case.Omnibridge_Skills__c', 'Case.Omnibridge_Routing_Status__c', 'Case.Omnibridge_Connect_Contact_Id__c'];
const LOG_FIELDS = ['Agent_User__c', 'Connect_Contact_Id__c', 'Duration_Seconds__c', 'Ended_At__c', 'Started_At__c', 'Step_Key__c', 'Step__c'].map((f) => `Omnibridge_Call_Log__c.${f}`);

describe('case routing metadata', () => {
    it.each([
        ['Omnibridge_Skills__c', 255],
        ['Omnibridge_Routing_Status__c', 255],
        ['Omnibridge_Connect_Contact_Id__c', 64]
    ])('Case.%s is Text(%i)', (name, length) => {
        const f = field('Case', name);
        expect([f.type, Number(f.length), f.required]).toEqual(['Text', length, 'false']);
    });

    it('the settings name the integration user (Text(18))', () => {
        const f = field('Omnibridge_Settings__c', 'Integration_User_Id__c');
        expect([f.type, Number(f.length)]).toEqual(['Text', 18]);
    });
});

describe('Omnibridge_Call_Log__c', () => {
    it('is a child of Case named CL-{000000}', () => {
        const o = read('objects/Omnibridge_Call_Log__c/Omnibridge_Call_Log__c.object-meta.xml').CustomObject;
        expect(o.label).toBe('Omnibridge Call Log');
        expect(o.nameField).toMatchObject({ type: 'AutoNumber', displayFormat: 'CL-{000000}' });
        expect(o.sharingModel).toBe('ControlledByParent');
        expect(field('Omnibridge_Call_Log__c', 'Case__c')).toMatchObject({ type: 'MasterDetail', referenceTo: 'Case' });
    });

    it('is upserted by a unique, case-sensitive external id', () => {
        expect(field('Omnibridge_Call_Log__c', 'Step_Key__c')).toMatchObject({ type: 'Text', length: '255', externalId: 'true', unique: 'true', caseSensitive: 'true' });
    });

    it('has the steps the bridge writes, and no others', () => {
        const f = field('Omnibridge_Call_Log__c', 'Step__c');
        expect(f.type).toBe('Picklist');
        expect(f.valueSet.restricted).toBe('true');
        expect(f.valueSet.valueSetDefinition.value.map((v) => v.fullName)).toEqual(['Queued', 'Connected to agent', 'On hold', 'After-contact work', 'Completed']);
    });

    it.each([
        ['Started_At__c', { type: 'DateTime' }],
        ['Ended_At__c', { type: 'DateTime' }],
        ['Duration_Seconds__c', { type: 'Number', precision: '9', scale: '0' }],
        ['Connect_Contact_Id__c', { type: 'Text', length: '64' }],
        ['Agent_User__c', { type: 'Lookup', referenceTo: 'User' }]
    ])('%s', (name, want) => {
        expect(field('Omnibridge_Call_Log__c', name)).toMatchObject(want);
    });
});

describe('permission sets', () => {
    it('let agents read, never edit, what the bridge writes', () => {
        const agent = permissionSet('Omnibridge_Agent');
        for (const f of [...CASE_FIELDS, ...LOG_FIELDS]) {
            expect([f, agent.fields[f]]).toEqual([f, { readable: true, editable: false }]);
        }
        for (const o of ['Omnibridge_Call_Log__c', 'Omnibridge_Screen_Pop__e', 'Omnibridge_Presence_Command__e']) {
            expect([o, agent.objects[o]]).toEqual([o, { create: false, read: true, edit: false, delete: false, viewAll: false, modifyAll: false }]);
        }
        expect(agent.userPermissions).toEqual([]);
    });

    it('let the integration user write what it must, and delete nothing', () => {
        const integration = permissionSet('Omnibridge_Integration');
        for (const f of [...CASE_FIELDS, ...LOG_FIELDS]) {
            expect([f, integration.fields[f]]).toEqual([f, { readable: true, editable: true }]);
        }
        expect(integration.objects.Case).toMatchObject({ create: true, read: true, edit: true, viewAll: true });
        expect(integration.objects.Omnibridge_Call_Log__c).toMatchObject({ create: true, read: true, edit: true });
        expect(integration.objects.Omnibridge_Screen_Pop__e).toMatchObject({ create: true, read: true });
        expect(integration.objects.Contact).toMatchObject({ create: true, read: true });
        expect(integration.objects.Lead).toMatchObject({ create: true, read: true });
        expect(integration.userPermissions).toContain('EditTask');
        for (const [name, o] of Object.entries(integration.objects)) {
            expect([name, o.delete, o.modifyAll]).toEqual([name, false, false]);
        }
    });

    it('give case editors who are not agents only the callout principal', () => {
        const ps = read('permissionsets/Omnibridge_Case_Events.permissionset-meta.xml').PermissionSet;
        expect(ps.externalCredentialPrincipalAccesses).toEqual({ enabled: 'true', externalCredentialPrincipal: 'Omnibridge_Bridge-Omnibridge_Bridge' });
        expect(Object.keys(ps).sort()).toEqual(['description', 'externalCredentialPrincipalAccesses', 'hasActivationRequired', 'label']);
    });
});
