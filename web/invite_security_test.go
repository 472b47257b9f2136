package web_test

// Issue 11, item 1: an invitation is bound to the one membership (of one
// organization) it was made for. These tests play the attacker of the
// issue through the doors they used (the API, the members pages and the
// invite page), then check what they must not get, the database after the
// refusal, and each organization's audit log. Helpers carry an inv prefix.

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"studio/domain"
)

const (
	invVictim         = "victim@corp.example"
	invMallory        = "mallory@evil.example"
	invMalloryChoice  = "mallory's own password"
	invVictimPassword = "the owner's real passphrase"
)

// invWorld is the scene: the first organization (Acme, the victim
// organization, whose admin is adminEmail) and the attacker's own
// organization, where mallory is organization admin and has an API
// service account with Project admin in the attacker's project.
type invWorld struct {
	e        *apiEnv
	app      *testApp
	acme     domain.Organization
	acmeAdm  *client
	evilOrg  domain.Organization
	evilProj domain.Project
	mallory  *client
	evilAPI  string // Authorization header of the attacker's service account
}

func newInvWorld(t *testing.T) *invWorld {
	t.Helper()
	e := apiNewEnv(t)
	w := &invWorld{e: e, app: e.app, acme: e.app.org}
	var mallory domain.User
	w.evilOrg, mallory = w.app.addOrg("Evil Org", invMallory)
	w.evilProj = w.app.addProject(w.evilOrg.ID, "Evil project")
	bot := e.caller(domain.UserPrincipal(mallory, "test"), w.evilProj, "Evil bot")
	e.grant(bot.SA.Ref(), w.evilOrg.ID, w.evilProj.ID, domain.RoleProjectAdmin)
	w.evilAPI = apiBasic(bot.KeyID, bot.Secret)
	w.acmeAdm = w.app.signedIn(adminEmail)
	w.mallory = w.app.signedIn(invMallory)
	return w
}

// evilLinkByAPI is the attacker adding an email to their own project
// through the API and asking for its invite link.
func (w *invWorld) evilLinkByAPI(t *testing.T, email string) (string, apiMember) {
	t.Helper()
	m := apiDecodeMember(t, apiOK(t, w.e.call(http.MethodPost, "/v2/projects/"+w.evilProj.ID+"/members", w.evilAPI,
		map[string]any{"roles": []string{string(domain.RoleProjectUser)}, "email": email})))
	var link struct {
		InviteURL string `json:"inviteUrl"`
	}
	apiStrict(t, apiOK(t, w.e.call(http.MethodGet, "/v2/"+m.Name+":getInviteUrl", w.evilAPI, nil)), &link, "inviteUrl")
	if !strings.HasPrefix(link.InviteURL, memBaseURL+"/invite/") {
		t.Fatalf("inviteUrl %q", link.InviteURL)
	}
	return strings.TrimPrefix(link.InviteURL, memBaseURL), m
}

// evilLinkByConsole is the attacker adding an email on their project's
// members page, then re-issuing its link there.
func (w *invWorld) evilLinkByConsole(t *testing.T, email string) string {
	t.Helper()
	w.mallory.get(memMembersPath(w.evilProj.ID))
	r := w.mallory.post(memMembersPath(w.evilProj.ID), url.Values{"email": {email}, "role": {string(domain.RoleProjectUser)}})
	memLink(t, r)
	u, _ := w.app.memUser(email)
	return memLink(t, w.mallory.post(memMemberPath(w.evilProj.ID, itoa(u.ID))+"/invite-link", nil))
}

