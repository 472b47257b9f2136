package web_test

// Layout and accessibility of every page (issue 16): the pages reachable
// from the navigation of an administrator and of a read-only user, found by
// following their links, each looked at 390 px and 1280 px wide in the light
// and the dark colour scheme. No page may be wider than its viewport, and
// axe-core (vendored in testdata/axe-core, injected with the DevTools'
// CSP bypass of the test's own tab) may find no violation of impact serious
// or critical.

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"studio/domain"

	"github.com/go-rod/rod/lib/proto"
)

// uxView is one width and colour scheme a page is looked at in.
type uxView struct {
	Width, Height int
	Scheme        string // "light" or "dark"
}

func (v uxView) String() string { return fmt.Sprintf("%d %s", v.Width, v.Scheme) }

// uxViews are the four ways every page is looked at.
var uxViews = []uxView{{390, 844, "light"}, {390, 844, "dark"}, {1280, 900, "light"}, {1280, 900, "dark"}}

// setView resizes the tab (a phone's viewport below 600 px) and sets the
// colour scheme the page sees in prefers-color-scheme.
func (bp *browserPage) setView(v uxView) {
	bp.t.Helper()
	if err := (proto.EmulationSetDeviceMetricsOverride{Width: v.Width, Height: v.Height, DeviceScaleFactor: 1,
		Mobile: v.Width < 600}).Call(bp.page); err != nil {
		bp.fatal("set viewport %s: %v", v, err)
	}
	if err := (proto.EmulationSetEmulatedMedia{Features: []*proto.EmulationMediaFeature{
		{Name: "prefers-color-scheme", Value: v.Scheme}}}).Call(bp.page); err != nil {
		bp.fatal("set colour scheme %s: %v", v.Scheme, err)
	}
	// Let the layout follow before anything is measured.
	bp.eval(`() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`)
}

// overflow reports how much wider than its viewport the document is (0
// when it fits) and the widest elements that stick out, for the message.
func (bp *browserPage) overflow() (int, string) {
	bp.t.Helper()
	res := bp.eval(`() => {
		const root = document.documentElement, vw = root.clientWidth;
		const over = root.scrollWidth - vw;
		if (over <= 0) return [0, ""];
		const out = [];
		for (const e of document.body.querySelectorAll("*")) {
			const r = e.getBoundingClientRect();
			if (r.right > vw + 1 && r.width > 0) {
				let inScroller = false;
				for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
					const s = getComputedStyle(p);
					if (s.overflowX === "auto" || s.overflowX === "scroll" || s.overflowX === "hidden" || s.overflowX === "clip") {
						inScroller = true; break;
					}
				}
				if (!inScroller) out.push(e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
					(e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : "") +
					(e.dataset.testid ? "[" + e.dataset.testid + "]" : "") + " right=" + Math.round(r.right));
			}
			if (out.length >= 6) break;
		}
		return [over, out.join(", ")];
	}`).Value.Arr()
	return res[0].Int(), res[1].Str()
}

// axeSource is the vendored axe-core, read once.
var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile("testdata/axe-core/axe.min.js")
	return string(b), err
})

// axeViolation is one rule axe found broken on a page, with how many
// elements break it and a few of them.
type axeViolation struct {
	ID, Impact string
	Nodes      int
	Targets    string
}

// axe runs axe-core on the page as it is now. The tab must bypass the CSP
// (browserOpenUX does), or the injected script is refused.
func (bp *browserPage) axe() []axeViolation {
	bp.t.Helper()
	src, err := axeSource()
	if err != nil {
		bp.t.Fatalf("read axe-core: %v", err)
	}
	if !bp.eval(`() => typeof window.axe === "object"`).Value.Bool() {
		res, err := (proto.RuntimeEvaluate{Expression: src}).Call(bp.page)
		if err == nil && res.ExceptionDetails != nil {
			err = fmt.Errorf("%s", res.ExceptionDetails.Text)
		}
		if err != nil {
			bp.fatal("inject axe-core: %v", err)
		}
	}
	res, err := bp.page.Timeout(30 * time.Second).Eval(`async () => {
		const r = await axe.run(document, {resultTypes: ["violations"]});
		return r.violations.map(v => [v.id, v.impact || "", v.nodes.length,
			v.nodes.slice(0, 3).map(n => n.target.join(" ") + (n.failureSummary ? " (" + n.failureSummary.split("\n").slice(1, 2).join("").trim() + ")" : "")).join("; ")]);
	}`)
	if err != nil {
		bp.fatal("run axe-core: %v", err)
	}
	var out []axeViolation
	for _, v := range res.Value.Arr() {
		a := v.Arr()
		out = append(out, axeViolation{ID: a[0].Str(), Impact: a[1].Str(), Nodes: a[2].Int(), Targets: a[3].Str()})
	}
	return out
}

