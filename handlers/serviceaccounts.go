package handlers

import (
	"net/http"

	"studio/domain"
	"studio/views"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

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
	return h.accountPageOf(o), nil
}

// refresh asks a change for the account's page as the change leaves it
// (see domain.Refresh), read in the change's transaction.
func refresh(into *domain.AccountOverview) domain.Refresh {
	return domain.Refresh{Into: into, MembershipLimit: accountMembershipsShown + 1}
}

// refreshFragment asks for it only when the answer shows a part of the
// page (htmx); a plain form post is redirected to the page instead.
func refreshFragment(c echo.Context, into *domain.AccountOverview) []domain.Refresh {
	if !isFragment(c) {
		return nil
	}
	return []domain.Refresh{refresh(into)}
}

// accountPageOf is the account page's view model.
func (h *Handlers) accountPageOf(o domain.AccountOverview) views.AccountPage {
	v, ms := o.View, o.Memberships
	a := views.AccountPage{View: v, Keys: o.Keys, Memberships: ms, Name: v.Account.DisplayName, BaseURL: h.baseURL,
		Now: h.serviceAccounts.Now(), Policy: o.Policy, HiddenMemberships: o.Hidden, MoreMemberships: o.More}
	if len(ms) > accountMembershipsShown {
		a.Memberships, a.MoreMemberships = ms[:accountMembershipsShown], true
	}
	return a
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
// part for htmx, from the overview the change returned (refreshFragment),
// or a redirect back to the page with a flash message.
func (h *Handlers) afterAccountChange(c echo.Context, message string, o domain.AccountOverview, part func(views.Page, views.AccountPage) templ.Component) error {
	if !isFragment(c) {
		h.setFlash(c, "success", message)
		return redirect(c, "/projects/"+c.Param("project")+"/serviceaccounts/"+c.Param("sa"))
	}
	a := h.accountPageOf(o)
	return render(c, http.StatusOK, views.WithToast(part(h.fragmentPage(c, a.View.Access), a), message))
}

// fragmentPage is what a part of a project's page needs (no menu or
// project switcher, which only whole pages show).
func (h *Handlers) fragmentPage(c echo.Context, a domain.Access) views.Page {
	p := h.page(c, "")
	p.Project = &a.Project
	return p
}

// RenameServiceAccount changes an account's display name.
func (h *Handlers) RenameServiceAccount(c echo.Context) error {
	name := c.FormValue("displayName")
	var o domain.AccountOverview
	sa, err := h.serviceAccounts.Update(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"), domain.ServiceAccountInput{DisplayName: &name},
		refreshFragment(c, &o)...)
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
	return h.afterAccountChange(c, "Renamed to “"+sa.DisplayName+"”.", o, views.AccountNameRenamed)
}

// SetServiceAccountBasicAuth switches Basic Auth on or off.
func (h *Handlers) SetServiceAccountBasicAuth(c echo.Context) error {
	var enable bool
	switch c.FormValue("enable") {
	case "true":
		enable = true
	case "false":
	default:
		return h.badInput(c, domain.OpServiceAccountUpdate, domain.FieldError("enable", "Say whether to enable Basic Auth."))
	}
	var o domain.AccountOverview
	if _, err := h.serviceAccounts.Update(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"),
		domain.ServiceAccountInput{EnableBasicAuth: &enable}, refreshFragment(c, &o)...); err != nil {
		return err
	}
	msg := "Basic Auth is off."
	if enable {
		msg = "Basic Auth is on. Use it for prototyping; prefer the OAuth2 token exchange in production."
	}
	return h.afterAccountChange(c, msg, o, views.AccountBasicAuth)
}

// SetServiceAccountRole sets the account's role in its owning project.
func (h *Handlers) SetServiceAccountRole(c echo.Context) error {
	role := domain.Role(c.FormValue("role"))
	var o domain.AccountOverview
	err := h.serviceAccounts.SetProjectRole(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"), role, refreshFragment(c, &o)...)
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
	return h.afterAccountChange(c, "Role in this project: "+domain.RoleDisplayName(role)+".", o,
		func(p views.Page, a views.AccountPage) templ.Component { return views.AccountRole(p, a, nil) })
}

// DeleteServiceAccountPage lists what goes with the account and asks to type its name.
func (h *Handlers) DeleteServiceAccountPage(c echo.Context) error {
	a, err := h.loadAccount(c)
	if err != nil {
		return err
	}
	if err := a.View.Access.Authorize(domain.OpServiceAccountDelete); err != nil {
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
	if err := a.View.Access.Authorize(domain.OpServiceAccountDelete); err != nil {
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