// acceptWithPassword opens a link in a fresh browser and sets a name and
// password; the client is signed in afterwards.
func (w *invWorld) acceptWithPassword(t *testing.T, link, password string) *client {
	t.Helper()
	c := w.app.client()
	if r := c.get(link); r.status != http.StatusOK || r.doc.Find("[data-testid=accept-form]").Length() != 1 {
		t.Fatalf("GET %s: status %d", link, r.status)
	}
	r := c.post(link, url.Values{"name": {"Someone"}, "password": {password}, "confirm": {password}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("accept %s: status %d %s", link, r.status, r.doc.Find(".form-error, [data-testid=invite-invalid-message]").Text())
	}
	return c
}

// invAcceptances lists an organization's invitation.accept entries.
func (a *testApp) invAcceptances(orgID string) []domain.AuditEntry {
	a.t.Helper()
	entries, err := a.store.ListAudit(context.Background(),
		domain.AuditFilter{OrganizationID: orgID, Action: domain.ActionInvitationAccept}, 0, 1000)
	if err != nil {
		a.t.Fatal(err)
	}
	return entries
}

// invAllAcceptances counts invitation.accept entries in the whole log.
func (a *testApp) invAllAcceptances() int {
	a.t.Helper()
	entries, err := a.store.ListAudit(context.Background(), domain.AuditFilter{Action: domain.ActionInvitationAccept}, 0, 1000)
	if err != nil {
		a.t.Fatal(err)
	}
	return len(entries)
}

// invQuery runs one read on the app's database file.
func (a *testApp) invQuery(query string, args ...any) *sql.Row {
	a.t.Helper()
	db, err := sql.Open("sqlite", "file:"+a.dbPath+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(func() { db.Close() })
	return db.QueryRow(query, args...)
}

// snapshot describes what a refused request must leave alone: the API
// fixture's view (memberships, accounts, audit) plus every row of users,
// invitations, outbox and sessions, read from the database file.
func (w *invWorld) snapshot(t *testing.T) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+w.app.dbPath+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b strings.Builder
	b.WriteString(w.e.snapshot())
	for _, q := range []string{
		"SELECT id, email, display_name, password_hash, email_verified, password_changed, locked FROM users ORDER BY id",
		"SELECT * FROM invitations ORDER BY id",
		"SELECT * FROM outbox ORDER BY id",
		"SELECT id_hash, user_id FROM sessions ORDER BY id_hash",
	} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%v\n", vals)
		}
		rows.Close()
	}
	return b.String()
}

// invRefusedAsVictim checks that whoever is signed in as the victim
// cannot act in Acme: not as its organization admin, not in its projects,
// and nothing in Acme changes.
func (w *invWorld) invRefusedAsVictim(t *testing.T, asVictim *client) {
	t.Helper()
	if r := asVictim.get("/"); r.doc.Find("[data-testid=user-menu]").Text() != invVictim {
		t.Fatalf("not signed in as the victim (status %d)", r.status)
	}
	inv := w.app.inventory()
	for _, path := range []string{"/orgs/" + w.acme.ID, memAdminsPath(w.acme.ID), "/orgs/" + w.acme.ID + "/audit",
		"/projects/" + inv.ID, memMembersPath(inv.ID)} {
		if r := asVictim.get(path); r.status != http.StatusNotFound {
			t.Errorf("GET %s as the victim: status %d, want 404", path, r.status)
		}
	}
	before := w.snapshot(t)
	if r := asVictim.post(memAdminsPath(w.acme.ID), url.Values{"email": {"accomplice@evil.example"}}); r.status != http.StatusNotFound {
		t.Errorf("add an Acme admin as the victim: status %d, want 404", r.status)
	}
	if r := asVictim.post("/projects/"+inv.ID+"/serviceaccounts", url.Values{"displayName": {"Backdoor"}}); r.status != http.StatusNotFound {
		t.Errorf("create an Acme service account as the victim: status %d, want 404", r.status)
	}
	// The attacker's API credentials reach nothing of Acme either.
	apiDecodeError(t, w.e.call(http.MethodGet, "/v2/organizations/"+w.acme.ID+"/members", w.evilAPI, nil), http.StatusNotFound)
	apiDecodeError(t, w.e.call(http.MethodPost, "/v2/organizations/"+w.acme.ID+"/members", w.evilAPI,
		map[string]any{"roles": []string{string(domain.RoleOrgAdmin)}, "email": "accomplice@evil.example"}), http.StatusNotFound)
	if u, ok := w.app.memUser(invVictim); ok {
		apiDecodeError(t, w.e.call(http.MethodGet, "/v2/organizations/"+w.acme.ID+"/members/"+itoa(u.ID)+":getInviteUrl", w.evilAPI, nil), http.StatusNotFound)
	}
	if after := w.snapshot(t); after != before {
		t.Errorf("a refused request changed something:\n%s", apiDiff(before, after))
	}
	if _, ok := w.app.memUser("accomplice@evil.example"); ok {
		t.Error("the accomplice's account was made")
	}
}

