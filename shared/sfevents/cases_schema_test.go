package sfevents

import (
	"strings"
	"testing"
)

var casesCase = func() schemaCase {
	types, fields := tablesOf(caseEvents)
	const common = `"eventDate":"2026-12-07T09:00:00Z","caseId":"5005e00000AbCdE","caseNumber":"00001026","subject":"Refund","priority":"High",` +
		`"status":"New","isClosed":false,"ownerId":"00G5e000001QueU","skills":"Billing;Spanish","actorId":"0055e000003AbCd"`
	return schemaCase{
		schemaPath: "../../infra/salesforce/contracts/case-webhook.v1.schema.json",
		types:      types, fields: fields,
		decode:   func(body []byte) error { _, err := DecodeCases(body); return err },
		isSample: func(file string) bool { return strings.HasPrefix(file, "case-") },
		defs: map[string]string{string(CaseCreated): "created", string(CaseOwnerChanged): "ownerChanged",
			string(CaseCommentAdded): "commentAdded", string(CaseEmailAdded): "emailAdded"},
		valid: map[string]string{
			string(CaseCreated):      `{"type":"case.created","eventId":"e",` + common + `}`,
			string(CaseOwnerChanged): `{"type":"case.owner_changed","eventId":"e","previousOwnerId":"0055e000004Agnt",` + common + `}`,
			string(CaseCommentAdded): `{"type":"case.comment_added","eventId":"e","byOwner":false,` + common + `}`,
			string(CaseEmailAdded):   `{"type":"case.email_added","eventId":"e","incoming":true,` + common + `}`,
		},
	}
}()

// TestCasesSchemaAgreesWithDecoder compares case-webhook.v1.schema.json with the field tables
// DecodeCases enforces.
func TestCasesSchemaAgreesWithDecoder(t *testing.T) { casesCase.agreesWithDecoder(t) }

// TestCasesRequiredFieldsAreEnforced removes each required field in turn and expects DecodeCases
// to name exactly that field.
func TestCasesRequiredFieldsAreEnforced(t *testing.T) { casesCase.requiredEnforced(t) }

// TestCasesSamplesAgreeWithSchema checks the case-*.json samples against the schema.
func TestCasesSamplesAgreeWithSchema(t *testing.T) { casesCase.samplesAgree(t) }
