package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"studio/domain"
)

// Tests of the members service (memberships, invitations, organization
// admins, account access) on a real database file. Helpers here are
// prefixed with mb so they do not clash with the other test files.

const mbBaseURL = "http://studio.test"

// mbEnv is a test database with the members and support services.
type mbEnv struct {
	*env
	members *domain.Members
	support *domain.Support
}

func newMBEnv(t *testing.T) *mbEnv {
	t.Helper()
	e := newEnv(t)
	return &mbEnv{
		env:     e,
		members: domain.NewMembers(e.store, domain.NewHasher(1), e.clock.Now, mbBaseURL, domain.DefaultInviteTTL),
		support: domain.NewSupport(e.store, e.clock.Now),
	}
}

// mbUser stores a user directly. pending leaves the password hash empty
// (an invited user who has not accepted); otherwise it gets a placeholder
// hash that never verifies and a verified email (an established account).
func (m *mbEnv) mbUser(email, name string, pending, staff bool) domain.User {
	m.t.Helper()
	u := domain.User{Email: email, DisplayName: name, Staff: staff, CreateTime: m.clock.Now()}
	if !pending {
		u.PasswordHash, u.PasswordChanged, u.EmailVerified = "$placeholder$not-a-usable-hash", m.clock.Now(), true
	}
	if err := m.store.Update(m.ctx, func(tx domain.Tx) error { return tx.CreateUser(m.ctx, &u) }); err != nil {
		m.t.Fatalf("CreateUser(%s): %v", email, err)
	}
	return u
}

func mbID(u domain.User) string { return strconv.FormatInt(u.ID, 10) }

func mbUID(id int64) string { return strconv.FormatInt(id, 10) }

func mbRef(u domain.User) domain.AccountRef {
	return domain.AccountRef{Type: domain.AccountUser, ID: mbID(u)}
}

// mbOrg stores an organization with one project, outside the services.
func (m *mbEnv) mbOrg(orgName, projectName string) (domain.Organization, domain.Project) {
	m.t.Helper()
	now := m.clock.Now()
	org := domain.Organization{ID: domain.NewID(now), DisplayName: orgName, CreateTime: now}
	proj := domain.Project{ID: domain.NewID(now), OrganizationID: org.ID, OrganizationDisplayName: orgName,
		DisplayName: projectName, CreateTime: now, UpdateTime: now}
	if err := m.store.Update(m.ctx, func(tx domain.Tx) error {
		if err := tx.CreateOrganization(m.ctx, org); err != nil {
			return err
		}
		return tx.CreateProject(m.ctx, proj)
	}); err != nil {
		m.t.Fatal(err)
	}
	return org, proj
}

// mbSA stores a service account owned by projectID directly.
func (m *mbEnv) mbSA(projectID, name string, basicAuth bool) domain.ServiceAccount {
	m.t.Helper()
	now := m.clock.Now()
	sa := domain.ServiceAccount{ID: domain.NewID(now), ProjectID: projectID, DisplayName: name,
		EnableBasicAuth: basicAuth, CreateTime: now, UpdateTime: now}
	sa.Email = domain.ServiceAccountEmail(sa.ID, projectID, "d21s.com")
	if err := m.store.Update(m.ctx, func(tx domain.Tx) error { return tx.CreateServiceAccount(m.ctx, sa) }); err != nil {
		m.t.Fatalf("CreateServiceAccount(%s): %v", name, err)
	}
	return sa
}

// mbKey stores a key of a service account directly (the sealed secret is
// a placeholder: these tests never use it).
func (m *mbEnv) mbKey(sa domain.ServiceAccount) domain.Key {
	m.t.Helper()
	k := domain.Key{ID: domain.NewID(m.clock.Now()), ServiceAccountID: sa.ID, Sealed: []byte("sealed"), CreateTime: m.clock.Now()}
	if err := m.store.Update(m.ctx, func(tx domain.Tx) error { return tx.CreateKey(m.ctx, k) }); err != nil {
		m.t.Fatal(err)
	}
	return k
}

func (m *mbEnv) mbSAMember(sa domain.ServiceAccount, orgID, projectID string, role domain.Role) domain.Membership {
	m.t.Helper()
	return m.addMember(domain.Membership{OrganizationID: orgID, ProjectID: projectID, Account: sa.Ref(), Role: role})
}

// mbSnapshot renders every row of every table the services touch, read on
// the raw connection, so a refused call can be shown to change nothing.
func (m *mbEnv) mbSnapshot() string {
	m.t.Helper()
	var b strings.Builder
	for _, tb := range []string{"organizations", "projects", "users", "service_accounts", "keys",
		"project_members", "organization_members", "sessions", "invitations", "outbox", "audit_log"} {
		rows, err := m.raw.QueryContext(m.ctx, "SELECT * FROM "+tb+" ORDER BY 1")
		if err != nil {
			m.t.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			m.t.Fatal(err)
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				m.t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %v\n", tb, vals)
		}
		if err := rows.Err(); err != nil {
			m.t.Fatal(err)
		}
		rows.Close()
	}
	return b.String()
}

// mbUnchanged fails when the database differs from before.
func (m *mbEnv) mbUnchanged(t *testing.T, what, before string) {
	t.Helper()
	if after := m.mbSnapshot(); after != before {
		t.Errorf("%s changed the database:\nbefore:\n%s\nafter:\n%s", what, before, after)
	}
}

// mbAudit is one audit row as stored.
type mbAudit struct {
	id                                                      int64
	action, targetType, targetID, targetName, orgID, projID string
	actorType, actorID, actorEmail, reason, detail          string
	actorStaff                                              bool
}

func (m *mbEnv) mbMaxAudit() int64 {
	m.t.Helper()
	var id int64
	if err := m.raw.QueryRowContext(m.ctx, "SELECT coalesce(max(id), 0) FROM audit_log").Scan(&id); err != nil {
		m.t.Fatal(err)
	}
	return id
}

func (m *mbEnv) mbAuditSince(id int64) []mbAudit {
	m.t.Helper()
	rows, err := m.raw.QueryContext(m.ctx, `SELECT id, action, target_type, target_id, target_name, organization_id, project_id,
		actor_type, actor_id, actor_email, reason, detail, actor_staff FROM audit_log WHERE id > ? ORDER BY id`, id)
	if err != nil {
		m.t.Fatal(err)
	}
	defer rows.Close()
	var out []mbAudit
	for rows.Next() {
		var a mbAudit
		if err := rows.Scan(&a.id, &a.action, &a.targetType, &a.targetID, &a.targetName, &a.orgID, &a.projID,
			&a.actorType, &a.actorID, &a.actorEmail, &a.reason, &a.detail, &a.actorStaff); err != nil {
			m.t.Fatal(err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		m.t.Fatal(err)
	}
	return out
}

func mbActions(rows []mbAudit) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.action)
	}
	return out
}

// mbOutbox describes the outbox messages to an address, oldest first, as
// "body|invitation id|sent".
func (m *mbEnv) mbOutbox(to string) []string {
	m.t.Helper()
	rows, err := m.raw.QueryContext(m.ctx, `SELECT body || '|' || coalesce(invitation_id, 0) || '|' || (sent_time > 0)
		FROM outbox WHERE to_email = ? ORDER BY id`, to)
	if err != nil {
		m.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			m.t.Fatal(err)
		}
		out = append(out, body)
	}
	if err := rows.Err(); err != nil {
		m.t.Fatal(err)
	}
	return out
}

// mbStatus returns the status of a membership row ("" when there is none).
func (m *mbEnv) mbStatus(table, scopeCol, scopeID string, u domain.User) string {
	m.t.Helper()
	var status string
	err := m.raw.QueryRowContext(m.ctx, "SELECT status FROM "+table+" WHERE "+scopeCol+" = ? AND user_id = ?", scopeID, u.ID).Scan(&status)
	if err != nil {
		return ""
	}
	return status
}

// mbProjectRole returns an account's role in a project ("" when none), read raw.
func (m *mbEnv) mbProjectRole(projectID string, ref domain.AccountRef) domain.Role {
	m.t.Helper()
	col := "user_id"
	if ref.Type == domain.AccountServiceAccount {
		col = "service_account_id"
	}
	var role string
	if err := m.raw.QueryRowContext(m.ctx, "SELECT coalesce(max(role), '') FROM project_members WHERE project_id = ? AND "+col+" = ?",
		projectID, ref.ID).Scan(&role); err != nil {
		m.t.Fatal(err)
	}
	return domain.Role(role)
}