// TestInviteLinkCannotTakeOverAnotherOrganization is the attack:
// Acme invites victim@ as organization admin; the attacker adds the same
// address to their own project, fetches that link (API or console),
// accepts it with a password of their choosing, and must get their own
// project membership only: Acme's stays PENDING, with nothing in Acme's
// audit log.
func TestInviteLinkCannotTakeOverAnotherOrganization(t *testing.T) {
	for _, door := range []string{"api", "console"} {
		t.Run(door, func(t *testing.T) {
			w := newInvWorld(t)
			w.acmeAdm.get(memAdminsPath(w.acme.ID))
			memLink(t, w.acmeAdm.post(memAdminsPath(w.acme.ID), url.Values{"email": {invVictim}}))
			victim, _ := w.app.memUser(invVictim)
			if m, ok := w.app.memOrgMembership(w.acme.ID, memUserRef(victim)); !ok || m.Status != domain.StatusPending {
				t.Fatalf("Acme's invitation: %+v", m)
			}

			var link string
			if door == "api" {
				var m apiMember
				link, m = w.evilLinkByAPI(t, invVictim)
				if m.Status != "PENDING" {
					t.Fatalf("attacker's membership: %+v", m)
				}
			} else {
				link = w.evilLinkByConsole(t, invVictim)
			}
			asVictim := w.acceptWithPassword(t, link, invMalloryChoice)

			// The attacker got what their own organization granted...
			if m, _ := w.app.memMembership(w.evilProj.ID, memUserRef(victim)); m.Status != domain.StatusAccepted {
				t.Errorf("the attacker's own invitation: %s", m.Status)
			}
			// ...and nothing of Acme's.
			if m, ok := w.app.memOrgMembership(w.acme.ID, memUserRef(victim)); !ok || m.Status != domain.StatusPending {
				t.Fatalf("Acme's organization admin membership after the attacker's link: %+v (exists %v), want PENDING", m, ok)
			}
			w.invRefusedAsVictim(t, asVictim)
			if got := w.app.invAcceptances(w.acme.ID); len(got) != 0 {
				t.Errorf("Acme's audit log shows an acceptance it did not get: %+v", got)
			}
			if got := w.app.invAcceptances(w.evilOrg.ID); len(got) != 1 || got[0].ActorEmail != invVictim {
				t.Errorf("the attacker's organization's audit = %+v, want its own acceptance", got)
			}
			var open int
			if err := w.app.invQuery("SELECT count(*) FROM invitations WHERE organization_id = ? AND accept_time = 0", w.acme.ID).Scan(&open); err != nil || open != 1 {
				t.Errorf("Acme's invitation open: %d (%v), want 1", open, err)
			}
		})
	}
}

// TestInviteReverseOrderIsNotAcceptedAtOnce: the attacker claims the
// address first (through their own project's link) and waits; a later
// invitation by Acme, from the console or the API, must stay PENDING.
func TestInviteReverseOrderIsNotAcceptedAtOnce(t *testing.T) {
	w := newInvWorld(t)
	link, _ := w.evilLinkByAPI(t, invVictim)
	asVictim := w.acceptWithPassword(t, link, invMalloryChoice)
	victim, _ := w.app.memUser(invVictim)
	acceptances := w.app.invAllAcceptances()

	// Acme invites the address as organization admin in the console: the
	// answer is an invite link to pass on, not "is now an admin".
	w.acmeAdm.get(memAdminsPath(w.acme.ID))
	r := w.acmeAdm.post(memAdminsPath(w.acme.ID), url.Values{"email": {invVictim}})
	if r.status != http.StatusOK || r.doc.Find("[data-testid=invite-link]").Length() != 1 {
		t.Fatalf("Acme invites the claimed address: status %d, want the invite link dialog", r.status)
	}
	if m, ok := w.app.memOrgMembership(w.acme.ID, memUserRef(victim)); !ok || m.Status != domain.StatusPending {
		t.Fatalf("Acme's organization admin membership = %+v, want PENDING", m)
	}
	// And a project membership through the API.
	acmeAPI := w.e.caller(w.e.admin, w.app.inventory(), "Acme bot")
	w.e.grant(acmeAPI.SA.Ref(), w.acme.ID, "", domain.RoleOrgAdmin)
	added := apiDecodeMember(t, apiOK(t, w.e.call(http.MethodPost, "/v2/projects/"+w.app.inventory().ID+"/members",
		apiBasic(acmeAPI.KeyID, acmeAPI.Secret), map[string]any{"roles": []string{string(domain.RoleProjectAdmin)}, "email": invVictim})))
	if added.Status != "PENDING" {
		t.Fatalf("API member of a claimed, unverified address: %+v, want PENDING", added)
	}
	// getInviteUrl works for that pending membership.
	var got struct {
		InviteURL string `json:"inviteUrl"`
	}
	apiStrict(t, apiOK(t, w.e.call(http.MethodGet, "/v2/"+added.Name+":getInviteUrl", apiBasic(acmeAPI.KeyID, acmeAPI.Secret), nil)), &got, "inviteUrl")
	if !strings.HasPrefix(got.InviteURL, memBaseURL+"/invite/") {
		t.Fatalf("inviteUrl %q", got.InviteURL)
	}
	w.invRefusedAsVictim(t, asVictim)
	if m, _ := w.app.memMembership(w.app.inventory().ID, memUserRef(victim)); m.Status != domain.StatusPending {
		t.Errorf("Acme project membership = %s, want PENDING", m.Status)
	}
	if n := w.app.invAllAcceptances(); n != acceptances || len(w.app.invAcceptances(w.acme.ID)) != 0 {
		t.Errorf("acceptances %d → %d; Acme's: %d", acceptances, n, len(w.app.invAcceptances(w.acme.ID)))
	}
}

