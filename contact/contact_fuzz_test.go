package contact_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"sparekey"
	"sparekey/contact"
)

// Rule 4 and 16: whatever is typed, Parse never panics, refuses with
// invalid_contact, or returns a normalized contact that parses to itself.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"ana@example.com", "ANA@EXAMPLE.COM", " Ana@Example.com ", "ana.ruiz+home@example.com",
		"(201) 555-0101", "+1 201 555 0101", "2015550101", "+442071838750", "+19005550101",
		"011 44 20 7183 8750", "Ana <ana@example.com>", "ana@", "@example.com", "ana@localhost",
		"a@b.c", "\"a b\"@example.com", "ana@example.com, ben@example.com", "ana@[127.0.0.1]",
		"", " ", "+", "((((", "1-", "555-0101", "ÅNA@EXAMPLE.COM", "İ@example.com",
		strings.Repeat("a", 242) + "@example.com", strings.Repeat("9", 300),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, typed string) {
		kind, got, err := contact.Parse(typed, "US")
		if err != nil {
			if code := sparekey.ErrorCode(err); code != sparekey.EINVALIDCONTACT {
				t.Fatalf("Parse(%q) failed with %q, want invalid_contact", typed, code)
			}
			if kind != "" || got != "" {
				t.Fatalf("Parse(%q) failed but returned %q %q", typed, kind, got)
			}
			return
		}
		if len(got) > contact.MaxLength {
			t.Errorf("Parse(%q) = %q: longer than %d bytes", typed, got, contact.MaxLength)
		}
		switch kind {
		case sparekey.ContactEmail:
			if got != strings.ToLower(got) {
				t.Errorf("Parse(%q) = email %q, not lower-case", typed, got)
			}
			if !utf8.ValidString(got) || strings.Count(got, "@") < 1 {
				t.Errorf("Parse(%q) = email %q, not an address", typed, got)
			}
		case sparekey.ContactPhone:
			if len(got) < 2 || got[0] != '+' || strings.Trim(got[1:], "0123456789") != "" {
				t.Errorf("Parse(%q) = phone %q, not E.164", typed, got)
			}
		default:
			t.Fatalf("Parse(%q) = kind %q", typed, kind)
		}
		kind2, again, err := contact.Parse(got, "US")
		if err != nil || kind2 != kind || again != got {
			t.Errorf("Parse(%q) = %s %q, which parses to %s %q, %v", typed, kind, got, kind2, again, err)
		}
	})
}

// Lower-casing can make an email longer in bytes (Ⱥ, 2 bytes, becomes ⱥ, 3),
// so a contact accepted at 254 bytes must not come out longer than that.
func TestParseNormalizedEmailFitsTheLimit(t *testing.T) {
	typed := "Ⱥ" + strings.Repeat("a", 240) + "@example.com"
	if len(typed) != contact.MaxLength {
		t.Fatalf("test input is %d bytes", len(typed))
	}
	kind, got, err := contact.Parse(typed, "US")
	if err == nil && len(got) > contact.MaxLength {
		t.Errorf("Parse(%d bytes) = %s of %d bytes, over the %d-byte limit", len(typed), kind, len(got), contact.MaxLength)
	}
	if err == nil {
		if _, again, err := contact.Parse(got, "US"); err != nil || again != got {
			t.Errorf("normalized email does not parse to itself: %q, %v", again, err)
		}
	}
}
