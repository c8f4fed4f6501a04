package staff_test

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"

	"sparekey/staff"
)

var phc = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$`)

func TestHashPasswordRoundTrip(t *testing.T) {
	t.Parallel()
	for _, pw := range []string{password, "pässwörd-密码-ümlaute"} {
		h, err := staff.HashPassword(pw)
		if err != nil {
			t.Fatal(err)
		}
		m := phc.FindStringSubmatch(h)
		if m == nil {
			t.Fatalf("hash %q is not a PHC argon2id string with the OWASP parameters", h)
		}
		salt, err := base64.RawStdEncoding.DecodeString(m[1])
		if err != nil || len(salt) != 16 {
			t.Errorf("salt %q: %d bytes, %v", m[1], len(salt), err)
		}
		key, err := base64.RawStdEncoding.DecodeString(m[2])
		if err != nil || len(key) != 32 {
			t.Errorf("key %q: %d bytes, %v", m[2], len(key), err)
		}
		if strings.Contains(h, pw) {
			t.Errorf("the hash holds the password")
		}
		if ok, err := staff.CheckPassword(h, pw); !ok || err != nil {
			t.Errorf("CheckPassword(the right password %q) = %v, %v", pw, ok, err)
		}
		for _, wrong := range []string{"", pw + " ", strings.ToUpper(pw)} {
			if ok, err := staff.CheckPassword(h, wrong); ok || err != nil {
				t.Errorf("CheckPassword(%q) for %q = %v, %v; want false, nil", wrong, pw, ok, err)
			}
		}
	}
	// A fresh salt each time.
	if h1, h2 := passwordHash(), must(staff.HashPassword(password)); h1 == h2 {
		t.Error("two hashes of one password are equal")
	}
}

// A hash made with other parameters (older, cheaper ones) still checks:
// they are read from the hash.
func TestCheckPasswordReadsParametersFromTheHash(t *testing.T) {
	t.Parallel()
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte(password), salt, 1, 8*1024, 2, 24)
	enc := base64.RawStdEncoding
	h := fmt.Sprintf("$argon2id$v=19$m=8192,t=1,p=2$%s$%s", enc.EncodeToString(salt), enc.EncodeToString(key))
	if ok, err := staff.CheckPassword(h, password); !ok || err != nil {
		t.Errorf("CheckPassword = %v, %v", ok, err)
	}
	if ok, err := staff.CheckPassword(h, "something else"); ok || err != nil {
		t.Errorf("CheckPassword(wrong) = %v, %v", ok, err)
	}
}

// A hash that cannot be read is an error and never a match, even with the
// password it was made from.
func TestCheckPasswordRefusesMalformedHashes(t *testing.T) {
	t.Parallel()
	good := passwordHash()
	parts := strings.Split(good, "$") // "", argon2id, v=19, params, salt, key
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	for name, h := range map[string]string{
		"empty":                "",
		"plain text":           password,
		"bcrypt":               "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":              with(1, "argon2i"),
		"argon2d":              with(1, "argon2d"),
		"another version":      with(2, "v=16"),
		"no version":           with(2, "19"),
		"a version not number": with(2, "v=x"),
		"parameters missing":   with(3, "m=19456,t=2"),
		"parameters garbled":   with(3, "t=2,m=19456,p=1"),
		"no memory":            with(3, "m=0,t=2,p=1"),
		"memory too large":     with(3, "m=2000000,t=2,p=1"),
		"no passes":            with(3, "m=19456,t=0,p=1"),
		"too many passes":      with(3, "m=19456,t=17,p=1"),
		"no lanes":             with(3, "m=19456,t=2,p=0"),
		"too many lanes":       with(3, "m=19456,t=2,p=256"),
		"negative memory":      with(3, "m=-1,t=2,p=1"),
		"salt not base64":      with(4, "!!not*base64!!"),
		"padded key":           with(5, parts[5]+"="),
		"key not base64":       with(5, "%%%"),
		"empty key":            with(5, ""),
		"key too long":         with(5, base64.RawStdEncoding.EncodeToString(make([]byte, 129))),
		"a part missing":       strings.Join(parts[:5], "$"),
		"a part too many":      good + "$extra",
		"no leading dollar":    strings.TrimPrefix(good, "$"),
	} {
		ok, err := staff.CheckPassword(h, password)
		if ok || err == nil {
			t.Errorf("%s: CheckPassword(%q) = %v, %v; want an error and no match", name, h, ok, err)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
