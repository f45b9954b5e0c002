package sfevents

import (
	"strings"
	"testing"
)

var sessionCase = func() schemaCase {
	types, fields := tablesOf(sessionEvents)
	return schemaCase{
		schemaPath: "../../infra/salesforce/contracts/session-webhook.v1.schema.json",
		types:      types, fields: fields,
		decode:   func(body []byte) error { _, err := DecodeSession(body); return err },
		isSample: func(file string) bool { return strings.HasPrefix(file, "session-") },
		valid: map[string]string{
			string(SessionLogin): `{"type":"login","eventId":"e","userId":"0055e000003AbCd","eventDate":"2026-11-21T08:59:58Z","username":"jdoe@example.com",` +
				`"sessionKey":"vMASKIU6AxEr+Op5","loginKey":"QTd3mlXwqd2NqGqX","sessionLevel":"STANDARD","sourceIp":"203.0.113.24","loginType":"Application"}`,
			string(SessionLogout): `{"type":"logout","eventId":"e","userId":"0055e000003AbCd","eventDate":"2026-11-21T08:59:58Z","username":"jdoe@example.com",` +
				`"sessionKey":"vMASKIU6AxEr+Op5","loginKey":"QTd3mlXwqd2NqGqX","sessionLevel":"STANDARD","sourceIp":"203.0.113.24"}`,
		},
	}
}()

// TestSessionSchemaAgreesWithDecoder compares session-webhook.v1.schema.json with the field
// tables DecodeSession enforces.
func TestSessionSchemaAgreesWithDecoder(t *testing.T) { sessionCase.agreesWithDecoder(t) }

// TestSessionSamplesAgreeWithSchema checks the session-*.json samples against the schema.
func TestSessionSamplesAgreeWithSchema(t *testing.T) { sessionCase.samplesAgree(t) }

// TestSessionRequiredFieldsAreEnforced removes each required field in turn and expects
// DecodeSession to name exactly that field.
func TestSessionRequiredFieldsAreEnforced(t *testing.T) { sessionCase.requiredEnforced(t) }
