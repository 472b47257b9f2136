package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"studio/domain"
	"studio/handlers/httpx"
	"studio/views"

	"github.com/boombuler/barcode/qr"
	"github.com/labstack/echo/v4"
)

// The account's security page: authenticator app, recovery codes,
// passkeys; and the sign-in policies that send people there.

// Security shows the account's security page.
func (h *Handlers) Security(c echo.Context) error {
	return h.renderSecurity(c, http.StatusOK, views.SecurityView{Next: safeNextOrEmpty(c.QueryParam("next"))})
}

// safeNextOrEmpty is safeNext, keeping "" for none.
func safeNextOrEmpty(next string) string {
	if next == "" {
		return ""
	}
	return safeNext(next)
}

func (h *Handlers) renderSecurity(c echo.Context, status int, v views.SecurityView) error {
	ov, err := h.secondFactors.Overview(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	v.Overview = ov
	v.Verify = ov.Factors.Any() && !principal(c).SecondFactor && v.Next != ""
	if ov.Setup != nil {
		// The seed is on this page: no cache, no history snapshot.
		noStore(c)
		if v.QR, err = qrCode(ov.Setup.URL); err != nil {
			return err
		}
	}
	return render(c, status, views.Security(h.page(c, "Security"), v))
}

// qrCode draws text as a QR code: one SVG path of dark modules, with a
// quiet zone of 4 modules. boombuler/barcode comes with pquerna/otp
// already (its Key.Image uses it), so the QR code costs no other module
// and never leaves the server.
func qrCode(text string) (*views.QRCode, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	const quiet = 4
	n := code.Bounds().Dx()
	var path strings.Builder
	for y := range n {
		for x := range n {
			if r, _, _, _ := code.At(x, y).RGBA(); r == 0 {
				fmt.Fprintf(&path, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	return &views.QRCode{Size: n + 2*quiet, Path: path.String()}, nil
}

// markSecondFactor records in the session that it proved a second factor
// (and, having just done so, counts as freshly authenticated).
func (h *Handlers) markSecondFactor(c echo.Context) error {
	sess, err := h.sessions.Get(c.Request(), SessionCookieName)
	if err != nil {
		return err
	}
	sess.Values[secondFactorKey] = true
	h.markAuthenticated(sess, true)
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	setSessionFactors(c, sess)
	c.Set(authTimeCtxKey, authTime(sess))
	return nil
}

// BeginTOTP starts setting up an authenticator app.
func (h *Handlers) BeginTOTP(c echo.Context) error {
	_, err := h.secondFactors.BeginTOTP(c.Request().Context(), principal(c))
	if err != nil && domain.ErrorCode(err) != domain.ECONFLICT {
		return err
	}
	next := safeNextOrEmpty(c.FormValue("next"))
	if err != nil {
		return h.renderSecurity(c, http.StatusConflict, views.SecurityView{Next: next, Failed: views.SecurityFormTOTP,
			Errors: map[string]string{"code": domain.ErrorMessage(err)}})
	}
	return h.renderSecurity(c, http.StatusOK, views.SecurityView{Next: next})
}

// ConfirmTOTP turns the authenticator app on with a code from it, and
// shows the recovery codes once.
func (h *Handlers) ConfirmTOTP(c echo.Context) error {
	next := safeNextOrEmpty(c.FormValue("next"))
	codes, err := h.secondFactors.ConfirmTOTP(c.Request().Context(), principal(c), c.FormValue("code"), h.passwordClient(c))
	if code := domain.ErrorCode(err); code == domain.EINVALID || code == domain.ERATELIMITED || code == domain.ECONFLICT {
		status := http.StatusUnprocessableEntity
		if code == domain.ERATELIMITED {
			status = http.StatusTooManyRequests
			setRetryAfter(c, err)
		}
		errs := domain.FieldErrors(err)
		if len(errs) == 0 {
			errs = map[string]string{"code": domain.ErrorMessage(err)}
		}
		return h.renderSecurity(c, status, views.SecurityView{Next: next, Failed: views.SecurityFormTOTP, Errors: errs})
	}
	if err != nil {
		return err
	}
	if err := h.markSecondFactor(c); err != nil {
		return err
	}
	Logger(c).Info("authenticator app on", "user_id", principal(c).UserID)
	return h.showRecoveryCodes(c, codes, next, "The authenticator app is on.")
}

func (h *Handlers) showRecoveryCodes(c echo.Context, codes []string, next, title string) error {
	noStore(c)
	p := h.page(c, "Recovery codes")
	p.Flash = append(p.Flash, views.Flash{Kind: "success", Text: title})
	return render(c, http.StatusOK, views.RecoveryCodes(p, codes, next))
}

// DisableTOTP turns the authenticator app off (or cancels its setup).
func (h *Handlers) DisableTOTP(c echo.Context) error {
	err := h.secondFactors.DisableTOTP(c.Request().Context(), principal(c))
	if isInvalid(err) {
		return h.renderSecurity(c, http.StatusUnprocessableEntity, views.SecurityView{Failed: views.SecurityFormPasskey,
			Errors: map[string]string{"passkey": domain.ErrorMessage(err)}})
	}
	if err != nil {
		return err
	}
	h.setFlash(c, "success", "The authenticator app is off.")
	return redirect(c, views.SecurityURL)
}

// NewRecoveryCodes replaces the recovery codes and shows the new ones once.
func (h *Handlers) NewRecoveryCodes(c echo.Context) error {
	codes, err := h.secondFactors.NewRecoveryCodes(c.Request().Context(), principal(c))
	if isInvalid(err) {
		return h.renderSecurity(c, http.StatusUnprocessableEntity, views.SecurityView{Failed: views.SecurityFormPasskey,
			Errors: map[string]string{"passkey": domain.ErrorMessage(err)}})
	}
	if err != nil {
		return err
	}
	return h.showRecoveryCodes(c, codes, "", "New recovery codes are made; the old ones no longer work.")
}

// BeginPasskey starts registering a passkey: the page asks the browser.
func (h *Handlers) BeginPasskey(c echo.Context) error {
	name := c.FormValue("name")
	reg, err := h.secondFactors.BeginPasskey(c.Request().Context(), principal(c), name)
	if isInvalid(err) {
		return h.renderSecurity(c, http.StatusUnprocessableEntity, views.SecurityView{Failed: views.SecurityFormPasskey,
			Errors: domain.FieldErrors(err), PasskeyName: name})
	}
	if err != nil {
		return err
	}
	sess, err := h.sessions.Get(c.Request(), SessionCookieName)
	if err != nil {
		return err
	}
	sess.Values[registerPasskeyKey], sess.Values[registerNameKey] = reg.State, reg.Name
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	noStore(c)
	return render(c, http.StatusOK, views.PasskeyRegister(h.page(c, "Add a passkey"), reg.Name, string(reg.Options)))
}

// FinishPasskey stores the passkey the browser created.
func (h *Handlers) FinishPasskey(c echo.Context) error {
	sess, err := h.sessions.Get(c.Request(), SessionCookieName)
	if err != nil {
		return err
	}
	state, _ := sess.Values[registerPasskeyKey].([]byte)
	name, _ := sess.Values[registerNameKey].(string)
	added, err := h.secondFactors.FinishPasskey(c.Request().Context(), principal(c), name, state, []byte(c.FormValue("credential")))
	switch code := domain.ErrorCode(err); code {
	case "":
	case domain.EINVALID, domain.EUNAUTHORIZED, domain.ECONFLICT:
		Logger(c).Info("passkey registration refused", "code", code, "err", err)
		return h.renderSecurity(c, httpx.Status(code), views.SecurityView{Failed: views.SecurityFormPasskey,
			Errors: map[string]string{"passkey": domain.ErrorMessage(err)}, PasskeyName: name})
	default:
		return err
	}
	delete(sess.Values, registerPasskeyKey)
	delete(sess.Values, registerNameKey)
	// Creating it took the authenticator in hand: this session proved it.
	sess.Values[secondFactorKey] = true
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	Logger(c).Info("passkey added", "user_id", principal(c).UserID)
	if len(added.RecoveryCodes) > 0 {
		return h.showRecoveryCodes(c, added.RecoveryCodes, "", "The passkey "+added.Passkey.Name+" is added.")
	}
	h.setFlash(c, "success", "The passkey "+added.Passkey.Name+" is added.")
	return redirect(c, views.SecurityURL)
}

// RemovePasskey removes one of the user's passkeys.
func (h *Handlers) RemovePasskey(c echo.Context) error {
	id, _ := strconv.ParseInt(c.Param("passkey"), 10, 64)
	removed, err := h.secondFactors.RemovePasskey(c.Request().Context(), principal(c), id)
	if isInvalid(err) {
		return h.renderSecurity(c, http.StatusUnprocessableEntity, views.SecurityView{Failed: views.SecurityFormPasskey,
			Errors: map[string]string{"passkey": domain.ErrorMessage(err)}})
	}
	if err != nil {
		return err
	}
	h.setFlash(c, "success", "The passkey "+removed.Name+" is removed.")
	return redirect(c, views.SecurityURL)
}

// VerifyFactor proves the second factor in this session (a policy asked
// for it), then goes on where the person was going.
func (h *Handlers) VerifyFactor(c echo.Context) error {
	ctx, p, next := c.Request().Context(), principal(c), safeNextOrEmpty(c.FormValue("next"))
	var err error
	if credential := c.FormValue("passkey"); credential != "" {
		sess, serr := h.sessions.Get(c.Request(), SessionCookieName)
		if serr != nil {
			return serr
		}
		state, _ := sess.Values[confirmPasskeyKey].([]byte)
		delete(sess.Values, confirmPasskeyKey)
		err = h.signIns.ConfirmPasskey(ctx, p, state, []byte(credential))
		if err != nil {
			err = domain.FieldError("passkey", domain.ErrorMessage(err))
		}
	} else {
		err = h.signIns.ConfirmCode(ctx, p, "code", c.FormValue("code"), h.passwordClient(c))
	}
	if code := domain.ErrorCode(err); code == domain.EINVALID || code == domain.ERATELIMITED {
		status := http.StatusUnprocessableEntity
		if code == domain.ERATELIMITED {
			status = http.StatusTooManyRequests
			setRetryAfter(c, err)
		}
		return h.renderSecurity(c, status, views.SecurityView{Next: next, Failed: views.SecurityFormVerify, Errors: domain.FieldErrors(err)})
	}
	if err != nil {
		return err
	}
	if err := h.markSecondFactor(c); err != nil {
		return err
	}
	return redirect(c, safeNext(next))
}

// Context key of the organization whose policy refused a request.
const policyOrgCtxKey = "studio.policy_org"

// OrgPolicy runs before every page of an organization (routes with :org
// or :project): the organization's sign-in policy (domain.SecondFactors.Admit)
// may send the person to set up or prove a second factor, or to sign in
// with the organization's provider. A support staff member let in without
// the single sign-on an organization requires is audited once per session.
func (h *Handlers) OrgPolicy(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		orgID := c.Param("org")
		var adm domain.Admission
		var err error
		switch {
		case orgID != "":
			adm, err = h.secondFactors.Admit(ctx, principal(c), orgID)
		case c.Param("project") != "":
			orgID, adm, err = h.secondFactors.AdmitProject(ctx, principal(c), c.Param("project"))
		default:
			return next(c)
		}
		if err != nil {
			c.Set(policyOrgCtxKey, orgID)
			return err
		}
		if adm.StaffException {
			if err := h.recordStaffException(ctx, c, orgID); err != nil {
				return err
			}
		}
		return next(c)
	}
}

func (h *Handlers) recordStaffException(ctx context.Context, c echo.Context, orgID string) error {
	sess, err := h.sessions.Get(c.Request(), SessionCookieName)
	if err != nil {
		return err
	}
	done, _ := sess.Values[ssoExceptionsKey].([]string)
	for _, o := range done {
		if o == orgID {
			return nil
		}
	}
	if err := h.secondFactors.RecordStaffException(ctx, principal(c), orgID, c.Request().URL.Path); err != nil {
		return err
	}
	sess.Values[ssoExceptionsKey] = append(done, orgID)
	return sess.Save(c.Request(), c.Response())
}

// meetPolicy sends a person refused by a sign-in policy where it is met:
// the security page (to set up or prove a second factor), or the
// organization's provider.
func (h *Handlers) meetPolicy(c echo.Context, refusal error) error {
	back := "/"
	if c.Request().Method == http.MethodGet {
		back = c.Request().URL.RequestURI()
	} else if r := reauthBack(c, url.Values{}); r != "" {
		back = r
	}
	to := views.SecurityURL + "?next=" + url.QueryEscape(back)
	if domain.ErrorCode(refusal) == domain.ESSOREQUIRED {
		orgID, _ := c.Get(policyOrgCtxKey).(string)
		to = "/signin/sso?org=" + url.QueryEscape(orgID) + "&next=" + url.QueryEscape(back)
	} else {
		h.setFlash(c, "warning", domain.ErrorMessage(refusal))
	}
	if isHTMX(c) {
		hxRedirectTo(c, to)
		return c.NoContent(http.StatusForbidden)
	}
	return redirect(c, to)
}

// SupportResetSecondFactor removes a user's second factors (support staff).
func (h *Handlers) SupportResetSecondFactor(c echo.Context) error {
	return h.supportAction(c, views.SupportFormSecondFactor,
		func(ctx context.Context, p domain.Principal, acct domain.SupportAccount, reason string) (string, error) {
			if err := h.secondFactors.ResetByStaff(ctx, p, acct.Summary.Account.ID, reason); err != nil {
				return "", err
			}
			return "The second factor of " + acct.Summary.Email + " is reset; they are told at their next sign-in.", nil
		})
}
