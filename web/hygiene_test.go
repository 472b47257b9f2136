package web_test

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"studio/domain"

	"github.com/PuerkitoBio/goquery"
)

// Credential hygiene (issue 8, item 7), the role pickers that explain
// themselves (item 8) and the safe delete of a service account (item 6).

const hygDay = 24 * time.Hour

// hygWorld is two organizations with keys and accounts of every kind the
// hygiene lists look for, made directly in the store with old times.
type hygWorld struct {
	app          *testApp
	now          time.Time
	inv, field   domain.Project // Acme's
	partner      domain.Organization
	partnerProj  domain.Project
	orgAdmin     domain.User // Acme's organization admin, not staff
	projAdmin    domain.User // project admin of field, not staff
	partnerAdmin domain.User // Partner's organization admin
	sa           map[string]domain.ServiceAccount
	key          map[string]domain.Key
}

// hygSA makes a service account in p, with Basic Auth as asked.
func (a *testApp) hygSA(p domain.Project, name string, basic bool) domain.ServiceAccount {
	a.t.Helper()
	sa := a.addServiceAccount(p, name)
	if basic {
		a.setBasicAuth(sa, true)
		sa.EnableBasicAuth = true
	}
	return sa
}

// hygKey stores a key made at created and, unless lastUsed is zero, last used then.
func (a *testApp) hygKey(sa domain.ServiceAccount, created, lastUsed time.Time) domain.Key {
	a.t.Helper()
	ctx := context.Background()
	k := domain.Key{ID: domain.NewID(created), ServiceAccountID: sa.ID, Sealed: []byte("sealed"), CreateTime: created}
	err := a.store.Update(ctx, func(tx domain.Tx) error {
		if err := tx.CreateKey(ctx, k); err != nil {
			return err
		}
		if lastUsed.IsZero() {
			return nil
		}
		return tx.SetKeyLastUse(ctx, k.ID, lastUsed, "token", "203.0.113.9")
	})
	if err != nil {
		a.t.Fatal(err)
	}
	k.LastUsed = lastUsed
	return k
}

func newHygWorld(t *testing.T) *hygWorld {
	t.Helper()
	app := newApp(t)
	w := &hygWorld{app: app, now: app.clock.Now(), sa: map[string]domain.ServiceAccount{}, key: map[string]domain.Key{}}
	w.inv = app.inventory()
	w.field = app.addProject(app.org.ID, "Field")
	w.partner, w.partnerAdmin = app.addOrg("Partner", "partner-admin@example.com")
	w.partnerProj = app.addProject(w.partner.ID, "Partner project")
	w.orgAdmin = app.addUser("acme-admin@example.com", "", "", app.org.ID)
	w.projAdmin = app.addUser("field-admin@example.com", w.field.ID, domain.RoleProjectAdmin, "")
	ago := func(d time.Duration) time.Time { return w.now.Add(-d) }

	// Uploader: Basic Auth on, a project user, four keys of every age.
	w.sa["uploader"] = app.hygSA(w.inv, "Uploader", true)
	app.addMembership(w.sa["uploader"].Ref(), app.org.ID, w.inv.ID, domain.RoleProjectUser)
	w.key["neverOld"] = app.hygKey(w.sa["uploader"], ago(100*hygDay), time.Time{})
	w.key["neverNew"] = app.hygKey(w.sa["uploader"], ago(10*hygDay), time.Time{})
	w.key["stale"] = app.hygKey(w.sa["uploader"], ago(400*hygDay), ago(200*hygDay))
	w.key["fresh"] = app.hygKey(w.sa["uploader"], ago(400*hygDay-time.Hour), ago(5*hygDay))
	// Admin bot: project admin of field, a key just short of 90 days unused.
	w.sa["adminBot"] = app.hygSA(w.field, "Admin bot", false)
	app.addMembership(w.sa["adminBot"].Ref(), app.org.ID, w.field.ID, domain.RoleProjectAdmin)
	w.key["edge"] = app.hygKey(w.sa["adminBot"], ago(89*hygDay), time.Time{})
	// Org bot: owned by Acme, organization admin of Partner.
	w.sa["orgBot"] = app.hygSA(w.inv, "Org bot", false)
	app.addMembership(w.sa["orgBot"].Ref(), w.partner.ID, "", domain.RoleOrgAdmin)
	w.key["orgBot"] = app.hygKey(w.sa["orgBot"], ago(hygDay), time.Time{})
	// Keyless: a developer of field without a key.
	w.sa["keyless"] = app.hygSA(w.field, "Keyless", false)
	app.addMembership(w.sa["keyless"].Ref(), app.org.ID, w.field.ID, domain.RoleProjectDev)
	// Orphan: a key, no membership at all.
	w.sa["orphan"] = app.hygSA(w.inv, "Orphan", false)
	w.key["orphan"] = app.hygKey(w.sa["orphan"], ago(hygDay), ago(time.Hour))
	// Partner's own: Basic Auth on, no membership, a key never used for 300 days.
	w.sa["partner"] = app.hygSA(w.partnerProj, "Partner bot", true)
	w.key["partner"] = app.hygKey(w.sa["partner"], ago(300*hygDay), time.Time{})
	return w
}

func (w *hygWorld) orgPath(query string) string {
	p := "/orgs/" + w.app.org.ID + "/hygiene"
	if query != "" {
		p += "?" + query
	}
	return p
}

// hygRows returns the ids of the listed rows, in order.
func hygRows(r response) []string {
	var ids []string
	r.doc.Find("[data-testid=hygiene-row]").Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("data-id")
		ids = append(ids, id)
	})
	return ids
}

func (w *hygWorld) keyIDs(names ...string) []string {
	var ids []string
	for _, n := range names {
		ids = append(ids, w.key[n].ID)
	}
	return ids
}

