package handlers

import (
	"encoding/base64"
	"encoding/json"
	"net/http"

	"studio/domain"
	"studio/views"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// isFragment reports whether htmx asked for a part of the page (not a
// boosted whole-page navigation).
func isFragment(c echo.Context) bool {
	return c.Request().Header.Get("HX-Request") != "" && c.Request().Header.Get("HX-Boosted") == ""
}

// ServiceAccounts lists a project's service accounts.
func (h *Handlers) ServiceAccounts(c echo.Context) error {
	return h.renderServiceAccounts(c, http.StatusOK, "", nil)
}

func (h *Handlers) renderServiceAccounts(c echo.Context, status int, newName string, errs map[string]string) error {
	query := c.QueryParam("q")
	req := pageRequest(c, consolePageSize)
	a, list, err := h.serviceAccounts.List(c.Request().Context(), principal(c), c.Param("project"), query, req)
	if err != nil {
		return err
	}
	return render(c, status, views.ServiceAccounts(h.projectPage(c, "Service Accounts", a, views.MenuServiceAccounts),
		views.ServiceAccountsPage{Access: a, Accounts: list, Query: query, First: req.Token == "", NewName: newName, Errors: errs}))
}

// CreateServiceAccount makes an account and opens its page.
func (h *Handlers) CreateServiceAccount(c echo.Context) error {
	name := c.FormValue("displayName")
	sa, err := h.serviceAccounts.Create(c.Request().Context(), principal(c), c.Param("project"), domain.ServiceAccountInput{DisplayName: &name})
	if isInvalid(err) || cannotSave(c, err) {
		return h.renderServiceAccounts(c, http.StatusUnprocessableEntity, name, domain.FieldErrors(err))
	}
	if err != nil {
		return err
	}
	h.setFlash(c, "success", "Service account “"+sa.DisplayName+"” created. It has no access until you give it a role.")
	return redirect(c, accountURL(sa))
}

func accountURL(sa domain.ServiceAccount) string {
	return "/projects/" + sa.ProjectID + "/serviceaccounts/" + sa.ID
}

// accountMembershipsShown bounds the memberships listed on an account's page.
const accountMembershipsShown = 50

// loadAccount gathers everything an account's page shows.
func (h *Handlers) loadAccount(c echo.Context) (views.AccountPage, error) {
	ctx, p := c.Request().Context(), principal(c)
	projectID, accountID := c.Param("project"), c.Param("sa")
	o, err := h.serviceAccounts.Overview(ctx, p, projectID, accountID, accountMembershipsShown+1)
	if err != nil {
		return views.AccountPage{}, err
	}
	v, ms := o.View, o.Memberships
	a := views.AccountPage{View: v, Keys: o.Keys, Memberships: ms, Name: v.Account.DisplayName, BaseURL: h.baseURL,
		Now: h.serviceAccounts.Now(), Policy: o.Policy, HiddenMemberships: o.Hidden, MoreMemberships: o.More}
	if len(ms) > accountMembershipsShown {
		a.Memberships, a.MoreMemberships = ms[:accountMembershipsShown], true
	}
	return a, nil
}

func (h *Handlers) accountPage(c echo.Context, a views.AccountPage) views.Page {
	return h.projectPage(c, a.View.Account.DisplayName, a.View.Access, views.MenuServiceAccounts)
}

// ServiceAccount shows one account's page.
func (h *Handlers) ServiceAccount(c echo.Context) error {
	a, err := h.loadAccount(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Account(h.accountPage(c, a), a))
}

// afterAccountChange answers a change on an account's page: the changed
// part for htmx, or a redirect back to the page with a flash message.
func (h *Handlers) afterAccountChange(c echo.Context, message string, part func(views.Page, views.AccountPage) templ.Component) error {
	if !isFragment(c) {
		h.setFlash(c, "success", message)
		return redirect(c, "/projects/"+c.Param("project")+"/serviceaccounts/"+c.Param("sa"))
	}
	a, err := h.loadAccount(c)
	if err != nil {
		return err
	}
	p := h.page(c, "")
	p.Project = &a.View.Access.Project
	return render(c, http.StatusOK, views.WithToast(part(p, a), message))
}

// RenameServiceAccount changes an account's display name.
func (h *Handlers) RenameServiceAccount(c echo.Context) error {
	name := c.FormValue("displayName")
	sa, err := h.serviceAccounts.Update(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"), domain.ServiceAccountInput{DisplayName: &name})
	if isInvalid(err) || cannotSave(c, err) {
		a, lerr := h.loadAccount(c)
		if lerr != nil {
			return lerr
		}
		a.Name, a.NameErrors = name, domain.FieldErrors(err)
		if isFragment(c) {
			return render(c, http.StatusUnprocessableEntity, views.AccountName(h.page(c, ""), a))
		}
		return render(c, http.StatusUnprocessableEntity, views.Account(h.accountPage(c, a), a))
	}
	if err != nil {
		return err
	}
	return h.afterAccountChange(c, "Renamed to “"+sa.DisplayName+"”.", views.AccountNameRenamed)
}

// SetServiceAccountBasicAuth switches Basic Auth on or off.
func (h *Handlers) SetServiceAccountBasicAuth(c echo.Context) error {
	// Refuse who may not change the account before looking at the form.
	v, err := h.serviceAccounts.Get(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"))
	if err != nil {
		return err
	}
	if err := v.Access.Require(domain.PermServiceAccountUpdate); err != nil {
		return err
	}
	var enable bool
	switch c.FormValue("enable") {
	case "true":
		enable = true
	case "false":
	default:
		return domain.FieldError("enable", "Say whether to enable Basic Auth.")
	}
	if _, err := h.serviceAccounts.Update(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"),
		domain.ServiceAccountInput{EnableBasicAuth: &enable}); err != nil {
		return err
	}
	msg := "Basic Auth is off."
	if enable {
		msg = "Basic Auth is on. Use it for prototyping; prefer the OAuth2 token exchange in production."
	}
	return h.afterAccountChange(c, msg, views.AccountBasicAuth)
}

// SetServiceAccountRole sets the account's role in its owning project.
func (h *Handlers) SetServiceAccountRole(c echo.Context) error {
	role := domain.Role(c.FormValue("role"))
	err := h.serviceAccounts.SetProjectRole(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"), role)
	if isInvalid(err) {
		a, lerr := h.loadAccount(c)
		if lerr != nil {
			return lerr
		}
		p := h.accountPage(c, a)
		if isFragment(c) {
			return render(c, http.StatusUnprocessableEntity, views.AccountRole(p, a, domain.FieldErrors(err)))
		}
		return err
	}
	if err != nil {
		return err
	}
	return h.afterAccountChange(c, "Role in this project: "+domain.RoleDisplayName(role)+".",
		func(p views.Page, a views.AccountPage) templ.Component { return views.AccountRole(p, a, nil) })
}

// CreateKey makes a key and shows its secret once, in this response only:
// never stored in the session, the URL, a cache or htmx's history.
func (h *Handlers) CreateKey(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	v, err := h.serviceAccounts.Get(ctx, p, c.Param("project"), c.Param("sa"))
	if err != nil {
		return err
	}
	if err := v.Access.Require(domain.PermKeyCreate); err != nil {
		return err
	}
	var k domain.Key
	var secret string
	opts, err := keyOptions(c.FormValue("expires"), h.serviceAccounts.Now())
	if err == nil {
		k, secret, err = h.serviceAccounts.CreateKeyWith(ctx, p, c.Param("project"), c.Param("sa"), opts)
	}
	if err != nil && !isInvalid(err) {
		return err
	}
	var dialog *views.NewKeyDialog
	if err == nil {
		dialog = &views.NewKeyDialog{KeyID: k.ID, Secret: secret, ExpireTime: k.ExpireTime}
	}
	return h.renderKeys(c, dialog, err)
}

// renderKeys answers a key creation or rotation: the keys (with the
// one-time secret dialog, or the error) as a fragment for htmx, the whole
// account page otherwise. Never cached.
func (h *Handlers) renderKeys(c echo.Context, dialog *views.NewKeyDialog, keyErr error) error {
	a, err := h.loadAccount(c)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if keyErr != nil {
		a.KeyError, status = domain.ErrorMessage(keyErr), http.StatusUnprocessableEntity
	} else if dialog != nil {
		dialog.Email = a.View.Account.Email
		dialog.Credentials = credentialsDataURL(dialog.KeyID, dialog.Secret, a.View.Account.Email, h.baseURL+"/oauth2/token")
		a.NewKey = dialog
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set("Pragma", "no-cache")
	if isFragment(c) {
		return render(c, status, views.AccountKeys(h.accountPage(c, a), a))
	}
	// A plain form post shows the whole page; the address stays the page's own.
	c.Response().Header().Set("HX-Replace-Url", accountURL(a.View.Account))
	return render(c, status, views.Account(h.accountPage(c, a), a))
}

// credentialsDataURL is the credentials file of the API contract, as a data: URL for download.
func credentialsDataURL(keyID, secret, email, tokenEndpoint string) string {
	body, _ := json.MarshalIndent(map[string]any{"serviceAccount": map[string]string{
		"keyId": keyID, "secret": secret, "email": email, "algorithm": "HS256", "tokenEndpoint": tokenEndpoint,
	}}, "", "  ")
	return "data:application/json;base64," + base64.StdEncoding.EncodeToString(body)
}

// DeleteKeyPage asks for confirmation before deleting a key (without JavaScript).
func (h *Handlers) DeleteKeyPage(c echo.Context) error {
	a, err := h.loadAccount(c)
	if err != nil {
		return err
	}
	if err := a.View.Access.Require(domain.PermKeyDelete); err != nil {
		return err
	}
	if _, err := h.serviceAccounts.GetKey(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"), c.Param("key")); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.DeleteKey(h.accountPage(c, a), a, c.Param("key")))
}

// DeleteKey deletes a key once confirmed.
func (h *Handlers) DeleteKey(c echo.Context) error {
	v, err := h.serviceAccounts.Get(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"))
	if err != nil {
		return err
	}
	if err := v.Access.Require(domain.PermKeyDelete); err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		return domain.FieldError("confirm", "Confirm the deletion of the key.")
	}
	if err := h.serviceAccounts.DeleteKey(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"), c.Param("key")); err != nil {
		return err
	}
	return h.afterAccountChange(c, "Key "+c.Param("key")+" deleted.", views.AccountKeys)
}

// DeleteServiceAccountPage lists what goes with the account and asks to type its name.
func (h *Handlers) DeleteServiceAccountPage(c echo.Context) error {
	a, err := h.loadAccount(c)
	if err != nil {
		return err
	}
	if err := a.View.Access.Require(domain.PermServiceAccountDelete); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.DeleteAccount(h.accountPage(c, a), views.DeleteAccountForm{Account: a}))
}

// DeleteServiceAccount deletes the account once its name was typed.
func (h *Handlers) DeleteServiceAccount(c echo.Context) error {
	a, err := h.loadAccount(c)
	if err != nil {
		return err
	}
	if err := a.View.Access.Require(domain.PermServiceAccountDelete); err != nil {
		return err
	}
	typed := c.FormValue("confirm")
	if typed != a.View.Account.DisplayName {
		return render(c, http.StatusUnprocessableEntity, views.DeleteAccount(h.accountPage(c, a), views.DeleteAccountForm{
			Account: a, Typed: typed, Errors: map[string]string{"confirm": "Type the account's name exactly to confirm."}}))
	}
	if err := h.serviceAccounts.Delete(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa")); err != nil {
		return err
	}
	h.setFlash(c, "success", "Service account “"+a.View.Account.DisplayName+"” deleted, with its keys and memberships.")
	return redirect(c, "/projects/"+c.Param("project")+"/serviceaccounts")
}
