package web_test

// The console's device pages driven through the real router: what each
// role sees and may do, validation beside the field, and the store after.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"studio/domain"
	"studio/views"

	"github.com/PuerkitoBio/goquery"
)

// consoleDevices is an app with a project P (and Q) and people by role in P.
type consoleDevices struct {
	app    *testApp
	p, q   domain.Project
	admin  domain.Principal
	people map[string]*client // "user", "developer", "admin" (project admin of P and Q)
}

func newConsoleDevices(t *testing.T) *consoleDevices {
	app := newApp(t)
	cd := &consoleDevices{app: app, p: app.addProject(app.org.ID, "Plant"), q: app.addProject(app.org.ID, "Quarry"), people: map[string]*client{}}
	u, err := app.store.UserByEmail(context.Background(), adminEmail)
	if err != nil {
		t.Fatal(err)
	}
	cd.admin = domain.UserPrincipal(u, "test")
	app.addUser("user@example.com", cd.p.ID, domain.RoleProjectUser, "")
	app.addUser("developer@example.com", cd.p.ID, domain.RoleProjectDev, "")
	padmin := app.addUser("padmin@example.com", cd.p.ID, domain.RoleProjectAdmin, "")
	m := domain.Membership{OrganizationID: app.org.ID, ProjectID: cd.q.ID, Account: domain.AccountRef{Type: domain.AccountUser, ID: itoa(padmin.ID)},
		Role: domain.RoleProjectAdmin, Status: domain.StatusAccepted, CreateTime: app.clock.Now()}
	ctx := context.Background()
	if err := app.store.Update(ctx, func(tx domain.Tx) error { return tx.CreateMembership(ctx, &m) }); err != nil {
		t.Fatal(err)
	}
	for role, email := range map[string]string{"user": "user@example.com", "developer": "developer@example.com", "admin": "padmin@example.com"} {
		cd.people[role] = app.signedIn(email)
	}
	return cd
}

func (cd *consoleDevices) emulated(p domain.Project, typ domain.DeviceType, name string) domain.Device {
	cd.app.t.Helper()
	d, err := cd.app.services.Devices.CreateEmulated(context.Background(), cd.admin, p.ID, domain.EmulatedInput{Type: typ, Labels: map[string]string{"name": name}})
	if err != nil {
		cd.app.t.Fatal(err)
	}
	return d
}

func (cd *consoleDevices) publish(d domain.Device, body string) {
	cd.app.t.Helper()
	if _, err := cd.app.services.Devices.PublishEmulated(context.Background(), cd.admin, d.ProjectID, d.ID, json.RawMessage(body)); err != nil {
		cd.app.t.Fatal(err)
	}
}

func (cd *consoleDevices) device(id string) domain.Device {
	cd.app.t.Helper()
	d, err := cd.app.store.DeviceByID(context.Background(), id)
	if err != nil {
		cd.app.t.Fatal(err)
	}
	return d
}

func rowTexts(doc *goquery.Document, sel string) []string {
	var out []string
	doc.Find(sel).Each(func(_ int, s *goquery.Selection) { out = append(out, strings.TrimSpace(s.Text())) })
	return out
}

