package secret

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpen(t *testing.T) {
	k := ForTest()
	sealed, err := k.Seal([]byte("482916"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("482916")) {
		t.Fatal("sealed value contains the plaintext")
	}
	again, _ := k.Seal([]byte("482916"))
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals of one value are equal: nonce reused")
	}
	plain, err := k.Open(sealed)
	if err != nil || string(plain) != "482916" {
		t.Fatalf("Open = %q, %v", plain, err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := k.Open(sealed); err == nil {
		t.Fatal("tampered value opened")
	}
	other, _ := New(bytes.Repeat([]byte{7}, KeySize))
	if _, err := other.Open(again); err == nil {
		t.Fatal("opened with another key")
	}
}

func TestHash(t *testing.T) {
	k := ForTest()
	a := k.Hash("contact", "ana@example.com")
	if a != k.Hash("contact", "ana@example.com") {
		t.Fatal("hash not deterministic")
	}
	if a == k.Hash("link-token", "ana@example.com") {
		t.Fatal("purposes not separated")
	}
	if len(a) != 64 {
		t.Fatalf("hash length %d", len(a))
	}
	if !Equal(a, a) || Equal(a, k.Hash("contact", "ben@example.com")) {
		t.Fatal("Equal wrong")
	}
}

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		tok := NewToken()
		if len(tok) != 43 {
			t.Fatalf("token %q has length %d, want 43 (256 bits)", tok, len(tok))
		}
		for _, c := range tok {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				t.Fatalf("token %q is not URL-safe", tok)
			}
		}
		if seen[tok] {
			t.Fatal("token repeated")
		}
		seen[tok] = true
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sparekey.db.key")
	k1, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", info.Mode().Perm())
	}
	k2, err := LoadOrCreateKeyFile(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load gave another key: %v", err)
	}
	os.Chmod(path, 0o644)
	if _, err := LoadOrCreateKeyFile(path); err == nil {
		t.Fatal("world-readable key file accepted")
	}
}

func TestParseKey(t *testing.T) {
	hexKey := "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	if k, err := ParseKey(hexKey); err != nil || k[31] != 0x1f {
		t.Fatalf("hex: %v", err)
	}
	if _, err := ParseKey("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="); err != nil {
		t.Fatalf("base64: %v", err)
	}
	for _, bad := range []string{"", "abc", hexKey[:62]} {
		if _, err := ParseKey(bad); err == nil {
			t.Fatalf("ParseKey(%q) accepted", bad)
		}
	}
}
