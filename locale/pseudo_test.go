package locale

import (
	"strings"
	"testing"
	"time"
)

// pseudo is a language that exists only in the tests, written as a new
// language would be: this one file, registered from init. Its texts are
// English in brackets, so a test can tell them apart.
var pseudo = &Language{
	Tag:   "zz",
	Name:  "Pseudo",
	Texts: map[string]string{"Get Code": "[Get Code]", "%d minutes": "[%d minutes]"},
	Messages: func() map[string]string {
		m := map[string]string{}
		for name, src := range english.Messages {
			m[name] = "[" + src + "]"
		}
		return m
	}(),
	Clock: func(t time.Time) string { return t.Format("15h04") },
	At:    func(t time.Time) string { return "@" + t.Format("15h04") },
	When:  func(t time.Time) string { return t.Format("2/1 15h04") },
}

func init() { Register(pseudo) }

// A language is one file: once registered, everything speaks it.
func TestALanguageIsOneFile(t *testing.T) {
	t.Parallel()
	if !Supported("zz") || Of("zz") != "zz" || Name("zz") != "Pseudo" {
		t.Fatalf("the pseudo language is not known: %q", Tags())
	}
	if Tags()[0] != English {
		t.Errorf("Tags() = %q: English must stay the default", Tags())
	}
	if got := Text("zz", "%d minutes", 5); got != "[5 minutes]" {
		t.Errorf("Text = %q", got)
	}
	if got := Text("zz", "Back"); got != "Back" {
		t.Errorf("an untranslated text = %q, want the English", got)
	}
	at := time.Date(2026, 1, 2, 13, 4, 0, 0, time.UTC)
	if got := At("zz", at); got != "@13h04" {
		t.Errorf("At = %q", got)
	}
	sms, err := Message("zz", "backup_link.sms", messageData())
	if err != nil || !strings.HasPrefix(sms, "[Maple Court: your backup code link") {
		t.Errorf("SMS = %q, %v", sms, err)
	}
	email, err := Message("zz", "code_revealed.text", messageData())
	if err != nil || !strings.Contains(email, "(2/1 13h04 UTC)") {
		t.Errorf("email = %q, %v", email, err)
	}
}