func (w *hygWorld) saIDs(names ...string) []string {
	var ids []string
	for _, n := range names {
		ids = append(ids, w.sa[n].ID)
	}
	return ids
}

func hygSorted(ids []string) []string {
	out := append([]string(nil), ids...)
	sort.Strings(out)
	return out
}

func hygSame(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s: rows %v, want %v", what, got, want)
	}
}

func TestHygieneListsFindExactlyTheRightObjects(t *testing.T) {
	w := newHygWorld(t)
	c := w.app.signedIn("acme-admin@example.com")
	for _, tc := range []struct {
		query string
		want  []string
	}{
		// Longest unused first: last used 200 days ago, then never used for 100 days.
		{"", w.keyIDs("stale", "neverOld")},
		{"list=unused-keys", w.keyIDs("stale", "neverOld")},
		{"list=unused-keys&unused_days=30", w.keyIDs("stale", "neverOld", "edge")},
		{"list=unused-keys&unused_days=30&project=" + w.field.ID, w.keyIDs("edge")},
		{"list=unused-keys&unused_days=250", nil},
		// Oldest first.
		{"list=old-keys", w.keyIDs("stale", "fresh")},
		{"list=old-keys&older_than=50", w.keyIDs("stale", "fresh", "neverOld", "edge")},
		{"list=old-keys&older_than=50&project=" + w.inv.ID, w.keyIDs("stale", "fresh", "neverOld")},
		// Accounts in id order (creation order).
		{"list=basic-auth", w.saIDs("uploader")},
		{"list=admin-accounts", hygSorted(w.saIDs("adminBot", "orgBot"))},
		{"list=admin-accounts&project=" + w.inv.ID, w.saIDs("orgBot")},
		{"list=no-keys", w.saIDs("keyless")},
		{"list=no-memberships", w.saIDs("orphan")},
	} {
		r := c.get(w.orgPath(tc.query))
		if r.status != http.StatusOK {
			t.Fatalf("%s: status %d: %s", tc.query, r.status, r.doc.Find("[data-testid=hygiene-filter-error]").Text())
		}
		hygSame(t, "Acme "+tc.query, hygRows(r), tc.want)
	}

	// What a row shows.
	r := c.get(w.orgPath("list=unused-keys"))
	row := r.doc.Find(hygRowSel(w.key["neverOld"].ID))
	if got := row.Find("[data-testid=hygiene-last-used]").Text(); !strings.Contains(got, "never used") {
		t.Errorf("last used cell %q, want never used", got)
	}
	if got := strings.TrimSpace(row.Find("[data-testid=hygiene-days]").Text()); got != "100 days" {
		t.Errorf("unused for %q, want 100 days", got)
	}
	if href, _ := row.Find("[data-testid=hygiene-account]").Attr("href"); href != saPath(w.sa["uploader"]) {
		t.Errorf("account link %q", href)
	}
	r = c.get(w.orgPath("list=admin-accounts"))
	if got := r.doc.Find(hygRowSel(w.sa["orgBot"].ID) + " [data-testid=hygiene-admin]").Text(); got != "Organization admin ×1" {
		t.Errorf("admin roles of the org bot %q", got)
	}
	if got := r.doc.Find(hygRowSel(w.sa["adminBot"].ID) + " [data-testid=hygiene-admin]").Text(); got != "Project admin ×1" {
		t.Errorf("admin roles of the admin bot %q", got)
	}

	// Support staff see every organization.
	staff := w.app.signedIn(adminEmail)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", w.keyIDs("partner", "stale", "neverOld")},
		{"list=basic-auth", hygSorted(w.saIDs("uploader", "partner"))},
		{"list=no-memberships", hygSorted(w.saIDs("orphan", "partner"))},
		{"list=admin-accounts", hygSorted(w.saIDs("adminBot", "orgBot"))},
		{"list=unused-keys&project=" + w.partnerProj.ID, w.keyIDs("partner")},
	} {
		r := staff.get("/support/hygiene?" + tc.query)
		if r.status != http.StatusOK {
			t.Fatalf("global %s: status %d", tc.query, r.status)
		}
		hygSame(t, "global "+tc.query, hygRows(r), tc.want)
	}
	r = staff.get("/support/hygiene")
	if got := r.doc.Find(hygRowSel(w.key["partner"].ID) + " [data-testid=hygiene-org]").Text(); got != "Partner" {
		t.Errorf("organization cell %q", got)
	}
	if href, _ := r.doc.Find(hygRowSel(w.key["partner"].ID) + " [data-testid=hygiene-account]").Attr("href"); href != "/support/accounts/"+w.sa["partner"].ID {
		t.Errorf("staff account link %q, want the support page", href)
	}
}

func TestHygieneOldKeysDefaultToTheOrganizationsMaximumLifetime(t *testing.T) {
	w := newHygWorld(t)
	ctx := context.Background()
	err := w.app.store.Update(ctx, func(tx domain.Tx) error {
		return tx.SetKeyPolicy(ctx, w.app.org.ID, domain.KeyPolicy{MaxLifetime: 60 * hygDay, UpdateTime: w.now})
	})
	if err != nil {
		t.Fatal(err)
	}
	c := w.app.signedIn("acme-admin@example.com")
	r := c.get(w.orgPath("list=old-keys"))
	hygSame(t, "old keys under a 60-day maximum", hygRows(r), w.keyIDs("stale", "fresh", "neverOld", "edge"))
	if got := r.doc.Find("[data-testid=older-than-default]").Text(); !strings.Contains(got, "maximum key lifetime") {
		t.Errorf("default hint %q", got)
	}
	// The URL still wins.
	hygSame(t, "older_than=365", hygRows(c.get(w.orgPath("list=old-keys&older_than=365"))), w.keyIDs("stale", "fresh"))
}

