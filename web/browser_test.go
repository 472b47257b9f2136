package web_test

// Browser tests: they drive Debian's Chromium through go-rod against the
// whole server (newApp), for the flows htmx changes (hx-boost page swaps,
// inline validation, toasts) and for the strict CSP. They skip under -short
// and when no browser is installed, except in CI (CI=true), where a missing
// browser is a failure.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"studio/domain"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/launcher"
	"github.com/go-rod/rod/lib/launcher/flags"
	"github.com/go-rod/rod/lib/proto"
)

const (
	// browserTestBudget bounds one whole browser test.
	browserTestBudget = 45 * time.Second
	// browserWaitBudget bounds one wait for something to show.
	browserWaitBudget = 8 * time.Second
)

// browserBinary finds a Chromium to drive. Without an explicit binary go-rod
// tries to download one, which fails here.
func browserBinary() string {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserRequire skips the test under -short or without a browser (failing
// instead in CI, which installs one) and returns the browser's path.
func browserRequire(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	bin := browserBinary()
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no Chromium found (looked for /usr/bin/chromium, chromium-browser, google-chrome): CI must install chromium for the browser tests")
		}
		t.Skip("no Chromium found (looked for /usr/bin/chromium, chromium-browser, google-chrome): install chromium to run the browser tests")
	}
	return bin
}

// TestMain closes the browser the browser tests shared, if any started it.
func TestMain(m *testing.M) {
	code := m.Run()
	sharedBrowser.close()
	os.Exit(code)
}

// sharedBrowser is one headless Chromium for every browser test of this
// package: starting one takes seconds, a fresh incognito context per test
// (browserContext) takes milliseconds and shares no cookies or storage.
var sharedBrowser browserProcess

// browserProcess starts Chromium on first use and remembers why it could not.
type browserProcess struct {
	once     sync.Once
	launcher *launcher.Launcher
	browser  *rod.Browser
	err      error
}

func (bp *browserProcess) get(bin string) (*rod.Browser, error) {
	bp.once.Do(func() {
		l := launcher.New().Bin(bin).
			Headless(true).
			NoSandbox(true).
			Leakless(false).
			Set(flags.Flag("disable-gpu")).
			Set(flags.Flag("disable-background-networking")).
			Set(flags.Flag("disable-component-update")).
			Set(flags.Flag("disable-sync")).
			Set(flags.Flag("no-first-run")).
			Set(flags.Flag("window-size"), "1280,900")
		u, err := l.Launch()
		if err != nil {
			l.Cleanup()
			bp.err = fmt.Errorf("launch %s: %w", bin, err)
			return
		}
		b := rod.New().ControlURL(u)
		if err := b.Connect(); err != nil {
			l.Kill()
			l.Cleanup()
			bp.err = fmt.Errorf("connect to %s: %w", bin, err)
			return
		}
		bp.launcher, bp.browser = l, b
	})
	return bp.browser, bp.err
}

// close ends Chromium and removes its profile directory.
func (bp *browserProcess) close() {
	if bp.browser == nil {
		return
	}
	_ = bp.browser.Close()
	bp.launcher.Kill()
	bp.launcher.Cleanup()
}

// browserContext opens a fresh incognito context of the shared browser for
// one test (no cookies or storage from other tests) and closes it, with its
// tabs, when the test ends.
func browserContext(t *testing.T) *rod.Browser {
	t.Helper()
	bin := browserRequire(t)
	b, err := sharedBrowser.get(bin)
	if err != nil {
		t.Fatal(err)
	}
	incognito, err := b.Incognito()
	if err != nil {
		t.Fatalf("open an incognito context: %v", err)
	}
	t.Cleanup(func() { _ = incognito.Close() })
	return incognito
}

// browserPage is one tab on the test app, with a deadline for the whole test.
type browserPage struct {
	t    *testing.T
	app  *testApp
	page *rod.Page
}

