package handlers

import (
	"fmt"
	"net/http"

	"studio/domain"
	"studio/views"

	"github.com/labstack/echo/v4"
)

// Credential hygiene: an organization's lists for its admins, the global
// ones for support staff. Every decision is the domain's: who may look and
// act, which objects are in scope, the reason staff must give.

func orgHygiene(c echo.Context) domain.HygieneScope {
	return domain.HygieneScope{OrganizationID: c.Param("org")}
}

// globalHygiene is the support staff's scope: every organization.
func globalHygiene(echo.Context) domain.HygieneScope { return domain.HygieneScope{} }

// OrgHygiene shows an organization's hygiene lists to its admins.
func (h *Handlers) OrgHygiene(c echo.Context) error {
	return h.renderHygiene(c, orgHygiene(c), http.StatusOK, views.HygienePage{})
}

// SupportHygiene shows support staff the hygiene lists of every organization.
func (h *Handlers) SupportHygiene(c echo.Context) error {
	return h.renderHygiene(c, globalHygiene(c), http.StatusOK, views.HygienePage{})
}

// OrgHygieneConfirm asks an organization admin to confirm a bulk action.
func (h *Handlers) OrgHygieneConfirm(c echo.Context) error {
	return h.hygieneConfirm(c, orgHygiene(c))
}

// SupportHygieneConfirm asks support staff to confirm a bulk action.
func (h *Handlers) SupportHygieneConfirm(c echo.Context) error {
	return h.hygieneConfirm(c, globalHygiene(c))
}

// OrgHygieneApply runs a confirmed bulk action of an organization admin.
func (h *Handlers) OrgHygieneApply(c echo.Context) error {
	return h.hygieneApply(c, orgHygiene(c))
}

// SupportHygieneApply runs a confirmed bulk action of support staff.
func (h *Handlers) SupportHygieneApply(c echo.Context) error {
	return h.hygieneApply(c, globalHygiene(c))
}

// hygieneFilterForm reads the filters as written: from the URL of a GET,
// from the hidden fields of a bulk form.
func hygieneFilterForm(c echo.Context) views.HygieneFilterForm {
	return views.HygieneFilterForm{List: c.FormValue("list"), Project: c.FormValue("project"),
		UnusedDays: c.FormValue("unused_days"), OlderThan: c.FormValue("older_than")}
}

// renderHygiene shows one page of one list. Bad filters show their
// messages instead of a list, after the same refusal as a good request.
func (h *Handlers) renderHygiene(c echo.Context, s domain.HygieneScope, status int, v views.HygienePage) error {
	ctx, p := c.Request().Context(), principal(c)
	v.Filter, v.Token = hygieneFilterForm(c), c.FormValue("page")
	f, err := domain.ParseHygieneFilter(v.Filter.List, v.Filter.Project, v.Filter.UnusedDays, v.Filter.OlderThan)
	var rep domain.HygieneReport
	if err == nil {
		rep, err = h.hygiene.Report(ctx, p, s, f, domain.PageRequest{Size: consolePageSize, Token: v.Token})
	}
	if isInvalid(err) {
		v.Errors = formErrors(err)
		if _, bad := v.Errors["project"]; bad {
			f.ProjectID = ""
		}
		// Only for the page around the messages: no list is shown.
		if rep, err = h.hygiene.Report(ctx, p, s, f, domain.PageRequest{Size: 1}); err != nil {
			return err
		}
		status = http.StatusBadRequest
	}
	if err != nil {
		return err
	}
	v.Report = rep
	page := h.page(c, "Credential hygiene")
	if !s.Global() {
		page.Title = "Credential hygiene · " + rep.Organization.DisplayName
		page.Org, page.OrgAdm = &rep.Organization, true
	}
	if v.Notice != "" {
		page.Flash = append(page.Flash, views.Flash{Kind: "success", Text: v.Notice})
	}
	return render(c, status, views.Hygiene(page, v))
}

// selection reads the rows selected in a bulk form.
func selection(c echo.Context) (domain.HygieneAction, []string, map[string]bool) {
	form, _ := c.FormParams()
	ids := form["id"]
	checked := make(map[string]bool, len(ids))
	for _, id := range ids {
		checked[id] = true
	}
	return domain.HygieneAction(c.FormValue("action")), ids, checked
}

