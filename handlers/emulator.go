package handlers

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"studio/domain"
	"studio/views"

	"github.com/labstack/echo/v4"
)

// Emulator lists the project's virtual sensors, with the form that makes one.
func (h *Handlers) Emulator(c echo.Context) error {
	return h.renderEmulator(c, http.StatusOK, "", "", nil)
}

func (h *Handlers) renderEmulator(c echo.Context, status int, newType, newName string, errs map[string]string) error {
	ctx, p := c.Request().Context(), principal(c)
	a, err := h.devices.Authorize(ctx, p, c.Param("project"), domain.OpEmulatorRead)
	if err != nil {
		return err
	}
	req := pageRequest(c, consolePageSize)
	list, err := h.devices.ListEmulatedByName(ctx, p, a.Project.ID, req)
	if isInvalid(err) {
		req.Token = ""
		list, err = h.devices.ListEmulatedByName(ctx, p, a.Project.ID, req)
	}
	if err != nil {
		return err
	}
	return render(c, status, views.Emulator(h.projectPage(c, "Emulator", a, views.MenuEmulator), views.EmulatorPage{
		Access: a, Devices: list, Token: req.Token, Now: h.now(), NewType: newType, NewName: newName, Errors: errs}))
}

// CreateEmulated makes a virtual sensor and opens it.
func (h *Handlers) CreateEmulated(c echo.Context) error {
	typ, name := c.FormValue("type"), strings.TrimSpace(c.FormValue("name"))
	labels := map[string]string{}
	if name != "" {
		labels["name"] = name
	}
	d, err := h.devices.CreateEmulated(c.Request().Context(), principal(c), c.Param("project"),
		domain.EmulatedInput{Type: domain.DeviceType(typ), Labels: labels})
	if isInvalid(err) || cannotSave(c, err) {
		return h.renderEmulator(c, http.StatusUnprocessableEntity, typ, name, domain.FieldErrors(err))
	}
	if err != nil {
		return err
	}
	h.setFlash(c, "success", "Virtual sensor “"+d.DisplayName()+"” created.")
	return redirect(c, "/projects/"+d.ProjectID+"/emulator/"+d.ID)
}

// Emulated shows a virtual sensor with buttons to publish its events.
func (h *Handlers) Emulated(c echo.Context) error {
	return h.renderEmulated(c, http.StatusOK, nil, nil)
}

func (h *Handlers) renderEmulated(c echo.Context, status int, values, errs map[string]string) error {
	ctx, p := c.Request().Context(), principal(c)
	a, err := h.devices.Authorize(ctx, p, c.Param("project"), domain.OpEmulatorRead)
	if err != nil {
		return err
	}
	d, err := h.devices.GetEmulated(ctx, p, a.Project.ID, c.Param("device"))
	if err != nil {
		return err
	}
	return render(c, status, views.EmulatedDevice(h.projectPage(c, d.DisplayName(), a, views.MenuEmulator), views.EmulatedPage{
		Access: a, Device: d, Now: h.now(), Loc: projectLocation(a.Project), Values: values, Errors: errs}))
}

// PublishEmulated publishes an event of a virtual sensor from its page's forms.
func (h *Handlers) PublishEmulated(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	projectID, deviceID := c.Param("project"), c.Param("device")
	et := domain.EventType(c.FormValue("event"))
	// Refuse an outsider before reading the form, as a read would.
	if _, err := h.devices.Authorize(ctx, p, projectID, domain.OpEmulatorUpdate); err != nil {
		return err
	}
	body, err := publishBody(et, c.FormValue)
	var e domain.Event
	if err == nil {
		e, err = h.devices.PublishEmulated(ctx, p, projectID, deviceID, body)
	}
	if isInvalid(err) || cannotSave(c, err) {
		values := map[string]string{}
		for _, f := range []string{"value", "temperature", "relativeHumidity", "total", "ppm", "pascal", "signalStrength", "percentage", "ipAddress"} {
			if v := c.FormValue(f); v != "" {
				values[f] = v
			}
		}
		return h.renderEmulated(c, http.StatusUnprocessableEntity, values, map[string]string{string(et): domain.ErrorMessage(err)})
	}
	if err != nil {
		return err
	}
	h.setFlash(c, "success", "Published "+views.EventSummary(e)+".")
	return redirect(c, "/projects/"+projectID+"/emulator/"+deviceID)
}

// publishBody builds {"<type>": body} from a publish form's fields.
func publishBody(et domain.EventType, form func(string) string) (json.RawMessage, error) {
	var bad error
	num := func(field string) json.Number {
		v := strings.TrimSpace(form(field))
		if _, err := strconv.ParseFloat(v, 64); err != nil && bad == nil {
			bad = domain.FieldError(string(et), "Type a number.")
		}
		return json.Number(v)
	}
	var body map[string]any
	switch et {
	case domain.EventTouch:
		body = map[string]any{}
	case domain.EventTemperature:
		body = map[string]any{"value": num("value")}
	case domain.EventHumidity:
		body = map[string]any{"temperature": num("temperature"), "relativeHumidity": num("relativeHumidity")}
	case domain.EventObjectPresent, domain.EventWaterPresent, domain.EventContact, domain.EventMotion, domain.EventDeskOccupancy:
		body = map[string]any{"state": form("state")}
	case domain.EventObjectPresentCount, domain.EventTouchCount:
		body = map[string]any{"total": num("total")}
	case domain.EventCO2:
		body = map[string]any{"ppm": num("ppm")}
	case domain.EventPressure:
		body = map[string]any{"pascal": num("pascal")}
	case domain.EventNetworkStatus, domain.EventCellularStatus:
		body = map[string]any{"signalStrength": num("signalStrength")}
	case domain.EventBatteryStatus:
		body = map[string]any{"percentage": num("percentage")}
	case domain.EventConnectionStatus:
		body = map[string]any{"connection": form("connection")}
	case domain.EventEthernetStatus:
		body = map[string]any{"ipAddress": strings.TrimSpace(form("ipAddress"))}
	default:
		return nil, domain.Errorf(domain.EINVALID, "Choose an event to publish.")
	}
	if bad != nil {
		return nil, bad
	}
	return json.Marshal(map[string]any{string(et): body})
}

// DeleteEmulatedPage asks before a virtual sensor is deleted.
func (h *Handlers) DeleteEmulatedPage(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	a, err := h.devices.Authorize(ctx, p, c.Param("project"), domain.OpEmulatorDelete)
	if err != nil {
		return err
	}
	d, err := h.devices.GetEmulated(ctx, p, a.Project.ID, c.Param("device"))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.EmulatedDeleteConfirm(h.projectPage(c, "Delete "+d.DisplayName(), a, views.MenuEmulator),
		views.EmulatedPage{Access: a, Device: d}))
}

// DeleteEmulated deletes a virtual sensor.
func (h *Handlers) DeleteEmulated(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	projectID := c.Param("project")
	if _, err := h.devices.Authorize(ctx, p, projectID, domain.OpEmulatorDelete); err != nil {
		return err
	}
	d, err := h.devices.GetEmulated(ctx, p, projectID, c.Param("device"))
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		// Only the confirmation page's form deletes.
		return domain.Errorf(domain.EINVALID, "Confirm the deletion on the virtual sensor's delete page.")
	}
	if err := h.devices.DeleteEmulated(ctx, p, projectID, d.ID); err != nil {
		return err
	}
	h.setFlash(c, "success", "Virtual sensor “"+d.DisplayName()+"” deleted.")
	return redirect(c, "/projects/"+projectID+"/emulator")
}