func TestConsoleDevicesList(t *testing.T) {
	cd := newConsoleDevices(t)
	freezer := cd.emulated(cd.p, domain.DeviceTemperature, "Freezer")
	door := cd.emulated(cd.p, domain.DeviceContact, "Back door")
	cd.emulated(cd.q, domain.DeviceTouch, "Elsewhere")
	cd.publish(freezer, `{"temperature":{"value":-18.25}}`)
	cd.publish(freezer, `{"batteryStatus":{"percentage":12}}`)
	cd.publish(freezer, `{"networkStatus":{"signalStrength":77}}`)
	cd.publish(door, `{"contact":{"state":"OPEN"}}`)
	if _, err := cd.app.services.Devices.UpdateLabels(context.Background(), cd.admin, cd.p.ID,
		[]domain.DeviceRef{{ProjectID: cd.p.ID, DeviceID: door.ID}}, map[string]string{"floor": "2"}, nil); err != nil {
		t.Fatal(err)
	}
	base := "/projects/" + cd.p.ID + "/devices"
	r := cd.people["user"].get(base)
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	if got := rowTexts(r.doc, "[data-testid=device-link]"); strings.Join(got, ",") != "Back door,Freezer" {
		t.Fatalf("rows %v, want P's devices by name", got)
	}
	row := r.doc.Find("tr#row-" + freezer.ID)
	for sel, want := range map[string]string{"[data-testid=device-value]": "-18.3 °C", "[data-testid=device-signal]": "77 %",
		"[data-testid=device-battery]": "12 %", "[data-testid=device-seen]": "just now"} {
		if got := strings.TrimSpace(row.Find(sel).Text()); got != want {
			t.Errorf("freezer %s = %q, want %q", sel, got, want)
		}
	}
	if !row.Find("[data-testid=device-battery]").HasClass("low") {
		t.Error("a battery of 12 % is not marked low")
	}
	if got := strings.TrimSpace(r.doc.Find("tr#row-" + door.ID + " [data-testid=device-value]").Text()); got != "Open" {
		t.Errorf("door value %q", got)
	}
	if tags := rowTexts(r.doc, "tr#row-"+door.ID+" .tag"); strings.Join(tags, ",") != "floor=2" {
		t.Errorf("door tags %v (the name and virtual-sensor are not tags)", tags)
	}
	// A project user may not move: no selection, no move form.
	if r.doc.Find("[data-testid=move-submit], [data-testid=device-select]").Length() != 0 {
		t.Error("a project user is offered to move devices")
	}
	// Search and label filter, in the URL.
	for query, want := range map[string]string{"?q=freez": "Freezer", "?label=floor%3D2": "Back door", "?label=floor": "Back door", "?q=contact": "Back door"} {
		got := rowTexts(cd.people["user"].get(base+query).doc, "[data-testid=device-link]")
		if strings.Join(got, ",") != want {
			t.Errorf("%s: %v, want %s", query, got, want)
		}
	}
	bad := cd.people["user"].get(base + "?label=%3Dvalue")
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.doc.Find("[data-testid=error-label]").Text(), "label") {
		t.Errorf("a bad label filter: status %d, error %q", bad.status, bad.doc.Find("[data-testid=error-label]").Text())
	}
	// Another organization's admin, or a stranger, sees nothing.
	cd.app.addOrg("Other", "stranger@example.com")
	if r := cd.app.signedIn("stranger@example.com").get(base); r.status != http.StatusNotFound {
		t.Errorf("a stranger's status %d", r.status)
	}
	// The project menu's first item is Devices; the dashboard counts them.
	dash := cd.people["user"].get("/projects/" + cd.p.ID)
	if first := dash.doc.Find(".sidemenu a").First(); first.AttrOr("data-testid", "") != "menu-devices" {
		t.Errorf("the first menu item is %q", first.Text())
	}
	for sel, want := range map[string]string{"[data-testid=count-devices] strong": "2", "[data-testid=count-offline] strong": "0",
		"[data-testid=count-low-battery] strong": "1"} {
		if got := strings.TrimSpace(dash.doc.Find(sel).Text()); got != want {
			t.Errorf("dashboard %s = %q, want %q", sel, got, want)
		}
	}
	if types := dash.doc.Find("[data-testid=count-by-type]").Text(); !strings.Contains(types, "1 Temperature") || !strings.Contains(types, "1 Door & window contact") {
		t.Errorf("by type: %q", types)
	}
}

// TestConsoleDevicesPages: 60 devices page by 50, by name, each once.
func TestConsoleDevicesPages(t *testing.T) {
	cd := newConsoleDevices(t)
	for i := 0; i < 60; i++ {
		cd.emulated(cd.p, domain.DeviceTouch, fmt.Sprintf("Button %02d", i))
	}
	c := cd.people["user"]
	r := c.get("/projects/" + cd.p.ID + "/devices")
	first := rowTexts(r.doc, "[data-testid=device-link]")
	next, ok := r.doc.Find("[data-testid=next-page]").Attr("href")
	if len(first) != 50 || !ok {
		t.Fatalf("first page %d rows, next %q", len(first), next)
	}
	second := rowTexts(c.get(next).doc, "[data-testid=device-link]")
	if len(second) != 10 || first[0] != "Button 00" || first[49] != "Button 49" || second[0] != "Button 50" || second[9] != "Button 59" {
		t.Fatalf("pages %v … %v", first[:2], second)
	}
}