// TestInviteLinkCoversOnlyItsMembership: re-issuing a link ends the
// previous one; a link grants no membership made after it was issued;
// removing the membership ends its link, even while the user has other
// pending memberships.
func TestInviteLinkCoversOnlyItsMembership(t *testing.T) {
	app := newApp(t)
	field := app.addProject(app.org.ID, "Field")
	orchard := app.addProject(app.org.ID, "Orchard")
	admin := app.signedIn(adminEmail)
	admin.get(memMembersPath(field.ID))
	invite := func(p domain.Project, email string, role domain.Role) string {
		t.Helper()
		return memLink(t, admin.post(memMembersPath(p.ID), url.Values{"email": {email}, "role": {string(role)}}))
	}
	const pw = "a long enough password"
	form := url.Values{"name": {"New"}, "password": {pw}, "confirm": {pw}}

	// Re-issue ends the previous link.
	first := invite(field, "new@example.com", domain.RoleProjectUser)
	u, _ := app.memUser("new@example.com")
	second := memLink(t, admin.post(memMemberPath(field.ID, itoa(u.ID))+"/invite-link", nil))
	visitor := app.client()
	if r := visitor.get(first); r.status != http.StatusNotFound || r.doc.Find("[data-testid=invite-invalid-message]").Text() == "" {
		t.Fatalf("GET the replaced link: status %d", r.status)
	}
	if r := visitor.post(first, form); r.status != http.StatusNotFound {
		t.Fatalf("accept with the replaced link: status %d", r.status)
	}
	if u, found := app.memUser("new@example.com"); !found || !u.Pending() {
		t.Fatalf("the replaced link set a password (user found: %v)", found)
	}
	if m, _ := app.memMembership(field.ID, memUserRef(u)); m.Status != domain.StatusPending {
		t.Fatal("the replaced link accepted the membership")
	}

	// A membership made after the link is not the link's.
	invite(orchard, "new@example.com", domain.RoleProjectAdmin)
	if r := visitor.post(second, form); r.status != http.StatusSeeOther {
		t.Fatalf("accept with the new link: status %d", r.status)
	}
	if m, _ := app.memMembership(field.ID, memUserRef(u)); m.Status != domain.StatusAccepted {
		t.Errorf("Field = %s, want ACCEPTED", m.Status)
	}
	if m, _ := app.memMembership(orchard.ID, memUserRef(u)); m.Status != domain.StatusPending {
		t.Errorf("Orchard, invited after the link was issued = %s, want PENDING", m.Status)
	}
	if r := visitor.get("/projects/" + orchard.ID); r.status != http.StatusNotFound {
		t.Errorf("Orchard page: status %d, want 404", r.status)
	}

	// Removing a membership ends its link, though the user keeps another
	// pending membership.
	fieldLink := invite(field, "other@example.com", domain.RoleProjectUser)
	invite(orchard, "other@example.com", domain.RoleProjectAdmin)
	other, _ := app.memUser("other@example.com")
	if r := admin.post(memMemberPath(field.ID, itoa(other.ID))+"/remove", url.Values{"confirm": {"yes"}}); r.status != http.StatusSeeOther {
		t.Fatalf("remove: status %d", r.status)
	}
	stranger := app.client()
	if r := stranger.get(fieldLink); r.status != http.StatusNotFound {
		t.Fatalf("GET the link of a removed membership: status %d", r.status)
	}
	if r := stranger.post(fieldLink, form); r.status != http.StatusNotFound {
		t.Fatalf("accept the link of a removed membership: status %d", r.status)
	}
	if u, _ := app.memUser("other@example.com"); !u.Pending() {
		t.Error("the removed membership's link set a password")
	}
	if m, _ := app.memMembership(orchard.ID, memUserRef(other)); m.Status != domain.StatusPending {
		t.Errorf("Orchard membership after the removed link was tried = %s, want PENDING", m.Status)
	}
	if _, ok := app.memMembership(field.ID, memUserRef(other)); ok {
		t.Error("the removed membership is back")
	}
	var n int
	if err := app.invQuery("SELECT count(*) FROM invitations WHERE user_id = ?", other.ID).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d invitations of other@ after the removal (%v), want Orchard's only", n, err)
	}
}

