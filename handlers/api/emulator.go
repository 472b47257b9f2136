package api

import (
	"encoding/json"
	"strings"

	"studio/domain"

	"github.com/labstack/echo/v4"
)

// The emulator API, under <base>/emulator/v2 (api-v2-devices.md §4): the
// original serves it on a host of its own beside the API, with the same
// credentials. Clients are told its base: Python's emulator_base_url,
// Swift's emulatorBaseURL, Terraform's emulator_url (which appends /v2).

// emulatedBody is an emulated device in a request. name is read-only (the
// server makes ids) and accepted for Terraform, which sends it on PUT.
type emulatedBody struct {
	Name   *string           `json:"name"`
	Type   string            `json:"type"`
	Labels map[string]string `json:"labels"`
}

// CreateEmulatedDevice is POST <emu>/projects/{p}/devices.
func (a *API) CreateEmulatedDevice(c echo.Context) error {
	var body emulatedBody
	if err := decode(c, &body); err != nil {
		return err
	}
	d, err := a.devices.CreateEmulated(c.Request().Context(), principal(c), c.Param("project"),
		domain.EmulatedInput{Type: domain.DeviceType(body.Type), Labels: body.Labels})
	if err != nil {
		return err
	}
	return ok(c, toDevice(d))
}

// ListEmulatedDevices is GET <emu>/projects/{p}/devices: emulated devices only.
func (a *API) ListEmulatedDevices(c echo.Context) error {
	req, err := pageRequest(c)
	if err != nil {
		return err
	}
	page, err := a.devices.ListEmulated(c.Request().Context(), principal(c), c.Param("project"), req)
	if err != nil {
		return err
	}
	return ok(c, map[string]any{"devices": mapItems(page.Items, toDevice), "nextPageToken": page.NextPageToken})
}

// GetEmulatedDevice is GET <emu>/projects/{p}/devices/{d}.
func (a *API) GetEmulatedDevice(c echo.Context) error {
	d, err := a.devices.GetEmulated(c.Request().Context(), principal(c), c.Param("project"), c.Param("device"))
	if err != nil {
		return err
	}
	return ok(c, toDevice(d))
}

// ReplaceEmulatedDevice is PUT <emu>/projects/{p}/devices/{d} (Terraform):
// the labels become the body's; the type must stay.
func (a *API) ReplaceEmulatedDevice(c echo.Context) error {
	var body emulatedBody
	if err := decode(c, &body); err != nil {
		return err
	}
	d, err := a.devices.ReplaceEmulated(c.Request().Context(), principal(c), c.Param("project"), c.Param("device"),
		domain.EmulatedInput{Type: domain.DeviceType(body.Type), Labels: body.Labels})
	if err != nil {
		return err
	}
	return ok(c, toDevice(d))
}

// DeleteEmulatedDevice is DELETE <emu>/projects/{p}/devices/{d}.
func (a *API) DeleteEmulatedDevice(c echo.Context) error {
	if err := a.devices.DeleteEmulated(c.Request().Context(), principal(c), c.Param("project"), c.Param("device")); err != nil {
		return err
	}
	return ok(c, struct{}{})
}

const publishSuffix = ":publish"

// PublishEmulatedEvent is POST <emu>/projects/{p}/devices/{d}:publish with
// {"<eventType>": body}; it answers {} once the event is stored.
func (a *API) PublishEmulatedEvent(c echo.Context) error {
	id, found := strings.CutSuffix(c.Param("device"), publishSuffix)
	if !found {
		return echo.ErrNotFound
	}
	var body json.RawMessage
	if err := decode(c, &body); err != nil {
		return err
	}
	if _, err := a.devices.PublishEmulated(c.Request().Context(), principal(c), c.Param("project"), id, body); err != nil {
		return err
	}
	return ok(c, struct{}{})
}