func TestHygieneFiltersAndRefusals(t *testing.T) {
	w := newHygWorld(t)
	c := w.app.signedIn("acme-admin@example.com")
	for query, field := range map[string]string{
		"list=everything":                       "list",
		"unused_days=0":                         "unused_days",
		"unused_days=ninety":                    "unused_days",
		"list=old-keys&older_than=99999":        "older_than",
		"project=not-an-id":                     "project",
		"project=" + w.partnerProj.ID:           "project", // another organization's project
		"list=unused-keys&page=garbage-token!!": "pageToken",
	} {
		r := c.get(w.orgPath(query))
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", query, r.status)
		}
		if n := r.doc.Find("[data-testid=hygiene-row]").Length(); n != 0 {
			t.Errorf("%s: %d rows listed beside a bad filter", query, n)
		}
		if field != "pageToken" && r.doc.Find("[data-testid=error-"+field+"]").Length() != 1 {
			t.Errorf("%s: no message beside %s", query, field)
		}
	}
	if got := c.get(w.orgPath("project=" + w.partnerProj.ID)).doc.Find("[data-testid=error-project]").Text(); strings.Contains(got, "Partner") {
		t.Errorf("the refusal names the other organization's project: %q", got)
	}
	// Who may look: the organization's admins on its page, staff on the global one.
	for _, tc := range []struct {
		email, path string
		status      int
	}{
		{"field-admin@example.com", w.orgPath(""), http.StatusForbidden},
		{"partner-admin@example.com", w.orgPath(""), http.StatusNotFound},
		{adminEmail, "/orgs/" + w.partner.ID + "/hygiene", http.StatusNotFound}, // staff, not Partner's admin
		{"acme-admin@example.com", "/support/hygiene", http.StatusNotFound},
		{"partner-admin@example.com", "/support/hygiene?list=basic-auth", http.StatusNotFound},
	} {
		r := w.app.signedIn(tc.email).get(tc.path)
		if r.status != tc.status {
			t.Errorf("%s GET %s: status %d, want %d", tc.email, tc.path, r.status, tc.status)
		}
		if n := r.doc.Find("[data-testid=hygiene-row]").Length(); n != 0 {
			t.Errorf("%s GET %s: %d rows shown", tc.email, tc.path, n)
		}
	}
	// A bad filter from someone refused is refused, not explained.
	if r := w.app.signedIn("field-admin@example.com").get(w.orgPath("unused_days=0")); r.status != http.StatusForbidden {
		t.Errorf("bad filter as a project admin: status %d, want 403", r.status)
	}
	// The organization page links the view for its admins only.
	if c.get("/orgs/"+w.app.org.ID).doc.Find("[data-testid=hygiene-link]").Length() != 1 {
		t.Error("no hygiene link on the organization page")
	}
	if w.app.signedIn("field-admin@example.com").get("/orgs/"+w.app.org.ID).doc.Find("[data-testid=hygiene-link]").Length() != 0 {
		t.Error("the hygiene link shows to a project admin")
	}
}

func TestHygienePagination(t *testing.T) {
	app := newApp(t)
	inv := app.inventory()
	now := app.clock.Now()
	type entry struct {
		at time.Time
		id string
	}
	var keys []entry
	// 12 accounts × 10 keys, in groups of equal last activity, so pages split ties.
	for i := 0; i < 12; i++ {
		sa := app.hygSA(inv, "Bulk "+itoa(int64(i)), false)
		for j := 0; j < 10; j++ {
			created := now.Add(-100*hygDay - time.Duration((i*10+j)%7)*time.Hour)
			var used time.Time
			if j%3 == 0 {
				used = created.Add(time.Minute)
			}
			k := app.hygKey(sa, created, used)
			at := created
			if !used.IsZero() {
				at = used
			}
			keys = append(keys, entry{at, k.ID})
		}
	}
	var keyless []string
	for i := 0; i < 110; i++ {
		keyless = append(keyless, app.hygSA(inv, "Keyless "+itoa(int64(i)), false).ID)
	}
	sort.Slice(keys, func(i, j int) bool {
		if !keys[i].at.Equal(keys[j].at) {
			return keys[i].at.Before(keys[j].at)
		}
		return keys[i].id < keys[j].id
	})
	var wantKeys []string
	for _, k := range keys {
		wantKeys = append(wantKeys, k.id)
	}
	sort.Strings(keyless)

	c := app.signedIn(adminEmail)
	walk := func(start string) ([]string, int) {
		var got []string
		pages := 0
		for path := start; path != ""; pages++ {
			r := c.get(path)
			if r.status != http.StatusOK {
				t.Fatalf("GET %s: %d", path, r.status)
			}
			rows := hygRows(r)
			if len(rows) > 50 {
				t.Fatalf("a page lists %d rows", len(rows))
			}
			got = append(got, rows...)
			next, _ := r.doc.Find("[data-testid=next-page]").Attr("href")
			if next != "" && (!strings.Contains(next, "unused_days=30") && strings.Contains(start, "unused_days=30")) {
				t.Fatalf("next page link %q lost the filter", next)
			}
			path = next
			if pages > 10 {
				t.Fatal("pages do not end")
			}
		}
		return got, pages
	}
	got, pages := walk("/orgs/" + app.org.ID + "/hygiene?list=unused-keys&unused_days=30")
	if pages != 3 {
		t.Errorf("120 keys over %d pages, want 3", pages)
	}
	hygSame(t, "every unused key, once, in order", got, wantKeys)
	got, pages = walk("/support/hygiene?list=unused-keys&unused_days=30")
	if pages != 3 {
		t.Errorf("global: 120 keys over %d pages, want 3", pages)
	}
	hygSame(t, "global unused keys", got, wantKeys)
	got, _ = walk("/orgs/" + app.org.ID + "/hygiene?list=old-keys&older_than=30")
	hygSame(t, "old keys, as a set", hygSorted(got), hygSorted(wantKeys))
	got, pages = walk("/orgs/" + app.org.ID + "/hygiene?list=no-keys")
	if pages != 3 {
		t.Errorf("110 keyless accounts over %d pages, want 3", pages)
	}
	hygSame(t, "keyless accounts", got, keyless)
}

