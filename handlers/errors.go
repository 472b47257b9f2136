package handlers

import (
	"net/http"

	"studio/domain"
	"studio/handlers/httpx"
	"studio/views"

	"github.com/labstack/echo/v4"
)

// HandleError is the console's one error handler: it turns any error into
// a friendly page, or a toast for htmx requests. The status comes from the
// one table both faces share (httpx); 5xx are logged with the request id,
// never show internals, and show the request id so a report can name it.
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
	pr := httpx.ProblemOf(err)
	status, message := pr.Status, pr.Message
	if pr.HTTP != nil {
		message = httpErrorMessage(pr.HTTP)
	}
	if message == "" {
		message = "Something went wrong on our side. Please try again."
	}
	pr.SetRetryAfter(c.Response().Header())
	if pr.Log {
		Logger(c).Error("request failed", "status", status, "err", err)
	}
	if status == http.StatusNotFound && pr.Domain != nil {
		// Say the same for what does not exist and what the user may not see.
		message = "There is nothing at this address, or you do not have access to it."
	}
	message = withRequestID(c, status, message)
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	if isFragment(c) {
		hxNoSwap(c)
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
	p := h.page(c, heading)
	_ = render(c, status, views.ErrorPage(p, status, heading, message))
}

// httpErrorMessage says what Echo's own errors (routing, body limit, CSRF)
// mean to a person.
func httpErrorMessage(he *echo.HTTPError) string {
	switch he.Code {
	case http.StatusNotFound:
		return "There is nothing at this address."
	case http.StatusMethodNotAllowed:
		return "This address does not accept that kind of request."
	case http.StatusRequestEntityTooLarge:
		return "The request is too large."
	case http.StatusForbidden, http.StatusBadRequest:
		if s, ok := he.Message.(string); ok {
			return s
		}
	}
	if he.Code < 500 {
		return http.StatusText(he.Code)
	}
	return ""
}

// withRequestID ends the message of a 5xx with the request's id, which
// the log lines of the request carry too.
func withRequestID(c echo.Context, status int, message string) string {
	if id := httpx.RequestID(c.Request().Context()); status >= 500 && id != "" {
		return message + " Request id: " + id + "."
	}
	return message
}