// browserOpenUX opens a tab that bypasses the CSP (for axe-core only: the
// server still sends it) with a budget for a long walk through the pages.
func browserOpenUX(t *testing.T, app *testApp, budget time.Duration) *browserPage {
	t.Helper()
	p, err := browserContext(t).Page(proto.TargetCreateTarget{})
	if err != nil {
		t.Fatalf("open tab: %v", err)
	}
	if err := (proto.PageSetBypassCSP{Enabled: true}).Call(p); err != nil {
		t.Fatalf("bypass CSP in the test tab: %v", err)
	}
	bp := &browserPage{t: t, app: app, page: p.Timeout(budget)}
	bp.setView(uxViews[2])
	return bp
}

// confirmDialog clicks sel, which asks in the console's own confirmation
// dialog (never the browser's confirm()), answers it (the dialog's confirm
// or Cancel button) and returns what it asked: its title and its text.
func (bp *browserPage) confirmDialog(sel string, accept bool) string {
	bp.t.Helper()
	bp.eval(`() => { window.__nativeConfirms = 0; window.confirm = () => { window.__nativeConfirms++; return false; }; }`)
	bp.click(sel)
	bp.waitJS("the confirm dialog", `() => !!document.querySelector("[data-testid=confirm-dialog] [role=alertdialog]")`)
	if n := bp.eval(`() => window.__nativeConfirms`).Value.Int(); n != 0 {
		bp.fatal("clicking %s called the browser's confirm() %d time(s)", sel, n)
	}
	if !bp.eval(`() => document.querySelector("[data-testid=confirm-dialog]").contains(document.activeElement)`).Value.Bool() {
		bp.fatal("the confirm dialog did not take the focus")
	}
	q := bp.text("[data-testid=confirm-title]") + " " + bp.text("[data-testid=confirm-text]")
	if accept {
		bp.click("[data-testid=confirm-ok]")
	} else {
		bp.click("[data-testid=confirm-cancel]")
	}
	bp.waitJS("the confirm dialog to close", `() => !document.querySelector("[data-testid=confirm-dialog]")`)
	return strings.TrimSpace(q)
}

// signInAs signs in through the form as email (with the test password).
func (bp *browserPage) signInAs(email string) {
	bp.t.Helper()
	bp.visit("/signin")
	bp.waitText("h1", "Sign in")
	bp.typeInto("#email", email)
	bp.typeInto("#password", adminPassword)
	bp.click("[data-testid=signin-submit]")
	// Someone with an authenticator app (the administrator) is asked for
	// its code next, as a person types it.
	bp.waitPath(`^/(signin/verify)?$`)
	if bp.eval(`() => location.pathname`).Value.Str() == "/signin/verify" {
		code, _ := bp.app.totpCode(email)
		bp.typeInto("[data-testid=second-factor-code]", code)
		bp.click("[data-testid=second-factor-submit]")
		bp.waitPath(`^/$`)
	}
}

// uxFixture is what the layout tests find in the console: long names,
// emails and ids everywhere a table or a toast shows them.
type uxFixture struct {
	project   domain.Project
	accountID string
	viewer    string // a Project user of project, nothing more
	// invite is the path of a pending person's invite link.
	invite string
}

const (
	uxLongName  = "Nightly integration robot for the greenhouse irrigation controllers"
	uxLongEmail = "firstname.middlename.lastname.contractor@operations.subsidiary-example.com"
)

