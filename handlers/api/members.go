package api

import (
	"slices"
	"strings"

	"studio/domain"

	"github.com/labstack/echo/v4"
)

const inviteURLSuffix = ":getInviteUrl"

// memberBody is a member in a request; read-only fields are ignored.
type memberBody struct {
	Name        *string  `json:"name"`
	DisplayName *string  `json:"displayName"`
	Roles       []string `json:"roles"`
	Status      *string  `json:"status"`
	Email       *string  `json:"email"`
	AccountType *string  `json:"accountType"`
	CreateTime  *string  `json:"createTime"`
}

// oneRole reads the single role a membership takes.
func (b memberBody) oneRole() (domain.Role, error) {
	if len(b.Roles) != 1 {
		return "", domain.FieldError("roles", "roles must hold exactly one role.")
	}
	return domain.Role(b.Roles[0]), nil
}

func membersPage(c echo.Context, page domain.Page[domain.Membership]) error {
	return ok(c, map[string]any{"members": mapItems(page.Items, toMember), "nextPageToken": page.NextPageToken})
}

// ListProjectMembers is GET /v2/projects/{p}/members, and GET
// /v2/projects/-/members?organization=…&memberId=… for organization admins.
func (a *API) ListProjectMembers(c echo.Context) error {
	req, err := pageRequest(c)
	if err != nil {
		return err
	}
	if c.Param("project") == "-" {
		return a.listMemberships(c, req)
	}
	_, page, err := a.members.ListProject(c.Request().Context(), principal(c), c.Param("project"), "", req)
	if err != nil {
		return err
	}
	return membersPage(c, page)
}

// listMemberships lists one member's memberships across an organization's projects.
func (a *API) listMemberships(c echo.Context, req domain.PageRequest) error {
	orgID := trimName(c.QueryParam("organization"), "organizations/")
	memberID := query(c, "memberId", "member_id")
	if !domain.ValidID(orgID) || memberID == "" {
		return domain.Errorf(domain.EINVALID, "Listing across projects needs organization=organizations/{id} and memberId.")
	}
	ms, err := a.members.MemberProjectMemberships(c.Request().Context(), principal(c), orgID, memberID)
	if err != nil {
		return err
	}
	// Pages follow project ids, so the list must be in that order.
	slices.SortFunc(ms, func(x, y domain.Membership) int { return strings.Compare(x.ProjectID, y.ProjectID) })
	listing := domain.Listing("memberships", orgID, memberID)
	cur, err := domain.DecodeCursor(listing, req.Token)
	if err != nil {
		return err
	}
	start := 0
	for start < len(ms) && !cur.IsZero() && ms[start].ProjectID <= cur.ID {
		start++
	}
	end := min(start+req.Size, len(ms))
	page := domain.Page[domain.Membership]{Items: ms[start:end]}
	if end < len(ms) {
		page.NextPageToken = domain.EncodeCursor(listing, domain.Cursor{ID: ms[end-1].ProjectID})
	}
	return membersPage(c, page)
}

// CreateProjectMember is POST /v2/projects/{p}/members.
func (a *API) CreateProjectMember(c echo.Context) error {
	var body memberBody
	if err := decode(c, &body); err != nil {
		return err
	}
	role, err := body.oneRole()
	if err != nil {
		return err
	}
	if body.Email == nil {
		return domain.FieldError("email", "email is required.")
	}
	inv, err := a.members.InviteToProject(c.Request().Context(), principal(c), c.Param("project"), *body.Email, role)
	if err != nil {
		return err
	}
	return ok(c, toMember(inv.Membership))
}

// GetProjectMember is GET /v2/projects/{p}/members/{m}, and {m}:getInviteUrl.
func (a *API) GetProjectMember(c echo.Context) error {
	ctx, p, member := c.Request().Context(), principal(c), c.Param("member")
	if id, found := strings.CutSuffix(member, inviteURLSuffix); found {
		link, err := a.members.ProjectInviteURL(ctx, p, c.Param("project"), id)
		if err != nil {
			return err
		}
		return ok(c, map[string]string{"inviteUrl": link})
	}
	m, err := a.members.ProjectMember(ctx, p, c.Param("project"), member)
	if err != nil {
		return err
	}
	return ok(c, toMember(m))
}

// UpdateProjectMember is PATCH /v2/projects/{p}/members/{m}.
func (a *API) UpdateProjectMember(c echo.Context) error {
	if _, err := updateMask(c, "roles"); err != nil {
		return err
	}
	var body memberBody
	if err := decode(c, &body); err != nil {
		return err
	}
	role, err := body.oneRole()
	if err != nil {
		return err
	}
	v, err := a.members.SetProjectMemberRole(c.Request().Context(), principal(c), c.Param("project"), c.Param("member"), role)
	if err != nil {
		return err
	}
	return ok(c, toMember(v.Membership))
}