// hygAudit returns the audit entries after mark (an entry id), oldest first.
func (a *testApp) hygAudit(mark int64) []domain.AuditEntry {
	a.t.Helper()
	entries, err := a.store.ListAudit(context.Background(), domain.AuditFilter{}, 0, 100000)
	if err != nil {
		a.t.Fatal(err)
	}
	var out []domain.AuditEntry
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].ID > mark {
			out = append(out, entries[i])
		}
	}
	return out
}

func (a *testApp) hygAuditMark() int64 {
	a.t.Helper()
	entries, err := a.store.ListAudit(context.Background(), domain.AuditFilter{}, 0, 1)
	if err != nil {
		a.t.Fatal(err)
	}
	if len(entries) == 0 {
		return 0
	}
	return entries[0].ID
}

// hygState is every key and account of the world, as stored.
func (w *hygWorld) state() map[string]string {
	w.app.t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for name, k := range w.key {
		got, err := w.app.store.KeyByID(ctx, k.ID)
		switch {
		case domain.ErrorCode(err) == domain.ENOTFOUND:
			out["key "+name] = "gone"
		case err != nil:
			w.app.t.Fatal(err)
		default:
			out["key "+name] = "disabled=" + itoa(int64(hygBool(!got.DisabledTime.IsZero())))
		}
	}
	for name, sa := range w.sa {
		got, err := w.app.store.ServiceAccountByID(ctx, sa.ID)
		switch {
		case domain.ErrorCode(err) == domain.ENOTFOUND:
			out["sa "+name] = "gone"
		case err != nil:
			w.app.t.Fatal(err)
		default:
			ms := w.app.memberships(sa.Ref())
			n := w.app.keyCount(sa.ID)
			out["sa "+name] = "basic=" + itoa(int64(hygBool(got.EnableBasicAuth))) + " disabled=" + itoa(int64(hygBool(got.Disabled()))) +
				" memberships=" + itoa(int64(len(ms))) + " keys=" + itoa(int64(n))
		}
	}
	return out
}

func hygBool(b bool) int {
	if b {
		return 1
	}
	return 0
}

// changed lists what differs between two states.
func hygChanged(before, after map[string]string) []string {
	var out []string
	for k, v := range after {
		if before[k] != v {
			out = append(out, k+": "+before[k]+" → "+v)
		}
	}
	sort.Strings(out)
	return out
}

func hygForm(list string, action domain.HygieneAction, ids ...string) url.Values {
	return url.Values{"list": {list}, "action": {string(action)}, "id": ids}
}

// formOf reads a form's fields (all inputs and textareas) from a page.
func hygFormOf(r response, sel string) url.Values {
	v := url.Values{}
	r.doc.Find(sel + " input, " + sel + " textarea").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		if name == "" || name == "_csrf" {
			return
		}
		if t, _ := s.Attr("type"); t == "checkbox" {
			if _, on := s.Attr("checked"); !on {
				return
			}
		}
		val, _ := s.Attr("value")
		if goquery.NodeName(s) == "textarea" {
			val = s.Text()
		}
		v.Add(name, val)
	})
	return v
}

func TestHygieneBulkDeleteKeysWithOneConfirmation(t *testing.T) {
	w := newHygWorld(t)
	c := w.app.signedIn("acme-admin@example.com")
	before, mark := w.state(), w.app.hygAuditMark()

	// Without JavaScript: the list's form posts to a confirmation page that
	// lists exactly the selected keys, and changes nothing yet.
	selected := w.keyIDs("neverOld", "stale")
	r := c.post(w.orgPath("")+"/confirm", hygForm("unused-keys", domain.HygieneDeleteKeys, selected...))
	if r.status != http.StatusOK {
		t.Fatalf("confirm: status %d: %s", r.status, r.doc.Find("[data-testid=hygiene-error]").Text())
	}
	var listed []string
	r.doc.Find("[data-testid=confirm-row]").Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("data-id")
		listed = append(listed, id)
	})
	hygSame(t, "confirmation", hygSorted(listed), hygSorted(selected))
	if got := r.doc.Find("[data-testid=hygiene-confirm-question]").Text(); got != "Delete 2 keys?" {
		t.Errorf("question %q", got)
	}
	if d := hygChanged(before, w.state()); len(d) > 0 || len(w.app.hygAudit(mark)) > 0 {
		t.Fatalf("the confirmation page changed %v", d)
	}
	// The confirmation posts the final action.
	form := hygFormOf(r, "[data-testid=hygiene-confirm-form]")
	if form.Get("confirm") != "yes" || len(form["id"]) != 2 {
		t.Fatalf("confirmation form %v", form)
	}
	r = c.post(w.orgPath("")+"/apply", form)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != w.orgPath("list=unused-keys") {
		t.Fatalf("apply: status %d, location %q", r.status, r.header.Get("Location"))
	}
	want := []string{"key neverOld: disabled=0 → gone", "key stale: disabled=0 → gone", "sa uploader: basic=1 disabled=0 memberships=1 keys=4 → basic=1 disabled=0 memberships=1 keys=2"}
	if d := hygChanged(before, w.state()); strings.Join(d, "; ") != strings.Join(want, "; ") {
		t.Fatalf("changes %q, want %q", d, want)
	}
	entries := w.app.hygAudit(mark)
	if len(entries) != 2 {
		t.Fatalf("%d audit entries, want one per key: %+v", len(entries), entries)
	}
	var targets []string
	for _, e := range entries {
		targets = append(targets, e.TargetID)
		if e.Action != domain.ActionKeyDelete || e.TargetType != "key" || e.OrganizationID != w.app.org.ID ||
			e.ProjectID != w.inv.ID || e.ActorEmail != "acme-admin@example.com" || e.ActorStaff || e.Reason != "" {
			t.Errorf("audit entry %+v", e)
		}
	}
	hygSame(t, "audit targets", hygSorted(targets), hygSorted(selected))
	if flash := c.get(r.header.Get("Location")); flash.doc.Find("[data-testid=flash]").Text() != "2 keys deleted." {
		t.Errorf("flash %q", flash.doc.Find("[data-testid=flash]").Text())
	}

	// With htmx: one request (hx-confirm asked), the list comes back with a toast.
	mark = w.app.hygAuditMark()
	r = c.htmxPost(w.orgPath("")+"/apply", url.Values{"list": {"unused-keys"}, "unused_days": {"30"}, "action": {string(domain.HygieneDeleteKeys)},
		"id": {w.key["edge"].ID}, "confirm": {"yes"}})
	if r.status != http.StatusOK {
		t.Fatalf("htmx apply: %d", r.status)
	}
	if got := r.doc.Find("#toasts [data-testid=flash]").Text(); got != "1 key deleted." {
		t.Errorf("toast %q", got)
	}
	if rows := hygRows(r); len(rows) != 0 {
		t.Errorf("the list after the htmx delete still lists %v", rows)
	}
	if n := len(w.app.hygAudit(mark)); n != 1 {
		t.Errorf("%d audit entries for one key", n)
	}
}