// browserOpen opens a tab in a fresh incognito context.
func browserOpen(t *testing.T, app *testApp) *browserPage {
	t.Helper()
	p, err := browserContext(t).Page(proto.TargetCreateTarget{})
	if err != nil {
		t.Fatalf("open tab: %v", err)
	}
	if err := (proto.EmulationSetDeviceMetricsOverride{Width: 1280, Height: 900, DeviceScaleFactor: 1}).Call(p); err != nil {
		t.Fatalf("set viewport: %v", err)
	}
	return &browserPage{t: t, app: app, page: p.Timeout(browserTestBudget)}
}

// fatal stops the test with what the page shows, so failures explain themselves.
func (bp *browserPage) fatal(format string, args ...any) {
	bp.t.Helper()
	state := "(page state unavailable)"
	if res, err := bp.page.Timeout(2 * time.Second).Eval(`() => location.pathname + location.search + " | " +
		document.body.innerText.replace(/\s+/g, " ").slice(0, 600)`); err == nil {
		state = res.Value.Str()
	}
	bp.t.Fatalf("%s\n  page: %s", fmt.Sprintf(format, args...), state)
}

// visit loads a path with a full navigation.
func (bp *browserPage) visit(path string) {
	bp.t.Helper()
	p := bp.page.Timeout(browserWaitBudget)
	if err := p.Navigate(bp.app.srv.URL + path); err != nil {
		bp.fatal("navigate to %s: %v", path, err)
	}
	if err := p.WaitLoad(); err != nil {
		bp.fatal("load %s: %v", path, err)
	}
}

// waitJS waits until js (a function of args) returns true.
func (bp *browserPage) waitJS(what, js string, args ...any) {
	bp.t.Helper()
	if err := bp.page.Timeout(browserWaitBudget).Wait(rod.Eval(js, args...)); err != nil {
		bp.fatal("waiting for %s: %v", what, err)
	}
}

// waitPath waits until the address bar's path matches re (htmx pushes it
// after a boosted swap).
func (bp *browserPage) waitPath(re string) {
	bp.t.Helper()
	bp.waitJS("path to match "+re, `(re) => new RegExp(re).test(location.pathname)`, re)
}

// waitText waits until the first element matching sel is visible and its
// text contains want.
func (bp *browserPage) waitText(sel, want string) {
	bp.t.Helper()
	bp.waitJS(fmt.Sprintf("%s to show %q", sel, want), `(sel, want) => {
		const e = document.querySelector(sel);
		return !!e && e.offsetParent !== null && e.textContent.includes(want);
	}`, sel, want)
}

// waitFlash waits for a toast containing want.
func (bp *browserPage) waitFlash(want string) {
	bp.t.Helper()
	bp.waitJS(fmt.Sprintf("a flash toast containing %q", want), `(want) =>
		[...document.querySelectorAll("[data-testid=flash], [data-testid=toast]")].some(e => e.textContent.includes(want))`, want)
}

func (bp *browserPage) eval(js string, args ...any) *proto.RuntimeRemoteObject {
	bp.t.Helper()
	res, err := bp.page.Timeout(browserWaitBudget).Eval(js, args...)
	if err != nil {
		bp.fatal("eval %s: %v", js, err)
	}
	return res
}

// text is the trimmed text of the first element matching sel, "" if none.
func (bp *browserPage) text(sel string) string {
	bp.t.Helper()
	return bp.eval(`(sel) => { const e = document.querySelector(sel); return e ? e.textContent.trim() : "" }`, sel).Value.Str()
}

// value is the current value of the input matching sel.
func (bp *browserPage) value(sel string) string {
	bp.t.Helper()
	return bp.eval(`(sel) => { const e = document.querySelector(sel); return e ? e.value : "<no element>" }`, sel).Value.Str()
}

func (bp *browserPage) element(sel string) *rod.Element {
	bp.t.Helper()
	el, err := bp.page.Timeout(browserWaitBudget).Element(sel)
	if err != nil {
		bp.fatal("find %s: %v", sel, err)
	}
	return el.Timeout(browserWaitBudget)
}

// click clicks the element like a user does.
func (bp *browserPage) click(sel string) {
	bp.t.Helper()
	if err := bp.element(sel).Click(proto.InputMouseButtonLeft, 1); err != nil {
		bp.fatal("click %s: %v", sel, err)
	}
}

