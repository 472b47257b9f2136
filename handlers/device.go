package handlers

import (
	"net/http"
	"strings"
	"time"

	"studio/domain"
	"studio/views"

	"github.com/labstack/echo/v4"
)

// historyPageSize is how many events a page of the console's history shows.
const historyPageSize = 25

// chartWindows are the chart windows the device page offers.
var chartWindows = map[string]time.Duration{"24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour}

// Device shows one device: latest values, chart, labels and event history.
func (h *Handlers) Device(c echo.Context) error {
	return h.renderDevice(c, http.StatusOK, "", "", nil)
}

func (h *Handlers) renderDevice(c echo.Context, status int, newKey, newValue string, labelErrs map[string]string) error {
	ctx, p := c.Request().Context(), principal(c)
	a, err := h.devices.Authorize(ctx, p, c.Param("project"), domain.OpDeviceRead)
	if err != nil {
		return err
	}
	d, err := h.devices.Get(ctx, p, a.Project.ID, c.Param("device"))
	if err != nil {
		return err
	}
	window := c.QueryParam("window")
	if _, ok := chartWindows[window]; !ok {
		window = "24h"
	}
	chart, err := h.devices.Chart(ctx, p, a.Project.ID, d.ID, chartWindows[window])
	if err != nil {
		return err
	}
	now := h.now()
	page := views.DevicePage{Access: a, Device: d, Now: now, Loc: projectLocation(a.Project), Window: window,
		EventType: c.QueryParam("type"), EventToken: c.QueryParam("page"),
		NewKey: newKey, NewValue: newValue, LabelErrors: labelErrs}
	page.Chart = views.BuildChart(chart, 720, 240, page.Loc)
	q := domain.HistoryQuery{Start: now.Add(-chartWindows[window])}
	if page.EventType != "" {
		q.Types = []string{page.EventType}
	}
	page.Events, err = h.devices.History(ctx, p, a.Project.ID, d.ID, q, pageRequest(c, historyPageSize))
	if isInvalid(err) {
		// An unknown type or a stale page token: show the first page of all.
		page.EventType, page.EventToken = "", ""
		page.Events, err = h.devices.History(ctx, p, a.Project.ID, d.ID, domain.HistoryQuery{Start: q.Start}, domain.PageRequest{Size: historyPageSize})
	}
	if err != nil {
		return err
	}
	return render(c, status, views.DeviceDetail(h.projectPage(c, d.DisplayName(), a, views.MenuDevices), page))
}

// SetDeviceLabel adds a label or changes its value.
func (h *Handlers) SetDeviceLabel(c echo.Context) error {
	key, value := strings.TrimSpace(c.FormValue("key")), c.FormValue("value")
	// The domain's label rules, with this form's field names.
	if _, err := h.devices.Authorize(c.Request().Context(), principal(c), c.Param("project"), domain.OpDeviceUpdate); err != nil {
		return err
	}
	err := domain.CheckLabelKey("key", key)
	if err == nil {
		err = domain.CheckLabelValue("value", key, value)
	}
	if err != nil {
		return h.renderDevice(c, http.StatusUnprocessableEntity, key, value, domain.FieldErrors(err))
	}
	return h.changeLabels(c, map[string]string{key: value}, nil, key, value, "Label “"+key+"” saved.")
}

// RemoveDeviceLabel removes a label.
func (h *Handlers) RemoveDeviceLabel(c echo.Context) error {
	key := c.FormValue("key")
	return h.changeLabels(c, nil, []string{key}, "", "", "Label “"+key+"” removed.")
}

func (h *Handlers) changeLabels(c echo.Context, add map[string]string, remove []string, key, value, done string) error {
	ctx, p := c.Request().Context(), principal(c)
	projectID, deviceID := c.Param("project"), c.Param("device")
	itemErrs, err := h.devices.UpdateLabels(ctx, p, projectID, []domain.DeviceRef{{ProjectID: projectID, DeviceID: deviceID}}, add, remove)
	if err == nil && len(itemErrs) > 0 {
		err = itemErrs[0].Err
		if itemErrs[0].Err.Code == domain.EINVALID {
			err = domain.FieldError("key", itemErrs[0].Err.Message)
		}
	}
	if isInvalid(err) || cannotSave(c, err) {
		errs := domain.FieldErrors(err)
		if len(errs) == 0 {
			errs = map[string]string{"key": domain.ErrorMessage(err)}
		}
		return h.renderDevice(c, http.StatusUnprocessableEntity, key, value, errs)
	}
	if err != nil {
		return err
	}
	h.setFlash(c, "success", done)
	return redirect(c, "/projects/"+projectID+"/devices/"+deviceID+"#labels")
}
