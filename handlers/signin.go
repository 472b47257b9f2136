package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"studio/domain"
	"studio/handlers/httpx"
	"studio/views"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
)

// Sign-in beyond the password (issue 19): the second factor after the
// password (or the identity provider), the password-less passkey sign-in,
// and what the session remembers of how it was signed in. The domain
// (domain.SignIns) decides; this file carries tokens and pages.

// Session values of how the session was signed in.
const (
	// secondFactorKey: the session proved a second factor.
	secondFactorKey = "second_factor"
	// ssoOrgsKey: the organizations whose provider signed this session in.
	ssoOrgsKey = "sso_orgs"
	// ssoExceptionsKey: organizations requiring single sign-on whose pages
	// this (support staff) session opened without it, already audited.
	ssoExceptionsKey = "sso_exceptions"
	// confirmPasskeyKey, registerPasskeyKey, registerNameKey: WebAuthn
	// ceremonies under way in the session (used once).
	confirmPasskeyKey  = "webauthn_confirm"
	registerPasskeyKey = "webauthn_register"
	registerNameKey    = "webauthn_register_name"

	secondFactorCtxKey = "studio.second_factor"
	ssoOrgsCtxKey      = "studio.sso_orgs"
)

// pendingCookie holds the token of a sign-in in progress (between the
// password and the second factor, a passkey sign-in, an identity to link).
const pendingCookie = "studio_signin"

// setSessionFactors gives the request's principal what its session proved.
func setSessionFactors(c echo.Context, sess *sessions.Session) {
	second, _ := sess.Values[secondFactorKey].(bool)
	orgs, _ := sess.Values[ssoOrgsKey].([]string)
	c.Set(secondFactorCtxKey, second)
	c.Set(ssoOrgsCtxKey, orgs)
}

func (h *Handlers) setPending(c echo.Context, token string) {
	c.SetCookie(&http.Cookie{Name: pendingCookie, Value: token, Path: "/signin", MaxAge: int(domain.PendingSignInTTL.Seconds()),
		HttpOnly: true, Secure: h.cookieSecure, SameSite: http.SameSiteLaxMode})
}

func (h *Handlers) clearPending(c echo.Context) {
	if _, err := c.Cookie(pendingCookie); err != nil {
		return
	}
	c.SetCookie(&http.Cookie{Name: pendingCookie, Value: "", Path: "/signin", MaxAge: -1,
		HttpOnly: true, Secure: h.cookieSecure, SameSite: http.SameSiteLaxMode})
}

func pendingToken(c echo.Context) string {
	if ck, err := c.Cookie(pendingCookie); err == nil {
		return ck.Value
	}
	return ""
}

// continueSignIn takes a sign-in where its step left it: signed in (to
// next), or on to the second factor or the link of an identity.
func (h *Handlers) continueSignIn(c echo.Context, step domain.SignInStep, next string) error {
	if step.Done() {
		if err := h.signedIn(c, step); err != nil {
			return err
		}
		return redirect(c, next)
	}
	h.setPending(c, step.Pending)
	to := "/signin/verify"
	if step.PendingKind == domain.PendingSSOLink {
		to = "/signin/link"
	}
	if next != "/" {
		to += "?next=" + url.QueryEscape(next)
	}
	return redirect(c, to)
}

// signedIn starts the session of a finished sign-in, remembers the
// browser for the user, and tells what the user must know.
func (h *Handlers) signedIn(c echo.Context, step domain.SignInStep) error {
	h.clearPending(c)
	if err := h.startSessionAs(c, step); err != nil {
		return err
	}
	if err := h.rememberBrowser(c, step.User.ID); err != nil {
		return err
	}
	if r := step.Reset; r != nil {
		h.setFlash(c, "warning", "Support staff reset your second factor on "+r.Time.UTC().Format("2 Jan 2006 at 15:04 UTC")+
			" (reason: "+r.Reason+"). Set up a new one under Security. If you did not ask for this, tell your support team now.")
	}
	if step.FailedAttempts.Count > 0 {
		h.setFlash(c, "warning", failedAttemptsNotice(step.FailedAttempts))
	}
	if step.UsedRecoveryCode {
		h.setFlash(c, "warning", "You signed in with a recovery code; "+strconv.Itoa(step.RecoveryCodesLeft)+
			" left. If your second factor is lost, set up a new one and make new recovery codes under Security.")
	}
	Logger(c).Info("signed in", "user_id", step.User.ID, "second_factor", step.SecondFactor, "sso_org", step.SSOOrg)
	return nil
}

// startSessionAs starts a new session for a finished sign-in, with what
// it proved. A single sign-on of the user already signed in here keeps
// the organizations proved before.
func (h *Handlers) startSessionAs(c echo.Context, step domain.SignInStep) error {
	var orgs []string
	second := step.SecondFactor
	if sess, err := h.sessions.Get(c.Request(), SessionCookieName); err == nil && !sess.IsNew && step.SSOOrg != "" {
		if id, _ := sess.Values[sessionUserKey].(int64); id == step.User.ID {
			orgs, _ = sess.Values[ssoOrgsKey].([]string)
			before, _ := sess.Values[secondFactorKey].(bool)
			second = second || before
		}
	}
	if step.SSOOrg != "" && !slices.Contains(orgs, step.SSOOrg) {
		orgs = append(orgs, step.SSOOrg)
	}
	return h.startSessionWith(c, step.User.ID, func(v map[any]any) {
		if second {
			v[secondFactorKey] = true
		}
		if len(orgs) > 0 {
			v[ssoOrgsKey] = orgs
		}
	})
}

