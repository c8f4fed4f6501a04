package locale

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var verbRE = regexp.MustCompile(`%[-+# 0]*(?:\[\d+\])?(?:\d+|\*)?(?:\.(?:\d+|\*)?)?[a-zA-Z%]`)

// Every translation of a page's text has its key's fmt verbs, in order.
func TestTextsKeepFormatVerbs(t *testing.T) {
	t.Parallel()
	for _, l := range languages {
		for en, tr := range l.Texts {
			if got, want := verbRE.FindAllString(tr, -1), verbRE.FindAllString(en, -1); !slices.Equal(got, want) {
				t.Errorf("%s: %q → %q: verbs %q, want %q", l.Tag, en, tr, got, want)
			}
			if strings.TrimSpace(tr) == "" {
				t.Errorf("%s: %q has an empty translation", l.Tag, en)
			}
		}
	}
}

// fieldRE finds what a message uses: its fields, the messages it includes
// and the times it writes.
var fieldRE = regexp.MustCompile(`\.[A-Z][A-Za-z]*|\{\{template "[^"]+"`)

func uses(src string) []string {
	found := fieldRE.FindAllString(src, -1)
	slices.Sort(found)
	return slices.Compact(found)
}

// messageData has every field a message uses.
func messageData() map[string]any {
	at := time.Date(2026, 1, 2, 13, 4, 0, 0, time.UTC)
	return map[string]any{
		"Short": "Maple Court", "Name": "Ana", "Link": "https://sparekey.example.com/b/" + strings.Repeat("x", 43),
		"NewRequest": "https://sparekey.example.com/support/locked-out", "Expires": at, "When": at,
		"Unit": "101", "Property": "Maple Court", "Phone": "(201) 555-0100",
		"Code": "123456", "Minutes": 15,
		"Lock": "Front door", "ID": int64(7), "Resolution": "Planed the strike.", "Update": "Fixed.", "Base": "https://sparekey.example.com",
	}
}

// Every language has every message English has, uses the same fields, and
// renders.
func TestMessagesMatchEnglish(t *testing.T) {
	t.Parallel()
	en := get(English)
	for _, l := range languages {
		for name := range l.Messages {
			if _, ok := en.Messages[name]; !ok {
				t.Errorf("%s: message %s is not one of English's", l.Tag, name)
			}
		}
		for name, src := range en.Messages {
			tr, ok := l.Messages[name]
			if !ok {
				t.Errorf("%s: no message %s", l.Tag, name)
				continue
			}
			if got, want := uses(tr), uses(src); !slices.Equal(got, want) {
				t.Errorf("%s: message %s uses %q, English uses %q", l.Tag, name, got, want)
			}
			if out, err := Message(l.Tag, name, messageData()); err != nil || strings.TrimSpace(out) == "" {
				t.Errorf("%s: message %s: %q, %v", l.Tag, name, out, err)
			}
		}
		if l.Clock == nil || l.At == nil || l.When == nil {
			t.Errorf("%s: does not say how it writes times", l.Tag)
		}
	}
}

// gsm7 holds the GSM 03.38 basic alphabet (and the extension table's
// characters): one character outside it sends an SMS as UCS-2, 70
// characters a segment.
const gsm7 = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"

// Every SMS in every language keeps to the GSM alphabet; the backup link's
// fits one segment with a 24-character property name and a 75-character
// link.
func TestSMSFitOneSegment(t *testing.T) {
	t.Parallel()
	for _, l := range languages {
		for name := range l.Messages {
			if !strings.HasSuffix(name, ".sms") {
				continue
			}
			data := messageData()
			data["Short"] = "The Residences at Riv..."
			out, err := Message(l.Tag, name, data)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(name, "work_order_") || name == "work_order.still_jammed.sms" {
				out = "The Residences at Riv...: " + out
			}
			for _, r := range out {
				if !strings.ContainsRune(gsm7, r) {
					t.Errorf("%s: %s has %q, outside the GSM alphabet: %q", l.Tag, name, r, out)
				}
			}
			if n := len([]rune(out)); n > 160 && name == "backup_link.sms" {
				t.Errorf("%s: %s is %d characters: %q", l.Tag, name, n, out)
			}
		}
	}
}

func TestTimes(t *testing.T) {
	t.Parallel()
	ny := Location("America/New_York")
	pm := time.Date(2026, 11, 26, 20, 4, 0, 0, time.UTC).In(ny)
	one := time.Date(2026, 11, 26, 18, 27, 0, 0, time.UTC).In(ny)
	am := time.Date(2026, 11, 26, 14, 5, 0, 0, time.UTC).In(ny)
	for _, tc := range []struct{ got, want string }{
		{Clock(English, pm), "3:04 PM"},
		{Clock(Spanish, pm), "3:04 p. m."},
		{Clock(Spanish, am), "9:05 a. m."},
		{At(English, one), "at 1:27 PM"},
		{At(Spanish, one), "a la 1:27 p. m."},
		{At(Spanish, pm), "a las 3:04 p. m."},
		{When(English, am), "Nov 26, 9:05 AM"},
		{When(Spanish, am), "26 nov, 9:05 a. m."},
		{Clock("xx-unknown", pm), "3:04 PM"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestLocation(t *testing.T) {
	t.Parallel()
	if got := Location("America/New_York").String(); got != "America/New_York" {
		t.Errorf("Location(America/New_York) = %s", got)
	}
	for _, tz := range []string{"", "Mars/Olympus_Mons"} {
		if got := Location(tz); got != time.UTC {
			t.Errorf("Location(%q) = %s, want UTC", tz, got)
		}
	}
}

func TestLanguages(t *testing.T) {
	t.Parallel()
	if tags := Tags(); len(tags) < 2 || tags[0] != English || !slices.Contains(tags, Spanish) {
		t.Errorf("Tags() = %q, want English first, and Spanish", tags)
	}
	for tag, want := range map[string]string{"es": "es", "en": "en", "": "en", "xx": "en", "ES": "en"} {
		if got := Of(tag); got != want {
			t.Errorf("Of(%q) = %q, want %q", tag, got, want)
		}
	}
	if Name(Spanish) != "Español" || Name(English) != "English" {
		t.Errorf("names %q, %q", Name(Spanish), Name(English))
	}
	if got := Text(Spanish, "%d minutes", 3); got != "3 minutos" {
		t.Errorf("Text(es, %%d minutes) = %q", got)
	}
	if got := Text(English, "Hi %s", "Ana"); got != "Hi Ana" {
		t.Errorf("Text(en) = %q", got)
	}
	if subject, text, err := Email(Spanish, "access_code_revealed", map[string]any{"Name": "Ana", "Property": "Maple Court"}); err != nil ||
		subject != "Se mostró tu código de acceso en la app" || !strings.HasPrefix(text, "Hola, Ana:\n\n") {
		t.Errorf("Email = %q, %q, %v", subject, text, err)
	}
	if _, err := Message(English, "no_such_message", nil); err == nil {
		t.Error("an unknown message rendered")
	}
	if _, err := Message(English, "sign_in.sms", map[string]any{"Code": "1"}); err == nil {
		t.Error("a message without its fields rendered")
	}
}

func TestSMSName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"Maple Court":                         "Maple Court",
		"The Residences at Riverside Commons": "The Residences at Riv...",
		"Résidences du Parc Montsouris Est":   "Résidences du Parc Mo...",
		"":                                    "Sparekey",
	} {
		if got := SMSName(name); got != want {
			t.Errorf("SMSName(%q) = %q, want %q", name, got, want)
		}
	}
}
