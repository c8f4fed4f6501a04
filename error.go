package sparekey

import (
	"errors"
	"fmt"
)

// Error codes. Each is the snake_case code that appears in JSON error bodies;
// the web package maps every code to an HTTP status in one table.
const (
	EINTERNAL       = "internal"
	EINVALID        = "invalid_request"
	EINVALIDCONTACT = "invalid_contact"
	ENOTFOUND       = "not_found"
	ECONFLICT       = "conflict"
	EUNAUTHORIZED   = "unauthorized"
	EFORBIDDEN      = "forbidden"
	ERATELIMITED    = "rate_limited"
	ETOOLARGE       = "too_large"
	ELINKEXPIRED    = "link_expired"
	ELINKNOTFOUND   = "link_not_found"
	ELOCKOFFLINE    = "lock_offline"
	ELOCKJAMMED     = "lock_jammed"
	ELOCKTIMEOUT    = "lock_timeout" // the lock did not confirm a command in time
	ELOCKFAILED     = "lock_failed"  // the lock or its hub refused a command
	ENOTIMPLEMENTED = "not_implemented"
)

// Error is the one error type of the domain. Message is safe to show to the
// caller: it never holds a token, a door code or driver detail.
type Error struct {
	Code    string
	Message string
}

// Error returns the message: what a person reads, on the command line too.
func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human message of the first *Error in err's chain,
// and a generic text for any other error so internals never leak.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}