// uxSeed fills the first organization the way a busy one looks.
func uxSeed(t *testing.T, app *testApp) uxFixture {
	t.Helper()
	admin := app.signedIn(adminEmail)
	proj := app.addProject(app.org.ID, "Greenhouse irrigation and climate control, north-east wing")
	saID := browserSACreate(t, admin, proj.ID, uxLongName)
	browserSASetRole(t, admin, proj.ID, saID, domain.RoleProjectAdmin)
	browserSACreateKey(t, admin, proj.ID, saID, false)
	browserSACreateKey(t, admin, proj.ID, saID, false)
	if r := admin.post(browserSAURL(proj.ID, saID)+"/basicauth", url.Values{"enable": {"true"}}); r.status != 303 {
		t.Fatalf("basic auth on: status %d", r.status)
	}
	browserSACreate(t, admin, proj.ID, "Keyless")
	members := "/projects/" + proj.ID + "/members"
	invite := ""
	for _, inv := range []struct{ email, role string }{
		{uxLongEmail, string(domain.RoleProjectDev)},
		{"new.person.without.an.account@example.org", string(domain.RoleProjectUser)},
	} {
		r := admin.post(members, url.Values{"email": {inv.email}, "role": {inv.role}})
		if r.status != 200 && r.status != 303 {
			t.Fatalf("invite %s: status %d", inv.email, r.status)
		}
		if link := strings.TrimSpace(r.doc.Find("[data-testid=invite-link]").Text()); link != "" {
			invite = strings.TrimPrefix(link, "http://studio.test")
		}
	}
	if invite == "" {
		t.Fatal("no invite link was shown for the new person")
	}
	// Devices with values and a long name, for the device list, the
	// device page's chart and the emulator's pages.
	for _, d := range []struct{ typ, name, body string }{
		{"temperature", "Seedling tray thermometer beside the east-facing ventilation louvres", `{"temperature":{"value":23.5}}`},
		{"contact", "Door", `{"contact":{"state":"OPEN"}}`},
	} {
		r := admin.post("/projects/"+proj.ID+"/emulator", url.Values{"type": {d.typ}, "name": {d.name}})
		if r.status != 303 {
			t.Fatalf("make a virtual %s: status %d", d.typ, r.status)
		}
		device := r.header.Get("Location")
		if r := admin.post(device+"/publish", url.Values{"event": {d.typ}, "value": {"23.5"}, "state": {"OPEN"}}); r.status != 303 {
			t.Fatalf("publish %s: status %d", d.body, r.status)
		}
	}
	viewer := "viewer@example.com"
	app.addUser(viewer, proj.ID, domain.RoleProjectUser, "")
	app.addUser("second.administrator.with.a.long.address@operations.subsidiary-example.com", "", "", app.org.ID)
	if r := admin.post("/orgs/"+app.org.ID+"/admins", url.Values{"email": {"pending.admin.with.a.long.address@example.net"}}); r.status != 200 && r.status != 303 {
		t.Fatalf("invite an org admin: status %d", r.status)
	}
	return uxFixture{project: proj, accountID: saID, viewer: viewer, invite: invite}
}

// uxIDSegment matches the ids in the console's paths: 20-character ids
// and numeric user ids.
var uxIDSegment = regexp.MustCompile(`^([0-9a-v]{20}|[0-9]+)$`)

