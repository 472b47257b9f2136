package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"studio/domain"

	"github.com/PuerkitoBio/goquery"
)

// supportWorld is a platform with accounts spread over two organizations,
// for the support console tests.
type supportWorld struct {
	app       *testApp
	proj      domain.Project // in Acme
	otherOrg  domain.Organization
	otherProj domain.Project // in otherOrg
	user      domain.User    // developer in proj, user in otherProj
	orgAdmin  domain.User    // Acme's organization admin, not staff
	projAdmin domain.User    // project admin of proj, not staff
	sa        domain.ServiceAccount
	key       domain.Key
}

func newSupportWorld(t *testing.T) *supportWorld {
	t.Helper()
	app := newApp(t)
	w := &supportWorld{app: app}
	w.proj = app.addProject(app.org.ID, "Field sensors")
	w.otherOrg, _ = app.addOrg("Globex", "globex-admin@example.com")
	w.otherProj = app.addProject(w.otherOrg.ID, "Globex weather")
	w.user = app.addUser("dana@example.com", w.proj.ID, domain.RoleProjectDev, "")
	app.addMembership(userRef(w.user), w.otherOrg.ID, w.otherProj.ID, domain.RoleProjectUser)
	w.orgAdmin = app.addUser("acme-admin@example.com", "", "", app.org.ID)
	w.projAdmin = app.addUser("proj-admin@example.com", w.proj.ID, domain.RoleProjectAdmin, "")
	w.sa = app.addServiceAccount(w.proj, "Exporter")
	app.addMembership(w.sa.Ref(), app.org.ID, w.proj.ID, domain.RoleProjectDev)
	app.addMembership(w.sa.Ref(), w.otherOrg.ID, w.otherProj.ID, domain.RoleProjectUser)
	app.addMembership(w.sa.Ref(), w.otherOrg.ID, "", domain.RoleOrgAdmin)
	w.key = app.addKey(w.sa)
	app.setBasicAuth(w.sa, true)
	return w
}

func userRef(u domain.User) domain.AccountRef {
	return domain.AccountRef{Type: domain.AccountUser, ID: itoa(u.ID)}
}

func supportAccountPath(memberID string) string { return "/support/accounts/" + memberID }

// addMembership gives an account an accepted role in a project, or in an
// organization when projectID is "".
func (a *testApp) addMembership(ref domain.AccountRef, orgID, projectID string, role domain.Role) {
	a.t.Helper()
	ctx := context.Background()
	m := domain.Membership{OrganizationID: orgID, ProjectID: projectID, Account: ref, Role: role, Status: domain.StatusAccepted, CreateTime: a.clock.Now()}
	if err := a.store.Update(ctx, func(tx domain.Tx) error { return tx.CreateMembership(ctx, &m) }); err != nil {
		a.t.Fatal(err)
	}
}

// addKey stores a key for the account (its secret does not matter here).
func (a *testApp) addKey(sa domain.ServiceAccount) domain.Key {
	a.t.Helper()
	ctx := context.Background()
	k := domain.Key{ID: domain.NewID(a.clock.Now()), ServiceAccountID: sa.ID, Sealed: []byte("sealed"), CreateTime: a.clock.Now()}
	if err := a.store.Update(ctx, func(tx domain.Tx) error { return tx.CreateKey(ctx, k) }); err != nil {
		a.t.Fatal(err)
	}
	return k
}

func (a *testApp) setBasicAuth(sa domain.ServiceAccount, on bool) {
	a.t.Helper()
	ctx := context.Background()
	sa.EnableBasicAuth = on
	if err := a.store.Update(ctx, func(tx domain.Tx) error { return tx.UpdateServiceAccount(ctx, sa) }); err != nil {
		a.t.Fatal(err)
	}
}

// supportState is everything a support action can change, read from the database.
type supportState struct {
	userMemberships, saMemberships int
	keys                           int
	basicAuth, locked              bool
	audit                          int
}

func (w *supportWorld) state() supportState {
	w.app.t.Helper()
	ctx := context.Background()
	st := w.app.store
	um, err := st.AccountMemberships(ctx, userRef(w.user), 1000)
	if err != nil {
		w.app.t.Fatal(err)
	}
	sm, err := st.AccountMemberships(ctx, w.sa.Ref(), 1000)
	if err != nil {
		w.app.t.Fatal(err)
	}
	keys, err := st.CountKeys(ctx, w.sa.ID)
	if err != nil {
		w.app.t.Fatal(err)
	}
	sa, err := st.ServiceAccountByID(ctx, w.sa.ID)
	if err != nil {
		w.app.t.Fatal(err)
	}
	u, err := st.UserByID(ctx, w.user.ID)
	if err != nil {
		w.app.t.Fatal(err)
	}
	entries, err := st.ListAudit(ctx, domain.AuditFilter{}, 0, 100000)
	if err != nil {
		w.app.t.Fatal(err)
	}
	return supportState{len(um), len(sm), keys, sa.EnableBasicAuth, u.Locked, len(entries)}
}

// supportPost is one staff action: its path and form, without the reason.
type supportPost struct {
	name string
	path string
	form url.Values
}

