package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"studio/domain"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"
)

// TestBrowserDevices: make a virtual sensor on the emulator page, publish
// a temperature from its page in another tab, see the value appear on the
// open Devices page without a reload, and move the sensor to another
// project. With STUDIO_SCREENSHOTS set, it saves the Devices page, the
// device page with its chart and the emulator page at 1280 and 390 px.
func TestBrowserDevices(t *testing.T) {
	app := newApp(t)
	plant := app.addProject(app.org.ID, "Plant")
	quarry := app.addProject(app.org.ID, "Quarry")
	list := browserOpen(t, app)
	list.signIn(false)

	// Make the sensor.
	list.visit("/projects/" + plant.ID + "/emulator")
	list.waitText("h1", "Emulator")
	if err := list.element("[data-testid=new-emulated-type]").Select([]string{"Temperature"}, true, rod.SelectorTypeText); err != nil {
		list.fatal("choose the type: %v", err)
	}
	list.typeInto("[data-testid=new-emulated-name]", "Probe 7")
	list.click("[data-testid=create-emulated]")
	list.waitText("[data-testid=emulated-name]", "Probe 7")
	list.waitFlash("Virtual sensor “Probe 7” created.")
	emulatedPath := list.eval(`() => location.pathname`).Value.Str()

	// The Devices page lists it, with no value yet.
	list.visit("/projects/" + plant.ID + "/devices")
	list.waitText("[data-testid=device-link]", "Probe 7")
	if v := list.text("[data-testid=device-value]"); v != "—" {
		list.fatal("value before any event: %q, want —", v)
	}
	list.eval(`() => { window.__notReloaded = true }`)

	// Publish a temperature from the sensor's page, in another tab.
	pub := &browserPage{t: t, app: app, page: list.page.Browser().MustPage("").Timeout(browserTestBudget)}
	pub.visit(emulatedPath)
	pub.typeInto("[data-testid=publish-temperature-value]", "21.5")
	pub.click("[data-testid=publish-temperature-submit]")
	pub.waitFlash("Published temperature 21.5 °C.")

	// The open list shows it within its poll, without reloading.
	if err := list.page.Timeout(15 * time.Second).Wait(rod.Eval(`() =>
		[...document.querySelectorAll("[data-testid=device-value]")].some(e => e.textContent.trim() === "21.5 °C")`)); err != nil {
		list.fatal("the published temperature did not appear on the open Devices page: %v", err)
	}
	if !list.eval(`() => window.__notReloaded === true`).Value.Bool() {
		list.fatal("the Devices page reloaded to show the value")
	}
	if seen := list.text("[data-testid=device-seen]"); seen != "just now" {
		list.fatal("last seen %q, want just now", seen)
	}

	// A device made elsewhere (a program, through the API) appears too.
	admin, err := app.store.UserByEmail(context.Background(), adminEmail)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.services.Devices.CreateEmulated(context.Background(), domain.UserPrincipal(admin, "test"), plant.ID,
		domain.EmulatedInput{Type: domain.DeviceTouch, Labels: map[string]string{"name": "Alarm button"}}); err != nil {
		t.Fatal(err)
	}
	if err := list.page.Timeout(15 * time.Second).Wait(rod.Eval(`() =>
		[...document.querySelectorAll("[data-testid=device-link]")].some(e => e.textContent.trim() === "Alarm button")`)); err != nil {
		list.fatal("a new device did not appear on the open Devices page: %v", err)
	}
	if !list.eval(`() => window.__notReloaded === true`).Value.Bool() {
		list.fatal("the Devices page reloaded to show the new device")
	}

	// Back to the list's tab (a tab in the background does not paint).
	pub.page.MustClose()
	if _, err := list.page.Activate(); err != nil {
		list.fatal("activate the list's tab: %v", err)
	}
	// Move Probe 7 to Quarry: select, choose, confirm.
	list.click("[data-device] [aria-label='Select Probe 7']")
	if err := list.element("[data-testid=move-target]").Select([]string{"Quarry"}, true, rod.SelectorTypeText); err != nil {
		list.fatal("choose the target: %v", err)
	}
	list.click("[data-testid=move-submit]")
	list.waitText("[data-testid=move-confirm] h1", "Move 1 device to Quarry?")
	list.click("[data-testid=move-confirm-submit]")
	list.waitFlash("Moved 1 device to “Quarry”.")
	list.waitText("[data-testid=device-link]", "Alarm button")
	if n := list.eval(`() => document.querySelectorAll("[data-testid=device-row]").length`).Value.Int(); n != 1 {
		list.fatal("%d devices left in Plant, want Alarm button alone", n)
	}
	moved, err := app.store.ListDevices(context.Background(), domain.DeviceFilter{ProjectID: quarry.ID}, domain.Cursor{}, 10)
	if err != nil || len(moved) != 1 || moved[0].Labels["name"] != "Probe 7" {
		t.Fatalf("Quarry holds %+v (%v), want Probe 7", moved, err)
	}
	if left, _ := app.store.ListDevices(context.Background(), domain.DeviceFilter{ProjectID: plant.ID}, domain.Cursor{}, 10); len(left) != 1 {
		t.Fatalf("Plant holds %d devices, want the alarm button alone", len(left))
	}
	if p, _ := app.store.ProjectByID(context.Background(), quarry.ID); p.SensorCount != 1 {
		t.Fatalf("Quarry counts %d sensors", p.SensorCount)
	}

	browserDeviceShots(t, app, list, quarry, moved[0])
}

