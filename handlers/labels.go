package handlers

import (
	"net/http"
	"strings"

	"studio/domain"
	"studio/views"

	"github.com/labstack/echo/v4"
)

// AddProjectLabel adds a label to a project (or changes its value) from
// the settings page. Spaces around what was typed are dropped.
func (h *Handlers) AddProjectLabel(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	key, value := strings.TrimSpace(c.FormValue("labelKey")), strings.TrimSpace(c.FormValue("labelValue"))
	proj, err := h.projects.AddProjectLabel(ctx, p, c.Param("project"), key, value)
	if isInvalid(err) || cannotSave(c, err) {
		a, aerr := h.projects.Access(ctx, p, c.Param("project"))
		if aerr != nil {
			return aerr
		}
		return render(c, http.StatusUnprocessableEntity, views.ProjectSettings(h.projectPage(c, "General", a, views.MenuGeneral),
			views.SettingsForm{Access: a, Name: a.Project.DisplayName, LabelKey: key, LabelValue: value, Errors: domain.FieldErrors(err)}))
	}
	if err != nil {
		return err
	}
	h.setFlash(c, "success", "Label “"+views.LabelText(key, value)+"” set.")
	return redirect(c, "/projects/"+proj.ID+"/settings#labels")
}

// RemoveProjectLabel removes one label of a project.
func (h *Handlers) RemoveProjectLabel(c echo.Context) error {
	key := c.FormValue("labelKey")
	proj, err := h.projects.RemoveProjectLabel(c.Request().Context(), principal(c), c.Param("project"), key)
	if isInvalid(err) {
		h.setFlash(c, "error", domain.ErrorMessage(err))
		return redirect(c, "/projects/"+c.Param("project")+"/settings#labels")
	}
	if err != nil {
		return err
	}
	h.setFlash(c, "success", "Label “"+key+"” removed.")
	return redirect(c, "/projects/"+proj.ID+"/settings#labels")
}
