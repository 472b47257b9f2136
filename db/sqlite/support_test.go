package sqlite_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"studio/db/sqlite"
	"studio/domain"
)

// Tests of the support (platform staff) service on a real database file.
// They use the mbEnv helpers of members_test.go.

const supReason = "Customer ticket #4711: account compromised"

// supWorld is an organization with a non-staff organization admin, a staff
// user without memberships, and a target user and service account.
type supWorld struct {
	bootstrapped
	alpha          domain.Project
	oadmin, staff  domain.Principal
	staffUser      domain.User
	target         domain.User
	sa, otherSA    domain.ServiceAccount
	saKey, otherKy domain.Key
}

func (m *mbEnv) supWorld() supWorld {
	m.t.Helper()
	w := supWorld{bootstrapped: m.bootstrap()}
	w.alpha = m.createProject(w.principal, w.org.ID, "Alpha")
	oa := m.mbUser("oadmin@example.com", "Org admin", false, false)
	m.addOrgAdmin(oa, w.org.ID, domain.StatusAccepted)
	w.oadmin = domain.UserPrincipal(oa, "198.51.100.30")
	w.staffUser = m.mbUser("staff@example.com", "Support person", false, true)
	w.staff = domain.UserPrincipal(w.staffUser, "198.51.100.31")
	w.target = m.mbUser("target@example.com", "Target", false, false)
	m.addProjectMember(w.target, w.alpha, domain.RoleProjectAdmin, domain.StatusAccepted)
	w.sa = m.mbSA(w.alpha.ID, "Target bot", true)
	m.mbSAMember(w.sa, w.org.ID, w.alpha.ID, domain.RoleProjectDev)
	w.saKey = m.mbKey(w.sa)
	w.otherSA = m.mbSA(w.alpha.ID, "Other bot", true)
	w.otherKy = m.mbKey(w.otherSA)
	return w
}

// supCalls runs every support method once as p with the given reason.
func supCalls(m *mbEnv, w supWorld, p domain.Principal, reason string) map[string]error {
	out := map[string]error{}
	_, out["Find"] = m.support.Find(m.ctx, p, "target@example.com")
	_, out["Account"] = m.support.Account(m.ctx, p, mbID(w.target))
	_, out["View"] = m.support.View(m.ctx, p, mbID(w.target))
	out["RemoveMembership"] = m.support.RemoveMembership(m.ctx, p, mbID(w.target), w.org.ID, w.alpha.ID, reason)
	out["RemoveMembership(org)"] = m.support.RemoveMembership(m.ctx, p, mbUID(w.oadmin.UserID), w.org.ID, "", reason)
	_, out["RemoveAllAccess"] = m.support.RemoveAllAccess(m.ctx, p, mbID(w.target), reason)
	out["DeleteKey"] = m.support.DeleteKey(m.ctx, p, w.sa.ID, w.saKey.ID, reason)
	out["DisableBasicAuth"] = m.support.DisableBasicAuth(m.ctx, p, w.sa.ID, reason)
	out["SetLocked"] = m.support.SetLocked(m.ctx, p, mbID(w.target), true, reason)
	out["SetLocked(false)"] = m.support.SetLocked(m.ctx, p, mbID(w.target), false, reason)
	_, out["Audit"] = m.support.Audit(m.ctx, p, domain.AuditFilter{}, domain.PageRequest{})
	return out
}

func TestSupportRefusesEveryoneButStaff(t *testing.T) {
	m := newMBEnv(t)
	w := m.supWorld()
	targetP := domain.UserPrincipal(w.target, "x")
	saP := domain.Principal{Account: w.sa.Ref(), Email: w.sa.Email, RemoteAddr: "x"}
	// A service account claiming staff is still not a person.
	saStaffP := saP
	saStaffP.Staff = true
	for name, p := range map[string]domain.Principal{
		"org admin": w.oadmin, "project admin": targetP, "service account": saP,
		"service account with staff flag": saStaffP, "nobody": {},
	} {
		snap := m.mbSnapshot()
		for call, err := range supCalls(m, w, p, supReason) {
			wantCode(t, call+" as "+name, err, domain.ENOTFOUND)
		}
		m.mbUnchanged(t, "support calls as "+name, snap)
	}
}

