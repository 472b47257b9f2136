package web_test

// Browser test of members and invitations: an organization admin invites a
// new email into one project, changes a role inline and removes a member
// behind hx-confirm; the invited person opens the link in a second,
// incognito browser context, chooses a name and password, lands signed in
// and sees exactly the project granted. It reuses the helpers of
// browser_test.go; the helpers here carry a browserMem prefix.

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"studio/domain"

	"github.com/go-rod/rod"
)

// browserMemConfirm clicks sel, which opens a JavaScript confirm()
// (hx-confirm), accepts it and returns the question asked.
func browserMemConfirm(bp *browserPage, sel string) string {
	bp.t.Helper()
	return bp.confirmDialog(sel, true)
}

// browserMemSecondContext opens a tab in another incognito context of the
// same browser: no cookies shared with the first tab.
func browserMemSecondContext(bp *browserPage) *browserPage {
	bp.t.Helper()
	return browserOpen(bp.t, bp.app)
}

func browserMemRole(t *testing.T, app *testApp, projectID string, ref domain.AccountRef) domain.Role {
	t.Helper()
	m, err := app.store.ProjectMembership(context.Background(), projectID, ref)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return domain.RoleNone
	}
	if err != nil {
		t.Fatal(err)
	}
	return m.Role
}

func TestBrowserMemberInviteAcceptSeesOneProject(t *testing.T) {
	browserRequire(t)
	app := newApp(t)
	greenhouse := app.addProject(app.org.ID, "Greenhouse")
	app.addProject(app.org.ID, "Orchard")
	bob := app.addUser("bob@example.com", greenhouse.ID, domain.RoleProjectUser, "")
	carl := app.addUser("carl@example.com", greenhouse.ID, domain.RoleProjectUser, "")
	bobRef := domain.AccountRef{Type: domain.AccountUser, ID: itoa(bob.ID)}
	carlRef := domain.AccountRef{Type: domain.AccountUser, ID: itoa(carl.ID)}
	members := "/projects/" + greenhouse.ID + "/members"

	bp := browserOpen(t, app)
	console := bp.watchConsole()
	bp.signIn(false)
	bp.visit("/projects/" + greenhouse.ID)
	bp.click("[data-testid=menu-members]")
	bp.waitPath(`^` + regexp.QuoteMeta(members) + `$`)
	bp.waitText("h1", "Members")

	// Invite a new email as Project user.
	bp.typeInto("[data-testid=invite-email]", "newbie@example.com")
	if err := bp.element("[data-testid=invite-role]").Select([]string{"Project user"}, true, rod.SelectorTypeText); err != nil {
		bp.fatal("choose the role: %v", err)
	}
	bp.click("[data-testid=invite-submit]")
	bp.waitText("[data-testid=invite-link]", "/invite/")
	link := bp.text("[data-testid=invite-link]")
	if !regexp.MustCompile(`^http://studio\.test/invite/[0-9a-f]{64}$`).MatchString(link) {
		bp.fatal("invite link = %q", link)
	}
	bp.waitFlash("newbie@example.com is invited")
	if got := bp.eval(`() => location.pathname`).Value.Str(); got != members {
		bp.fatal("address bar after inviting = %q, want the members page", got)
	}
	bp.click("[data-testid=invite-done]")
	bp.waitJS("the invite dialog to close", `() => !document.querySelector("[data-testid=invite-dialog]")`)
	bp.waitJS("the pending row", `() => [...document.querySelectorAll("[data-testid=member-row]")].some(r =>
		r.textContent.includes("newbie@example.com") && r.querySelector("[data-testid=pending-badge]"))`)
	newbie, err := app.store.UserByEmail(context.Background(), "newbie@example.com")
	if err != nil || !newbie.Pending() {
		t.Fatalf("pending user: %+v %v", newbie, err)
	}
	newbieRef := domain.AccountRef{Type: domain.AccountUser, ID: itoa(newbie.ID)}
	if got := browserMemRole(t, app, greenhouse.ID, newbieRef); got != domain.RoleProjectUser {
		t.Fatalf("newbie's role = %q", got)
	}
	bp.screenshot("members")

	// Change bob's role inline: chosen, then saved; the row comes back with a toast.
	bobRow := `[data-testid=member-row][data-member="` + itoa(bob.ID) + `"]`
	bp.eval(`() => { window.__sameDocument = true }`)
	if err := bp.element(bobRow+" [data-testid=member-role-select]").Select([]string{"Project developer"}, true, rod.SelectorTypeText); err != nil {
		bp.fatal("choose bob's role: %v", err)
	}
	bp.click(bobRow + " [data-testid=member-role-save]")
	bp.waitFlash("bob@example.com is now Project developer")
	bp.waitJS("bob's row to show the new role", `(sel) => {
		const s = document.querySelector(sel + " [data-testid=member-role-select]");
		return !!s && s.options[s.selectedIndex].text === "Project developer";
	}`, bobRow)
	if got := browserMemRole(t, app, greenhouse.ID, bobRef); got != domain.RoleProjectDev {
		t.Fatalf("bob's role in the database = %q", got)
	}
	if !bp.eval(`() => window.__sameDocument === true`).Value.Bool() {
		bp.fatal("the role change reloaded the page")
	}

	// Remove carl behind hx-confirm: the row goes, the account stays.
	carlRow := `[data-testid=member-row][data-member="` + itoa(carl.ID) + `"]`
	question := browserMemConfirm(bp, carlRow+" [data-testid=remove-member]")
	if !strings.Contains(question, "The account itself stays") {
		bp.fatal("confirm question = %q", question)
	}
	bp.waitFlash("carl@example.com is no longer a member")
	bp.waitJS("carl's row to go", `(sel) => !document.querySelector(sel)`, carlRow)
	if got := browserMemRole(t, app, greenhouse.ID, carlRef); got != domain.RoleNone {
		t.Fatalf("carl's role in the database = %q", got)
	}
	if _, err := app.store.UserByID(context.Background(), carl.ID); err != nil {
		t.Fatalf("carl's account went with the membership: %v", err)
	}

	// The member's name opens the access overview (for an organization admin).
	bp.click(`[data-testid=member-row][data-member="` + itoa(newbie.ID) + `"] [data-testid=member-name]`)
	bp.waitPath(`/members/` + itoa(newbie.ID) + `/access$`)
	bp.waitText("[data-testid=access-email]", "newbie@example.com")
	roles := bp.eval(`() => [...document.querySelectorAll("[data-testid=access-row]")].map(r =>
		r.querySelector("[data-testid=access-project]").textContent.trim() + "=" +
		r.querySelector("[data-testid=access-role]").selectedOptions[0].text).join(", ")`).Value.Str()
	if roles != "Greenhouse=Project user, Inventory=No access, Orchard=No access" {
		bp.fatal("access overview = %q", roles)
	}
	bp.screenshot("access")

	// The organization admins page, from the organization page.
	bp.click("[data-testid=crumb-org]")
	bp.waitText("[data-testid=org-name]", "Acme")
	bp.click("[data-testid=org-admins-link]")
	bp.waitPath(`^/orgs/` + regexp.QuoteMeta(app.org.ID) + `/admins$`)
	bp.waitText("[data-testid=admin-table]", adminEmail)
	bp.screenshot("org-admins")

	// The invited person, in another browser context, opens the link.
	guest := browserMemSecondContext(bp)
	guest.visit(strings.TrimPrefix(link, "http://studio.test"))
	guest.waitText("[data-testid=invite-for]", "newbie@example.com")
	if guest.eval(`() => !!document.querySelector("[data-testid=invite-signed-in]")`).Value.Bool() {
		guest.fatal("the incognito context is told someone is signed in")
	}
	guest.typeInto("[data-testid=accept-name]", "Newbie Nakamura")
	guest.typeInto("[data-testid=accept-password]", "a long enough password")
	guest.typeInto("[data-testid=accept-confirm]", "a long enough password")
	guest.screenshot("invite-accept")
	guest.click("[data-testid=accept-submit]")
	// Accepting leads to the project the invitation was for.
	guest.waitPath(`^/projects/` + regexp.QuoteMeta(greenhouse.ID) + `$`)
	guest.waitFlash("Welcome to Studio, Newbie Nakamura")
	if got := guest.text("[data-testid=user-menu]"); got != "newbie@example.com" {
		guest.fatal("signed in as %q", got)
	}
	guest.click("[data-testid=crumb-org]")
	guest.waitPath(`^/orgs/` + regexp.QuoteMeta(app.org.ID) + `$`)
	guest.waitText("[data-testid=project-table]", "Greenhouse")
	projects := guest.eval(`() => [...document.querySelectorAll("[data-testid=project-row] [data-testid=project-link]")].map(a => a.textContent.trim()).join(",")`).Value.Str()
	if projects != "Greenhouse" {
		guest.fatal("the new member sees projects %q, want exactly Greenhouse", projects)
	}
	if guest.eval(`() => !!document.querySelector("[data-testid=org-admins-link]")`).Value.Bool() {
		guest.fatal("a project user sees the organization admins link")
	}
	guest.clickText("[data-testid=project-link]", "Greenhouse")
	guest.waitText("[data-testid=your-role]", "Project user")

	// The link works once.
	guest.visit(strings.TrimPrefix(link, "http://studio.test"))
	guest.waitText("[data-testid=invite-invalid]", "does not work")

	// The admin's list now shows the member accepted.
	bp.visit(members)
	bp.waitJS("newbie accepted", `() => [...document.querySelectorAll("[data-testid=member-row]")].some(r =>
		r.textContent.includes("Newbie Nakamura") && !r.querySelector("[data-testid=pending-badge]"))`)
	m, err := app.store.ProjectMembership(context.Background(), greenhouse.ID, newbieRef)
	if err != nil || m.Status != domain.StatusAccepted || m.Role != domain.RoleProjectUser {
		t.Fatalf("newbie's membership = %+v %v", m, err)
	}

	time.Sleep(200 * time.Millisecond)
	var problems []string
	for _, p := range console.list() {
		// Chromium asks for /favicon.ico after a full navigation; the console serves none.
		if !strings.Contains(p, "/favicon.ico") {
			problems = append(problems, p)
		}
	}
	for _, v := range bp.cspViolations() {
		problems = append(problems, "CSP violation: "+v)
	}
	if len(problems) > 0 {
		t.Fatalf("the admin's browser reported %d problem(s):\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
}
