package web_test

// Tests of devices, events and the emulator against
// ../shared/api-v2-devices.md: every response decoded strictly (exact key
// sets, the reported keys of each device type, every body field), every
// filter, both auth schemes, and what the store holds after each change.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"studio/domain"
)

var (
	apiEmuIDPattern   = regexp.MustCompile(`^emu[0-9a-v]{20}$`)
	apiEventIDPattern = regexp.MustCompile(`^[0-9a-v]{20}$`)
)

// The contract's reported keys per device type, written out.
var apiReportedKeys = map[string][]string{
	"temperature":      {"networkStatus", "batteryStatus", "touch", "temperature"},
	"humidity":         {"networkStatus", "batteryStatus", "touch", "humidity"},
	"proximity":        {"networkStatus", "batteryStatus", "touch", "objectPresent"},
	"touch":            {"networkStatus", "batteryStatus", "touch"},
	"proximityCounter": {"networkStatus", "batteryStatus", "touch", "objectPresentCount"},
	"touchCounter":     {"networkStatus", "batteryStatus", "touch", "touchCount"},
	"waterDetector":    {"networkStatus", "batteryStatus", "touch", "waterPresent"},
	"co2":              {"networkStatus", "batteryStatus", "touch", "co2", "pressure", "humidity"},
	"motion":           {"networkStatus", "batteryStatus", "touch", "motion"},
	"deskOccupancy":    {"networkStatus", "batteryStatus", "touch", "deskOccupancy"},
	"contact":          {"networkStatus", "batteryStatus", "touch", "contact"},
	"ccon":             {"connectionStatus", "ethernetStatus", "cellularStatus", "touch", "connectionLatency"},
}

// The contract's body fields per event type.
var apiBodyKeys = map[string][]string{
	"touch":              {"updateTime"},
	"temperature":        {"value", "updateTime", "samples", "isBackfilled"},
	"humidity":           {"temperature", "relativeHumidity", "updateTime", "samples", "isBackfilled"},
	"objectPresent":      {"state", "updateTime"},
	"waterPresent":       {"state", "updateTime"},
	"objectPresentCount": {"total", "updateTime"},
	"touchCount":         {"total", "updateTime"},
	"co2":                {"ppm", "updateTime"},
	"pressure":           {"pascal", "updateTime"},
	"motion":             {"state", "updateTime"},
	"deskOccupancy":      {"state", "remarks", "updateTime"},
	"contact":            {"state", "updateTime"},
	"networkStatus":      {"signalStrength", "rssi", "updateTime", "cloudConnectors", "transmissionMode"},
	"batteryStatus":      {"percentage", "updateTime"},
	"labelsChanged":      {"added", "modified", "removed", "updateTime"},
	"connectionStatus":   {"connection", "available", "updateTime"},
	"ethernetStatus":     {"macAddress", "ipAddress", "errors", "updateTime"},
	"cellularStatus":     {"signalStrength", "errors", "updateTime"},
}

type apiDevice struct {
	Name          string                     `json:"name"`
	Type          string                     `json:"type"`
	Labels        map[string]string          `json:"labels"`
	ProductNumber string                     `json:"productNumber"`
	Reported      map[string]json.RawMessage `json:"reported"`
}

func (d apiDevice) id() string { return apiLastSegment(d.Name) }

type apiEvent struct {
	EventID    string          `json:"eventId"`
	TargetName string          `json:"targetName"`
	EventType  string          `json:"eventType"`
	Data       json.RawMessage `json:"data"`
	Timestamp  string          `json:"timestamp"`
}

// body is the event type's body.
func (e apiEvent) body(t testing.TB) map[string]json.RawMessage {
	t.Helper()
	if e.EventType == "labelsChanged" {
		return apiObjectNullable(t, e.Data, apiBodyKeys["labelsChanged"]...)
	}
	m := apiObjectNullable(t, e.Data, e.EventType)
	return apiObjectNullable(t, m[e.EventType], apiBodyKeys[e.EventType]...)
}

// apiObjectNullable decodes raw as a JSON object with exactly the keys want
// (null allowed).
func apiObjectNullable(t testing.TB, raw []byte, want ...string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		t.Fatalf("not a JSON object (%v): %s", err, raw)
	}
	got := make([]string, 0, len(m))
	for k := range m {
		got = append(got, k)
	}
	if !apiSameSet(got, want) {
		t.Fatalf("keys %v, want exactly %v, in %s", got, want, raw)
	}
	return m
}

func apiDecodeDevice(t testing.TB, raw []byte) apiDevice {
	t.Helper()
	var d apiDevice
	m := apiStrict(t, raw, &d, "name", "type", "labels", "productNumber", "reported")
	parts := strings.Split(d.Name, "/")
	if len(parts) != 4 || parts[0] != "projects" || parts[2] != "devices" {
		t.Fatalf("device name %q is not projects/{p}/devices/{d}", d.Name)
	}
	apiCheckID(t, "project id", parts[1])
	if !apiIDPattern.MatchString(parts[3]) && !apiEmuIDPattern.MatchString(parts[3]) {
		t.Errorf("device id %q", parts[3])
	}
	want, ok := apiReportedKeys[d.Type]
	if !ok {
		t.Fatalf("device type %q is not one of the contract's", d.Type)
	}
	rep := apiObjectNullable(t, m["reported"], want...)
	for k, v := range rep {
		if string(v) == "null" {
			continue
		}
		if k == "connectionLatency" {
			t.Errorf("connectionLatency is retired: it must stay null, not %s", v)
			continue
		}
		body := apiObjectNullable(t, v, apiBodyKeys[k]...)
		for f, fv := range body {
			if string(fv) == "null" {
				t.Errorf("reported.%s.%s is null", k, f)
			}
		}
	}
	return d
}

func apiDecodeEvent(t testing.TB, raw []byte) apiEvent {
	t.Helper()
	var e apiEvent
	apiObjectNullable(t, raw, "eventId", "targetName", "eventType", "data", "timestamp")
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("strict decode of an event: %v: %s", err, raw)
	}
	if !apiEventIDPattern.MatchString(e.EventID) {
		t.Errorf("eventId %q is not an xid", e.EventID)
	}
	apiCheckTime(t, "timestamp", e.Timestamp)
	if e.EventType == "ping" {
		if string(e.Data) != "null" {
			t.Errorf("a ping's data is %s, want null", e.Data)
		}
		return e
	}
	body := e.body(t)
	for f, v := range body {
		if string(v) == "null" {
			t.Errorf("%s.%s is null", e.EventType, f)
		}
	}
	if e.EventType != "labelsChanged" {
		var ut string
		if err := json.Unmarshal(body["updateTime"], &ut); err != nil || ut != e.Timestamp {
			t.Errorf("timestamp %s is not the body's updateTime %s", e.Timestamp, body["updateTime"])
		}
	}
	return e
}

