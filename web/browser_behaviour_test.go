package web_test

// How the console behaves around its flows (issue 16): role pickers that
// change nothing until saved, dialogs that keep the focus, confirmations
// that name what goes, what the page shows after htmx changed part of it,
// toasts, and the folded menu of a phone.

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"studio/domain"

	"github.com/go-rod/rod/lib/input"
	"github.com/go-rod/rod/lib/proto"
)

// press sends one key to whatever has the focus.
func (bp *browserPage) press(k input.Key) {
	bp.t.Helper()
	if err := bp.page.Keyboard.Press(k); err != nil {
		bp.fatal("press %v: %v", k, err)
	}
}

// focus gives the element the focus, as Tab would.
func (bp *browserPage) focus(sel string) {
	bp.t.Helper()
	if err := bp.element(sel).Focus(); err != nil {
		bp.fatal("focus %s: %v", sel, err)
	}
}

// activeIn reports whether the focus is inside the first element matching sel.
func (bp *browserPage) activeIn(sel string) bool {
	bp.t.Helper()
	return bp.eval(`(sel) => { const e = document.querySelector(sel); return !!e && e.contains(document.activeElement) }`, sel).Value.Bool()
}

// activeTestID is the data-testid of the focused element ("" if none).
func (bp *browserPage) activeTestID() string {
	bp.t.Helper()
	return bp.eval(`() => document.activeElement ? (document.activeElement.getAttribute("data-testid") || "") : ""`).Value.Str()
}

func TestBrowserRolePickersChangeNothingUntilSaved(t *testing.T) {
	browserRequire(t)
	app := newApp(t)
	ctx := context.Background()
	proj := app.addProject(app.org.ID, "Greenhouse")
	bob := app.addUser("bob@example.com", proj.ID, domain.RoleProjectUser, "")
	bobRef := domain.AccountRef{Type: domain.AccountUser, ID: itoa(bob.ID)}
	admin := app.signedIn(adminEmail)
	saID := browserSACreate(t, admin, proj.ID, "Uploader")
	bp := browserOpen(t, app)
	bp.signIn(false)

	// The service account's role: ArrowDown on the focused select moves the
	// choice, and nothing is sent.
	bp.visit(browserSAURL(proj.ID, saID))
	bp.waitText("[data-testid=role-save]", "Save role")
	bp.focus("[data-testid=role-select]")
	bp.press(input.ArrowDown)
	bp.press(input.ArrowDown)
	bp.waitJS("the choice to move", `() => document.querySelector("[data-testid=role-select]").value !== ""`)
	bp.waitJS("the note that it is not saved", `() => !document.querySelector("[data-testid=role-unsaved]").hidden`)
	time.Sleep(500 * time.Millisecond)
	if _, err := app.store.ProjectMembership(ctx, proj.ID, browserSARef(saID)); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("arrow keys on the role select gave the account a membership (err %v)", err)
	}
	chosen := bp.value("[data-testid=role-select]")
	bp.click("[data-testid=role-save]")
	bp.waitFlash("Role in this project")
	m, err := app.store.ProjectMembership(ctx, proj.ID, browserSARef(saID))
	if err != nil || string(m.Role) != chosen {
		t.Fatalf("after Save the membership is %+v (err %v), want role %s", m, err, chosen)
	}

	// A member's role on the members page: the same.
	bp.visit("/projects/" + proj.ID + "/members")
	row := `[data-testid=member-row][data-member="` + itoa(bob.ID) + `"]`
	bp.waitText(row, "bob@example.com")
	bp.focus(row + " [data-testid=member-role-select]")
	bp.press(input.ArrowDown)
	bp.press(input.ArrowDown)
	bp.waitJS("bob's choice to move", `(sel) => document.querySelector(sel + " [data-testid=member-role-select]").value === "roles/project.admin"`, row)
	time.Sleep(500 * time.Millisecond)
	if got := browserMemRole(t, app, proj.ID, bobRef); got != domain.RoleProjectUser {
		t.Fatalf("arrow keys on bob's role select made him %q in the database", got)
	}
	if n := bp.eval(`() => document.querySelectorAll("[data-testid=toast], [data-testid=reauth-dialog]").length`).Value.Int(); n != 0 {
		bp.fatal("arrow keys on a role select sent a request (%d toast or dialog)", n)
	}
	bp.click(row + " [data-testid=member-role-save]")
	bp.waitFlash("bob@example.com is now Project admin")
	if got := browserMemRole(t, app, proj.ID, bobRef); got != domain.RoleProjectAdmin {
		t.Fatalf("after Save bob is %q in the database", got)
	}
}