// uxPattern is a path with its ids blanked and its query's names only:
// pages of one pattern look alike, so one of each is enough.
func uxPattern(u *url.URL) string {
	segs := strings.Split(u.Path, "/")
	for i, s := range segs {
		if uxIDSegment.MatchString(s) {
			segs[i] = "{id}"
		}
	}
	var names []string
	for k := range u.Query() {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(segs, "/") + "?" + strings.Join(names, "&")
}

// crawl follows the same-site links of the pages from start on, breadth
// first, and returns one address per kind of page (uxPattern), at most max.
// Sign-out, static files and downloads are no pages.
func (bp *browserPage) crawl(start []string, max int) []string {
	bp.t.Helper()
	seen := map[string]bool{}
	var pages, queue []string
	add := func(raw string) {
		u, err := url.Parse(raw)
		if err != nil || (u.Host != "" && u.Host != strings.TrimPrefix(bp.app.srv.URL, "http://")) {
			return
		}
		if strings.HasPrefix(u.Path, "/static/") || u.Path == "/signout" || u.Path == "/healthz" || strings.HasPrefix(u.Path, "/v2/") {
			return
		}
		key := uxPattern(u)
		if seen[key] || len(seen) >= max {
			return
		}
		seen[key] = true
		path := u.RequestURI()
		pages, queue = append(pages, path), append(queue, path)
	}
	for _, s := range start {
		add(s)
	}
	for len(queue) > 0 {
		path := queue[0]
		queue = queue[1:]
		bp.visit(path)
		for _, l := range bp.eval(`() => [...document.querySelectorAll("a[href]:not([download])")]
			.map(a => a.getAttribute("href")).filter(h => h && !h.startsWith("#") && !h.startsWith("data:"))`).Value.Arr() {
			add(l.Str())
		}
	}
	return pages
}

// uxPageReport is what one page showed in the four views.
type uxPageReport struct {
	Who, Path string
	Over      map[uxView]string         // what sticks out, by view
	Axe       map[uxView][]axeViolation // by view
}

// checkPages looks at every page in every view and reports what it found.
func (bp *browserPage) checkPages(who string, pages []string) []uxPageReport {
	bp.t.Helper()
	var out []uxPageReport
	for _, path := range pages {
		rep := uxPageReport{Who: who, Path: path, Over: map[uxView]string{}, Axe: map[uxView][]axeViolation{}}
		bp.setView(uxViews[0])
		bp.visit(path)
		for _, v := range uxViews {
			bp.setView(v)
			if over, what := bp.overflow(); over > 0 {
				rep.Over[v] = fmt.Sprintf("%d px wider than the viewport: %s", over, what)
			}
			rep.Axe[v] = bp.axe()
			bp.screenshot(shotName(who, path, v))
		}
		out = append(out, rep)
	}
	return out
}

// shotName names a page's screenshot in one view (STUDIO_SCREENSHOTS).
func shotName(who, path string, v uxView) string {
	p := strings.Trim(regexp.MustCompile(`[^a-z]+`).ReplaceAllString(uxPattern(mustURL(path)), "-"), "-")
	return fmt.Sprintf("%s-%s-%d-%s", strings.ReplaceAll(who, " ", "-"), p, v.Width, v.Scheme)
}

// checkStates looks at the console's dialogs and its unfolded phone menu
// in every view: the one-time secret, a confirmation, the password prompt.
func (bp *browserPage) checkStates(fx uxFixture) []uxPageReport {
	bp.t.Helper()
	var out []uxPageReport
	look := func(name string) {
		rep := uxPageReport{Who: "admin", Path: name, Over: map[uxView]string{}, Axe: map[uxView][]axeViolation{}}
		for _, v := range uxViews {
			bp.setView(v)
			if over, what := bp.overflow(); over > 0 {
				rep.Over[v] = fmt.Sprintf("%d px wider than the viewport: %s", over, what)
			}
			rep.Axe[v] = bp.axe()
			bp.screenshot(shotName("admin", name, v))
		}
		out = append(out, rep)
	}
	account := browserSAURL(fx.project.ID, fx.accountID)
	bp.setView(uxViews[2])
	bp.visit(account)
	bp.click("[data-testid=create-key]")
	bp.waitJS("the secret dialog", `() => !!document.querySelector("[data-testid=secret-dialog]")`)
	look("/state/secret-dialog")
	bp.setView(uxViews[2])
	bp.click("[data-testid=secret-done]")
	bp.click("[data-testid=key-row] [data-testid=key-menu-button]")
	look("/state/key-menu")
	bp.setView(uxViews[2])
	bp.click("[data-testid=key-row] [data-testid=disable-key]")
	bp.waitJS("the confirm dialog", `() => !!document.querySelector("[data-testid=confirm-dialog]")`)
	look("/state/confirm-dialog")
	bp.setView(uxViews[2])
	bp.click("[data-testid=confirm-cancel]")
	bp.app.clock.Advance(16 * time.Minute)
	bp.visit(account)
	bp.click("[data-testid=rotate-key]")
	bp.click("[data-testid=rotate-submit]")
	bp.waitJS("the password prompt", `() => !!document.querySelector("[data-testid=reauth-dialog]")`)
	look("/state/reauth-dialog")
	bp.setView(uxViews[0])
	bp.visit("/projects/" + fx.project.ID + "/members")
	bp.click("[data-testid=menu-toggle]")
	bp.click("[data-testid=user-menu]")
	look("/state/phone-menu-open")
	return out
}

// severe counts the serious and critical violations.
func severe(vs []axeViolation) int {
	n := 0
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			n += v.Nodes
		}
	}
	return n
}