// clickText clicks the first element matching sel whose text is exactly text.
func (bp *browserPage) clickText(sel, text string) {
	bp.t.Helper()
	el, err := bp.page.Timeout(browserWaitBudget).ElementR(sel, "^"+regexp.QuoteMeta(text)+"$")
	if err != nil {
		bp.fatal("find %s with text %q: %v", sel, text, err)
	}
	if err := el.Timeout(browserWaitBudget).Click(proto.InputMouseButtonLeft, 1); err != nil {
		bp.fatal("click %s %q: %v", sel, text, err)
	}
}

// typeInto replaces the field's content by typing text, as a user selecting
// everything in the field and typing over it.
func (bp *browserPage) typeInto(sel, text string) {
	bp.t.Helper()
	el := bp.element(sel)
	if err := el.SelectAllText(); err != nil {
		bp.fatal("select text in %s: %v", sel, err)
	}
	if err := el.Input(text); err != nil {
		bp.fatal("type into %s: %v", sel, err)
	}
	if got := bp.value(sel); got != text {
		bp.fatal("after typing %q into %s the field holds %q", text, sel, got)
	}
}

// screenshot saves the page as name.png under $STUDIO_SCREENSHOTS, if set.
func (bp *browserPage) screenshot(name string) {
	bp.t.Helper()
	dir := os.Getenv("STUDIO_SCREENSHOTS")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		bp.t.Fatalf("screenshot dir: %v", err)
	}
	png, err := bp.page.Timeout(browserWaitBudget).Screenshot(true, &proto.PageCaptureScreenshot{Format: proto.PageCaptureScreenshotFormatPng})
	if err != nil {
		bp.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		bp.t.Fatalf("save screenshot %s: %v", name, err)
	}
}

// signIn signs in through the form and lands on the organization list.
func (bp *browserPage) signIn(shot bool) {
	bp.t.Helper()
	bp.visit("/signin")
	bp.waitText("h1", "Sign in")
	if shot {
		bp.screenshot("signin")
	}
	bp.typeInto("#email", adminEmail)
	bp.typeInto("#password", adminPassword)
	bp.click("[data-testid=signin-submit]")
	// The administrator's authenticator app, as a person types its code.
	bp.waitPath(`^/signin/verify$`)
	code, _ := bp.app.totpCode(adminEmail)
	bp.typeInto("[data-testid=second-factor-code]", code)
	bp.click("[data-testid=second-factor-submit]")
	bp.waitPath(`^/$`)
	bp.waitText("[data-testid=org-link]", "Acme")
}

// openOrg goes from the organization list to the first organization's page.
func (bp *browserPage) openOrg() {
	bp.t.Helper()
	bp.clickText("[data-testid=org-link]", "Acme")
	bp.waitPath(`^/orgs/` + regexp.QuoteMeta(bp.app.org.ID) + `$`)
	bp.waitText("[data-testid=org-name]", "Acme")
}

// browserProjects lists every project of the first organization straight from the database.
func browserProjects(t *testing.T, app *testApp) []domain.Project {
	t.Helper()
	ps, err := app.store.ListProjects(context.Background(), domain.ProjectFilter{OrganizationID: app.org.ID}, domain.Cursor{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func browserProjectNames(ps []domain.Project) []string {
	var names []string
	for _, p := range ps {
		names = append(names, p.DisplayName)
	}
	return names
}

// browserConsole collects console errors, uncaught exceptions, browser log
// errors (CSP violations land there) and securitypolicyviolation events.
type browserConsole struct {
	mu   sync.Mutex
	errs []string
}

func (c *browserConsole) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, s)
}

func (c *browserConsole) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.errs...)
}