// devEnv is an API env with a project P, a second project Q in the same
// organization, and callers by role.
type devEnv struct {
	*apiEnv
	plant, quarry domain.Project
	admin         apiCaller // project admin of P and Q
	dev           apiCaller // developer in P
	user          apiCaller // user in P
}

func newDevEnv(t *testing.T, opts ...appOption) *devEnv {
	e := &devEnv{apiEnv: apiNewEnv(t, opts...)}
	org := e.app.org
	e.plant = e.app.addProject(org.ID, "Plant")
	e.quarry = e.app.addProject(org.ID, "Quarry")
	e.admin = e.caller(e.apiEnv.admin, e.plant, "Admin robot")
	e.grant(e.admin.SA.Ref(), org.ID, e.plant.ID, domain.RoleProjectAdmin)
	e.grant(e.admin.SA.Ref(), org.ID, e.quarry.ID, domain.RoleProjectAdmin)
	e.dev = e.caller(e.apiEnv.admin, e.plant, "Developer robot")
	e.grant(e.dev.SA.Ref(), org.ID, e.plant.ID, domain.RoleProjectDev)
	e.user = e.caller(e.apiEnv.admin, e.plant, "User robot")
	e.grant(e.user.SA.Ref(), org.ID, e.plant.ID, domain.RoleProjectUser)
	return e
}

// emulate makes an emulated device through the emulator API.
func (e *devEnv) emulate(auth string, p domain.Project, typ string, labels map[string]string) apiDevice {
	e.t.Helper()
	r := e.call(http.MethodPost, "/emulator/v2/projects/"+p.ID+"/devices", auth, map[string]any{"type": typ, "labels": labels})
	return apiDecodeDevice(e.t, apiOK(e.t, r))
}

// publish publishes one event through the emulator API and requires {}.
func (e *devEnv) publish(auth string, d apiDevice, body string) {
	e.t.Helper()
	apiEmpty(e.t, e.call(http.MethodPost, "/emulator/v2/"+d.Name+":publish", auth, body))
}

// realDevice stores a device that is not emulated (the claim flow that
// makes them is not part of this server yet).
func (e *devEnv) realDevice(p domain.Project, typ domain.DeviceType, productNumber string, labels map[string]string) domain.Device {
	e.t.Helper()
	ctx := context.Background()
	d := domain.Device{ID: domain.NewID(e.app.clock.Now()), ProjectID: p.ID, Type: typ, ProductNumber: productNumber,
		Labels: labels, Reported: domain.Reported{}, CreateTime: e.app.clock.Now()}
	if err := e.app.store.Update(ctx, func(tx domain.Tx) error { return tx.CreateDevice(ctx, d) }); err != nil {
		e.t.Fatal(err)
	}
	return d
}

// project reads a project through the API.
func (e *devEnv) project(auth string, p domain.Project) apiProject {
	e.t.Helper()
	return apiDecodeProject(e.t, apiOK(e.t, e.call(http.MethodGet, "/v2/projects/"+p.ID, auth, nil)))
}

