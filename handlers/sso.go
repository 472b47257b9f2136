package handlers

import (
	"net/http"
	"slices"
	"strings"

	"studio/domain"
	"studio/handlers/httpx"
	"studio/views"

	"github.com/labstack/echo/v4"
)

// Single sign-on (OpenID Connect) pages: "Sign in with <provider>", the
// provider's answer, linking an identity to an existing account, and an
// organization's sign-in settings. domain.SSO decides.

// ssoBrowserCookie is the value a browser keeps while it signs in at a
// provider: the answer is taken only from the browser that started.
const ssoBrowserCookie = "studio_sso"

// providerFor names the provider an email signs in through ("" when none).
func (h *Handlers) providerFor(c echo.Context, email string) string {
	if email == "" || h.sso == nil {
		return ""
	}
	conn, err := h.sso.ProviderFor(c.Request().Context(), email)
	if err != nil {
		return ""
	}
	return conn.ProviderName
}

// SignInProvider answers the sign-in page's email field (htmx): the
// "Sign in with <provider>" choice of the email's domain, or nothing.
func (h *Handlers) SignInProvider(c echo.Context) error {
	form := views.SignInForm{Email: strings.TrimSpace(c.QueryParam("email")), Next: safeNext(c.QueryParam("next"))}
	form.Provider = h.providerFor(c, form.Email)
	return render(c, http.StatusOK, views.SignInProvider(form))
}

// SSOStartPage asks to sign in with the provider of an organization that
// requires it (the console sends its members here).
func (h *Handlers) SSOStartPage(c echo.Context) error {
	orgID, next := c.QueryParam("org"), safeNext(c.QueryParam("next"))
	v, err := h.sso.StartView(c.Request().Context(), orgID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.SSOStart(h.page(c, "Sign in with "+v.ProviderName), views.SSOStartView{
		OrganizationID: orgID, OrganizationName: v.OrganizationName, ProviderName: v.ProviderName, Next: next,
		Message: v.OrganizationName + " requires signing in with " + v.ProviderName + " to open its pages."}))
}

// SSOBegin sends the browser to the provider of an organization (org) or
// of an email's domain (email). It is a GET (a link): the browser leaves
// for the provider's site, where a form's answer may not go (CSP
// form-action). Starting a sign-in gives nobody anything: the answer is
// taken only in this browser (the cookie set here).
func (h *Handlers) SSOBegin(c echo.Context) error {
	email, next := strings.TrimSpace(c.QueryParam("email")), safeNext(c.QueryParam("next"))
	start, err := h.sso.Begin(c.Request().Context(), c.QueryParam("org"), email, next)
	if err != nil {
		status := httpx.Status(domain.ErrorCode(err))
		if status >= 500 && domain.ErrorCode(err) != domain.EUNAVAILABLE {
			return err
		}
		Logger(c).Info("single sign-on not started", "code", domain.ErrorCode(err), "err", err)
		return render(c, status, views.SignIn(h.page(c, "Sign in"), views.SignInForm{Email: email, Next: next, Error: domain.ErrorMessage(err)}))
	}
	c.SetCookie(&http.Cookie{Name: ssoBrowserCookie, Value: start.Browser, Path: "/signin/sso", MaxAge: int(domain.SSOStateTTL.Seconds()),
		HttpOnly: true, Secure: h.cookieSecure, SameSite: http.SameSiteLaxMode})
	noStore(c)
	return c.Redirect(http.StatusSeeOther, start.URL)
}