// watchConsole starts collecting before the next navigation.
func (bp *browserPage) watchConsole() *browserConsole {
	bp.t.Helper()
	c := &browserConsole{}
	if _, err := bp.page.EvalOnNewDocument(`document.addEventListener("securitypolicyviolation", (e) => {
		(window.__cspViolations = window.__cspViolations || []).push(e.violatedDirective + " blocked " + (e.blockedURI || "inline"));
	});`); err != nil {
		bp.fatal("install CSP listener: %v", err)
	}
	if err := (proto.LogEnable{}).Call(bp.page); err != nil {
		bp.fatal("enable log domain: %v", err)
	}
	wait := bp.page.EachEvent(
		func(e *proto.RuntimeConsoleAPICalled) {
			if e.Type != proto.RuntimeConsoleAPICalledTypeError && e.Type != proto.RuntimeConsoleAPICalledTypeWarning {
				return
			}
			var parts []string
			for _, a := range e.Args {
				if a.Description != "" {
					parts = append(parts, a.Description)
				} else {
					parts = append(parts, a.Value.String())
				}
			}
			c.add(fmt.Sprintf("console.%s: %s", e.Type, strings.Join(parts, " ")))
		},
		func(e *proto.RuntimeExceptionThrown) {
			msg := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
			c.add("uncaught exception: " + msg)
		},
		func(e *proto.LogEntryAdded) {
			if e.Entry.Level == proto.LogLogEntryLevelError || e.Entry.Level == proto.LogLogEntryLevelWarning {
				c.add(fmt.Sprintf("browser log %s (%s): %s %s", e.Entry.Level, e.Entry.Source, e.Entry.Text, e.Entry.URL))
			}
		},
	)
	go wait()
	return c
}

// cspViolations reads what the page's securitypolicyviolation listener saw.
func (bp *browserPage) cspViolations() []string {
	bp.t.Helper()
	var out []string
	for _, v := range bp.eval(`() => window.__cspViolations || []`).Value.Arr() {
		out = append(out, v.Str())
	}
	return out
}

func TestBrowserSignInCreateRenameProject(t *testing.T) {
	browserRequire(t)
	app := newApp(t)
	bp := browserOpen(t, app)

	bp.signIn(true)
	bp.openOrg()
	bp.waitText("[data-testid=project-table]", "Inventory")
	bp.screenshot("org")

	// Create a project from the organization page.
	bp.typeInto("[data-testid=new-project-name]", "Greenhouse")
	bp.click("[data-testid=create-project]")
	bp.waitPath(`^/projects/[^/]+$`)
	bp.waitText("[data-testid=project-name]", "Greenhouse")
	if got := bp.text("[data-testid=project-name]"); got != "Greenhouse" {
		bp.fatal("project name heading = %q, want Greenhouse", got)
	}
	bp.waitFlash("created")
	if got := bp.text("[data-testid=flash]"); !strings.Contains(got, "Greenhouse") {
		bp.fatal("flash = %q, want it to name the project", got)
	}
	id := strings.TrimPrefix(bp.eval(`() => location.pathname`).Value.Str(), "/projects/")
	if got := bp.text("[data-testid=project-id]"); got != id {
		bp.fatal("dashboard shows project id %q, URL has %q", got, id)
	}
	if got := bp.eval(`() => document.title`).Value.Str(); !strings.Contains(got, "Greenhouse") {
		bp.fatal("title after the boosted swap = %q, want the project's name", got)
	}
	bp.screenshot("project")

	p, err := app.store.ProjectByID(context.Background(), id)
	if err != nil {
		t.Fatalf("created project %s not in the database: %v", id, err)
	}
	if p.DisplayName != "Greenhouse" || p.OrganizationID != app.org.ID {
		t.Fatalf("database has %q in org %s, want Greenhouse in %s", p.DisplayName, p.OrganizationID, app.org.ID)
	}

	// Rename it on the General settings page.
	bp.click("[data-testid=menu-general]")
	bp.waitPath(`^/projects/` + regexp.QuoteMeta(id) + `/settings$`)
	bp.waitJS("the rename field", `() => !!document.querySelector("[data-testid=rename-input]")`)
	if got := bp.value("[data-testid=rename-input]"); got != "Greenhouse" {
		bp.fatal("rename field starts with %q, want Greenhouse", got)
	}
	if got := bp.eval(`() => document.querySelector("[data-testid=menu-general]").getAttribute("aria-current")`).Value.Str(); got != "page" {
		bp.fatal("General menu item aria-current = %q, want page", got)
	}
	bp.typeInto("[data-testid=rename-input]", "Greenhouse North")
	bp.click("[data-testid=rename-submit]")
	bp.waitFlash("renamed")
	bp.waitPath(`^/projects/` + regexp.QuoteMeta(id) + `/settings$`)
	if got := bp.value("[data-testid=rename-input]"); got != "Greenhouse North" {
		bp.fatal("rename field after saving = %q, want Greenhouse North", got)
	}
	if got := bp.text("[data-testid=project-switcher]"); !strings.Contains(got, "Greenhouse North") {
		bp.fatal("project switcher shows %q, want the new name", got)
	}
	bp.screenshot("settings")

	p, err = app.store.ProjectByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if p.DisplayName != "Greenhouse North" {
		t.Fatalf("database name after rename = %q, want Greenhouse North", p.DisplayName)
	}

	// The organization page lists it under its new name, beside the inventory project.
	bp.click("[data-testid=crumb-org]")
	bp.waitPath(`^/orgs/` + regexp.QuoteMeta(app.org.ID) + `$`)
	bp.waitText("[data-testid=project-table]", "Greenhouse North")
	rows := bp.eval(`() => [...document.querySelectorAll("[data-testid=project-row]")].map(r => {
		const link = r.querySelector("[data-testid=project-link]");
		return (link ? link.textContent.trim() : "?") + (r.querySelector("[data-testid=inventory-badge]") ? " [inventory]" : "");
	})`).Value.Arr()
	var got []string
	for _, r := range rows {
		got = append(got, r.Str())
	}
	if strings.Join(got, ", ") != "Greenhouse North, Inventory [inventory]" {
		bp.fatal("project rows = %q, want [Greenhouse North, Inventory [inventory]]", got)
	}
	if names := browserProjectNames(browserProjects(t, app)); strings.Join(names, ",") != "Greenhouse North,Inventory" {
		t.Fatalf("database projects = %q", names)
	}
}