// dialogLabelled checks that the open dialog matching sel is a modal dialog
// with a label that says something.
func (bp *browserPage) dialogLabelled(sel string) string {
	bp.t.Helper()
	res := bp.eval(`(sel) => {
		const d = document.querySelector(sel + ' [role=dialog], ' + sel + ' [role=alertdialog]');
		if (!d) return "no element with role dialog";
		if (d.getAttribute("aria-modal") !== "true") return "aria-modal is not true";
		const l = document.getElementById(d.getAttribute("aria-labelledby") || "");
		if (!l || !l.textContent.trim()) return "no label";
		return "";
	}`, sel).Value.Str()
	if res != "" {
		bp.fatal("dialog %s: %s", sel, res)
	}
	return ""
}

// tabStaysIn presses Tab and Shift+Tab more times than the dialog has
// controls, and fails when the focus ever leaves it.
func (bp *browserPage) tabStaysIn(sel string) {
	bp.t.Helper()
	for i := 0; i < 12; i++ {
		bp.press(input.Tab)
		if !bp.activeIn(sel) {
			bp.fatal("after %d Tab(s) the focus left %s for %s", i+1, sel, bp.activeTestID())
		}
	}
	for i := 0; i < 12; i++ {
		if err := bp.page.Keyboard.Type(input.ShiftLeft, input.Tab); err != nil {
			bp.fatal("shift+tab: %v", err)
		}
		_ = bp.page.Keyboard.Release(input.ShiftLeft)
		if !bp.activeIn(sel) {
			bp.fatal("after %d Shift+Tab(s) the focus left %s", i+1, sel)
		}
	}
}

