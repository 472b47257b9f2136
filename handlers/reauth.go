package handlers

import (
	"net/http"
	"sort"
	"time"

	"studio/domain"
	"studio/views"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
)

// Re-authentication for sensitive actions (issue 8, item 9): creating or
// rotating a key, switching Basic Auth on and granting admin. The time the
// person last proved the password lives in the server-side session values;
// the password itself goes nowhere but the hasher.
const (
	// authTimeKey holds when the session's user last proved the password
	// (Unix microseconds): at sign-in, or when confirming it again.
	authTimeKey = "auth_time"
	// reauthPasswordField is the confirm form's password field.
	reauthPasswordField = "reauth_password"
)

// markAuthenticated records now as when the session's user proved the password.
func (h *Handlers) markAuthenticated(sess *sessions.Session) {
	sess.Values[authTimeKey] = h.sessions.now().UnixMicro()
}

// recentAuth lets a sensitive action go on when the session's user proved
// the password less than domain.ReauthAfter ago, or proves it now with the
// confirm form's password field. Otherwise it answers with the confirm form
// (a page, or a dialog over the page for htmx) and returns false: the
// caller returns the error it got, nil once the form is rendered.
// Call it after the permission check, before reading the action's input.
func (h *Handlers) recentAuth(c echo.Context, what, back string) (bool, error) {
	sess, err := h.sessions.Get(c.Request(), SessionCookieName)
	if err != nil {
		return false, err
	}
	now := h.sessions.now()
	if at, ok := sess.Values[authTimeKey].(int64); ok {
		if age := now.Sub(time.UnixMicro(at)); age >= 0 && age <= domain.ReauthAfter {
			return true, nil
		}
	}
	form := views.ReauthForm{Action: c.Request().URL.Path, What: what, Back: back}
	params, err := c.FormParams()
	if err != nil {
		return false, err
	}
	status := http.StatusUnauthorized
	if _, sent := params[reauthPasswordField]; sent {
		err := h.accounts.ConfirmPassword(c.Request().Context(), principal(c), params.Get(reauthPasswordField), h.passwordClient(c))
		switch domain.ErrorCode(err) {
		case "":
			h.markAuthenticated(sess)
			if err := sess.Save(c.Request(), c.Response()); err != nil {
				return false, err
			}
			Logger(c).Info("password confirmed", "user_id", principal(c).UserID)
			return true, nil
		case domain.EINVALID:
			form.Error = domain.ErrorMessage(err)
		case domain.ERATELIMITED:
			form.Error, status = domain.ErrorMessage(err), http.StatusTooManyRequests
			setRetryAfter(c, err)
		default:
			return false, err
		}
		Logger(c).Info("password confirmation refused", "user_id", principal(c).UserID, "code", domain.ErrorCode(err))
	}
	// The action's own fields go back with the form; never the password or the token.
	names := make([]string, 0, len(params))
	for name := range params {
		if name != reauthPasswordField && name != "_csrf" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range params[name] {
			form.Fields = append(form.Fields, views.ReauthField{Name: name, Value: v})
		}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	if isFragment(c) {
		// Over the page, whatever the control's own target was. A dialog
		// asking for the password is a normal answer for htmx (200), so it
		// swaps without an error event; the page form says 401.
		c.Response().Header().Set("HX-Retarget", "body")
		c.Response().Header().Set("HX-Reswap", "beforeend")
		if status == http.StatusUnauthorized {
			status = http.StatusOK
		}
		return false, render(c, status, views.ReauthDialog(h.page(c, ""), form))
	}
	return false, render(c, status, views.ReauthPage(h.page(c, "Confirm your password"), form))
}