// deviceSnapshot describes every device and event, for refusals that must change nothing.
func (e *devEnv) deviceSnapshot() string {
	e.t.Helper()
	var b strings.Builder
	ctx := context.Background()
	for _, p := range []domain.Project{e.plant, e.quarry} {
		devices, err := e.app.store.ListDevices(ctx, domain.DeviceFilter{ProjectID: p.ID}, domain.Cursor{}, 10000)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, d := range devices {
			labels, _ := json.Marshal(d.Labels)
			rep, _ := json.Marshal(d.Reported)
			fmt.Fprintf(&b, "device %s %s %s %s %s\n", d.ID, d.ProjectID, labels, rep, d.LastSeen)
			events, err := e.app.store.ListEvents(ctx, domain.EventFilter{DeviceID: d.ID, End: time.Now().Add(1000 * time.Hour)}, domain.Cursor{}, 10000)
			if err != nil {
				e.t.Fatal(err)
			}
			fmt.Fprintf(&b, "  events %d\n", len(events))
		}
		stored, err := e.app.store.ProjectByID(ctx, p.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		fmt.Fprintf(&b, "project %s sensors %d ccons %d\n", p.ID, stored.SensorCount, stored.CloudConnectorCount)
	}
	return b.String() + e.snapshot()
}

func TestAPIEmulatorLifecycle(t *testing.T) {
	for _, scheme := range apiSchemes {
		t.Run(scheme, func(t *testing.T) { apiEmulatorFlow(t, scheme) })
	}
}

func apiEmulatorFlow(t *testing.T, scheme string) {
	e := newDevEnv(t)
	dev := e.auth(e.dev, scheme)

	// Create: the type, the labels given plus virtual-sensor, every reported key null.
	d := e.emulate(dev, e.plant, "temperature", map[string]string{"name": "Freezer", "room": "cold"})
	if !apiEmuIDPattern.MatchString(d.id()) || !strings.HasPrefix(d.Name, "projects/"+e.plant.ID+"/devices/") {
		t.Fatalf("emulated device name %q: want projects/%s/devices/emu+20", d.Name, e.plant.ID)
	}
	if want := map[string]string{"name": "Freezer", "room": "cold", "virtual-sensor": ""}; !maps(d.Labels, want) {
		t.Fatalf("labels %v, want %v", d.Labels, want)
	}
	for k, v := range d.Reported {
		if string(v) != "null" {
			t.Errorf("reported.%s is %s before any event", k, v)
		}
	}
	if d.ProductNumber != "" || d.Type != "temperature" {
		t.Errorf("device %+v", d)
	}
	if p := e.project(dev, e.plant); p.SensorCount != 1 || p.CloudConnectorCount != 0 {
		t.Fatalf("project counts %d sensors, %d cloud connectors after one sensor", p.SensorCount, p.CloudConnectorCount)
	}
	gw := e.emulate(dev, e.plant, "ccon", nil)
	if p := e.project(dev, e.plant); p.SensorCount != 1 || p.CloudConnectorCount != 1 {
		t.Fatalf("project counts %d sensors, %d cloud connectors after a ccon", p.SensorCount, p.CloudConnectorCount)
	}

	// Get, through the emulator and through the device API (and project -).
	for _, path := range []string{"/emulator/v2/" + d.Name, "/v2/" + d.Name, "/v2/projects/-/devices/" + d.id()} {
		got := apiDecodeDevice(t, apiOK(t, e.call(http.MethodGet, path, dev, nil)))
		if got.Name != d.Name {
			t.Fatalf("GET %s: name %s, want %s", path, got.Name, d.Name)
		}
	}

	// Publish a temperature with only its value: the body is completed.
	before := time.Now().UTC().Add(-time.Second)
	e.publish(dev, d, `{"temperature":{"value":21.5}}`)
	got := apiDecodeDevice(t, apiOK(t, e.call(http.MethodGet, "/v2/"+d.Name, dev, nil)))
	var temp struct {
		Value      float64 `json:"value"`
		UpdateTime string  `json:"updateTime"`
		Samples    []struct {
			Value      float64 `json:"value"`
			SampleTime string  `json:"sampleTime"`
		} `json:"samples"`
		IsBackfilled bool `json:"isBackfilled"`
	}
	if err := json.Unmarshal(got.Reported["temperature"], &temp); err != nil {
		t.Fatalf("reported.temperature %s: %v", got.Reported["temperature"], err)
	}
	if temp.Value != 21.5 || len(temp.Samples) != 1 || temp.Samples[0].Value != 21.5 || temp.Samples[0].SampleTime != temp.UpdateTime || temp.IsBackfilled {
		t.Fatalf("reported.temperature %s", got.Reported["temperature"])
	}
	if ut := apiCheckTime(t, "updateTime", temp.UpdateTime); ut.Before(before) || ut.After(time.Now().Add(time.Second)) {
		t.Errorf("updateTime %s is not now", temp.UpdateTime)
	}
	// An older event does not replace a newer reported body, but is kept in the history.
	e.publish(dev, d, `{"temperature":{"value":-4,"updateTime":"2024-05-29T12:34:03.970415+02:00"}}`)
	e.publish(dev, d, `{"batteryStatus":{"percentage":87}}`)
	got = apiDecodeDevice(t, apiOK(t, e.call(http.MethodGet, "/v2/"+d.Name, dev, nil)))
	if !strings.Contains(string(got.Reported["temperature"]), `"value":21.5`) || !strings.Contains(string(got.Reported["batteryStatus"]), `"percentage":87`) {
		t.Fatalf("reported %s", mustJSON(got.Reported))
	}

	// History: newest first, exact keys, the old event out of the default window.
	items := apiWalk(t, e.app, dev, "/v2/"+d.Name+"/events", "events")
	if len(items) != 2 {
		t.Fatalf("history of the last 24 h has %d events, want 2 (temperature, battery)", len(items))
	}
	var types []string
	for _, it := range items {
		ev := apiDecodeEvent(t, it)
		if ev.TargetName != d.Name {
			t.Errorf("targetName %s, want %s", ev.TargetName, d.Name)
		}
		types = append(types, ev.EventType)
	}
	if !apiSameSet(types, []string{"temperature", "batteryStatus"}) {
		t.Fatalf("history types %v", types)
	}
	old := apiWalk(t, e.app, dev, "/v2/"+d.Name+"/events?start_time=2024-05-29T00:00:00Z&end_time=2024-05-30T00:00:00Z", "events")
	if len(old) != 1 {
		t.Fatalf("history of 2024-05-29 has %d events, want the backfilled one", len(old))
	}
	if ev := apiDecodeEvent(t, old[0]); ev.Timestamp != "2024-05-29T10:34:03.970415Z" {
		t.Fatalf("the backfilled event's timestamp %s, want 2024-05-29T10:34:03.970415Z (UTC)", ev.Timestamp)
	}

	// The emulator lists emulated devices only; the device API lists all.
	real := e.realDevice(e.plant, domain.DeviceTouch, "102058", map[string]string{"name": "Real"})
	emu := apiNames(t, apiWalk(t, e.app, dev, "/emulator/v2/projects/"+e.plant.ID+"/devices", "devices"))
	if !apiSameSet(emu, []string{d.Name, gw.Name}) {
		t.Fatalf("emulator lists %v", emu)
	}
	all := apiNames(t, apiWalk(t, e.app, dev, "/v2/projects/"+e.plant.ID+"/devices", "devices"))
	if !apiSameSet(all, []string{d.Name, gw.Name, "projects/" + e.plant.ID + "/devices/" + real.ID}) {
		t.Fatalf("device API lists %v", all)
	}
	// A real device is not the emulator's: not found there, and it cannot publish.
	apiDecodeError(t, e.call(http.MethodGet, "/emulator/v2/projects/"+e.plant.ID+"/devices/"+real.ID, dev, nil), http.StatusNotFound)
	apiDecodeError(t, e.call(http.MethodPost, "/emulator/v2/projects/"+e.plant.ID+"/devices/"+real.ID+":publish", dev, `{"touch":{}}`), http.StatusNotFound)
	apiDecodeError(t, e.call(http.MethodDelete, "/emulator/v2/projects/"+e.plant.ID+"/devices/"+real.ID, dev, nil), http.StatusNotFound)

	// PUT (Terraform) replaces the labels; virtual-sensor stays; the type cannot change.
	put := apiDecodeDevice(t, apiOK(t, e.call(http.MethodPut, "/emulator/v2/"+d.Name, dev,
		map[string]any{"name": d.Name, "type": "temperature", "labels": map[string]string{"name": "Freezer 2"}})))
	if want := map[string]string{"name": "Freezer 2", "virtual-sensor": ""}; !maps(put.Labels, want) {
		t.Fatalf("labels after PUT %v, want %v", put.Labels, want)
	}
	apiDecodeError(t, e.call(http.MethodPut, "/emulator/v2/"+d.Name, dev, map[string]any{"type": "touch", "labels": map[string]string{}}), http.StatusBadRequest)

	// Delete: gone from both APIs, its events with it, the count back.
	apiEmpty(t, e.call(http.MethodDelete, "/emulator/v2/"+d.Name, dev, nil))
	apiDecodeError(t, e.call(http.MethodGet, "/emulator/v2/"+d.Name, dev, nil), http.StatusNotFound)
	apiDecodeError(t, e.call(http.MethodGet, "/v2/"+d.Name, dev, nil), http.StatusNotFound)
	if p := e.project(dev, e.plant); p.SensorCount != 1 || p.CloudConnectorCount != 1 {
		t.Fatalf("project counts %d sensors, %d cloud connectors after the delete (the real touch sensor and the ccon stay)", p.SensorCount, p.CloudConnectorCount)
	}
	var n int
	if err := e.app.store.Update(context.Background(), func(tx domain.Tx) error {
		events, err := tx.ListEvents(context.Background(), domain.EventFilter{DeviceID: d.id(), End: time.Now().Add(time.Hour)}, domain.Cursor{}, 100)
		n = len(events)
		return err
	}); err != nil || n != 0 {
		t.Fatalf("%d events of the deleted device are left (%v)", n, err)
	}
	// Every change is in the audit log.
	entries, err := e.app.store.ListAudit(context.Background(), domain.AuditFilter{ProjectID: e.plant.ID}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, en := range entries {
		if strings.HasPrefix(en.Action, "emulator.") || strings.HasPrefix(en.Action, "device.") {
			actions = append(actions, en.Action+" "+en.TargetID)
		}
	}
	want := []string{"emulator.delete " + d.id(), "device.labels " + d.id(), "emulator.create " + gw.id(), "emulator.create " + d.id()}
	if !slices.Equal(actions, want) {
		t.Fatalf("audit %v, want %v", actions, want)
	}
}

func maps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestAPIPublishBodies publishes every event type a device type emits,
// with the smallest body a client sends, and reads every field back.
func TestAPIPublishBodies(t *testing.T) {
	e := newDevEnv(t)
	dev := e.auth(e.dev, "basic")
	cases := []struct{ typ, body, check string }{
		{"temperature", `{"temperature":{"value":-18.25,"samples":[{"value":-18.5,"sampleTime":"2024-05-29T10:34:03Z"}]}}`, `"samples":[{"value":-18.5,"sampleTime":"2024-05-29T10:34:03.000000Z"}]`},
		{"humidity", `{"humidity":{"temperature":21,"relativeHumidity":45.5}}`, `"relativeHumidity":45.5`},
		{"proximity", `{"objectPresent":{"state":"PRESENT"}}`, `"state":"PRESENT"`},
		{"touch", `{"touch":{}}`, `"updateTime":"`},
		{"proximityCounter", `{"objectPresentCount":{"total":12}}`, `"total":12`},
		{"touchCounter", `{"touchCount":{"total":3}}`, `"total":3`},
		{"waterDetector", `{"waterPresent":{"state":"NOT_PRESENT"}}`, `"state":"NOT_PRESENT"`},
		{"co2", `{"co2":{"ppm":812}}`, `"ppm":812`},
		{"co2", `{"pressure":{"pascal":101325}}`, `"pascal":101325`},
		{"co2", `{"humidity":{"temperature":22.5,"relativeHumidity":30}}`, `"temperature":22.5`},
		{"motion", `{"motion":{"state":"MOTION_DETECTED"}}`, `"state":"MOTION_DETECTED"`},
		{"deskOccupancy", `{"deskOccupancy":{"state":"OCCUPIED"}}`, `"remarks":[]`},
		{"contact", `{"contact":{"state":"OPEN"}}`, `"state":"OPEN"`},
		// Python spells cloudConnectors cloud_connectors and may leave out rssi.
		{"temperature", `{"networkStatus":{"signalStrength":80,"rssi":-60,"transmissionMode":"HIGH_POWER_BOOST_MODE","cloud_connectors":[{"id":"bdkjbo2v0000uk377c4g","signalStrength":80}]}}`,
			`"cloudConnectors":[{"id":"bdkjbo2v0000uk377c4g","signalStrength":80,"rssi":-60}]`},
		{"touch", `{"networkStatus":{"signalStrength":50}}`, `"transmissionMode":"LOW_POWER_STANDARD_MODE"`},
		{"touch", `{"batteryStatus":{"percentage":15}}`, `"percentage":15`},
		{"ccon", `{"connectionStatus":{"connection":"CELLULAR"}}`, `"available":["CELLULAR"]`},
		{"ccon", `{"ethernetStatus":{"macAddress":"f0:b5:b7:00:0a:08","ipAddress":"10.0.0.1","errors":[{"code":2,"message":"link down"}]}}`, `"errors":[{"code":2,"message":"link down"}]`},
		{"ccon", `{"cellularStatus":{"signalStrength":70}}`, `"errors":[]`},
		{"ccon", `{"touch":{"updateTime":"2026-01-02T03:04:05.1+00:00"}}`, `"updateTime":"2026-01-02T03:04:05.100000Z"`},
	}
	devices := map[string]apiDevice{}
	for _, c := range cases {
		d, ok := devices[c.typ]
		if !ok {
			d = e.emulate(dev, e.plant, c.typ, nil)
			devices[c.typ] = d
		}
		var body map[string]json.RawMessage
		if err := json.Unmarshal([]byte(c.body), &body); err != nil {
			t.Fatal(err)
		}
		var et string
		for k := range body {
			et = k
		}
		e.publish(dev, d, c.body)
		got := apiDecodeDevice(t, apiOK(t, e.call(http.MethodGet, "/v2/"+d.Name, dev, nil)))
		if !strings.Contains(string(got.Reported[et]), c.check) {
			t.Errorf("%s %s: reported.%s = %s, want it to hold %s", c.typ, c.body, et, got.Reported[et], c.check)
		}
		// The same body in the history, the newest event of its type.
		items, _ := apiList(t, e.call(http.MethodGet, "/v2/"+d.Name+"/events?event_types="+et+"&start_time=2020-01-01T00:00:00Z&pageSize=1", dev, nil), "events")
		if len(items) != 1 {
			t.Fatalf("%s: no %s event in the history", c.typ, et)
		}
		ev := apiDecodeEvent(t, items[0])
		if m := apiObjectNullable(t, ev.Data, et); string(m[et]) != string(got.Reported[et]) {
			t.Errorf("%s: history body %s, reported %s", et, m[et], got.Reported[et])
		}
	}
}

// TestAPIPublishRefusals: what a device cannot publish is 400 (404 for a
// device the emulator does not hold), and changes nothing.
func TestAPIPublishRefusals(t *testing.T) {
	e := newDevEnv(t)
	dev := e.auth(e.dev, "bearer")
	d := e.emulate(dev, e.plant, "temperature", nil)
	cases := []struct {
		body   string
		status int
		says   string
	}{
		{`{"objectPresent":{"state":"PRESENT"}}`, 400, "does not publish"},
		{`{"labelsChanged":{"added":{"a":"b"}}}`, 400, "labelsChanged"},
		{`{"connectionLatency":{}}`, 400, "does not publish"},
		{`{"temperature":{}}`, 400, "value is required"},
		{`{"temperature":{"value":"warm"}}`, 400, "must be a number"},
		{`{"temperature":{"value":20,"colour":"red"}}`, 400, `unknown field "colour"`},
		{`{"temperature":{"value":20,"updateTime":"yesterday"}}`, 400, "RFC 3339"},
		{`{"temperature":{"value":20,"updateTime":"2099-01-01T00:00:00Z"}}`, 400, "at most a day ahead"},
		{`{"temperature":{"value":20},"touch":{}}`, 400, "exactly one event type"},
		{`{}`, 400, "exactly one event type"},
		{`[1]`, 400, "one key"},
		{`{"batteryStatus":{"percentage":101}}`, 400, "between 0 and 100"},
		{`{"touch":[]}`, 400, "must be a JSON object"},
	}
	before := e.deviceSnapshot()
	for _, c := range cases {
		r := e.call(http.MethodPost, "/emulator/v2/"+d.Name+":publish", dev, c.body)
		body := apiDecodeError(t, r, c.status)
		if !strings.Contains(body.Error, c.says) {
			t.Errorf("%s: error %q, want it to say %q", c.body, body.Error, c.says)
		}
	}
	// Unknown devices and paths.
	apiDecodeError(t, e.call(http.MethodPost, "/emulator/v2/projects/"+e.plant.ID+"/devices/emu00000000000000000000:publish", dev, `{"touch":{}}`), 404)
	apiDecodeError(t, e.call(http.MethodPost, "/emulator/v2/"+d.Name+":shout", dev, `{"touch":{}}`), 404)
	apiDecodeError(t, e.call(http.MethodPost, "/emulator/v2/projects/"+e.quarry.ID+"/devices/"+d.id()+":publish", e.auth(e.admin, "basic"), `{"touch":{}}`), 404)
	apiDecodeError(t, e.call(http.MethodGet, "/emulator/v2/projects", dev, nil), 404)
	if after := e.deviceSnapshot(); after != before {
		t.Fatalf("refused publishes changed the store: %s", apiDiff(before, after))
	}
	// Creating needs a known type and good labels.
	for _, body := range []string{`{"type":"thermometer","labels":{}}`, `{"type":"touch","labels":{" padded":"x"}}`, `{"type":"touch","labels":{"a=b":"x"}}`,
		`{"type":"touch","labels":{"k":"line\nbreak"}}`, `{"type":"touch","extra":1}`} {
		apiDecodeError(t, e.call(http.MethodPost, "/emulator/v2/projects/"+e.plant.ID+"/devices", dev, body), 400)
	}
	if after := e.deviceSnapshot(); after != before {
		t.Fatalf("refused creations changed the store: %s", apiDiff(before, after))
	}
}

// TestAPIDeviceListFilters runs every filter and order of the device list,
// walking each to its end two devices a page.
func TestAPIDeviceListFilters(t *testing.T) {
	e := newDevEnv(t)
	auth := e.auth(e.user, "basic")
	admin := e.auth(e.admin, "bearer")
	a := e.realDevice(e.plant, domain.DeviceTemperature, "102150", map[string]string{"name": "Alpha freezer", "room": "cold"})
	b := e.realDevice(e.plant, domain.DeviceTemperature, "102150", map[string]string{"name": "beta", "room": "warm", "spare": ""})
	c := e.realDevice(e.plant, domain.DeviceProximity, "102058", map[string]string{"name": "Gamma door"})
	d := e.realDevice(e.plant, domain.DeviceCloudConnector, "", map[string]string{`odd "key".x`: "ø"})
	q := e.realDevice(e.quarry, domain.DeviceTemperature, "102150", map[string]string{"name": "In Q"})
	emu := e.emulate(admin, e.plant, "temperature", map[string]string{"name": "Delta"})
	e.publish(admin, emu, `{"temperature":{"value":30}}`)
	// Give a and b temperatures through the store (they are real devices).
	ctx := context.Background()
	for id, v := range map[string]float64{a.ID: -20, b.ID: 5} {
		if err := e.app.store.Update(ctx, func(tx domain.Tx) error {
			return tx.SetReported(ctx, []domain.ReportedUpdate{{ID: id, LastSeen: time.Now(),
				Reported: domain.Reported{"temperature": json.RawMessage(fmt.Sprintf(`{"value":%g,"updateTime":"2026-01-01T00:00:00.000000Z","samples":[],"isBackfilled":false}`, v))}}})
		}); err != nil {
			t.Fatal(err)
		}
	}
	name := func(id string) string { return "projects/" + e.plant.ID + "/devices/" + id }
	P := "/v2/projects/" + e.plant.ID + "/devices"
	cases := []struct {
		query string
		want  []string // in order
	}{
		{"", sortedCopy(name(a.ID), name(b.ID), name(c.ID), name(d.ID), emu.Name)},
		{"?query=freezer", []string{name(a.ID)}},
		{"?query=ALPHA+cold", []string{name(a.ID)}},
		{"?query=" + c.ID[12:], []string{name(c.ID)}},
		{"?query=proximity", []string{name(c.ID)}},
		{"?device_ids=" + a.ID + "&device_ids=" + c.ID, sortedCopy(name(a.ID), name(c.ID))},
		{"?deviceIds=" + a.ID + "," + d.ID, sortedCopy(name(a.ID), name(d.ID))},
		{"?device_types=temperature", sortedCopy(name(a.ID), name(b.ID), emu.Name)},
		{"?device_types=ccon&device_types=proximity", sortedCopy(name(c.ID), name(d.ID))},
		{"?product_numbers=102150", sortedCopy(name(a.ID), name(b.ID))},
		{"?label_filters=room=cold", []string{name(a.ID)}},
		{"?label_filters=room", sortedCopy(name(a.ID), name(b.ID))},
		{"?label_filters=room=", sortedCopy(name(a.ID), name(b.ID))},
		{"?label_filters=spare", []string{name(b.ID)}},
		{"?label_filters=room&label_filters=name=beta", []string{name(b.ID)}},
		{"?label_filters=virtual-sensor", []string{emu.Name}},
		// A key with quotes and dots, and a value beyond ASCII.
		{"?label_filters=" + url.QueryEscape(`odd "key".x=ø`), []string{name(d.ID)}},
		{"?label_filters=" + url.QueryEscape(`odd "key".x`) + "&device_types=ccon", []string{name(d.ID)}},
		{"?order_by=-" + url.QueryEscape(`labels.odd "key".x`) + "&device_types=ccon&device_types=proximity", []string{name(d.ID), name(c.ID)}},
		{"?order_by=labels.name", []string{name(d.ID), name(a.ID), emu.Name, name(c.ID), name(b.ID)}},
		{"?order_by=-labels.name", []string{name(b.ID), name(c.ID), emu.Name, name(a.ID), name(d.ID)}},
		{"?order_by=reported.temperature.value&device_types=temperature", []string{name(a.ID), name(b.ID), emu.Name}},
		{"?order_by=-reported.temperature.value", []string{emu.Name, name(b.ID), name(a.ID), name(d.ID), name(c.ID)}[:3]},
		{"?order_by=type&device_types=ccon&device_types=proximity", []string{name(d.ID), name(c.ID)}},
	}
	for _, tc := range cases {
		got := apiNames(t, apiWalk(t, e.app, auth, P+tc.query, "devices"))
		want := tc.want
		if strings.HasPrefix(tc.query, "?order_by=-reported") {
			got = got[:3]
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", tc.query, got, want)
		}
	}
	for _, it := range apiWalk(t, e.app, auth, P, "devices") {
		apiDecodeDevice(t, it)
	}

	// Every readable project of an organization: projects/-/devices.
	all := "/v2/projects/-/devices?organization=organizations/" + e.app.org.ID
	if got := apiNames(t, apiWalk(t, e.app, admin, all, "devices")); !apiSameSet(got, []string{name(a.ID), name(b.ID), name(c.ID), name(d.ID), emu.Name, "projects/" + e.quarry.ID + "/devices/" + q.ID}) {
		t.Errorf("admin of both projects lists %v", got)
	}
	if got := apiNames(t, apiWalk(t, e.app, auth, all, "devices")); len(got) != 5 || slices.Contains(got, "projects/"+e.quarry.ID+"/devices/"+q.ID) {
		t.Errorf("a user of P only lists %v", got)
	}
	if got := apiNames(t, apiWalk(t, e.app, admin, all+"&projects=projects/"+e.quarry.ID, "devices")); !slices.Equal(got, []string{"projects/" + e.quarry.ID + "/devices/" + q.ID}) {
		t.Errorf("projects=Q lists %v", got)
	}
	// A device of Q through project - is found by its admin, not by P's user.
	apiOK(t, e.call(http.MethodGet, "/v2/projects/-/devices/"+q.ID, admin, nil))
	apiDecodeError(t, e.call(http.MethodGet, "/v2/projects/-/devices/"+q.ID, auth, nil), 404)
	// A device asked for through the wrong project is not found.
	apiDecodeError(t, e.call(http.MethodGet, "/v2/projects/"+e.plant.ID+"/devices/"+q.ID, admin, nil), 404)

	// Bad filters are 400.
	for _, bad := range []string{"?device_types=thermometer", "?device_ids=nope", "?label_filters=%20padded=1", "?order_by=colour",
		"?order_by=reported.nothing.value", "?order_by=labels.", "?pageSize=0", "?pageToken=xyz", "?query=" + strings.Repeat("x", 300)} {
		apiDecodeError(t, e.call(http.MethodGet, P+bad, auth, nil), 400)
	}
	apiDecodeError(t, e.call(http.MethodGet, "/v2/projects/-/devices", auth, nil), 400)
	apiDecodeError(t, e.call(http.MethodGet, "/v2/projects/-/devices?organization=acme", auth, nil), 400)
	// A page token of one order is refused by another.
	_, next := apiList(t, e.call(http.MethodGet, P+"?pageSize=1&order_by=labels.name", auth, nil), "devices")
	apiDecodeError(t, e.call(http.MethodGet, P+"?pageSize=1&order_by=reported.temperature.value&pageToken="+url.QueryEscape(next), auth, nil), 400)
}

func sortedCopy(s ...string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}

// TestAPIDeviceLabels: :batchUpdate adds, changes and removes labels,
// reports each device it cannot change, and refuses an empty change.
func TestAPIDeviceLabels(t *testing.T) {
	for _, scheme := range apiSchemes {
		t.Run(scheme, func(t *testing.T) {
			e := newDevEnv(t)
			dev := e.auth(e.dev, scheme)
			a := e.emulate(dev, e.plant, "temperature", map[string]string{"name": "A", "old": "x"})
			b := e.emulate(dev, e.plant, "touch", map[string]string{"name": "B"})
			q := e.emulate(e.auth(e.admin, "basic"), e.quarry, "touch", nil)
			U := "/v2/projects/" + e.plant.ID + "/devices:batchUpdate"
			r := e.call(http.MethodPost, U, dev, map[string]any{
				"devices":   []string{a.Name, b.Name, q.Name, "projects/" + e.plant.ID + "/devices/emu00000000000000000000", "garbage"},
				"addLabels": map[string]string{"name": "A2", "floor": "3"}, "removeLabels": []string{"old", "missing"}})
			m := apiObject(t, apiOK(t, r), "batchErrors")
			var errs []struct {
				Device string `json:"device"`
				Status struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"status"`
			}
			if err := json.Unmarshal(m["batchErrors"], &errs); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, be := range errs {
				got = append(got, be.Device+" "+be.Status.Code)
				if be.Status.Message == "" {
					t.Errorf("item error without a message: %+v", be)
				}
			}
			want := []string{q.Name + " NOT_FOUND", "projects/" + e.plant.ID + "/devices/emu00000000000000000000 NOT_FOUND", "garbage NOT_FOUND"}
			if !slices.Equal(got, want) {
				t.Fatalf("batchErrors %v, want %v", got, want)
			}
			for dev_, labels := range map[string]map[string]string{
				a.Name: {"name": "A2", "floor": "3", "virtual-sensor": ""},
				b.Name: {"name": "A2", "floor": "3", "virtual-sensor": ""},
			} {
				d := apiDecodeDevice(t, apiOK(t, e.call(http.MethodGet, "/v2/"+dev_, dev, nil)))
				if !maps(d.Labels, labels) {
					t.Errorf("%s labels %v, want %v", dev_, d.Labels, labels)
				}
			}
			// Q's device is untouched.
			if d := apiDecodeDevice(t, apiOK(t, e.call(http.MethodGet, "/v2/"+q.Name, e.auth(e.admin, "basic"), nil))); !maps(d.Labels, map[string]string{"virtual-sensor": ""}) {
				t.Fatalf("a device of another project changed: %v", d.Labels)
			}
			// Swift sends the unused list empty; removing only is fine.
			apiOK(t, e.call(http.MethodPost, U, dev, map[string]any{"devices": []string{b.Name}, "addLabels": map[string]string{}, "removeLabels": []string{"floor"}}))
			// Too many labels (over 100) on one device is an item error.
			many := map[string]string{}
			for i := 0; i < 100; i++ {
				many[fmt.Sprintf("k%d", i)] = "v"
			}
			m = apiObject(t, apiOK(t, e.call(http.MethodPost, U, dev, map[string]any{"devices": []string{a.Name}, "addLabels": many})), "batchErrors")
			if !strings.Contains(string(m["batchErrors"]), "INVALID_ARGUMENT") {
				t.Fatalf("100 more labels: %s", m["batchErrors"])
			}
			before := e.deviceSnapshot()
			for _, body := range []any{
				map[string]any{"devices": []string{a.Name}},
				map[string]any{"devices": []string{a.Name}, "addLabels": map[string]string{}, "removeLabels": []string{}},
				map[string]any{"devices": []string{}, "addLabels": map[string]string{"x": "y"}},
				map[string]any{"devices": []string{a.Name}, "addLabels": map[string]string{"bad=key": "y"}},
				map[string]any{"devices": []string{a.Name}, "addLabels": map[string]string{"k": "y"}, "removeLabels": []string{"k"}},
				map[string]any{"devices": []string{a.Name}, "addLabels": map[string]string{"k": strings.Repeat("v", 257)}},
				map[string]any{"devices": []string{a.Name}, "addLabels": map[string]string{"k": "v"}, "colour": "red"},
			} {
				apiDecodeError(t, e.call(http.MethodPost, U, dev, body), 400)
			}
			// A project user may read but not label.
			apiDecodeError(t, e.call(http.MethodPost, U, e.auth(e.user, scheme), map[string]any{"devices": []string{a.Name}, "addLabels": map[string]string{"x": "y"}}), 403)
			if after := e.deviceSnapshot(); after != before {
				t.Fatalf("refused label changes changed the store: %s", apiDiff(before, after))
			}
		})
	}
}

// TestAPIDeviceTransfer: devices move between projects of one
// organization where the caller holds device.transfer in both; the counts
// of both projects follow, and so does the history.
func TestAPIDeviceTransfer(t *testing.T) {
	for _, scheme := range apiSchemes {
		t.Run(scheme, func(t *testing.T) {
			e := newDevEnv(t)
			admin := e.auth(e.admin, scheme)
			a := e.emulate(admin, e.plant, "temperature", map[string]string{"name": "A"})
			b := e.emulate(admin, e.plant, "ccon", nil)
			c := e.emulate(admin, e.plant, "touch", nil)
			e.publish(admin, a, `{"temperature":{"value":7}}`)
			// Another organization's project, where the caller is admin too.
			otherOrg, _ := e.app.addOrg("Other", "other-admin@example.com")
			far := e.app.addProject(otherOrg.ID, "Far away")
			e.grant(e.admin.SA.Ref(), otherOrg.ID, far.ID, domain.RoleProjectAdmin)
			farDev := e.emulate(admin, far, "touch", nil)
			// A project where the caller only develops.
			lab := e.app.addProject(e.app.org.ID, "Lab")
			e.grant(e.admin.SA.Ref(), e.app.org.ID, lab.ID, domain.RoleProjectDev)
			labDev := e.emulate(admin, lab, "touch", nil)

			T := "/v2/projects/" + e.quarry.ID + "/devices:transfer"
			r := e.call(http.MethodPost, T, admin, map[string]any{"devices": []string{a.Name, b.Name, farDev.Name, labDev.Name,
				"projects/" + e.plant.ID + "/devices/emu00000000000000000000", "nonsense"}})
			m := apiObject(t, apiOK(t, r), "transferredDevices", "transferErrors")
			var moved []string
			json.Unmarshal(m["transferredDevices"], &moved)
			movedA := "projects/" + e.plant.ID + "/devices/" + a.id()
			if !slices.Equal(moved, []string{movedA, "projects/" + e.plant.ID + "/devices/" + b.id()}) {
				t.Fatalf("transferredDevices %v", moved)
			}
			var errs []struct {
				Device string            `json:"device"`
				Status map[string]string `json:"status"`
			}
			json.Unmarshal(m["transferErrors"], &errs)
			var got []string
			for _, x := range errs {
				got = append(got, x.Device+" "+x.Status["code"])
			}
			want := []string{farDev.Name + " INVALID_ARGUMENT", labDev.Name + " INVALID_ARGUMENT",
				"projects/" + e.plant.ID + "/devices/emu00000000000000000000 NOT_FOUND", "nonsense NOT_FOUND"}
			if !slices.Equal(got, want) {
				t.Fatalf("transferErrors %v, want %v", got, want)
			}
			// Where they are now, with their labels and history.
			na := "projects/" + e.quarry.ID + "/devices/" + a.id()
			d := apiDecodeDevice(t, apiOK(t, e.call(http.MethodGet, "/v2/"+na, admin, nil)))
			if d.Labels["name"] != "A" || !strings.Contains(string(d.Reported["temperature"]), `"value":7`) {
				t.Fatalf("moved device %+v", d)
			}
			apiDecodeError(t, e.call(http.MethodGet, "/v2/"+a.Name, admin, nil), 404)
			hist := apiWalk(t, e.app, admin, "/v2/"+na+"/events", "events")
			if len(hist) != 1 || apiDecodeEvent(t, hist[0]).TargetName != na {
				t.Fatalf("the history did not follow the device: %d events", len(hist))
			}
			if p := e.project(admin, e.plant); p.SensorCount != 1 || p.CloudConnectorCount != 0 {
				t.Fatalf("source counts %d/%d, want 1 sensor (c) and no ccon", p.SensorCount, p.CloudConnectorCount)
			}
			if p := e.project(admin, e.quarry); p.SensorCount != 1 || p.CloudConnectorCount != 1 {
				t.Fatalf("target counts %d/%d, want 1/1", p.SensorCount, p.CloudConnectorCount)
			}
			// Audited in the target project.
			entries, _ := e.app.store.ListAudit(context.Background(), domain.AuditFilter{ProjectID: e.quarry.ID, Action: domain.ActionDeviceTransfer}, 0, 10)
			if len(entries) != 2 {
				t.Fatalf("%d transfer audit entries, want 2", len(entries))
			}

			// The whole request is refused without device.transfer in the
			// target (403), or for a target the caller cannot see (404).
			before := e.deviceSnapshot()
			apiDecodeError(t, e.call(http.MethodPost, "/v2/projects/"+lab.ID+"/devices:transfer", admin, map[string]any{"devices": []string{c.Name}}), 403)
			apiDecodeError(t, e.call(http.MethodPost, "/v2/projects/"+domain.NewID(time.Now())+"/devices:transfer", admin, map[string]any{"devices": []string{c.Name}}), 404)
			apiDecodeError(t, e.call(http.MethodPost, T, e.auth(e.dev, scheme), map[string]any{"devices": []string{c.Name}}), 404)
			apiDecodeError(t, e.call(http.MethodPost, T, admin, map[string]any{"devices": []string{}}), 400)
			apiDecodeError(t, e.call(http.MethodPost, T, admin, map[string]any{"device": []string{c.Name}}), 400)
			if after := e.deviceSnapshot(); after != before {
				t.Fatalf("refused transfers changed the store: %s", apiDiff(before, after))
			}
		})
	}
}

// TestAPIDeviceEvents: the history's type filter, window and pages.
func TestAPIDeviceEvents(t *testing.T) {
	e := newDevEnv(t)
	dev := e.auth(e.dev, "bearer")
	d := e.emulate(dev, e.plant, "temperature", nil)
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 7; i++ {
		at := base.Add(time.Duration(i) * time.Hour).Format(time.RFC3339)
		e.publish(dev, d, fmt.Sprintf(`{"temperature":{"value":%d,"updateTime":%q}}`, i, at))
		if i%2 == 0 {
			e.publish(dev, d, fmt.Sprintf(`{"batteryStatus":{"percentage":%d,"updateTime":%q}}`, 90-i, at))
		}
	}
	E := "/v2/" + d.Name + "/events?start_time=2026-03-01T00:00:00Z&end_time=2026-03-02T00:00:00Z"
	all := apiWalk(t, e.app, dev, E, "events")
	if len(all) != 11 {
		t.Fatalf("%d events, want 11", len(all))
	}
	prev := ""
	for _, it := range all {
		ev := apiDecodeEvent(t, it)
		if prev != "" && ev.Timestamp > prev {
			t.Fatalf("events are not newest first: %s after %s", ev.Timestamp, prev)
		}
		prev = ev.Timestamp
	}
	temps := apiWalk(t, e.app, dev, E+"&event_types=temperature", "events")
	if len(temps) != 7 {
		t.Fatalf("%d temperature events, want 7", len(temps))
	}
	both := apiWalk(t, e.app, dev, E+"&eventTypes=temperature,batteryStatus", "events")
	if len(both) != 11 {
		t.Fatalf("%d events of both types, want 11", len(both))
	}
	// The window: [start, end).
	win := apiWalk(t, e.app, dev, "/v2/"+d.Name+"/events?startTime=2026-03-01T13:00:00Z&endTime=2026-03-01T15:00:00Z&event_types=temperature", "events")
	if len(win) != 2 {
		t.Fatalf("%d events in [13:00, 15:00), want 2", len(win))
	}
	// Only an end: the 24 hours before it.
	day := apiWalk(t, e.app, dev, "/v2/"+d.Name+"/events?end_time=2026-03-01T14:00:00Z", "events")
	if len(day) != 3 {
		t.Fatalf("%d events in the day before 14:00, want 3 (12:00 ×2, 13:00)", len(day))
	}
	// No window: the last 24 hours, which hold none of these.
	if items, _ := apiList(t, e.call(http.MethodGet, "/v2/"+d.Name+"/events", dev, nil), "events"); len(items) != 0 {
		t.Fatalf("%d events in the last 24 hours, want 0", len(items))
	}
	for _, bad := range []string{"?start_time=yesterday", "?end_time=2026-13-01T00:00:00Z", "?event_types=weather",
		"?start_time=2026-03-02T00:00:00Z&end_time=2026-03-01T00:00:00Z", "?pageToken=abc", "?pageSize=1001"} {
		apiDecodeError(t, e.call(http.MethodGet, "/v2/"+d.Name+"/events"+bad, dev, nil), 400)
	}
	apiDecodeError(t, e.call(http.MethodGet, "/v2/projects/"+e.quarry.ID+"/devices/"+d.id()+"/events", e.auth(e.admin, "basic"), nil), 404)
}

// TestAPIProjectDeleteRefusedWithDevices: a project holding a device
// (emulated or not) cannot be deleted: 400, nothing removed.
func TestAPIProjectDeleteRefusedWithDevices(t *testing.T) {
	e := newDevEnv(t)
	admin := e.auth(e.admin, "basic")
	emptyish := e.app.addProject(e.app.org.ID, "Emptyish")
	e.grant(e.admin.SA.Ref(), e.app.org.ID, emptyish.ID, domain.RoleProjectAdmin)
	d := e.emulate(admin, emptyish, "touch", nil)
	before := e.deviceSnapshot()
	body := apiDecodeError(t, e.call(http.MethodDelete, "/v2/projects/"+emptyish.ID, admin, nil), 400)
	if !strings.Contains(body.Error, "devices") {
		t.Errorf("error %q does not say the devices are in the way", body.Error)
	}
	if after := e.deviceSnapshot(); after != before {
		t.Fatalf("the refused delete changed the store: %s", apiDiff(before, after))
	}
	apiOK(t, e.call(http.MethodGet, "/v2/"+d.Name, admin, nil))
	// Once the device is gone, the project goes.
	apiEmpty(t, e.call(http.MethodDelete, "/emulator/v2/"+d.Name, admin, nil))
	apiEmpty(t, e.call(http.MethodDelete, "/v2/projects/"+emptyish.ID, admin, nil))
}