func TestSupportRequiresReason(t *testing.T) {
	m := newMBEnv(t)
	w := m.supWorld()
	// Searches and views record themselves (support.view); nothing else changes.
	withoutViews := func(snap string) string {
		var kept []string
		for _, line := range strings.Split(snap, "\n") {
			if !strings.Contains(line, " "+domain.ActionSupportView+" ") {
				kept = append(kept, line)
			}
		}
		return strings.Join(kept, "\n")
	}
	snap, mark := m.mbSnapshot(), m.mbMaxAudit()
	for _, reason := range []string{"", "abc", "    abcd    ", strings.Repeat("x", 501)} {
		for call, err := range supCalls(m, w, w.staff, reason) {
			switch call {
			case "Find", "Account", "View", "Audit": // reads need no reason
				if err != nil {
					t.Errorf("%s: %v", call, err)
				}
			default:
				mbWantField(t, fmt.Sprintf("%s with reason %q", call, reason), err, "reason")
			}
		}
	}
	if after := m.mbSnapshot(); withoutViews(after) != withoutViews(snap) {
		t.Errorf("support changes without a reason changed the database:\nbefore:\n%s\nafter:\n%s", snap, after)
	}
	// Per round: the search, and the view in the target's one organization.
	if views := m.mbAuditSince(mark); len(views) != 8 {
		t.Errorf("%d entries for 4 rounds of reads, want 8 (a search and a view each): %+v", len(views), views)
	}
}

// supEntries returns the audit entries after id, checking each is a staff
// action with the reason.
func (m *mbEnv) supEntries(t *testing.T, after int64, staff domain.Principal) []mbAudit {
	t.Helper()
	rows := m.mbAuditSince(after)
	for _, r := range rows {
		if !r.actorStaff || r.reason != supReason || r.actorID != mbUID(staff.UserID) || r.actorEmail != staff.Email {
			t.Errorf("support audit entry %+v: want actor staff %s with reason %q", r, staff.Email, supReason)
		}
	}
	return rows
}

func TestSupportRemoveMembership(t *testing.T) {
	m := newMBEnv(t)
	w := m.supWorld()
	oa := mbUID(w.oadmin.UserID)

	before := m.mbMaxAudit()
	if err := m.support.RemoveMembership(m.ctx, w.staff, mbID(w.target), "", w.alpha.ID, "  "+supReason+"  "); err != nil {
		t.Fatalf("RemoveMembership(project): %v", err)
	}
	if err := m.support.RemoveMembership(m.ctx, w.staff, oa, w.org.ID, "", supReason); err != nil {
		t.Fatalf("RemoveMembership(organization): %v", err)
	}
	if err := m.support.RemoveMembership(m.ctx, w.staff, w.sa.ID, "", w.alpha.ID, supReason); err != nil {
		t.Fatalf("RemoveMembership(service account): %v", err)
	}
	if n := m.count("SELECT count(*) FROM project_members WHERE project_id = ?", w.alpha.ID); n != 0 {
		t.Errorf("%d project memberships left", n)
	}
	if n := m.count("SELECT count(*) FROM organization_members WHERE user_id = ?", w.oadmin.UserID); n != 0 {
		t.Errorf("organization membership left")
	}
	if n := m.count("SELECT count(*) FROM users WHERE id IN (?, ?)", w.target.ID, w.oadmin.UserID); n != 2 {
		t.Errorf("removing memberships deleted users")
	}
	rows := m.supEntries(t, before, w.staff)
	if len(rows) != 3 {
		t.Fatalf("audit = %+v, want 3 entries", rows)
	}
	for i, want := range []struct{ targetType, targetID, org, proj, name string }{
		{"user", mbID(w.target), w.org.ID, w.alpha.ID, "target@example.com"},
		{"user", oa, w.org.ID, "", "oadmin@example.com"},
		{"service_account", w.sa.ID, w.org.ID, w.alpha.ID, w.sa.Email},
	} {
		r := rows[i]
		if r.action != domain.ActionMembershipDelete || r.targetType != want.targetType || r.targetID != want.targetID ||
			r.orgID != want.org || r.projID != want.proj || r.targetName != want.name {
			t.Errorf("entry %d = %+v, want %+v", i, r, want)
		}
	}
	snap := m.mbSnapshot()
	err := m.support.RemoveMembership(m.ctx, w.staff, mbID(w.target), "", w.alpha.ID, supReason)
	wantCode(t, "removing a membership twice", err, domain.ENOTFOUND)
	err = m.support.RemoveMembership(m.ctx, w.staff, "999999", w.org.ID, "", supReason)
	wantCode(t, "membership of no account", err, domain.ENOTFOUND)
	err = m.support.RemoveMembership(m.ctx, w.staff, "not-an-id", w.org.ID, "", supReason)
	wantCode(t, "membership of a bad member id", err, domain.ENOTFOUND)
	m.mbUnchanged(t, "refused removals", snap)
}

