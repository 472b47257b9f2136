package api

import (
	"encoding/json"
	"strings"
	"time"

	"studio/domain"

	"github.com/labstack/echo/v4"
)

// Devices, their event history, labels and moves (api-v2-devices.md).

type deviceJSON struct {
	Name          string            `json:"name"`
	Type          string            `json:"type"`
	Labels        map[string]string `json:"labels"`
	ProductNumber string            `json:"productNumber"`
	Reported      json.RawMessage   `json:"reported"`
}

func deviceName(projectID, deviceID string) string {
	return projectName(projectID) + "/devices/" + deviceID
}

func toDevice(d domain.Device) deviceJSON {
	labels := d.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return deviceJSON{Name: deviceName(d.ProjectID, d.ID), Type: string(d.Type), Labels: labels,
		ProductNumber: d.ProductNumber, Reported: d.ReportedJSON()}
}

type eventJSON struct {
	EventID    string          `json:"eventId"`
	TargetName string          `json:"targetName"`
	EventType  string          `json:"eventType"`
	Data       json.RawMessage `json:"data"`
	Timestamp  string          `json:"timestamp"`
}

func toEvent(e domain.Event) eventJSON {
	return eventJSON{EventID: e.ID, TargetName: e.TargetName(), EventType: string(e.Type), Data: e.Data(), Timestamp: timestamp(e.Time)}
}

// queryList reads a repeated query parameter in any of its spellings
// (device_ids=a&device_ids=b); split also cuts values at commas, for
// lists whose values hold none (ids, types).
func queryList(c echo.Context, split bool, names ...string) []string {
	var out []string
	params := c.QueryParams()
	for _, n := range names {
		for _, v := range params[n] {
			if !split {
				out = append(out, v)
				continue
			}
			for _, part := range strings.Split(v, ",") {
				if part = strings.TrimSpace(part); part != "" {
					out = append(out, part)
				}
			}
		}
	}
	return out
}

// deviceQuery reads the device list filters.
func deviceQuery(c echo.Context) domain.DeviceQuery {
	return domain.DeviceQuery{
		Query:          c.QueryParam("query"),
		DeviceIDs:      queryList(c, true, "device_ids", "deviceIds"),
		DeviceTypes:    queryList(c, true, "device_types", "deviceTypes"),
		ProductNumbers: queryList(c, true, "product_numbers", "productNumbers"),
		LabelFilters:   queryList(c, false, "label_filters", "labelFilters"),
		OrderBy:        query(c, "order_by", "orderBy"),
	}
}

// ListDevices is GET /v2/projects/{p}/devices, and projects/-/devices
// with organization= (and optionally projects=) for every readable project.
func (a *API) ListDevices(c echo.Context) error {
	req, err := pageRequest(c)
	if err != nil {
		return err
	}
	q := deviceQuery(c)
	projectID := c.Param("project")
	if projectID == "-" {
		if o := c.QueryParam("organization"); o != "" {
			if !strings.HasPrefix(o, "organizations/") {
				return domain.FieldError("organization", "organization must be organizations/{id}.")
			}
			q.OrganizationID = trimName(o, "organizations/")
		}
		for _, p := range queryList(c, true, "projects") {
			if !strings.HasPrefix(p, "projects/") {
				return domain.FieldError("projects", "projects takes projects/{id}.")
			}
			q.ProjectIDs = append(q.ProjectIDs, trimName(p, "projects/"))
		}
	}
	page, err := a.devices.List(c.Request().Context(), principal(c), projectID, q, req)
	if err != nil {
		return err
	}
	return ok(c, map[string]any{"devices": mapItems(page.Items, toDevice), "nextPageToken": page.NextPageToken})
}

// GetDevice is GET /v2/projects/{p}/devices/{d}; {p} may be "-".
func (a *API) GetDevice(c echo.Context) error {
	d, err := a.devices.Get(c.Request().Context(), principal(c), c.Param("project"), c.Param("device"))
	if err != nil {
		return err
	}
	return ok(c, toDevice(d))
}

// parseDeviceName reads projects/{p}/devices/{d}.
func parseDeviceName(name string) (domain.DeviceRef, bool) {
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "projects" || parts[2] != "devices" {
		return domain.DeviceRef{}, false
	}
	return domain.DeviceRef{ProjectID: parts[1], DeviceID: parts[3]}, true
}

type batchStatusJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type batchErrorJSON struct {
	Device string          `json:"device"`
	Status batchStatusJSON `json:"status"`
}

// itemCode is a batch item's error code as the contract spells it.
func itemCode(err *domain.Error) string {
	switch err.Code {
	case domain.ENOTFOUND:
		return "NOT_FOUND"
	case domain.EINVALID:
		return "INVALID_ARGUMENT"
	}
	return "INTERNAL_ERROR"
}

// deviceRefs reads the devices of a batch request; a malformed name is
// answered as a not-found item (it names no device), by its index.
func deviceRefs(names []string) ([]domain.DeviceRef, map[int]bool) {
	refs := make([]domain.DeviceRef, len(names))
	bad := map[int]bool{}
	for i, n := range names {
		ref, ok := parseDeviceName(n)
		if !ok {
			bad[i] = true
		}
		refs[i] = ref
	}
	return refs, bad
}

func batchErrors(names []string, bad map[int]bool, errs []domain.ItemError) []batchErrorJSON {
	byIndex := map[int]*domain.Error{}
	for _, e := range errs {
		byIndex[e.Index] = e.Err
	}
	out := []batchErrorJSON{}
	for i, n := range names {
		switch e := byIndex[i]; {
		case bad[i]:
			out = append(out, batchErrorJSON{Device: n, Status: batchStatusJSON{Code: "NOT_FOUND", Message: "Device not found."}})
		case e != nil:
			out = append(out, batchErrorJSON{Device: n, Status: batchStatusJSON{Code: itemCode(e), Message: e.Message}})
		}
	}
	return out
}

// BatchUpdateDevices is POST /v2/projects/{p}/devices:batchUpdate.
func (a *API) BatchUpdateDevices(c echo.Context) error {
	var body struct {
		Devices      []string          `json:"devices"`
		AddLabels    map[string]string `json:"addLabels"`
		RemoveLabels []string          `json:"removeLabels"`
	}
	if err := decode(c, &body); err != nil {
		return err
	}
	refs, bad := deviceRefs(body.Devices)
	// A malformed name is no device of {p}: the domain answers it as not found.
	errs, err := a.devices.UpdateLabels(c.Request().Context(), principal(c), c.Param("project"), refs, body.AddLabels, body.RemoveLabels)
	if err != nil {
		return err
	}
	return ok(c, map[string]any{"batchErrors": batchErrors(body.Devices, bad, errs)})
}

// TransferDevices is POST /v2/projects/{target}/devices:transfer.
func (a *API) TransferDevices(c echo.Context) error {
	var body struct {
		Devices []string `json:"devices"`
	}
	if err := decode(c, &body); err != nil {
		return err
	}
	refs, bad := deviceRefs(body.Devices)
	res, err := a.devices.Transfer(c.Request().Context(), principal(c), c.Param("project"), refs)
	if err != nil {
		return err
	}
	moved := []string{}
	for _, r := range res.Moved {
		moved = append(moved, deviceName(r.ProjectID, r.DeviceID))
	}
	return ok(c, map[string]any{"transferredDevices": moved, "transferErrors": batchErrors(body.Devices, bad, res.Errors)})
}

// parseTimeParam reads an RFC 3339 time parameter ("" is the zero time).
func parseTimeParam(c echo.Context, field string, names ...string) (time.Time, error) {
	v := query(c, names...)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, domain.FieldError(field, field+" must be an RFC 3339 time such as 2024-05-29T10:34:03Z.")
	}
	return t.UTC(), nil
}

// ListDeviceEvents is GET /v2/projects/{p}/devices/{d}/events.
func (a *API) ListDeviceEvents(c echo.Context) error {
	req, err := pageRequest(c)
	if err != nil {
		return err
	}
	start, err := parseTimeParam(c, "start_time", "start_time", "startTime")
	if err != nil {
		return err
	}
	end, err := parseTimeParam(c, "end_time", "end_time", "endTime")
	if err != nil {
		return err
	}
	q := domain.HistoryQuery{Types: queryList(c, true, "event_types", "eventTypes"), Start: start, End: end}
	page, err := a.devices.History(c.Request().Context(), principal(c), c.Param("project"), c.Param("device"), q, req)
	if err != nil {
		return err
	}
	return ok(c, map[string]any{"events": mapItems(page.Items, toEvent), "nextPageToken": page.NextPageToken})
}