func mbWantField(t *testing.T, what string, err error, field string) {
	t.Helper()
	wantCode(t, what, err, domain.EINVALID)
	if _, ok := domain.FieldErrors(err)[field]; !ok {
		t.Errorf("%s: error %v has field errors %v, want one on %q", what, err, domain.FieldErrors(err), field)
	}
}

// mbToken is the token at the end of an invite link.
func mbToken(t *testing.T, link string) string {
	t.Helper()
	prefix := mbBaseURL + "/invite/"
	if !strings.HasPrefix(link, prefix) {
		t.Fatalf("invite link %q does not start with %q", link, prefix)
	}
	tok := strings.TrimPrefix(link, prefix)
	if len(tok) != 64 {
		t.Fatalf("invite link %q: token of %d characters, want 64", link, len(tok))
	}
	return tok
}

// mbAllMembers pages through ListProject with the given page size.
func (m *mbEnv) mbAllMembers(p domain.Principal, projectID, query string, size int) []domain.Membership {
	m.t.Helper()
	return allPages(m.t, fmt.Sprintf("ListProject(%q)", query), size, func(r domain.PageRequest) (domain.Page[domain.Membership], error) {
		_, page, err := m.members.ListProject(m.ctx, p, projectID, query, r)
		return page, err
	})
}

func TestInviteExistingUserIsAccepted(t *testing.T) {
	m := newMBEnv(t)
	b := m.bootstrap()
	alpha := m.createProject(b.principal, b.org.ID, "Alpha")
	u := m.mbUser("known@example.com", "Known Person", false, false)
	before := m.mbMaxAudit()
	inv, err := m.members.InviteToProject(m.ctx, b.principal, alpha.ID, "  Known@Example.COM ", domain.RoleProjectDev)
	if err != nil {
		t.Fatalf("InviteToProject: %v", err)
	}
	ms := inv.Membership
	if inv.InviteURL != "" || ms.Status != domain.StatusAccepted || ms.Role != domain.RoleProjectDev ||
		ms.Account != mbRef(u) || ms.ProjectID != alpha.ID || ms.OrganizationID != b.org.ID || ms.ID == 0 ||
		ms.AccountEmail != "known@example.com" || ms.AccountDisplayName != "Known Person" {
		t.Errorf("Invited = %+v", inv)
	}
	if got := m.mbStatus("project_members", "project_id", alpha.ID, u); got != "ACCEPTED" {
		t.Errorf("stored status %q, want ACCEPTED", got)
	}
	if n := m.count("SELECT count(*) FROM outbox"); n != 0 {
		t.Errorf("%d outbox messages for an existing user, want 0", n)
	}
	if n := m.count("SELECT count(*) FROM invitations"); n != 0 {
		t.Errorf("%d invitations for an existing user, want 0", n)
	}
	rows := m.mbAuditSince(before)
	if len(rows) != 1 || rows[0].action != domain.ActionMembershipCreate || rows[0].targetID != mbID(u) ||
		rows[0].projID != alpha.ID || rows[0].orgID != b.org.ID || rows[0].actorID != mbID(b.admin) {
		t.Errorf("audit after inviting an existing user = %+v", rows)
	}
	// The new member can read the project right away.
	if _, _, err := m.members.ListProject(m.ctx, domain.UserPrincipal(u, "x"), alpha.ID, "", domain.PageRequest{}); err != nil {
		t.Errorf("accepted member cannot list members: %v", err)
	}
}

func TestInviteServiceAccountOfOtherOrganizationIsAccepted(t *testing.T) {
	m := newMBEnv(t)
	b := m.bootstrap()
	alpha := m.createProject(b.principal, b.org.ID, "Alpha")
	_, far := m.mbOrg("Far Away Inc", "Far project")
	sa := m.mbSA(far.ID, "Far bot", false)
	inv, err := m.members.InviteToProject(m.ctx, b.principal, alpha.ID, strings.ToUpper(sa.Email), domain.RoleProjectUser)
	if err != nil {
		t.Fatalf("InviteToProject(service account): %v", err)
	}
	if inv.InviteURL != "" || inv.Membership.Status != domain.StatusAccepted || inv.Membership.Account != sa.Ref() ||
		inv.Membership.AccountEmail != sa.Email {
		t.Errorf("Invited = %+v", inv)
	}
	if got := m.mbProjectRole(alpha.ID, sa.Ref()); got != domain.RoleProjectUser {
		t.Errorf("stored role %q", got)
	}
	if n := m.count("SELECT count(*) FROM users WHERE email = ?", sa.Email); n != 0 {
		t.Errorf("a user was created for a service account email")
	}
	if n := m.count("SELECT count(*) FROM outbox") + m.count("SELECT count(*) FROM invitations"); n != 0 {
		t.Errorf("an invitation was made for a service account")
	}
}