// DeleteProjectMember is DELETE /v2/projects/{p}/members/{m}; the account stays.
func (a *API) DeleteProjectMember(c echo.Context) error {
	if err := a.members.RemoveProjectMember(c.Request().Context(), principal(c), c.Param("project"), c.Param("member")); err != nil {
		return err
	}
	return ok(c, struct{}{})
}

// BatchCreateMembers is POST /v2/projects/-/members:batchCreate. All the
// memberships are made in one transaction: if one is refused, none is made.
func (a *API) BatchCreateMembers(c echo.Context) error {
	var body struct {
		Members []struct {
			Project string   `json:"project"`
			Email   string   `json:"email"`
			Roles   []string `json:"roles"`
		} `json:"members"`
	}
	if err := decodeLimit(c, &body, MaxBatchBody); err != nil {
		return err
	}
	invites := make([]domain.ProjectInvite, len(body.Members))
	for i, m := range body.Members {
		if len(m.Roles) != 1 {
			return domain.Errorf(domain.EINVALID, "members[%d].roles must hold exactly one role.", i)
		}
		invites[i] = domain.ProjectInvite{ProjectID: trimName(m.Project, "projects/"), Email: m.Email, Role: domain.Role(m.Roles[0])}
	}
	made, err := a.members.InviteToProjects(c.Request().Context(), principal(c), invites)
	if err != nil {
		return err
	}
	return ok(c, map[string]any{"members": mapItems(made, func(inv domain.Invited) memberJSON { return toMember(inv.Membership) })})
}

// BatchDeleteMembers is POST /v2/projects/-/members:batchDelete, in one
// transaction like batchCreate: if one membership is refused, none goes.
func (a *API) BatchDeleteMembers(c echo.Context) error {
	var body struct {
		Names []string `json:"names"`
	}
	if err := decodeLimit(c, &body, MaxBatchBody); err != nil {
		return err
	}
	refs := make([]domain.ProjectMemberRef, 0, len(body.Names))
	for i, name := range body.Names {
		parts := strings.Split(name, "/")
		if len(parts) != 4 || parts[0] != "projects" || parts[2] != "members" {
			return domain.Errorf(domain.EINVALID, "names[%d] must be projects/{p}/members/{m}.", i)
		}
		refs = append(refs, domain.ProjectMemberRef{ProjectID: parts[1], MemberID: parts[3]})
	}
	if err := a.members.RemoveProjectMembers(c.Request().Context(), principal(c), refs); err != nil {
		return err
	}
	return ok(c, struct{}{})
}

// ListOrganizationMembers is GET /v2/organizations/{o}/members.
func (a *API) ListOrganizationMembers(c echo.Context) error {
	req, err := pageRequest(c)
	if err != nil {
		return err
	}
	_, page, err := a.members.ListOrgAdmins(c.Request().Context(), principal(c), c.Param("org"), req)
	if err != nil {
		return err
	}
	return membersPage(c, page)
}

// CreateOrganizationMember is POST /v2/organizations/{o}/members.
func (a *API) CreateOrganizationMember(c echo.Context) error {
	var body memberBody
	if err := decode(c, &body); err != nil {
		return err
	}
	role, err := body.oneRole()
	if err != nil {
		return err
	}
	if role != domain.RoleOrgAdmin {
		return domain.FieldError("roles", "Organization memberships take roles/organization.admin only.")
	}
	if body.Email == nil {
		return domain.FieldError("email", "email is required.")
	}
	inv, err := a.members.InviteOrgAdmin(c.Request().Context(), principal(c), c.Param("org"), *body.Email)
	if err != nil {
		return err
	}
	return ok(c, toMember(inv.Membership))
}

// GetOrganizationMember is GET /v2/organizations/{o}/members/{m}, and {m}:getInviteUrl.
func (a *API) GetOrganizationMember(c echo.Context) error {
	ctx, p, member := c.Request().Context(), principal(c), c.Param("member")
	if id, found := strings.CutSuffix(member, inviteURLSuffix); found {
		link, err := a.members.OrgInviteURL(ctx, p, c.Param("org"), id)
		if err != nil {
			return err
		}
		return ok(c, map[string]string{"inviteUrl": link})
	}
	m, err := a.members.OrgMember(ctx, p, c.Param("org"), member)
	if err != nil {
		return err
	}
	return ok(c, toMember(m))
}

// DeleteOrganizationMember is DELETE /v2/organizations/{o}/members/{m}.
func (a *API) DeleteOrganizationMember(c echo.Context) error {
	if err := a.members.RevokeOrgAdmin(c.Request().Context(), principal(c), c.Param("org"), c.Param("member")); err != nil {
		return err
	}
	return ok(c, struct{}{})
}
