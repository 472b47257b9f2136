package domain

import (
	"errors"
	"fmt"
)

// Error codes. The edges (console, API) map each code to one HTTP status.
const (
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ERATELIMITED  = "rate_limited"
	EINTERNAL     = "internal"
)

// Error is an error the application means to show: its Message is safe for
// the person or program that caused it. Fields holds per-field messages for
// forms, keyed by the field's name.
type Error struct {
	Code    string
	Message string
	Fields  map[string]string
	// RetryAfter is set on rate-limited errors, in whole seconds.
	RetryAfter int
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an invalid-argument error tied to one form field.
func FieldError(field, message string) *Error {
	return &Error{Code: EINVALID, Message: message, Fields: map[string]string{field: message}}
}

// ErrorCode returns the code of an application error, EINTERNAL for any
// other error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the message of an application error, and a generic
// text for any other error so internals never reach a user.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// FieldErrors returns the per-field messages of an application error.
func FieldErrors(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// ErrNotFound is the one message for anything the caller may not know exists.
func ErrNotFound(what string) *Error {
	return Errorf(ENOTFOUND, "%s not found.", what)
}