// SSOCallback takes the provider's answer.
func (h *Handlers) SSOCallback(c echo.Context) error {
	browser := ""
	if ck, err := c.Cookie(ssoBrowserCookie); err == nil {
		browser = ck.Value
	}
	c.SetCookie(&http.Cookie{Name: ssoBrowserCookie, Value: "", Path: "/signin/sso", MaxAge: -1,
		HttpOnly: true, Secure: h.cookieSecure, SameSite: http.SameSiteLaxMode})
	noStore(c)
	if e := c.QueryParam("error"); e != "" {
		// The provider said no (the person cancelled, or is not allowed there).
		Logger(c).Info("identity provider refused the sign-in", "error", e)
		return render(c, http.StatusUnauthorized, views.SignIn(h.page(c, "Sign in"), views.SignInForm{
			Error: "The identity provider did not sign you in (" + trimError(e) + "). Try again, or sign in with your password."}))
	}
	res, err := h.sso.Finish(c.Request().Context(), c.QueryParam("state"), browser, c.QueryParam("code"), h.passwordClient(c))
	if err != nil {
		status := httpx.Status(domain.ErrorCode(err))
		if status >= 500 && domain.ErrorCode(err) != domain.EUNAVAILABLE {
			return err
		}
		Logger(c).Info("single sign-on refused", "code", domain.ErrorCode(err), "err", err)
		return render(c, status, views.SignIn(h.page(c, "Sign in"), views.SignInForm{Error: domain.ErrorMessage(err)}))
	}
	return h.continueSignIn(c, res.SignInStep, safeNext(res.Next))
}

// trimError keeps a provider's error code short and plain.
func trimError(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return -1
	}, s)
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}

// SSOLinkPage asks the password of the account an identity would link to.
func (h *Handlers) SSOLinkPage(c echo.Context) error {
	v, err := h.sso.PendingLink(c.Request().Context(), pendingToken(c))
	if err != nil {
		return h.pendingRefused(c, err)
	}
	noStore(c)
	return render(c, http.StatusOK, views.SSOLink(h.page(c, "Link your account"), views.SSOLinkForm{View: v, Next: safeNext(c.QueryParam("next"))}))
}

// SSOLink links the identity once the account's password is right.
func (h *Handlers) SSOLink(c echo.Context) error {
	ctx, token, next := c.Request().Context(), pendingToken(c), safeNext(c.FormValue("next"))
	step, err := h.sso.LinkWithPassword(ctx, token, c.FormValue("password"), h.passwordClient(c))
	if err == nil {
		Logger(c).Info("identity linked", "user_id", step.User.ID)
		return h.continueSignIn(c, step, next)
	}
	code := domain.ErrorCode(err)
	if code != domain.EINVALID && code != domain.ERATELIMITED {
		return h.pendingRefused(c, err)
	}
	setRetryAfter(c, err)
	Logger(c).Info("identity link refused", "code", code)
	v, verr := h.sso.PendingLink(ctx, token)
	if verr != nil {
		return h.pendingRefused(c, verr)
	}
	status := http.StatusUnauthorized
	if code == domain.ERATELIMITED {
		status = http.StatusTooManyRequests
	}
	noStore(c)
	return render(c, status, views.SSOLink(h.page(c, "Link your account"), views.SSOLinkForm{View: v, Next: next, Errors: domain.FieldErrors(err)}))
}

// OrgSecurity shows an organization's sign-in settings to its admins.
func (h *Handlers) OrgSecurity(c echo.Context) error {
	v, err := h.orgSecurityView(c, nil)
	if err != nil {
		return err
	}
	return h.renderOrgSecurity(c, http.StatusOK, v)
}