func TestBrowserDialogsKeepAndReturnFocus(t *testing.T) {
	browserRequire(t)
	app := newApp(t)
	proj := app.addProject(app.org.ID, "Greenhouse")
	admin := app.signedIn(adminEmail)
	saID := browserSACreate(t, admin, proj.ID, "Uploader")
	browserSACreateKey(t, admin, proj.ID, saID, false)
	bp := browserOpen(t, app)
	bp.signIn(false)
	bp.visit(browserSAURL(proj.ID, saID))

	// The one-time secret: focus inside, Tab kept inside, Escape does not
	// close it; "I have saved it" does, and the focus goes back to the button.
	bp.click("[data-testid=create-key]")
	bp.waitText("[data-testid=new-key-secret]", "")
	bp.dialogLabelled("[data-testid=secret-dialog]")
	bp.waitJS("the focus in the secret dialog", `() => document.querySelector("[data-testid=secret-dialog]").contains(document.activeElement)`)
	bp.tabStaysIn("[data-testid=secret-dialog]")
	bp.press(input.Escape)
	time.Sleep(200 * time.Millisecond)
	if !bp.eval(`() => !!document.querySelector("[data-testid=secret-dialog]")`).Value.Bool() {
		bp.fatal("Escape closed the secret dialog before I have saved it")
	}
	bp.click("[data-testid=secret-done]")
	bp.waitJS("the secret dialog to close", `() => !document.querySelector("[data-testid=secret-dialog]")`)
	if got := bp.activeTestID(); got != "create-key" {
		bp.fatal("after the secret dialog the focus is on %q, want the create-key button", got)
	}

	// A confirmation: focus on Cancel, Tab kept inside, Escape cancels and
	// gives the focus back to what asked; nothing changes.
	bp.click("[data-testid=key-row] [data-testid=key-menu-button]")
	bp.click("[data-testid=key-row] [data-testid=disable-key]")
	bp.waitJS("the confirm dialog", `() => !!document.querySelector("[data-testid=confirm-dialog]")`)
	bp.dialogLabelled("[data-testid=confirm-dialog]")
	if got := bp.activeTestID(); got != "confirm-cancel" {
		bp.fatal("the confirm dialog's focus starts on %q, want Cancel", got)
	}
	if q := bp.text("[data-testid=confirm-title]"); !regexp.MustCompile(`^Disable key [0-9a-v]{20}\?$`).MatchString(q) {
		bp.fatal("confirm title %q does not name the key", q)
	}
	bp.tabStaysIn("[data-testid=confirm-dialog]")
	bp.press(input.Escape)
	bp.waitJS("the confirm dialog to close", `() => !document.querySelector("[data-testid=confirm-dialog]")`)
	if got := bp.activeTestID(); got != "disable-key" {
		bp.fatal("after Escape the focus is on %q, want the Disable button", got)
	}
	for _, k := range browserSAKeys(t, app, saID) {
		if !k.DisabledTime.IsZero() {
			t.Fatalf("key %s was disabled although the confirmation was cancelled", k.ID)
		}
	}

	// Re-authentication: a session signed in 16 minutes ago is asked for the
	// password before Basic Auth goes on; the dialog takes the focus on the
	// password, Escape closes it and the focus is back on the switch.
	app.clock.Advance(16 * time.Minute)
	bp.visit(browserSAURL(proj.ID, saID))
	bp.click("[data-testid=basic-toggle]")
	bp.waitJS("the re-authentication dialog", `() => !!document.querySelector("[data-testid=reauth-dialog]")`)
	bp.dialogLabelled("[data-testid=reauth-dialog]")
	bp.waitJS("the focus on the password", `() => document.activeElement && document.activeElement.getAttribute("data-testid") === "reauth-password"`)
	if got := bp.text("[data-testid=reauth-message]"); !strings.Contains(got, "You signed in more than 15 minutes ago") {
		bp.fatal("re-authentication message %q", got)
	}
	bp.tabStaysIn("[data-testid=reauth-dialog]")
	bp.press(input.Escape)
	bp.waitJS("the re-authentication dialog to close", `() => !document.querySelector("[data-testid=reauth-dialog]")`)
	if got := bp.activeTestID(); got != "basic-toggle" {
		bp.fatal("after the re-authentication dialog the focus is on %q, want the Basic Auth switch", got)
	}
	if app.storedServiceAccount(saID).EnableBasicAuth {
		t.Fatal("Basic Auth went on without the password")
	}

	// The invite link dialog: Escape closes it too.
	bp.visit("/projects/" + proj.ID + "/members")
	bp.typeInto("[data-testid=invite-email]", "newbie@example.com")
	bp.click("[data-testid=invite-submit]")
	bp.waitText("[data-testid=invite-link]", "/invite/")
	bp.dialogLabelled("[data-testid=invite-dialog]")
	bp.waitJS("the focus in the invite dialog", `() => document.querySelector("[data-testid=invite-dialog]").contains(document.activeElement)`)
	bp.press(input.Escape)
	bp.waitJS("the invite dialog to close", `() => !document.querySelector("[data-testid=invite-dialog]")`)
}

