package handlers

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"studio/domain"
	"studio/views"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
)

// Re-authentication for sensitive changes (issue 8 item 9, issue 11 item 3):
// granting Project admin or Organization admin, creating or rotating a
// key, switching Basic Auth on. The domain decides which change needs a
// fresh password and refuses it with domain.EREAUTH; the console answers
// that refusal, whatever the route, with the password prompt, which posts
// the change again with the password. The time the person last proved the
// password lives in the server-side session; the password itself goes
// nowhere but the hasher.
const (
	// authTimeKey holds when the session's user last proved the password
	// (Unix microseconds): at sign-in, or when confirming it again.
	authTimeKey = "auth_time"
	// authConfirmedKey is set when that proof was a confirmation after
	// sign-in, not the sign-in itself: the prompt says which.
	authConfirmedKey = "auth_confirmed"
	// reauthPasswordField is the prompt's password field, reauthCodeField
	// and reauthPasskeyField its second-factor alternatives (a code, a
	// passkey's assertion); reauthBackField carries where its Cancel link
	// goes through a second prompt.
	reauthPasswordField = "reauth_password"
	reauthCodeField     = "reauth_code"
	reauthPasskeyField  = "reauth_passkey"
	reauthBackField     = "reauth_back"
	// Request context keys: the auth time of the request's principal, and
	// the refusal of a password sent with the prompt.
	authTimeCtxKey      = "studio.auth_time"
	authConfirmedCtxKey = "studio.auth_confirmed"
	reauthRefusalCtxKey = "studio.reauth_refusal"
)

// isReauthField reports whether a form field belongs to the prompt, not
// to the change it confirms.
func isReauthField(name string) bool {
	switch name {
	case reauthPasswordField, reauthCodeField, reauthPasskeyField, reauthBackField, reauthDroppedField, "_csrf":
		return true
	}
	return false
}

// secretFields are fields the prompt does not carry to the change (it
// would write them into the page); reauthDroppedField names those it left
// out, so the change asks for them again instead of going on without.
var secretFields = map[string]bool{"client_secret": true, "password": true, "current": true, "new": true}

const reauthDroppedField = "reauth_dropped"

// secretDropped reports whether the prompt left the secret field name out
// of the change it sends again.
func secretDropped(c echo.Context, name string) bool {
	for _, d := range strings.Split(c.FormValue(reauthDroppedField), ",") {
		if d == name {
			return true
		}
	}
	return false
}

// markAuthenticated records now as when the session's user proved the
// password: by signing in, or (confirmed) by confirming it since.
func (h *Handlers) markAuthenticated(sess *sessions.Session, confirmed bool) {
	sess.Values[authTimeKey] = h.sessions.now().UnixMicro()
	if confirmed {
		sess.Values[authConfirmedKey] = true
	} else {
		delete(sess.Values, authConfirmedKey)
	}
}

// authTime is when the session's user last proved the password (zero: unknown).
func authTime(sess *sessions.Session) time.Time {
	if at, ok := sess.Values[authTimeKey].(int64); ok {
		return time.UnixMicro(at)
	}
	return time.Time{}
}