func TestHygieneBulkActionsRefusedChangeNothing(t *testing.T) {
	w := newHygWorld(t)
	admin := w.app.signedIn("acme-admin@example.com")
	staff := w.app.signedIn(adminEmail)
	before, mark := w.state(), w.app.hygAuditMark()
	acme := w.orgPath("")
	for _, tc := range []struct {
		name   string
		c      *client
		path   string
		form   url.Values
		status int
	}{
		{"a key of another organization among them", admin, acme + "/apply",
			hygConfirmed(hygForm("unused-keys", domain.HygieneDeleteKeys, w.key["stale"].ID, w.key["partner"].ID)), http.StatusConflict},
		{"another organization's key, confirmation", admin, acme + "/confirm",
			hygForm("unused-keys", domain.HygieneDeleteKeys, w.key["partner"].ID), http.StatusConflict},
		{"an account of another organization", admin, acme + "/apply",
			hygConfirmed(hygForm("basic-auth", domain.HygieneBasicAuthOff, w.sa["uploader"].ID, w.sa["partner"].ID)), http.StatusConflict},
		{"a key id given as an account", admin, acme + "/apply",
			hygConfirmed(hygForm("no-keys", domain.HygieneDeleteAccounts, w.key["stale"].ID)), http.StatusConflict},
		{"no such key", admin, acme + "/apply",
			hygConfirmed(hygForm("unused-keys", domain.HygieneDeleteKeys, domain.NewID(w.now))), http.StatusConflict},
		{"not an id", admin, acme + "/apply",
			hygConfirmed(hygForm("unused-keys", domain.HygieneDeleteKeys, "../../etc")), http.StatusUnprocessableEntity},
		{"nothing selected", admin, acme + "/confirm", hygForm("unused-keys", domain.HygieneDeleteKeys), http.StatusUnprocessableEntity},
		{"no such action", admin, acme + "/apply", hygConfirmed(hygForm("unused-keys", "shred", w.key["stale"].ID)), http.StatusUnprocessableEntity},
		{"not confirmed", admin, acme + "/apply", hygForm("unused-keys", domain.HygieneDeleteKeys, w.key["stale"].ID), http.StatusBadRequest},
		{"a project admin", w.app.signedIn("field-admin@example.com"), acme + "/apply",
			hygConfirmed(hygForm("unused-keys", domain.HygieneDeleteKeys, w.key["edge"].ID)), http.StatusForbidden},
		{"a project admin, confirmation", w.app.signedIn("field-admin@example.com"), acme + "/confirm",
			hygForm("unused-keys", domain.HygieneDeleteKeys, w.key["edge"].ID), http.StatusForbidden},
		{"another organization's admin", w.app.signedIn("partner-admin@example.com"), acme + "/apply",
			hygConfirmed(hygForm("unused-keys", domain.HygieneDeleteKeys, w.key["stale"].ID)), http.StatusNotFound},
		{"an organization admin on the global view", admin, "/support/hygiene/apply",
			withReason(hygConfirmed(hygForm("unused-keys", domain.HygieneDeleteKeys, w.key["stale"].ID)), "cleaning up"), http.StatusNotFound},
		{"staff without a reason", staff, "/support/hygiene/apply",
			hygConfirmed(hygForm("unused-keys", domain.HygieneDeleteKeys, w.key["partner"].ID)), http.StatusUnprocessableEntity},
		{"staff with a too short reason", staff, "/support/hygiene/apply",
			withReason(hygConfirmed(hygForm("basic-auth", domain.HygieneBasicAuthOff, w.sa["partner"].ID)), "why"), http.StatusUnprocessableEntity},
	} {
		r := tc.c.post(tc.path, tc.form)
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, r.status, tc.status)
		}
		if d := hygChanged(before, w.state()); len(d) > 0 {
			t.Fatalf("%s changed %v", tc.name, d)
		}
		if n := len(w.app.hygAudit(mark)); n != 0 {
			t.Fatalf("%s wrote %d audit entries", tc.name, n)
		}
	}
	// A refused selection shows the list again with what was checked.
	r := admin.htmxPost(acme+"/apply", url.Values{"list": {"unused-keys"}, "action": {string(domain.HygieneDeleteKeys)}, "confirm": {"yes"},
		"id": {w.key["stale"].ID, w.key["partner"].ID}})
	if r.status != http.StatusConflict || !strings.Contains(r.doc.Find("[data-testid=hygiene-error]").Text(), "Nothing was changed") {
		t.Errorf("refused htmx action: status %d, message %q", r.status, r.doc.Find("[data-testid=hygiene-error]").Text())
	}
	if _, checked := r.doc.Find(hygRowSel(w.key["stale"].ID) + " input[type=checkbox]").Attr("checked"); !checked {
		t.Error("the selection was lost")
	}
	// Staff without a reason see the confirmation again, with the message beside the field.
	r = staff.post("/support/hygiene/apply", hygConfirmed(hygForm("unused-keys", domain.HygieneDeleteKeys, w.key["partner"].ID)))
	if r.doc.Find("[data-testid=hygiene-confirm] [data-testid=error-reason]").Length() != 1 {
		t.Error("no reason message on the confirmation page")
	}
}