func (h *Handlers) orgSecurityView(c echo.Context, typed *domain.SSOInput) (views.OrgSecurityView, error) {
	ctx, p := c.Request().Context(), principal(c)
	settings, err := h.sso.Settings(ctx, p, c.Param("org"))
	if err != nil {
		return views.OrgSecurityView{}, err
	}
	v := views.OrgSecurityView{Settings: settings, RedirectURL: h.sso.RedirectURL()}
	if conn := settings.Connection; conn != nil {
		v.Form = domain.SSOInput{ProviderName: conn.ProviderName, Issuer: conn.Issuer, ClientID: conn.ClientID,
			Domains: strings.Join(conn.Domains, ", "), DefaultProjectID: conn.DefaultProjectID, DefaultRole: conn.DefaultRole}
	}
	if typed != nil {
		v.Form = *typed
		v.Form.ClientSecret = ""
	}
	list, err := h.projects.ListProjects(ctx, p, settings.Organization.ID, "", domain.PageRequest{Size: 100})
	if err != nil {
		return v, err
	}
	v.Projects = list.Items
	// The choices are the first projects by name: the one chosen before
	// is among them even when it is further down, so saving keeps it.
	if d := settings.DefaultProject; d != nil && !slices.ContainsFunc(v.Projects, func(p domain.Project) bool { return p.ID == d.ID }) {
		v.Projects = append([]domain.Project{*d}, v.Projects...)
	}
	return v, nil
}

func (h *Handlers) renderOrgSecurity(c echo.Context, status int, v views.OrgSecurityView) error {
	p := h.page(c, "Sign-in · "+v.Settings.Organization.DisplayName)
	org := v.Settings.Organization
	p.Org, p.OrgAdm = &org, true
	return render(c, status, views.OrgSecurity(p, v))
}

// SaveSignInPolicy sets what the organization requires of its members' sign-in.
func (h *Handlers) SaveSignInPolicy(c echo.Context) error {
	err := h.sso.SetPolicy(c.Request().Context(), principal(c), c.Param("org"),
		c.FormValue("require_second_factor") == "on", c.FormValue("require_sso") == "on")
	if isInvalid(err) {
		v, verr := h.orgSecurityView(c, nil)
		if verr != nil {
			return verr
		}
		v.PolicyErrors = domain.FieldErrors(err)
		return h.renderOrgSecurity(c, http.StatusUnprocessableEntity, v)
	}
	if err != nil {
		return err
	}
	h.setFlash(c, "success", "The sign-in policy is saved.")
	return redirect(c, views.OrgSecurityURL(c.Param("org")))
}

// SaveSSO connects or reconnects the organization's identity provider.
func (h *Handlers) SaveSSO(c echo.Context) error {
	in := domain.SSOInput{ProviderName: c.FormValue("provider_name"), Issuer: c.FormValue("issuer"), ClientID: c.FormValue("client_id"),
		ClientSecret: c.FormValue("client_secret"), Domains: c.FormValue("domains"),
		DefaultProjectID: c.FormValue("default_project"), DefaultRole: domain.Role(c.FormValue("default_role"))}
	var err error
	if secretDropped(c, "client_secret") {
		// Sent again through the password prompt, which does not carry
		// the secret: saving without it would keep the old one.
		err = domain.FieldError("client_secret", "Enter the client secret again: the password prompt does not carry it.")
	} else {
		err = h.sso.SaveConnection(c.Request().Context(), principal(c), c.Param("org"), in)
	}
	if code := domain.ErrorCode(err); code == domain.EINVALID || code == domain.ECONFLICT {
		v, verr := h.orgSecurityView(c, &in)
		if verr != nil {
			return verr
		}
		v.Errors = domain.FieldErrors(err)
		if len(v.Errors) == 0 {
			v.Errors = map[string]string{"provider_name": domain.ErrorMessage(err)}
		}
		return h.renderOrgSecurity(c, http.StatusUnprocessableEntity, v)
	}
	if err != nil {
		return err
	}
	h.setFlash(c, "success", "The identity provider is saved. Try it: sign out, then sign in with it.")
	return redirect(c, views.OrgSecurityURL(c.Param("org")))
}

// DeleteSSO disconnects the organization's identity provider.
func (h *Handlers) DeleteSSO(c echo.Context) error {
	if err := h.sso.DeleteConnection(c.Request().Context(), principal(c), c.Param("org"), c.FormValue("confirm") == "yes"); err != nil {
		return err
	}
	h.setFlash(c, "success", "The identity provider is disconnected.")
	return redirect(c, views.OrgSecurityURL(c.Param("org")))
}
