package handlers

import (
	"net/http"
	"strings"

	"studio/domain"
	"studio/views"

	"github.com/labstack/echo/v4"
)

// pageRequest reads the console's page token from ?page=.
func pageRequest(c echo.Context, size int) domain.PageRequest {
	return domain.PageRequest{Size: size, Token: c.QueryParam("page")}
}

// consolePageSize is how many rows a console list shows.
const consolePageSize = 50

// Organizations lists the organizations the user can see.
func (h *Handlers) Organizations(c echo.Context) error {
	orgs, err := h.projects.ListOrganizations(c.Request().Context(), principal(c), pageRequest(c, consolePageSize))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Organizations(h.page(c, "Organizations"), orgs))
}

// Organization shows an organization's projects, with search and the create form.
func (h *Handlers) Organization(c echo.Context) error {
	return h.renderOrganization(c, http.StatusOK, "", nil)
}

func (h *Handlers) renderOrganization(c echo.Context, status int, newName string, errs map[string]string) error {
	ctx, p := c.Request().Context(), principal(c)
	org, err := h.projects.Organization(ctx, p, c.Param("org"))
	if err != nil {
		return err
	}
	query := c.QueryParam("q")
	// Label filters: ?label=key=value (or key alone for any value), repeated for several.
	var labels []string
	for _, l := range c.QueryParams()["label"] {
		if l = strings.TrimSpace(l); l != "" {
			labels = append(labels, l)
		}
	}
	req := pageRequest(c, consolePageSize)
	filters, err := domain.ParseLabelFilters(labels)
	var list domain.Page[domain.Project]
	if err == nil {
		list, err = h.projects.ListProjects(ctx, p, org.ID, query, req, filters...)
	}
	if isInvalid(err) && domain.FieldErrors(err)["labels"] != "" {
		// A filter that cannot be read lists nothing and says why beside the field.
		if errs == nil {
			errs = map[string]string{}
		}
		errs["label"], status = domain.ErrorMessage(err), http.StatusBadRequest
	} else if err != nil {
		return err
	}
	page := h.page(c, org.DisplayName)
	page.Org, page.OrgAdm = &org.Organization, org.IsAdmin
	return render(c, status, views.Organization(page, views.OrganizationPage{
		Org: org, Projects: list, Query: query, Labels: labels, First: req.Token == "", NewName: newName, Errors: errs}))
}

// CreateProject makes a project and opens it.
func (h *Handlers) CreateProject(c echo.Context) error {
	name := c.FormValue("displayName")
	proj, err := h.projects.CreateProject(c.Request().Context(), principal(c), c.Param("org"), domain.ProjectInput{DisplayName: &name})
	if isInvalid(err) || cannotSave(c, err) {
		return h.renderOrganization(c, http.StatusUnprocessableEntity, name, domain.FieldErrors(err))
	}
	if err != nil {
		return err
	}
	h.setFlash(c, "success", "Project “"+proj.DisplayName+"” created.")
	return redirect(c, "/projects/"+proj.ID)
}

// Project shows a project's dashboard.
func (h *Handlers) Project(c echo.Context) error {
	d, err := h.hygiene.ProjectDashboard(c.Request().Context(), principal(c), c.Param("project"))
	if err != nil {
		return err
	}
	counts, err := h.devices.Counts(c.Request().Context(), principal(c), d.Access.Project.ID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ProjectDashboard(h.projectPage(c, d.Access.Project.DisplayName, d.Access, views.MenuDashboard), d, counts))
}

// ProjectSettings shows the General settings page.
func (h *Handlers) ProjectSettings(c echo.Context) error {
	a, err := h.projects.Access(c.Request().Context(), principal(c), c.Param("project"))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ProjectSettings(h.projectPage(c, "General", a, views.MenuGeneral),
		views.SettingsForm{Access: a, Name: a.Project.DisplayName}))
}

// UpdateProject renames a project.
func (h *Handlers) UpdateProject(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	name := c.FormValue("displayName")
	proj, err := h.projects.UpdateProject(ctx, p, c.Param("project"), domain.ProjectInput{DisplayName: &name})
	if isInvalid(err) || cannotSave(c, err) {
		a, aerr := h.projects.Access(ctx, p, c.Param("project"))
		if aerr != nil {
			return aerr
		}
		return render(c, http.StatusUnprocessableEntity, views.ProjectSettings(h.projectPage(c, "General", a, views.MenuGeneral),
			views.SettingsForm{Access: a, Name: name, Errors: domain.FieldErrors(err)}))
	}
	if err != nil {
		return err
	}
	h.setFlash(c, "success", "Project renamed to “"+proj.DisplayName+"”.")
	return redirect(c, "/projects/"+proj.ID+"/settings")
}

// DeleteProjectPage asks for confirmation before deleting a project.
func (h *Handlers) DeleteProjectPage(c echo.Context) error {
	a, err := h.projects.Access(c.Request().Context(), principal(c), c.Param("project"))
	if err != nil {
		return err
	}
	if err := a.Authorize(domain.OpProjectDelete); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.DeleteProject(h.projectPage(c, "Delete project", a, views.MenuGeneral),
		views.DeleteProjectForm{Project: a.Project}))
}

// DeleteProject deletes a project once its name was typed to confirm.
func (h *Handlers) DeleteProject(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	a, err := h.projects.Access(ctx, p, c.Param("project"))
	if err != nil {
		return err
	}
	typed := c.FormValue("confirm")
	if typed != a.Project.DisplayName {
		if err := a.Authorize(domain.OpProjectDelete); err != nil {
			return err
		}
		msg := "Type the project's name exactly to confirm."
		return render(c, http.StatusUnprocessableEntity, views.DeleteProject(h.projectPage(c, "Delete project", a, views.MenuGeneral),
			views.DeleteProjectForm{Project: a.Project, Typed: typed, Errors: map[string]string{"confirm": msg}}))
	}
	if err := h.projects.DeleteProject(ctx, p, a.Project.ID); err != nil {
		if isInvalid(err) {
			h.setFlash(c, "error", domain.ErrorMessage(err))
			return redirect(c, "/projects/"+a.Project.ID+"/settings")
		}
		return err
	}
	h.setFlash(c, "success", "Project “"+a.Project.DisplayName+"” deleted.")
	return redirect(c, "/orgs/"+a.Project.OrganizationID)
}