// invEmails delivers the outbox as the SMTP sender would, and returns each
// message sent, by recipient.
func (a *testApp) invEmails() map[string][]string {
	a.t.Helper()
	members := domain.NewMembers(a.store, domain.NewHasher(1), a.clock.Now, memBaseURL, domain.DefaultInviteTTL)
	out := map[string][]string{}
	if _, err := members.DeliverOutbox(context.Background(), 100, func(m domain.OutboxMessage) error {
		out[m.To] = append(out[m.To], m.Body)
		return nil
	}); err != nil {
		a.t.Fatal(err)
	}
	return out
}

var invLinkPattern = regexp.MustCompile(regexp.QuoteMeta(memBaseURL) + `(/invite/[0-9a-f]{64})`)

// invEmailedLink is the one link in the one email to an address.
func invEmailedLink(t *testing.T, mail map[string][]string, to string) string {
	t.Helper()
	if len(mail[to]) != 1 {
		t.Fatalf("%d emails to %s, want 1 (all: %q)", len(mail[to]), to, mail)
	}
	m := invLinkPattern.FindStringSubmatch(mail[to][0])
	if m == nil {
		t.Fatalf("no invite link in the email to %s: %q", to, mail[to][0])
	}
	return m[1]
}

// invInvitationID is the id of the invitation of a user's membership in a
// project ("" for the organization membership).
func (a *testApp) invInvitationID(u domain.User, orgID, projectID string) string {
	a.t.Helper()
	var id int64
	if err := a.invQuery("SELECT id FROM invitations WHERE user_id = ? AND organization_id = ? AND project_id = ?",
		u.ID, orgID, projectID).Scan(&id); err != nil {
		a.t.Fatal(err)
	}
	return itoa(id)
}

