package web_test

// Tests of the members pages through the real router: project members,
// invitations and their links, organization admins, the access overview,
// every role against every action (with the database checked after each
// refusal), and the immediate loss of access. Helpers carry a mem prefix.

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"studio/domain"

	"github.com/PuerkitoBio/goquery"
)

const memBaseURL = "http://studio.test"

func memUserRef(u domain.User) domain.AccountRef {
	return domain.AccountRef{Type: domain.AccountUser, ID: itoa(u.ID)}
}

func memMembersPath(projectID string) string { return "/projects/" + projectID + "/members" }
func memMemberPath(projectID, memberID string) string {
	return memMembersPath(projectID) + "/" + memberID
}
func memAdminsPath(orgID string) string { return "/orgs/" + orgID + "/admins" }
func memAccessPath(orgID, memberID string) string {
	return "/orgs/" + orgID + "/members/" + memberID + "/access"
}

// memMembership returns the account's membership in a project (ok false when none).
func (a *testApp) memMembership(projectID string, ref domain.AccountRef) (domain.Membership, bool) {
	a.t.Helper()
	m, err := a.store.ProjectMembership(context.Background(), projectID, ref)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return m, false
	}
	if err != nil {
		a.t.Fatal(err)
	}
	return m, true
}

// memOrgMembership returns the account's organization membership (ok false when none).
func (a *testApp) memOrgMembership(orgID string, ref domain.AccountRef) (domain.Membership, bool) {
	a.t.Helper()
	m, err := a.store.OrgMembership(context.Background(), orgID, ref)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return m, false
	}
	if err != nil {
		a.t.Fatal(err)
	}
	return m, true
}

func (a *testApp) memUser(email string) (domain.User, bool) {
	a.t.Helper()
	u, err := a.store.UserByEmail(context.Background(), email)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return u, false
	}
	if err != nil {
		a.t.Fatal(err)
	}
	return u, true
}

func (a *testApp) memAuditCount() int {
	a.t.Helper()
	entries, err := a.store.ListAudit(context.Background(), domain.AuditFilter{}, 0, 100000)
	if err != nil {
		a.t.Fatal(err)
	}
	return len(entries)
}

// memOutboxMessage is one row of the outbox table.
type memOutboxMessage struct {
	To, Subject, Body string
	InvitationID      int64
}

// memOutbox reads the outbox table. The store has no reader for it, so the
// test opens the app's database file (newApp's, in a sibling of a new
// temporary directory) read-only.
func (a *testApp) memOutbox() []memOutboxMessage {
	a.t.Helper()
	paths, err := filepath.Glob(filepath.Join(filepath.Dir(a.t.TempDir()), "*", "studio.db"))
	if err != nil || len(paths) != 1 {
		a.t.Fatalf("find the app's database file: %v %v", paths, err)
	}
	db, err := sql.Open("sqlite", "file:"+paths[0]+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		a.t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT to_email, subject, body, coalesce(invitation_id, 0) FROM outbox ORDER BY id")
	if err != nil {
		a.t.Fatal(err)
	}
	defer rows.Close()
	var out []memOutboxMessage
	for rows.Next() {
		var m memOutboxMessage
		if err := rows.Scan(&m.To, &m.Subject, &m.Body, &m.InvitationID); err != nil {
			a.t.Fatal(err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		a.t.Fatal(err)
	}
	return out
}

// memAddPending makes a pending (invited, not accepted) user with a pending
// membership in the project, directly in the store.
func (a *testApp) memAddPending(email string, p domain.Project, role domain.Role) domain.User {
	a.t.Helper()
	ctx := context.Background()
	u := domain.User{Email: email, DisplayName: email, CreateTime: a.clock.Now()}
	err := a.store.Update(ctx, func(tx domain.Tx) error {
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		m := domain.Membership{OrganizationID: p.OrganizationID, ProjectID: p.ID, Account: memUserRef(u), Role: role,
			Status: domain.StatusPending, CreateTime: a.clock.Now()}
		return tx.CreateMembership(ctx, &m)
	})
	if err != nil {
		a.t.Fatal(err)
	}
	return u
}

// memLink reads the invite link a response shows and returns it as a path on the test server.
func memLink(t *testing.T, r response) string {
	t.Helper()
	link := strings.TrimSpace(r.doc.Find("[data-testid=invite-link]").Text())
	if !strings.HasPrefix(link, memBaseURL+"/invite/") {
		t.Fatalf("invite link = %q (status %d)", link, r.status)
	}
	return strings.TrimPrefix(link, memBaseURL)
}

// memFragment parses an htmx answer that starts with a table row: on its
// own, an HTML parser drops the row's tags.
func memFragment(t *testing.T, r response) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader("<table><tbody>" + r.body + "</tbody></table>"))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func memFlash(c *client, r response) string {
	c.app.t.Helper()
	if r.status != http.StatusSeeOther {
		c.app.t.Fatalf("status %d, want a redirect", r.status)
	}
	return c.get(r.header.Get("Location")).doc.Find("[data-testid=flash]").Text()
}

func memRow(r response, email string) *goquery.Selection {
	return r.doc.Find("[data-testid=member-row], [data-testid=admin-row]").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.TrimSpace(s.Find("[data-testid=member-email], [data-testid=admin-email]").Text()) == email
	})
}

