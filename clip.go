package sparekey

import "unicode/utf8"

// Clip returns s cut to at most n bytes, at a rune boundary, with tail
// added when it was cut. What a client or a device sends (a user agent, a
// payload quoted in an error) is kept and logged bounded, and stays valid
// UTF-8, which PostgreSQL requires of text.
func Clip(s string, n int, tail string) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + tail
}
