package contact

import (
	"strings"
	"testing"

	"sparekey"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		kind sparekey.ContactKind
		want string
	}{
		{"(201) 555-0101", sparekey.ContactPhone, "+12015550101"},
		{"201-555-0101", sparekey.ContactPhone, "+12015550101"},
		{"+1 201 555 0101", sparekey.ContactPhone, "+12015550101"},
		{"  2015550101 ", sparekey.ContactPhone, "+12015550101"},
		{"Ana@Example.COM", sparekey.ContactEmail, "ana@example.com"},
		{"ana.ruiz+home@example.com", sparekey.ContactEmail, "ana.ruiz+home@example.com"},
		{"", "", ""},
		{"hello", "", ""},
		{"12", "", ""},
		{"555-0101", "", ""},
		{"Ana <ana@example.com>", "", ""},
		{"ana@", "", ""},
		{"@example.com", "", ""},
		{"ana@localhost", "", ""},
		{"ana@example.com, ben@example.com", "", ""},
		{"2015550101x", "", ""},
		{"ana\xff@example.com", "", ""},
		{"2015550101" + strings.Repeat(" ", 300), "", ""},
		{strings.Repeat("a", 250) + "@example.com", "", ""},
	} {
		kind, got, err := Parse(tc.in, "US")
		if tc.kind == "" {
			if sparekey.ErrorCode(err) != sparekey.EINVALIDCONTACT {
				t.Errorf("Parse(%q) = %q, %v; want invalid_contact", tc.in, got, err)
			}
			continue
		}
		if err != nil || kind != tc.kind || got != tc.want {
			t.Errorf("Parse(%q) = %s %q %v; want %s %q", tc.in, kind, got, err, tc.kind, tc.want)
		}
	}
}

func TestSMSAllowed(t *testing.T) {
	for _, tc := range []struct {
		phone string
		ok    bool
	}{
		{"+12015550101", true},
		{"+19005550101", false},  // premium rate
		{"+442071838750", false}, // not in the allow-list
		{"+18005550199", false},  // toll-free
		{"nonsense", false},
	} {
		if got := SMSAllowed(tc.phone, []string{"US"}); got != tc.ok {
			t.Errorf("SMSAllowed(%q) = %v, want %v", tc.phone, got, tc.ok)
		}
	}
	if SMSAllowed("+442071838750", []string{"US", "GB"}) {
		t.Error("GB landline allowed: it takes no texts")
	}
	if !SMSAllowed("+447400123456", []string{"US", "GB"}) {
		t.Error("GB mobile refused with GB allowed")
	}
	if !Costly("+19005550101") || Costly("+12015550101") {
		t.Error("Costly wrong")
	}
}

// TestParseSaysWhatIsWrong: the message fits the mistake.
func TestParseSaysWhatIsWrong(t *testing.T) {
	for in, want := range map[string]string{
		"":                               "Enter the email address or phone number on your account.",
		"hello":                          "That is neither an email address nor a phone number.",
		"ana at example dot com":         "That is neither an email address nor a phone number.",
		"555-0101":                       "That phone number doesn't look right.",
		"ana@localhost":                  "That email address doesn't look right.",
		strings.Repeat("a", MaxLength+1): "That is too long for an email address or a phone number.",
	} {
		_, _, err := Parse(in, "US")
		if sparekey.ErrorCode(err) != sparekey.EINVALIDCONTACT || !strings.HasPrefix(sparekey.ErrorMessage(err), want) {
			t.Errorf("Parse(%.20q) = %v, want %q", in, err, want)
		}
	}
}