func TestMembersInviteExistingAccounts(t *testing.T) {
	app := newApp(t)
	field := app.addProject(app.org.ID, "Field")
	bob := app.addUser("bob@example.com", "", "", "")
	partner, _ := app.addOrg("Partner", "partner@example.com")
	partnerProject := app.addProject(partner.ID, "Partner project")
	sa := app.addServiceAccount(partnerProject, "Partner exporter")
	c := app.signedIn(adminEmail)
	list := memMembersPath(field.ID)
	page := c.get(list)
	if page.status != http.StatusOK || page.doc.Find("[data-testid=no-members]").Length() != 1 ||
		page.doc.Find("[data-testid=invite-form]").Length() != 1 {
		t.Fatalf("empty members page: status %d", page.status)
	}
	if got := page.doc.Find("[data-testid=invite-role] option").Length(); got != 3 {
		t.Fatalf("role select has %d options, want the 3 project roles", got)
	}

	// An existing user becomes an accepted member at once.
	r := c.post(list, url.Values{"email": {" Bob@Example.com "}, "role": {string(domain.RoleProjectUser)}})
	if flash := memFlash(c, r); !strings.Contains(flash, "bob@example.com is now a member") {
		t.Fatalf("flash = %q", flash)
	}
	m, ok := app.memMembership(field.ID, memUserRef(bob))
	if !ok || m.Status != domain.StatusAccepted || m.Role != domain.RoleProjectUser {
		t.Fatalf("bob's membership = %+v (exists %v)", m, ok)
	}
	// A service account of another organization too.
	r = c.post(list, url.Values{"email": {strings.ToUpper(sa.Email)}, "role": {string(domain.RoleProjectDev)}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("invite service account: status %d %s", r.status, r.doc.Find(".field-error").Text())
	}
	m, ok = app.memMembership(field.ID, sa.Ref())
	if !ok || m.Status != domain.StatusAccepted || m.Role != domain.RoleProjectDev {
		t.Fatalf("service account's membership = %+v (exists %v)", m, ok)
	}
	if n := len(app.memOutbox()); n != 0 {
		t.Fatalf("%d emails queued for existing accounts", n)
	}
	page = c.get(list)
	bobRow, saRow := memRow(page, "bob@example.com"), memRow(page, sa.Email)
	if bobRow.Find("[data-testid=member-type]").Text() != "User" || bobRow.Find("[data-testid=pending-badge]").Length() != 0 ||
		bobRow.Find("[data-testid=member-role-select] option[selected]").Text() != "Project user" {
		t.Fatalf("bob's row = %q", bobRow.Text())
	}
	if saRow.Find("[data-testid=member-type]").Text() != "Service account" || saRow.Find("[data-testid=member-name]").Text() != "Partner exporter" ||
		saRow.Find("[data-testid=member-role-select] option[selected]").Text() != "Project developer" {
		t.Fatalf("service account's row = %q", saRow.Text())
	}
	if bobRow.Find("[data-testid=reissue-link]").Length() != 0 {
		t.Fatal("an accepted member is offered an invite link")
	}

	// Inviting a member again is a conflict and changes nothing.
	audits := app.memAuditCount()
	r = c.post(list, url.Values{"email": {"bob@example.com"}, "role": {string(domain.RoleProjectAdmin)}})
	if r.status != http.StatusConflict || !strings.Contains(r.doc.Find("[data-testid=error-email]").Text(), "already a member") {
		t.Fatalf("re-invite: status %d error %q", r.status, r.doc.Find("[data-testid=error-email]").Text())
	}
	if r.doc.Find("[data-testid=invite-email]").AttrOr("value", "") != "bob@example.com" ||
		r.doc.Find("[data-testid=invite-role] option[selected]").AttrOr("value", "") != string(domain.RoleProjectAdmin) {
		t.Fatal("the form lost what was typed")
	}
	if m, _ := app.memMembership(field.ID, memUserRef(bob)); m.Role != domain.RoleProjectUser || app.memAuditCount() != audits {
		t.Fatalf("the conflict changed something: role %s", m.Role)
	}

	// Invalid input shows beside its field.
	r = c.post(list, url.Values{"email": {"not-an-email"}, "role": {string(domain.RoleProjectUser)}})
	if r.status != http.StatusUnprocessableEntity || r.doc.Find("[data-testid=error-email]").Length() != 1 ||
		r.doc.Find("[data-testid=invite-email]").AttrOr("aria-invalid", "") != "true" {
		t.Fatalf("bad email: status %d", r.status)
	}
	r = c.post(list, url.Values{"email": {"carol@example.com"}, "role": {string(domain.RoleOrgAdmin)}})
	if r.status != http.StatusUnprocessableEntity || r.doc.Find("[data-testid=error-role]").Length() != 1 ||
		r.doc.Find("[data-testid=invite-email]").AttrOr("value", "") != "carol@example.com" {
		t.Fatalf("organization role in a project: status %d", r.status)
	}
	if _, exists := app.memUser("carol@example.com"); exists || app.memAuditCount() != audits {
		t.Fatal("a refused invitation made a user or an audit entry")
	}
}

func TestMembersInviteUnknownEmailShowsLink(t *testing.T) {
	app := newApp(t)
	field := app.addProject(app.org.ID, "Field")
	c := app.signedIn(adminEmail)
	list := memMembersPath(field.ID)
	c.get(list)
	r := c.post(list, url.Values{"email": {"New.Person@Example.com"}, "role": {string(domain.RoleProjectDev)}})
	if r.status != http.StatusOK {
		t.Fatalf("invite: status %d", r.status)
	}
	if r.header.Get("Cache-Control") != "no-store" || r.doc.Find("[hx-history=false] [data-testid=invite-link]").Length() != 1 {
		t.Fatal("the link's response may be cached or kept in htmx history")
	}
	if r.header.Get("HX-Replace-Url") != list {
		t.Fatalf("HX-Replace-Url = %q", r.header.Get("HX-Replace-Url"))
	}
	link := memLink(t, r)
	if r.doc.Find("[data-testid=copy-invite-link]").AttrOr("data-copy", "") != "#invite-link" {
		t.Fatal("no copy button")
	}
	if !strings.Contains(r.doc.Find("[data-testid=flash]").Text(), "new.person@example.com is invited") {
		t.Fatalf("notice = %q", r.doc.Find("[data-testid=flash]").Text())
	}
	u, ok := app.memUser("new.person@example.com")
	if !ok || !u.Pending() || u.DisplayName != "new.person@example.com" {
		t.Fatalf("pending user = %+v (exists %v)", u, ok)
	}
	m, _ := app.memMembership(field.ID, memUserRef(u))
	if m.Status != domain.StatusPending || m.Role != domain.RoleProjectDev {
		t.Fatalf("membership = %+v", m)
	}
	// The email waits for the invitation without a body: its own link is
	// minted when it is sent, so the outbox holds no usable link.
	out := app.memOutbox()
	if len(out) != 1 || out[0].To != "new.person@example.com" || out[0].Body != "" || out[0].InvitationID == 0 {
		t.Fatalf("outbox = %+v", out)
	}
	// The list shows the pending member, never the link again.
	page := c.get(list)
	row := memRow(page, "new.person@example.com")
	if row.Find("[data-testid=pending-badge]").Text() != "PENDING" || row.Find("[data-testid=member-name]").Text() != "new.person@example.com" {
		t.Fatalf("pending row = %q", row.Text())
	}
	if strings.Contains(page.body, link) || page.doc.Find("[data-testid=invite-link]").Length() != 0 {
		t.Fatal("the list shows the link again")
	}
	// A new link can be issued, shown once too; it ends the first.
	reissue := row.Find("[data-testid=reissue-form]").AttrOr("action", "")
	if reissue != memMemberPath(field.ID, itoa(u.ID))+"/invite-link" {
		t.Fatalf("re-issue form posts to %q", reissue)
	}
	r = c.post(reissue, nil)
	second := memLink(t, r)
	if r.status != http.StatusOK || second == link || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("re-issue: status %d", r.status)
	}
	// The waiting email stays one (it gets its link when sent).
	if out := app.memOutbox(); len(out) != 1 || out[0].Body != "" {
		t.Fatalf("outbox after re-issue = %+v", out)
	}
	if got := app.auditActions(app.org.ID)[0]; got != domain.ActionInvitationIssue {
		t.Fatalf("audit after re-issue = %q", got)
	}
	visitor := app.client()
	if r := visitor.get(link); r.status != http.StatusNotFound {
		t.Fatalf("GET the first link after a re-issue: status %d", r.status)
	}
	if r := visitor.get(second); r.status != http.StatusOK || r.doc.Find("[data-testid=accept-form]").Length() != 1 {
		t.Fatalf("GET the new link: status %d", r.status)
	}
	// An accepted member has no link to re-issue.
	bob := app.addUser("bob@example.com", field.ID, domain.RoleProjectUser, "")
	r = c.post(memMemberPath(field.ID, itoa(bob.ID))+"/invite-link", nil)
	if flash := memFlash(c, r); !strings.Contains(flash, "not yet accepted") {
		t.Fatalf("re-issue for an accepted member: flash %q", flash)
	}
	if n := len(app.memOutbox()); n != 1 {
		t.Fatalf("%d emails queued", n)
	}
}