func TestBrowserBulkConfirmationNamesWhatGoes(t *testing.T) {
	browserRequire(t)
	app := newApp(t)
	proj := app.addProject(app.org.ID, "Greenhouse")
	admin := app.signedIn(adminEmail)
	ci := browserSACreate(t, admin, proj.ID, "CI robot")
	nightly := browserSACreate(t, admin, proj.ID, "Nightly")
	browserSASetRole(t, admin, proj.ID, ci, domain.RoleProjectAdmin)
	browserSASetRole(t, admin, proj.ID, nightly, domain.RoleProjectAdmin)
	// Memberships elsewhere: CI robot in two more projects, Nightly as organization admin.
	for _, name := range []string{"Orchard", "Barn"} {
		other := app.addProject(app.org.ID, name)
		if r := admin.post("/projects/"+other.ID+"/members", url.Values{"email": {app.storedServiceAccount(ci).Email}, "role": {string(domain.RoleProjectUser)}}); r.status != 303 {
			t.Fatalf("add CI robot to %s: status %d", name, r.status)
		}
	}
	if r := admin.post("/orgs/"+app.org.ID+"/admins", url.Values{"email": {app.storedServiceAccount(nightly).Email}}); r.status != 303 {
		t.Fatalf("make Nightly organization admin: status %d", r.status)
	}
	browserSACreateKey(t, admin, proj.ID, ci, false)
	browserSACreateKey(t, admin, proj.ID, ci, false)
	browserSACreateKey(t, admin, proj.ID, nightly, false)

	bp := browserOpen(t, app)
	bp.signIn(false)
	bp.visit("/orgs/" + app.org.ID + "/hygiene?list=admin-accounts")
	bp.waitText("[data-testid=hygiene-table]", "Nightly")
	for _, id := range []string{ci, nightly} {
		bp.click("[data-testid=hygiene-row][data-id='" + id + "'] [data-testid=hygiene-select]")
	}
	q := bp.confirmDialog("[data-testid=bulk-delete-accounts]", false)
	// The names come in the list's order (by id, which differs from run to run).
	want := regexp.MustCompile(`^Delete 2 service accounts: (CI robot, Nightly|Nightly, CI robot) — with 3 keys and 5 memberships\? `)
	if !want.MatchString(q) {
		bp.fatal("confirmation %q, want it to match %s", q, want)
	}
	if app.storedServiceAccount(ci).DisplayName != "CI robot" {
		t.Fatal("CI robot is gone although the confirmation was cancelled")
	}
	bp.confirmDialog("[data-testid=bulk-delete-accounts]", true)
	bp.waitFlash("2 service accounts deleted")
	for _, id := range []string{ci, nightly} {
		if _, err := app.store.ServiceAccountByID(context.Background(), id); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Fatalf("service account %s still there after the confirmed delete (err %v)", id, err)
		}
	}
}

func TestBrowserStaleLastAdminErrorGoesWithTheNextRevoke(t *testing.T) {
	browserRequire(t)
	app := newApp(t)
	admin := app.signedIn(adminEmail)
	robot := browserSACreate(t, admin, browserSAInventory(t, app).ID, "Robot")
	if r := admin.post("/orgs/"+app.org.ID+"/admins", url.Values{"email": {app.storedServiceAccount(robot).Email}}); r.status != 303 {
		t.Fatalf("make Robot organization admin: status %d", r.status)
	}
	bp := browserOpen(t, app)
	bp.signIn(false)
	bp.visit("/orgs/" + app.org.ID + "/admins")
	me := `[data-testid=admin-row][data-member="1"]`
	bp.confirmDialog(me+" [data-testid=revoke-admin]", true)
	bp.waitText(me+" [data-testid=row-error]", "last admin who is a person")

	bp.confirmDialog(`[data-testid=admin-row][data-member="`+robot+`"] [data-testid=revoke-admin]`, true)
	bp.waitFlash("no longer an organization admin")
	bp.waitJS("Robot's row to go", `(id) => !document.querySelector('[data-testid=admin-row][data-member="' + id + '"]')`, robot)
	if n := bp.eval(`() => document.querySelectorAll("[data-testid=row-error], [data-testid=admins-error]").length`).Value.Int(); n != 0 {
		bp.fatal("the earlier refusal still shows (%d) after another revoke", n)
	}
}

