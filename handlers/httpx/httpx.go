// Package httpx is what both faces of the server, the console (handlers)
// and the API (handlers/api), share at the HTTP edge: the one table from
// domain error codes to HTTP statuses, how any error is answered, and the
// request's id and logger, which travel in the request's context.
package httpx

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"studio/domain"

	"github.com/labstack/echo/v4"
)

// statusOfCode is the one mapping of domain error codes to HTTP statuses.
var statusOfCode = map[string]int{
	domain.EINVALID:      http.StatusBadRequest,
	domain.ENOTFOUND:     http.StatusNotFound,
	domain.ECONFLICT:     http.StatusConflict,
	domain.EUNAUTHORIZED: http.StatusUnauthorized,
	// The console answers it with the password prompt before it gets here.
	domain.EREAUTH:    http.StatusUnauthorized,
	domain.EFORBIDDEN: http.StatusForbidden,
	// Sign-in policies: the console sends the person where they are met
	// (a second factor, the organization's identity provider).
	domain.ESECONDFACTOR: http.StatusForbidden,
	domain.ESSOREQUIRED:  http.StatusForbidden,
	domain.ERATELIMITED:  http.StatusTooManyRequests,
	// With Retry-After: nothing was changed, and it may be sent again.
	domain.EUNAVAILABLE: http.StatusServiceUnavailable,
}

// Status is the HTTP status of a domain error code (500 for any other).
func Status(code string) int {
	if s, ok := statusOfCode[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Problem is how an error is answered.
type Problem struct {
	Status int
	// Message is the domain's message, safe to show; "" when the error is
	// not the domain's or is internal (the face says its own words).
	Message string
	// Domain is the error's *domain.Error, nil for any other.
	Domain *domain.Error
	// HTTP is the error's *echo.HTTPError (routing, body limits, CSRF), nil for any other.
	HTTP *echo.HTTPError
	// Log is true for a 5xx that no one logged yet: a write condition
	// (EUNAVAILABLE) is logged once by the database, a panic where it was caught.
	Log bool
}

// ProblemOf says how err is answered: its status, what may be shown of it,
// and whether it still needs logging.
func ProblemOf(err error) Problem {
	p := Problem{Status: http.StatusInternalServerError}
	switch {
	case errors.As(err, &p.Domain):
		p.Status = Status(p.Domain.Code)
		if p.Status != http.StatusInternalServerError {
			p.Message = p.Domain.Message
		}
	case errors.As(err, &p.HTTP):
		p.Status = p.HTTP.Code
	}
	var logged *loggedError
	p.Log = p.Status >= 500 && domain.ErrorCode(err) != domain.EUNAVAILABLE && !errors.As(err, &logged)
	return p
}

// SetRetryAfter sends Retry-After when the error asks for it.
func (p Problem) SetRetryAfter(h http.Header) {
	if p.Domain != nil && p.Domain.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(p.Domain.RetryAfter))
	}
}

// loggedError is an error already logged where it happened (a panic, with
// its stack), so the error handler does not log it again.
type loggedError struct{ err error }

func (e *loggedError) Error() string { return e.err.Error() }
func (e *loggedError) Unwrap() error { return e.err }

// Logged marks err as logged already.
func Logged(err error) error { return &loggedError{err: err} }

type requestKey struct{}

type request struct {
	id     string
	logger *slog.Logger
}

// WithRequest returns ctx carrying the request's id and its logger (which
// adds the id to every line).
func WithRequest(ctx context.Context, id string, logger *slog.Logger) context.Context {
	return context.WithValue(ctx, requestKey{}, request{id: id, logger: logger})
}

// Logger is the request's logger, slog's default outside a request.
func Logger(ctx context.Context) *slog.Logger {
	if r, ok := ctx.Value(requestKey{}).(request); ok && r.logger != nil {
		return r.logger
	}
	return slog.Default()
}

// RequestID is the request's id, "" outside a request.
func RequestID(ctx context.Context) string {
	r, _ := ctx.Value(requestKey{}).(request)
	return r.id
}