// SecondFactorPage asks for the second factor of a sign-in in progress.
func (h *Handlers) SecondFactorPage(c echo.Context) error {
	step, err := h.signIns.SecondFactorChoices(c.Request().Context(), pendingToken(c))
	if err != nil {
		return h.pendingRefused(c, err)
	}
	noStore(c)
	return render(c, http.StatusOK, views.SecondFactor(h.page(c, "Confirm it is you"), views.SecondFactorForm{
		Email: step.User.Email, HasTOTP: step.HasTOTP, HasPasskeys: step.HasPasskeys, Next: safeNext(c.QueryParam("next"))}))
}

// pendingRefused answers a sign-in in progress that is over (expired,
// finished elsewhere) or refused for good (a locked account): back to the
// sign-in page with the reason.
func (h *Handlers) pendingRefused(c echo.Context, err error) error {
	switch domain.ErrorCode(err) {
	case domain.EUNAUTHORIZED, domain.EFORBIDDEN:
		h.clearPending(c)
		h.setFlash(c, "error", domain.ErrorMessage(err))
		return redirect(c, "/signin")
	}
	return err
}

// SecondFactor finishes a sign-in in progress with a code or a passkey.
func (h *Handlers) SecondFactor(c echo.Context) error {
	ctx, token, next := c.Request().Context(), pendingToken(c), safeNext(c.FormValue("next"))
	step, err := h.signIns.SecondStep(ctx, token, c.FormValue("code"), []byte(c.FormValue("passkey")), h.passwordClient(c))
	if err == nil {
		return h.continueSignIn(c, step, next)
	}
	if domain.IsPendingGone(err) || domain.ErrorCode(err) == domain.EFORBIDDEN {
		return h.pendingRefused(c, err)
	}
	status := http.StatusUnprocessableEntity
	form := views.SecondFactorForm{Next: next, Errors: domain.FieldErrors(err)}
	switch domain.ErrorCode(err) {
	case domain.EINVALID:
	case domain.ERATELIMITED:
		status = http.StatusTooManyRequests
		setRetryAfter(c, err)
	case domain.EUNAUTHORIZED:
		status = http.StatusUnauthorized
		form.Errors = map[string]string{"passkey": domain.ErrorMessage(err)}
		Logger(c).Info("second factor refused", "code", domain.ErrorCode(err), "err", err)
	default:
		return err
	}
	Logger(c).Info("second factor refused", "code", domain.ErrorCode(err))
	choices, cerr := h.signIns.SecondFactorChoices(ctx, token)
	if cerr != nil {
		return h.pendingRefused(c, cerr)
	}
	form.Email, form.HasTOTP, form.HasPasskeys = choices.User.Email, choices.HasTOTP, choices.HasPasskeys
	noStore(c)
	return render(c, status, views.SecondFactor(h.page(c, "Confirm it is you"), form))
}

// jsonError answers a script's request (passkey options) with the message.
func jsonError(c echo.Context, err error) error {
	code := domain.ErrorCode(err)
	if code == domain.EINTERNAL {
		return err
	}
	setRetryAfter(c, err)
	return c.JSON(httpx.Status(code), map[string]string{"error": domain.ErrorMessage(err)})
}

func jsonOptions(c echo.Context, options []byte) error {
	noStore(c)
	return c.JSONBlob(http.StatusOK, json.RawMessage(options))
}

// SecondFactorPasskeyOptions starts the passkey assertion of a sign-in in progress.
func (h *Handlers) SecondFactorPasskeyOptions(c echo.Context) error {
	options, err := h.signIns.SecondFactorPasskeyOptions(c.Request().Context(), pendingToken(c))
	if err != nil {
		return jsonError(c, err)
	}
	return jsonOptions(c, options)
}

// PasskeySignInOptions starts a password-less sign-in.
func (h *Handlers) PasskeySignInOptions(c echo.Context) error {
	token, options, err := h.signIns.PasskeyOptions(c.Request().Context())
	if err != nil {
		return jsonError(c, err)
	}
	h.setPending(c, token)
	return jsonOptions(c, options)
}

// PasskeySignIn finishes a password-less sign-in.
func (h *Handlers) PasskeySignIn(c echo.Context) error {
	next := safeNext(c.FormValue("next"))
	step, err := h.signIns.PasskeySignIn(c.Request().Context(), pendingToken(c), []byte(c.FormValue("credential")))
	h.clearPending(c)
	if err != nil {
		status := httpx.Status(domain.ErrorCode(err))
		if status >= 500 {
			return err
		}
		Logger(c).Info("passkey sign-in refused", "code", domain.ErrorCode(err), "err", err)
		return render(c, status, views.SignIn(h.page(c, "Sign in"), views.SignInForm{Next: next, Error: domain.ErrorMessage(err)}))
	}
	return h.continueSignIn(c, step, next)
}

// ConfirmPasskeyOptions starts a passkey assertion of the signed-in user
// (for the re-authentication prompt and the policies' confirmation); its
// state waits in the session.
func (h *Handlers) ConfirmPasskeyOptions(c echo.Context) error {
	options, state, err := h.signIns.ConfirmPasskeyOptions(c.Request().Context(), principal(c))
	if err != nil {
		return jsonError(c, err)
	}
	sess, err := h.sessions.Get(c.Request(), SessionCookieName)
	if err != nil {
		return err
	}
	sess.Values[confirmPasskeyKey] = state
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return jsonOptions(c, options)
}
