package handlers

import (
	"net/http"
	"studio/domain"
	"studio/views"

	"github.com/labstack/echo/v4"
)

// Organization admins: the list, invitations, revocation.

func orgAdminsURL(orgID string) string { return "/orgs/" + orgID + "/admins" }

// OrgAdmins lists an organization's admins, to its admins only.
func (h *Handlers) OrgAdmins(c echo.Context) error {
	return h.renderOrgAdmins(c, http.StatusOK, views.OrgAdminsPage{})
}

func (h *Handlers) renderOrgAdmins(c echo.Context, status int, o views.OrgAdminsPage) error {
	req := pageRequest(c, consolePageSize)
	org, list, err := h.members.ListOrgAdmins(c.Request().Context(), principal(c), c.Param("org"), req)
	if err != nil {
		return err
	}
	o.Org, o.Admins, o.First = org, list, req.Token == ""
	p := h.page(c, "Organization admins · "+org.DisplayName)
	p.Org, p.OrgAdm = &org, true
	if o.Notice != "" {
		p.Flash = append(p.Flash, views.Flash{Kind: "success", Text: o.Notice})
	}
	return render(c, status, views.OrgAdmins(p, o))
}

// InviteOrgAdmin makes the account with the typed email an organization admin.
func (h *Handlers) InviteOrgAdmin(c echo.Context) error {
	email := c.FormValue("email")
	inv, err := h.members.InviteOrgAdmin(c.Request().Context(), principal(c), c.Param("org"), email)
	if isFormError(err) {
		return h.renderOrgAdmins(c, formStatus(err), views.OrgAdminsPage{Email: email, Errors: formErrors(err)})
	}
	if err != nil {
		return err
	}
	warning := emailWarning(inv.Membership.AccountEmail)
	if inv.InviteURL != "" {
		return h.showOrgInviteLink(c, inv.Membership.AccountEmail, inv.InviteURL,
			inv.Membership.AccountEmail+" is invited as organization admin. Send them the invite link.", warning)
	}
	msg := inv.Membership.AccountEmail + " is now an organization admin."
	if warning != "" {
		hxReplaceURLWith(c, orgAdminsURL(c.Param("org")))
		return h.renderOrgAdmins(c, http.StatusOK, views.OrgAdminsPage{Notice: msg, EmailWarning: warning})
	}
	h.setFlash(c, "success", msg)
	return redirect(c, orgAdminsURL(c.Param("org")))
}

func (h *Handlers) showOrgInviteLink(c echo.Context, email, link, notice, warning string) error {
	list := orgAdminsURL(c.Param("org"))
	noStore(c)
	hxReplaceURLWith(c, list)
	return h.renderOrgAdmins(c, http.StatusOK, views.OrgAdminsPage{Notice: notice, EmailWarning: warning,
		Link: &views.InviteLinkDialog{Email: email, URL: link, Back: list}})
}

// RevokeOrgAdminPage asks for confirmation (without JavaScript).
func (h *Handlers) RevokeOrgAdminPage(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	m, err := h.members.OrgMember(ctx, p, c.Param("org"), c.Param("member"))
	if err != nil {
		return err
	}
	org, err := h.projects.Organization(ctx, p, c.Param("org"))
	if err != nil {
		return err
	}
	page := h.page(c, "Revoke organization admin")
	page.Org, page.OrgAdm = &org.Organization, org.IsAdmin
	return render(c, http.StatusOK, views.RevokeOrgAdmin(page, org.Organization, m))
}

// RevokeOrgAdmin removes an organization admin once confirmed. The domain
// refuses to remove the last admin who is a person; that message shows
// beside the row (htmx) or at the top of the list.
func (h *Handlers) RevokeOrgAdmin(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	orgID, memberID := c.Param("org"), c.Param("member")
	m, err := h.members.OrgMember(ctx, p, orgID, memberID)
	if err == nil && c.FormValue("confirm") != "yes" {
		err = domain.FieldError("confirm", "Confirm the revocation.")
	}
	if err != nil {
		return err
	}
	err = h.members.RevokeOrgAdmin(ctx, p, orgID, memberID)
	if isInvalid(err) {
		msg := domain.ErrorMessage(err)
		if isFragment(c) {
			return render(c, http.StatusUnprocessableEntity, views.OrgAdminRow(h.page(c, ""), orgID, m, msg))
		}
		return h.renderOrgAdmins(c, http.StatusUnprocessableEntity,
			views.OrgAdminsPage{Error: msg, RowErrors: map[string]string{memberID: msg}})
	}
	if err != nil {
		return err
	}
	msg := m.AccountEmail + " is no longer an organization admin. The account itself stays."
	if m.Account == p.Account {
		// Revoking oneself ends the right to see this page.
		h.setFlash(c, "success", "You are no longer an organization admin.")
		if isFragment(c) {
			hxRedirectTo(c, "/")
			return c.NoContent(http.StatusOK)
		}
		return redirect(c, "/")
	}
	if isFragment(c) {
		return render(c, http.StatusOK, views.Toast("success", msg))
	}
	h.setFlash(c, "success", msg)
	return redirect(c, orgAdminsURL(orgID))
}

// ReissueOrgAdminInvite issues a new invite link for a pending admin and shows it once.
func (h *Handlers) ReissueOrgAdminInvite(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	orgID, memberID := c.Param("org"), c.Param("member")
	m, err := h.members.OrgMember(ctx, p, orgID, memberID)
	if err != nil {
		return err
	}
	link, err := h.members.OrgInviteURL(ctx, p, orgID, memberID)
	if isInvalid(err) {
		h.setFlash(c, "error", domain.ErrorMessage(err))
		return redirect(c, orgAdminsURL(orgID))
	}
	if err != nil {
		return err
	}
	return h.showOrgInviteLink(c, m.AccountEmail, link, "A new invite link for "+m.AccountEmail+" is ready.", "")
}
