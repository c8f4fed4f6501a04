package lockout

import (
	"strings"
	"testing"
	"time"

	"sparekey"
	"sparekey/locale"
)

// A property name too long for an SMS is cut with dots: "…" is outside the
// GSM alphabet and would send the whole text as UCS-2.
func TestLongPropertyNameKeepsTheSMSInGSM(t *testing.T) {
	p := &locale.Place{Unit: &sparekey.Unit{Name: "101"}, Property: &sparekey.Property{Name: "The Residences at Riverside Commons"}, Location: time.UTC}
	for _, lang := range []string{locale.English, locale.Spanish} {
		sms, err := linkSMS(lang, p, "https://sparekey.example.com/b/"+strings.Repeat("x", 43))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(sms, "The Residences at Riv...: ") || strings.ContainsRune(sms, '…') || len(sms) > 160 {
			t.Errorf("%s: SMS (%d characters) = %q", lang, len(sms), sms)
		}
	}
}

// Spanish says the hour with its article: "la 1", "las 3".
func TestSpanishClock(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	p := &locale.Place{Unit: &sparekey.Unit{Name: "101"}, Property: &sparekey.Property{Name: "Maple Court"}, Location: ny}
	r := &sparekey.Resident{Name: "Ana Diaz"}
	for at, want := range map[time.Time]string{
		time.Date(2026, 1, 2, 13, 4, 0, 0, ny): "la 1:04 p. m. EST",
		time.Date(2026, 1, 2, 1, 4, 0, 0, ny):  "la 1:04 a. m. EST",
		time.Date(2026, 1, 2, 9, 30, 0, 0, ny): "las 9:30 a. m. EST",
		time.Date(2026, 7, 2, 0, 5, 0, 0, ny):  "las 12:05 a. m. EDT",
	} {
		_, text, html, err := linkEmail(locale.Spanish, p, r, "https://sparekey.example.com/b/x", "https://sparekey.example.com/support/locked-out", at)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, "funciona hasta "+want+",") || !strings.Contains(html, "hasta <strong>"+want+"</strong>") {
			t.Errorf("link email expiring %v does not say %q:\n%s\n%s", at, want, text, html)
		}
	}
}