func TestBrowserRenameUpdatesTheTabTitle(t *testing.T) {
	browserRequire(t)
	app := newApp(t)
	proj := app.addProject(app.org.ID, "Greenhouse")
	saID := browserSACreate(t, app.signedIn(adminEmail), proj.ID, "Uploader")
	bp := browserOpen(t, app)
	bp.signIn(false)
	bp.visit(browserSAURL(proj.ID, saID))
	if got := bp.eval(`() => document.title`).Value.Str(); !strings.HasPrefix(got, "Uploader ") {
		bp.fatal("title %q", got)
	}
	bp.eval(`() => { window.__sameDocument = true }`)
	bp.typeInto("[data-testid=sa-name-input]", "Night uploader")
	bp.click("[data-testid=sa-name-save]")
	bp.waitFlash("Renamed to")
	bp.waitJS("the title to follow the name", `() => document.title === "Night uploader · Studio"`)
	if !bp.eval(`() => window.__sameDocument === true`).Value.Bool() {
		bp.fatal("the rename reloaded the page")
	}
}

func TestBrowserAcceptedInviteLeavesTheInviteAddress(t *testing.T) {
	browserRequire(t)
	app := newApp(t)
	proj := app.addProject(app.org.ID, "Greenhouse")
	admin := app.signedIn(adminEmail)
	r := admin.post("/projects/"+proj.ID+"/members", url.Values{"email": {"newbie@example.com"}, "role": {string(domain.RoleProjectUser)}})
	link := strings.TrimPrefix(strings.TrimSpace(r.doc.Find("[data-testid=invite-link]").Text()), "http://studio.test")
	if !strings.HasPrefix(link, "/invite/") {
		t.Fatalf("no invite link: status %d", r.status)
	}
	bp := browserOpen(t, app)
	bp.visit(link)
	bp.typeInto("[data-testid=accept-name]", "Newbie")
	bp.typeInto("[data-testid=accept-password]", "a long enough passphrase")
	bp.typeInto("[data-testid=accept-confirm]", "a long enough passphrase")
	bp.click("[data-testid=accept-submit]")
	bp.waitPath(`^/projects/` + regexp.QuoteMeta(proj.ID) + `$`)
	bp.waitText("[data-testid=project-name]", "Greenhouse")
	// A reload shows the project, not "This invite link does not work".
	if err := bp.page.Reload(); err != nil {
		bp.fatal("reload: %v", err)
	}
	bp.waitText("[data-testid=project-name]", "Greenhouse")
}

func TestBrowserKeyExpiringWhileThePageIsOpen(t *testing.T) {
	browserRequire(t)
	app := newApp(t)
	ctx := context.Background()
	proj := app.addProject(app.org.ID, "Greenhouse")
	admin := app.signedIn(adminEmail)
	saID := browserSACreate(t, admin, proj.ID, "Uploader")
	browserSACreateKey(t, admin, proj.ID, saID, false)
	k := browserSAKeys(t, app, saID)[0]
	// The test clock runs with the wall clock here, as the browser's does.
	k.ExpireTime = time.Now().Add(4 * time.Second)
	if err := app.store.Update(ctx, func(tx domain.Tx) error { return tx.UpdateKeyLifecycle(ctx, k) }); err != nil {
		t.Fatal(err)
	}
	bp := browserOpen(t, app)
	bp.signIn(false)
	bp.visit(browserSAURL(proj.ID, saID))
	bp.waitText("[data-testid=key-state]", "active")
	if got := bp.text("[data-testid=key-expiry]"); !strings.Contains(got, "expires in less than a minute") {
		bp.fatal("key expiry %q", got)
	}
	bp.eval(`() => { window.__sameDocument = true }`)
	app.clock.Advance(30 * time.Second)
	bp.waitJS("the key to show expired without a reload", `() => {
		const s = document.querySelector("[data-testid=key-state]");
		return !!s && s.textContent.includes("expired") && !s.textContent.includes("active");
	}`)
	if got := bp.eval(`() => document.querySelector("[data-testid=key-row]").dataset.state`).Value.Str(); got != string(domain.KeyExpired) {
		bp.fatal("key row state %q, want expired", got)
	}
	if !bp.eval(`() => window.__sameDocument === true`).Value.Bool() {
		bp.fatal("the page reloaded instead of fetching the key list")
	}
}

