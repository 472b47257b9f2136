package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"studio/domain"
	"studio/views"

	"github.com/labstack/echo/v4"
)

// Members pages: a project's members, an organization's admins, and an
// account's access in every project of an organization. Every decision is
// the domain's; the handlers only choose what to show.

func projectMembersURL(projectID string) string { return "/projects/" + projectID + "/members" }
func orgAdminsURL(orgID string) string          { return "/orgs/" + orgID + "/admins" }

// formErrors turns an invalid-argument or conflict error into messages for
// the form: by field when the domain names one, else under "form".
func formErrors(err error) map[string]string {
	if fields := domain.FieldErrors(err); len(fields) > 0 {
		return fields
	}
	return map[string]string{"form": domain.ErrorMessage(err)}
}

// formStatus is the status of a form shown again: 409 for a conflict,
// 422 for anything else the person can fix.
func formStatus(err error) int {
	if domain.ErrorCode(err) == domain.ECONFLICT {
		return http.StatusConflict
	}
	return http.StatusUnprocessableEntity
}

// isFormError reports whether err is one to show beside the form.
func isFormError(err error) bool {
	code := domain.ErrorCode(err)
	return code == domain.EINVALID || code == domain.ECONFLICT
}

// noStore keeps a response out of every cache: it carries an invite link.
func noStore(c echo.Context) {
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set("Pragma", "no-cache")
}

// ProjectMembers lists a project's members.
func (h *Handlers) ProjectMembers(c echo.Context) error {
	return h.renderProjectMembers(c, http.StatusOK, views.MembersPage{})
}

func (h *Handlers) renderProjectMembers(c echo.Context, status int, m views.MembersPage) error {
	query := c.QueryParam("q")
	req := pageRequest(c, consolePageSize)
	a, list, err := h.members.ListProject(c.Request().Context(), principal(c), c.Param("project"), query, req)
	if err != nil {
		return err
	}
	m.Access, m.Members, m.Query, m.First = a, list, query, req.Token == ""
	if m.Effective, err = h.hygiene.EffectiveRoles(c.Request().Context(), principal(c), a.Project.ID, list.Items); err != nil {
		return err
	}
	if m.Role == domain.RoleNone {
		m.Role = domain.RoleProjectUser
	}
	p := h.projectPage(c, "Members", a, views.MenuMembers)
	if m.Notice != "" {
		p.Flash = append(p.Flash, views.Flash{Kind: "success", Text: m.Notice})
	}
	return render(c, status, views.ProjectMembers(p, m))
}

// InviteProjectMember adds the account with the typed email to the project.
// An unknown email makes a pending user, whose invite link this response
// shows (once: later pages only offer to issue a new one).
func (h *Handlers) InviteProjectMember(c echo.Context) error {
	email, role := c.FormValue("email"), domain.Role(c.FormValue("role"))
	inv, err := h.members.InviteToProject(c.Request().Context(), principal(c), c.Param("project"), email, role)
	if isFormError(err) {
		return h.renderProjectMembers(c, formStatus(err), views.MembersPage{Email: email, Role: role, Errors: formErrors(err)})
	}
	if err != nil {
		return err
	}
	m := inv.Membership
	warning := emailWarning(m.AccountEmail)
	if inv.InviteURL != "" {
		return h.showProjectInviteLink(c, m.AccountEmail, inv.InviteURL,
			m.AccountEmail+" is invited as "+domain.RoleDisplayName(m.Role)+". Send them the invite link.", warning)
	}
	msg := m.AccountEmail + " is now a member, as " + domain.RoleDisplayName(m.Role) + "."
	if warning != "" {
		// Shown beside the form, so no redirect: the address stays the list's.
		c.Response().Header().Set("HX-Replace-Url", projectMembersURL(c.Param("project")))
		return h.renderProjectMembers(c, http.StatusOK, views.MembersPage{Notice: msg, EmailWarning: warning})
	}
	h.setFlash(c, "success", msg)
	return redirect(c, projectMembersURL(c.Param("project")))
}

// emailWarning is the warning to show beside the invite form about an
// address just invited, "" when there is none.
func emailWarning(email string) string {
	if w := domain.EmailScriptWarning(email); w != "" {
		return email + ": " + w
	}
	return ""
}

// showProjectInviteLink answers with the members page and the new link,
// never cached or kept in htmx's history; the address stays the list's.
func (h *Handlers) showProjectInviteLink(c echo.Context, email, link, notice, warning string) error {
	list := projectMembersURL(c.Param("project"))
	noStore(c)
	c.Response().Header().Set("HX-Replace-Url", list)
	return h.renderProjectMembers(c, http.StatusOK, views.MembersPage{Notice: notice, EmailWarning: warning,
		Link: &views.InviteLinkDialog{Email: email, URL: link, Back: list}})
}

