package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"studio/domain"
	"studio/views"

	"github.com/labstack/echo/v4"
)

// statusOf maps an application error code to its HTTP status.
func statusOf(code string) int {
	switch code {
	case domain.EINVALID:
		return http.StatusBadRequest
	case domain.ENOTFOUND:
		return http.StatusNotFound
	case domain.ECONFLICT:
		return http.StatusConflict
	case domain.EUNAUTHORIZED, domain.EREAUTH:
		return http.StatusUnauthorized
	case domain.EFORBIDDEN, domain.ESECONDFACTOR, domain.ESSOREQUIRED:
		return http.StatusForbidden
	case domain.ERATELIMITED:
		return http.StatusTooManyRequests
	case domain.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// HandleError is the console's one error handler: it turns any error into
// a friendly page, or a toast for htmx requests. 5xx are logged with the
// request id and never show internals.
func (h *Handlers) HandleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if domain.ErrorCode(err) == domain.EREAUTH && currentUser(c) != nil {
		// Not an error to show: the domain asks for the password first.
		if err = h.askPassword(c, err); err == nil {
			return
		}
	}
	if code := domain.ErrorCode(err); (code == domain.ESECONDFACTOR || code == domain.ESSOREQUIRED) && currentUser(c) != nil {
		// A sign-in policy: the person is sent where it is met.
		if err = h.meetPolicy(c, err); err == nil {
			return
		}
	}
	status, message := http.StatusInternalServerError, "Something went wrong on our side. Please try again."
	logged := false
	var he *echo.HTTPError
	var de *domain.Error
	switch {
	case errors.As(err, &de):
		status = statusOf(de.Code)
		if status != http.StatusInternalServerError {
			message = de.Message
		}
		if de.Code == domain.EUNAVAILABLE {
			// The database logged the condition once; not again per request.
			logged = true
		}
		if de.RetryAfter > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(de.RetryAfter))
		}
	case errors.As(err, &he):
		status = he.Code
		switch status {
		case http.StatusNotFound:
			message = "There is nothing at this address."
		case http.StatusMethodNotAllowed:
			message = "This address does not accept that kind of request."
		case http.StatusRequestEntityTooLarge:
			message = "The request is too large."
		case http.StatusForbidden, http.StatusBadRequest:
			if s, ok := he.Message.(string); ok {
				message = s
			}
		default:
			if status < 500 {
				message = http.StatusText(status)
			}
		}
	}
	if status >= 500 && !logged {
		Logger(c).Error("request failed", "status", status, "err", err)
	}
	if status == http.StatusNotFound && message == "" {
		message = "There is nothing at this address."
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	if c.Request().Header.Get("HX-Request") != "" && c.Request().Header.Get("HX-Boosted") == "" {
		c.Response().Header().Set("HX-Reswap", "none")
		_ = render(c, status, views.Toast("error", message))
		return
	}
	heading := map[int]string{
		http.StatusNotFound:           "Not found",
		http.StatusForbidden:          "Not allowed",
		http.StatusUnauthorized:       "Sign in required",
		http.StatusTooManyRequests:    "Too many requests",
		http.StatusBadRequest:         "Something is wrong with that request",
		http.StatusServiceUnavailable: "Changes cannot be saved right now",
	}[status]
	if heading == "" {
		heading = "Something went wrong"
	}
	if status == http.StatusNotFound && de != nil {
		// Say the same for what does not exist and what the user may not see.
		message = "There is nothing at this address, or you do not have access to it."
	}
	p := h.page(c, heading)
	_ = render(c, status, views.ErrorPage(p, status, heading, message))
}
