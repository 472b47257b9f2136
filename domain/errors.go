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
	// EUNAVAILABLE: the service cannot save changes for now (disk full,
	// read-only or locked database, corruption); nothing was changed and the
	// request may be sent again later.
	EUNAVAILABLE = "unavailable"
	EINTERNAL    = "internal"
)

// Error is an error the application means to show: its Message is safe for
// the person or program that caused it. Fields holds per-field messages for
// forms, keyed by the field's name.
type Error struct {
	Code    string
	Message string
	Fields  map[string]string
	// RetryAfter is set on rate-limited and unavailable errors, in whole seconds.
	RetryAfter int
	// Err is the cause, for the logs; it is never shown.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s (%v)", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

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