func TestSupportRemoveAllAccess(t *testing.T) {
	m := newMBEnv(t)
	w := m.supWorld()
	org2, p2 := m.mbOrg("Second Org", "Second project")
	org3, p3 := m.mbOrg("Third Org", "Third project")
	m.addOrgAdmin(w.target, w.org.ID, domain.StatusAccepted)
	m.addProjectMember(w.target, p2, domain.RoleProjectUser, domain.StatusAccepted)
	m.addOrgAdmin(w.target, org3.ID, domain.StatusPending)
	m.addProjectMember(w.target, p3, domain.RoleProjectDev, domain.StatusPending)
	// Someone else keeps their memberships.
	bystander := m.mbUser("bystander@example.com", "Bystander", false, false)
	m.addProjectMember(bystander, p2, domain.RoleProjectUser, domain.StatusAccepted)
	want := map[string]bool{ // org/project of each membership
		w.org.ID + "/" + w.alpha.ID: true, w.org.ID + "/": true, org2.ID + "/" + p2.ID: true,
		org3.ID + "/": true, org3.ID + "/" + p3.ID: true,
	}
	before := m.mbMaxAudit()
	n, err := m.support.RemoveAllAccess(m.ctx, w.staff, mbID(w.target), supReason)
	if err != nil || n != 5 {
		t.Fatalf("RemoveAllAccess = %d, %v; want 5", n, err)
	}
	if c := m.count("SELECT count(*) FROM project_members WHERE user_id = ?", w.target.ID) +
		m.count("SELECT count(*) FROM organization_members WHERE user_id = ?", w.target.ID); c != 0 {
		t.Errorf("%d memberships left", c)
	}
	if c := m.count("SELECT count(*) FROM project_members WHERE user_id = ?", bystander.ID); c != 1 {
		t.Error("another user's membership was removed")
	}
	if c := m.count("SELECT count(*) FROM users WHERE id = ?", w.target.ID); c != 1 {
		t.Error("the user was deleted")
	}
	rows := m.supEntries(t, before, w.staff)
	if len(rows) != 5 {
		t.Fatalf("audit = %+v, want 5 entries", rows)
	}
	for _, r := range rows {
		key := r.orgID + "/" + r.projID
		if !want[key] || r.action != domain.ActionMembershipDelete || r.targetID != mbID(w.target) {
			t.Errorf("unexpected entry %+v", r)
		}
		delete(want, key)
	}
	if len(want) != 0 {
		t.Errorf("no entry for %v", want)
	}
	// Nothing left: nothing removed, nothing written.
	snap := m.mbSnapshot()
	if n, err := m.support.RemoveAllAccess(m.ctx, w.staff, mbID(w.target), supReason); err != nil || n != 0 {
		t.Errorf("RemoveAllAccess again = %d, %v", n, err)
	}
	m.mbUnchanged(t, "RemoveAllAccess with nothing left", snap)

	// A service account too.
	if n, err := m.support.RemoveAllAccess(m.ctx, w.staff, w.sa.ID, supReason); err != nil || n != 1 {
		t.Errorf("RemoveAllAccess(service account) = %d, %v", n, err)
	}
	if c := m.count("SELECT count(*) FROM service_accounts WHERE id = ?", w.sa.ID); c != 1 {
		t.Error("the service account was deleted")
	}
}

