package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"studio/domain"
	"studio/views"

	"github.com/labstack/echo/v4"
)

// LoadUser reads the session and, when it names a valid user, makes that
// user the request's user.
func (h *Handlers) LoadUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, err := h.sessions.Get(c.Request(), SessionCookieName)
		if err != nil {
			return err
		}
		if id, ok := sess.Values[sessionUserKey].(int64); ok && !sess.IsNew {
			u, err := h.accounts.CurrentUser(c.Request().Context(), id)
			switch {
			case err == nil:
				c.Set(userKey, &u)
			case domain.ErrorCode(err) == domain.EUNAUTHORIZED || domain.ErrorCode(err) == domain.ENOTFOUND:
				// A locked or removed user: end the session.
				sess.Options.MaxAge = -1
				if err := sess.Save(c.Request(), c.Response()); err != nil {
					return err
				}
			default:
				return err
			}
		}
		return next(c)
	}
}

// RequireUser sends anyone not signed in to the sign-in page (htmx requests
// get a redirect header, since a 3xx would be followed inside the swap).
func (h *Handlers) RequireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if currentUser(c) != nil {
			return next(c)
		}
		to := "/signin"
		if c.Request().Method == http.MethodGet {
			to += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
		}
		if isHTMX(c) {
			hxRedirectTo(c, to)
			return c.NoContent(http.StatusUnauthorized)
		}
		return redirect(c, to)
	}
}

// safeNext keeps a post-sign-in redirect on this site: it returns next
// only when a browser reads it as a path on this origin, else "/".
// Browsers read a URL after their own normalisation (WHATWG URL): they
// drop tabs and line breaks anywhere and read a backslash as "/", so
// "/<tab>/evil" and "/<backslash>evil" both mean //evil, another site.
// So tabs and line breaks are dropped here too before checking, and
// backslashes and every other control character are refused.
func safeNext(next string) string {
	if len(next) > 2048 || strings.ContainsRune(next, '\\') {
		return "/"
	}
	next = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, next)
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.IndexFunc(next, unicode.IsControl) >= 0 {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}

// SignInPage shows the sign-in form.
func (h *Handlers) SignInPage(c echo.Context) error {
	if currentUser(c) != nil {
		return redirect(c, "/")
	}
	form := views.SignInForm{Next: safeNext(c.QueryParam("next")), Email: strings.TrimSpace(c.QueryParam("email"))}
	form.Provider = h.providerFor(c, form.Email)
	return render(c, http.StatusOK, views.SignIn(h.page(c, "Sign in"), form))
}

// SignIn checks the credentials and starts a new session, or goes on to
// the second factor. An email whose domain signs in through an
// organization's provider, sent without a password, gets the choice to
// sign in with that provider.
func (h *Handlers) SignIn(c echo.Context) error {
	form := views.SignInForm{Email: strings.TrimSpace(c.FormValue("email")), Next: safeNext(c.FormValue("next"))}
	form.Provider = h.providerFor(c, form.Email)
	if form.Provider != "" && c.FormValue("password") == "" {
		return render(c, http.StatusOK, views.SignIn(h.page(c, "Sign in"), form))
	}
	step, err := h.signInWithPassword(c, form.Email, c.FormValue("password"))
	if cannotSave(c, err) {
		return render(c, http.StatusServiceUnavailable, views.SignIn(h.page(c, "Sign in"), form))
	}
	if err != nil {
		status := http.StatusUnauthorized
		switch domain.ErrorCode(err) {
		case domain.ERATELIMITED:
			status = http.StatusTooManyRequests
		case domain.EFORBIDDEN:
			status = http.StatusForbidden
		case domain.EUNAUTHORIZED:
		default:
			return err
		}
		Logger(c).Info("sign-in refused", "code", domain.ErrorCode(err))
		form.Error = domain.ErrorMessage(err)
		return render(c, status, views.SignIn(h.page(c, "Sign in"), form))
	}
	if err := h.continueSignIn(c, step, form.Next); err != nil {
		if cannotSave(c, err) {
			return render(c, http.StatusServiceUnavailable, views.SignIn(h.page(c, "Sign in"), form))
		}
		return err
	}
	return nil
}

// startSession signs a user in whose password was just proved: whatever
// session this browser had ends (its row is deleted) and a new one, with a
// new id, starts.
func (h *Handlers) startSession(c echo.Context, userID int64) error {
	return h.startSessionWith(c, userID, nil)
}

// startSessionWith is startSession with more values for the new session
// (what the sign-in proved).
func (h *Handlers) startSessionWith(c echo.Context, userID int64, fill func(map[any]any)) error {
	sess, err := h.sessions.Get(c.Request(), SessionCookieName)
	if err != nil {
		return err
	}
	if sess.ID != "" {
		if err := h.sessions.rows.DeleteSession(c.Request().Context(), hashSessionID(sess.ID)); err != nil {
			return err
		}
	}
	sess.ID, sess.IsNew = "", true
	sess.Values = map[any]any{sessionUserKey: userID}
	if fill != nil {
		fill(sess.Values)
	}
	h.markAuthenticated(sess, false)
	return sess.Save(c.Request(), c.Response())
}

// SignOut ends the session server-side, so a copied cookie stops working.
func (h *Handlers) SignOut(c echo.Context) error {
	sess, err := h.sessions.Get(c.Request(), SessionCookieName)
	if err != nil {
		return err
	}
	sess.Options.MaxAge = -1
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	h.setFlash(c, "success", "You are signed out.")
	return redirect(c, "/signin")
}

// PasswordPage shows the change-password form.
func (h *Handlers) PasswordPage(c echo.Context) error {
	return render(c, http.StatusOK, views.ChangePassword(h.page(c, "Change password"), views.PasswordForm{}))
}

// ChangePassword sets a new password and signs out every other session.
func (h *Handlers) ChangePassword(c echo.Context) error {
	sess, err := h.sessions.Get(c.Request(), SessionCookieName)
	if err != nil {
		return err
	}
	err = h.accounts.ChangePassword(c.Request().Context(), principal(c),
		c.FormValue("current"), c.FormValue("new"), c.FormValue("confirm"), hashSessionID(sess.ID), h.passwordClient(c))
	if isInvalid(err) || domain.ErrorCode(err) == domain.ERATELIMITED {
		status := http.StatusUnprocessableEntity
		if domain.ErrorCode(err) == domain.ERATELIMITED {
			status = http.StatusTooManyRequests
			setRetryAfter(c, err)
			Logger(c).Info("password change refused", "user_id", principal(c).UserID, "code", domain.ErrorCode(err))
		}
		return render(c, status, views.ChangePassword(h.page(c, "Change password"),
			views.PasswordForm{Errors: domain.FieldErrors(err)}))
	}
	if err != nil {
		return err
	}
	h.setFlash(c, "success", "Your password is changed. Other sessions are signed out.")
	return redirect(c, "/")
}