func hygConfirmed(v url.Values) url.Values {
	v.Set("confirm", "yes")
	return v
}

func TestHygieneBulkAccountActions(t *testing.T) {
	w := newHygWorld(t)
	c := w.app.signedIn("acme-admin@example.com")
	before, mark := w.state(), w.app.hygAuditMark()

	// Basic Auth off: the one account with it on changes; one entry.
	r := c.post(w.orgPath("")+"/apply", hygConfirmed(hygForm("basic-auth", domain.HygieneBasicAuthOff, w.saIDs("uploader", "orphan")...)))
	if r.status != http.StatusSeeOther {
		t.Fatalf("basic auth off: %d", r.status)
	}
	if d := hygChanged(before, w.state()); len(d) != 1 || !strings.HasPrefix(d[0], "sa uploader: basic=1") || !strings.Contains(d[0], "→ basic=0") {
		t.Fatalf("changes %q", d)
	}
	entries := w.app.hygAudit(mark)
	if len(entries) != 1 || entries[0].Action != domain.ActionBasicAuthDisable || entries[0].TargetID != w.sa["uploader"].ID ||
		!strings.Contains(entries[0].Detail, "Basic Auth off") {
		t.Fatalf("audit %+v", entries)
	}

	// Disable two accounts.
	before, mark = w.state(), w.app.hygAuditMark()
	c.post(w.orgPath("")+"/apply", hygConfirmed(hygForm("admin-accounts", domain.HygieneDisableAccounts, w.saIDs("adminBot", "orgBot")...)))
	if d := hygChanged(before, w.state()); len(d) != 2 || !strings.Contains(d[0], "→ basic=0 disabled=1") || !strings.Contains(d[1], "→ basic=0 disabled=1") {
		t.Fatalf("disable changes %q", d)
	}
	for _, e := range w.app.hygAudit(mark) {
		if e.Action != domain.ActionServiceAccountDisable {
			t.Errorf("disable audit %+v", e)
		}
	}
	if n := len(w.app.hygAudit(mark)); n != 2 {
		t.Errorf("%d audit entries for two disabled accounts", n)
	}

	// Delete two accounts: their keys and every membership go, elsewhere too.
	before, mark = w.state(), w.app.hygAuditMark()
	r = c.post(w.orgPath("")+"/confirm", hygForm("no-keys", domain.HygieneDeleteAccounts, w.saIDs("keyless", "orgBot")...))
	if got := r.doc.Find("[data-testid=confirm-row]").Length(); got != 2 {
		t.Fatalf("confirmation lists %d accounts", got)
	}
	r = c.post(w.orgPath("")+"/apply", hygFormOf(r, "[data-testid=hygiene-confirm-form]"))
	if r.status != http.StatusSeeOther || r.header.Get("Location") != w.orgPath("list=no-keys") {
		t.Fatalf("delete accounts: %d %q", r.status, r.header.Get("Location"))
	}
	want := []string{"key orgBot: disabled=0 → gone", "sa keyless: basic=0 disabled=0 memberships=1 keys=0 → gone", "sa orgBot: basic=0 disabled=1 memberships=1 keys=1 → gone"}
	if d := hygChanged(before, w.state()); strings.Join(d, "; ") != strings.Join(want, "; ") {
		t.Fatalf("changes %q, want %q", d, want)
	}
	if _, ok := w.app.memOrgMembership(w.partner.ID, w.sa["orgBot"].Ref()); ok {
		t.Error("the org bot is still an admin of Partner")
	}
	entries = w.app.hygAudit(mark)
	if len(entries) != 2 {
		t.Fatalf("%d audit entries for two deleted accounts", len(entries))
	}
	for _, e := range entries {
		if e.Action != domain.ActionServiceAccountDelete || e.OrganizationID != w.app.org.ID {
			t.Errorf("delete audit %+v", e)
		}
	}

	// Disable keys: exactly the selected.
	before, mark = w.state(), w.app.hygAuditMark()
	c.post(w.orgPath("")+"/apply", hygConfirmed(hygForm("old-keys", domain.HygieneDisableKeys, w.keyIDs("stale", "fresh")...)))
	want = []string{"key fresh: disabled=0 → disabled=1", "key stale: disabled=0 → disabled=1"}
	if d := hygChanged(before, w.state()); strings.Join(d, "; ") != strings.Join(want, "; ") {
		t.Fatalf("changes %q, want %q", d, want)
	}
	if n := len(w.app.hygAudit(mark)); n != 2 {
		t.Errorf("%d audit entries for two disabled keys", n)
	}
	if got := c.get(w.orgPath("list=old-keys")).doc.Find("[data-testid=hygiene-key-state]").Length(); got != 2 {
		t.Errorf("%d keys marked disabled in the list", got)
	}
	// Disabling again changes nothing and writes nothing.
	mark = w.app.hygAuditMark()
	c.post(w.orgPath("")+"/apply", hygConfirmed(hygForm("old-keys", domain.HygieneDisableKeys, w.keyIDs("stale")...)))
	if n := len(w.app.hygAudit(mark)); n != 0 {
		t.Errorf("disabling a disabled key wrote %d entries", n)
	}

	// Support staff, with a reason, in any organization (a staff member
	// without any role: each change is a support action).
	w.app.addStaff(supportEmail, "")
	w.app.giveTOTP(supportEmail) // staff need a second factor for the support console
	staff := w.app.signedIn(supportEmail)
	before, mark = w.state(), w.app.hygAuditMark()
	r = staff.post("/support/hygiene/apply", withReason(hygConfirmed(hygForm("basic-auth", domain.HygieneBasicAuthOff, w.sa["partner"].ID)), "Ticket 77: Basic Auth clean-up"))
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/support/hygiene?list=basic-auth" {
		t.Fatalf("staff basic auth off: %d %q", r.status, r.header.Get("Location"))
	}
	if d := hygChanged(before, w.state()); len(d) != 1 || !strings.HasPrefix(d[0], "sa partner: basic=1") {
		t.Fatalf("staff changes %q", d)
	}
	entries = w.app.hygAudit(mark)
	if len(entries) != 1 || entries[0].Action != domain.ActionBasicAuthDisable || !entries[0].ActorStaff ||
		entries[0].Reason != "Ticket 77: Basic Auth clean-up" || entries[0].OrganizationID != w.partner.ID || entries[0].ProjectID != w.partnerProj.ID {
		t.Fatalf("staff audit %+v", entries)
	}
	before, mark = w.state(), w.app.hygAuditMark()
	staff.post("/support/hygiene/apply", withReason(hygConfirmed(hygForm("unused-keys", domain.HygieneDeleteKeys, w.keyIDs("partner", "neverOld")...)), "Ticket 78: unused keys"))
	want = []string{"key neverOld: disabled=0 → gone", "key partner: disabled=0 → gone",
		"sa partner: basic=0 disabled=0 memberships=0 keys=1 → basic=0 disabled=0 memberships=0 keys=0",
		"sa uploader: basic=0 disabled=0 memberships=1 keys=4 → basic=0 disabled=0 memberships=1 keys=3"}
	if d := hygChanged(before, w.state()); strings.Join(d, "; ") != strings.Join(want, "; ") {
		t.Fatalf("staff key delete changes %q, want %q", d, want)
	}
	for _, e := range w.app.hygAudit(mark) {
		if e.Action != domain.ActionKeyDelete || !e.ActorStaff || e.Reason != "Ticket 78: unused keys" {
			t.Errorf("staff key audit %+v", e)
		}
	}
}

