package httpx_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"studio/domain"
	"studio/handlers/httpx"

	"github.com/labstack/echo/v4"
)

// TestProblemOf: each domain error code has its one status for both faces,
// with its message shown; anything else is a 500 that shows nothing and is
// logged, unless the database logged it (EUNAVAILABLE) or a panic was.
func TestProblemOf(t *testing.T) {
	for _, tc := range []struct {
		err     error
		status  int
		message string
		log     bool
	}{
		{domain.Errorf(domain.EINVALID, "bad"), http.StatusBadRequest, "bad", false},
		{domain.ErrNotFound("Key"), http.StatusNotFound, "Key not found.", false},
		{domain.Errorf(domain.ECONFLICT, "taken"), http.StatusConflict, "taken", false},
		{domain.Errorf(domain.EUNAUTHORIZED, "who"), http.StatusUnauthorized, "who", false},
		{domain.Errorf(domain.EREAUTH, "again"), http.StatusUnauthorized, "again", false},
		{domain.Errorf(domain.EFORBIDDEN, "no"), http.StatusForbidden, "no", false},
		{domain.Errorf(domain.ESECONDFACTOR, "factor"), http.StatusForbidden, "factor", false},
		{domain.Errorf(domain.ESSOREQUIRED, "provider"), http.StatusForbidden, "provider", false},
		{&domain.Error{Code: domain.ERATELIMITED, Message: "slow", RetryAfter: 3}, http.StatusTooManyRequests, "slow", false},
		{&domain.Error{Code: domain.EUNAVAILABLE, Message: "later", RetryAfter: 5}, http.StatusServiceUnavailable, "later", false},
		{fmt.Errorf("read: %w", domain.Errorf(domain.EINTERNAL, "secret detail")), http.StatusInternalServerError, "", true},
		{errors.New("sql: database is closed"), http.StatusInternalServerError, "", true},
		{httpx.Logged(errors.New("panic")), http.StatusInternalServerError, "", false},
		{echo.ErrNotFound, http.StatusNotFound, "", false},
	} {
		p := httpx.ProblemOf(tc.err)
		if p.Status != tc.status || p.Message != tc.message || p.Log != tc.log {
			t.Errorf("%v: status %d message %q log %v; want %d %q %v", tc.err, p.Status, p.Message, p.Log, tc.status, tc.message, tc.log)
		}
		h := http.Header{}
		p.SetRetryAfter(h)
		if de, ok := tc.err.(*domain.Error); ok && de.RetryAfter > 0 && h.Get("Retry-After") != fmt.Sprint(de.RetryAfter) {
			t.Errorf("%v: Retry-After %q", tc.err, h.Get("Retry-After"))
		}
	}
}