func TestBrowserToastsWrapAndStayWhileHovered(t *testing.T) {
	browserRequire(t)
	app := newApp(t)
	proj := app.addProject(app.org.ID, "Greenhouse")
	long := "firstname.middlename.lastname.contractor@operations.subsidiary-example.com"
	app.addUser(long, "", "", "")
	bp := browserOpen(t, app)
	bp.signIn(false)
	bp.setView(uxViews[0])
	bp.visit("/projects/" + proj.ID + "/members")
	bp.typeInto("[data-testid=invite-email]", long)
	bp.click("[data-testid=invite-submit]")
	bp.waitFlash("is now a member")
	toast := "[data-testid=flash]"
	if over := bp.eval(`(sel) => {
		const t = document.querySelector(sel).closest(".toast"), r = t.getBoundingClientRect();
		return Math.max(0, Math.ceil(r.right - document.documentElement.clientWidth)) + Math.max(0, t.scrollWidth - t.clientWidth);
	}`, toast).Value.Int(); over > 0 {
		bp.fatal("the toast sticks out or clips by %d px at 390 px", over)
	}
	if err := bp.element(toast).Hover(); err != nil {
		bp.fatal("hover the toast: %v", err)
	}
	time.Sleep(7 * time.Second)
	if bp.text(toast) == "" {
		bp.fatal("the toast went while pointed at")
	}
	// Pointed away but focused (its close button), it stays too.
	bp.focus(".toast [data-toast-close]")
	if err := bp.page.Mouse.MoveTo(proto.Point{X: 5, Y: 5}); err != nil {
		bp.fatal("move the mouse away: %v", err)
	}
	time.Sleep(7 * time.Second)
	if bp.text(toast) == "" {
		bp.fatal("the toast went while focused")
	}
	bp.focus("[data-testid=invite-email]")
	bp.waitJS("the toast to fade once left alone", `() => !document.querySelector("[data-testid=flash]")`)
}

func TestBrowserPhoneMenuFoldsAndSignsOut(t *testing.T) {
	browserRequire(t)
	app := newApp(t)
	proj := app.addProject(app.org.ID, "Greenhouse")
	bp := browserOpen(t, app)
	bp.signIn(false)
	bp.setView(uxViews[0])
	bp.visit("/projects/" + proj.ID)
	visible := func(sel string) bool {
		return bp.eval(`(sel) => { const e = document.querySelector(sel); return !!e && e.offsetParent !== null && e.getBoundingClientRect().width > 0 }`, sel).Value.Bool()
	}
	if visible("[data-testid=user-menu]") || visible("[data-testid=menu-members]") {
		bp.fatal("at 390 px the menus show before the Menu button is pressed")
	}
	if got := bp.eval(`() => document.querySelector("[data-testid=menu-toggle]").getAttribute("aria-expanded")`).Value.Str(); got != "false" {
		bp.fatal("Menu aria-expanded = %q", got)
	}
	bp.click("[data-testid=menu-toggle]")
	if !visible("[data-testid=user-menu]") || !visible("[data-testid=menu-members]") {
		bp.fatal("the Menu button did not unfold the menus")
	}
	if got := bp.eval(`() => document.querySelector("[data-testid=menu-toggle]").getAttribute("aria-expanded")`).Value.Str(); got != "true" {
		bp.fatal("Menu aria-expanded = %q after opening", got)
	}
	bp.click("[data-testid=user-menu]")
	bp.click("[data-testid=signout]")
	bp.waitPath(`^/signin$`)
	// At 1280 px the menus show without the button.
	bp.setView(uxViews[2])
	bp.signIn(false)
	bp.visit("/projects/" + proj.ID)
	if visible("[data-testid=menu-toggle]") || !visible("[data-testid=user-menu]") || !visible("[data-testid=menu-members]") {
		bp.fatal("at 1280 px the menus are folded")
	}
}