// TestConsoleDevicesLive: the poll answers fresh cells out of band, and
// the rows anew when the page's devices changed.
func TestConsoleDevicesLive(t *testing.T) {
	cd := newConsoleDevices(t)
	a := cd.emulated(cd.p, domain.DeviceTemperature, "A")
	c := cd.people["admin"]
	page := c.get("/projects/" + cd.p.ID + "/devices")
	live, ok := page.doc.Find("[data-testid=device-live]").Attr("hx-get")
	if !ok || !strings.Contains(live, "shown=") {
		t.Fatalf("no poller on the list: %q", live)
	}
	if trigger := page.doc.Find("[data-testid=device-live]").AttrOr("hx-trigger", ""); trigger != views.LiveInterval {
		t.Errorf("the poller's trigger %q", trigger)
	}
	cd.publish(a, `{"temperature":{"value":4.5}}`)
	r := c.get(live)
	cell := r.doc.Find("template #value-" + a.ID)
	if cell.AttrOr("hx-swap-oob", "") != "true" || strings.TrimSpace(cell.Text()) != "4.5 °C" {
		t.Fatalf("the poll's value cell %q (oob %q): %s", cell.Text(), cell.AttrOr("hx-swap-oob", ""), r.body)
	}
	if r.doc.Find("#device-rows").Length() != 0 {
		t.Error("the rows came back though the page's devices did not change")
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	// A new device: the rows come anew, with the selection boxes, and a poller that knows them.
	cd.emulated(cd.p, domain.DeviceTouch, "B")
	r = c.get(live)
	rows := r.doc.Find("template #device-rows")
	if rows.AttrOr("hx-swap-oob", "") != "outerHTML" || rows.Find("[data-testid=device-row]").Length() != 2 || rows.Find("[data-testid=device-select]").Length() != 2 {
		t.Fatalf("after a new device the poll gave %s", r.body)
	}
	if next := r.doc.Find("#device-live").AttrOr("hx-get", ""); next == live || next == "" {
		t.Errorf("the new poller asks %q", next)
	}
	if r := cd.app.signedIn("user@example.com").get(strings.Replace(live, cd.p.ID, cd.q.ID, 1)); r.status != http.StatusNotFound {
		t.Errorf("polling a project one cannot read: %d", r.status)
	}
}

func TestConsoleMoveDevices(t *testing.T) {
	cd := newConsoleDevices(t)
	a := cd.emulated(cd.p, domain.DeviceTemperature, "A")
	b := cd.emulated(cd.p, domain.DeviceTouch, "B")
	admin := cd.people["admin"]
	list := admin.get("/projects/" + cd.p.ID + "/devices")
	var targets []string
	list.doc.Find("[data-testid=move-target] option").Each(func(_ int, s *goquery.Selection) { targets = append(targets, s.Text()) })
	if strings.Join(targets, ",") != "Quarry" {
		t.Fatalf("move targets %v, want Quarry alone (admin of P and Q only; not P itself)", targets)
	}
	move := "/projects/" + cd.p.ID + "/devices/move"
	form := url.Values{"device": {a.ID, b.ID}, "target": {cd.q.ID}}
	r := admin.post(move, form)
	if r.status != http.StatusOK || !strings.Contains(r.doc.Find("[data-testid=move-confirm] h1").Text(), "Move 2 devices to Quarry?") {
		t.Fatalf("confirmation: %d %q", r.status, r.doc.Find("h1").Text())
	}
	if cd.device(a.ID).ProjectID != cd.p.ID {
		t.Fatal("the device moved before the confirmation")
	}
	// Refusals move nothing.
	for who, c := range map[string]*client{"user": cd.people["user"], "developer": cd.people["developer"]} {
		confirmed := url.Values{"device": {a.ID}, "target": {cd.q.ID}, "confirm": {"yes"}}
		if r := c.post(move, confirmed); r.status != http.StatusNotFound && r.status != http.StatusForbidden {
			t.Errorf("%s moving: status %d", who, r.status)
		}
	}
	other, _ := cd.app.addOrg("Other", "otheradmin@example.com")
	far := cd.app.addProject(other.ID, "Far")
	if r := admin.post(move, url.Values{"device": {a.ID}, "target": {far.ID}, "confirm": {"yes"}}); r.status != http.StatusNotFound {
		t.Errorf("moving to another organization's project: %d", r.status)
	}
	if cd.device(a.ID).ProjectID != cd.p.ID || cd.device(b.ID).ProjectID != cd.p.ID {
		t.Fatal("a refused move moved a device")
	}
	// Confirmed: both move, the toast says so.
	form.Set("confirm", "yes")
	r = admin.post(move, form)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/projects/"+cd.p.ID+"/devices" {
		t.Fatalf("move: %d %s", r.status, r.header.Get("Location"))
	}
	after := admin.get(r.header.Get("Location"))
	if !strings.Contains(after.doc.Find("[data-testid=flash]").Text(), "Moved 2 devices to “Quarry”.") {
		t.Errorf("flash %q", after.doc.Find("[data-testid=flash]").Text())
	}
	if cd.device(a.ID).ProjectID != cd.q.ID || cd.device(b.ID).ProjectID != cd.q.ID {
		t.Fatal("the confirmed move did not move the devices")
	}
	// Nothing selected: said, nothing done.
	r = admin.post(move, url.Values{"target": {cd.q.ID}})
	if r.status != http.StatusSeeOther || !strings.Contains(admin.get(r.header.Get("Location")).doc.Find("[data-testid=flash]").Text(), "Select the devices") {
		t.Errorf("an empty selection: %d", r.status)
	}
}