func TestInviteUnknownEmailMakesPendingUser(t *testing.T) {
	m := newMBEnv(t)
	b := m.bootstrap()
	alpha := m.createProject(b.principal, b.org.ID, "Alpha")
	before := m.mbMaxAudit()
	inv, err := m.members.InviteToProject(m.ctx, b.principal, alpha.ID, "  New.Person@Example.ORG ", domain.RoleProjectAdmin)
	if err != nil {
		t.Fatalf("InviteToProject: %v", err)
	}
	const email = "new.person@example.org"
	u, err := m.store.UserByEmail(m.ctx, email)
	if err != nil {
		t.Fatalf("no user stored under the lower-case email: %v", err)
	}
	if !u.Pending() || u.DisplayName != email || u.Staff || u.Locked {
		t.Errorf("stored user = %+v, want pending with display name %q", u, email)
	}
	ms := inv.Membership
	if ms.Status != domain.StatusPending || ms.Account != mbRef(u) || ms.AccountEmail != email || ms.AccountDisplayName != email ||
		ms.Role != domain.RoleProjectAdmin {
		t.Errorf("membership = %+v", ms)
	}
	if got := m.mbStatus("project_members", "project_id", alpha.ID, u); got != "PENDING" {
		t.Errorf("stored status %q, want PENDING", got)
	}
	tok := mbToken(t, inv.InviteURL)
	// One invitation, bound to the new membership, by the inviter; its
	// email waits in the outbox without a body (the link is minted when it
	// is sent).
	var invID int64
	if err := m.raw.QueryRowContext(m.ctx, `SELECT id FROM invitations WHERE user_id = ? AND organization_id = ? AND project_id = ?
		AND project_member_id = ? AND organization_member_id IS NULL AND inviter_email = ? AND accept_time = 0
		AND shareable_hash = ? AND shareable_issued_by = ? AND emailed_hash IS NULL`,
		u.ID, b.org.ID, alpha.ID, ms.ID, b.admin.Email, domain.HashToken(tok), b.admin.Email).Scan(&invID); err != nil {
		t.Fatalf("no invitation row for the membership with the link's hash: %v", err)
	}
	if got := m.mbOutbox(email); len(got) != 1 || got[0] != "|"+strconv.FormatInt(invID, 10)+"|0" {
		t.Errorf("outbox to %s = %q, want one unsent invitation email without a body", email, got)
	}
	if n := m.count("SELECT count(*) FROM invitations WHERE shareable_hash = ? OR emailed_hash = ?", tok, tok); n != 0 {
		t.Error("the plain token is stored")
	}
	if acts := mbActions(m.mbAuditSince(before)); strings.Join(acts, ",") != "user.create,membership.create" {
		t.Errorf("audit actions %v, want user.create then membership.create", acts)
	}
	// A pending member holds no access yet.
	_, _, err = m.members.ListProject(m.ctx, domain.UserPrincipal(u, "x"), alpha.ID, "", domain.PageRequest{})
	wantCode(t, "pending member lists members", err, domain.ENOTFOUND)
	// The link names the user and the one membership.
	got, err := m.members.OpenInvitation(m.ctx, tok)
	if err != nil || got.User.ID != u.ID || got.User.Email != email || got.Membership.ID != ms.ID || got.Invitation.ID != invID ||
		got.Kind != domain.InviteShareable || got.Mode != domain.InviteSetPassword || got.ProjectName != "Alpha" {
		t.Errorf("OpenInvitation(token) = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "short", strings.Repeat("0", 64), tok[:63], tok + "0"} {
		_, err := m.members.OpenInvitation(m.ctx, bad)
		wantCode(t, fmt.Sprintf("OpenInvitation(%q)", bad), err, domain.ENOTFOUND)
	}
}

func TestReinviteSameEmailConflictsAndChangesNothing(t *testing.T) {
	m := newMBEnv(t)
	b := m.bootstrap()
	alpha := m.createProject(b.principal, b.org.ID, "Alpha")
	m.mbUser("known@example.com", "Known", false, false)
	for _, email := range []string{"fresh@example.com", "known@example.com"} {
		if _, err := m.members.InviteToProject(m.ctx, b.principal, alpha.ID, email, domain.RoleProjectUser); err != nil {
			t.Fatalf("first invite of %s: %v", email, err)
		}
		users, audit := m.count("SELECT count(*) FROM users"), m.count("SELECT count(*) FROM audit_log")
		snap := m.mbSnapshot()
		_, err := m.members.InviteToProject(m.ctx, b.principal, alpha.ID, " "+strings.ToUpper(email), domain.RoleProjectAdmin)
		wantCode(t, "re-invite "+email, err, domain.ECONFLICT)
		if _, ok := domain.FieldErrors(err)["email"]; !ok {
			t.Errorf("re-invite %s: fields %v, want one on email", email, domain.FieldErrors(err))
		}
		if u, a := m.count("SELECT count(*) FROM users"), m.count("SELECT count(*) FROM audit_log"); u != users || a != audit {
			t.Errorf("re-invite %s: users %d → %d, audit %d → %d", email, users, u, audit, a)
		}
		m.mbUnchanged(t, "re-invite "+email, snap)
	}
}

func TestInviteValidation(t *testing.T) {
	m := newMBEnv(t)
	b := m.bootstrap()
	alpha := m.createProject(b.principal, b.org.ID, "Alpha")
	member, err := m.members.InviteToProject(m.ctx, b.principal, alpha.ID, "member@example.com", domain.RoleProjectUser)
	if err != nil {
		t.Fatal(err)
	}
	snap := m.mbSnapshot()
	for _, c := range []struct {
		email string
		role  domain.Role
		field string
	}{
		{"not-an-email", domain.RoleProjectUser, "email"},
		{"", domain.RoleProjectUser, "email"},
		{"a b@example.com", domain.RoleProjectUser, "email"},
		{"someone@localhost", domain.RoleProjectUser, "email"},
		{"ok@example.com", domain.RoleOrgAdmin, "role"},
		{"ok@example.com", "bogus", "role"},
		{"ok@example.com", domain.RoleNone, "role"},
	} {
		_, err := m.members.InviteToProject(m.ctx, b.principal, alpha.ID, c.email, c.role)
		mbWantField(t, fmt.Sprintf("InviteToProject(%q, %q)", c.email, c.role), err, c.field)
	}
	_, err = m.members.InviteOrgAdmin(m.ctx, b.principal, b.org.ID, "nope")
	mbWantField(t, "InviteOrgAdmin(bad email)", err, "email")
	_, err = m.members.SetProjectMemberRole(m.ctx, b.principal, alpha.ID, member.Membership.Account.ID, domain.RoleOrgAdmin)
	mbWantField(t, "SetProjectMemberRole(org admin role)", err, "role")
	m.mbUnchanged(t, "invalid invitations", snap)
}

// acceptWorld is a pending user with pending memberships in two
// organizations, project and organization scope, with two links.
type acceptWorld struct {
	b                 bootstrapped
	alpha, far        domain.Project
	farOrg            domain.Organization
	user              domain.User
	link1, link2, url string
}

func (m *mbEnv) acceptWorld() acceptWorld {
	m.t.Helper()
	w := acceptWorld{b: m.bootstrap()}
	w.alpha = m.createProject(w.b.principal, w.b.org.ID, "Alpha")
	w.farOrg, w.far = m.mbOrg("Far Org", "Far project")
	m.addOrgAdmin(w.b.admin, w.farOrg.ID, domain.StatusAccepted)
	inv, err := m.members.InviteToProject(m.ctx, w.b.principal, w.alpha.ID, "Invitee@Example.com", domain.RoleProjectDev)
	if err != nil {
		m.t.Fatal(err)
	}
	w.link1 = inv.InviteURL
	// Invited again elsewhere: the user already exists, pending, so the
	// memberships are pending too and each invitation makes a link.
	inv2, err := m.members.InviteOrgAdmin(m.ctx, w.b.principal, w.farOrg.ID, "invitee@example.com")
	if err != nil {
		m.t.Fatal(err)
	}
	if inv2.Membership.Status != domain.StatusPending || inv2.InviteURL == "" {
		m.t.Fatalf("InviteOrgAdmin of a pending user = %+v", inv2)
	}
	w.link2 = inv2.InviteURL
	inv3, err := m.members.InviteToProject(m.ctx, w.b.principal, w.far.ID, "invitee@example.com", domain.RoleProjectUser)
	if err != nil {
		m.t.Fatal(err)
	}
	if inv3.Membership.Status != domain.StatusPending {
		m.t.Fatalf("third invitation = %+v", inv3)
	}
	w.url = inv3.InviteURL
	if w.user, err = m.store.UserByEmail(m.ctx, "invitee@example.com"); err != nil {
		m.t.Fatal(err)
	}
	return w
}

// mbInvitationID returns the id of the invitation covering a user's
// membership in a project (or, with projectID "", in the organization).
func (m *mbEnv) mbInvitationID(u domain.User, orgID, projectID string) int64 {
	m.t.Helper()
	var id int64
	if err := m.raw.QueryRowContext(m.ctx, "SELECT id FROM invitations WHERE user_id = ? AND organization_id = ? AND project_id = ?",
		u.ID, orgID, projectID).Scan(&id); err != nil {
		m.t.Fatalf("invitation of %s in %s/%s: %v", u.Email, orgID, projectID, err)
	}
	return id
}

// TestAcceptInvitation: a link accepts its own membership and nothing
// else, even of the same user in another organization (issue 11, item 1).
func TestAcceptInvitation(t *testing.T) {
	m := newMBEnv(t)
	w := m.acceptWorld()
	tok := mbToken(t, w.link1)
	const pw = "a good long password"

	snap := m.mbSnapshot()
	for _, c := range []struct {
		name, pw, confirm, field string
	}{
		{"", pw, pw, "name"},
		{"   ", pw, pw, "name"},
		{"Bad\nName", pw, pw, "name"},
		{strings.Repeat("n", 101), pw, pw, "name"},
		{"Ivy Invitee", "short", "short", "password"},
		{"Ivy Invitee", strings.Repeat(" ", 20), strings.Repeat(" ", 20), "password"},
		{"Ivy Invitee", pw, pw + "!", "confirm"},
	} {
		_, err := m.members.AcceptInvitation(m.ctx, tok, c.name, c.pw, c.confirm, "192.0.2.50")
		mbWantField(t, fmt.Sprintf("AcceptInvitation(%q, %q, %q)", c.name, c.pw, c.confirm), err, c.field)
	}
	m.mbUnchanged(t, "refused acceptances", snap)

	m.clock.Advance(time.Hour)
	before := m.mbMaxAudit()
	u, err := m.members.AcceptInvitation(m.ctx, tok, "  Ivy Invitee ", pw, pw, "192.0.2.50")
	if err != nil {
		t.Fatalf("AcceptInvitation: %v", err)
	}
	if u.ID != w.user.ID || u.DisplayName != "Ivy Invitee" || u.Pending() || u.EmailVerified {
		t.Errorf("accepted user = %+v", u)
	}
	stored, err := m.store.UserByID(m.ctx, w.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	// A shareable link proves nothing about the mailbox.
	if stored.DisplayName != "Ivy Invitee" || stored.Pending() || stored.Email != "invitee@example.com" || stored.EmailVerified {
		t.Errorf("stored user = %+v", stored)
	}
	if ok, err := domain.NewHasher(1).Verify(m.ctx, stored.PasswordHash, pw); err != nil || !ok {
		t.Errorf("the stored hash does not verify the new password: %v %v", ok, err)
	}
	// Only the link's own membership is accepted.
	for _, c := range []struct{ table, col, id, want string }{
		{"project_members", "project_id", w.alpha.ID, "ACCEPTED"},
		{"project_members", "project_id", w.far.ID, "PENDING"},
		{"organization_members", "organization_id", w.farOrg.ID, "PENDING"},
	} {
		if got := m.mbStatus(c.table, c.col, c.id, w.user); got != c.want {
			t.Errorf("%s in %s: status %q, want %s", c.table, c.id, got, c.want)
		}
	}
	alphaInv := m.mbInvitationID(w.user, w.b.org.ID, w.alpha.ID)
	if n := m.count("SELECT count(*) FROM invitations WHERE user_id = ? AND accept_time > 0", w.user.ID); n != 1 ||
		m.count("SELECT count(*) FROM invitations WHERE id = ? AND accept_time > 0", alphaInv) != 1 {
		t.Errorf("%d invitations closed, want only alpha's", n)
	}
	rows := m.mbAuditSince(before)
	if len(rows) != 1 || rows[0].action != domain.ActionInvitationAccept || rows[0].actorID != mbID(w.user) ||
		rows[0].targetID != mbID(w.user) || rows[0].orgID != w.b.org.ID || rows[0].projID != w.alpha.ID ||
		!strings.Contains(rows[0].detail, fmt.Sprintf("invitation %d by %s, shareable link issued by %s", alphaInv, w.b.admin.Email, w.b.admin.Email)) {
		t.Errorf("audit after accepting = %+v", rows)
	}
	// The new member now has the access its one membership gives.
	p := domain.UserPrincipal(stored, "192.0.2.50")
	if _, _, err := m.members.ListProject(m.ctx, p, w.alpha.ID, "", domain.PageRequest{}); err != nil {
		t.Errorf("accepted member cannot read alpha: %v", err)
	}
	if _, _, err := m.members.ListOrgAdmins(m.ctx, p, w.farOrg.ID, domain.PageRequest{}); err == nil {
		t.Error("the pending organization admin membership of the far organization works")
	}
	// The used link is dead; the other invitations' links still work, but
	// the account has a password now: they ask to sign in.
	snap = m.mbSnapshot()
	_, err = m.members.OpenInvitation(m.ctx, tok)
	wantCode(t, "OpenInvitation(used link)", err, domain.ENOTFOUND)
	_, err = m.members.AcceptInvitation(m.ctx, tok, "Mallory", "another long password", "another long password", "x")
	wantCode(t, "AcceptInvitation(used link)", err, domain.ENOTFOUND)
	tok2 := mbToken(t, w.link2)
	link, err := m.members.OpenInvitation(m.ctx, tok2)
	if err != nil || link.Mode != domain.InviteSignIn || link.ProjectName != "" || link.OrganizationName != "Far Org" {
		t.Fatalf("OpenInvitation(far organization link) = %+v, %v", link, err)
	}
	_, err = m.members.AcceptInvitation(m.ctx, tok2, "Mallory", "another long password", "another long password", "x")
	wantCode(t, "AcceptInvitation(link of an account with a password)", err, domain.EFORBIDDEN)
	_, err = m.members.AcceptInvitationAs(m.ctx, w.b.principal, tok2)
	wantCode(t, "AcceptInvitationAs(someone else)", err, domain.EFORBIDDEN)
	m.mbUnchanged(t, "refused links", snap)

	// Signed in as the account, the far organization's link accepts its
	// own membership, audited in that organization.
	before = m.mbMaxAudit()
	if _, err := m.members.AcceptInvitationAs(m.ctx, p, tok2); err != nil {
		t.Fatalf("AcceptInvitationAs: %v", err)
	}
	if got := m.mbStatus("organization_members", "organization_id", w.farOrg.ID, w.user); got != "ACCEPTED" {
		t.Errorf("far organization admin membership %q", got)
	}
	if got := m.mbStatus("project_members", "project_id", w.far.ID, w.user); got != "PENDING" {
		t.Errorf("far project membership %q, want still PENDING", got)
	}
	rows = m.mbAuditSince(before)
	if len(rows) != 1 || rows[0].action != domain.ActionInvitationAccept || rows[0].orgID != w.farOrg.ID || rows[0].projID != "" ||
		!strings.Contains(rows[0].detail, fmt.Sprintf("invitation %d ", m.mbInvitationID(w.user, w.farOrg.ID, ""))) {
		t.Errorf("audit after accepting the far link = %+v", rows)
	}
}

func TestInvitationExpires(t *testing.T) {
	m := newMBEnv(t)
	w := m.acceptWorld()
	tok := mbToken(t, w.link1)
	m.clock.Advance(domain.DefaultInviteTTL - time.Minute)
	if _, err := m.members.OpenInvitation(m.ctx, tok); err != nil {
		t.Fatalf("OpenInvitation a minute before it expires: %v", err)
	}
	m.clock.Advance(time.Minute)
	snap := m.mbSnapshot()
	_, err := m.members.OpenInvitation(m.ctx, tok)
	wantCode(t, "OpenInvitation at expiry", err, domain.ENOTFOUND)
	_, err = m.members.AcceptInvitation(m.ctx, tok, "Late Person", "a good long password", "a good long password", "x")
	wantCode(t, "AcceptInvitation after expiry", err, domain.ENOTFOUND)
	m.mbUnchanged(t, "expired link", snap)
	if got := m.mbStatus("project_members", "project_id", w.alpha.ID, w.user); got != "PENDING" {
		t.Errorf("status after an expired link %q", got)
	}
}

func TestProjectInviteURL(t *testing.T) {
	m := newMBEnv(t)
	b := m.bootstrap()
	alpha := m.createProject(b.principal, b.org.ID, "Alpha")
	inv, err := m.members.InviteToProject(m.ctx, b.principal, alpha.ID, "second@example.com", domain.RoleProjectUser)
	if err != nil {
		t.Fatal(err)
	}
	u, err := m.store.UserByEmail(m.ctx, "second@example.com")
	if err != nil {
		t.Fatal(err)
	}
	invID := m.mbInvitationID(u, b.org.ID, alpha.ID)
	m.clock.Advance(time.Minute)
	before := m.mbMaxAudit()
	link2, err := m.members.ProjectInviteURL(m.ctx, b.principal, alpha.ID, mbID(u))
	if err != nil {
		t.Fatalf("ProjectInviteURL: %v", err)
	}
	tok1, tok2 := mbToken(t, inv.InviteURL), mbToken(t, link2)
	if tok1 == tok2 {
		t.Fatal("the second link is the first one")
	}
	rows := m.mbAuditSince(before)
	if len(rows) != 1 || rows[0].action != domain.ActionInvitationIssue || rows[0].targetID != mbID(u) ||
		rows[0].projID != alpha.ID || rows[0].targetName != "second@example.com" ||
		!strings.Contains(rows[0].detail, fmt.Sprintf("Invitation %d", invID)) {
		t.Errorf("audit of a new link = %+v", rows)
	}
	// The same invitation, with a new shareable link; its email, still
	// waiting, is not queued twice.
	if n := m.count("SELECT count(*) FROM invitations WHERE user_id = ?", u.ID); n != 1 {
		t.Errorf("%d invitations after a re-issue, want 1", n)
	}
	if got := m.mbOutbox("second@example.com"); len(got) != 1 || got[0] != fmt.Sprintf("|%d|0", invID) {
		t.Errorf("outbox to the member = %q, want one waiting invitation email", got)
	}
	// The new link ends the previous one.
	_, err = m.members.OpenInvitation(m.ctx, tok1)
	wantCode(t, "first link after a re-issue", err, domain.ENOTFOUND)
	if got, err := m.members.OpenInvitation(m.ctx, tok2); err != nil || got.User.ID != u.ID || got.Invitation.ID != invID {
		t.Errorf("second link: %+v, %v", got, err)
	}
	if _, err := m.members.AcceptInvitation(m.ctx, tok2, "Second", "a good long password", "a good long password", "x"); err != nil {
		t.Fatalf("AcceptInvitation(second link): %v", err)
	}

	// An accepted member (now this one) has no link.
	snap := m.mbSnapshot()
	_, err = m.members.ProjectInviteURL(m.ctx, b.principal, alpha.ID, mbID(u))
	wantCode(t, "ProjectInviteURL(accepted member)", err, domain.EINVALID)
	m.mbUnchanged(t, "refused invite link of an accepted member", snap)
	sa := m.mbSA(alpha.ID, "Bot", false)
	m.mbSAMember(sa, b.org.ID, alpha.ID, domain.RoleProjectUser)
	snap = m.mbSnapshot()
	_, err = m.members.ProjectInviteURL(m.ctx, b.principal, alpha.ID, sa.ID)
	wantCode(t, "ProjectInviteURL(service account)", err, domain.EINVALID)
	_, err = m.members.ProjectInviteURL(m.ctx, b.principal, alpha.ID, "999999")
	wantCode(t, "ProjectInviteURL(no such member)", err, domain.ENOTFOUND)
	m.mbUnchanged(t, "refused invite links", snap)
}

func TestProjectMemberShowsAccount(t *testing.T) {
	m := newMBEnv(t)
	b := m.bootstrap()
	alpha := m.createProject(b.principal, b.org.ID, "Alpha")
	u := m.mbUser("shown@example.com", "Shown Person", false, false)
	m.addProjectMember(u, alpha, domain.RoleProjectDev, domain.StatusAccepted)
	sa := m.mbSA(alpha.ID, "Shown bot", false)
	m.mbSAMember(sa, b.org.ID, alpha.ID, domain.RoleProjectUser)

	got, err := m.members.ProjectMember(m.ctx, b.principal, alpha.ID, mbID(u))
	if err != nil {
		t.Fatal(err)
	}
	if got.Account != mbRef(u) || got.Role != domain.RoleProjectDev || got.Status != domain.StatusAccepted ||
		got.ProjectID != alpha.ID || got.OrganizationID != b.org.ID {
		t.Errorf("ProjectMember(user) = %+v", got)
	}
	// The API's Member carries email and displayName: the service must fill them.
	if got.AccountEmail != "shown@example.com" || got.AccountDisplayName != "Shown Person" {
		t.Errorf("ProjectMember(user): email %q, display name %q; want %q, %q",
			got.AccountEmail, got.AccountDisplayName, "shown@example.com", "Shown Person")
	}
	got, err = m.members.ProjectMember(m.ctx, b.principal, alpha.ID, sa.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Account != sa.Ref() || got.AccountEmail != sa.Email || got.AccountDisplayName != "Shown bot" {
		t.Errorf("ProjectMember(service account) = %+v", got)
	}
	for _, id := range []string{"999999", "0", "-1", "abc", "", domain.NewID(m.clock.Now())} {
		_, err := m.members.ProjectMember(m.ctx, b.principal, alpha.ID, id)
		wantCode(t, fmt.Sprintf("ProjectMember(%q)", id), err, domain.ENOTFOUND)
	}
}

func TestSetRoleAndRemoveProjectMember(t *testing.T) {
	m := newMBEnv(t)
	b := m.bootstrap()
	alpha := m.createProject(b.principal, b.org.ID, "Alpha")
	u := m.mbUser("member@example.com", "Member", false, false)
	m.addProjectMember(u, alpha, domain.RoleProjectUser, domain.StatusAccepted)
	sa := m.mbSA(alpha.ID, "Member bot", false)
	m.mbSAMember(sa, b.org.ID, alpha.ID, domain.RoleProjectDev)

	before := m.mbMaxAudit()
	view, err := m.members.SetProjectMemberRole(m.ctx, b.principal, alpha.ID, mbID(u), domain.RoleProjectAdmin)
	if err != nil {
		t.Fatalf("SetProjectMemberRole: %v", err)
	}
	got := view.Membership
	if got.Role != domain.RoleProjectAdmin {
		t.Errorf("returned role %q", got.Role)
	}
	if r := m.mbProjectRole(alpha.ID, mbRef(u)); r != domain.RoleProjectAdmin {
		t.Errorf("stored role %q", r)
	}
	rows := m.mbAuditSince(before)
	if len(rows) != 1 || rows[0].action != domain.ActionMembershipUpdate || rows[0].targetID != mbID(u) ||
		rows[0].projID != alpha.ID || rows[0].orgID != b.org.ID || rows[0].detail != "Project user → Project admin" {
		t.Errorf("audit of a role change = %+v", rows)
	}
	if len(rows) == 1 && rows[0].targetName != "member@example.com" {
		t.Errorf("audit of a role change names %q, want the member's email", rows[0].targetName)
	}
	// The same role again changes nothing and writes no entry.
	snap := m.mbSnapshot()
	if _, err := m.members.SetProjectMemberRole(m.ctx, b.principal, alpha.ID, mbID(u), domain.RoleProjectAdmin); err != nil {
		t.Errorf("same role again: %v", err)
	}
	m.mbUnchanged(t, "setting the same role", snap)

	before = m.mbMaxAudit()
	if err := m.members.RemoveProjectMember(m.ctx, b.principal, alpha.ID, mbID(u)); err != nil {
		t.Fatalf("RemoveProjectMember(user): %v", err)
	}
	if err := m.members.RemoveProjectMember(m.ctx, b.principal, alpha.ID, sa.ID); err != nil {
		t.Fatalf("RemoveProjectMember(service account): %v", err)
	}
	if n := m.count("SELECT count(*) FROM project_members WHERE project_id = ?", alpha.ID); n != 0 {
		t.Errorf("%d memberships left", n)
	}
	if n := m.count("SELECT count(*) FROM users WHERE id = ?", u.ID); n != 1 {
		t.Error("removing the membership deleted the user")
	}
	if n := m.count("SELECT count(*) FROM service_accounts WHERE id = ?", sa.ID); n != 1 {
		t.Error("removing the membership deleted the service account")
	}
	rows = m.mbAuditSince(before)
	if len(rows) != 2 || rows[0].action != domain.ActionMembershipDelete || rows[1].action != domain.ActionMembershipDelete ||
		rows[0].targetID != mbID(u) || rows[1].targetID != sa.ID || rows[0].detail != "Project admin" || rows[1].detail != "Project developer" {
		t.Errorf("audit of removals = %+v", rows)
	} else if rows[0].targetName != "member@example.com" || rows[1].targetName != sa.Email {
		t.Errorf("audit of removals names %q and %q, want the members' emails", rows[0].targetName, rows[1].targetName)
	}
	snap = m.mbSnapshot()
	err = m.members.RemoveProjectMember(m.ctx, b.principal, alpha.ID, mbID(u))
	wantCode(t, "removing again", err, domain.ENOTFOUND)
	_, err = m.members.SetProjectMemberRole(m.ctx, b.principal, alpha.ID, mbID(u), domain.RoleProjectUser)
	wantCode(t, "role of a removed member", err, domain.ENOTFOUND)
	m.mbUnchanged(t, "refused changes of a removed member", snap)
}

func TestListProjectMembersSearchAndPagination(t *testing.T) {
	m := newMBEnv(t)
	b := m.bootstrap()
	alpha := m.createProject(b.principal, b.org.ID, "Alpha")
	other := m.createProject(b.principal, b.org.ID, "Other")
	want := map[string]string{} // account id → email
	zebras := map[string]bool{}
	sas := map[string]bool{}
	for i := 0; i < 25; i++ {
		if i%5 == 2 || i%5 == 4 {
			sa := m.mbSA(alpha.ID, fmt.Sprintf("Bot %02d", i), false)
			m.mbSAMember(sa, b.org.ID, alpha.ID, domain.RoleProjectUser)
			want[sa.ID], sas[sa.ID] = sa.Email, true
			continue
		}
		name := fmt.Sprintf("Person %02d", i)
		if i%3 == 0 {
			name += " Zebra"
		}
		u := m.mbUser(fmt.Sprintf("person%02d@corp.example", i), name, i == 7, false)
		status := domain.StatusAccepted
		if i == 7 {
			status = domain.StatusPending
		}
		m.addProjectMember(u, alpha, domain.RoleProjectDev, status)
		want[mbID(u)] = u.Email
		if i%3 == 0 {
			zebras[mbID(u)] = true
		}
	}
	// Members of another project are not listed.
	m.addProjectMember(m.mbUser("elsewhere@corp.example", "Elsewhere Zebra", false, false), other, domain.RoleProjectUser, domain.StatusAccepted)
	if len(want) != 25 || len(sas) != 10 {
		t.Fatalf("set up %d members (%d service accounts)", len(want), len(sas))
	}
	for _, size := range []int{1, 4, 25, 100} {
		all := m.mbAllMembers(b.principal, alpha.ID, "", size)
		seen := map[string]int{}
		for i, ms := range all {
			seen[ms.Account.ID]++
			if want[ms.Account.ID] != ms.AccountEmail {
				t.Errorf("size %d: member %s has email %q, want %q", size, ms.Account.ID, ms.AccountEmail, want[ms.Account.ID])
			}
			if i > 0 && ms.ID <= all[i-1].ID {
				t.Errorf("size %d: not in id order at %d", size, i)
			}
		}
		if len(all) != 25 || len(seen) != 25 {
			t.Errorf("size %d: %d items, %d distinct, want 25", size, len(all), len(seen))
		}
	}
	ids := func(ms []domain.Membership) map[string]bool {
		out := map[string]bool{}
		for _, x := range ms {
			out[x.Account.ID] = true
		}
		return out
	}
	eq := func(a, b map[string]bool) bool {
		if len(a) != len(b) {
			return false
		}
		for k := range a {
			if !b[k] {
				return false
			}
		}
		return true
	}
	if got := ids(m.mbAllMembers(b.principal, alpha.ID, "  ZEBRA ", 2)); !eq(got, zebras) {
		t.Errorf("search by name: %v, want %v", got, zebras)
	}
	if got := ids(m.mbAllMembers(b.principal, alpha.ID, "bot 1", 3)); len(got) != 4 {
		t.Errorf("search %q: %d members, want 4 (Bot 12, 14, 17, 19)", "bot 1", len(got))
	}
	if got := ids(m.mbAllMembers(b.principal, alpha.ID, "PERSON13@CORP", 3)); len(got) != 1 {
		t.Errorf("search by email: %v, want one", got)
	}
	if got := ids(m.mbAllMembers(b.principal, alpha.ID, "@corp.example", 4)); len(got) != 15 {
		t.Errorf("search by email domain: %d members, want 15", len(got))
	}
	if got := ids(m.mbAllMembers(b.principal, alpha.ID, ".serviceaccount.", 4)); !eq(got, sas) {
		t.Errorf("search by service account email: %d members, want the 10 service accounts", len(got))
	}
	if got := m.mbAllMembers(b.principal, alpha.ID, "nobody-matches", 4); len(got) != 0 {
		t.Errorf("search with no match: %d members", len(got))
	}
	_, _, err := m.members.ListProject(m.ctx, b.principal, alpha.ID, "", domain.PageRequest{Size: 10, Token: "garbage!"})
	mbWantField(t, "bad page token", err, "pageToken")
	_, _, err = m.members.ListProject(m.ctx, b.principal, alpha.ID, "", domain.PageRequest{Size: 1001})
	mbWantField(t, "page size 1001", err, "pageSize")
}

// mbWorld is an organization with one principal per role and one target
// per call that changes something, for the permission table.
type mbWorld struct {
	bootstrapped
	alpha, beta                                        domain.Project
	outsider, puser, pdev, padmin, oadmin, staff       domain.Principal
	tgtRead, tgtRole, tgtRemove, tgtPending            domain.User
	tgtOrgRead, tgtOrgPending, tgtOrgRevoke, tgtAccess domain.User
}

func (m *mbEnv) mbWorld() mbWorld {
	m.t.Helper()
	w := mbWorld{bootstrapped: m.bootstrap()}
	w.alpha = m.createProject(w.principal, w.org.ID, "Alpha")
	w.beta = m.createProject(w.principal, w.org.ID, "Beta")
	pr := func(u domain.User) domain.Principal { return domain.UserPrincipal(u, "198.51.100.20") }
	w.outsider = pr(m.mbUser("outsider@example.com", "Outsider", false, false))
	u := m.mbUser("puser@example.com", "Project user", false, false)
	m.addProjectMember(u, w.alpha, domain.RoleProjectUser, domain.StatusAccepted)
	w.puser = pr(u)
	u = m.mbUser("pdev@example.com", "Project dev", false, false)
	m.addProjectMember(u, w.alpha, domain.RoleProjectDev, domain.StatusAccepted)
	w.pdev = pr(u)
	u = m.mbUser("padmin@example.com", "Project admin", false, false)
	m.addProjectMember(u, w.alpha, domain.RoleProjectAdmin, domain.StatusAccepted)
	w.padmin = pr(u)
	u = m.mbUser("oadmin@example.com", "Org admin", false, false)
	m.addOrgAdmin(u, w.org.ID, domain.StatusAccepted)
	w.oadmin = pr(u)
	w.staff = pr(m.mbUser("staff@example.com", "Support", false, true))
	if !w.staff.Staff {
		m.t.Fatal("staff principal without the staff flag")
	}

	w.tgtRead = m.mbUser("t-read@example.com", "Read target", false, false)
	m.addProjectMember(w.tgtRead, w.alpha, domain.RoleProjectUser, domain.StatusAccepted)
	w.tgtRole = m.mbUser("t-role@example.com", "Role target", false, false)
	m.addProjectMember(w.tgtRole, w.alpha, domain.RoleProjectUser, domain.StatusAccepted)
	w.tgtRemove = m.mbUser("t-remove@example.com", "Remove target", false, false)
	m.addProjectMember(w.tgtRemove, w.alpha, domain.RoleProjectUser, domain.StatusAccepted)
	w.tgtPending = m.mbUser("t-pending@example.com", "t-pending@example.com", true, false)
	m.addProjectMember(w.tgtPending, w.alpha, domain.RoleProjectUser, domain.StatusPending)
	w.tgtOrgRead = m.mbUser("t-orgread@example.com", "Org read target", false, false)
	m.addOrgAdmin(w.tgtOrgRead, w.org.ID, domain.StatusAccepted)
	w.tgtOrgPending = m.mbUser("t-orgpending@example.com", "t-orgpending@example.com", true, false)
	m.addOrgAdmin(w.tgtOrgPending, w.org.ID, domain.StatusPending)
	w.tgtOrgRevoke = m.mbUser("t-orgrevoke@example.com", "Org revoke target", false, false)
	m.addOrgAdmin(w.tgtOrgRevoke, w.org.ID, domain.StatusAccepted)
	w.tgtAccess = m.mbUser("t-access@example.com", "Access target", false, false)
	m.addProjectMember(w.tgtAccess, w.alpha, domain.RoleProjectUser, domain.StatusAccepted)
	return w
}

func TestMembersPermissionTable(t *testing.T) {
	const (
		ok = ""
		nf = domain.ENOTFOUND
		fb = domain.EFORBIDDEN
	)
	roles := []string{"outsider", "project user", "developer", "project admin", "org admin", "staff"}
	// Expected code per role, in the order of roles.
	project := func(read bool) []string {
		if read {
			return []string{nf, ok, ok, ok, ok, nf}
		}
		return []string{nf, fb, fb, ok, ok, nf}
	}
	orgOnly := []string{nf, fb, fb, fb, ok, nf}
	type call struct {
		name string
		want []string
		run  func(m *mbEnv, w mbWorld, p domain.Principal) error
	}
	calls := []call{
		{"ListProject", project(true), func(m *mbEnv, w mbWorld, p domain.Principal) error {
			_, _, err := m.members.ListProject(m.ctx, p, w.alpha.ID, "", domain.PageRequest{})
			return err
		}},
		{"InviteToProject", project(false), func(m *mbEnv, w mbWorld, p domain.Principal) error {
			_, err := m.members.InviteToProject(m.ctx, p, w.alpha.ID, "brand-new@example.com", domain.RoleProjectUser)
			return err
		}},
		{"ProjectMember", project(true), func(m *mbEnv, w mbWorld, p domain.Principal) error {
			_, err := m.members.ProjectMember(m.ctx, p, w.alpha.ID, mbID(w.tgtRead))
			return err
		}},
		{"SetProjectMemberRole", project(false), func(m *mbEnv, w mbWorld, p domain.Principal) error {
			_, err := m.members.SetProjectMemberRole(m.ctx, p, w.alpha.ID, mbID(w.tgtRole), domain.RoleProjectDev)
			return err
		}},
		{"RemoveProjectMember", project(false), func(m *mbEnv, w mbWorld, p domain.Principal) error {
			return m.members.RemoveProjectMember(m.ctx, p, w.alpha.ID, mbID(w.tgtRemove))
		}},
		// The contract gives getInviteUrl to membership.read.
		// Issuing a link needs membership.create, not the contract's membership.read:
		// a link lets its holder set the pending account's password.
		{"ProjectInviteURL", project(false), func(m *mbEnv, w mbWorld, p domain.Principal) error {
			_, err := m.members.ProjectInviteURL(m.ctx, p, w.alpha.ID, mbID(w.tgtPending))
			return err
		}},
		{"ListOrgAdmins", orgOnly, func(m *mbEnv, w mbWorld, p domain.Principal) error {
			_, _, err := m.members.ListOrgAdmins(m.ctx, p, w.org.ID, domain.PageRequest{})
			return err
		}},
		{"InviteOrgAdmin", orgOnly, func(m *mbEnv, w mbWorld, p domain.Principal) error {
			_, err := m.members.InviteOrgAdmin(m.ctx, p, w.org.ID, "new-org-admin@example.com")
			return err
		}},
		{"OrgMember", orgOnly, func(m *mbEnv, w mbWorld, p domain.Principal) error {
			_, err := m.members.OrgMember(m.ctx, p, w.org.ID, mbID(w.tgtOrgRead))
			return err
		}},
		{"RevokeOrgAdmin", orgOnly, func(m *mbEnv, w mbWorld, p domain.Principal) error {
			return m.members.RevokeOrgAdmin(m.ctx, p, w.org.ID, mbID(w.tgtOrgRevoke))
		}},
		{"OrgInviteURL", orgOnly, func(m *mbEnv, w mbWorld, p domain.Principal) error {
			_, err := m.members.OrgInviteURL(m.ctx, p, w.org.ID, mbID(w.tgtOrgPending))
			return err
		}},
		{"AccountAccess", orgOnly, func(m *mbEnv, w mbWorld, p domain.Principal) error {
			_, err := m.members.AccountAccess(m.ctx, p, w.org.ID, mbID(w.tgtAccess), domain.PageRequest{})
			return err
		}},
		{"SetAccountAccess", orgOnly, func(m *mbEnv, w mbWorld, p domain.Principal) error {
			_, err := m.members.SetAccountAccess(m.ctx, p, w.org.ID, mbID(w.tgtAccess),
				map[string]domain.Role{w.alpha.ID: domain.RoleProjectDev, w.beta.ID: domain.RoleProjectUser})
			return err
		}},
	}
	for ri, role := range roles {
		t.Run(role, func(t *testing.T) {
			t.Parallel()
			m := newMBEnv(t)
			w := m.mbWorld()
			p := []domain.Principal{w.outsider, w.puser, w.pdev, w.padmin, w.oadmin, w.staff}[ri]
			for _, c := range calls {
				before := m.mbSnapshot()
				err := c.run(m, w, p)
				if got := domain.ErrorCode(err); got != c.want[ri] {
					t.Errorf("%s as %s: %v (code %q), want code %q", c.name, role, err, got, c.want[ri])
				}
				if err != nil {
					m.mbUnchanged(t, c.name+" as "+role+" (refused)", before)
				}
			}
		})
	}
}

func TestRevokeOrgAdminKeepsTheLastPerson(t *testing.T) {
	m := newMBEnv(t)
	b := m.bootstrap()
	alpha := m.createProject(b.principal, b.org.ID, "Alpha")
	// A service account org admin never counts as the last person.
	sa := m.mbSA(alpha.ID, "Admin bot", false)
	m.mbSAMember(sa, b.org.ID, "", domain.RoleOrgAdmin)
	snap := m.mbSnapshot()
	err := m.members.RevokeOrgAdmin(m.ctx, b.principal, b.org.ID, mbID(b.admin))
	wantCode(t, "revoking the only person admin", err, domain.EINVALID)
	if msg := domain.ErrorMessage(err); !strings.Contains(msg, "last admin") || !strings.Contains(msg, b.admin.Email) {
		t.Errorf("message %q does not say who and why", msg)
	}
	m.mbUnchanged(t, "refused revocation of the last person", snap)

	// A pending user admin can be revoked.
	inv, err := m.members.InviteOrgAdmin(m.ctx, b.principal, b.org.ID, "Pending.Admin@example.com")
	if err != nil || inv.Membership.Status != domain.StatusPending || inv.InviteURL == "" {
		t.Fatalf("InviteOrgAdmin(unknown) = %+v, %v", inv, err)
	}
	before := m.mbMaxAudit()
	if err := m.members.RevokeOrgAdmin(m.ctx, b.principal, b.org.ID, inv.Membership.Account.ID); err != nil {
		t.Fatalf("revoking a pending admin: %v", err)
	}
	if rows := m.mbAuditSince(before); len(rows) != 1 || rows[0].action != domain.ActionMembershipDelete ||
		rows[0].orgID != b.org.ID || rows[0].targetName != "pending.admin@example.com" {
		t.Errorf("audit of revocation = %+v", rows)
	}
	// The service account admin can be revoked.
	if err := m.members.RevokeOrgAdmin(m.ctx, b.principal, b.org.ID, sa.ID); err != nil {
		t.Fatalf("revoking a service account admin: %v", err)
	}
	// With two person admins, one can go; then the other is the last.
	second := m.mbUser("second.admin@example.com", "Second", false, false)
	inv, err = m.members.InviteOrgAdmin(m.ctx, b.principal, b.org.ID, "second.admin@example.com")
	if err != nil || inv.Membership.Status != domain.StatusAccepted || inv.InviteURL != "" {
		t.Fatalf("InviteOrgAdmin(existing user) = %+v, %v", inv, err)
	}
	if err := m.members.RevokeOrgAdmin(m.ctx, domain.UserPrincipal(second, "x"), b.org.ID, mbID(b.admin)); err != nil {
		t.Fatalf("revoking one of two person admins: %v", err)
	}
	if n := m.count("SELECT count(*) FROM organization_members WHERE organization_id = ?", b.org.ID); n != 1 {
		t.Errorf("%d org memberships left, want 1", n)
	}
	err = m.members.RevokeOrgAdmin(m.ctx, domain.UserPrincipal(second, "x"), b.org.ID, mbID(second))
	wantCode(t, "revoking the remaining person admin", err, domain.EINVALID)
	// The revoked admin is no longer one.
	err = m.members.RevokeOrgAdmin(m.ctx, b.principal, b.org.ID, mbID(second))
	wantCode(t, "a revoked admin revokes", err, domain.ENOTFOUND)
	if n := m.count("SELECT count(*) FROM users WHERE id = ?", b.admin.ID); n != 1 {
		t.Error("revoking deleted the user")
	}
	// Org admins list shows the remaining one with its email.
	_, page, err := m.members.ListOrgAdmins(m.ctx, domain.UserPrincipal(second, "x"), b.org.ID, domain.PageRequest{})
	if err != nil || len(page.Items) != 1 || page.Items[0].AccountEmail != "second.admin@example.com" || page.Items[0].Role != domain.RoleOrgAdmin {
		t.Errorf("ListOrgAdmins = %+v, %v", page, err)
	}
	// Re-inviting an admin conflicts.
	_, err = m.members.InviteOrgAdmin(m.ctx, domain.UserPrincipal(second, "x"), b.org.ID, "SECOND.admin@example.com")
	wantCode(t, "re-inviting an admin", err, domain.ECONFLICT)
}

func TestAccountAccess(t *testing.T) {
	m := newMBEnv(t)
	b := m.bootstrap()
	alpha := m.createProject(b.principal, b.org.ID, "Alpha")
	beta := m.createProject(b.principal, b.org.ID, "Beta")
	gamma := m.createProject(b.principal, b.org.ID, "Gamma")
	u := m.mbUser("access@example.com", "Access Person", false, false)
	m.addProjectMember(u, alpha, domain.RoleProjectUser, domain.StatusAccepted)
	m.addProjectMember(u, beta, domain.RoleProjectDev, domain.StatusAccepted)
	_, far := m.mbOrg("Far Org", "Far project")
	m.addProjectMember(u, far, domain.RoleProjectAdmin, domain.StatusAccepted)

	roles := map[string]domain.Role{}
	var names []string
	tok := ""
	for pages := 0; ; pages++ {
		v, err := m.members.AccountAccess(m.ctx, b.principal, b.org.ID, mbID(u), domain.PageRequest{Size: 2, Token: tok})
		if err != nil {
			t.Fatalf("AccountAccess: %v", err)
		}
		if v.Account.Email != "access@example.com" || v.Account.Account != mbRef(u) || v.OrgAdmin || v.Organization.ID != b.org.ID {
			t.Errorf("view header = %+v %+v", v.Account, v.Organization)
		}
		for _, r := range v.Projects.Items {
			names = append(names, r.Project.DisplayName)
			roles[r.Project.ID] = r.Role
		}
		if tok = v.Projects.NextPageToken; tok == "" {
			break
		}
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if strings.Join(names, ",") != "Alpha,Beta,Gamma,Inventory" {
		t.Errorf("projects %v, want every project of the organization once", names)
	}
	if roles[alpha.ID] != domain.RoleProjectUser || roles[beta.ID] != domain.RoleProjectDev || roles[gamma.ID] != domain.RoleNone {
		t.Errorf("roles %v", roles)
	}
	if _, ok := roles[far.ID]; ok {
		t.Error("a project of another organization is listed")
	}

	// Three changes in one call: update, delete, create.
	before := m.mbMaxAudit()
	n, err := m.members.SetAccountAccess(m.ctx, b.principal, b.org.ID, mbID(u), map[string]domain.Role{
		alpha.ID: domain.RoleProjectAdmin, beta.ID: domain.RoleNone, gamma.ID: domain.RoleProjectUser,
	})
	if err != nil || n != 3 {
		t.Fatalf("SetAccountAccess = %d, %v; want 3", n, err)
	}
	ref := mbRef(u)
	if a, bb, g := m.mbProjectRole(alpha.ID, ref), m.mbProjectRole(beta.ID, ref), m.mbProjectRole(gamma.ID, ref); a != domain.RoleProjectAdmin ||
		bb != domain.RoleNone || g != domain.RoleProjectUser {
		t.Errorf("stored roles alpha %q beta %q gamma %q", a, bb, g)
	}
	if got := m.mbStatus("project_members", "project_id", gamma.ID, u); got != "ACCEPTED" {
		t.Errorf("new membership of an accepted user: %q", got)
	}
	rows := m.mbAuditSince(before)
	byProject := map[string]mbAudit{}
	for _, r := range rows {
		byProject[r.projID] = r
	}
	if len(rows) != 3 || byProject[alpha.ID].action != domain.ActionMembershipUpdate ||
		byProject[beta.ID].action != domain.ActionMembershipDelete || byProject[gamma.ID].action != domain.ActionMembershipCreate {
		t.Errorf("audit of three changes = %+v", rows)
	}
	for _, r := range rows {
		if r.targetID != mbID(u) || r.targetName != "access@example.com" || r.orgID != b.org.ID {
			t.Errorf("audit entry %+v", r)
		}
	}

	// A change naming a project of another organization: nothing applies.
	// Repeated, because map order decides whether the bad one comes first.
	snap := m.mbSnapshot()
	for i := 0; i < 8; i++ {
		_, err = m.members.SetAccountAccess(m.ctx, b.principal, b.org.ID, mbID(u), map[string]domain.Role{
			alpha.ID: domain.RoleProjectUser, beta.ID: domain.RoleProjectDev, gamma.ID: domain.RoleNone,
			far.ID: domain.RoleProjectUser,
		})
		wantCode(t, "change in another organization", err, domain.EINVALID)
	}
	_, err = m.members.SetAccountAccess(m.ctx, b.principal, b.org.ID, mbID(u), map[string]domain.Role{
		alpha.ID: domain.RoleProjectUser, domain.NewID(m.clock.Now()): domain.RoleProjectUser,
	})
	wantCode(t, "change of a project that does not exist", err, domain.EINVALID)
	// An invalid role is refused before anything.
	for _, bad := range []domain.Role{domain.RoleOrgAdmin, "bogus"} {
		_, err = m.members.SetAccountAccess(m.ctx, b.principal, b.org.ID, mbID(u), map[string]domain.Role{
			alpha.ID: domain.RoleProjectDev, gamma.ID: bad,
		})
		mbWantField(t, fmt.Sprintf("SetAccountAccess(role %q)", bad), err, "role-"+gamma.ID)
	}
	_, err = m.members.SetAccountAccess(m.ctx, b.principal, b.org.ID, "999999", map[string]domain.Role{alpha.ID: domain.RoleProjectUser})
	wantCode(t, "SetAccountAccess(no such account)", err, domain.ENOTFOUND)
	m.mbUnchanged(t, "refused access changes", snap)
	if m.mbProjectRole(far.ID, ref) != domain.RoleProjectAdmin {
		t.Error("the other organization's membership changed")
	}

	// An account with no membership in the organization is not found: an
	// organization admin cannot look accounts of other organizations up by id.
	pend := m.mbUser("pend@example.com", "pend@example.com", true, false)
	sa := m.mbSA(far.ID, "Far bot", false)
	for _, id := range []string{mbID(pend), sa.ID} {
		_, err := m.members.SetAccountAccess(m.ctx, b.principal, b.org.ID, id, map[string]domain.Role{alpha.ID: domain.RoleProjectUser})
		wantCode(t, "SetAccountAccess(account outside the organization)", err, domain.ENOTFOUND)
	}
	// Once invited somewhere in the organization, a pending user gets pending
	// memberships; a service account accepted ones.
	if _, err := m.members.InviteToProject(m.ctx, b.principal, gamma.ID, pend.Email, domain.RoleProjectUser); err != nil {
		t.Fatal(err)
	}
	if _, err := m.members.InviteToProject(m.ctx, b.principal, gamma.ID, sa.Email, domain.RoleProjectUser); err != nil {
		t.Fatal(err)
	}
	if n, err := m.members.SetAccountAccess(m.ctx, b.principal, b.org.ID, mbID(pend), map[string]domain.Role{alpha.ID: domain.RoleProjectUser}); err != nil || n != 1 {
		t.Fatalf("SetAccountAccess(pending user) = %d, %v", n, err)
	}
	if got := m.mbStatus("project_members", "project_id", alpha.ID, pend); got != "PENDING" {
		t.Errorf("pending user's new membership: %q", got)
	}
	if n, err := m.members.SetAccountAccess(m.ctx, b.principal, b.org.ID, sa.ID, map[string]domain.Role{alpha.ID: domain.RoleProjectDev}); err != nil || n != 1 {
		t.Fatalf("SetAccountAccess(service account) = %d, %v", n, err)
	}
	if m.mbProjectRole(alpha.ID, sa.Ref()) != domain.RoleProjectDev {
		t.Error("service account's membership not stored")
	}
	v, err := m.members.AccountAccess(m.ctx, b.principal, b.org.ID, sa.ID, domain.PageRequest{})
	if err != nil || v.Account.Email != sa.Email || len(v.Projects.Items) != 4 {
		t.Errorf("AccountAccess(service account) = %+v, %v", v, err)
	}
	// An org admin is shown as one.
	if v, err := m.members.AccountAccess(m.ctx, b.principal, b.org.ID, mbID(b.admin), domain.PageRequest{}); err != nil || !v.OrgAdmin {
		t.Errorf("AccountAccess(org admin) OrgAdmin = %v, %v", v.OrgAdmin, err)
	}
}

// mbFailingMemberships is the store with membership reads failing as a
// broken disk would make them fail.
type mbFailingMemberships struct{ domain.Store }

var errMBDisk = errors.New("disk I/O error")

func (mbFailingMemberships) ProjectMembership(context.Context, string, domain.AccountRef) (domain.Membership, error) {
	return domain.Membership{}, errMBDisk
}

// TestOpenInvitationReportsAFailedRead: when the membership cannot be read,
// opening the link fails with that error (a 500 the operator sees in the
// log), not with "this invite link is not valid", which would send the
// invited person away for a new link that cannot work either.
func TestOpenInvitationReportsAFailedRead(t *testing.T) {
	m := newMBEnv(t)
	b := m.bootstrap()
	alpha := m.createProject(b.principal, b.org.ID, "Alpha")
	inv, err := m.members.InviteToProject(m.ctx, b.principal, alpha.ID, "new@example.org", domain.RoleProjectUser)
	if err != nil {
		t.Fatal(err)
	}
	failing := domain.NewMembers(mbFailingMemberships{m.store}, domain.NewHasher(1), m.clock.Now, mbBaseURL, domain.DefaultInviteTTL)
	_, err = failing.OpenInvitation(m.ctx, mbToken(t, inv.InviteURL))
	if !errors.Is(err, errMBDisk) || domain.ErrorCode(err) != domain.EINTERNAL {
		t.Fatalf("OpenInvitation with a failing membership read = %v (code %s), want the read's error", err, domain.ErrorCode(err))
	}
}
