package access

import "testing"

func TestTrivial(t *testing.T) {
	for _, tc := range []struct {
		code    string
		trivial bool
	}{
		{"111111", true},
		{"123456", true},
		{"654321", true},
		{"121212", true},
		{"123123", true},
		{"481116", true},
		{"903456", true},
		{"482916", false},
		{"731845", false},
		{"590273", false},
		{"13572468", false},
	} {
		if got := Trivial(tc.code); got != tc.trivial {
			t.Errorf("Trivial(%q) = %v, want %v", tc.code, got, tc.trivial)
		}
	}
}

func TestNewCode(t *testing.T) {
	taken := map[string]bool{}
	for range 200 {
		for _, n := range []int{6, 8} {
			code, err := NewCode(n, taken)
			if err != nil {
				t.Fatal(err)
			}
			if err := ValidCode(code, n, n); err != nil {
				t.Fatalf("NewCode gave %q: %v", code, err)
			}
			if taken[code] {
				t.Fatalf("NewCode gave taken code %q", code)
			}
			taken[code] = true
		}
	}
	if _, err := NewCode(2, nil); err == nil {
		t.Fatal("length 2 accepted")
	}
}

func TestValidCode(t *testing.T) {
	for _, tc := range []struct {
		code string
		ok   bool
	}{
		{"482916", true},
		{"48291", false},
		{"48291a", false},
		{"123456", false},
		{"482916001", false},
	} {
		if err := ValidCode(tc.code, 6, 8); (err == nil) != tc.ok {
			t.Errorf("ValidCode(%q) = %v", tc.code, err)
		}
	}
}