func TestBrowserValidationKeepsInput(t *testing.T) {
	browserRequire(t)
	app := newApp(t)
	bp := browserOpen(t, app)
	bp.signIn(false)
	bp.openOrg()
	before := len(browserProjects(t, app))

	// Spaces pass the browser's required check but are empty after trimming.
	bp.typeInto("[data-testid=new-project-name]", "   ")
	bp.click("[data-testid=create-project]")
	bp.waitText("[data-testid=error-displayName]", "Enter a name")
	if got := bp.value("[data-testid=new-project-name]"); got != "   " {
		bp.fatal("name field after the error = %q, want the spaces typed", got)
	}
	if got := bp.eval(`() => document.querySelector("[data-testid=new-project-name]").getAttribute("aria-invalid")`).Value.Str(); got != "true" {
		bp.fatal("name field aria-invalid = %q, want true", got)
	}
	if got := bp.text("[data-testid=org-name]"); got != "Acme" {
		bp.fatal("after the error the page shows org %q, want the organization page again", got)
	}
	// The address bar keeps the organization page, so a reload shows it again.
	if got := bp.eval(`() => location.pathname`).Value.Str(); got != "/orgs/"+app.org.ID {
		bp.fatal("address bar after the failed create = %q, want the organization page", got)
	}

	// Too long: maxlength stops typing, so take it off as a script could.
	long := strings.Repeat("g", 101)
	bp.eval(`() => document.querySelector("[data-testid=new-project-name]").removeAttribute("maxlength")`)
	bp.typeInto("[data-testid=new-project-name]", long)
	bp.click("[data-testid=create-project]")
	bp.waitText("[data-testid=error-displayName]", "at most 100 characters")
	if got := bp.value("[data-testid=new-project-name]"); got != long {
		bp.fatal("name field after the error holds %d characters %q, want the 101 typed", len(got), got)
	}
	if ok := bp.eval(`() => { const e = document.querySelector("[data-testid=error-displayName]"); return e.offsetParent !== null && e.getBoundingClientRect().height > 0 }`).Value.Bool(); !ok {
		bp.fatal("the field error is not visible")
	}
	bp.screenshot("org-validation")

	if after := browserProjects(t, app); len(after) != before {
		t.Fatalf("projects in the database went from %d to %d: %q", before, len(after), browserProjectNames(after))
	}
}