// SetProjectMemberRole changes a member's role: the row with a toast for
// htmx, or back to the list with a flash message.
func (h *Handlers) SetProjectMemberRole(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	projectID, memberID := c.Param("project"), c.Param("member")
	role := domain.Role(c.FormValue("role"))
	m, err := h.members.SetProjectMemberRole(ctx, p, projectID, memberID, role)
	if isInvalid(err) {
		if !isFragment(c) {
			return h.renderProjectMembers(c, http.StatusUnprocessableEntity,
				views.MembersPage{RowErrors: map[string]string{memberID: domain.ErrorMessage(err)}})
		}
		a, aerr := h.projects.Access(ctx, p, projectID)
		if aerr != nil {
			return aerr
		}
		cur, merr := h.members.ProjectMember(ctx, p, projectID, memberID)
		if merr != nil {
			return merr
		}
		return render(c, http.StatusUnprocessableEntity, views.ProjectMemberRow(h.page(c, ""), a, cur, domain.ErrorMessage(err), h.effectiveRole(c, cur)))
	}
	if err != nil {
		return err
	}
	msg := m.AccountEmail + " is now " + domain.RoleDisplayName(m.Role) + "."
	if !isFragment(c) {
		h.setFlash(c, "success", msg)
		return redirect(c, projectMembersURL(projectID))
	}
	a, err := h.projects.Access(ctx, p, projectID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.WithToast(views.ProjectMemberRow(h.page(c, ""), a, m, "", h.effectiveRole(c, m)), msg))
}

// RemoveProjectMemberPage asks for confirmation (without JavaScript).
func (h *Handlers) RemoveProjectMemberPage(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	a, err := h.projects.Access(ctx, p, c.Param("project"))
	if err != nil {
		return err
	}
	if err := a.Require(domain.PermMembershipDelete); err != nil {
		return err
	}
	m, err := h.members.ProjectMember(ctx, p, a.Project.ID, c.Param("member"))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.RemoveMember(h.projectPage(c, "Remove member", a, views.MenuMembers), a, m))
}

// RemoveProjectMember removes a membership once confirmed; the account stays.
func (h *Handlers) RemoveProjectMember(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	projectID, memberID := c.Param("project"), c.Param("member")
	// Refuse who may not remove members before looking at the form.
	acc, err := h.projects.Access(ctx, p, projectID)
	if err != nil {
		return err
	}
	if err := acc.Require(domain.PermMembershipDelete); err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		return domain.FieldError("confirm", "Confirm the removal of the member.")
	}
	m, err := h.members.ProjectMember(ctx, p, projectID, memberID)
	if err != nil {
		return err
	}
	if err := h.members.RemoveProjectMember(ctx, p, projectID, memberID); err != nil {
		return err
	}
	msg := m.AccountEmail + " is no longer a member of this project. The account itself stays."
	if isFragment(c) {
		// The toast goes out of band; the row is swapped for nothing.
		return render(c, http.StatusOK, views.Toast("success", msg))
	}
	h.setFlash(c, "success", msg)
	return redirect(c, projectMembersURL(projectID))
}

// ReissueProjectInvite issues a new invite link for a pending user and
// shows it once. The domain asks for membership.create: whoever holds a
// link can take over the pending account.
func (h *Handlers) ReissueProjectInvite(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	projectID, memberID := c.Param("project"), c.Param("member")
	link, err := h.members.ProjectInviteURL(ctx, p, projectID, memberID)
	if isInvalid(err) {
		h.setFlash(c, "error", domain.ErrorMessage(err))
		return redirect(c, projectMembersURL(projectID))
	}
	if err != nil {
		return err
	}
	m, err := h.members.ProjectMember(ctx, p, projectID, memberID)
	if err != nil {
		return err
	}
	return h.showProjectInviteLink(c, m.AccountEmail, link, "A new invite link for "+m.AccountEmail+" is ready.", "")
}

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
		c.Response().Header().Set("HX-Replace-Url", orgAdminsURL(c.Param("org")))
		return h.renderOrgAdmins(c, http.StatusOK, views.OrgAdminsPage{Notice: msg, EmailWarning: warning})
	}
	h.setFlash(c, "success", msg)
	return redirect(c, orgAdminsURL(c.Param("org")))
}