// browserDeviceShots fills the project with a few sensors and a day of
// history and saves the three pages at both widths (with STUDIO_SCREENSHOTS).
func browserDeviceShots(t *testing.T, app *testApp, bp *browserPage, p domain.Project, probe domain.Device) {
	ctx := context.Background()
	devs := app.services.Devices
	admin, err := app.store.UserByEmail(ctx, adminEmail)
	if err != nil {
		t.Fatal(err)
	}
	who := domain.UserPrincipal(admin, "test")
	publish := func(d domain.Device, body string) {
		if _, err := devs.PublishEmulated(ctx, who, p.ID, d.ID, json.RawMessage(body)); err != nil {
			t.Fatalf("publish %s: %v", body, err)
		}
	}
	now := app.clock.Now()
	for i := 96; i >= 0; i-- {
		at := now.Add(-time.Duration(i) * 15 * time.Minute).UTC().Format(time.RFC3339)
		v := 4 + 1.5*math.Sin(float64(i)/8) + float64(i%5)/10
		publish(probe, fmt.Sprintf(`{"temperature":{"value":%.1f,"updateTime":%q}}`, v, at))
	}
	publish(probe, `{"batteryStatus":{"percentage":76}}`)
	publish(probe, `{"networkStatus":{"signalStrength":82}}`)
	more := []struct {
		typ  domain.DeviceType
		name string
		body string
	}{
		{domain.DeviceContact, "Cold room door", `{"contact":{"state":"OPEN"}}`},
		{domain.DeviceHumidity, "Loading dock", `{"humidity":{"temperature":12.5,"relativeHumidity":71}}`},
		{domain.DeviceCO2, "Meeting room", `{"co2":{"ppm":845}}`},
		{domain.DeviceTouch, "Reception button", `{"touch":{}}`},
		{domain.DeviceProximityCounter, "Entrance counter", `{"objectPresentCount":{"total":1289}}`},
		{domain.DeviceWaterDetector, "Server room floor", `{"waterPresent":{"state":"NOT_PRESENT"}}`},
	}
	for i, m := range more {
		d, err := devs.CreateEmulated(ctx, who, p.ID, domain.EmulatedInput{Type: m.typ, Labels: map[string]string{"name": m.name, "floor": fmt.Sprint(i%3 + 1)}})
		if err != nil {
			t.Fatal(err)
		}
		publish(d, m.body)
		publish(d, fmt.Sprintf(`{"batteryStatus":{"percentage":%d}}`, []int{92, 15, 64, 88, 41, 9}[i]))
	}
	for _, width := range []int{1280, 390} {
		if err := (proto.EmulationSetDeviceMetricsOverride{Width: width, Height: 900, DeviceScaleFactor: 1, Mobile: width < 500}).Call(bp.page); err != nil {
			t.Fatal(err)
		}
		bp.visit("/projects/" + p.ID + "/devices")
		bp.waitText("[data-testid=device-link]", "Cold room door")
		bp.screenshot(fmt.Sprintf("devices-%d", width))
		bp.visit("/projects/" + p.ID + "/devices/" + probe.ID)
		bp.waitText("[data-testid=chart-last]", "°C")
		if d := bp.eval(`() => document.querySelector("[data-testid=chart-line]").getAttribute("d")`).Value.Str(); len(d) < 100 {
			bp.fatal("the chart's line is %q", d)
		}
		bp.screenshot(fmt.Sprintf("device-%d", width))
		bp.visit("/projects/" + p.ID + "/emulator/" + probe.ID)
		bp.waitText("[data-testid=emulated-name]", "Probe 7")
		bp.screenshot(fmt.Sprintf("emulator-%d", width))
	}
}
