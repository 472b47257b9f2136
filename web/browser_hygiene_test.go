package web_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"studio/domain"
)

// TestBrowserHygieneBulkDisableAndDelete: an organization admin opens the
// credential hygiene view, selects 2 of 3 unused keys and disables them with
// one confirmation, deletes them the same way, then deletes 2 of 3 service
// accounts without a key: each time exactly the selected change, in the
// list and in the database.
func TestBrowserHygieneBulkDisableAndDelete(t *testing.T) {
	browserRequire(t)
	ctx := context.Background()
	app := newApp(t)
	inv := app.inventory()
	now := app.clock.Now()
	uploader := app.hygSA(inv, "Uploader", false)
	app.addMembership(uploader.Ref(), app.org.ID, inv.ID, domain.RoleProjectUser)
	var keys []domain.Key
	for i := 0; i < 3; i++ {
		keys = append(keys, app.hygKey(uploader, now.Add(-time.Duration(120+i)*hygDay), time.Time{}))
	}
	idle := map[string]domain.ServiceAccount{}
	for _, name := range []string{"Idle one", "Idle two", "Idle three"} {
		idle[name] = app.hygSA(inv, name, false)
	}

	bp := browserOpen(t, app)
	console := bp.watchConsole()
	bp.signIn(false)
	bp.openOrg()
	bp.click("[data-testid=hygiene-link]")
	bp.waitPath(`^/orgs/` + regexp.QuoteMeta(app.org.ID) + `/hygiene$`)
	bp.waitText("[data-testid=hygiene-heading]", "Credential hygiene")
	bp.waitText("[data-testid=hygiene-table]", keys[0].ID)
	rows := func() []string {
		var ids []string
		for _, v := range bp.eval(`() => [...document.querySelectorAll("[data-testid=hygiene-row]")].map(r => r.dataset.id)`).Value.Arr() {
			ids = append(ids, v.Str())
		}
		return ids
	}
	// Longest unused first.
	if got := strings.Join(rows(), ","); got != keys[2].ID+","+keys[1].ID+","+keys[0].ID {
		bp.fatal("rows %s, want the three keys, oldest first", got)
	}
	check := func(id string) {
		bp.click("[data-testid=hygiene-row][data-id='" + id + "'] [data-testid=hygiene-select]")
	}
	bp.eval(`() => { window.__sameDocument = true }`)

	// Disable 2 of 3: one confirmation, then they show as disabled.
	check(keys[0].ID)
	check(keys[1].ID)
	if q := browserSupportConfirm(bp, "[data-testid=bulk-disable-keys]"); !strings.Contains(q, "Disable the selected keys") {
		bp.fatal("confirm question %q", q)
	}
	bp.waitFlash("2 keys disabled.")
	bp.waitJS("two keys marked disabled", `() => document.querySelectorAll("[data-testid=hygiene-key-state]").length === 2`)
	for i, k := range keys {
		got, err := app.store.KeyByID(ctx, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		if disabled := !got.DisabledTime.IsZero(); disabled != (i < 2) {
			t.Fatalf("key %d disabled = %v in the database", i, disabled)
		}
	}
	bp.screenshot("hygiene-disabled")

	// Delete the two disabled keys: gone from the list and the database.
	check(keys[0].ID)
	check(keys[1].ID)
	if q := browserSupportConfirm(bp, "[data-testid=bulk-delete-keys]"); !strings.Contains(q, "Delete the selected keys") {
		bp.fatal("confirm question %q", q)
	}
	bp.waitFlash("2 keys deleted.")
	bp.waitJS("one row left", `() => document.querySelectorAll("[data-testid=hygiene-row]").length === 1`)
	if got := rows(); len(got) != 1 || got[0] != keys[2].ID {
		bp.fatal("rows after the delete %v, want only %s", got, keys[2].ID)
	}
	for i, k := range keys {
		_, err := app.store.KeyByID(ctx, k.ID)
		if gone := domain.ErrorCode(err) == domain.ENOTFOUND; gone != (i < 2) {
			t.Fatalf("key %d gone = %v in the database (err %v)", i, gone, err)
		}
	}

	// Service accounts without a key: delete 2 of 3.
	bp.click("[data-testid=hygiene-tab-no-keys]")
	bp.waitJS("the no-key list", `() => location.search.includes("list=no-keys") &&
		document.querySelectorAll("[data-testid=hygiene-row]").length === 3`)
	check(idle["Idle one"].ID)
	check(idle["Idle two"].ID)
	if q := browserSupportConfirm(bp, "[data-testid=bulk-delete-accounts]"); !strings.Contains(q, "Delete the selected service accounts") {
		bp.fatal("confirm question %q", q)
	}
	bp.waitFlash("2 service accounts deleted")
	bp.waitJS("one account left", `() => document.querySelectorAll("[data-testid=hygiene-row]").length === 1`)
	if got := bp.text("[data-testid=hygiene-table]"); !strings.Contains(got, "Idle three") || strings.Contains(got, "Idle one") || strings.Contains(got, "Idle two") {
		bp.fatal("the list after the delete shows %q", got)
	}
	for name, sa := range idle {
		_, err := app.store.ServiceAccountByID(ctx, sa.ID)
		if gone := domain.ErrorCode(err) == domain.ENOTFOUND; gone != (name != "Idle three") {
			t.Fatalf("%s gone = %v in the database (err %v)", name, gone, err)
		}
	}
	if _, err := app.store.ServiceAccountByID(ctx, uploader.ID); err != nil {
		t.Fatalf("the uploader went too: %v", err)
	}
	if !bp.eval(`() => window.__sameDocument === true`).Value.Bool() {
		bp.fatal("the actions reloaded the page instead of swapping the list")
	}
	bp.screenshot("hygiene")

	// One audit entry per object changed: 2 disabled, 2 keys and 2 accounts deleted.
	counts := map[string]int{}
	for _, a := range app.auditActions(app.org.ID) {
		counts[a]++
	}
	if counts[domain.ActionKeyDisable] != 2 || counts[domain.ActionKeyDelete] != 2 || counts[domain.ActionServiceAccountDelete] != 2 {
		t.Fatalf("audit actions %v", counts)
	}

	time.Sleep(300 * time.Millisecond)
	var problems []string
	for _, e := range console.list() {
		if strings.Contains(e, "favicon.ico") {
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