func (h *Handlers) showOrgInviteLink(c echo.Context, email, link, notice, warning string) error {
	list := orgAdminsURL(c.Param("org"))
	noStore(c)
	c.Response().Header().Set("HX-Replace-Url", list)
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
			c.Response().Header().Set("HX-Redirect", "/")
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

// accessPageSize is how many projects the access overview shows at once.
const accessPageSize = 50

// MemberAccess shows an account's role in every project of an organization.
func (h *Handlers) MemberAccess(c echo.Context) error {
	return h.renderMemberAccess(c, http.StatusOK, views.MemberAccessPage{})
}

func (h *Handlers) renderMemberAccess(c echo.Context, status int, a views.MemberAccessPage) error {
	req := pageRequest(c, accessPageSize)
	v, err := h.members.AccountAccess(c.Request().Context(), principal(c), c.Param("org"), c.Param("member"), req)
	if err != nil {
		return err
	}
	a.View, a.First, a.Token = v, req.Token == "", req.Token
	a.From, a.Back, a.BackText = h.accessCameFrom(c, v.Organization.ID)
	p := h.page(c, v.Account.DisplayName+" · access in "+v.Organization.DisplayName)
	p.Org, p.OrgAdm = &v.Organization, true
	return render(c, status, views.MemberAccess(p, a))
}

// accessCameFrom reads where the access overview was opened from (its
// "from" parameter): a project's members page in this organization, or
// its admins page. Anything else is ignored and the back link leads to
// the organization.
func (h *Handlers) accessCameFrom(c echo.Context, orgID string) (from, back, text string) {
	from = c.QueryParam("from")
	if from == orgAdminsURL(orgID) {
		return from, from, "Organization admins"
	}
	if id, ok := strings.CutSuffix(strings.TrimPrefix(from, "/projects/"), "/members"); ok && domain.ValidID(id) && from == projectMembersURL(id) {
		a, err := h.projects.Access(c.Request().Context(), principal(c), id)
		if err == nil && a.Project.OrganizationID == orgID {
			return from, from, "Members of " + a.Project.DisplayName
		}
	}
	return "", "", ""
}

// SaveMemberAccess sets the account's role in every project of the page at
// once: one domain call, one transaction. Unchanged projects are ignored.
func (h *Handlers) SaveMemberAccess(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return domain.Errorf(domain.EINVALID, "The form could not be read.")
	}
	changes := map[string]domain.Role{}
	for k, vs := range form {
		if id, ok := strings.CutPrefix(k, "role-"); ok && len(vs) > 0 {
			changes[id] = domain.Role(vs[0])
		}
	}
	ctx, p := c.Request().Context(), principal(c)
	orgID, memberID := c.Param("org"), c.Param("member")
	n, err := h.members.SetAccountAccess(ctx, p, orgID, memberID, changes)
	if isInvalid(err) {
		return h.renderMemberAccess(c, http.StatusUnprocessableEntity,
			views.MemberAccessPage{Selected: changes, Errors: domain.FieldErrors(err), Error: domain.ErrorMessage(err)})
	}
	if err != nil {
		return err
	}
	msg := "Nothing changed."
	switch {
	case n == 1:
		msg = "1 change saved."
	case n > 1:
		msg = fmt.Sprintf("%d changes saved.", n)
	}
	// The overview shows only accounts with some access in the organization:
	// one whose last role was just taken leaves it.
	if _, err := h.members.AccountAccess(ctx, p, orgID, memberID, domain.PageRequest{Size: 1}); domain.ErrorCode(err) == domain.ENOTFOUND {
		h.setFlash(c, "success", msg+" The account has no access left in this organization.")
		return redirect(c, "/orgs/"+orgID)
	} else if err != nil {
		return err
	}
	h.setFlash(c, "success", msg)
	back := "/orgs/" + orgID + "/members/" + memberID + "/access"
	q := url.Values{}
	if token := c.QueryParam("page"); token != "" {
		q.Set("page", token)
	}
	if from, _, _ := h.accessCameFrom(c, orgID); from != "" {
		q.Set("from", from)
	}
	if len(q) > 0 {
		back += "?" + q.Encode()
	}
	return redirect(c, back)
}

// effectiveRole is a member's effective role in its project when an
// organization admin membership grants more, for the role picker; RoleNone
// when it does not, or when the viewer may not know.
func (h *Handlers) effectiveRole(c echo.Context, m domain.Membership) domain.Role {
	eff, err := h.hygiene.EffectiveRoles(c.Request().Context(), principal(c), c.Param("project"), []domain.Membership{m})
	if err != nil {
		return domain.RoleNone
	}
	return eff[m.Account]
}