func total(vs []axeViolation) int {
	n := 0
	for _, v := range vs {
		n += v.Nodes
	}
	return n
}

func TestBrowserEveryPageFitsAndPassesAxe(t *testing.T) {
	browserRequire(t)
	app := newApp(t)
	fx := uxSeed(t, app)
	bp := browserOpenUX(t, app, 6*time.Minute)

	var reports []uxPageReport
	reports = append(reports, bp.checkPages("signed out", []string{"/signin", fx.invite})...)
	bp.signInAs(adminEmail)
	// Besides the links: a busy service account's page (the list opens
	// another first) and a search's results, whose links lead on.
	adminPages := bp.crawl([]string{"/", browserSAURL(fx.project.ID, fx.accountID), "/support?q=a"}, 80)
	reports = append(reports, bp.checkPages("admin", adminPages)...)

	// States a crawl does not reach: the dialogs, and the unfolded menu.
	reports = append(reports, bp.checkStates(fx)...)

	viewer := browserOpenUX(t, app, 3*time.Minute)
	viewer.signInAs(fx.viewer)
	viewerPages := viewer.crawl([]string{"/"}, 40)
	reports = append(reports, viewer.checkPages("viewer", viewerPages)...)

	// The table of counts per page (serious+critical / all), for the record.
	var table strings.Builder
	fmt.Fprintf(&table, "%-8s %-70s", "who", "page")
	for _, v := range uxViews {
		fmt.Fprintf(&table, " %10s", v)
	}
	table.WriteString("\n")
	var problems []string
	for _, r := range reports {
		fmt.Fprintf(&table, "%-8s %-70s", r.Who, uxPattern(mustURL(r.Path)))
		for _, v := range uxViews {
			fmt.Fprintf(&table, " %10s", fmt.Sprintf("%d/%d", severe(r.Axe[v]), total(r.Axe[v])))
			if o := r.Over[v]; o != "" {
				problems = append(problems, fmt.Sprintf("%s %s at %s: %s", r.Who, r.Path, v, o))
			}
			for _, a := range r.Axe[v] {
				if a.Impact == "serious" || a.Impact == "critical" {
					problems = append(problems, fmt.Sprintf("%s %s at %s: axe %s (%s) on %d element(s): %s", r.Who, r.Path, v, a.ID, a.Impact, a.Nodes, a.Targets))
				}
			}
		}
		table.WriteString("\n")
	}
	// Below the table, which rules the other violations (moderate, minor) break.
	for _, r := range reports {
		seen := map[string]bool{}
		for _, v := range uxViews {
			for _, a := range r.Axe[v] {
				key := a.ID + " (" + a.Impact + ")"
				if !seen[key] {
					seen[key] = true
					fmt.Fprintf(&table, "%s %s at %s: %s on %d element(s): %s\n", r.Who, uxPattern(mustURL(r.Path)), v, key, a.Nodes, a.Targets)
				}
			}
		}
	}
	t.Logf("pages looked at: admin %d, viewer %d; axe violations per page (serious+critical/all):\n%s",
		len(adminPages), len(viewerPages), table.String())
	if path := os.Getenv("STUDIO_AXE_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(table.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if len(adminPages) < 15 || len(viewerPages) < 4 {
		t.Errorf("the crawl found too few pages (admin %d, viewer %d): %q %q", len(adminPages), len(viewerPages), adminPages, viewerPages)
	}
	if len(problems) > 0 {
		t.Fatalf("%d problem(s):\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
}

func mustURL(s string) *url.URL {
	u, _ := url.Parse(s)
	return u
}