func TestInviteAcceptFlow(t *testing.T) {
	app := newApp(t)
	field := app.addProject(app.org.ID, "Field")
	orchard := app.addProject(app.org.ID, "Orchard")
	admin := app.signedIn(adminEmail)
	admin.get(memMembersPath(field.ID))
	link := memLink(t, admin.post(memMembersPath(field.ID), url.Values{"email": {"dana@example.com"}, "role": {string(domain.RoleProjectUser)}}))
	// Invited to a second project before accepting: each invitation has its
	// own link, which accepts only its own membership.
	orchardLink := memLink(t, admin.post(memMembersPath(orchard.ID), url.Values{"email": {"dana@example.com"}, "role": {string(domain.RoleProjectAdmin)}}))
	dana, _ := app.memUser("dana@example.com")

	c := app.client()
	page := c.get(link)
	if page.status != http.StatusOK || !strings.Contains(page.doc.Find("[data-testid=invite-for]").Text(), "dana@example.com") ||
		page.header.Get("Cache-Control") != "no-store" || page.header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("invite page: status %d", page.status)
	}
	if page.doc.Find("[data-testid=invite-signed-in]").Length() != 0 {
		t.Fatal("a visitor is told someone is signed in")
	}
	for _, tc := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"name": {"  "}, "password": {"a long enough password"}, "confirm": {"a long enough password"}}, "name"},
		{url.Values{"name": {"Dana"}, "password": {"short"}, "confirm": {"short"}}, "password"},
		{url.Values{"name": {"Dana"}, "password": {"a long enough password"}, "confirm": {"another long password"}}, "confirm"},
	} {
		r := c.post(link, tc.form)
		if r.status != http.StatusUnprocessableEntity || r.doc.Find("[data-testid=error-"+tc.field+"]").Length() != 1 {
			t.Fatalf("invalid %s: status %d", tc.field, r.status)
		}
		if got := r.doc.Find("[data-testid=accept-name]").AttrOr("value", "?"); got != tc.form.Get("name") {
			t.Fatalf("name after the error = %q", got)
		}
		if r.doc.Find("[data-testid=accept-password]").AttrOr("value", "") != "" {
			t.Fatal("the password is written back into the form")
		}
	}
	if u, found := app.memUser("dana@example.com"); !found || !u.Pending() {
		t.Fatalf("an invalid form accepted the invitation (user found: %v)", found)
	}

	r := c.post(link, url.Values{"name": {" Dana Scully "}, "password": {"a long enough password"}, "confirm": {"a long enough password"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/projects/"+field.ID || cookieNamed(r.header, "studio_session") == nil {
		t.Fatalf("accept: status %d location %q", r.status, r.header.Get("Location"))
	}
	home := c.get(r.header.Get("Location"))
	if home.status != http.StatusOK || home.doc.Find("[data-testid=user-menu]").Text() != "dana@example.com" ||
		!strings.Contains(home.doc.Find("[data-testid=flash]").Text(), "Welcome to Studio, Dana Scully") {
		t.Fatalf("after accepting: status %d user %q flash %q", home.status, home.doc.Find("[data-testid=user-menu]").Text(),
			home.doc.Find("[data-testid=flash]").Text())
	}
	u, _ := app.memUser("dana@example.com")
	if u.Pending() || u.DisplayName != "Dana Scully" {
		t.Fatalf("user after accepting = %+v", u)
	}
	if m, _ := app.memMembership(field.ID, memUserRef(dana)); m.Status != domain.StatusAccepted {
		t.Fatalf("membership in Field = %s", m.Status)
	}
	if m, _ := app.memMembership(orchard.ID, memUserRef(dana)); m.Status != domain.StatusPending {
		t.Fatalf("membership in Orchard = %s, want PENDING until its own link is used", m.Status)
	}
	if r := c.get("/projects/" + orchard.ID + "/members"); r.status != http.StatusNotFound {
		t.Fatalf("dana in Orchard before accepting its invitation: status %d", r.status)
	}
	entries, _ := app.store.ListAudit(context.Background(), domain.AuditFilter{}, 0, 1)
	if entries[0].Action != domain.ActionInvitationAccept || entries[0].ActorEmail != "dana@example.com" || entries[0].ProjectID != field.ID {
		t.Fatalf("last audit entry = %+v", entries[0])
	}
	// Signed in as dana, the Orchard link offers one button.
	page = c.get(orchardLink)
	if page.status != http.StatusOK || page.doc.Find("[data-testid=accept-as-form]").Length() != 1 ||
		page.doc.Find("[data-testid=accept-form]").Length() != 0 {
		t.Fatalf("Orchard link while signed in as dana: status %d", page.status)
	}
	if r := c.post(orchardLink, url.Values{"action": {"accept"}}); r.status != http.StatusSeeOther {
		t.Fatalf("accept Orchard: status %d", r.status)
	}
	if r := c.get("/projects/" + orchard.ID + "/members"); r.status != http.StatusOK || r.doc.Find("[data-testid=invite-form]").Length() != 1 {
		t.Fatalf("dana as project admin of Orchard: status %d", r.status)
	}

	// The link works once.
	for _, again := range []response{app.client().get(link), c.get(link),
		app.client().post(link, url.Values{"name": {"Mallory"}, "password": {"a long enough password"}, "confirm": {"a long enough password"}})} {
		if again.status != http.StatusNotFound || again.doc.Find("[data-testid=invite-invalid-message]").Text() == "" {
			t.Fatalf("used link: status %d", again.status)
		}
	}
	if u, _ := app.memUser("dana@example.com"); u.DisplayName != "Dana Scully" {
		t.Fatal("a used link changed the user")
	}
	// And the password signs in.
	app.client().signIn("dana@example.com", "a long enough password")
}

func TestInviteLinksExpireAndUnknownLinks(t *testing.T) {
	app := newApp(t)
	field := app.addProject(app.org.ID, "Field")
	admin := app.signedIn(adminEmail)
	admin.get(memMembersPath(field.ID))
	link := memLink(t, admin.post(memMembersPath(field.ID), url.Values{"email": {"late@example.com"}, "role": {string(domain.RoleProjectUser)}}))
	visitor := app.client()
	app.clock.Advance(domain.DefaultInviteTTL + time.Minute)
	r := visitor.get(link)
	if r.status != http.StatusNotFound || !strings.Contains(r.doc.Find("[data-testid=invite-invalid-message]").Text(), "expired") {
		t.Fatalf("expired link: status %d message %q", r.status, r.doc.Find("[data-testid=invite-invalid-message]").Text())
	}
	r = visitor.post(link, url.Values{"name": {"Late"}, "password": {"a long enough password"}, "confirm": {"a long enough password"}})
	if r.status != http.StatusNotFound {
		t.Fatalf("accept an expired link: status %d", r.status)
	}
	if u, found := app.memUser("late@example.com"); !found || !u.Pending() {
		t.Fatalf("an expired link set a password (user found: %v)", found)
	}
	for _, bad := range []string{"/invite/" + strings.Repeat("ab", 32), "/invite/short", "/invite/" + strings.Repeat("z", 64)} {
		r := visitor.get(bad)
		if r.status != http.StatusNotFound || !strings.Contains(r.doc.Find("[data-testid=invite-invalid-message]").Text(), "not valid") {
			t.Fatalf("GET %s: status %d", bad, r.status)
		}
	}
	// A new link (the admin signs in again: the old session has expired too) works.
	admin = app.signedIn(adminEmail)
	u, _ := app.memUser("late@example.com")
	fresh := memLink(t, admin.post(memMemberPath(field.ID, itoa(u.ID))+"/invite-link", nil))
	r = visitor.post(fresh, url.Values{"name": {"Late"}, "password": {"a long enough password"}, "confirm": {"a long enough password"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("accept the new link: status %d", r.status)
	}
	if r := visitor.get(link); r.status != http.StatusNotFound {
		t.Fatalf("the expired link after acceptance: status %d", r.status)
	}
}

func TestInviteWhileSignedInAsSomeoneElse(t *testing.T) {
	app := newApp(t)
	field := app.addProject(app.org.ID, "Field")
	admin := app.signedIn(adminEmail)
	admin.get(memMembersPath(field.ID))
	link := memLink(t, admin.post(memMembersPath(field.ID), url.Values{"email": {"eve@example.com"}, "role": {string(domain.RoleProjectUser)}}))
	page := admin.get(link)
	if page.status != http.StatusOK || !strings.Contains(page.doc.Find("[data-testid=invite-signed-in]").Text(), adminEmail) {
		t.Fatalf("invite page while signed in: status %d", page.status)
	}
	// The admin's session cookie as it was before accepting.
	srvURL, _ := url.Parse(app.srv.URL)
	var old []*http.Cookie
	for _, ck := range admin.http.Jar.Cookies(srvURL) {
		if ck.Name == "studio_session" {
			old = append(old, ck)
		}
	}
	if len(old) != 1 {
		t.Fatal("no session cookie")
	}
	r := admin.post(link, url.Values{"name": {"Eve"}, "password": {"a long enough password"}, "confirm": {"a long enough password"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("accept: status %d", r.status)
	}
	if got := admin.get("/").doc.Find("[data-testid=user-menu]").Text(); got != "eve@example.com" {
		t.Fatalf("signed in as %q after accepting, want eve@example.com", got)
	}
	// The admin's session ended with it: its old cookie no longer signs anyone in.
	replay := app.client()
	replay.http.Jar.SetCookies(srvURL, old)
	if r := replay.get("/"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/signin") {
		t.Fatalf("the old session still works: status %d", r.status)
	}
}

func TestMemberRoleChangeAndRemoval(t *testing.T) {
	app := newApp(t)
	field := app.addProject(app.org.ID, "Field")
	bob := app.addUser("bob@example.com", field.ID, domain.RoleProjectUser, "")
	carl := app.addUser("carl@example.com", field.ID, domain.RoleProjectUser, "")
	c := app.signedIn(adminEmail)
	c.get(memMembersPath(field.ID))
	bobPath, carlPath := memMemberPath(field.ID, itoa(bob.ID)), memMemberPath(field.ID, itoa(carl.ID))

	// Without JavaScript: post, redirect, flash.
	r := c.post(bobPath+"/role", url.Values{"role": {string(domain.RoleProjectDev)}})
	if flash := memFlash(c, r); !strings.Contains(flash, "bob@example.com is now Project developer") {
		t.Fatalf("flash = %q", flash)
	}
	if m, _ := app.memMembership(field.ID, memUserRef(bob)); m.Role != domain.RoleProjectDev {
		t.Fatalf("role = %s", m.Role)
	}
	// With htmx: the row comes back with a toast.
	r = c.htmxPost(bobPath+"/role", url.Values{"role": {string(domain.RoleProjectAdmin)}})
	if r.status != http.StatusOK || r.doc.Find("header.topbar").Length() != 0 {
		t.Fatalf("htmx role change: status %d", r.status)
	}
	if frag := memFragment(t, r); frag.Find("[data-testid=member-row] [data-testid=member-role-select] option[selected]").Text() != "Project admin" ||
		!strings.Contains(frag.Find("[data-testid=toast]").Text(), "Project admin") {
		t.Fatalf("htmx role change answered %q", r.body)
	}
	if m, _ := app.memMembership(field.ID, memUserRef(bob)); m.Role != domain.RoleProjectAdmin {
		t.Fatalf("role = %s", m.Role)
	}
	// An invalid role shows beside the row and changes nothing.
	r = c.htmxPost(bobPath+"/role", url.Values{"role": {string(domain.RoleOrgAdmin)}})
	if r.status != http.StatusUnprocessableEntity || memFragment(t, r).Find("[data-testid=member-row] [data-testid=row-error]").Length() != 1 {
		t.Fatalf("invalid role (htmx): status %d", r.status)
	}
	r = c.post(bobPath+"/role", url.Values{"role": {"roles/superuser"}})
	if r.status != http.StatusUnprocessableEntity || memRow(r, "bob@example.com").Find("[data-testid=row-error]").Length() != 1 {
		t.Fatalf("invalid role: status %d", r.status)
	}
	if m, _ := app.memMembership(field.ID, memUserRef(bob)); m.Role != domain.RoleProjectAdmin {
		t.Fatalf("role after invalid changes = %s", m.Role)
	}
	if r := c.post(memMemberPath(field.ID, "999999")+"/role", url.Values{"role": {string(domain.RoleProjectUser)}}); r.status != http.StatusNotFound {
		t.Fatalf("unknown member: status %d", r.status)
	}

	// Removal: a confirmation page without JavaScript.
	confirm := c.get(bobPath + "/remove")
	if confirm.status != http.StatusOK || !strings.Contains(confirm.doc.Find("[data-testid=remove-explain]").Text(), "The account itself stays") {
		t.Fatalf("confirmation page: status %d", confirm.status)
	}
	if r := c.post(bobPath+"/remove", url.Values{}); r.status != http.StatusBadRequest {
		t.Fatalf("remove without confirmation: status %d", r.status)
	}
	if _, ok := app.memMembership(field.ID, memUserRef(bob)); !ok {
		t.Fatal("removed without confirmation")
	}
	r = c.post(bobPath+"/remove", url.Values{"confirm": {"yes"}})
	if flash := memFlash(c, r); !strings.Contains(flash, "account itself stays") {
		t.Fatalf("flash = %q", flash)
	}
	if _, ok := app.memMembership(field.ID, memUserRef(bob)); ok {
		t.Fatal("bob is still a member")
	}
	if _, ok := app.memUser("bob@example.com"); !ok {
		t.Fatal("the account went with the membership")
	}
	// With htmx: only a toast comes back, so the row is swapped for nothing.
	r = c.htmxPost(carlPath+"/remove", url.Values{"confirm": {"yes"}})
	if r.status != http.StatusOK || strings.Contains(r.body, "<tr") || r.doc.Find("#toasts[hx-swap-oob]").Length() != 1 {
		t.Fatalf("htmx removal: status %d body %q", r.status, r.body)
	}
	if _, ok := app.memMembership(field.ID, memUserRef(carl)); ok {
		t.Fatal("carl is still a member")
	}
	if r := c.post(carlPath+"/remove", url.Values{"confirm": {"yes"}}); r.status != http.StatusNotFound {
		t.Fatalf("remove twice: status %d", r.status)
	}
	want := []string{domain.ActionMembershipDelete, domain.ActionMembershipDelete, domain.ActionMembershipUpdate, domain.ActionMembershipUpdate}
	if got := app.auditActions(app.org.ID); strings.Join(got[:len(want)], ",") != strings.Join(want, ",") {
		t.Fatalf("audit = %v, want %v first", got, want)
	}
	entries, _ := app.store.ListAudit(context.Background(), domain.AuditFilter{OrganizationID: app.org.ID}, 0, 4)
	if entries[3].Detail != "Project user → Project developer" || entries[0].TargetName != "carl@example.com" || entries[0].ProjectID != field.ID ||
		entries[0].ActorEmail != adminEmail {
		t.Fatalf("audit entries = %+v", entries)
	}
}

func TestMembersSearchAndPages(t *testing.T) {
	app := newApp(t)
	field := app.addProject(app.org.ID, "Field")
	for i := 0; i < 55; i++ {
		app.addUser(fmt.Sprintf("user%02d@example.com", i), field.ID, domain.RoleProjectUser, "")
	}
	app.addUser("zoe@elsewhere.org", field.ID, domain.RoleProjectDev, "")
	c := app.signedIn(adminEmail)
	seen := map[string]bool{}
	path := memMembersPath(field.ID)
	for i := 0; path != ""; i++ {
		if i > 3 {
			t.Fatal("pagination does not end")
		}
		r := c.get(path)
		r.doc.Find("[data-testid=member-email]").Each(func(_ int, s *goquery.Selection) {
			if seen[s.Text()] {
				t.Errorf("%s listed twice", s.Text())
			}
			seen[s.Text()] = true
		})
		path = r.doc.Find("[data-testid=next-page]").AttrOr("href", "")
	}
	if len(seen) != 56 {
		t.Fatalf("%d members over all pages, want 56", len(seen))
	}
	r := c.get(memMembersPath(field.ID) + "?q=ELSEWHERE")
	if got := r.doc.Find("[data-testid=member-email]").Text(); got != "zoe@elsewhere.org" {
		t.Fatalf("search found %q", got)
	}
	if r := c.get(memMembersPath(field.ID) + "?q=nobody"); r.doc.Find("[data-testid=no-members]").Length() != 1 {
		t.Fatal("no empty result")
	}
}

// TestMembersPermissionsTable runs every role against every member and admin
// action through the console, checking the database after each refusal.
func TestMembersPermissionsTable(t *testing.T) {
	app := newApp(t)
	ctx := context.Background()
	field := app.addProject(app.org.ID, "Field")
	app.addOrg("Outside", "outsider@example.com")
	app.addUser("user@example.com", field.ID, domain.RoleProjectUser, "")
	app.addUser("dev@example.com", field.ID, domain.RoleProjectDev, "")
	app.addUser("padmin@example.com", field.ID, domain.RoleProjectAdmin, "")
	app.addUser("oadmin@example.com", "", "", app.org.ID)

	const (
		ok      = http.StatusOK
		see     = http.StatusSeeOther
		denied  = http.StatusForbidden
		missing = http.StatusNotFound
	)
	type expect struct {
		list, invite, role, removePage, remove, reissue int
		admins, adminInvite, revokePage, revoke, access int
		accessSave                                      int
	}
	for i, tc := range []struct {
		email string
		want  expect
	}{
		{"outsider@example.com", expect{missing, missing, missing, missing, missing, missing, missing, missing, missing, missing, missing, missing}},
		{"user@example.com", expect{ok, denied, denied, denied, denied, denied, denied, denied, denied, denied, denied, denied}},
		{"dev@example.com", expect{ok, denied, denied, denied, denied, denied, denied, denied, denied, denied, denied, denied}},
		{"padmin@example.com", expect{ok, see, see, ok, see, ok, denied, denied, denied, denied, denied, denied}},
		{"oadmin@example.com", expect{ok, see, see, ok, see, ok, ok, ok, ok, see, ok, see}},
	} {
		t.Run(tc.email, func(t *testing.T) {
			// Targets of this row only, so one row's success does not hide another's refusal.
			target := app.addUser(fmt.Sprintf("target%d@example.com", i), field.ID, domain.RoleProjectUser, "")
			pending := app.memAddPending(fmt.Sprintf("pending%d@example.com", i), field, domain.RoleProjectUser)
			existing := app.addUser(fmt.Sprintf("existing%d@example.com", i), "", "", "")
			revokee := app.addUser(fmt.Sprintf("revokee%d@example.com", i), "", "", app.org.ID)
			targetID, pendingID, revokeeID := itoa(target.ID), itoa(pending.ID), itoa(revokee.ID)
			newAdmin := fmt.Sprintf("newadmin%d@example.com", i)

			type state struct {
				targetRole, pendingStatus      string
				existingMember, newAdminExists bool
				revokeeAdmin                   bool
				audits, outbox                 int
			}
			snapshot := func() state {
				var s state
				if m, ok := app.memMembership(field.ID, memUserRef(target)); ok {
					s.targetRole = string(m.Role)
				}
				if m, ok := app.memMembership(field.ID, memUserRef(pending)); ok {
					s.pendingStatus = string(m.Status)
				}
				_, s.existingMember = app.memMembership(field.ID, memUserRef(existing))
				_, s.newAdminExists = app.memUser(newAdmin)
				_, s.revokeeAdmin = app.memOrgMembership(app.org.ID, memUserRef(revokee))
				s.audits, s.outbox = app.memAuditCount(), len(app.memOutbox())
				return s
			}
			c := app.signedIn(tc.email)
			check := func(what string, r response, want int) {
				t.Helper()
				if r.status != want {
					t.Errorf("%s: status %d, want %d", what, r.status, want)
				}
			}
			// Reads first: they change nothing.
			before := snapshot()
			list := c.get(memMembersPath(field.ID))
			check("list members", list, tc.want.list)
			if list.status == ok {
				canManage := tc.want.invite == see
				if got := list.doc.Find("form[method=post]").Not("[action='/signout']").Length() != 0; got != canManage {
					t.Errorf("list shows forms: %v, want %v", got, canManage)
				}
				if got := list.doc.Find("[data-testid=remove-member]").Length() != 0; got != canManage {
					t.Errorf("list shows remove buttons: %v, want %v", got, canManage)
				}
				// Names link to the access overview for organization admins only.
				if got := list.doc.Find("a[data-testid=member-name]").Length() != 0; got != (tc.want.access == ok) {
					t.Errorf("member names are links: %v", got)
				}
			}
			check("remove confirmation page", c.get(memMemberPath(field.ID, targetID)+"/remove"), tc.want.removePage)
			check("organization admins", c.get(memAdminsPath(app.org.ID)), tc.want.admins)
			check("revoke confirmation page", c.get(memAdminsPath(app.org.ID)+"/"+revokeeID+"/revoke"), tc.want.revokePage)
			check("access overview", c.get(memAccessPath(app.org.ID, targetID)), tc.want.access)
			if after := snapshot(); after != before {
				t.Fatalf("reads changed the database: %+v → %+v", before, after)
			}
			if c.csrf == "" {
				c.get("/")
			}

			// Each write: refused ones must leave the database as it was.
			write := func(what, path string, form url.Values, want int, changed func(before, after state) bool) {
				t.Helper()
				before := snapshot()
				r := c.post(path, form)
				check(what, r, want)
				after := snapshot()
				if r.status >= 400 && after != before {
					t.Errorf("%s was refused but changed the database: %+v → %+v", what, before, after)
				}
				if r.status < 400 && !changed(before, after) {
					t.Errorf("%s was allowed but changed nothing: %+v", what, after)
				}
			}
			write("invite", memMembersPath(field.ID), url.Values{"email": {existing.Email}, "role": {string(domain.RoleProjectUser)}},
				tc.want.invite, func(_, a state) bool { return a.existingMember })
			write("change role", memMemberPath(field.ID, targetID)+"/role", url.Values{"role": {string(domain.RoleProjectDev)}},
				tc.want.role, func(_, a state) bool { return a.targetRole == string(domain.RoleProjectDev) })
			write("re-issue invite link", memMemberPath(field.ID, pendingID)+"/invite-link", nil,
				tc.want.reissue, func(b, a state) bool { return a.outbox == b.outbox+1 })
			write("access overview save", memAccessPath(app.org.ID, targetID), url.Values{"role-" + field.ID: {string(domain.RoleProjectAdmin)}},
				tc.want.accessSave, func(_, a state) bool { return a.targetRole == string(domain.RoleProjectAdmin) })
			write("remove member", memMemberPath(field.ID, targetID)+"/remove", url.Values{"confirm": {"yes"}},
				tc.want.remove, func(_, a state) bool { return a.targetRole == "" })
			write("invite organization admin", memAdminsPath(app.org.ID), url.Values{"email": {newAdmin}},
				tc.want.adminInvite, func(_, a state) bool { return a.newAdminExists })
			write("revoke organization admin", memAdminsPath(app.org.ID)+"/"+revokeeID+"/revoke", url.Values{"confirm": {"yes"}},
				tc.want.revoke, func(_, a state) bool { return !a.revokeeAdmin })
			// The same refusals through htmx.
			for _, path := range []string{memMemberPath(field.ID, pendingID) + "/role", memMemberPath(field.ID, pendingID) + "/remove",
				memAdminsPath(app.org.ID) + "/" + revokeeID + "/revoke"} {
				if tc.want.role == see {
					continue
				}
				before := snapshot()
				r := c.htmxPost(path, url.Values{"role": {string(domain.RoleProjectAdmin)}, "confirm": {"yes"}})
				if r.status != tc.want.role || r.doc.Find("[data-testid=toast]").Length() != 1 || snapshot() != before {
					t.Errorf("htmx POST %s: status %d, want %d with an error toast and no change", path, r.status, tc.want.role)
				}
			}
		})
	}
	// The pending users were never accepted by anyone's action.
	if m, _ := app.store.ListProjectMembers(ctx, field.ID, "pending", 0, 100); len(m) != 5 {
		t.Fatalf("%d pending members, want 5", len(m))
	} else {
		for _, x := range m {
			if x.Status != domain.StatusPending {
				t.Fatalf("%s is %s", x.AccountEmail, x.Status)
			}
		}
	}
}

func TestOrgAdminsLastUserAdminAndInvitations(t *testing.T) {
	app := newApp(t)
	inv := app.inventory()
	own := app.addServiceAccount(inv, "Own robot")
	partner, _ := app.addOrg("Partner", "partner@example.com")
	foreign := app.addServiceAccount(app.addProject(partner.ID, "Partner project"), "Partner robot")
	second := app.addUser("second@example.com", "", "", "")
	reader := app.addUser("reader@example.com", inv.ID, domain.RoleProjectUser, "")
	admin, _ := app.memUser(adminEmail)
	c := app.signedIn(adminEmail)
	orgPage := c.get("/orgs/" + app.org.ID)
	if orgPage.doc.Find("[data-testid=org-admins-link]").AttrOr("href", "") != memAdminsPath(app.org.ID) {
		t.Fatal("the organization page has no link to its admins")
	}
	if app.signedIn(reader.Email).get("/orgs/"+app.org.ID).doc.Find("[data-testid=org-admins-link]").Length() != 0 {
		t.Fatal("a project user sees the organization admins link")
	}
	page := c.get(memAdminsPath(app.org.ID))
	if page.status != http.StatusOK || page.doc.Find("[data-testid=admin-row]").Length() != 1 {
		t.Fatalf("admins page: status %d", page.status)
	}
	self := memAdminsPath(app.org.ID) + "/" + itoa(admin.ID) + "/revoke"
	lastAdmin := func(who string) {
		t.Helper()
		r := c.post(self, url.Values{"confirm": {"yes"}})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.doc.Find("[data-testid=admins-error]").Text(), "last admin who is a person") ||
			!strings.Contains(memRow(r, adminEmail).Find("[data-testid=row-error]").Text(), "last admin who is a person") {
			t.Fatalf("%s: revoke the last user admin: status %d error %q", who, r.status, r.doc.Find("[data-testid=admins-error]").Text())
		}
		r = c.htmxPost(self, url.Values{"confirm": {"yes"}})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(memFragment(t, r).Find("[data-testid=admin-row] [data-testid=row-error]").Text(), "Make someone else an organization admin first") {
			t.Fatalf("%s: revoke the last user admin (htmx): status %d", who, r.status)
		}
		if _, ok := app.memOrgMembership(app.org.ID, memUserRef(admin)); !ok {
			t.Fatalf("%s: the last user admin was revoked", who)
		}
	}
	lastAdmin("alone")

	// Service accounts, of this organization and another, become admins at once; they do not count as people.
	for _, sa := range []domain.ServiceAccount{own, foreign} {
		r := c.post(memAdminsPath(app.org.ID), url.Values{"email": {sa.Email}})
		if flash := memFlash(c, r); !strings.Contains(flash, "is now an organization admin") {
			t.Fatalf("add %s: flash %q", sa.DisplayName, flash)
		}
		if m, ok := app.memOrgMembership(app.org.ID, sa.Ref()); !ok || m.Status != domain.StatusAccepted || m.Role != domain.RoleOrgAdmin {
			t.Fatalf("%s's membership = %+v", sa.DisplayName, m)
		}
	}
	lastAdmin("with service accounts")
	// A pending person does not count either.
	r := c.post(memAdminsPath(app.org.ID), url.Values{"email": {"future@example.com"}})
	futureLink := memLink(t, r)
	if r.header.Get("Cache-Control") != "no-store" {
		t.Fatal("the invite link's response may be cached")
	}
	lastAdmin("with a pending admin")
	page = c.get(memAdminsPath(app.org.ID))
	if got := memRow(page, foreign.Email).Find("[data-testid=admin-type]").Text(); got != "Service account" {
		t.Fatalf("foreign service account's type = %q", got)
	}
	future := memRow(page, "future@example.com")
	if future.Find("[data-testid=pending-badge]").Length() != 1 || future.Find("[data-testid=reissue-link]").Length() != 1 {
		t.Fatalf("pending admin row = %q", future.Text())
	}
	futureUser, _ := app.memUser("future@example.com")
	if r := c.post(memAdminsPath(app.org.ID)+"/"+itoa(futureUser.ID)+"/invite-link", nil); memLink(t, r) == futureLink {
		t.Fatal("re-issue returned the same link")
	}
	// Conflict and invalid input show beside the field.
	r = c.post(memAdminsPath(app.org.ID), url.Values{"email": {own.Email}})
	if r.status != http.StatusConflict || !strings.Contains(r.doc.Find("[data-testid=error-email]").Text(), "already an organization admin") ||
		r.doc.Find("[data-testid=admin-invite-email]").AttrOr("value", "") != own.Email {
		t.Fatalf("re-add: status %d", r.status)
	}
	if r := c.post(memAdminsPath(app.org.ID), url.Values{"email": {"nope"}}); r.status != http.StatusUnprocessableEntity || r.doc.Find("[data-testid=error-email]").Length() != 1 {
		t.Fatalf("bad email: status %d", r.status)
	}

	// With a second person as admin, either can go.
	if r := c.post(memAdminsPath(app.org.ID), url.Values{"email": {second.Email}}); r.status != http.StatusSeeOther {
		t.Fatalf("add second: status %d", r.status)
	}
	confirm := c.get(memAdminsPath(app.org.ID) + "/" + itoa(second.ID) + "/revoke")
	if confirm.status != http.StatusOK || !strings.Contains(confirm.doc.Find("[data-testid=revoke-explain]").Text(), "The account itself stays") {
		t.Fatalf("revoke confirmation: status %d", confirm.status)
	}
	r = c.htmxPost(memAdminsPath(app.org.ID)+"/"+itoa(second.ID)+"/revoke", url.Values{"confirm": {"yes"}})
	if r.status != http.StatusOK || strings.Contains(r.body, "<tr") || !strings.Contains(r.doc.Find("[data-testid=toast]").Text(), "no longer an organization admin") {
		t.Fatalf("revoke second (htmx): status %d", r.status)
	}
	if _, ok := app.memOrgMembership(app.org.ID, memUserRef(second)); ok {
		t.Fatal("second is still admin")
	}
	c.post(memAdminsPath(app.org.ID), url.Values{"email": {second.Email}})
	r = c.post(self, url.Values{"confirm": {"yes"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		t.Fatalf("revoke oneself with another admin left: status %d location %q", r.status, r.header.Get("Location"))
	}
	if _, ok := app.memOrgMembership(app.org.ID, memUserRef(admin)); ok {
		t.Fatal("the first admin is still admin")
	}
	// Revoked: the very next request is refused.
	if r := c.get(memAdminsPath(app.org.ID)); r.status != http.StatusNotFound {
		t.Fatalf("admins page after revoking oneself: status %d", r.status)
	}
	// Now second is the last person.
	s := app.signedIn(second.Email)
	r = s.post(memAdminsPath(app.org.ID)+"/"+itoa(second.ID)+"/revoke", url.Values{"confirm": {"yes"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.doc.Find("[data-testid=admins-error]").Text(), "second@example.com is the organization's last admin") {
		t.Fatalf("second revokes itself: status %d", r.status)
	}
	if _, ok := app.memOrgMembership(app.org.ID, memUserRef(second)); !ok {
		t.Fatal("the last person admin was revoked")
	}
	// Service accounts can always be revoked.
	r = s.post(memAdminsPath(app.org.ID)+"/"+own.ID+"/revoke", url.Values{"confirm": {"yes"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("revoke a service account admin: status %d", r.status)
	}
	want := []string{domain.ActionMembershipDelete, domain.ActionMembershipDelete, domain.ActionMembershipCreate, domain.ActionMembershipDelete}
	if got := app.auditActions(app.org.ID); strings.Join(got[:len(want)], ",") != strings.Join(want, ",") {
		t.Fatalf("audit = %v, want %v first", got[:len(want)], want)
	}
}

func TestMemberAccessOverview(t *testing.T) {
	app := newApp(t)
	inv := app.inventory()
	alpha := app.addProject(app.org.ID, "Alpha")
	beta := app.addProject(app.org.ID, "Beta")
	gamma := app.addProject(app.org.ID, "Gamma")
	partner, _ := app.addOrg("Partner", "partner@example.com")
	foreignProject := app.addProject(partner.ID, "Foreign")
	u := app.addUser("uma@example.com", alpha.ID, domain.RoleProjectUser, "")
	padmin := app.addUser("padmin@example.com", gamma.ID, domain.RoleProjectAdmin, "")
	c := app.signedIn(adminEmail)
	ref := memUserRef(u)
	path := memAccessPath(app.org.ID, itoa(u.ID))

	// The member's name on the members page opens the overview, for an organization admin.
	members := c.get(memMembersPath(alpha.ID))
	if href := memRow(members, "uma@example.com").Find("a[data-testid=member-name]").AttrOr("href", ""); href != path+"?from="+url.QueryEscape(memMembersPath(alpha.ID)) {
		t.Fatalf("member name links to %q, want %q", href, path)
	}
	if app.signedIn(padmin.Email).get(memMembersPath(gamma.ID)).doc.Find("a[data-testid=member-name]").Length() != 0 {
		t.Fatal("a project admin who is not organization admin gets links to a page it cannot open")
	}

	page := c.get(path)
	if page.status != http.StatusOK || page.doc.Find("[data-testid=access-email]").Text() != "uma@example.com" ||
		page.doc.Find("[data-testid=access-org-admin]").Length() != 0 {
		t.Fatalf("overview: status %d", page.status)
	}
	roles := map[string]string{}
	page.doc.Find("[data-testid=access-row]").Each(func(_ int, s *goquery.Selection) {
		roles[s.Find("[data-testid=access-project]").Text()] = s.Find("[data-testid=access-role] option[selected]").Text()
	})
	if fmt.Sprint(roles) != "map[Alpha:Project user Beta:No access Gamma:No access Inventory:No access]" {
		t.Fatalf("overview roles = %v", roles)
	}
	if page.doc.Find("[data-testid=access-role]").First().Find("option").Length() != 4 {
		t.Fatal("the role select does not offer No access and the 3 project roles")
	}

	// One save changes several projects at once and ignores unchanged ones.
	audits := app.memAuditCount()
	form := url.Values{
		"role-" + inv.ID:   {""},
		"role-" + alpha.ID: {string(domain.RoleProjectDev)},
		"role-" + beta.ID:  {string(domain.RoleProjectAdmin)},
		"role-" + gamma.ID: {""},
	}
	r := c.post(path, form)
	if flash := memFlash(c, r); flash != "2 changes saved." {
		t.Fatalf("flash = %q", flash)
	}
	if r.header.Get("Location") != path {
		t.Fatalf("back to %q", r.header.Get("Location"))
	}
	if m, _ := app.memMembership(alpha.ID, ref); m.Role != domain.RoleProjectDev {
		t.Fatalf("Alpha role = %s", m.Role)
	}
	if m, _ := app.memMembership(beta.ID, ref); m.Role != domain.RoleProjectAdmin || m.Status != domain.StatusAccepted {
		t.Fatalf("Beta membership = %+v", m)
	}
	if app.memAuditCount() != audits+2 {
		t.Fatalf("%d audit entries for 2 changes", app.memAuditCount()-audits)
	}
	form.Set("role-"+alpha.ID, "")
	if flash := memFlash(c, c.post(path, form)); flash != "1 change saved." {
		t.Fatalf("flash = %q", flash)
	}
	if _, ok := app.memMembership(alpha.ID, ref); ok {
		t.Fatal("No access kept the Alpha membership")
	}

	// Refusals change nothing.
	audits = app.memAuditCount()
	bad := url.Values{"role-" + alpha.ID: {string(domain.RoleProjectUser)}, "role-" + beta.ID: {string(domain.RoleOrgAdmin)}}
	r = c.post(path, bad)
	if r.status != http.StatusUnprocessableEntity || r.doc.Find("[data-testid=error-role-"+beta.ID+"]").Length() != 1 {
		t.Fatalf("organization role in a project: status %d", r.status)
	}
	if got := r.doc.Find("[data-project=" + alpha.ID + "] [data-testid=access-role] option[selected]").Text(); got != "Project user" {
		t.Fatalf("the chosen role was not kept: %q", got)
	}
	r = c.post(path, url.Values{"role-" + alpha.ID: {string(domain.RoleProjectUser)}, "role-" + foreignProject.ID: {string(domain.RoleProjectUser)}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.doc.Find("[data-testid=access-error]").Text(), "not part of this organization") {
		t.Fatalf("a project of another organization: status %d", r.status)
	}
	if _, ok := app.memMembership(foreignProject.ID, ref); ok {
		t.Fatal("access granted in another organization")
	}
	if _, ok := app.memMembership(alpha.ID, ref); ok || app.memAuditCount() != audits {
		t.Fatal("a refused save changed something")
	}
	if r := c.get(memAccessPath(app.org.ID, "424242")); r.status != http.StatusNotFound {
		t.Fatalf("unknown member: status %d", r.status)
	}
	// An account without any access in the organization is not shown, nor changed.
	stranger := app.addServiceAccount(foreignProject, "Stranger")
	if r := c.get(memAccessPath(app.org.ID, stranger.ID)); r.status != http.StatusNotFound {
		t.Fatalf("account of another organization: status %d", r.status)
	}
	if r := c.post(memAccessPath(app.org.ID, stranger.ID), url.Values{"role-" + alpha.ID: {string(domain.RoleProjectAdmin)}}); r.status != http.StatusNotFound {
		t.Fatalf("save for an account of another organization: status %d", r.status)
	}
	if _, ok := app.memMembership(alpha.ID, stranger.Ref()); ok {
		t.Fatal("access granted to an account of another organization through a guessed id")
	}

	// An organization admin's overview says its effective role; the admins page links to it.
	admin, _ := app.memUser(adminEmail)
	adminPath := memAccessPath(app.org.ID, itoa(admin.ID))
	if href := memRow(c.get(memAdminsPath(app.org.ID)), adminEmail).Find("[data-testid=admin-name]").AttrOr("href", ""); href != adminPath+"?from="+url.QueryEscape(memAdminsPath(app.org.ID)) {
		t.Fatalf("admin name links to %q", href)
	}
	if got := c.get(adminPath).doc.Find("[data-testid=access-org-admin]").Text(); !strings.Contains(got, "Organization admin in every project") {
		t.Fatalf("organization admin notice = %q", got)
	}
	// Taking the last role leaves the overview for the organization page.
	r = c.post(path, url.Values{"role-" + beta.ID: {""}})
	if r.header.Get("Location") != "/orgs/"+app.org.ID {
		t.Fatalf("after taking the last role: location %q", r.header.Get("Location"))
	}
	if flash := memFlash(c, r); flash != "1 change saved. The account has no access left in this organization." {
		t.Fatalf("flash = %q", flash)
	}
	if _, ok := app.memMembership(beta.ID, ref); ok {
		t.Fatal("Beta membership kept")
	}
}

func TestMemberAccessOverviewPages(t *testing.T) {
	app := newApp(t)
	var site0, last domain.Project
	for i := 0; i < 55; i++ {
		last = app.addProject(app.org.ID, fmt.Sprintf("Site %02d", i))
		if i == 0 {
			site0 = last
		}
	}
	u := app.addUser("uma@example.com", site0.ID, domain.RoleProjectUser, "")
	c := app.signedIn(adminEmail)
	path := memAccessPath(app.org.ID, itoa(u.ID))
	first := c.get(path)
	if n := first.doc.Find("[data-testid=access-row]").Length(); n != 50 {
		t.Fatalf("first page has %d projects, want 50", n)
	}
	next := first.doc.Find("[data-testid=next-page]").AttrOr("href", "")
	second := c.get(next)
	if n := second.doc.Find("[data-testid=access-row]").Length(); n != 6 {
		t.Fatalf("second page has %d projects, want the last 6 sites", n)
	}
	action := second.doc.Find("[data-testid=access-form]").AttrOr("action", "")
	if action != next {
		t.Fatalf("second page's form posts to %q, want %q", action, next)
	}
	form := url.Values{}
	second.doc.Find("[data-testid=access-role]").Each(func(_ int, s *goquery.Selection) {
		form.Set(s.AttrOr("name", ""), "")
	})
	form.Set("role-"+last.ID, string(domain.RoleProjectUser))
	r := c.post(action, form)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != next {
		t.Fatalf("save on page 2: status %d location %q", r.status, r.header.Get("Location"))
	}
	if m, ok := app.memMembership(last.ID, memUserRef(u)); !ok || m.Role != domain.RoleProjectUser {
		t.Fatal("the role on page 2 was not saved")
	}
}

// TestRemovedMemberLosesAccessAtOnce: the session stays, but the very next
// request after a removal, revocation or demotion is judged by the new rights.
func TestRemovedMemberLosesAccessAtOnce(t *testing.T) {
	app := newApp(t)
	field := app.addProject(app.org.ID, "Field")
	bob := app.addUser("bob@example.com", field.ID, domain.RoleProjectAdmin, "")
	olga := app.addUser("olga@example.com", "", "", app.org.ID)
	admin := app.signedIn(adminEmail)
	admin.get(memMembersPath(field.ID))
	b := app.signedIn(bob.Email)
	o := app.signedIn(olga.Email)
	if r := b.get("/projects/" + field.ID); r.status != http.StatusOK {
		t.Fatalf("bob before: status %d", r.status)
	}
	if r := o.get(memAdminsPath(app.org.ID)); r.status != http.StatusOK {
		t.Fatalf("olga before: status %d", r.status)
	}

	// Demoted: the next write is refused.
	admin.post(memMemberPath(field.ID, itoa(bob.ID))+"/role", url.Values{"role": {string(domain.RoleProjectUser)}})
	if r := b.post(memMembersPath(field.ID), url.Values{"email": {"x@example.com"}, "role": {string(domain.RoleProjectUser)}}); r.status != http.StatusForbidden {
		t.Fatalf("bob invites after demotion: status %d", r.status)
	}
	// Removed: the next request is not found.
	admin.post(memMemberPath(field.ID, itoa(bob.ID))+"/remove", url.Values{"confirm": {"yes"}})
	for _, path := range []string{"/projects/" + field.ID, memMembersPath(field.ID), "/projects/" + field.ID + "/serviceaccounts"} {
		if r := b.get(path); r.status != http.StatusNotFound {
			t.Fatalf("bob after removal, GET %s: status %d", path, r.status)
		}
	}
	if r := b.get("/"); r.status != http.StatusOK || r.doc.Find("[data-testid=org-link]").Length() != 0 {
		t.Fatalf("bob's session should stay, without organizations: status %d", r.status)
	}
	// Revoked organization admin: the same.
	admin.get(memAdminsPath(app.org.ID))
	admin.post(memAdminsPath(app.org.ID)+"/"+itoa(olga.ID)+"/revoke", url.Values{"confirm": {"yes"}})
	for _, path := range []string{memAdminsPath(app.org.ID), "/orgs/" + app.org.ID, "/projects/" + field.ID} {
		if r := o.get(path); r.status != http.StatusNotFound {
			t.Fatalf("olga after revocation, GET %s: status %d", path, r.status)
		}
	}
}

// TestMemberAccessBackLinkAndOwner: the overview's back link returns where
// it was opened from (a project's members, the admins, else the
// organization), a save keeps it, and the facts tell the organization
// shown from the account's own (issue 16).
func TestMemberAccessBackLinkAndOwner(t *testing.T) {
	app := newApp(t)
	alpha := app.addProject(app.org.ID, "Alpha")
	partner, _ := app.addOrg("Partner", "partner@example.com")
	partnerProject := app.addProject(partner.ID, "Partner sensors")
	foreign := app.addServiceAccount(partnerProject, "Partner exporter")
	app.addMembership(foreign.Ref(), app.org.ID, alpha.ID, domain.RoleProjectUser)
	own := app.addServiceAccount(alpha, "Own robot")
	app.addMembership(own.Ref(), app.org.ID, alpha.ID, domain.RoleProjectUser)
	u := app.addUser("uma@example.com", alpha.ID, domain.RoleProjectUser, "")
	c := app.signedIn(adminEmail)
	path := memAccessPath(app.org.ID, itoa(u.ID))
	back := func(r response) (string, string) {
		a := r.doc.Find("[data-testid=access-back]")
		return a.AttrOr("href", ""), strings.TrimSpace(a.Text())
	}
	for _, tc := range []struct{ from, href, text string }{
		{memMembersPath(alpha.ID), memMembersPath(alpha.ID), "← Members of Alpha"},
		{memAdminsPath(app.org.ID), memAdminsPath(app.org.ID), "← Organization admins"},
		{"", "/orgs/" + app.org.ID, "← Acme"},
		{"https://evil.example/projects/x/members", "/orgs/" + app.org.ID, "← Acme"},
		{memMembersPath(partnerProject.ID), "/orgs/" + app.org.ID, "← Acme"},
		{memAdminsPath(partner.ID), "/orgs/" + app.org.ID, "← Acme"},
	} {
		r := c.get(path + "?from=" + url.QueryEscape(tc.from))
		if href, text := back(r); r.status != http.StatusOK || href != tc.href || text != tc.text {
			t.Errorf("from %q: status %d, back link %q %q, want %q %q", tc.from, r.status, href, text, tc.href, tc.text)
		}
	}
	// The links on the members page carry where they come from.
	href := memRow(c.get(memMembersPath(alpha.ID)), "uma@example.com").Find("a[data-testid=member-name]").AttrOr("href", "")
	if h, text := back(c.get(href)); h != memMembersPath(alpha.ID) || text != "← Members of Alpha" {
		t.Fatalf("opened from the members page, the back link is %q %q", h, text)
	}
	// A save comes back to the same overview, still knowing where it came from.
	r := c.post(href, url.Values{"role-" + alpha.ID: {string(domain.RoleProjectDev)}})
	if loc := r.header.Get("Location"); r.status != http.StatusSeeOther || loc != href {
		t.Fatalf("save: status %d, back to %q, want %q", r.status, loc, href)
	}
	// Whose organization is whose.
	for _, tc := range []struct {
		account, owner string
	}{
		{foreign.ID, "a project of another organization"},
		{own.ID, "project Alpha of Acme"},
	} {
		r := c.get(memAccessPath(app.org.ID, tc.account))
		owner := strings.Join(strings.Fields(r.doc.Find("[data-testid=access-owner]").Text()), " ")
		shown := strings.Join(strings.Fields(r.doc.Find("[data-testid=access-org]").Text()), " ")
		if r.status != http.StatusOK || owner != tc.owner || shown != "the organization Acme" {
			t.Errorf("%s: status %d, belongs to %q, shown in %q", tc.account, r.status, owner, shown)
		}
		if strings.Contains(r.body, "Partner sensors") || strings.Contains(r.body, ">Partner<") || strings.Contains(r.body, partner.ID) {
			t.Errorf("%s: the overview names the other organization or its project", tc.account)
		}
	}
	if r := c.get(path); r.doc.Find("[data-testid=access-owner]").Length() != 0 {
		t.Fatal("a user's overview says what organization it belongs to")
	}
}
