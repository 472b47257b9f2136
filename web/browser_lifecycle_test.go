package web_test

// Browser test of key rotation (issue 8): the rotate control on a key row,
// the one-time secret dialog of the new key, the old key's countdown and
// last use, and the password asked again after 15 minutes (the dialog that
// htmx puts over the page). Helpers carry a browserLC prefix.

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"studio/domain"
)

// browserLCKeyRow is the selector of a key's row.
func browserLCKeyRow(keyID string) string {
	return `[data-testid=key-row][data-key-id="` + keyID + `"]`
}

func TestBrowserRotateKey(t *testing.T) {
	browserRequire(t)
	ctx := context.Background()
	app := newApp(t)
	inv := browserSAInventory(t, app)
	sealer, _ := domain.NewSealer([]byte(browserSAServerKey))
	svc := domain.NewServiceAccounts(app.store, sealer, app.clock.Now, "d21s.com")
	adminUser, _ := app.store.UserByEmail(ctx, adminEmail)
	admin := domain.UserPrincipal(adminUser, "test")
	basic := true
	name := "Gateway"
	sa, err := svc.Create(ctx, admin, inv.ID, domain.ServiceAccountInput{DisplayName: &name, EnableBasicAuth: &basic})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SetProjectRole(ctx, admin, inv.ID, sa.ID, domain.RoleProjectUser); err != nil {
		t.Fatal(err)
	}
	old, oldSecret, err := svc.CreateKey(ctx, admin, inv.ID, sa.ID)
	if err != nil {
		t.Fatal(err)
	}
	// A program uses the old key: the row shows it.
	projectPath := "/v2/projects/" + inv.ID
	if r := apiCall(t, app, http.MethodGet, projectPath, apiBasic(old.ID, oldSecret), nil); r.status != http.StatusOK {
		t.Fatalf("old key before the rotation: %s", r)
	}

	bp := browserOpen(t, app)
	console := bp.watchConsole()
	keysWatch := browserSAWatchResponses(bp, "/rotate")
	bp.signIn(false)
	page := browserSAURL(inv.ID, sa.ID)
	bp.visit(page)
	bp.waitText(browserLCKeyRow(old.ID)+" [data-testid=key-last-used]", "Basic Auth")

	// Rotate with the default grace period of 24 hours.
	bp.click(browserLCKeyRow(old.ID) + " [data-testid=rotate-key]")
	bp.waitJS("the rotate form to open", `(sel) => { const f = document.querySelector(sel); return !!f && f.offsetParent !== null }`,
		browserLCKeyRow(old.ID)+" [data-testid=rotate-form]")
	if got := bp.value(browserLCKeyRow(old.ID) + " [data-testid=rotate-grace]"); got != "24h" {
		bp.fatal("default grace = %q, want 24h", got)
	}
	bp.screenshot("rotate-form")
	bp.click(browserLCKeyRow(old.ID) + " [data-testid=rotate-submit]")
	bp.waitText("#secret-title", "New key created")
	secret := bp.text("[data-testid=new-key-secret]")
	newID := bp.text("[data-testid=new-key-id]")
	if !browserSASecretRE.MatchString(secret) || !domain.ValidID(newID) || newID == old.ID {
		bp.fatal("rotation dialog: secret %q, key id %q", secret, newID)
	}
	if got := bp.text("[data-testid=rotated-note]"); !strings.Contains(got, old.ID) || !strings.Contains(got, "keeps working until") {
		bp.fatal("rotation note %q", got)
	}
	if got := bp.eval(`() => document.querySelector("[data-testid=secret-dialog]").getAttribute("hx-history")`).Value.Str(); got != "false" {
		bp.fatal("secret dialog hx-history = %q, want false", got)
	}
	if got := bp.eval(`() => location.pathname`).Value.Str(); got != page {
		bp.fatal("address after rotating = %q, want the account page", got)
	}
	// The old key's row: rotating, with the countdown and its last use.
	countdown := bp.text(browserLCKeyRow(old.ID) + " [data-testid=key-countdown]")
	if !regexp.MustCompile(`^stops working in (24 h 0 min|23 h 59 min)$`).MatchString(countdown) {
		bp.fatal("countdown %q", countdown)
	}
	if got := bp.text(browserLCKeyRow(old.ID) + " [data-testid=key-last-used]"); !strings.Contains(got, "Basic Auth") {
		bp.fatal("old key's last use %q", got)
	}
	if got := bp.text(browserLCKeyRow(newID) + " [data-testid=key-replaces]"); !strings.Contains(got, old.ID) {
		bp.fatal("new key row says %q, want the key it replaces", got)
	}
	bp.screenshot("rotate-dialog")
	for _, h := range keysWatch.list() {
		if h["cache-control"] != "no-store" {
			t.Errorf("rotate response Cache-Control %q, want no-store", h["cache-control"])
		}
	}
	// Both keys work during the grace period.
	if r := apiCall(t, app, http.MethodGet, projectPath, apiBasic(newID, secret), nil); r.status != http.StatusOK {
		t.Fatalf("new key: %s", r)
	}
	if r := apiCall(t, app, http.MethodGet, projectPath, apiBasic(old.ID, oldSecret), nil); r.status != http.StatusOK {
		t.Fatalf("old key in its grace period: %s", r)
	}
	bp.click("[data-testid=secret-done]")
	bp.waitJS("the secret dialog to close", `() => !document.querySelector("[data-testid=secret-dialog]")`)
	if strings.Contains(browserSAHTML(bp), secret) {
		bp.fatal("the secret is still in the page")
	}

	// 16 minutes after signing in, rotating the new key asks for the password
	// in a dialog over the page; once given, the rotation goes through.
	app.clock.Advance(16 * time.Minute)
	bp.visit(page)
	bp.waitText(browserLCKeyRow(old.ID)+" [data-testid=key-countdown]", "stops working in 23 h 4")
	bp.click(browserLCKeyRow(newID) + " [data-testid=rotate-key]")
	bp.waitJS("the rotate form to open", `(sel) => { const f = document.querySelector(sel); return !!f && f.offsetParent !== null }`,
		browserLCKeyRow(newID)+" [data-testid=rotate-form]")
	if err := bp.element(browserLCKeyRow(newID)+" [data-testid=rotate-grace]").Select([]string{"1 hour"}, true, "text"); err != nil {
		bp.fatal("choose 1 hour: %v", err)
	}
	bp.click(browserLCKeyRow(newID) + " [data-testid=rotate-submit]")
	bp.waitText("#reauth-title", "Confirm your password")
	if got := bp.eval(`() => document.querySelector("[data-testid=reauth-form] input[name=grace]").value`).Value.Str(); got != "1h" {
		bp.fatal("the confirm form carries grace %q, want 1h", got)
	}
	if n := len(browserSAKeys(t, app, sa.ID)); n != 2 {
		t.Fatalf("%d keys before the password was given, want 2", n)
	}
	bp.screenshot("reauth-dialog")
	bp.typeInto("[data-testid=reauth-password]", adminPassword)
	bp.click("[data-testid=reauth-submit]")
	bp.waitText("#secret-title", "New key created")
	third := bp.text("[data-testid=new-key-id]")
	if !domain.ValidID(third) || third == newID {
		bp.fatal("second rotation made key %q", third)
	}
	if got := bp.text(browserLCKeyRow(newID) + " [data-testid=key-countdown]"); !strings.Contains(got, "stops working in 1 h 0 min") && !strings.Contains(got, "59 min") {
		bp.fatal("countdown of the 1-hour grace %q", got)
	}
	if got := bp.eval(`() => document.querySelectorAll("[data-testid=reauth-dialog]").length`).Value.Int(); got != 0 {
		bp.fatal("%d confirm dialogs left on the page", got)
	}
	if html := browserSAHTML(bp); strings.Contains(html, adminPassword) {
		bp.fatal("the password is in the page")
	}
	for _, e := range console.list() {
		// Chromium asks for /favicon.ico after a full navigation; the console serves none.
		if !strings.Contains(e, "favicon.ico") {
			t.Errorf("browser console error: %s", e)
		}
	}
	if v := bp.cspViolations(); len(v) > 0 {
		t.Errorf("CSP violations: %v", v)
	}
}