// TestInviteAcceptanceInEachOrganizationsAudit: each organization sees
// the acceptance of its own invitation, with the link's id, kind, issuer
// and time, and nothing of the other's.
func TestInviteAcceptanceInEachOrganizationsAudit(t *testing.T) {
	w := newInvWorld(t)
	field := w.app.addProject(w.acme.ID, "Field")
	w.acmeAdm.get(memMembersPath(field.ID))
	acmeLink := memLink(t, w.acmeAdm.post(memMembersPath(field.ID), url.Values{"email": {invVictim}, "role": {string(domain.RoleProjectDev)}}))
	w.mallory.get(memMembersPath(w.evilProj.ID))
	evilPage := w.mallory.post(memMembersPath(w.evilProj.ID), url.Values{"email": {invVictim}, "role": {string(domain.RoleProjectUser)}})
	evilLink := memLink(t, evilPage)
	victim, _ := w.app.memUser(invVictim)
	acmeInv, evilInv := w.app.invInvitationID(victim, w.acme.ID, field.ID), w.app.invInvitationID(victim, w.evilOrg.ID, w.evilProj.ID)

	// Acme's link sets the password (shareable link); the other
	// organization's link then asks to sign in.
	c := w.acceptWithPassword(t, acmeLink, invVictimPassword)
	fresh := w.app.client()
	page := fresh.get(evilLink)
	if page.status != http.StatusOK || page.doc.Find("[data-testid=invite-signin-form]").Length() != 1 ||
		page.doc.Find("[data-testid=accept-form]").Length() != 0 || page.doc.Find("[data-testid=invite-not-yours]").Length() != 1 {
		t.Fatalf("a link of an account with a password: status %d", page.status)
	}
	// Setting a password through that link is refused: the account has one.
	before := w.snapshot(t)
	r := fresh.post(evilLink, url.Values{"name": {"Mallory"}, "password": {invMalloryChoice}, "confirm": {invMalloryChoice}})
	if r.status != http.StatusForbidden || !strings.Contains(r.doc.Find("[data-testid=invite-error]").Text(), "sign in") ||
		r.doc.Find("[data-testid=invite-signin-form]").Length() != 1 {
		t.Fatalf("set a password through a sign-in link: status %d %q", r.status, r.doc.Find("[data-testid=invite-error]").Text())
	}
	if after := w.snapshot(t); after != before {
		t.Fatalf("a refused password changed something:\n%s", apiDiff(before, after))
	}
	// A wrong password accepts nothing.
	r = fresh.post(evilLink, url.Values{"action": {"signin"}, "password": {"not the password"}})
	if r.status != http.StatusUnauthorized || r.doc.Find("[data-testid=invite-signin-error]").Text() == "" {
		t.Fatalf("wrong password: status %d", r.status)
	}
	if m, _ := w.app.memMembership(w.evilProj.ID, memUserRef(victim)); m.Status != domain.StatusPending {
		t.Fatal("a wrong password accepted the invitation")
	}
	r = fresh.post(evilLink, url.Values{"action": {"signin"}, "password": {invVictimPassword}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("sign in and accept: status %d %s", r.status, r.doc.Find(".form-error").Text())
	}
	if got := fresh.get("/").doc.Find("[data-testid=user-menu]").Text(); got != invVictim {
		t.Fatalf("signed in as %q after accepting", got)
	}
	c.get("/")

	for _, tc := range []struct {
		org, project, invitation, issuer, other string
	}{
		{w.acme.ID, field.ID, acmeInv, adminEmail, w.evilProj.ID},
		{w.evilOrg.ID, w.evilProj.ID, evilInv, invMallory, field.ID},
	} {
		got := w.app.invAcceptances(tc.org)
		if len(got) != 1 {
			t.Fatalf("organization %s: %d acceptances, want 1: %+v", tc.org, len(got), got)
		}
		e := got[0]
		if e.ProjectID != tc.project || e.ActorEmail != invVictim || e.TargetName != invVictim || e.RemoteAddr == "" ||
			!strings.Contains(e.Detail, "invitation "+tc.invitation+" by "+tc.issuer+", shareable link issued by "+tc.issuer+" at ") {
			t.Errorf("organization %s: acceptance %+v", tc.org, e)
		}
	}
	// Acme let the account in through its own invitation: adding it to
	// another Acme project needs no new acceptance.
	orchard := w.app.addProject(w.acme.ID, "Orchard")
	w.acmeAdm.get(memMembersPath(orchard.ID))
	r = w.acmeAdm.post(memMembersPath(orchard.ID), url.Values{"email": {invVictim}, "role": {string(domain.RoleProjectUser)}})
	if flash := memFlash(w.acmeAdm, r); !strings.Contains(flash, invVictim+" is now a member") {
		t.Errorf("adding an accepted member of Acme to another Acme project: flash %q", flash)
	}
	if m, _ := w.app.memMembership(orchard.ID, memUserRef(victim)); m.Status != domain.StatusAccepted {
		t.Errorf("Orchard membership = %s, want ACCEPTED", m.Status)
	}
	// The audit pages show it to each organization's admin.
	if r := w.acmeAdm.get("/orgs/" + w.acme.ID + "/audit"); !strings.Contains(r.body, "invitation "+acmeInv+" ") || strings.Contains(r.body, "invitation "+evilInv+" ") {
		t.Error("Acme's audit page does not show its own acceptance only")
	}
}

// TestInviteEmailedLinkReclaimsAnAccount: after the attacker claimed the
// address through a shared link, the emailed link of Acme's invitation
// (which only the mailbox owner receives) lets the owner set a new
// password; the attacker's session ends, the email becomes verified, and
// Acme's membership is accepted and audited as the emailed link's.
func TestInviteEmailedLinkReclaimsAnAccount(t *testing.T) {
	w := newInvWorld(t)
	link, _ := w.evilLinkByAPI(t, invVictim)
	attacker := w.acceptWithPassword(t, link, invMalloryChoice)
	w.acmeAdm.get(memAdminsPath(w.acme.ID))
	memLink(t, w.acmeAdm.post(memAdminsPath(w.acme.ID), url.Values{"email": {invVictim}}))
	victim, _ := w.app.memUser(invVictim)
	if victim.EmailVerified {
		t.Fatal("a shareable link verified the email")
	}

	// Only Acme's email goes out: the attacker's invitation was accepted.
	mail := w.app.invEmails()
	emailed := invEmailedLink(t, mail, invVictim)
	if !strings.Contains(mail[invVictim][0], adminEmail+" invited you to the organization Acme") {
		t.Errorf("email body %q", mail[invVictim][0])
	}
	owner := w.app.client()
	page := owner.get(emailed)
	if page.status != http.StatusOK || page.doc.Find("[data-testid=invite-reclaim]").Length() != 1 ||
		page.doc.Find("[data-testid=accept-form]").Length() != 1 || page.doc.Find("[data-testid=invite-signin-form]").Length() != 1 {
		t.Fatalf("emailed link of an unverified account: status %d", page.status)
	}
	r := owner.post(emailed, url.Values{"name": {"Victor"}, "password": {invVictimPassword}, "confirm": {invVictimPassword}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("reclaim: status %d %s", r.status, r.doc.Find(".field-error, .form-error").Text())
	}
	if got := owner.get("/").doc.Find("[data-testid=user-menu]").Text(); got != invVictim {
		t.Fatalf("after reclaiming, signed in as %q", got)
	}
	u, _ := w.app.memUser(invVictim)
	if !u.EmailVerified || u.DisplayName != "Victor" {
		t.Errorf("user after reclaiming = %+v", u)
	}
	if m, _ := w.app.memOrgMembership(w.acme.ID, memUserRef(u)); m.Status != domain.StatusAccepted {
		t.Errorf("Acme membership = %s, want ACCEPTED", m.Status)
	}
	// The attacker is out: their session and their password.
	if r := attacker.get("/"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/signin") {
		t.Errorf("the attacker's session after the reclaim: status %d", r.status)
	}
	again := w.app.client()
	again.get("/signin")
	if r := again.post("/signin", url.Values{"email": {invVictim}, "password": {invMalloryChoice}}); r.status != http.StatusUnauthorized {
		t.Errorf("the attacker's password after the reclaim: status %d", r.status)
	}
	got := w.app.invAcceptances(w.acme.ID)
	if len(got) != 1 || !strings.Contains(got[0].Detail, "emailed link issued by "+adminEmail) || !strings.Contains(got[0].Detail, "email verified") {
		t.Errorf("Acme's acceptance = %+v", got)
	}
	if r := w.app.client().get(emailed); r.status != http.StatusNotFound {
		t.Errorf("the emailed link after use: status %d", r.status)
	}

}

// TestInviteVerifiedEmailJoinsAtOnce: an account that accepted through an
// emailed link (so proved its address), like the first administrator, is
// ACCEPTED at once when another organization adds it, as the contract
// says: no invitation, no email.
func TestInviteVerifiedEmailJoinsAtOnce(t *testing.T) {
	w := newInvWorld(t)
	field := w.app.addProject(w.acme.ID, "Field")
	w.acmeAdm.get(memMembersPath(field.ID))
	memLink(t, w.acmeAdm.post(memMembersPath(field.ID), url.Values{"email": {"new@corp.example"}, "role": {string(domain.RoleProjectUser)}}))
	emailed := invEmailedLink(t, w.app.invEmails(), "new@corp.example")
	owner := w.app.client()
	if r := owner.get(emailed); r.doc.Find("[data-testid=accept-form]").Length() != 1 || r.doc.Find("[data-testid=invite-reclaim]").Length() != 0 {
		t.Fatalf("emailed link of a new account: status %d", r.status)
	}
	if r := owner.post(emailed, url.Values{"name": {"New"}, "password": {invVictimPassword}, "confirm": {invVictimPassword}}); r.status != http.StatusSeeOther {
		t.Fatalf("accept by the emailed link: status %d", r.status)
	}
	if u, _ := w.app.memUser("new@corp.example"); !u.EmailVerified {
		t.Fatal("the emailed link did not verify the email")
	}
	for _, email := range []string{"new@corp.example", adminEmail} {
		added := apiDecodeMember(t, apiOK(t, w.e.call(http.MethodPost, "/v2/projects/"+w.evilProj.ID+"/members", w.evilAPI,
			map[string]any{"roles": []string{string(domain.RoleProjectDev)}, "email": email})))
		if added.Status != "ACCEPTED" {
			t.Errorf("%s added by another organization: %+v, want ACCEPTED", email, added)
		}
		apiDecodeError(t, w.e.call(http.MethodGet, "/v2/"+added.Name+":getInviteUrl", w.evilAPI, nil), http.StatusBadRequest)
	}
	var n int
	if err := w.app.invQuery("SELECT count(*) FROM invitations WHERE organization_id = ?", w.evilOrg.ID).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d invitations in the other organization (%v), want 0", n, err)
	}
	if mail := w.app.invEmails(); len(mail) != 0 {
		t.Errorf("emails after adding verified accounts: %q", mail)
	}
}

// TestInviteSignInAsSomeoneElseAndThrottle: a link of an account with a
// password, opened while signed in as someone else, says so and accepts
// nothing for them; its password form goes through the sign-in throttle,
// shared with the sign-in page.
func TestInviteSignInAsSomeoneElseAndThrottle(t *testing.T) {
	w := newInvWorld(t)
	field := w.app.addProject(w.acme.ID, "Field")
	// The address is claimed through one link; Acme's second invitation
	// then asks to sign in.
	link, _ := w.evilLinkByAPI(t, invVictim)
	w.acceptWithPassword(t, link, invVictimPassword)
	w.acmeAdm.get(memMembersPath(field.ID))
	acmeLink := memLink(t, w.acmeAdm.post(memMembersPath(field.ID), url.Values{"email": {invVictim}, "role": {string(domain.RoleProjectAdmin)}}))
	victim, _ := w.app.memUser(invVictim)

	page := w.mallory.get(acmeLink)
	if page.status != http.StatusOK || !strings.Contains(page.doc.Find("[data-testid=invite-signed-in]").Text(), invMallory) ||
		page.doc.Find("[data-testid=invite-signin-form]").Length() != 1 || page.doc.Find("[data-testid=accept-as-form]").Length() != 0 {
		t.Fatalf("link opened as someone else: status %d", page.status)
	}
	before := w.snapshot(t)
	r := w.mallory.post(acmeLink, url.Values{"action": {"accept"}})
	if r.status != http.StatusForbidden || !strings.Contains(r.doc.Find("[data-testid=invite-error]").Text(), "signed in as "+invMallory) {
		t.Fatalf("accept as someone else: status %d %q", r.status, r.doc.Find("[data-testid=invite-error]").Text())
	}
	if after := w.snapshot(t); after != before {
		t.Fatalf("a refused acceptance changed something:\n%s", apiDiff(before, after))
	}
	if m, _ := w.app.memMembership(field.ID, memUserRef(victim)); m.Status != domain.StatusPending {
		t.Fatal("accepted for someone else")
	}

	// Guessing the account's password on the invite page meets the
	// sign-in throttle, which then refuses the sign-in page too.
	guesser := w.app.client()
	guesser.get(acmeLink)
	limited := false
	for i := 0; i < 30 && !limited; i++ {
		r := guesser.post(acmeLink, url.Values{"action": {"signin"}, "password": {"guess number " + itoa(int64(i))}})
		switch r.status {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			limited = r.header.Get("Retry-After") != "" && r.doc.Find("[data-testid=invite-signin-error]").Text() != ""
		default:
			t.Fatalf("guess %d: status %d", i, r.status)
		}
	}
	if !limited {
		t.Fatal("30 wrong passwords on the invite page were never throttled")
	}
	guesser.get("/signin")
	if r := guesser.post("/signin", url.Values{"email": {invVictim}, "password": {"one more guess"}}); r.status != http.StatusTooManyRequests {
		t.Errorf("the sign-in page after the invite page's guesses: status %d, want 429", r.status)
	}
	if m, _ := w.app.memMembership(field.ID, memUserRef(victim)); m.Status != domain.StatusPending {
		t.Fatal("guessing accepted the invitation")
	}
}