func TestConsoleDevicePage(t *testing.T) {
	cd := newConsoleDevices(t)
	d := cd.emulated(cd.p, domain.DeviceTemperature, "Freezer")
	now := cd.app.clock.Now()
	for i := 0; i < 48; i++ {
		at := now.Add(-time.Duration(i) * 30 * time.Minute).Format(time.RFC3339)
		cd.publish(d, fmt.Sprintf(`{"temperature":{"value":%d,"updateTime":%q}}`, -18-i%3, at))
	}
	cd.publish(d, `{"batteryStatus":{"percentage":80}}`)
	page := "/projects/" + cd.p.ID + "/devices/" + d.ID
	r := cd.people["user"].get(page)
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	if line := r.doc.Find("[data-testid=chart-line]").AttrOr("d", ""); strings.Count(line, "L") < 40 {
		t.Errorf("the chart's line has %d segments: %q", strings.Count(line, "L"), line)
	}
	for sel, want := range map[string]string{"[data-testid=chart-min]": "-20 °C", "[data-testid=chart-max]": "-18 °C", "[data-testid=chart-last]": "-18 °C",
		"[data-testid=latest-batteryStatus]": "80 %"} {
		if got := strings.TrimSpace(r.doc.Find(sel).Text()); !strings.HasPrefix(got, want) {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	if n := r.doc.Find("[data-testid=history-row]").Length(); n != 25 {
		t.Errorf("%d history rows, want a page of 25", n)
	}
	battery := cd.people["user"].get(page + "?type=batteryStatus")
	if n := battery.doc.Find("[data-testid=history-row]").Length(); n != 1 {
		t.Errorf("%d battery events", n)
	}
	week := cd.people["user"].get(page + "?window=7d")
	if week.doc.Find("[data-testid=window-7d]").AttrOr("aria-current", "") != "page" || week.doc.Find("[data-testid=chart-line]").Length() != 1 {
		t.Error("the 7-day chart")
	}
	// A user reads the labels; there is no form to change them.
	if r.doc.Find("[data-testid=label-add-form]").Length() != 0 {
		t.Error("a project user is offered to change labels")
	}
	if r := cd.people["user"].post(page+"/labels", url.Values{"key": {"room"}, "value": {"cold"}}); r.status != http.StatusForbidden {
		t.Errorf("a user adding a label: %d", r.status)
	}
	dev := cd.people["developer"]
	for _, bad := range []url.Values{{"key": {"a=b"}, "value": {"x"}}, {"key": {""}, "value": {"x"}}, {"key": {"k"}, "value": {"line\nbreak"}}} {
		r := dev.post(page+"/labels", bad)
		if r.status != http.StatusUnprocessableEntity || r.doc.Find(".field-error").Length() == 0 {
			t.Errorf("label %v: status %d, errors %q", bad, r.status, r.doc.Find(".field-error").Text())
		}
	}
	if got := cd.device(d.ID).Labels; len(got) != 2 {
		t.Fatalf("refused labels changed the device: %v", got)
	}
	if r := dev.post(page+"/labels", url.Values{"key": {"room"}, "value": {"cold"}}); r.status != http.StatusSeeOther {
		t.Fatalf("adding a label: %d", r.status)
	}
	if r := dev.post(page+"/labels", url.Values{"key": {"name"}, "value": {"Freezer 2"}}); r.status != http.StatusSeeOther {
		t.Fatalf("renaming: %d", r.status)
	}
	if r := dev.post(page+"/labels/remove", url.Values{"key": {"virtual-sensor"}}); r.status != http.StatusSeeOther {
		t.Fatalf("removing a label: %d", r.status)
	}
	if got := cd.device(d.ID).Labels; len(got) != 2 || got["room"] != "cold" || got["name"] != "Freezer 2" {
		t.Fatalf("labels %v", got)
	}
	if n := len(cd.app.auditActions(cd.app.org.ID)); n == 0 || cd.app.auditActions(cd.app.org.ID)[0] != domain.ActionDeviceLabels {
		t.Errorf("the last audit entry is not the label change")
	}
	if r := dev.get("/projects/" + cd.q.ID + "/devices/" + d.ID); r.status != http.StatusNotFound {
		t.Errorf("the device through another project: %d", r.status)
	}
}

func TestConsoleEmulator(t *testing.T) {
	cd := newConsoleDevices(t)
	dev := cd.people["developer"]
	base := "/projects/" + cd.p.ID + "/emulator"
	if r := cd.people["user"].get(base); r.status != http.StatusOK || r.doc.Find("[data-testid=create-emulated-form]").Length() != 0 {
		t.Errorf("a user's emulator page: %d, with a create form: %v", r.status, r.doc.Find("[data-testid=create-emulated-form]").Length() != 0)
	}
	if r := cd.people["user"].post(base, url.Values{"type": {"touch"}}); r.status != http.StatusForbidden {
		t.Errorf("a user creating: %d", r.status)
	}
	r := dev.post(base, url.Values{"type": {"thermometer"}, "name": {"X"}})
	if r.status != http.StatusUnprocessableEntity || r.doc.Find("[data-testid=error-type]").Length() != 1 || r.doc.Find("[data-testid=new-emulated-name]").AttrOr("value", "") != "X" {
		t.Fatalf("a bad type: %d, error %q", r.status, r.doc.Find("[data-testid=error-type]").Text())
	}
	r = dev.post(base, url.Values{"type": {"temperature"}, "name": {"Probe"}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), base+"/emu") {
		t.Fatalf("create: %d %s", r.status, r.header.Get("Location"))
	}
	page := r.header.Get("Location")
	id := page[strings.LastIndex(page, "/")+1:]
	d := cd.device(id)
	if !d.Emulated || d.Labels["name"] != "Probe" || d.Type != domain.DeviceTemperature {
		t.Fatalf("made %+v", d)
	}
	p := dev.get(page)
	for _, form := range []string{"temperature", "touch", "batteryStatus", "networkStatus"} {
		if p.doc.Find("[data-testid=publish-"+form+"]").Length() != 1 {
			t.Errorf("no %s form", form)
		}
	}
	if p.doc.Find("[data-testid=publish-objectPresent]").Length() != 0 {
		t.Error("a temperature sensor offers to publish presence")
	}
	// Bad numbers are refused beside the form, and publish nothing.
	r = dev.post(page+"/publish", url.Values{"event": {"temperature"}, "value": {"warm"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.doc.Find("[data-testid=error-temperature]").Text(), "number") {
		t.Fatalf("a bad temperature: %d %q", r.status, r.doc.Find("[data-testid=error-temperature]").Text())
	}
	r = dev.post(page+"/publish", url.Values{"event": {"objectPresent"}, "state": {"PRESENT"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("presence from a temperature sensor: %d", r.status)
	}
	if got := cd.device(id); len(got.Reported) != 0 {
		t.Fatalf("refused publishes reported %v", got.Reported)
	}
	r = dev.post(page+"/publish", url.Values{"event": {"temperature"}, "value": {"21.5"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("publish: %d", r.status)
	}
	if flash := dev.get(page).doc.Find("[data-testid=flash]").Text(); !strings.Contains(flash, "Published temperature 21.5 °C.") {
		t.Errorf("flash %q", flash)
	}
	if got := cd.device(id).Readings().Temperature; got == nil || *got != 21.5 {
		t.Fatalf("reported temperature %v", got)
	}
	// Delete: asked first; a post without the confirmation deletes nothing.
	if r := dev.post(page+"/delete", url.Values{}); r.status != http.StatusBadRequest {
		t.Errorf("delete without confirming: %d", r.status)
	}
	confirm := dev.get(page + "/delete")
	if confirm.doc.Find("[data-testid=delete-emulated-form] input[name=confirm]").AttrOr("value", "") != "yes" {
		t.Fatal("the delete page has no confirmation")
	}
	if r := cd.people["user"].post(page+"/delete", url.Values{"confirm": {"yes"}}); r.status != http.StatusForbidden {
		t.Errorf("a user deleting: %d", r.status)
	}
	if r := dev.post(page+"/delete", url.Values{"confirm": {"yes"}}); r.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.status)
	}
	if _, err := cd.app.store.DeviceByID(context.Background(), id); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("the deleted device: %v", err)
	}
}
