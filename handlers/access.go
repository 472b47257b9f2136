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

// An account's access across an organization's projects, for its admins.

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