func TestSupportDeleteKey(t *testing.T) {
	m := newMBEnv(t)
	w := m.supWorld()
	snap := m.mbSnapshot()
	for name, c := range map[string]struct{ member, key string }{
		"another account's key":   {w.sa.ID, w.otherKy.ID},
		"a key that is not there": {w.sa.ID, domain.NewID(m.clock.Now())},
		"a user's key":            {mbID(w.target), w.saKey.ID},
		"no such account":         {domain.NewID(m.clock.Now()), w.saKey.ID},
	} {
		err := m.support.DeleteKey(m.ctx, w.staff, c.member, c.key, supReason)
		wantCode(t, "DeleteKey of "+name, err, domain.ENOTFOUND)
	}
	m.mbUnchanged(t, "refused key deletions", snap)

	before := m.mbMaxAudit()
	if err := m.support.DeleteKey(m.ctx, w.staff, w.sa.ID, w.saKey.ID, supReason); err != nil {
		t.Fatalf("DeleteKey: %v", err)
	}
	if n := m.count("SELECT count(*) FROM keys WHERE id = ?", w.saKey.ID); n != 0 {
		t.Error("key not deleted")
	}
	if n := m.count("SELECT count(*) FROM keys WHERE id = ?", w.otherKy.ID); n != 1 {
		t.Error("the other account's key was deleted")
	}
	rows := m.supEntries(t, before, w.staff)
	if len(rows) != 1 || rows[0].action != domain.ActionKeyDelete || rows[0].targetType != "key" || rows[0].targetID != w.saKey.ID ||
		rows[0].projID != w.alpha.ID || rows[0].orgID != w.org.ID {
		t.Errorf("audit = %+v", rows)
	}
	err := m.support.DeleteKey(m.ctx, w.staff, w.sa.ID, w.saKey.ID, supReason)
	wantCode(t, "deleting a key twice", err, domain.ENOTFOUND)
}

