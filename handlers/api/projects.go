package api

import (
	"fmt"
	"strings"

	"studio/domain"

	"github.com/labstack/echo/v4"
)

// ListOrganizations is GET /v2/organizations.
func (a *API) ListOrganizations(c echo.Context) error {
	req, err := pageRequest(c)
	if err != nil {
		return err
	}
	page, err := a.projects.ListOrganizations(c.Request().Context(), principal(c), req)
	if err != nil {
		return err
	}
	return ok(c, map[string]any{"organizations": mapItems(page.Items, toOrganization), "nextPageToken": page.NextPageToken})
}

// GetOrganization is GET /v2/organizations/{o}.
func (a *API) GetOrganization(c echo.Context) error {
	org, err := a.projects.Organization(c.Request().Context(), principal(c), c.Param("org"))
	if err != nil {
		return err
	}
	return ok(c, toOrganization(org.Organization))
}

// OrganizationPermissions is GET /v2/organizations/{o}/permissions: the caller's own.
func (a *API) OrganizationPermissions(c echo.Context) error {
	req, err := pageRequest(c)
	if err != nil {
		return err
	}
	org, err := a.projects.Organization(c.Request().Context(), principal(c), c.Param("org"))
	if err != nil {
		return err
	}
	var perms []domain.Permission
	if org.IsAdmin {
		perms = domain.AllPermissions
	}
	return permissionsPage(c, domain.Listing("organizationPermissions", org.ID), perms, req)
}

// ProjectPermissions is GET /v2/projects/{p}/permissions: the caller's own.
func (a *API) ProjectPermissions(c echo.Context) error {
	req, err := pageRequest(c)
	if err != nil {
		return err
	}
	acc, err := a.projects.Access(c.Request().Context(), principal(c), c.Param("project"))
	if err != nil {
		return err
	}
	info, _ := domain.LookupRole(acc.Role())
	return permissionsPage(c, domain.Listing("projectPermissions", acc.Project.ID), info.Permissions, req)
}

// permissionsPage pages through a short, fixed list of permissions.
func permissionsPage(c echo.Context, listing string, perms []domain.Permission, req domain.PageRequest) error {
	cur, err := domain.DecodeCursor(listing, req.Token)
	if err != nil {
		return err
	}
	start := 0
	if !cur.IsZero() {
		start = -1
		for i, p := range perms {
			if string(p) == cur.ID {
				start = i + 1
			}
		}
		if start < 0 {
			return domain.FieldError("pageToken", "The page token is not valid.")
		}
	}
	end, next := min(start+req.Size, len(perms)), ""
	if end < len(perms) {
		next = domain.EncodeCursor(listing, domain.Cursor{ID: string(perms[end-1])})
	}
	out := make([]string, 0, end-start)
	for _, p := range perms[start:end] {
		out = append(out, string(p))
	}
	return ok(c, map[string]any{"permissions": out, "nextPageToken": next})
}

// ListProjects is GET /v2/projects: every project the caller can read,
// across all organizations, optionally within one and matching a query.
func (a *API) ListProjects(c echo.Context) error {
	req, err := pageRequest(c)
	if err != nil {
		return err
	}
	orgID := ""
	if o := c.QueryParam("organization"); o != "" {
		if orgID = trimName(o, "organizations/"); !domain.ValidID(orgID) {
			return domain.FieldError("organization", "organization must be organizations/{id}.")
		}
	}
	labels, err := domain.ParseLabelFilters(append(c.QueryParams()["labelFilters"], c.QueryParams()["label_filters"]...))
	if err != nil {
		return err
	}
	page, err := a.projects.ListProjects(c.Request().Context(), principal(c), orgID, c.QueryParam("query"), req, labels...)
	if err != nil {
		return err
	}
	return ok(c, map[string]any{"projects": mapItems(page.Items, toProject), "nextPageToken": page.NextPageToken})
}

// projectBody is a project in a request. Read-only fields are accepted and ignored.
type projectBody struct {
	Name                    *string            `json:"name"`
	DisplayName             *string            `json:"displayName"`
	Organization            *string            `json:"organization"`
	OrganizationDisplayName *string            `json:"organizationDisplayName"`
	SensorCount             *int               `json:"sensorCount"`
	CloudConnectorCount     *int               `json:"cloudConnectorCount"`
	Inventory               *bool              `json:"inventory"`
	Location                *locationJSON      `json:"location"`
	Labels                  *map[string]string `json:"labels"`
}

// location is the body's location: nil when absent; a location without
// coordinates (null or missing) stores none.
func (b projectBody) location() *domain.Location {
	if b.Location == nil {
		return nil
	}
	return &domain.Location{Latitude: b.Location.Latitude, Longitude: b.Location.Longitude, TimeLocation: b.Location.TimeLocation}
}

// labels is the body's labels: nil when absent or null (no change), else
// the whole new set.
func (b projectBody) labels() map[string]string {
	if b.Labels == nil || *b.Labels == nil {
		return nil
	}
	return *b.Labels
}

