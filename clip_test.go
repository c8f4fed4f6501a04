package sparekey

import "testing"

func TestClip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s    string
		n    int
		tail string
		want string
	}{
		{"Mozilla/5.0", 256, "", "Mozilla/5.0"},
		{"abcdef", 3, "", "abc"},
		{"abcdef", 6, "…", "abcdef"},
		{"abcdef", 3, "…", "abc…"},
		{"añb", 2, "", "a"}, // ñ is two bytes: not cut in half
		{"añb", 3, "", "añ"},
		{"", 0, "…", ""},
	} {
		if got := Clip(tc.s, tc.n, tc.tail); got != tc.want {
			t.Errorf("Clip(%q, %d, %q) = %q, want %q", tc.s, tc.n, tc.tail, got, tc.want)
		}
	}
}