func TestRolePickersExplainThemselves(t *testing.T) {
	app := newApp(t)
	inv := app.inventory()
	boss := app.addUser("boss@example.com", inv.ID, domain.RoleProjectUser, app.org.ID) // project user, organization admin
	plain := app.addUser("plain@example.com", inv.ID, domain.RoleProjectDev, "")
	app.addUser("inv-admin@example.com", inv.ID, domain.RoleProjectAdmin, "")
	perms := func(r domain.Role) []string {
		info, _ := domain.LookupRole(r)
		var out []string
		for _, p := range info.Permissions {
			out = append(out, string(p))
		}
		return out
	}
	listed := func(s *goquery.Selection) []string {
		var out []string
		s.Find("[data-testid=role-permission]").Each(func(_ int, p *goquery.Selection) { out = append(out, p.Text()) })
		return out
	}

	// The project's members, as an organization admin (the first administrator).
	c := app.signedIn(adminEmail)
	r := c.get("/projects/" + inv.ID + "/members")
	bossRow := r.doc.Find("[data-testid=member-row][data-member='" + itoa(boss.ID) + "']")
	plainRow := r.doc.Find("[data-testid=member-row][data-member='" + itoa(plain.ID) + "']")
	if bossRow.Find("[data-testid=member-role-select]").Length() != 1 {
		t.Fatal("no role picker in the row")
	}
	hygSame(t, "permissions beside a Project user", listed(bossRow.Find("[data-testid=role-help]")), perms(domain.RoleProjectUser))
	hygSame(t, "permissions beside a Project developer", listed(plainRow.Find("[data-testid=role-help]")), perms(domain.RoleProjectDev))
	if got := plainRow.Find("[data-testid=role-description]").Text(); got != "Allows editing devices and Project settings" {
		t.Errorf("description %q", got)
	}
	if got := bossRow.Find("[data-testid=effective-role-name]").Text(); got != "Organization admin" {
		t.Errorf("effective role beside an organization admin's project role = %q", got)
	}
	if plainRow.Find("[data-testid=effective-role]").Length() != 0 {
		t.Error("an effective role beside a member whose role is all it has")
	}
	// The invite form explains its choices too.
	invite := r.doc.Find("[data-testid=invite-role-help]")
	hygSame(t, "invite form's default role", listed(invite.Find("[data-testid=role-help]")), perms(domain.RoleProjectUser))
	var legend []string
	invite.Find("[data-testid=legend-role]").Each(func(_ int, s *goquery.Selection) { legend = append(legend, s.Text()) })
	hygSame(t, "legend", legend, []string{"Project user", "Project developer", "Project admin"})
	if title, _ := r.doc.Find("[data-testid=invite-role] option[value='roles/project.admin']").Attr("title"); !strings.Contains(title, "add and remove users") {
		t.Errorf("option title %q", title)
	}
	// After a role change, the swapped row still says it.
	c.get("/projects/" + inv.ID + "/members")
	r = c.htmxPost("/projects/"+inv.ID+"/members/"+itoa(boss.ID)+"/role", url.Values{"role": {string(domain.RoleProjectAdmin)}})
	if got := r.doc.Find("[data-testid=effective-role-name]").Text(); got != "Organization admin" {
		t.Errorf("swapped row's effective role %q", got)
	}
	hygSame(t, "swapped row's permissions", listed(r.doc.Find("[data-testid=role-help]")), perms(domain.RoleProjectAdmin))

	// A project admin, who may not read the organization's memberships, is not told.
	pa := app.signedIn("inv-admin@example.com")
	r = pa.get("/projects/" + inv.ID + "/members")
	if n := r.doc.Find("[data-testid=effective-role]").Length(); n != 0 {
		t.Errorf("a project admin sees %d effective roles", n)
	}
	if n := r.doc.Find("[data-testid=member-row] [data-testid=role-help]").Length(); n == 0 {
		t.Error("a project admin's pickers explain nothing")
	}

	// The access overview of an organization admin.
	r = c.get("/orgs/" + app.org.ID + "/members/" + itoa(boss.ID) + "/access")
	rows := r.doc.Find("[data-testid=access-row]")
	if rows.Length() == 0 || rows.Find("[data-testid=effective-role-name]").Length() != rows.Length() {
		t.Errorf("%d access rows, %d with the effective role", rows.Length(), rows.Find("[data-testid=effective-role-name]").Length())
	}
	if r.doc.Find("[data-testid=access-form] [data-testid=roles-legend]").Length() != 1 {
		t.Error("no legend on the access overview")
	}

	// A service account's role in its project, raised by its organization admin membership.
	sa := app.addServiceAccount(inv, "Robot")
	app.addMembership(sa.Ref(), app.org.ID, inv.ID, domain.RoleProjectUser)
	r = c.get(saPath(sa))
	section := r.doc.Find("#sa-role")
	if section.Find("[data-testid=role-select]").Length() != 1 || section.Find("[data-testid=role-effect]").Length() != 1 {
		t.Fatal("the role control lost its test ids")
	}
	hygSame(t, "service account role permissions", listed(section.Find("[data-testid=role-help]")), perms(domain.RoleProjectUser))
	if section.Find("[data-testid=effective-role]").Length() != 0 {
		t.Error("effective role shown without an organization admin membership")
	}
	app.addMembership(sa.Ref(), app.org.ID, "", domain.RoleOrgAdmin)
	section = c.get(saPath(sa)).doc.Find("#sa-role")
	if got := section.Find("[data-testid=effective-role-name]").Text(); got != "Organization admin" {
		t.Errorf("service account's effective role %q", got)
	}
	if section.Find("[data-testid=roles-legend] [data-testid=legend-role]").Length() != 4 {
		t.Error("the legend does not list No access and the three project roles")
	}
}

