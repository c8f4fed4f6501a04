// Package contact reads what a resident types as a way to reach them: an
// email address or a phone number, normalized so it can be compared and
// hashed, and decides which numbers Sparekey may text.
package contact

import (
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"sparekey"
)

// MaxLength is the longest contact accepted, in bytes (the longest
// valid email address).
const MaxLength = 254

// Parse turns what a resident typed into a normalized contact: a
// lower-cased email address, or a phone number in E.164 form parsed with
// libphonenumber in the default region. Anything else is invalid_contact.
func Parse(typed, defaultRegion string) (sparekey.ContactKind, string, error) {
	invalid := sparekey.Errorf(sparekey.EINVALIDCONTACT, "Enter the email address or phone number on your account.")
	if len(typed) > MaxLength {
		return "", "", sparekey.Errorf(sparekey.EINVALIDCONTACT, "That is too long for an email address or a phone number. Enter the one on your account.")
	}
	if !utf8.ValidString(typed) {
		return "", "", invalid
	}
	s := strings.TrimSpace(typed)
	if s == "" {
		return "", "", invalid
	}
	if !strings.Contains(s, "@") && !strings.ContainsAny(s, "0123456789") {
		return "", "", sparekey.Errorf(sparekey.EINVALIDCONTACT, "That is neither an email address nor a phone number. Enter the one on your account.")
	}
	if strings.Contains(s, "@") {
		email, ok := normalizeEmail(s)
		if !ok || len(email) > MaxLength { // lower-casing can make text longer
			return "", "", sparekey.Errorf(sparekey.EINVALIDCONTACT, "That email address doesn't look right. Check it and try again.")
		}
		return sparekey.ContactEmail, email, nil
	}
	phone, ok := NormalizePhone(s, defaultRegion)
	if !ok {
		return "", "", sparekey.Errorf(sparekey.EINVALIDCONTACT, "That phone number doesn't look right. Include the area code, like (201) 555-0101, or enter your email instead.")
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

// SMSAllowed reports whether Sparekey may text this E.164 number: a kind
// of number that takes texts (mobile, mobile-or-fixed as in the US, VoIP;
// never premium-rate, shared-cost, toll-free or pager numbers), in one of the
// allowed regions (e.g. "US").
func SMSAllowed(e164 string, regions []string) bool {
	n, err := phonenumbers.Parse(e164, "")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return false
	}
	switch phonenumbers.GetNumberType(n) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE, phonenumbers.VOIP:
	default:
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

// Costly reports whether calling or texting the number costs the sender
// extra (premium-rate, shared-cost and the like): never a resident's phone.
func Costly(e164 string) bool {
	n, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return false
	}
	switch phonenumbers.GetNumberType(n) {
	case phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.UAN, phonenumbers.VOICEMAIL:
		return true
	}
	return false
}