func (w *supportWorld) posts() []supportPost {
	user, sa := supportAccountPath(itoa(w.user.ID)), supportAccountPath(w.sa.ID)
	return []supportPost{
		{"remove membership", user + "/memberships/remove", url.Values{"org": {w.app.org.ID}, "project": {w.proj.ID}}},
		{"remove org membership", sa + "/memberships/remove", url.Values{"org": {w.otherOrg.ID}, "project": {""}}},
		{"remove all", user + "/remove-all", url.Values{}},
		{"delete key", sa + "/keys/" + w.key.ID + "/delete", url.Values{}},
		{"basic auth off", sa + "/basic-auth-off", url.Values{}},
		{"lock", user + "/lock", url.Values{}},
		{"unlock", user + "/unlock", url.Values{}},
	}
}

func withReason(form url.Values, reason string) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = v
	}
	out.Set("reason", reason)
	return out
}

// TestSupportRefusesNonStaff: people who are not support staff, however
// much they administer, get the friendly 404 on every support route, GET
// and POST, and nothing changes.
func TestSupportRefusesNonStaff(t *testing.T) {
	w := newSupportWorld(t)
	before := w.state()
	gets := []string{"/support", "/support?q=dana", "/support/audit", "/support/audit?since=bad",
		supportAccountPath(itoa(w.user.ID)), supportAccountPath(w.sa.ID), supportAccountPath("999999"), supportAccountPath("nonsense")}
	for _, email := range []string{w.orgAdmin.Email, w.projAdmin.Email, w.user.Email, "globex-admin@example.com"} {
		t.Run(email, func(t *testing.T) {
			c := w.app.signedIn(email)
			if r := c.get("/"); r.doc.Find("[data-testid=support-link]").Length() != 0 {
				t.Error("the Support link shows to someone who is not staff")
			}
			for _, path := range gets {
				r := c.get(path)
				if r.status != http.StatusNotFound || r.doc.Find("[data-testid=error-page]").Length() != 1 {
					t.Errorf("GET %s: status %d, want the 404 page", path, r.status)
				}
				if (email != w.user.Email && strings.Contains(r.body, w.user.Email)) || strings.Contains(r.body, w.sa.Email) {
					t.Errorf("GET %s leaks an account", path)
				}
			}
			for _, p := range w.posts() {
				if r := c.post(p.path, withReason(p.form, "Because I say so")); r.status != http.StatusNotFound {
					t.Errorf("POST %s (%s): status %d, want 404", p.path, p.name, r.status)
				}
				if r := c.htmxPost(p.path, withReason(p.form, "Because I say so")); r.status != http.StatusNotFound {
					t.Errorf("htmx POST %s (%s): status %d, want 404", p.path, p.name, r.status)
				}
				if r := c.post(p.path, p.form); r.status != http.StatusNotFound {
					t.Errorf("POST %s (%s) without reason: status %d, want 404", p.path, p.name, r.status)
				}
			}
		})
	}
	if after := w.state(); after != before {
		t.Fatalf("non-staff changed something: before %+v, after %+v", before, after)
	}
	// Signed out: sent to sign in, nothing shown.
	if r := w.app.client().get("/support"); r.status != http.StatusSeeOther {
		t.Fatalf("signed out: status %d", r.status)
	}
	staff := w.app.signedIn(adminEmail)
	if href, _ := staff.get("/").doc.Find("[data-testid=support-link]").Attr("href"); href != "/support" {
		t.Fatalf("staff support link = %q", href)
	}
}

func supportResults(r response) map[string]string {
	out := map[string]string{}
	r.doc.Find("[data-testid=support-result]").Each(func(_ int, s *goquery.Selection) {
		out[s.Find("[data-testid=support-result-link]").Text()] = s.Find("[data-testid=support-result-type]").Text()
	})
	return out
}

func TestSupportSearchFindsAccountsEverywhere(t *testing.T) {
	w := newSupportWorld(t)
	globexSA := w.app.addServiceAccount(w.otherProj, "Globex bot")
	ctx := context.Background()
	if err := w.app.store.Update(ctx, func(tx domain.Tx) error { return tx.SetUserName(ctx, w.user.ID, "Dana White") }); err != nil {
		t.Fatal(err)
	}
	c := w.app.signedIn(adminEmail)
	if r := c.get("/support"); r.status != http.StatusOK || r.doc.Find("[data-testid=support-search]").Length() != 1 ||
		r.doc.Find("[data-testid=support-results]").Length() != 0 {
		t.Fatalf("empty search page: status %d", r.status)
	}
	cases := []struct {
		q    string
		want map[string]string
	}{
		{"dana@example.com", map[string]string{"dana@example.com": "User"}},
		{"  DANA@Example.com ", map[string]string{"dana@example.com": "User"}},
		{"dan", map[string]string{"dana@example.com": "User"}},
		{itoa(w.user.ID), map[string]string{"dana@example.com": "User"}},
		// Display names too (issue 16): "Globex bot" starts with it as well.
		{"globex", map[string]string{"globex-admin@example.com": "User", globexSA.Email: "Service account"}},
		{"Exporter", map[string]string{w.sa.Email: "Service account"}},
		{"exp", map[string]string{w.sa.Email: "Service account"}},
		{"dana w", map[string]string{"dana@example.com": "User"}},
		{"DANA WHITE", map[string]string{"dana@example.com": "User"}},
		{"white", map[string]string{}},
		{w.sa.ID, map[string]string{w.sa.Email: "Service account"}},
		{w.sa.Email, map[string]string{w.sa.Email: "Service account"}},
		{globexSA.ID, map[string]string{globexSA.Email: "Service account"}},
		{globexSA.ID[:12], map[string]string{globexSA.Email: "Service account"}},
	}
	for _, tc := range cases {
		r := c.get("/support?q=" + url.QueryEscape(tc.q))
		got := supportResults(r)
		if r.status != http.StatusOK || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("q=%q: status %d, found %v, want %v", tc.q, r.status, got, tc.want)
		}
	}
	// Results open the account page.
	r := c.get("/support?q=" + w.sa.ID)
	href, _ := r.doc.Find("[data-testid=support-result-link]").Attr("href")
	if href != supportAccountPath(w.sa.ID) {
		t.Fatalf("result link = %q", href)
	}
	if page := c.get(href); page.status != http.StatusOK || page.doc.Find("[data-testid=account-email]").Text() != w.sa.Email {
		t.Fatalf("account page: status %d", page.status)
	}
	if r := c.get("/support?q=nobody"); r.doc.Find("[data-testid=no-results]").Length() != 1 || len(supportResults(r)) != 0 {
		t.Fatal("a search without match does not say so")
	}
	if r := c.get("/support?q=" + strings.Repeat("a", 300)); r.status != http.StatusBadRequest ||
		r.doc.Find("[data-testid=error-q]").Length() != 1 {
		t.Fatalf("too long search: status %d", r.status)
	}
	for _, bad := range []string{"999999", "NOT-AN-ID", strings.Repeat("z", 20)} {
		if r := c.get(supportAccountPath(bad)); r.status != http.StatusNotFound {
			t.Errorf("account %q: status %d, want 404", bad, r.status)
		}
	}
}