func TestSupportDisableBasicAuth(t *testing.T) {
	m := newMBEnv(t)
	w := m.supWorld()
	m.clock.Advance(time.Hour)
	before := m.mbMaxAudit()
	if err := m.support.DisableBasicAuth(m.ctx, w.staff, w.sa.ID, supReason); err != nil {
		t.Fatalf("DisableBasicAuth: %v", err)
	}
	sa, err := m.store.ServiceAccountByID(m.ctx, w.sa.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sa.EnableBasicAuth || !sa.UpdateTime.Equal(micro(m.clock.Now())) || sa.DisplayName != "Target bot" {
		t.Errorf("after DisableBasicAuth: %+v", sa)
	}
	if other, _ := m.store.ServiceAccountByID(m.ctx, w.otherSA.ID); !other.EnableBasicAuth {
		t.Error("another account's Basic Auth was switched off")
	}
	rows := m.supEntries(t, before, w.staff)
	if len(rows) != 1 || rows[0].action != domain.ActionBasicAuthDisable || rows[0].targetID != w.sa.ID ||
		rows[0].projID != w.alpha.ID || rows[0].orgID != w.org.ID {
		t.Errorf("audit = %+v", rows)
	}
	// Already off: nothing to do, nothing written.
	snap := m.mbSnapshot()
	if err := m.support.DisableBasicAuth(m.ctx, w.staff, w.sa.ID, supReason); err != nil {
		t.Errorf("DisableBasicAuth when off: %v", err)
	}
	err = m.support.DisableBasicAuth(m.ctx, w.staff, mbID(w.target), supReason)
	wantCode(t, "DisableBasicAuth of a user", err, domain.EINVALID)
	m.mbUnchanged(t, "DisableBasicAuth with nothing to do", snap)
}

// supHookStore runs hook once, just before the next write transaction, to
// put another change between a service's reads and its write.
type supHookStore struct {
	*sqlite.DB
	mu   sync.Mutex
	hook func()
}

func (h *supHookStore) Update(ctx context.Context, fn func(domain.Tx) error) error {
	h.mu.Lock()
	f := h.hook
	h.hook = nil
	h.mu.Unlock()
	if f != nil {
		f()
	}
	return h.DB.Update(ctx, fn)
}

// A rename that lands between DisableBasicAuth's read and its write stays:
// switching Basic Auth off must not write back a stale display name.
func TestSupportDisableBasicAuthKeepsConcurrentRename(t *testing.T) {
	m := newMBEnv(t)
	w := m.supWorld()
	hs := &supHookStore{DB: m.store}
	hooked := domain.NewSupport(hs, m.clock.Now)
	hs.hook = func() {
		err := m.store.Update(m.ctx, func(tx domain.Tx) error {
			sa, err := tx.ServiceAccountByID(m.ctx, w.sa.ID)
			if err != nil {
				return err
			}
			sa.DisplayName = "Renamed meanwhile"
			return tx.UpdateServiceAccount(m.ctx, sa)
		})
		if err != nil {
			t.Errorf("rename: %v", err)
		}
	}
	if err := hooked.DisableBasicAuth(m.ctx, w.staff, w.sa.ID, supReason); err != nil {
		t.Fatalf("DisableBasicAuth: %v", err)
	}
	sa, err := m.store.ServiceAccountByID(m.ctx, w.sa.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sa.EnableBasicAuth || sa.DisplayName != "Renamed meanwhile" {
		t.Errorf("after a rename and DisableBasicAuth at the same time: name %q, Basic Auth %v; want %q and false (a change was lost)",
			sa.DisplayName, sa.EnableBasicAuth, "Renamed meanwhile")
	}
}

func TestSupportSetLocked(t *testing.T) {
	m := newMBEnv(t)
	w := m.supWorld()
	const pw = "the target's password"
	victim := m.newUser("victim@example.com", pw)
	now := m.clock.Now()
	for _, s := range []domain.Session{
		{IDHash: "victim-1", UserID: victim.ID, CreateTime: now, LastSeen: now},
		{IDHash: "victim-2", UserID: victim.ID, CreateTime: now, LastSeen: now},
		{IDHash: "bystander", UserID: w.target.ID, CreateTime: now, LastSeen: now},
	} {
		if err := m.store.CreateSession(m.ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.accounts.SignIn(m.ctx, "victim@example.com", pw, domain.Client{Address: "192.0.2.60"}); err != nil {
		t.Fatalf("SignIn before locking: %v", err)
	}

	before := m.mbMaxAudit()
	if err := m.support.SetLocked(m.ctx, w.staff, mbID(victim), true, supReason); err != nil {
		t.Fatalf("SetLocked(true): %v", err)
	}
	if u, _ := m.store.UserByID(m.ctx, victim.ID); !u.Locked {
		t.Error("user not locked")
	}
	if n := m.count("SELECT count(*) FROM sessions WHERE user_id = ?", victim.ID); n != 0 {
		t.Errorf("%d sessions of the locked user left", n)
	}
	if n := m.count("SELECT count(*) FROM sessions WHERE id_hash = 'bystander'"); n != 1 {
		t.Error("another user's session was deleted")
	}
	_, err := m.accounts.SignIn(m.ctx, "victim@example.com", pw, domain.Client{Address: "192.0.2.60"})
	wantCode(t, "SignIn of a locked user", err, domain.EFORBIDDEN)
	_, err = m.accounts.CurrentUser(m.ctx, victim.ID)
	wantCode(t, "CurrentUser of a locked user", err, domain.EUNAUTHORIZED)
	rows := m.supEntries(t, before, w.staff)
	if len(rows) != 1 || rows[0].action != domain.ActionUserLock || rows[0].targetID != mbID(victim) ||
		rows[0].targetType != "user" || rows[0].targetName != "victim@example.com" {
		t.Errorf("audit of locking = %+v", rows)
	}

	before = m.mbMaxAudit()
	if err := m.support.SetLocked(m.ctx, w.staff, mbID(victim), false, supReason); err != nil {
		t.Fatalf("SetLocked(false): %v", err)
	}
	if u, err := m.store.UserByID(m.ctx, victim.ID); err != nil || u.Locked {
		t.Errorf("user still locked (or unreadable: %v)", err)
	}
	if _, err := m.accounts.SignIn(m.ctx, "victim@example.com", pw, domain.Client{Address: "192.0.2.60"}); err != nil {
		t.Errorf("SignIn after unlocking: %v", err)
	}
	if rows := m.supEntries(t, before, w.staff); len(rows) != 1 || rows[0].action != domain.ActionUserUnlock {
		t.Errorf("audit of unlocking = %+v", rows)
	}

	snap := m.mbSnapshot()
	for _, locked := range []bool{true, false} {
		err = m.support.SetLocked(m.ctx, w.staff, mbID(w.staffUser), locked, supReason)
		wantCode(t, fmt.Sprintf("staff SetLocked(self, %v)", locked), err, domain.EINVALID)
	}
	err = m.support.SetLocked(m.ctx, w.staff, w.sa.ID, true, supReason)
	wantCode(t, "SetLocked of a service account", err, domain.EINVALID)
	err = m.support.SetLocked(m.ctx, w.staff, "999999", true, supReason)
	wantCode(t, "SetLocked of no one", err, domain.ENOTFOUND)
	m.mbUnchanged(t, "refused locks", snap)
}

func TestSupportFind(t *testing.T) {
	m := newMBEnv(t)
	w := m.supWorld()
	m.mbUser("finder.one@corp.example", "One", false, false)
	m.mbUser("finder.two@corp.example", "Two", false, false)
	m.mbUser("other@corp.example", "Other", false, false)
	emails := func(as []domain.AccountSummary) string {
		var out []string
		for _, a := range as {
			out = append(out, a.Email)
		}
		return strings.Join(out, ",")
	}
	find := func(q string) []domain.AccountSummary {
		t.Helper()
		as, err := m.support.Find(m.ctx, w.staff, q)
		if err != nil {
			t.Fatalf("Find(%q): %v", q, err)
		}
		return as
	}
	if got := find("  Target@Example.COM "); emails(got) != "target@example.com" ||
		got[0].Account != mbRef(w.target) || got[0].DisplayName != "Target" {
		t.Errorf("Find(exact email) = %+v", got)
	}
	if got := emails(find("finder.")); got != "finder.one@corp.example,finder.two@corp.example" {
		t.Errorf("Find(email prefix) = %s", got)
	}
	if got := find(mbID(w.target)); len(got) != 1 || got[0].Account != mbRef(w.target) {
		t.Errorf("Find(user id %s) = %+v", mbID(w.target), got)
	}
	if got := find(w.sa.ID); len(got) != 1 || got[0].Account != w.sa.Ref() || got[0].Email != w.sa.Email ||
		got[0].ProjectID != w.alpha.ID {
		t.Errorf("Find(service account id) = %+v", got)
	}
	if got := find(w.sa.Email); len(got) != 1 || got[0].Account != w.sa.Ref() {
		t.Errorf("Find(service account email) = %+v", got)
	}
	for _, q := range []string{"", "   ", "nobody@nowhere.example", "999999", "arget@example.com"} {
		if got := find(q); len(got) != 0 {
			t.Errorf("Find(%q) = %+v, want nothing", q, got)
		}
	}
	_, err := m.support.Find(m.ctx, w.staff, strings.Repeat("a", 300))
	mbWantField(t, "Find(too long)", err, "q")

	acct, err := m.support.Account(m.ctx, w.staff, w.sa.ID)
	if err != nil || acct.Service == nil || acct.User != nil || len(acct.Keys) != 1 || len(acct.Memberships) != 1 {
		t.Errorf("Account(service account) = %+v, %v", acct, err)
	}
	acct, err = m.support.Account(m.ctx, w.staff, mbID(w.target))
	if err != nil || acct.User == nil || acct.Summary.Email != "target@example.com" || len(acct.Memberships) != 1 ||
		acct.Memberships[0].ProjectID != w.alpha.ID {
		t.Errorf("Account(user) = %+v, %v", acct, err)
	}
}

func TestSupportAudit(t *testing.T) {
	m := newMBEnv(t)
	w := m.supWorld()
	beta := m.createProject(w.principal, w.org.ID, "Beta")
	t0 := m.clock.Now()
	// One hour apart: oadmin invites 3 people to alpha, then staff locks
	// two users, then oadmin changes a role in beta.
	for i := 0; i < 3; i++ {
		m.clock.Advance(time.Hour)
		if _, err := m.members.InviteToProject(m.ctx, w.oadmin, w.alpha.ID, fmt.Sprintf("aud%d@example.com", i), domain.RoleProjectUser); err != nil {
			t.Fatal(err)
		}
	}
	m.clock.Advance(time.Hour)
	t4 := m.clock.Now()
	for _, u := range []domain.User{w.target, m.mbUser("second-target@example.com", "Second", false, false)} {
		if err := m.support.SetLocked(m.ctx, w.staff, mbID(u), true, supReason); err != nil {
			t.Fatal(err)
		}
	}
	m.clock.Advance(time.Hour)
	t5 := m.clock.Now()
	if _, err := m.members.SetAccountAccess(m.ctx, w.oadmin, w.org.ID, mbID(w.target), map[string]domain.Role{beta.ID: domain.RoleProjectDev}); err != nil {
		t.Fatal(err)
	}

	all := func(f domain.AuditFilter, size int) []domain.AuditEntry {
		t.Helper()
		return allPages(t, fmt.Sprintf("Audit(%+v)", f), size, func(r domain.PageRequest) (domain.Page[domain.AuditEntry], error) {
			return m.support.Audit(m.ctx, w.staff, f, r)
		})
	}
	total := m.count("SELECT count(*) FROM audit_log")
	for _, size := range []int{1, 3, 1000} {
		got := all(domain.AuditFilter{}, size)
		if len(got) != total {
			t.Errorf("size %d: %d entries, want %d", size, len(got), total)
		}
		for i := 1; i < len(got); i++ {
			if got[i].ID >= got[i-1].ID {
				t.Errorf("size %d: not newest first at %d", size, i)
				break
			}
		}
	}
	check := func(name string, f domain.AuditFilter, want int, ok func(domain.AuditEntry) bool) {
		t.Helper()
		got := all(f, 2)
		if len(got) != want {
			t.Errorf("%s: %d entries, want %d", name, len(got), want)
		}
		for _, e := range got {
			if !ok(e) {
				t.Errorf("%s: entry %+v does not match", name, e)
			}
		}
	}
	oaID := mbUID(w.oadmin.UserID)
	// Each invite of an unknown email: user.create + membership.create; then one membership.create by access.
	check("actor by email", domain.AuditFilter{Actor: "oadmin@example.com"}, 7,
		func(e domain.AuditEntry) bool { return e.ActorEmail == "oadmin@example.com" })
	check("actor by id", domain.AuditFilter{Actor: oaID}, 7,
		func(e domain.AuditEntry) bool { return e.ActorID == oaID })
	check("staff actor", domain.AuditFilter{Actor: "staff@example.com"}, 2,
		func(e domain.AuditEntry) bool {
			return e.ActorStaff && e.Reason == supReason && e.Action == domain.ActionUserLock
		})
	check("action", domain.AuditFilter{Action: domain.ActionUserLock}, 2,
		func(e domain.AuditEntry) bool { return e.Action == domain.ActionUserLock })
	check("project", domain.AuditFilter{ProjectID: beta.ID}, 2, // project.create and the membership
		func(e domain.AuditEntry) bool { return e.ProjectID == beta.ID })
	check("actor and action", domain.AuditFilter{Actor: "oadmin@example.com", Action: domain.ActionMembershipCreate, ProjectID: w.alpha.ID}, 3,
		func(e domain.AuditEntry) bool {
			return e.Action == domain.ActionMembershipCreate && e.ProjectID == w.alpha.ID
		})
	check("since", domain.AuditFilter{Since: t4}, 3,
		func(e domain.AuditEntry) bool { return !e.Time.Before(micro(t4)) })
	check("since and until", domain.AuditFilter{Since: t4, Until: t5}, 2,
		func(e domain.AuditEntry) bool { return e.Action == domain.ActionUserLock })
	check("until", domain.AuditFilter{Until: t0.Add(time.Minute)}, total-9,
		func(e domain.AuditEntry) bool { return e.Time.Before(t0.Add(time.Minute)) })
	check("nothing", domain.AuditFilter{Actor: "nobody@example.com"}, 0, func(domain.AuditEntry) bool { return false })

	_, err := m.support.Audit(m.ctx, w.staff, domain.AuditFilter{}, domain.PageRequest{Size: 5, Token: "bogus"})
	mbWantField(t, "Audit(bad token)", err, "pageToken")
}
