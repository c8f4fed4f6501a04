package sparekey_test

import (
	"testing"

	"sparekey"
)

func TestResidentFirstName(t *testing.T) {
	for name, want := range map[string]string{"Ana Ruiz": "Ana", "  Chen  Wei ": "Chen", "Ben": "Ben", "": "there", "   ": "there"} {
		if got := (&sparekey.Resident{Name: name}).FirstName(); got != want {
			t.Errorf("FirstName of %q = %q, want %q", name, got, want)
		}
	}
}
