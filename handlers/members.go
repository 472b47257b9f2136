package handlers

import (
	"net/http"

	"studio/domain"
	"studio/views"

	"github.com/labstack/echo/v4"
)

// Members pages: a project's members, an organization's admins, and an
// account's access in every project of an organization. Every decision is
// the domain's; the handlers only choose what to show.

func projectMembersURL(projectID string) string { return "/projects/" + projectID + "/members" }

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
		hxReplaceURLWith(c, projectMembersURL(c.Param("project")))
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
	hxReplaceURLWith(c, list)
	return h.renderProjectMembers(c, http.StatusOK, views.MembersPage{Notice: notice, EmailWarning: warning,
		Link: &views.InviteLinkDialog{Email: email, URL: link, Back: list}})
}

// SetProjectMemberRole changes a member's role: the row with a toast for
// htmx, or back to the list with a flash message.
func (h *Handlers) SetProjectMemberRole(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	projectID, memberID := c.Param("project"), c.Param("member")
	role := domain.Role(c.FormValue("role"))
	v, err := h.members.SetProjectMemberRole(ctx, p, projectID, memberID, role)
	m := v.Membership
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
	return render(c, http.StatusOK, views.WithToast(views.ProjectMemberRow(h.page(c, ""), v.Access, m, "", h.effectiveRole(c, m)), msg))
}

// RemoveProjectMemberPage asks for confirmation (without JavaScript).
func (h *Handlers) RemoveProjectMemberPage(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	a, err := h.members.Authorize(ctx, p, c.Param("project"), domain.OpMemberRemove)
	if err != nil {
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
	if _, err := h.members.Authorize(ctx, p, projectID, domain.OpMemberRemove); err != nil {
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