func TestSupportAccountPageShowsEverything(t *testing.T) {
	w := newSupportWorld(t)
	c := w.app.signedIn(adminEmail)

	r := c.get(supportAccountPath(itoa(w.user.ID)))
	if r.status != http.StatusOK {
		t.Fatalf("user page: status %d", r.status)
	}
	facts := map[string]string{
		"account-type": "User", "account-email": "dana@example.com", "account-display-name": "dana@example.com",
		"account-id": itoa(w.user.ID), "account-last-signin": "never", "account-locked": "No", "account-staff": "No",
	}
	for id, want := range facts {
		if got := strings.TrimSpace(r.doc.Find("[data-testid=" + id + "]").Text()); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	rows := r.doc.Find("[data-testid=membership-row]")
	if rows.Length() != 2 {
		t.Fatalf("%d membership rows, want 2", rows.Length())
	}
	text := rows.Text()
	for _, want := range []string{"Acme", "Field sensors", "Globex", "Globex weather", "Project developer", "Project user", "Accepted"} {
		if !strings.Contains(text, want) {
			t.Errorf("memberships do not show %q: %q", want, text)
		}
	}
	if r.doc.Find("[data-testid=lock-form]").Length() != 1 || r.doc.Find("[data-testid=remove-all-form]").Length() != 1 ||
		r.doc.Find("[data-testid=remove-membership-form]").Length() != 2 {
		t.Error("a user's actions are missing")
	}
	if r.doc.Find("[data-testid=basic-auth-off-form]").Length() != 0 || r.doc.Find("[data-testid=key-table]").Length() != 0 {
		t.Error("a user's page shows service account parts")
	}
	// Every action form needs a reason, and every destructive one asks first.
	r.doc.Find("main form[method=post]").Each(func(_ int, f *goquery.Selection) {
		if f.Find("textarea[name=reason][required]").Length() != 1 {
			t.Errorf("form %s has no required reason", f.AttrOr("action", ""))
		}
		if f.AttrOr("data-testid", "") != "unlock-form" && f.AttrOr("hx-confirm", "") == "" {
			t.Errorf("form %s has no hx-confirm", f.AttrOr("action", ""))
		}
	})

	// After a sign-in the date shows.
	w.app.signedIn(w.user.Email)
	if got := c.get(supportAccountPath(itoa(w.user.ID))).doc.Find("[data-testid=account-last-signin]").Text(); got == "never" || !strings.Contains(got, "UTC") {
		t.Errorf("last sign-in after signing in = %q", got)
	}

	r = c.get(supportAccountPath(w.sa.ID))
	facts = map[string]string{
		"account-type": "Service account", "account-email": w.sa.Email, "account-display-name": "Exporter",
		"account-project": w.proj.ID, "account-basic-auth": "On",
	}
	for id, want := range facts {
		if got := strings.TrimSpace(r.doc.Find("[data-testid=" + id + "]").Text()); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	if got := r.doc.Find("[data-testid=key-id]").Text(); got != w.key.ID {
		t.Errorf("keys = %q, want %s", got, w.key.ID)
	}
	if n := r.doc.Find("[data-testid=membership-row]").Length(); n != 3 {
		t.Errorf("%d memberships, want 3", n)
	}
	if got := r.doc.Find("[data-testid=membership-row][data-project='']").Find("[data-testid=membership-project]").Text(); !strings.Contains(got, "whole organization") {
		t.Errorf("organization membership shows %q", got)
	}
	if r.doc.Find("[data-testid=lock-form]").Length() != 0 || r.doc.Find("[data-testid=basic-auth-off-form]").Length() != 1 {
		t.Error("service account actions wrong")
	}
	// Own page: no lock form.
	admin, err := w.app.store.UserByEmail(context.Background(), adminEmail)
	if err != nil {
		t.Fatal(err)
	}
	own := c.get(supportAccountPath(itoa(admin.ID)))
	if own.doc.Find("[data-testid=lock-form]").Length() != 0 || own.doc.Find("[data-testid=lock-self]").Length() != 1 ||
		strings.TrimSpace(own.doc.Find("[data-testid=account-staff]").Text()) != "Yes" {
		t.Error("own page offers to lock oneself or hides the staff flag")
	}
}

// TestSupportActionsNeedAReason: every action with no reason, or a too
// short one, shows the message beside that form's reason, keeps the text,
// and changes nothing.
func TestSupportActionsNeedAReason(t *testing.T) {
	w := newSupportWorld(t)
	c := w.app.signedIn(adminEmail)
	before := w.state()
	for _, p := range w.posts() {
		if p.name == "unlock" {
			// The unlock form shows only on a locked account; the refusal is the same.
			continue
		}
		for _, reason := range []string{"", "   ", "abc"} {
			r := c.post(p.path, withReason(p.form, reason))
			if r.status != http.StatusUnprocessableEntity {
				t.Errorf("%s with reason %q: status %d, want 422", p.name, reason, r.status)
				continue
			}
			errs := r.doc.Find("[data-testid=error-reason]")
			if errs.Length() != 1 || !strings.Contains(errs.Text(), "at least 5 characters") {
				t.Errorf("%s with reason %q: %d reason errors %q", p.name, reason, errs.Length(), errs.Text())
				continue
			}
			form := errs.Closest("form")
			if action := form.AttrOr("action", ""); action != p.path {
				t.Errorf("%s: the message shows beside the form for %s", p.name, action)
			}
			for _, field := range []string{"org", "project"} {
				if want, ok := p.form[field]; ok && form.Find("input[name="+field+"]").AttrOr("value", "?") != want[0] {
					t.Errorf("%s: the message shows beside another membership's form", p.name)
				}
			}
			if got := form.Find("textarea[name=reason]").Text(); got != reason {
				t.Errorf("%s: the reason field holds %q, want %q", p.name, got, reason)
			}
			if form.Find("textarea[aria-invalid=true]").Length() != 1 {
				t.Errorf("%s: the reason field is not marked invalid", p.name)
			}
		}
		// htmx (a boosted form) gets the same page.
		if r := c.htmxPost(p.path, withReason(p.form, "")); r.status != http.StatusUnprocessableEntity {
			t.Errorf("%s via htmx: status %d", p.name, r.status)
		}
	}
	// Unlock needs a reason too.
	ctx := context.Background()
	if err := w.app.store.Update(ctx, func(tx domain.Tx) error { return tx.SetUserLocked(ctx, w.user.ID, true) }); err != nil {
		t.Fatal(err)
	}
	r := c.post(supportAccountPath(itoa(w.user.ID))+"/unlock", url.Values{"reason": {"no"}})
	if r.status != http.StatusUnprocessableEntity || r.doc.Find("[data-testid=unlock-form] [data-testid=error-reason]").Length() != 1 {
		t.Errorf("unlock without reason: status %d", r.status)
	}
	after := w.state()
	after.locked = false
	if after != before {
		t.Fatalf("a refused action changed something: before %+v, after %+v", before, after)
	}
	if u := w.app.storedUser(w.user.ID); !u.Locked {
		t.Fatal("unlocked without a reason")
	}
}

// staffEntry finds the newest audit entry of action on target and checks it is a staff entry with reason.
func (w *supportWorld) staffEntry(t *testing.T, action, reason string) domain.AuditEntry {
	t.Helper()
	entries, err := w.app.store.ListAudit(context.Background(), domain.AuditFilter{Action: action}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Reason == reason {
			if !e.ActorStaff || (e.ActorEmail != adminEmail && e.ActorEmail != supportEmail) {
				t.Fatalf("%s entry: staff %v actor %q", action, e.ActorStaff, e.ActorEmail)
			}
			return e
		}
	}
	t.Fatalf("no %s audit entry with reason %q", action, reason)
	return domain.AuditEntry{}
}

// shownAsStaff checks that an audit page lists the entry with the staff mark and its reason.
func shownAsStaff(t *testing.T, r response, action, reason string) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("audit page: status %d", r.status)
	}
	found := false
	r.doc.Find("[data-testid=audit-row]").Each(func(_ int, row *goquery.Selection) {
		if row.Find("[data-testid=audit-action]").Text() == action && strings.Contains(row.Find("[data-testid=audit-reason]").Text(), reason) {
			found = true
			if row.Find("[data-testid=staff-badge]").Text() != "support staff" {
				t.Errorf("%s entry is not marked as support staff", action)
			}
		}
	})
	if !found {
		t.Errorf("audit page does not show %s with reason %q", action, reason)
	}
}