func TestBrowserDeleteProjectNeedsTypedName(t *testing.T) {
	browserRequire(t)
	app := newApp(t)
	temp := app.addProject(app.org.ID, "Temp")
	bp := browserOpen(t, app)
	bp.signIn(false)

	bp.visit("/projects/" + temp.ID + "/settings")
	bp.waitText("h1", "General")
	bp.click("[data-testid=delete-link]")
	bp.waitPath(`^/projects/` + regexp.QuoteMeta(temp.ID) + `/delete$`)
	bp.waitText("h1", "Delete Temp?")
	bp.screenshot("delete")

	bp.typeInto("[data-testid=delete-confirm]", "temp")
	bp.click("[data-testid=delete-submit]")
	bp.waitText("[data-testid=error-confirm]", "Type the project's name exactly")
	if got := bp.value("[data-testid=delete-confirm]"); got != "temp" {
		bp.fatal("confirm field after the error = %q, want what was typed", got)
	}
	if _, err := app.store.ProjectByID(context.Background(), temp.ID); err != nil {
		t.Fatalf("project deleted although the wrong name was typed: %v", err)
	}

	bp.typeInto("[data-testid=delete-confirm]", "Temp")
	bp.click("[data-testid=delete-submit]")
	bp.waitPath(`^/orgs/` + regexp.QuoteMeta(app.org.ID) + `$`)
	bp.waitFlash("deleted")
	bp.waitText("[data-testid=org-name]", "Acme")
	if got := bp.text("[data-testid=project-table]"); strings.Contains(got, "Temp") {
		bp.fatal("project table still lists Temp: %q", got)
	}
	_, err := app.store.ProjectByID(context.Background(), temp.ID)
	if domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("after delete, ProjectByID = %v, want not found", err)
	}
}

func TestBrowserCSPNoConsoleErrors(t *testing.T) {
	browserRequire(t)
	app := newApp(t)
	app.addProject(app.org.ID, "Orchard")
	bp := browserOpen(t, app)
	bp.signIn(false)

	console := bp.watchConsole()
	bp.visit("/orgs/" + app.org.ID)
	bp.waitText("[data-testid=org-name]", "Acme")
	bp.waitJS("htmx to load", `() => typeof window.htmx === "object" && typeof window.htmx.version === "string"`)
	if v := bp.eval(`() => window.htmx.version`).Value.Str(); v != "2.0.11" {
		bp.fatal("htmx version = %q, want 2.0.11", v)
	}
	if got := bp.eval(`() => window.htmx.config.includeIndicatorStyles`).Value.Bool(); got {
		bp.fatal("htmx includeIndicatorStyles is on: the htmx-config meta tag was not read")
	}

	// htmx at work: live search swaps only the project list.
	bp.eval(`() => { window.__sameDocument = true }`)
	bp.typeInto("[data-testid=project-search]", "orch")
	bp.waitJS("the search to narrow the list", `() => {
		const rows = [...document.querySelectorAll("[data-testid=project-row]")];
		return rows.length === 1 && rows[0].textContent.includes("Orchard");
	}`)
	if !bp.eval(`() => window.__sameDocument === true`).Value.Bool() {
		bp.fatal("the search reloaded the page instead of swapping the list")
	}
	// A boosted link swaps the page without a reload.
	bp.clickText("[data-testid=project-link]", "Orchard")
	bp.waitPath(`^/projects/[^/]+$`)
	bp.waitText("[data-testid=project-name]", "Orchard")
	if !bp.eval(`() => window.__sameDocument === true`).Value.Bool() {
		bp.fatal("the boosted link reloaded the page instead of swapping it")
	}

	// Give late reports a moment to arrive.
	time.Sleep(300 * time.Millisecond)
	var problems []string
	problems = append(problems, console.list()...)
	for _, v := range bp.cspViolations() {
		problems = append(problems, "CSP violation: "+v)
	}
	if len(problems) > 0 {
		t.Fatalf("the browser reported %d problem(s):\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
}
