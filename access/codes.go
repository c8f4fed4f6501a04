package access

import (
	"crypto/rand"
	"fmt"
	"math/big"
)

// NewCode returns a random door code of n digits that is not trivial (see
// Trivial) and not in taken. It draws from crypto/rand.
func NewCode(n int, taken map[string]bool) (string, error) {
	if n < 4 || n > 12 {
		return "", fmt.Errorf("code length %d out of range", n)
	}
	for range 1000 {
		b := make([]byte, n)
		for i := range b {
			d, err := rand.Int(rand.Reader, big.NewInt(10))
			if err != nil {
				return "", err
			}
			b[i] = byte('0' + d.Int64())
		}
		code := string(b)
		if !Trivial(code) && !taken[code] {
			return code, nil
		}
	}
	return "", fmt.Errorf("no free %d-digit code left", n)
}

// Trivial reports whether a code is easy to guess: three equal digits in a
// row (111, 0000), four digits counting up or down (1234, 9876), or a short
// block repeated over the whole code (121212, 123123).
func Trivial(code string) bool {
	for i := 0; i+2 < len(code); i++ {
		if code[i] == code[i+1] && code[i] == code[i+2] {
			return true
		}
	}
	for i := 0; i+3 < len(code); i++ {
		up, down := true, true
		for j := i + 1; j <= i+3; j++ {
			up = up && code[j] == code[j-1]+1
			down = down && code[j] == code[j-1]-1
		}
		if up || down {
			return true
		}
	}
	for p := 1; p <= len(code)/2; p++ {
		if len(code)%p != 0 {
			continue
		}
		repeated := true
		for i := p; i < len(code); i++ {
			if code[i] != code[i-p] {
				repeated = false
				break
			}
		}
		if repeated {
			return true
		}
	}
	return false
}

// ValidCode reports whether code is all digits, of a length the lock takes,
// and not trivial.
func ValidCode(code string, min, max int) error {
	if len(code) < min || len(code) > max {
		return fmt.Errorf("code must have %d to %d digits", min, max)
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return fmt.Errorf("code must be digits only")
		}
	}
	if Trivial(code) {
		return fmt.Errorf("code is too easy to guess")
	}
	return nil
}