func TestSupportActionsWithReason(t *testing.T) {
	w := newSupportWorld(t)
	ctx := context.Background()
	// A staff member without a role anywhere: each action is support's.
	w.app.addStaff(supportEmail, "")
	w.app.giveTOTP(supportEmail) // staff need a second factor for the support console
	staff := w.app.signedIn(supportEmail)
	acmeAdmin := w.app.signedIn(adminEmail)
	globexAdmin := w.app.signedIn("globex-admin@example.com")
	acmeAudit := "/orgs/" + w.app.org.ID + "/audit"
	globexAudit := "/orgs/" + w.otherOrg.ID + "/audit"
	userPage, saPage := supportAccountPath(itoa(w.user.ID)), supportAccountPath(w.sa.ID)

	expectDone := func(r response, page, flash string) {
		t.Helper()
		if r.status != http.StatusSeeOther || r.header.Get("Location") != page {
			t.Fatalf("status %d location %q, want 303 to %s", r.status, r.header.Get("Location"), page)
		}
		if got := staff.get(page).doc.Find("[data-testid=flash]").Text(); !strings.Contains(got, flash) {
			t.Fatalf("flash = %q, want %q", got, flash)
		}
	}

	// Remove one project membership.
	reason := "Ticket 101: left the company"
	expectDone(staff.post(userPage+"/memberships/remove", url.Values{"org": {w.app.org.ID}, "project": {w.proj.ID}, "reason": {reason}}),
		userPage, "Removed the Project developer role in project Field sensors in Acme from dana@example.com")
	if _, err := w.app.store.ProjectMembership(ctx, w.proj.ID, userRef(w.user)); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("membership still there: %v", err)
	}
	if st := w.state(); st.userMemberships != 1 {
		t.Fatalf("user has %d memberships, want 1 (the other one stays)", st.userMemberships)
	}
	e := w.staffEntry(t, domain.ActionMembershipDelete, reason)
	if e.OrganizationID != w.app.org.ID || e.ProjectID != w.proj.ID {
		t.Fatalf("entry scope %s/%s", e.OrganizationID, e.ProjectID)
	}
	shownAsStaff(t, acmeAdmin.get(acmeAudit), domain.ActionMembershipDelete, reason)
	shownAsStaff(t, staff.get("/support/audit"), domain.ActionMembershipDelete, reason)

	// Remove an organization membership (the service account's admin role in Globex).
	reason = "Ticket 102: service account should not administer"
	expectDone(staff.post(saPage+"/memberships/remove", url.Values{"org": {w.otherOrg.ID}, "project": {""}, "reason": {reason}}),
		saPage, "whole organization Globex")
	if _, err := w.app.store.OrgMembership(ctx, w.otherOrg.ID, w.sa.Ref()); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("organization membership still there: %v", err)
	}
	w.staffEntry(t, domain.ActionMembershipDelete, reason)
	shownAsStaff(t, globexAdmin.get(globexAudit), domain.ActionMembershipDelete, reason)

	// Removing it again changes nothing and says so.
	r := staff.post(saPage+"/memberships/remove", url.Values{"org": {w.otherOrg.ID}, "project": {""}, "reason": {reason}})
	if r.status != http.StatusSeeOther || !strings.Contains(staff.get(saPage).doc.Find("[data-testid=flash]").Text(), "Nothing changed") {
		t.Fatalf("removing a gone membership: status %d", r.status)
	}

	// Delete a key.
	reason = "Ticket 103: key leaked on a forum"
	expectDone(staff.post(saPage+"/keys/"+w.key.ID+"/delete", url.Values{"reason": {reason}}), saPage, "Key "+w.key.ID)
	if _, err := w.app.store.KeyByID(ctx, w.key.ID); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("key still there: %v", err)
	}
	if e := w.staffEntry(t, domain.ActionKeyDelete, reason); e.OrganizationID != w.app.org.ID || e.TargetID != w.key.ID {
		t.Fatalf("key entry: org %q target %q", e.OrganizationID, e.TargetID)
	}
	shownAsStaff(t, acmeAdmin.get(acmeAudit), domain.ActionKeyDelete, reason)

	// Switch Basic Auth off.
	reason = "Ticket 104: Basic Auth used in production"
	expectDone(staff.post(saPage+"/basic-auth-off", url.Values{"reason": {reason}}), saPage, "Basic Auth is off")
	if st := w.state(); st.basicAuth {
		t.Fatal("Basic Auth still on")
	}
	w.staffEntry(t, domain.ActionBasicAuthDisable, reason)
	shownAsStaff(t, acmeAdmin.get(acmeAudit), domain.ActionBasicAuthDisable, reason)
	if page := staff.get(saPage); page.doc.Find("[data-testid=basic-auth-off-form]").Length() != 0 {
		t.Fatal("the switch-off form still shows")
	}

	// Remove all access of the service account (its membership in each organization).
	reason = "Ticket 105: compromised account"
	expectDone(staff.post(saPage+"/remove-all", url.Values{"reason": {reason}}), saPage, "2 membership(s)")
	if st := w.state(); st.saMemberships != 0 {
		t.Fatalf("service account keeps %d memberships", st.saMemberships)
	}
	shownAsStaff(t, acmeAdmin.get(acmeAudit), domain.ActionMembershipDelete, reason)
	shownAsStaff(t, globexAdmin.get(globexAudit), domain.ActionMembershipDelete, reason)
	if page := staff.get(saPage); page.doc.Find("[data-testid=no-memberships]").Length() != 1 ||
		page.doc.Find("[data-testid=remove-all-form]").Length() != 0 {
		t.Fatal("account page still lists memberships")
	}

	// Remove all access of the user.
	reason = "Ticket 106: offboarding"
	expectDone(staff.post(userPage+"/remove-all", url.Values{"reason": {reason}}), userPage, "1 membership(s)")
	if st := w.state(); st.userMemberships != 0 {
		t.Fatalf("user keeps %d memberships", st.userMemberships)
	}
	shownAsStaff(t, globexAdmin.get(globexAudit), domain.ActionMembershipDelete, reason)

	// Lock and unlock.
	reason = "Ticket 107: suspicious sign-ins"
	expectDone(staff.post(userPage+"/lock", url.Values{"reason": {reason}}), userPage, "is locked")
	if st := w.state(); !st.locked {
		t.Fatal("user not locked")
	}
	w.staffEntry(t, domain.ActionUserLock, reason)
	shownAsStaff(t, staff.get("/support/audit"), domain.ActionUserLock, reason)
	reason = "Ticket 107: owner confirmed by phone"
	expectDone(staff.post(userPage+"/unlock", url.Values{"reason": {reason}}), userPage, "unlocked")
	if st := w.state(); st.locked {
		t.Fatal("user still locked")
	}
	w.staffEntry(t, domain.ActionUserUnlock, reason)
	shownAsStaff(t, staff.get("/support/audit?action="+domain.ActionUserUnlock), domain.ActionUserUnlock, reason)

	// A staff entry on an htmx (boosted) post goes the same way.
	k2 := w.app.addKey(w.sa)
	r = staff.htmxPost(saPage+"/keys/"+k2.ID+"/delete", url.Values{"reason": {"Ticket 108: rotate"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("htmx delete key: status %d", r.status)
	}
	if st := w.state(); st.keys != 0 {
		t.Fatalf("%d keys left", st.keys)
	}
}

// TestSupportLockEndsSessionsAtOnce: a locked user's session stops working
// on its very next request, sign-in is refused, and unlocking restores it.
func TestSupportLockEndsSessionsAtOnce(t *testing.T) {
	w := newSupportWorld(t)
	user := w.app.signedIn(w.user.Email)
	userHTMX := w.app.signedIn(w.user.Email)
	if r := user.get("/projects/" + w.proj.ID); r.status != http.StatusOK {
		t.Fatalf("before lock: status %d", r.status)
	}
	staff := w.app.signedIn(adminEmail)
	path := supportAccountPath(itoa(w.user.ID))
	if r := staff.post(path+"/lock", url.Values{"reason": {"Account takeover suspected"}}); r.status != http.StatusSeeOther {
		t.Fatalf("lock: status %d", r.status)
	}
	// The lock is recorded in the organization the user belongs to, for its admins.
	created := len(w.app.auditActions(w.app.org.ID))
	if got := w.app.auditActions(w.app.org.ID)[0]; got != domain.ActionUserLock {
		t.Fatalf("newest entry of the user's organization = %q, want the lock", got)
	}
	r := user.get("/projects/" + w.proj.ID)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/signin") {
		t.Fatalf("locked user's next request: status %d location %q", r.status, r.header.Get("Location"))
	}
	if r := userHTMX.htmxPost("/orgs/"+w.app.org.ID+"/projects", url.Values{"displayName": {"Sneaky"}}); r.status != http.StatusUnauthorized {
		t.Fatalf("locked user's htmx request: status %d", r.status)
	}
	if got := w.app.auditActions(w.app.org.ID); len(got) != created || got[0] == domain.ActionProjectCreate {
		t.Fatalf("a locked user changed something: %v", got)
	}
	fresh := w.app.client()
	fresh.get("/signin")
	r = fresh.post("/signin", url.Values{"email": {w.user.Email}, "password": {adminPassword}})
	if r.status != http.StatusForbidden || !strings.Contains(r.doc.Find("[data-testid=signin-error]").Text(), "locked") {
		t.Fatalf("locked sign-in: status %d, message %q", r.status, r.doc.Find("[data-testid=signin-error]").Text())
	}
	if page := staff.get(path); strings.TrimSpace(page.doc.Find("[data-testid=account-locked]").Text()) == "No" ||
		page.doc.Find("[data-testid=unlock-form]").Length() != 1 {
		t.Fatal("the account page does not show the lock")
	}
	if r := staff.post(path+"/unlock", url.Values{"reason": {"Owner verified by phone"}}); r.status != http.StatusSeeOther {
		t.Fatalf("unlock: status %d", r.status)
	}
	again := w.app.signedIn(w.user.Email)
	if r := again.get("/projects/" + w.proj.ID); r.status != http.StatusOK {
		t.Fatalf("after unlock: status %d", r.status)
	}
}

