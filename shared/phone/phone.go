// Package phone normalises telephone numbers for matching: a caller's number as Connect reports
// it, to E.164, and E.164 to the spellings people store in Salesforce phone fields. It is the one
// package that wraps github.com/nyaruka/phonenumbers (whose metadata is large), so only the
// functions that match numbers link it.
package phone

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// DefaultRegion is the region numbers without a country code are read in when none is given.
const DefaultRegion = "US"

// Withheld reasons: why a caller's number cannot be matched. A withheld caller creates nothing
// in Salesforce; the reason is audited.
const (
	WithheldNoEndpoint    = "no customer endpoint"
	WithheldNotPhone      = "customer endpoint is not a telephone number"
	WithheldAnonymous     = "number withheld or anonymous"
	WithheldInvalid       = "not a valid telephone number"
	endpointTypeTelephone = "TELEPHONE_NUMBER"
)

// anonymousNumbers are the texts carriers and Connect put in place of a withheld number. The
// digits 266696687 spell ANONYMOUS on a keypad; Connect shows anonymous callers as
// +266696687.
var anonymousNumbers = []string{"anonymous", "private", "restricted", "unavailable", "unknown", "withheld", "blocked", "+266696687", "266696687"}

// Normalize returns the caller's number in E.164 ("+14155551212"), reading numbers without a
// country code in region (ISO 3166-1, such as "US"). For a caller that cannot be matched it
// returns "" and one of the Withheld reasons. endpointType is DescribeContact's
// CustomerEndpoint.Type ("" when Connect returned no endpoint type).
func Normalize(address, endpointType, region string) (e164, withheld string) {
	a := strings.TrimSpace(address)
	switch {
	case a == "":
		return "", WithheldNoEndpoint
	case endpointType != "" && endpointType != endpointTypeTelephone:
		return "", WithheldNotPhone
	}
	for _, anon := range anonymousNumbers {
		if strings.EqualFold(a, anon) {
			return "", WithheldAnonymous
		}
	}
	num, err := phonenumbers.Parse(a, strings.ToUpper(cmp.Or(region, DefaultRegion)))
	if err != nil || !phonenumbers.IsPossibleNumber(num) {
		return "", WithheldInvalid
	}
	return phonenumbers.Format(num, phonenumbers.E164), ""
}

// Variants returns the spellings a number is commonly stored in, for the SOQL fallback that
// compares Phone and MobilePhone as exact strings: E.164, the international and national
// formats, the digits with and without the country code, and the common North American forms.
func Variants(e164 string) []string {
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return []string{e164}
	}
	national := phonenumbers.GetNationalSignificantNumber(num)
	cc := phonenumbers.GetCountryCodeForRegion(phonenumbers.GetRegionCodeForNumber(num))
	if cc == 0 {
		cc = int(num.GetCountryCode())
	}
	ccs := strconv.Itoa(cc)
	vs := []string{
		e164,
		phonenumbers.Format(num, phonenumbers.INTERNATIONAL),
		phonenumbers.Format(num, phonenumbers.NATIONAL),
		national,
		ccs + national,
		"00" + ccs + national,
	}
	if cc == 1 && len(national) == 10 {
		a, b, c := national[:3], national[3:6], national[6:]
		vs = append(vs, a+"-"+b+"-"+c, a+"."+b+"."+c, "("+a+") "+b+"-"+c, "("+a+")"+b+"-"+c,
			"1-"+a+"-"+b+"-"+c, "+1 ("+a+") "+b+"-"+c, "+1-"+a+"-"+b+"-"+c, "1"+national)
	}
	var out []string
	for _, v := range vs {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// Numbers offers Normalize and Variants as methods, for callers that take them as a
// dependency (calllogsync.Numbers).
type Numbers struct{}

// Normalize is Normalize.
func (Numbers) Normalize(address, endpointType, region string) (e164, withheld string) {
	return Normalize(address, endpointType, region)
}

// Variants is Variants.
func (Numbers) Variants(e164 string) []string { return Variants(e164) }