// TestServiceAccountDeleteListsEveryMembershipAndIDsAreNeverReused (item 6).
func TestServiceAccountDeleteListsEveryMembershipAndIDsAreNeverReused(t *testing.T) {
	app := newApp(t)
	ctx := context.Background()
	inv := app.inventory()
	partner, _ := app.addOrg("Partner", "partner@example.com")
	partnerProj := app.addProject(partner.ID, "Partner project")
	initech, _ := app.addOrg("Initech", "initech@example.com")
	initechProj := app.addProject(initech.ID, "TPS reports")
	sa := app.addServiceAccount(inv, "Roaming")
	app.addMembership(sa.Ref(), app.org.ID, inv.ID, domain.RoleProjectUser)
	app.addMembership(sa.Ref(), partner.ID, partnerProj.ID, domain.RoleProjectDev)
	app.addMembership(sa.Ref(), partner.ID, "", domain.RoleOrgAdmin)
	app.addMembership(sa.Ref(), initech.ID, initechProj.ID, domain.RoleProjectAdmin)
	k := app.addKey(sa)

	c := app.signedIn(adminEmail)
	r := c.get(saPath(sa) + "/delete")
	var rows []string
	r.doc.Find("[data-testid=membership-row]").Each(func(_ int, s *goquery.Selection) {
		var cells []string
		s.Find("td").Each(func(_ int, td *goquery.Selection) { cells = append(cells, strings.TrimSpace(td.Text())) })
		rows = append(rows, strings.Join(cells, " | "))
	})
	sort.Strings(rows)
	// Every membership goes with the account; those in organizations this
	// admin has no access to are counted, not named (issue 11).
	hygSame(t, "memberships on the delete confirmation", rows, []string{"Acme | Inventory | Project user"})
	if got := r.doc.Find("[data-testid=hidden-memberships]").Text(); !strings.Contains(got, "And 3 elsewhere") {
		t.Errorf("memberships elsewhere on the delete confirmation: %q", got)
	}
	if r := c.post(saPath(sa)+"/delete", url.Values{"confirm": {"Roaming"}}); r.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.status)
	}

	// The same ids can never be issued again, even after the deletion.
	again := sa
	err := app.store.Update(ctx, func(tx domain.Tx) error { return tx.CreateServiceAccount(ctx, again) })
	if domain.ErrorCode(err) != domain.ECONFLICT {
		t.Errorf("re-creating a deleted service account's id: %v, want a conflict", err)
	}
	other := app.addServiceAccount(inv, "Other")
	reused := domain.Key{ID: k.ID, ServiceAccountID: other.ID, Sealed: []byte("x"), CreateTime: app.clock.Now()}
	if err := app.store.Update(ctx, func(tx domain.Tx) error { return tx.CreateKey(ctx, reused) }); err == nil {
		t.Error("a deleted key's id was issued again")
	}
	// An account id cannot be taken by a key either.
	asKey := domain.Key{ID: sa.ID, ServiceAccountID: other.ID, Sealed: []byte("x"), CreateTime: app.clock.Now()}
	if err := app.store.Update(ctx, func(tx domain.Tx) error { return tx.CreateKey(ctx, asKey) }); err == nil {
		t.Error("a deleted account's id was issued as a key id")
	}
	// Fresh ids still work.
	app.addKey(other)
}

// hygRowSel selects the row of an object.
func hygRowSel(id string) string { return "[data-testid=hygiene-row][data-id='" + id + "']" }