// refusedSelection shows the list again with why a selection or action
// was refused, keeping what was checked and typed; nothing changed.
func (h *Handlers) refusedSelection(c echo.Context, s domain.HygieneScope, err error) error {
	_, _, checked := selection(c)
	status := http.StatusUnprocessableEntity
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		// Something selected is gone or was never in scope: the list changed.
		status = http.StatusConflict
	}
	return h.renderHygiene(c, s, status, views.HygienePage{Error: domain.ErrorMessage(err),
		ActionErrors: domain.FieldErrors(err), Selected: checked, Reason: c.FormValue("reason")})
}

// hygieneConfirm lists exactly the selected objects and asks to confirm
// (the way without JavaScript; htmx asks with hx-confirm instead).
func (h *Handlers) hygieneConfirm(c echo.Context, s domain.HygieneScope) error {
	ctx, p := c.Request().Context(), principal(c)
	if err := h.hygiene.Authorize(ctx, p, s); err != nil {
		return err
	}
	action, ids, _ := selection(c)
	sel, err := h.hygiene.Select(ctx, p, s, action, ids)
	if isInvalid(err) || domain.ErrorCode(err) == domain.ENOTFOUND {
		return h.refusedSelection(c, s, err)
	}
	if err != nil {
		return err
	}
	return h.renderHygieneConfirm(c, s, http.StatusOK, views.HygieneConfirmPage{Selection: sel, Reason: c.FormValue("reason")})
}

func (h *Handlers) renderHygieneConfirm(c echo.Context, s domain.HygieneScope, status int, v views.HygieneConfirmPage) error {
	v.Filter, v.Token = hygieneFilterForm(c), c.FormValue("page")
	page := h.page(c, "Confirm · Credential hygiene")
	if !s.Global() {
		org, err := h.projects.Organization(c.Request().Context(), principal(c), s.OrganizationID)
		if err != nil {
			return err
		}
		v.Organization = org.Organization
		page.Org, page.OrgAdm = &v.Organization, org.IsAdmin
	}
	return render(c, status, views.HygieneConfirm(page, v))
}

// hygieneApply runs a confirmed bulk action. htmx gets the list again with
// a toast; a plain form goes back to the list with a flash message.
func (h *Handlers) hygieneApply(c echo.Context, s domain.HygieneScope) error {
	ctx, p := c.Request().Context(), principal(c)
	if err := h.hygiene.Authorize(ctx, p, s); err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		return domain.FieldError("confirm", "Confirm the action first.")
	}
	action, ids, _ := selection(c)
	reason := c.FormValue("reason")
	n, err := h.hygiene.Apply(ctx, p, s, action, ids, reason)
	if isInvalid(err) || domain.ErrorCode(err) == domain.ENOTFOUND {
		if !isFragment(c) {
			// Back to the confirmation when the selection still stands (a
			// missing reason), else to the list.
			if sel, serr := h.hygiene.Select(ctx, p, s, action, ids); serr == nil {
				return h.renderHygieneConfirm(c, s, http.StatusUnprocessableEntity, views.HygieneConfirmPage{Selection: sel,
					Reason: reason, Errors: domain.FieldErrors(err), Error: domain.ErrorMessage(err)})
			}
		}
		return h.refusedSelection(c, s, err)
	}
	if err != nil {
		return err
	}
	msg := hygieneDone(action, n)
	if isFragment(c) {
		return h.renderHygiene(c, s, http.StatusOK, views.HygienePage{Notice: msg})
	}
	h.setFlash(c, "success", msg)
	return redirect(c, views.HygieneListURL(s.OrganizationID, hygieneFilterForm(c), c.FormValue("page")))
}

// hygieneDone says what a bulk action did.
func hygieneDone(action domain.HygieneAction, n int) string {
	accounts := "service accounts"
	if n == 1 {
		accounts = "service account"
	}
	switch action {
	case domain.HygieneDisableKeys:
		if n == 1 {
			return "1 key disabled."
		}
		return fmt.Sprintf("%d keys disabled.", n)
	case domain.HygieneDisableAccounts:
		return fmt.Sprintf("%d %s disabled.", n, accounts)
	case domain.HygieneDeleteKeys:
		if n == 1 {
			return "1 key deleted."
		}
		return fmt.Sprintf("%d keys deleted.", n)
	case domain.HygieneBasicAuthOff:
		return fmt.Sprintf("Basic Auth switched off for %d %s.", n, accounts)
	case domain.HygieneDeleteAccounts:
		return fmt.Sprintf("%d %s deleted, with their keys and memberships.", n, accounts)
	}
	return "Done."
}