func TestSupportStaffCannotLockThemselves(t *testing.T) {
	w := newSupportWorld(t)
	staff := w.app.signedIn(adminEmail)
	admin, err := w.app.store.UserByEmail(context.Background(), adminEmail)
	if err != nil {
		t.Fatal(err)
	}
	before := w.state()
	r := staff.post(supportAccountPath(itoa(admin.ID))+"/lock", url.Values{"reason": {"Testing what happens"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.doc.Find("[data-testid=form-error]").Text(), "cannot lock yourself") {
		t.Fatalf("self lock: status %d, message %q", r.status, r.doc.Find("[data-testid=form-error]").Text())
	}
	if u := w.app.storedUser(admin.ID); u.Locked {
		t.Fatal("staff locked themselves")
	}
	if after := w.state(); after != before {
		t.Fatal("a refused self-lock changed something")
	}
	if r := staff.get("/"); r.status != http.StatusOK {
		t.Fatalf("staff session gone: status %d", r.status)
	}
	// Basic Auth and keys are for service accounts only.
	r = staff.post(supportAccountPath(itoa(w.user.ID))+"/basic-auth-off", url.Values{"reason": {"Wrong account type"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.doc.Find("[data-testid=form-error]").Text(), "Only service accounts") {
		t.Fatalf("basic auth off on a user: status %d", r.status)
	}
}

// seedAudit writes entries straight into the log: n entries per
// (actor, action, organization, project, day) combination given.
func (a *testApp) seedAudit(entries ...domain.AuditEntry) {
	a.t.Helper()
	ctx := context.Background()
	if err := a.store.Update(ctx, func(tx domain.Tx) error {
		for _, e := range entries {
			if err := tx.AddAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		a.t.Fatal(err)
	}
}

func auditRowIDs(t *testing.T, c *client, path string) (ids []string, pages int) {
	t.Helper()
	seen := map[string]bool{}
	for path != "" {
		pages++
		if pages > 50 {
			t.Fatal("pagination does not end")
		}
		r := c.get(path)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, r.status)
		}
		r.doc.Find("[data-testid=audit-row]").Each(func(_ int, s *goquery.Selection) {
			id := s.AttrOr("data-id", "")
			if seen[id] {
				t.Errorf("entry %s listed twice", id)
			}
			seen[id] = true
			ids = append(ids, id)
		})
		next, ok := r.doc.Find("[data-testid=next-page]").Attr("href")
		if !ok {
			break
		}
		path = next
	}
	return ids, pages
}

func TestAuditFiltersAndPages(t *testing.T) {
	app := newApp(t)
	p1 := app.addProject(app.org.ID, "Alpha")
	p2 := app.addProject(app.org.ID, "Beta")
	other, _ := app.addOrg("Globex", "globex-admin@example.com")
	op := app.addProject(other.ID, "Globex one")
	day := func(s string) time.Time {
		t0, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return t0
	}
	entry := func(actor, action, org, proj string, at time.Time) domain.AuditEntry {
		return domain.AuditEntry{Time: at, ActorType: domain.AccountUser, ActorID: "id-" + actor, ActorEmail: actor,
			Action: action, TargetType: "project", TargetID: proj, TargetName: "x", OrganizationID: org, ProjectID: proj, RemoteAddr: "10.0.0.1"}
	}
	var seed []domain.AuditEntry
	// 130 matching entries, interleaved with others, over three days.
	for i := 0; i < 130; i++ {
		at := day("2024-03-10 08:00").Add(time.Duration(i) * 20 * time.Minute) // 2024-03-10 08:00 .. 2024-03-12 03:00
		seed = append(seed,
			entry("ann@example.com", domain.ActionProjectUpdate, app.org.ID, p1.ID, at),
			entry("bob@example.com", domain.ActionProjectUpdate, app.org.ID, p1.ID, at),
			entry("ann@example.com", domain.ActionKeyCreate, app.org.ID, p1.ID, at),
			entry("ann@example.com", domain.ActionProjectUpdate, app.org.ID, p2.ID, at),
			entry("ann@example.com", domain.ActionProjectUpdate, other.ID, op.ID, at),
		)
	}
	seed = append(seed, entry("ann@example.com", domain.ActionProjectUpdate, app.org.ID, p1.ID, day("2024-03-01 12:00")),
		entry("ann@example.com", domain.ActionProjectUpdate, app.org.ID, p1.ID, day("2024-04-01 12:00")))
	app.seedAudit(seed...)

	admin := app.signedIn(adminEmail)
	acme := "/orgs/" + app.org.ID + "/audit"
	countMatching := func(f domain.AuditFilter) int {
		t.Helper()
		es, err := app.store.ListAudit(context.Background(), f, 0, 100000)
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}

	filters := url.Values{"actor": {"ANN@example.com"}, "action": {domain.ActionProjectUpdate}, "project": {p1.ID},
		"since": {"2024-03-10"}, "until": {"2024-03-12"}}
	for _, base := range []string{acme, "/support/audit"} {
		ids, pages := auditRowIDs(t, admin, base+"?"+filters.Encode())
		if len(ids) != 130 || pages != 3 {
			t.Errorf("%s: %d entries over %d pages, want 130 over 3", base, len(ids), pages)
		}
	}
	// The next link keeps every filter.
	r := admin.get(acme + "?" + filters.Encode())
	next, _ := r.doc.Find("[data-testid=next-page]").Attr("href")
	u, _ := url.Parse(next)
	for k, v := range filters {
		if u.Query().Get(k) != v[0] {
			t.Errorf("next link %q loses %s", next, k)
		}
	}
	if u.Query().Get("page") == "" {
		t.Errorf("next link %q has no page token", next)
	}
	// The filters show in the form.
	if r.doc.Find("[data-testid=filter-actor]").AttrOr("value", "") != "ANN@example.com" ||
		r.doc.Find("[data-testid=filter-project]").AttrOr("value", "") != p1.ID {
		t.Error("the filter form does not keep the filters")
	}
	if r.doc.Find("datalist#audit-actions option[value='"+domain.ActionUserLock+"']").Length() != 1 {
		t.Error("the action filter does not offer the known actions")
	}

	// Each filter narrows on its own.
	cases := []struct {
		query url.Values
		want  domain.AuditFilter
	}{
		{url.Values{"actor": {"bob@example.com"}}, domain.AuditFilter{Actor: "bob@example.com"}},
		{url.Values{"actor": {"id-bob@example.com"}}, domain.AuditFilter{Actor: "bob@example.com"}},
		{url.Values{"action": {domain.ActionKeyCreate}}, domain.AuditFilter{Action: domain.ActionKeyCreate}},
		{url.Values{"project": {p2.ID}}, domain.AuditFilter{ProjectID: p2.ID}},
		{url.Values{"since": {"2024-03-12"}}, domain.AuditFilter{Since: day("2024-03-12 00:00")}},
		{url.Values{"until": {"2024-03-10"}}, domain.AuditFilter{Until: day("2024-03-11 00:00")}},
		{url.Values{"since": {"2024-03-11"}, "until": {"2024-03-11"}}, domain.AuditFilter{Since: day("2024-03-11 00:00"), Until: day("2024-03-12 00:00")}},
	}
	for _, tc := range cases {
		orgF := tc.want
		orgF.OrganizationID = app.org.ID
		want := countMatching(orgF)
		if want == 0 || want == countMatching(domain.AuditFilter{OrganizationID: app.org.ID}) {
			t.Fatalf("%v: bad case (%d entries)", tc.query, want)
		}
		if ids, _ := auditRowIDs(t, admin, acme+"?"+tc.query.Encode()); len(ids) != want {
			t.Errorf("org %v: %d entries, want %d", tc.query, len(ids), want)
		}
		if ids, _ := auditRowIDs(t, admin, "/support/audit?"+tc.query.Encode()); len(ids) != countMatching(tc.want) {
			t.Errorf("global %v: %d entries, want %d", tc.query, len(ids), countMatching(tc.want))
		}
	}
	// The organization log never shows another organization's entries.
	if ids, _ := auditRowIDs(t, admin, acme+"?project="+op.ID); len(ids) != 0 {
		t.Errorf("org log shows %d entries of another organization", len(ids))
	}
	if r := admin.get(acme + "?action=no.such.action"); r.doc.Find("[data-testid=audit-empty]").Length() != 1 {
		t.Error("an unknown action does not say nothing matches")
	}

	// Bad values: a clear message beside the field and no entries.
	bad := []struct{ query, field string }{
		{"since=2024-13-01", "since"},
		{"until=yesterday", "until"},
		{"since=2024-03-12&until=2024-03-10", "until"},
		{"project=not-a-project", "project"},
		{"actor=" + strings.Repeat("a", 300), "actor"},
		{"page=garbage", ""},
	}
	for _, b := range bad {
		for _, base := range []string{acme, "/support/audit"} {
			r := admin.get(base + "?" + b.query)
			if r.status != http.StatusBadRequest || r.doc.Find("[data-testid=audit-row]").Length() != 0 ||
				r.doc.Find("[data-testid=audit-filter-error]").Length() != 1 {
				t.Errorf("%s?%s: status %d, %d rows", base, b.query, r.status, r.doc.Find("[data-testid=audit-row]").Length())
			}
			if b.field != "" && r.doc.Find("[data-testid=error-"+b.field+"]").Length() != 1 {
				t.Errorf("%s?%s: no message beside %s", base, b.query, b.field)
			}
		}
	}
	// Still refused, whatever the filters: a member gets 403, an outsider 404, non-staff 404 on the global log.
	app.addUser("dev@example.com", p1.ID, domain.RoleProjectDev, "")
	dev := app.signedIn("dev@example.com")
	if r := dev.get(acme + "?since=bad"); r.status != http.StatusForbidden {
		t.Errorf("member with bad filter: status %d, want 403", r.status)
	}
	globex := app.signedIn("globex-admin@example.com")
	if r := globex.get(acme + "?since=bad"); r.status != http.StatusNotFound {
		t.Errorf("outsider with bad filter: status %d, want 404", r.status)
	}
	if r := globex.get("/support/audit?actor=ann@example.com"); r.status != http.StatusNotFound {
		t.Errorf("non-staff global log: status %d, want 404", r.status)
	}
	if ids, _ := auditRowIDs(t, globex, "/orgs/"+other.ID+"/audit?actor=ann@example.com"); len(ids) != 130 {
		t.Errorf("Globex admin sees %d of its entries, want 130", len(ids))
	}
}

// TestAuditCannotBeChanged: no route edits or deletes audit entries.
func TestAuditCannotBeChanged(t *testing.T) {
	app := newApp(t)
	c := app.signedIn(adminEmail)
	before := len(app.auditActions(app.org.ID))
	paths := []string{"/orgs/" + app.org.ID + "/audit", "/support/audit", "/support/audit/1", "/orgs/" + app.org.ID + "/audit/1"}
	for _, p := range paths {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			req, _ := http.NewRequest(m, app.srv.URL+p, strings.NewReader(url.Values{"_csrf": {c.csrf}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-CSRF-Token", c.csrf)
			if r := c.do(req); r.status != http.StatusNotFound && r.status != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: status %d", m, p, r.status)
			}
		}
	}
	if after := len(app.auditActions(app.org.ID)); after != before {
		t.Fatalf("audit entries %d → %d", before, after)
	}
}
