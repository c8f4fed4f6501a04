package lockout

import (
	"net/mail"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"sparekey"
)

// MaxContactLength is the longest contact accepted, in bytes (the longest
// valid email address).
const MaxContactLength = 254

// ParseContact turns what a resident typed into a normalized contact: a
// lower-cased email address, or a phone number in E.164 form parsed with
// libphonenumber in the default region. Anything else is invalid_contact.
func ParseContact(typed, defaultRegion string) (sparekey.ContactKind, string, error) {
	s := strings.TrimSpace(typed)
	invalid := sparekey.Errorf(sparekey.EINVALIDCONTACT, "Enter the email address or phone number on your account.")
	if s == "" || len(s) > MaxContactLength {
		return "", "", invalid
	}
	if strings.Contains(s, "@") {
		email, ok := normalizeEmail(s)
		if !ok || len(email) > MaxContactLength { // lower-casing can make text longer
			return "", "", invalid
		}
		return sparekey.ContactEmail, email, nil
	}
	phone, ok := NormalizePhone(s, defaultRegion)
	if !ok {
		return "", "", invalid
	}
	return sparekey.ContactPhone, phone, nil
}

// normalizeEmail accepts a bare address (no display name, no comments) with
// a dotted domain, and lower-cases it.
func normalizeEmail(s string) (string, bool) {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", false
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || !strings.Contains(s[at+1:], ".") || strings.ContainsAny(s, " \t\r\n<>") {
		return "", false
	}
	return strings.ToLower(s), true
}

// NormalizePhone parses a phone number and returns its E.164 form when
// libphonenumber says it is a valid number.
func NormalizePhone(s, defaultRegion string) (string, bool) {
	for _, c := range s {
		if !strings.ContainsRune("0123456789+-() .", c) {
			return "", false
		}
	}
	n, err := phonenumbers.Parse(s, defaultRegion)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

// SMSAllowed reports whether Sparekey may text this E.164 number: never a
// premium-rate number, and only in the allowed regions (e.g. "US").
func SMSAllowed(e164 string, regions []string) bool {
	n, err := phonenumbers.Parse(e164, "")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return false
	}
	switch phonenumbers.GetNumberType(n) {
	case phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.UAN, phonenumbers.VOICEMAIL:
		return false
	}
	region := phonenumbers.GetRegionCodeForNumber(n)
	for _, r := range regions {
		if strings.EqualFold(r, region) {
			return true
		}
	}
	return false
}
