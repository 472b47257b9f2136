package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"studio/domain"
	"studio/views"

	"github.com/labstack/echo/v4"
)

// Devices shows a project's devices, with search, a label filter and pages.
func (h *Handlers) Devices(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	a, err := h.devices.Authorize(ctx, p, c.Param("project"), domain.OpDeviceRead)
	if err != nil {
		return err
	}
	s, err := h.devicesPage(c, a)
	if err != nil {
		return err
	}
	if s.Targets, err = h.moveTargets(c, a); err != nil {
		return err
	}
	status := http.StatusOK
	if len(s.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return render(c, status, views.Devices(h.projectPage(c, "Devices", a, views.MenuDevices), s))
}

// moveTargets are the projects the user may move this project's devices
// into (none without device.transfer here).
func (h *Handlers) moveTargets(c echo.Context, a domain.Access) ([]domain.Project, error) {
	if !a.Allows(domain.OpDeviceTransfer) {
		return nil, nil
	}
	targets, err := h.devices.TransferTargets(c.Request().Context(), principal(c), a.Project.OrganizationID)
	var out []domain.Project
	for _, t := range targets {
		if t.ID != a.Project.ID {
			out = append(out, t)
		}
	}
	return out, err
}

// devicesPage reads the list the URL asks for: by name, filtered by the
// search text and the label filter. A bad label filter is shown beside
// its field and the list is shown without it.
func (h *Handlers) devicesPage(c echo.Context, a domain.Access) (views.DevicesPage, error) {
	s := views.DevicesPage{Access: a, Query: c.QueryParam("q"), Label: strings.TrimSpace(c.QueryParam("label")),
		Token: c.QueryParam("page"), Now: h.now()}
	q := domain.DeviceQuery{Query: s.Query, ByDisplayName: true}
	if s.Label != "" {
		if _, err := domain.ParseLabelFilter(s.Label); err != nil {
			s.Errors = map[string]string{"label": "Filter by a label key, or key=value: " + domain.ErrorMessage(err)}
		} else {
			q.LabelFilters = []string{s.Label}
		}
	}
	list, err := h.devices.List(c.Request().Context(), principal(c), a.Project.ID, q, pageRequest(c, consolePageSize))
	if isInvalid(err) {
		// A page token or search text that does not fit: start over.
		s.Errors = domain.FieldErrors(err)
		s.Token = ""
		list, err = h.devices.List(c.Request().Context(), principal(c), a.Project.ID, domain.DeviceQuery{ByDisplayName: true}, domain.PageRequest{Size: consolePageSize})
	}
	s.Devices = list
	return s, err
}

// DevicesLive answers the device list's poll: the fresh values of the
// devices shown, or new rows when the page's devices changed.
func (h *Handlers) DevicesLive(c echo.Context) error {
	a, err := h.devices.Authorize(c.Request().Context(), principal(c), c.Param("project"), domain.OpDeviceRead)
	if err != nil {
		return err
	}
	s, err := h.devicesPage(c, a)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	changed := c.QueryParam("shown") != views.ShownDigest(s.Devices.Items)
	if changed {
		// New rows carry their selection boxes as the page's do.
		if s.Targets, err = h.moveTargets(c, a); err != nil {
			return err
		}
	}
	return render(c, http.StatusOK, views.DevicesLive(s, changed))
}

// MoveDevices moves the selected devices to another project: it first
// asks (naming the count and the target), then moves and tells what moved
// and what did not.
func (h *Handlers) MoveDevices(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	a, err := h.devices.Authorize(ctx, p, c.Param("project"), domain.OpDeviceTransfer)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return domain.Errorf(domain.EINVALID, "The form could not be read.")
	}
	ids := form["device"]
	back := "/projects/" + a.Project.ID + "/devices"
	if len(ids) == 0 {
		h.setFlash(c, "error", "Select the devices to move first.")
		return redirect(c, back)
	}
	if len(ids) > domain.MaxBatchDevices {
		return domain.Errorf(domain.EINVALID, "Move at most %d devices at once.", domain.MaxBatchDevices)
	}
	target, err := h.devices.Authorize(ctx, p, c.FormValue("target"), domain.OpDeviceTransfer)
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		m := views.MoveConfirm{Access: a, Target: target.Project}
		for _, id := range ids {
			d, err := h.devices.Get(ctx, p, a.Project.ID, id)
			if err != nil {
				return err
			}
			m.Devices = append(m.Devices, d)
		}
		return render(c, http.StatusOK, views.MoveDevices(h.projectPage(c, "Move devices", a, views.MenuDevices), m))
	}
	refs := make([]domain.DeviceRef, len(ids))
	for i, id := range ids {
		refs[i] = domain.DeviceRef{ProjectID: a.Project.ID, DeviceID: id}
	}
	res, err := h.devices.Transfer(ctx, p, target.Project.ID, refs)
	if err != nil {
		return err
	}
	if len(res.Moved) > 0 {
		h.setFlash(c, "success", "Moved "+countNoun(len(res.Moved), "device", "devices")+" to “"+target.Project.DisplayName+"”.")
	}
	if len(res.Errors) > 0 {
		// One message, a few devices named: a flash lives in a cookie.
		var parts []string
		for i, e := range res.Errors {
			if i == 5 {
				parts = append(parts, "and "+strconv.Itoa(len(res.Errors)-5)+" more")
				break
			}
			parts = append(parts, ids[e.Index]+": "+e.Err.Message)
		}
		h.setFlash(c, "error", countNoun(len(res.Errors), "device was", "devices were")+" not moved. "+strings.Join(parts, " "))
	}
	return redirect(c, back)
}

func countNoun(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// projectLocation is the project's time zone, UTC when it has none.
func projectLocation(p domain.Project) *time.Location {
	if p.Location.TimeLocation != "" {
		if loc, err := time.LoadLocation(p.Location.TimeLocation); err == nil {
			return loc
		}
	}
	return time.UTC
}
