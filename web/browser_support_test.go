package web_test

import (
	"regexp"
	"strings"
	"testing"

	"studio/domain"
)

// browserSupportConfirm clicks sel, which asks in the console's confirm
// dialog (hx-confirm), accepts and returns the question asked.
func browserSupportConfirm(bp *browserPage, sel string) string {
	bp.t.Helper()
	return bp.confirmDialog(sel, true)
}

// TestBrowserSupportConsole: staff find an account, see a refused action
// keep the reason, lock the user after confirming, and read the global log.
func TestBrowserSupportConsole(t *testing.T) {
	browserRequire(t)
	w := newSupportWorld(t)
	bp := browserOpen(t, w.app)
	console := bp.watchConsole()

	bp.signIn(false)
	bp.click("[data-testid=support-link]")
	bp.waitPath(`^/support$`)
	bp.typeInto("[data-testid=support-search]", "dan")
	bp.click("[data-testid=support-search-form] button[type=submit]")
	bp.waitText("[data-testid=support-results]", w.user.Email)
	bp.screenshot("support-search")

	bp.clickText("[data-testid=support-result-link]", w.user.Email)
	bp.waitPath(`^/support/accounts/` + itoa(w.user.ID) + `$`)
	bp.waitText("[data-testid=account-email]", w.user.Email)

	// A too short reason: the server refuses it beside the field, keeping the text.
	bp.typeInto("[data-testid=lock-form] textarea[name=reason]", "abc")
	if q := browserSupportConfirm(bp, "[data-testid=lock]"); !strings.Contains(q, "Lock "+w.user.Email) {
		bp.fatal("confirm question = %q", q)
	}
	bp.waitText("[data-testid=lock-form] [data-testid=error-reason]", "at least 5 characters")
	if got := bp.value("[data-testid=lock-form] textarea[name=reason]"); got != "abc" {
		bp.fatal("reason after the refusal = %q, want abc", got)
	}
	if u := w.app.storedUser(w.user.ID); u.Locked {
		t.Fatal("locked with a too short reason")
	}

	bp.typeInto("[data-testid=lock-form] textarea[name=reason]", "Ticket 4711: account takeover reported")
	browserSupportConfirm(bp, "[data-testid=lock]")
	bp.waitFlash("is locked")
	bp.waitPath(`^/support/accounts/` + itoa(w.user.ID) + `$`)
	bp.waitText("[data-testid=account-locked]", "Locked")
	if u := w.app.storedUser(w.user.ID); !u.Locked {
		t.Fatal("user not locked in the database")
	}
	bp.screenshot("support-account-user")

	bp.visit("/support/accounts/" + w.sa.ID)
	bp.waitText("[data-testid=account-basic-auth]", "On")
	bp.screenshot("support-account-sa")

	bp.visit("/support/audit")
	// The newest entries are the views of the accounts just opened (support.view).
	bp.waitJS("a user.lock entry", `() => [...document.querySelectorAll("[data-testid=audit-row] [data-testid=audit-action]")].some(e => e.textContent === "user.lock")`)
	bp.waitText("[data-testid=audit-row] [data-testid=staff-badge]", "support staff")
	bp.waitText("[data-testid=audit-row] [data-testid=audit-reason]", "Ticket 4711")
	// Filter through the form: the URL keeps the filters.
	bp.typeInto("[data-testid=filter-action]", domain.ActionUserLock)
	bp.click("[data-testid=filter-apply]")
	bp.waitJS("the filter in the address", `() => location.search.includes("action=user.lock")`)
	bp.waitJS("only lock entries", `() => [...document.querySelectorAll("[data-testid=audit-action]")].every(e => e.textContent === "user.lock")`)
	bp.screenshot("support-audit")

	// The organization's own log shows staff entries too.
	bp.visit("/orgs/" + w.app.org.ID + "/audit")
	bp.waitText("[data-testid=audit-heading]", "Audit log")
	if got := bp.eval(`() => location.pathname`).Value.Str(); !regexp.MustCompile(`/audit$`).MatchString(got) {
		bp.fatal("path %q", got)
	}
	// The refused lock (422) is expected to be reported; anything else is a problem.
	var problems []string
	for _, e := range console.list() {
		if strings.Contains(e, "favicon.ico") || strings.Contains(e, "422") {
			continue
		}
		problems = append(problems, e)
	}
	for _, v := range bp.cspViolations() {
		problems = append(problems, "CSP violation: "+v)
	}
	if len(problems) > 0 {
		t.Fatalf("the browser reported %d problem(s):\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
}
