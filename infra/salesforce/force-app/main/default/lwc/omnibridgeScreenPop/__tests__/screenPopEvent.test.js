// The screen pop travels through three definitions that must agree: the platform event's metadata
// (objects/Omnibridge_Screen_Pop__e), the bridge's publisher (shared/screenpop, Go) and this
// module's reader. This test reads all three: the event has exactly the fields the publisher
// sends, with the lengths and requiredness CONTRACTS-11-12 gives them, it is high volume and
// published immediately, and the console reads no field the event lacks.
const fs = require('fs');
const path = require('path');
const { XMLParser } = require('fast-xml-parser');

const defaultDir = path.resolve(__dirname, '../../..');
const eventDir = path.join(defaultDir, 'objects', 'Omnibridge_Screen_Pop__e');
const publisher = path.resolve(defaultDir, '../../../../../shared/screenpop/screenpop.go');
const moduleSource = fs.readFileSync(path.join(__dirname, '..', 'omnibridgeScreenPop.js'), 'utf8');

const parser = new XMLParser({ parseTagValue: false });

function fields() {
    const out = {};
    for (const f of fs.readdirSync(path.join(eventDir, 'fields')).filter((n) => n.endsWith('.field-meta.xml'))) {
        const field = parser.parse(fs.readFileSync(path.join(eventDir, 'fields', f), 'utf8')).CustomField;
        expect(field.fullName).toBe(f.replace('.field-meta.xml', ''));
        out[field.fullName] = { type: field.type, length: Number(field.length), required: field.required === 'true' };
    }
    return out;
}

describe('Omnibridge_Screen_Pop__e', () => {
    it('has the fields, types and lengths of the contract', () => {
        expect(fields()).toEqual({
            PopId__c: { type: 'Text', length: 255, required: true },
            UserId__c: { type: 'Text', length: 18, required: true },
            RecordId__c: { type: 'Text', length: 18, required: true },
            ConnectContactId__c: { type: 'Text', length: 64, required: false },
            Reason__c: { type: 'Text', length: 40, required: false },
            IssuedAt__c: { type: 'Text', length: 30, required: true }
        });
    });

    it('is a high-volume event published immediately', () => {
        const object = parser.parse(fs.readFileSync(path.join(eventDir, 'Omnibridge_Screen_Pop__e.object-meta.xml'), 'utf8')).CustomObject;
        expect(object.eventType).toBe('HighVolume');
        expect(object.publishBehavior).toBe('PublishImmediately');
    });

    it('has exactly the fields the bridge publishes (shared/screenpop)', () => {
        const go = fs.readFileSync(publisher, 'utf8');
        expect(go).toContain('Event = "Omnibridge_Screen_Pop__e"');
        const published = [...go.matchAll(/Field\w+\s*=\s*"(\w+__c)"/g)].map((m) => m[1]).sort();
        expect(published).toEqual(Object.keys(fields()).sort());
        // The publisher's time layout fits IssuedAt__c, and its reasons fit Reason__c.
        const layout = go.match(/Format\("([^"]+)"\)/)[1];
        expect(layout.length).toBeLessThanOrEqual(fields().IssuedAt__c.length);
        for (const [, reason] of go.matchAll(/Reason\w+\s*=\s*"([^"]+)"/g)) {
            expect(reason.length).toBeLessThanOrEqual(fields().Reason__c.length);
        }
    });

    it('is all the console reads', () => {
        const read = [...new Set([...moduleSource.matchAll(/\b(\w+__c)\b/g)].map((m) => m[1]))].sort();
        expect(read.length).toBeGreaterThan(0);
        for (const name of read) {
            expect(Object.keys(fields())).toContain(name);
        }
    });
});
