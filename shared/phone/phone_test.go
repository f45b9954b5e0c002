package phone_test

import (
	"testing"

	"github.com/omnibridge/omnibridge/shared/phone"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, address, typ, region string
		want, withheld             string
	}{
		{"E.164 as Connect sends it", "+14155551212", "TELEPHONE_NUMBER", "US", "+14155551212", ""},
		{"national US format", "(415) 555-1212", "TELEPHONE_NUMBER", "US", "+14155551212", ""},
		{"dotted with spaces", " 415.555.1212 ", "", "US", "+14155551212", ""},
		{"UK national in region GB", "020 7946 0018", "TELEPHONE_NUMBER", "GB", "+442079460018", ""},
		{"international with 00 prefix in GB", "00 33 1 42 68 53 00", "TELEPHONE_NUMBER", "GB", "+33142685300", ""},
		{"international E.164 ignores the region", "+81 3-1234-5678", "TELEPHONE_NUMBER", "US", "+81312345678", ""},
		{"no endpoint", "", "", "US", "", phone.WithheldNoEndpoint},
		{"anonymous", "anonymous", "TELEPHONE_NUMBER", "US", "", phone.WithheldAnonymous},
		{"Connect's anonymous number", "+266696687", "TELEPHONE_NUMBER", "US", "", phone.WithheldAnonymous},
		{"restricted", "Restricted", "TELEPHONE_NUMBER", "US", "", phone.WithheldAnonymous},
		{"not a phone endpoint", "arn:aws:connect:us-east-1:123456789012:instance/x/agent/y", "CONNECT_PHONENUMBER_ARN", "US", "", phone.WithheldNotPhone},
		{"garbage", "call me", "TELEPHONE_NUMBER", "US", "", phone.WithheldInvalid},
		{"too short", "12", "TELEPHONE_NUMBER", "US", "", phone.WithheldInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, why := phone.Normalize(tc.address, tc.typ, tc.region)
			if got != tc.want || why != tc.withheld {
				t.Fatalf("Normalize = %q, %q; want %q, %q", got, why, tc.want, tc.withheld)
			}
		})
	}
}

func TestVariants(t *testing.T) {
	got := phone.Variants("+14155551212")
	for _, w := range []string{"+14155551212", "(415) 555-1212", "415-555-1212", "4155551212", "14155551212", "+1 415-555-1212"} {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("Variants lacks %q: %q", w, got)
		}
	}
	uk := phone.Variants("+442079460018")
	if uk[0] != "+442079460018" || len(uk) < 4 {
		t.Errorf("UK variants = %q", uk)
	}
}