// Reauthenticate runs before every signed-in handler. It gives the
// request's principal the time its person last proved the password, and
// when that is too old and the request carries the prompt's password, it
// checks that password first: right, the session counts as freshly
// proved and the change goes through; wrong, the change goes on to be
// refused by the domain, and the prompt shows why.
func (h *Handlers) Reauthenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, err := h.sessions.Get(c.Request(), SessionCookieName)
		if err != nil {
			return err
		}
		at := authTime(sess)
		c.Set(authTimeCtxKey, at)
		c.Set(authConfirmedCtxKey, sess.Values[authConfirmedKey] == true)
		setSessionFactors(c, sess)
		if c.Request().Method != http.MethodPost || domain.RecentlyAuthenticated(at, h.sessions.now()) {
			return next(c)
		}
		params, err := c.FormParams()
		if err != nil {
			return domain.Errorf(domain.EINVALID, "The form could not be read.")
		}
		ctx, secondFactor := c.Request().Context(), true
		switch {
		case params.Get(reauthPasskeyField) != "":
			state, _ := sess.Values[confirmPasskeyKey].([]byte)
			delete(sess.Values, confirmPasskeyKey)
			err = h.signIns.ConfirmPasskey(ctx, principal(c), state, []byte(params.Get(reauthPasskeyField)))
		case params.Get(reauthCodeField) != "":
			err = h.signIns.ConfirmCode(ctx, principal(c), reauthCodeField, params.Get(reauthCodeField), h.passwordClient(c))
		case params.Has(reauthPasswordField):
			secondFactor = false
			err = h.accounts.ConfirmPassword(ctx, principal(c), params.Get(reauthPasswordField), h.passwordClient(c))
		default:
			return next(c)
		}
		switch domain.ErrorCode(err) {
		case "":
			h.markAuthenticated(sess, true)
			if secondFactor {
				sess.Values[secondFactorKey] = true
			}
			if err := sess.Save(c.Request(), c.Response()); err != nil {
				return err
			}
			c.Set(authTimeCtxKey, authTime(sess))
			c.Set(authConfirmedCtxKey, true)
			setSessionFactors(c, sess)
			Logger(c).Info("password confirmed", "user_id", principal(c).UserID, "second_factor", secondFactor)
		case domain.EINVALID, domain.ERATELIMITED, domain.EUNAUTHORIZED:
			c.Set(reauthRefusalCtxKey, err)
			Logger(c).Info("password confirmation refused", "user_id", principal(c).UserID, "code", domain.ErrorCode(err))
		default:
			return err
		}
		return next(c)
	}
}

// askPassword answers a change the domain refused with EREAUTH: the
// prompt, as a page, or as a dialog over the page for htmx. It carries
// the change's own fields (never a password or the CSRF token) and posts
// them to the same address.
func (h *Handlers) askPassword(c echo.Context, refusal error) error {
	params, err := c.FormParams()
	if err != nil {
		params = url.Values{}
	}
	form := views.ReauthForm{Action: c.Request().URL.RequestURI(), Message: domain.ErrorMessage(refusal),
		Back: reauthBack(c, params), Password: currentUser(c).PasswordHash != domain.NoPasswordHash}
	if ch, err := h.signIns.Choices(c.Request().Context(), currentUser(c).ID); err == nil {
		form.Code, form.Passkey = ch.HasTOTP || ch.RecoveryCodes > 0, ch.HasPasskeys
	}
	status := http.StatusUnauthorized
	if sent, ok := c.Get(reauthRefusalCtxKey).(error); ok {
		form.Error = domain.ErrorMessage(sent)
		if domain.ErrorCode(sent) == domain.ERATELIMITED {
			status = http.StatusTooManyRequests
			setRetryAfter(c, sent)
		}
	}
	names := make([]string, 0, len(params))
	var dropped []string
	for name := range params {
		switch {
		case secretFields[name]:
			// Never written into a page: the change's handler asks for it again.
			dropped = append(dropped, name)
		case !isReauthField(name):
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(dropped) > 0 {
		sort.Strings(dropped)
		form.Fields = append(form.Fields, views.ReauthField{Name: reauthDroppedField, Value: strings.Join(dropped, ",")})
	}
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
		hxSwapInto(c, "body", "beforeend")
		if status == http.StatusUnauthorized {
			status = http.StatusOK
		}
		return render(c, status, views.ReauthDialog(h.page(c, ""), form))
	}
	return render(c, status, views.ReauthPage(h.page(c, "Confirm your password"), form))
}

// reauthBack is where the prompt's Cancel link goes: the page the change
// was made from (the prompt's own field on a second try, else the
// Referer or htmx's current URL), when it is on this site; else home.
func reauthBack(c echo.Context, params url.Values) string {
	for _, raw := range []string{params.Get(reauthBackField), c.Request().Referer(), hxCurrentPage(c)} {
		u, err := url.Parse(raw)
		if raw == "" || err != nil || (u.Host != "" && u.Host != c.Request().Host) {
			continue
		}
		if back := safeNext(u.RequestURI()); back != "/" && back != c.Request().URL.RequestURI() {
			return back
		}
	}
	return "/"
}