// CreateProject is POST /v2/projects.
func (a *API) CreateProject(c echo.Context) error {
	var body projectBody
	if err := decode(c, &body); err != nil {
		return err
	}
	if body.Organization == nil || !strings.HasPrefix(*body.Organization, "organizations/") {
		return domain.FieldError("organization", "organization is required, as organizations/{id}.")
	}
	proj, err := a.projects.CreateProject(c.Request().Context(), principal(c), trimName(*body.Organization, "organizations/"),
		domain.ProjectInput{DisplayName: body.DisplayName, Location: body.location(), Labels: body.labels()})
	if err != nil {
		return err
	}
	return ok(c, toProject(proj))
}

// GetProject is GET /v2/projects/{p}.
func (a *API) GetProject(c echo.Context) error {
	acc, err := a.projects.Access(c.Request().Context(), principal(c), c.Param("project"))
	if err != nil {
		return err
	}
	return ok(c, toProject(acc.Project))
}

// UpdateProject is PATCH /v2/projects/{p}.
func (a *API) UpdateProject(c echo.Context) error {
	mask, err := updateMask(c, "displayName", "location", "labels")
	if err != nil {
		return err
	}
	var body projectBody
	if err := decode(c, &body); err != nil {
		return err
	}
	in := domain.ProjectInput{DisplayName: body.DisplayName, Location: body.location(), Labels: body.labels()}
	if mask != nil {
		in = domain.ProjectInput{}
		if mask["displayName"] {
			in.DisplayName = orZero(body.DisplayName)
		}
		if mask["location"] {
			in.Location = body.location()
			if in.Location == nil {
				in.Location = &domain.Location{}
			}
		}
		if mask["labels"] {
			in.Labels = body.labels()
			if in.Labels == nil {
				in.Labels = map[string]string{}
			}
		}
	}
	proj, err := a.projects.UpdateProject(c.Request().Context(), principal(c), c.Param("project"), in)
	if err != nil {
		return err
	}
	return ok(c, toProject(proj))
}

// orZero returns p, or a pointer to the zero value: a masked field absent
// from the body is cleared.
func orZero[T any](p *T) *T {
	if p == nil {
		return new(T)
	}
	return p
}

// BatchUpdateProjects is POST /v2/projects:batchUpdate: labels added to
// and removed from several projects, in one transaction.
func (a *API) BatchUpdateProjects(c echo.Context) error {
	var body struct {
		Projects     []string           `json:"projects"`
		AddLabels    *map[string]string `json:"addLabels"`
		RemoveLabels *[]string          `json:"removeLabels"`
	}
	if err := decodeLimit(c, &body, MaxBatchBody); err != nil {
		return err
	}
	ids := make([]string, len(body.Projects))
	for i, name := range body.Projects {
		id, found := strings.CutPrefix(name, "projects/")
		if !found || strings.Contains(id, "/") {
			return domain.FieldError("projects", fmt.Sprintf("projects[%d] must be projects/{id}.", i))
		}
		ids[i] = id
	}
	var ch domain.LabelChange
	if body.AddLabels != nil {
		ch.Add = *body.AddLabels
	}
	if body.RemoveLabels != nil {
		ch.Remove = *body.RemoveLabels
	}
	if err := a.projects.BatchUpdateLabels(c.Request().Context(), principal(c), ids, ch); err != nil {
		return err
	}
	return ok(c, struct{}{})
}

// DeleteProject is DELETE /v2/projects/{p}.
func (a *API) DeleteProject(c echo.Context) error {
	if err := a.projects.DeleteProject(c.Request().Context(), principal(c), c.Param("project")); err != nil {
		return err
	}
	return ok(c, struct{}{})
}

// ListRoles is GET /v2/roles.
func (a *API) ListRoles(c echo.Context) error {
	req, err := pageRequest(c)
	if err != nil {
		return err
	}
	listing := domain.Listing("roles")
	cur, err := domain.DecodeCursor(listing, req.Token)
	if err != nil {
		return err
	}
	var roles []roleJSON
	started := cur.IsZero()
	next := ""
	for _, info := range domain.Roles {
		if !started {
			started = string(info.Role) == cur.ID
			continue
		}
		if len(roles) == req.Size {
			next = domain.EncodeCursor(listing, domain.Cursor{ID: roles[len(roles)-1].Name})
			break
		}
		roles = append(roles, toRole(info))
	}
	if !started {
		return domain.FieldError("pageToken", "The page token is not valid.")
	}
	if roles == nil {
		roles = []roleJSON{}
	}
	return ok(c, map[string]any{"roles": roles, "nextPageToken": next})
}

// GetRole is GET /v2/roles/{role}.
func (a *API) GetRole(c echo.Context) error {
	info, found := domain.LookupRole(domain.Role("roles/" + c.Param("role")))
	if !found {
		return domain.ErrNotFound("Role")
	}
	return ok(c, toRole(info))
}
