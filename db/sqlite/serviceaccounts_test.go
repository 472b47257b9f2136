package sqlite_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"studio/db/sqlite"
	"studio/domain"
)

const saEmailDomain = "d21s.com"

// saEnv is a test database with the service accounts service.
type saEnv struct {
	*env
	sealer *domain.Sealer
	sas    *domain.ServiceAccounts
}

func newSAEnv(t *testing.T) *saEnv {
	t.Helper()
	e := newEnv(t)
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	sealer, err := domain.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return &saEnv{env: e, sealer: sealer, sas: domain.NewServiceAccounts(e.store, sealer, e.clock.Now, saEmailDomain)}
}

// saWorld is an organization with two projects and one user per role.
type saWorld struct {
	bootstrapped
	alpha, beta domain.Project
	// Users and their principals: outsider has no membership; user, dev and
	// admin hold that role in alpha; orgAdmin administers the organization
	// (not staff); betaAdmin is project admin of beta only; pendingAdmin has
	// a PENDING admin membership in alpha.
	outsider, user, dev, admin, orgAdmin, betaAdmin, pendingAdmin domain.Principal
}

func (s *saEnv) world() saWorld {
	s.t.Helper()
	w := saWorld{bootstrapped: s.bootstrap()}
	w.alpha = s.createProject(w.principal, w.org.ID, "Alpha")
	w.beta = s.createProject(w.principal, w.org.ID, "Beta")
	mk := func(email string) (domain.User, domain.Principal) {
		u := s.newUser(email, "")
		return u, domain.UserPrincipal(u, "198.51.100.7")
	}
	_, w.outsider = mk("sa-outsider@example.com")
	u, p := mk("sa-user@example.com")
	s.addProjectMember(u, w.alpha, domain.RoleProjectUser, domain.StatusAccepted)
	w.user = p
	u, p = mk("sa-dev@example.com")
	s.addProjectMember(u, w.alpha, domain.RoleProjectDev, domain.StatusAccepted)
	w.dev = p
	u, p = mk("sa-admin@example.com")
	s.addProjectMember(u, w.alpha, domain.RoleProjectAdmin, domain.StatusAccepted)
	w.admin = p
	u, p = mk("sa-orgadmin@example.com")
	s.addOrgAdmin(u, w.org.ID, domain.StatusAccepted)
	w.orgAdmin = p
	u, p = mk("sa-betaadmin@example.com")
	s.addProjectMember(u, w.beta, domain.RoleProjectAdmin, domain.StatusAccepted)
	w.betaAdmin = p
	u, p = mk("sa-pending@example.com")
	s.addProjectMember(u, w.alpha, domain.RoleProjectAdmin, domain.StatusPending)
	w.pendingAdmin = p
	return w
}

func saPrincipal(sa domain.ServiceAccount) domain.Principal {
	return domain.Principal{Account: sa.Ref(), Email: sa.Email, RemoteAddr: "203.0.113.9"}
}

func (s *saEnv) createSA(p domain.Principal, projectID, name string) domain.ServiceAccount {
	s.t.Helper()
	sa, err := s.sas.Create(s.ctx, p, projectID, domain.ServiceAccountInput{DisplayName: &name})
	if err != nil {
		s.t.Fatalf("Create(%q): %v", name, err)
	}
	return sa
}

func (s *saEnv) createKey(p domain.Principal, sa domain.ServiceAccount) (domain.Key, string) {
	s.t.Helper()
	k, secret, err := s.sas.CreateKey(s.ctx, p, sa.ProjectID, sa.ID)
	if err != nil {
		s.t.Fatalf("CreateKey(%s): %v", sa.ID, err)
	}
	return k, secret
}

// addSAMember stores a membership of the service account directly.
func (s *saEnv) addSAMember(sa domain.ServiceAccount, orgID, projectID string, role domain.Role) domain.Membership {
	s.t.Helper()
	return s.addMember(domain.Membership{OrganizationID: orgID, ProjectID: projectID, Account: sa.Ref(), Role: role})
}

// otherOrg stores a second organization with one project, outside the service.
func (s *saEnv) otherOrg(orgName, projectName string) (domain.Organization, domain.Project) {
	s.t.Helper()
	now := s.clock.Now()
	org := domain.Organization{ID: domain.NewID(now), DisplayName: orgName, CreateTime: now}
	proj := domain.Project{ID: domain.NewID(now), OrganizationID: org.ID, OrganizationDisplayName: orgName,
		DisplayName: projectName, CreateTime: now, UpdateTime: now}
	if err := s.store.Update(s.ctx, func(tx domain.Tx) error {
		if err := tx.CreateOrganization(s.ctx, org); err != nil {
			return err
		}
		return tx.CreateProject(s.ctx, proj)
	}); err != nil {
		s.t.Fatal(err)
	}
	return org, proj
}

// snapshot renders every row of the tables the service touches, read on
// the raw connection, so a refused action can be shown to change nothing.
func (s *saEnv) snapshot() string {
	s.t.Helper()
	var b strings.Builder
	for _, tb := range []string{"organizations", "projects", "users", "service_accounts", "keys",
		"project_members", "organization_members", "audit_log"} {
		rows, err := s.raw.QueryContext(s.ctx, "SELECT * FROM "+tb+" ORDER BY 1")
		if err != nil {
			s.t.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			s.t.Fatal(err)
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				s.t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %v\n", tb, vals)
		}
		if err := rows.Err(); err != nil {
			s.t.Fatal(err)
		}
		rows.Close()
	}
	return b.String()
}

// auditDump is every field of every audit entry, for secret searches.
func (s *saEnv) auditDump() string {
	s.t.Helper()
	var b strings.Builder
	for _, line := range strings.Split(s.snapshot(), "\n") {
		if strings.HasPrefix(line, "audit_log ") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

func (s *saEnv) maxAuditID() int64 {
	s.t.Helper()
	var id int64
	if err := s.raw.QueryRowContext(s.ctx, "SELECT coalesce(max(id), 0) FROM audit_log").Scan(&id); err != nil {
		s.t.Fatal(err)
	}
	return id
}

type saAuditRow struct {
	action, targetType, targetID, targetName, orgID, projectID, actorID, actorType, remoteAddr, detail string
}

func (s *saEnv) auditSince(id int64) []saAuditRow {
	s.t.Helper()
	rows, err := s.raw.QueryContext(s.ctx, `SELECT action, target_type, target_id, target_name, organization_id, project_id,
		actor_id, actor_type, remote_addr, detail FROM audit_log WHERE id > ? ORDER BY id`, id)
	if err != nil {
		s.t.Fatal(err)
	}
	defer rows.Close()
	var out []saAuditRow
	for rows.Next() {
		var r saAuditRow
		if err := rows.Scan(&r.action, &r.targetType, &r.targetID, &r.targetName, &r.orgID, &r.projectID,
			&r.actorID, &r.actorType, &r.remoteAddr, &r.detail); err != nil {
			s.t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		s.t.Fatal(err)
	}
	return out
}

func saActions(rows []saAuditRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.action)
	}
	return out
}

// allSAs pages through List with the given page size.
func (s *saEnv) allSAs(p domain.Principal, projectID, query string, size int) []domain.ServiceAccount {
	s.t.Helper()
	return allPages(s.t, fmt.Sprintf("List(%q)", query), size, func(r domain.PageRequest) (domain.Page[domain.ServiceAccount], error) {
		_, page, err := s.sas.List(s.ctx, p, projectID, query, r)
		return page, err
	})
}

func wantField(t *testing.T, what string, err error, field string) {
	t.Helper()
	wantCode(t, what, err, domain.EINVALID)
	if _, ok := domain.FieldErrors(err)[field]; !ok {
		t.Errorf("%s: error %v has field errors %v, want one on %q", what, err, domain.FieldErrors(err), field)
	}
}

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestServiceAccountCreate(t *testing.T) {
	s := newSAEnv(t)
	w := s.world()
	auditBefore := s.maxAuditID()

	name := "  Ingest bot  "
	sa, err := s.sas.Create(s.ctx, w.admin, w.alpha.ID, domain.ServiceAccountInput{DisplayName: &name})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if !domain.ValidID(sa.ID) {
		t.Errorf("id %q is not valid", sa.ID)
	}
	if want := sa.ID + "@" + w.alpha.ID + ".serviceaccount.d21s.com"; sa.Email != want {
		t.Errorf("email = %q, want %q", sa.Email, want)
	}
	if sa.DisplayName != "Ingest bot" || sa.ProjectID != w.alpha.ID || sa.EnableBasicAuth {
		t.Errorf("Create returned %+v", sa)
	}
	if !sa.CreateTime.Equal(s.clock.Now()) || !sa.UpdateTime.Equal(s.clock.Now()) {
		t.Errorf("times %v %v, want %v", sa.CreateTime, sa.UpdateTime, s.clock.Now())
	}
	if n := s.count(`SELECT count(*) FROM service_accounts WHERE id = ? AND project_id = ? AND email = ? AND display_name = 'Ingest bot'
		AND name_key = 'ingest bot' AND enable_basic_auth = 0 AND create_time = ? AND update_time = ?`,
		sa.ID, w.alpha.ID, sa.Email, micro(s.clock.Now()).UnixMicro(), micro(s.clock.Now()).UnixMicro()); n != 1 {
		t.Errorf("stored row does not match (%d rows)", n)
	}
	got, err := s.store.ServiceAccountByID(s.ctx, sa.ID)
	if err != nil || got.Email != sa.Email || got.DisplayName != sa.DisplayName || !got.CreateTime.Equal(micro(sa.CreateTime)) {
		t.Errorf("ServiceAccountByID = %+v, %v", got, err)
	}
	rows := s.auditSince(auditBefore)
	if len(rows) != 1 || rows[0].action != "serviceaccount.create" || rows[0].targetID != sa.ID ||
		rows[0].orgID != w.org.ID || rows[0].projectID != w.alpha.ID {
		t.Errorf("audit after Create = %+v", rows)
	}

	// No access anywhere, not even in the owning project.
	for _, proj := range []domain.Project{w.alpha, w.beta, w.inventory} {
		a, err := s.store.AccessIn(s.ctx, sa.Ref(), proj.ID)
		if err != nil || a.ProjectRole != domain.RoleNone || a.OrgAdmin || a.Can(domain.PermProjectRead) {
			t.Errorf("AccessIn(new account, %s) = role %q orgAdmin %v, %v; want nothing", proj.DisplayName, a.ProjectRole, a.OrgAdmin, err)
		}
	}
	if admin, err := s.store.IsOrgAdmin(s.ctx, sa.Ref(), w.org.ID); err != nil || admin {
		t.Errorf("IsOrgAdmin(new account) = %v, %v", admin, err)
	}
	if ms, err := s.store.AccountMemberships(s.ctx, sa.Ref(), 100); err != nil || len(ms) != 0 {
		t.Errorf("AccountMemberships(new account) = %+v, %v", ms, err)
	}
	if n := s.count("SELECT (SELECT count(*) FROM project_members WHERE service_account_id = ?) + (SELECT count(*) FROM organization_members WHERE service_account_id = ?)", sa.ID, sa.ID); n != 0 {
		t.Errorf("new account has %d membership rows", n)
	}
	if _, _, err := s.sas.List(s.ctx, saPrincipal(sa), w.alpha.ID, "", domain.PageRequest{}); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("new account lists its own project: %v, want not found", err)
	}
	v, err := s.sas.Get(s.ctx, w.user, w.alpha.ID, sa.ID)
	if err != nil || v.Role != domain.RoleNone || v.Account.ID != sa.ID {
		t.Errorf("Get = %+v, %v; want role none", v, err)
	}

	// Basic Auth can be set at creation.
	on := true
	bot2, err := s.sas.Create(s.ctx, w.admin, w.alpha.ID, domain.ServiceAccountInput{DisplayName: strp("Bot 2"), EnableBasicAuth: &on})
	if err != nil || !bot2.EnableBasicAuth {
		t.Fatalf("Create with Basic Auth = %+v, %v", bot2, err)
	}
	if n := s.count("SELECT count(*) FROM service_accounts WHERE id = ? AND enable_basic_auth = 1", bot2.ID); n != 1 {
		t.Error("Basic Auth not stored")
	}
	if bot2.ID == sa.ID || bot2.Email == sa.Email {
		t.Error("two accounts share an id or email")
	}

	// Names at the limit are fine; over it, empty or with control characters not.
	for _, ok := range []string{strings.Repeat("x", 100), strings.Repeat("é", 100), " " + strings.Repeat("y", 100) + " "} {
		if _, err := s.sas.Create(s.ctx, w.admin, w.alpha.ID, domain.ServiceAccountInput{DisplayName: &ok}); err != nil {
			t.Errorf("Create(%d-character name): %v", len([]rune(ok)), err)
		}
	}
	before := s.snapshot()
	for _, bad := range []*string{nil, strp(""), strp("   "), strp(strings.Repeat("x", 101)), strp(strings.Repeat("é", 101)), strp("a\nb"), strp("tab\there")} {
		what := "Create(nil name)"
		if bad != nil {
			what = fmt.Sprintf("Create(%q)", *bad)
		}
		sa, err := s.sas.Create(s.ctx, w.admin, w.alpha.ID, domain.ServiceAccountInput{DisplayName: bad})
		wantField(t, what, err, "displayName")
		if sa.ID != "" {
			t.Errorf("%s returned an account %+v", what, sa)
		}
	}
	if after := s.snapshot(); after != before {
		t.Errorf("refused creates changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// saOp is one service call made by a caller on a target account.
type saOp struct {
	name  string
	write bool
	run   func(p domain.Principal) error
}

func TestServiceAccountPermissionTable(t *testing.T) {
	s := newSAEnv(t)
	w := s.world()

	const (
		none = "none" // not found everywhere
		read = "read" // reads work, writes are forbidden
		all  = "all"  // everything works
	)
	callers := []struct {
		name string
		p    domain.Principal
		self bool // the target account itself (holding project admin in beta)
		want string
	}{
		{"outsider", w.outsider, false, none},
		{"pending project admin", w.pendingAdmin, false, none},
		{"admin of beta, where the account is a member", w.betaAdmin, false, none},
		{"the account itself, admin of beta", domain.Principal{}, true, none},
		{"project user", w.user, false, read},
		{"project developer", w.dev, false, read},
		{"project admin", w.admin, false, all},
		{"organization admin", w.orgAdmin, false, all},
	}
	for _, c := range callers {
		// A fresh target per caller, made by the organization's admin, with
		// a key and an admin membership in beta (another project).
		target := s.createSA(w.principal, w.alpha.ID, "Target "+c.name)
		key, secret := s.createKey(w.principal, target)
		s.addSAMember(target, w.org.ID, w.beta.ID, domain.RoleProjectAdmin)
		p := c.p
		if c.self {
			p = saPrincipal(target)
		}
		alpha := w.alpha.ID
		ops := []saOp{
			{"List", false, func(p domain.Principal) error {
				_, page, err := s.sas.List(s.ctx, p, alpha, "", domain.PageRequest{Size: 1000})
				if err == nil {
					found := false
					for _, sa := range page.Items {
						if sa.ID == target.ID {
							found = true
							if sa.KeyCount != 1 {
								t.Errorf("%s: List KeyCount = %d, want 1", c.name, sa.KeyCount)
							}
						}
					}
					if !found {
						t.Errorf("%s: List does not show the target", c.name)
					}
				}
				return err
			}},
			{"Get", false, func(p domain.Principal) error {
				v, err := s.sas.Get(s.ctx, p, alpha, target.ID)
				if err == nil && (v.Account.ID != target.ID || v.Account.Email != target.Email || v.Role != domain.RoleNone) {
					t.Errorf("%s: Get = %+v", c.name, v)
				}
				return err
			}},
			{"Memberships", false, func(p domain.Principal) error {
				ms, err := s.sas.Memberships(s.ctx, p, alpha, target.ID, 100)
				if err == nil && (len(ms) != 1 || ms[0].ProjectID != w.beta.ID) {
					t.Errorf("%s: Memberships = %+v, want the beta one", c.name, ms)
				}
				return err
			}},
			{"ListKeys", false, func(p domain.Principal) error {
				page, err := s.sas.ListKeys(s.ctx, p, alpha, target.ID, domain.PageRequest{})
				if err == nil && (len(page.Items) != 1 || page.Items[0].ID != key.ID) {
					t.Errorf("%s: ListKeys = %+v", c.name, page.Items)
				}
				return err
			}},
			{"GetKey", false, func(p domain.Principal) error {
				k, err := s.sas.GetKey(s.ctx, p, alpha, target.ID, key.ID)
				if err == nil && (k.ID != key.ID || k.ServiceAccountID != target.ID) {
					t.Errorf("%s: GetKey = %+v", c.name, k)
				}
				return err
			}},
			{"Create", true, func(p domain.Principal) error {
				sa, err := s.sas.Create(s.ctx, p, alpha, domain.ServiceAccountInput{DisplayName: strp("Made by " + c.name)})
				if err == nil {
					if n := s.count("SELECT count(*) FROM service_accounts WHERE id = ? AND project_id = ?", sa.ID, alpha); n != 1 {
						t.Errorf("%s: created account not stored", c.name)
					}
				}
				return err
			}},
			{"Update rename", true, func(p domain.Principal) error {
				_, err := s.sas.Update(s.ctx, p, alpha, target.ID, domain.ServiceAccountInput{DisplayName: strp("Renamed " + c.name)})
				if err == nil {
					if n := s.count("SELECT count(*) FROM service_accounts WHERE id = ? AND display_name = ?", target.ID, "Renamed "+c.name); n != 1 {
						t.Errorf("%s: rename not stored", c.name)
					}
				}
				return err
			}},
			{"Update basic auth", true, func(p domain.Principal) error {
				on := true
				_, err := s.sas.Update(s.ctx, p, alpha, target.ID, domain.ServiceAccountInput{EnableBasicAuth: &on})
				if err == nil {
					if n := s.count("SELECT count(*) FROM service_accounts WHERE id = ? AND enable_basic_auth = 1", target.ID); n != 1 {
						t.Errorf("%s: Basic Auth not stored", c.name)
					}
				}
				return err
			}},
			{"SetProjectRole", true, func(p domain.Principal) error {
				err := s.sas.SetProjectRole(s.ctx, p, alpha, target.ID, domain.RoleProjectUser)
				if err == nil {
					if n := s.count("SELECT count(*) FROM project_members WHERE project_id = ? AND service_account_id = ? AND role = 'roles/project.user'", alpha, target.ID); n != 1 {
						t.Errorf("%s: role not stored", c.name)
					}
				}
				return err
			}},
			{"CreateKey", true, func(p domain.Principal) error {
				k, sec, err := s.sas.CreateKey(s.ctx, p, alpha, target.ID)
				if err == nil {
					if !hex32.MatchString(sec) || sec == secret || k.ServiceAccountID != target.ID {
						t.Errorf("%s: CreateKey = %+v, %q", c.name, k, sec)
					}
					if n := s.count("SELECT count(*) FROM keys WHERE service_account_id = ?", target.ID); n != 2 {
						t.Errorf("%s: %d keys after CreateKey, want 2", c.name, n)
					}
				}
				return err
			}},
			{"DeleteKey", true, func(p domain.Principal) error {
				err := s.sas.DeleteKey(s.ctx, p, alpha, target.ID, key.ID)
				if err == nil {
					if n := s.count("SELECT count(*) FROM keys WHERE id = ?", key.ID); n != 0 {
						t.Errorf("%s: key still stored after DeleteKey", c.name)
					}
				}
				return err
			}},
			{"Delete", true, func(p domain.Principal) error {
				err := s.sas.Delete(s.ctx, p, alpha, target.ID)
				if err == nil {
					if n := s.count("SELECT count(*) FROM service_accounts WHERE id = ?", target.ID); n != 0 {
						t.Errorf("%s: account still stored after Delete", c.name)
					}
				}
				return err
			}},
		}

		before := s.snapshot()
		for _, op := range ops {
			err := op.run(p)
			var want string
			switch {
			case c.want == none:
				want = domain.ENOTFOUND
			case c.want == read && op.write:
				want = domain.EFORBIDDEN
			}
			if got := domain.ErrorCode(err); got != want {
				t.Errorf("%s: %s: error %v (code %q), want code %q", c.name, op.name, err, got, want)
			}
		}
		if c.want != all {
			if after := s.snapshot(); after != before {
				t.Errorf("%s: refused calls changed the database:\nbefore:\n%s\nafter:\n%s", c.name, before, after)
			}
		}

		// Callers with rights in beta only: asking through beta is not found
		// either, and beta's list does not show the account.
		if c.want == none && c.p.Account == w.betaAdmin.Account || c.self {
			before := s.snapshot()
			beta := w.beta.ID
			_, page, err := s.sas.List(s.ctx, p, beta, "", domain.PageRequest{})
			if err != nil {
				t.Errorf("%s: List(beta): %v", c.name, err)
			}
			for _, sa := range page.Items {
				if sa.ID == target.ID {
					t.Errorf("%s: beta's list shows an account of alpha", c.name)
				}
			}
			for name, err := range saCallsVia(s, p, beta, target.ID, key.ID) {
				wantCode(t, c.name+": "+name+" via beta", err, domain.ENOTFOUND)
			}
			if after := s.snapshot(); after != before {
				t.Errorf("%s: refused calls via beta changed the database", c.name)
			}
		}
	}
}

// saCallsVia makes every account call through projectID and returns the errors by name.
func saCallsVia(s *saEnv, p domain.Principal, projectID, accountID, keyID string) map[string]error {
	on := true
	out := map[string]error{}
	_, out["Get"] = s.sas.Get(s.ctx, p, projectID, accountID)
	_, out["Memberships"] = s.sas.Memberships(s.ctx, p, projectID, accountID, 10)
	_, out["Update rename"] = s.sas.Update(s.ctx, p, projectID, accountID, domain.ServiceAccountInput{DisplayName: strp("Hijacked")})
	_, out["Update basic auth"] = s.sas.Update(s.ctx, p, projectID, accountID, domain.ServiceAccountInput{EnableBasicAuth: &on})
	out["SetProjectRole"] = s.sas.SetProjectRole(s.ctx, p, projectID, accountID, domain.RoleProjectAdmin)
	out["SetProjectRole none"] = s.sas.SetProjectRole(s.ctx, p, projectID, accountID, domain.RoleNone)
	_, out["ListKeys"] = s.sas.ListKeys(s.ctx, p, projectID, accountID, domain.PageRequest{})
	_, out["GetKey"] = s.sas.GetKey(s.ctx, p, projectID, accountID, keyID)
	_, _, out["CreateKey"] = s.sas.CreateKey(s.ctx, p, projectID, accountID)
	out["DeleteKey"] = s.sas.DeleteKey(s.ctx, p, projectID, accountID, keyID)
	out["Delete"] = s.sas.Delete(s.ctx, p, projectID, accountID)
	return out
}

func TestServiceAccountThroughOtherProjectIsNotFound(t *testing.T) {
	s := newSAEnv(t)
	w := s.world()
	sa := s.createSA(w.principal, w.alpha.ID, "Owned by alpha")
	key, _ := s.createKey(w.principal, sa)
	other := s.createSA(w.principal, w.alpha.ID, "Sibling")
	otherKey, _ := s.createKey(w.principal, other)
	s.addSAMember(sa, w.org.ID, w.beta.ID, domain.RoleProjectUser)
	otherOrg, farProject := s.otherOrg("Other Org", "Far Project")
	s.addOrgAdmin(s.mustUser(w.orgAdmin), otherOrg.ID, domain.StatusAccepted)

	before := s.snapshot()
	// Organization admins (the staff bootstrap admin and a plain one) hold
	// admin in beta, the inventory and (for one) another organization's
	// project: none of them is the owning project.
	for _, p := range []domain.Principal{w.principal, w.orgAdmin} {
		for _, proj := range []string{w.beta.ID, w.inventory.ID} {
			for name, err := range saCallsVia(s, p, proj, sa.ID, key.ID) {
				wantCode(t, name+" via another project", err, domain.ENOTFOUND)
			}
		}
	}
	for name, err := range saCallsVia(s, w.orgAdmin, farProject.ID, sa.ID, key.ID) {
		wantCode(t, name+" via another organization's project", err, domain.ENOTFOUND)
	}
	// Unknown or malformed project and account ids.
	for _, pid := range []string{"", "nope", strings.ToUpper(w.alpha.ID), domain.NewID(s.clock.Now())} {
		for name, err := range saCallsVia(s, w.principal, pid, sa.ID, key.ID) {
			wantCode(t, fmt.Sprintf("%s via project %q", name, pid), err, domain.ENOTFOUND)
		}
	}
	for _, aid := range []string{"", "x", strings.ToUpper(sa.ID), sa.ID + " ", domain.NewID(s.clock.Now()), key.ID} {
		for name, err := range saCallsVia(s, w.principal, w.alpha.ID, aid, key.ID) {
			wantCode(t, fmt.Sprintf("%s of account %q", name, aid), err, domain.ENOTFOUND)
		}
	}
	// A key of another account of the same project is not found through this one.
	_, err := s.sas.GetKey(s.ctx, w.principal, w.alpha.ID, sa.ID, otherKey.ID)
	wantCode(t, "GetKey(other account's key)", err, domain.ENOTFOUND)
	err = s.sas.DeleteKey(s.ctx, w.principal, w.alpha.ID, sa.ID, otherKey.ID)
	wantCode(t, "DeleteKey(other account's key)", err, domain.ENOTFOUND)
	for _, kid := range []string{"", "bad", strings.ToUpper(key.ID), sa.ID, domain.NewID(s.clock.Now())} {
		_, err := s.sas.GetKey(s.ctx, w.principal, w.alpha.ID, sa.ID, kid)
		wantCode(t, fmt.Sprintf("GetKey(%q)", kid), err, domain.ENOTFOUND)
		err = s.sas.DeleteKey(s.ctx, w.principal, w.alpha.ID, sa.ID, kid)
		wantCode(t, fmt.Sprintf("DeleteKey(%q)", kid), err, domain.ENOTFOUND)
	}
	if after := s.snapshot(); after != before {
		t.Errorf("refused calls changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// The real path still works.
	if k, err := s.sas.GetKey(s.ctx, w.principal, w.alpha.ID, sa.ID, key.ID); err != nil || k.ID != key.ID {
		t.Errorf("GetKey through the owning project = %+v, %v", k, err)
	}
}

// mustUser reads the user behind a user principal.
func (s *saEnv) mustUser(p domain.Principal) domain.User {
	s.t.Helper()
	u, err := s.store.UserByID(s.ctx, p.UserID)
	if err != nil {
		s.t.Fatal(err)
	}
	return u
}

func TestServiceAccountSetProjectRole(t *testing.T) {
	s := newSAEnv(t)
	w := s.world()
	sa := s.createSA(w.admin, w.alpha.ID, "Role bot")
	memberRows := func() []string {
		rows, err := s.raw.QueryContext(s.ctx, "SELECT project_id, role, status FROM project_members WHERE service_account_id = ? ORDER BY id", sa.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var p, r, st string
			if err := rows.Scan(&p, &r, &st); err != nil {
				t.Fatal(err)
			}
			out = append(out, p+" "+r+" "+st)
		}
		return out
	}
	step := func(role domain.Role, wantRows []string, wantActions []string) {
		t.Helper()
		mark := s.maxAuditID()
		if err := s.sas.SetProjectRole(s.ctx, w.admin, w.alpha.ID, sa.ID, role); err != nil {
			t.Fatalf("SetProjectRole(%q): %v", role, err)
		}
		if got := memberRows(); strings.Join(got, "|") != strings.Join(wantRows, "|") {
			t.Errorf("after SetProjectRole(%q) rows = %q, want %q", role, got, wantRows)
		}
		if got := saActions(s.auditSince(mark)); strings.Join(got, ",") != strings.Join(wantActions, ",") {
			t.Errorf("after SetProjectRole(%q) audit = %q, want %q", role, got, wantActions)
		}
		v, err := s.sas.Get(s.ctx, w.user, w.alpha.ID, sa.ID)
		if err != nil || v.Role != role {
			t.Errorf("Get after SetProjectRole(%q): role %q, %v", role, v.Role, err)
		}
		a, err := s.store.AccessIn(s.ctx, sa.Ref(), w.alpha.ID)
		if err != nil || a.ProjectRole != role || a.OrgAdmin {
			t.Errorf("AccessIn after SetProjectRole(%q) = %q %v, %v", role, a.ProjectRole, a.OrgAdmin, err)
		}
	}
	a := w.alpha.ID
	step(domain.RoleNone, nil, nil) // none → none: nothing
	step(domain.RoleProjectUser, []string{a + " roles/project.user ACCEPTED"}, []string{"membership.create"})
	step(domain.RoleProjectUser, []string{a + " roles/project.user ACCEPTED"}, nil) // same role: nothing
	step(domain.RoleProjectAdmin, []string{a + " roles/project.admin ACCEPTED"}, []string{"membership.update"})
	step(domain.RoleProjectAdmin, []string{a + " roles/project.admin ACCEPTED"}, nil)
	step(domain.RoleNone, nil, []string{"membership.delete"})
	step(domain.RoleNone, nil, nil)

	// Wrong roles for the scope, or no role at all.
	before := s.snapshot()
	for _, r := range []domain.Role{domain.RoleOrgAdmin, "bogus", "roles/project.Admin", "ROLES/PROJECT.USER", " roles/project.user", "project.user"} {
		err := s.sas.SetProjectRole(s.ctx, w.admin, w.alpha.ID, sa.ID, r)
		wantField(t, fmt.Sprintf("SetProjectRole(%q)", r), err, "role")
	}
	if after := s.snapshot(); after != before {
		t.Errorf("invalid roles changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	// With developer, the account reads its project but cannot manage keys.
	step(domain.RoleProjectDev, []string{a + " roles/project.developer ACCEPTED"}, []string{"membership.create"})
	access, err := s.store.AccessIn(s.ctx, sa.Ref(), w.alpha.ID)
	if err != nil || access.Role() != domain.RoleProjectDev || !access.Can(domain.PermDeviceUpdate) || access.Can(domain.PermKeyCreate) {
		t.Errorf("AccessIn(developer) = %+v, %v", access, err)
	}
	if a, err := s.store.AccessIn(s.ctx, sa.Ref(), w.beta.ID); err != nil || a.ProjectRole != domain.RoleNone {
		t.Errorf("AccessIn(beta) = %q, %v; the owning project's role leaks", a.ProjectRole, err)
	}
	self := saPrincipal(sa)
	if _, page, err := s.sas.List(s.ctx, self, w.alpha.ID, "", domain.PageRequest{}); err != nil || len(page.Items) != 1 {
		t.Errorf("developer account List = %d items, %v", len(page.Items), err)
	}
	before = s.snapshot()
	_, _, err = s.sas.CreateKey(s.ctx, self, w.alpha.ID, sa.ID)
	wantCode(t, "developer account CreateKey(itself)", err, domain.EFORBIDDEN)
	err = s.sas.SetProjectRole(s.ctx, self, w.alpha.ID, sa.ID, domain.RoleProjectAdmin)
	wantCode(t, "developer account raising its own role", err, domain.EFORBIDDEN)
	if after := s.snapshot(); after != before {
		t.Error("refused self-service changed the database")
	}

	// Audit details name the roles, and the target is the account's email.
	rows := s.auditSince(0)
	var details []string
	for _, r := range rows {
		if strings.HasPrefix(r.action, "membership.") && r.targetName == sa.Email {
			details = append(details, r.action+": "+r.detail)
			if r.targetType != "membership" || r.orgID != w.org.ID || r.projectID != w.alpha.ID || r.actorID != w.admin.Account.ID {
				t.Errorf("membership audit entry %+v", r)
			}
		}
	}
	want := []string{
		"membership.create: Project user",
		"membership.update: Project user → Project admin",
		"membership.delete: Project admin → No access",
		"membership.create: Project developer",
	}
	if strings.Join(details, "\n") != strings.Join(want, "\n") {
		t.Errorf("membership audit details:\n%s\nwant:\n%s", strings.Join(details, "\n"), strings.Join(want, "\n"))
	}
}

func TestServiceAccountKeys(t *testing.T) {
	s := newSAEnv(t)
	w := s.world()
	sa := s.createSA(w.admin, w.alpha.ID, "Key bot")

	k, secret, err := s.sas.CreateKey(s.ctx, w.admin, w.alpha.ID, sa.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !hex32.MatchString(secret) {
		t.Errorf("secret %q is not 32 lowercase hex characters", secret)
	}
	if !domain.ValidID(k.ID) || k.ServiceAccountID != sa.ID || !k.CreateTime.Equal(s.clock.Now()) {
		t.Errorf("key = %+v", k)
	}
	var sealed []byte
	var created int64
	if err := s.raw.QueryRowContext(s.ctx, "SELECT secret_sealed, create_time FROM keys WHERE id = ? AND service_account_id = ?", k.ID, sa.ID).Scan(&sealed, &created); err != nil {
		t.Fatalf("key row: %v", err)
	}
	raw, _ := hex.DecodeString(secret)
	if len(sealed) == 0 || bytes.Contains(sealed, []byte(secret)) || bytes.Contains(sealed, raw) ||
		bytes.Contains(bytes.ToLower(sealed), []byte(secret)) {
		t.Errorf("secret_sealed (%d bytes) holds the secret in the clear", len(sealed))
	}
	if created != micro(s.clock.Now()).UnixMicro() {
		t.Errorf("create_time = %d", created)
	}
	if got, err := s.sas.KeySecret(k); err != nil || got != secret {
		t.Errorf("KeySecret(created key) = %q, %v; want the secret", got, err)
	}
	got, err := s.sas.GetKey(s.ctx, w.user, w.alpha.ID, sa.ID, k.ID)
	if err != nil || got.ID != k.ID || !got.CreateTime.Equal(micro(k.CreateTime)) {
		t.Fatalf("GetKey = %+v, %v", got, err)
	}
	if sec, err := s.sas.KeySecret(got); err != nil || sec != secret {
		t.Errorf("KeySecret(key read back) = %q, %v", sec, err)
	}
	// The sealed secret is bound to its key: copied onto another key id it does not open.
	if sec, err := s.sas.KeySecret(domain.Key{ID: domain.NewID(s.clock.Now()), Sealed: got.Sealed}); err == nil {
		t.Errorf("sealed secret opened under another key id: %q", sec)
	}
	// A service with another server key cannot open it.
	otherSealer, _ := domain.NewSealer(bytes.Repeat([]byte{7}, 32))
	if sec, err := domain.NewServiceAccounts(s.store, otherSealer, s.clock.Now, saEmailDomain).KeySecret(got); err == nil {
		t.Errorf("another server key opened the secret: %q", sec)
	}
	page, err := s.sas.ListKeys(s.ctx, w.user, w.alpha.ID, sa.ID, domain.PageRequest{})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != k.ID || page.NextPageToken != "" {
		t.Errorf("ListKeys = %+v, %v", page, err)
	}

	// Up to 10 keys; the 11th is refused and nothing is stored for it.
	secrets := map[string]string{k.ID: secret}
	for i := 2; i <= domain.MaxKeysPerAccount; i++ {
		s.clock.Advance(1)
		k, sec := s.createKey(w.admin, sa)
		if _, dup := secrets[k.ID]; dup {
			t.Fatalf("key id %s twice", k.ID)
		}
		for _, other := range secrets {
			if other == sec {
				t.Fatal("two keys share a secret")
			}
		}
		secrets[k.ID] = sec
	}
	auditBefore := s.count("SELECT count(*) FROM audit_log")
	_, sec11, err := s.sas.CreateKey(s.ctx, w.admin, w.alpha.ID, sa.ID)
	wantCode(t, "11th CreateKey", err, domain.EINVALID)
	if !strings.Contains(domain.ErrorMessage(err), "10") {
		t.Errorf("11th CreateKey message %q does not mention 10", domain.ErrorMessage(err))
	}
	if sec11 != "" {
		t.Errorf("refused CreateKey returned a secret %q", sec11)
	}
	if n := s.count("SELECT count(*) FROM keys WHERE service_account_id = ?", sa.ID); n != 10 {
		t.Errorf("%d keys stored, want 10", n)
	}
	if n := s.count("SELECT count(*) FROM audit_log"); n != auditBefore {
		t.Errorf("refused CreateKey wrote %d audit entries", n-auditBefore)
	}
	// Every key lists once, in pages, and opens to its own secret.
	listed := allPages(t, "ListKeys", 3, func(r domain.PageRequest) (domain.Page[domain.Key], error) {
		return s.sas.ListKeys(s.ctx, w.user, w.alpha.ID, sa.ID, r)
	})
	if len(listed) != 10 {
		t.Errorf("ListKeys paged by 3 gave %d keys, want 10", len(listed))
	}
	seen := map[string]bool{}
	for i, k := range listed {
		if seen[k.ID] {
			t.Errorf("key %s listed twice", k.ID)
		}
		seen[k.ID] = true
		if i > 0 && listed[i-1].ID >= k.ID {
			t.Errorf("keys out of order at %d", i)
		}
		if sec, err := s.sas.KeySecret(k); err != nil || sec != secrets[k.ID] {
			t.Errorf("KeySecret(listed %s) = %q, %v; want %q", k.ID, sec, err, secrets[k.ID])
		}
	}
	// The list's key count agrees.
	if got := s.allSAs(w.user, w.alpha.ID, "", 100); len(got) != 1 || got[0].KeyCount != 10 {
		t.Errorf("List KeyCount = %+v", got)
	}
	// After deleting one, another fits again.
	if err := s.sas.DeleteKey(s.ctx, w.admin, w.alpha.ID, sa.ID, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.sas.GetKey(s.ctx, w.admin, w.alpha.ID, sa.ID, k.ID); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("GetKey after DeleteKey = %v", err)
	}
	err = s.sas.DeleteKey(s.ctx, w.admin, w.alpha.ID, sa.ID, k.ID)
	wantCode(t, "second DeleteKey", err, domain.ENOTFOUND)
	if _, _, err := s.sas.CreateKey(s.ctx, w.admin, w.alpha.ID, sa.ID); err != nil {
		t.Errorf("CreateKey after freeing a slot: %v", err)
	}
	if n := s.count("SELECT count(*) FROM keys WHERE service_account_id = ?", sa.ID); n != 10 {
		t.Errorf("%d keys, want 10", n)
	}

	// Another account's key cannot be deleted through this one.
	other := s.createSA(w.admin, w.alpha.ID, "Other bot")
	ok, _ := s.createKey(w.admin, other)
	err = s.sas.DeleteKey(s.ctx, w.admin, w.alpha.ID, sa.ID, ok.ID)
	wantCode(t, "DeleteKey(another account's key)", err, domain.ENOTFOUND)
	if n := s.count("SELECT count(*) FROM keys WHERE id = ? AND service_account_id = ?", ok.ID, other.ID); n != 1 {
		t.Error("another account's key was deleted")
	}
}

func TestServiceAccountParallelCreateKeyStopsAtLimit(t *testing.T) {
	s := newSAEnv(t)
	w := s.world()
	sa := s.createSA(w.admin, w.alpha.ID, "Busy bot")
	auditBefore := s.count("SELECT count(*) FROM audit_log")

	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	secrets := make([]string, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			_, secrets[i], errs[i] = s.sas.CreateKey(context.Background(), w.admin, w.alpha.ID, sa.ID)
		}(i)
	}
	close(start)
	wg.Wait()
	var ok, limited int
	for i, err := range errs {
		switch domain.ErrorCode(err) {
		case "":
			ok++
			if !hex32.MatchString(secrets[i]) {
				t.Errorf("secret %q", secrets[i])
			}
		case domain.EINVALID:
			limited++
		default:
			t.Errorf("CreateKey %d: %v", i, err)
		}
	}
	if ok != 10 || limited != 10 {
		t.Errorf("%d successes and %d refusals, want 10 and 10", ok, limited)
	}
	if got := s.count("SELECT count(*) FROM keys WHERE service_account_id = ?", sa.ID); got != 10 {
		t.Errorf("%d keys stored, want 10", got)
	}
	if got := s.count("SELECT count(*) FROM audit_log WHERE action = 'serviceaccount.key.create'"); got != 10 {
		t.Errorf("%d key.create audit entries, want 10", got)
	}
	if got := s.count("SELECT count(*) FROM audit_log"); got != auditBefore+10 {
		t.Errorf("%d new audit entries, want 10", got-auditBefore)
	}
}

func TestKeySecretsNeverInDatabaseFile(t *testing.T) {
	s := newSAEnv(t)
	w := s.world()
	var secrets []string
	var keyIDs []string
	for i := 0; i < 3; i++ {
		sa := s.createSA(w.admin, w.alpha.ID, fmt.Sprint("File bot ", i))
		for j := 0; j < 4; j++ {
			k, sec := s.createKey(w.admin, sa)
			secrets = append(secrets, sec)
			keyIDs = append(keyIDs, k.ID)
		}
		// Deleted keys leave free pages behind: they must hold no secret either.
		k, sec := s.createKey(w.admin, sa)
		secrets = append(secrets, sec)
		if err := s.sas.DeleteKey(s.ctx, w.admin, w.alpha.ID, sa.ID, k.ID); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Dir(s.path)
	check := func(stage string) {
		t.Helper()
		files, err := filepath.Glob(filepath.Join(dir, "studio.db*"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no database files (%v)", stage, err)
		}
		var all []byte
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, b...)
			for _, sec := range secrets {
				raw, _ := hex.DecodeString(sec)
				if bytes.Contains(b, []byte(sec)) || bytes.Contains(b, []byte(strings.ToUpper(sec))) || bytes.Contains(b, raw) {
					t.Errorf("%s: %s holds a key secret", stage, filepath.Base(f))
				}
			}
		}
		// The search sees the data: every live key id is in the files.
		for _, id := range keyIDs {
			if !bytes.Contains(all, []byte(id)) {
				t.Errorf("%s: key id %s not found in the database files: the search does not see the data", stage, id)
			}
		}
	}
	check("before checkpoint")
	var busy, logFrames, done int
	if err := s.raw.QueryRowContext(s.ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &done); err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	check("after checkpoint")
	if err := s.store.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.raw.Close(); err != nil {
		t.Fatal(err)
	}
	check("after close")
}

// saWithMemberships makes an account in alpha with three keys and memberships
// in four scopes, stored in an order unlike the expected listing order.
func (s *saEnv) saWithMemberships(w saWorld) (sa domain.ServiceAccount, otherOrg domain.Organization, far domain.Project) {
	s.t.Helper()
	sa = s.createSA(w.admin, w.alpha.ID, "Member bot")
	for i := 0; i < 3; i++ {
		s.createKey(w.admin, sa)
	}
	otherOrg, far = s.otherOrg("Other Org", "Far Project")
	s.addSAMember(sa, otherOrg.ID, far.ID, domain.RoleProjectDev)
	s.addSAMember(sa, otherOrg.ID, "", domain.RoleOrgAdmin)
	s.addSAMember(sa, w.org.ID, w.beta.ID, domain.RoleProjectUser)
	if err := s.sas.SetProjectRole(s.ctx, w.admin, w.alpha.ID, sa.ID, domain.RoleProjectAdmin); err != nil {
		s.t.Fatal(err)
	}
	s.addSAMember(sa, w.org.ID, "", domain.RoleOrgAdmin)
	return sa, otherOrg, far
}

func TestServiceAccountMemberships(t *testing.T) {
	s := newSAEnv(t)
	w := s.world()
	sa, otherOrg, far := s.saWithMemberships(w)
	line := func(scope, orgID, orgName, projectID, projectName string, role domain.Role) string {
		return fmt.Sprintf("%s %s %s %s %s %s %s", scope, orgID, orgName, projectID, projectName, role, domain.StatusAccepted)
	}
	want := []string{
		line("org", w.org.ID, "Acme Sensors", "", "", domain.RoleOrgAdmin),
		line("org", otherOrg.ID, "Other Org", "", "", domain.RoleOrgAdmin),
		line("project", w.org.ID, "Acme Sensors", w.alpha.ID, "Alpha", domain.RoleProjectAdmin),
		line("project", w.org.ID, "Acme Sensors", w.beta.ID, "Beta", domain.RoleProjectUser),
		line("project", otherOrg.ID, "Other Org", far.ID, "Far Project", domain.RoleProjectDev),
	}
	render := func(ms []domain.Membership) []string {
		var out []string
		for _, m := range ms {
			scope := "project"
			if m.ProjectID == "" {
				scope = "org"
			}
			out = append(out, line(scope, m.OrganizationID, m.OrganizationDisplayName, m.ProjectID, m.ProjectDisplayName, m.Role))
			if m.Account != sa.Ref() || m.ID == 0 || m.Status != domain.StatusAccepted {
				t.Errorf("membership %+v: wrong account, status or no id", m)
			}
		}
		return out
	}
	ms, err := s.store.AccountMemberships(s.ctx, sa.Ref(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if got := render(ms); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("AccountMemberships:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Through the service, for anyone who may read the account, and limited.
	vs, err := s.sas.Memberships(s.ctx, w.user, w.alpha.ID, sa.ID, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := render(vs); strings.Join(got, "\n") != strings.Join(want[:3], "\n") {
		t.Errorf("Memberships(limit 3):\n%s", strings.Join(got, "\n"))
	}
	_, err = s.sas.Memberships(s.ctx, w.betaAdmin, w.alpha.ID, sa.ID, 10)
	wantCode(t, "Memberships as admin of beta", err, domain.ENOTFOUND)
}

func TestServiceAccountDelete(t *testing.T) {
	s := newSAEnv(t)
	w := s.world()
	sa, otherOrg, far := s.saWithMemberships(w)
	sibling := s.createSA(w.admin, w.alpha.ID, "Sibling bot")
	sibKey, sibSecret := s.createKey(w.admin, sibling)
	s.addSAMember(sibling, otherOrg.ID, far.ID, domain.RoleProjectUser)
	s.addSAMember(sibling, otherOrg.ID, "", domain.RoleOrgAdmin)

	counts := func(id string) [4]int {
		return [4]int{
			s.count("SELECT count(*) FROM service_accounts WHERE id = ?", id),
			s.count("SELECT count(*) FROM keys WHERE service_account_id = ?", id),
			s.count("SELECT count(*) FROM project_members WHERE service_account_id = ?", id),
			s.count("SELECT count(*) FROM organization_members WHERE service_account_id = ?", id),
		}
	}
	if got := counts(sa.ID); got != [4]int{1, 3, 3, 2} {
		t.Fatalf("setup: rows for the account = %v", got)
	}
	sibBefore := counts(sibling.ID)
	usersBefore := s.count("SELECT count(*) FROM project_members WHERE user_id IS NOT NULL") +
		s.count("SELECT count(*) FROM organization_members WHERE user_id IS NOT NULL")
	var keyIDs []string
	page, err := s.sas.ListKeys(s.ctx, w.admin, w.alpha.ID, sa.ID, domain.PageRequest{})
	if err != nil || len(page.Items) == 0 {
		t.Fatalf("keys before Delete: %+v, %v", page.Items, err)
	}
	for _, k := range page.Items {
		keyIDs = append(keyIDs, k.ID)
	}
	mark := s.maxAuditID()

	if err := s.sas.Delete(s.ctx, w.admin, w.alpha.ID, sa.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got := counts(sa.ID); got != [4]int{} {
		t.Errorf("rows left for the deleted account (account, keys, project, organization memberships) = %v", got)
	}
	if ms, err := s.store.AccountMemberships(s.ctx, sa.Ref(), 100); err != nil || len(ms) != 0 {
		t.Errorf("AccountMemberships after Delete = %+v, %v", ms, err)
	}
	for _, id := range keyIDs {
		if _, err := s.store.KeyByID(s.ctx, id); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("KeyByID(%s) after Delete = %v", id, err)
		}
	}
	if a, err := s.store.AccessIn(s.ctx, sa.Ref(), w.alpha.ID); err != nil || a.ProjectRole != domain.RoleNone || a.OrgAdmin {
		t.Errorf("AccessIn(deleted account) = %+v, %v", a, err)
	}
	if got := counts(sibling.ID); got != sibBefore {
		t.Errorf("sibling rows %v, were %v", got, sibBefore)
	}
	if sec, err := s.sas.KeySecret(mustKey(t, s, sibKey.ID)); err != nil || sec != sibSecret {
		t.Errorf("sibling key no longer opens: %v", err)
	}
	if n := s.count("SELECT count(*) FROM project_members WHERE user_id IS NOT NULL") +
		s.count("SELECT count(*) FROM organization_members WHERE user_id IS NOT NULL"); n != usersBefore {
		t.Errorf("user memberships %d, were %d", n, usersBefore)
	}
	rows := s.auditSince(mark)
	if len(rows) != 1 || rows[0].action != "serviceaccount.delete" || rows[0].targetID != sa.ID ||
		rows[0].orgID != w.org.ID || rows[0].projectID != w.alpha.ID {
		t.Fatalf("audit after Delete = %+v", rows)
	}
	if !strings.Contains(rows[0].detail, "3 keys") || !strings.Contains(rows[0].detail, sa.Email) {
		t.Errorf("delete audit detail %q does not mention the email and 3 keys", rows[0].detail)
	}
	_, err = s.sas.Get(s.ctx, w.admin, w.alpha.ID, sa.ID)
	wantCode(t, "Get after Delete", err, domain.ENOTFOUND)
	err = s.sas.Delete(s.ctx, w.admin, w.alpha.ID, sa.ID)
	wantCode(t, "second Delete", err, domain.ENOTFOUND)
	if n := s.count("SELECT count(*) FROM audit_log WHERE id > ?", mark); n != 1 {
		t.Errorf("%d audit entries after a refused second Delete, want 1", n)
	}
}

func mustKey(t *testing.T, s *saEnv, id string) domain.Key {
	t.Helper()
	k, err := s.store.KeyByID(s.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestServiceAccountListPagingAndSearch(t *testing.T) {
	s := newSAEnv(t)
	w := s.world()
	names := []string{"alpha", "Alpha", "ALPHA", "bravo", "Bravo 2", "charlie", "CHARLIE", "Delta", "delta",
		"echo", "Echo", "Foxtrot", "foxtrot x", "golf", "GOLF", "Hotel", "hotel", "India", "india",
		"Juliet", "juliet", "Kilo", "kilo", "Lima", "zulu"}
	if len(names) != 25 {
		t.Fatal("want 25 names")
	}
	var made []domain.ServiceAccount
	keys := map[string]int{}
	for i, n := range names {
		sa := s.createSA(w.admin, w.alpha.ID, n)
		for j := 0; j < i%3; j++ {
			s.createKey(w.admin, sa)
		}
		keys[sa.ID] = i % 3
		made = append(made, sa)
	}
	// Noise: an account of beta.
	s.createSA(w.principal, w.beta.ID, "alpha in beta")

	want := append([]domain.ServiceAccount(nil), made...)
	sort.Slice(want, func(i, j int) bool {
		a, b := strings.ToLower(want[i].DisplayName), strings.ToLower(want[j].DisplayName)
		return a < b || a == b && want[i].ID < want[j].ID
	})
	ids := func(sas []domain.ServiceAccount) []string {
		var out []string
		for _, sa := range sas {
			out = append(out, sa.DisplayName+"/"+sa.ID)
		}
		return out
	}
	// Pages of 10: 10, 10, 5.
	var got []domain.ServiceAccount
	var sizes []int
	for tok := ""; ; {
		_, page, err := s.sas.List(s.ctx, w.user, w.alpha.ID, "", domain.PageRequest{Size: 10, Token: tok})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page.Items...)
		sizes = append(sizes, len(page.Items))
		if tok = page.NextPageToken; tok == "" {
			break
		}
		if len(sizes) > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if fmt.Sprint(sizes) != "[10 10 5]" {
		t.Errorf("page sizes %v, want [10 10 5]", sizes)
	}
	if strings.Join(ids(got), "\n") != strings.Join(ids(want), "\n") {
		t.Errorf("listing:\n%s\nwant:\n%s", strings.Join(ids(got), "\n"), strings.Join(ids(want), "\n"))
	}
	for _, sa := range got {
		if sa.KeyCount != keys[sa.ID] {
			t.Errorf("%s KeyCount = %d, want %d", sa.DisplayName, sa.KeyCount, keys[sa.ID])
		}
		if sa.ProjectID != w.alpha.ID || sa.Email == "" {
			t.Errorf("listed %+v", sa)
		}
	}

	searchNames := func(q string, size int) []string {
		var out []string
		for _, sa := range s.allSAs(w.user, w.alpha.ID, q, size) {
			out = append(out, sa.DisplayName)
		}
		sort.Strings(out)
		return out
	}
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"ALPH", []string{"ALPHA", "Alpha", "alpha"}},
		{"  alpha  ", []string{"ALPHA", "Alpha", "alpha"}},
		{"Trot X", []string{"foxtrot x"}},
		{"ulu", []string{"zulu"}},
		{"no such bot", nil},
	} {
		for _, size := range []int{1, 2, 100} {
			if got := searchNames(c.q, size); strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("search %q (page size %d) = %q, want %q", c.q, size, got, c.want)
			}
		}
	}
	// By part of the email: the account's own id part, in upper case too.
	target := made[7]
	for _, q := range []string{target.ID[8:], strings.ToUpper(target.ID[8:]), target.ID + "@"} {
		if got := s.allSAs(w.user, w.alpha.ID, q, 5); len(got) != 1 || got[0].ID != target.ID {
			t.Errorf("search by email part %q = %v", q, ids(got))
		}
	}
	if got := s.allSAs(w.user, w.alpha.ID, "@"+strings.ToUpper(w.alpha.ID)+".SERVICEACCOUNT.D21S.COM", 7); len(got) != 25 {
		t.Errorf("search by the email's domain part gave %d accounts, want 25", len(got))
	}
	// A bad page token and page size are refused.
	_, _, err := s.sas.List(s.ctx, w.user, w.alpha.ID, "", domain.PageRequest{Token: "garbage"})
	wantField(t, "List(bad token)", err, "pageToken")
	_, _, err = s.sas.List(s.ctx, w.user, w.alpha.ID, "", domain.PageRequest{Size: 1001})
	wantField(t, "List(size 1001)", err, "pageSize")
}

func TestProjectWithServiceAccountIsNotEmpty(t *testing.T) {
	s := newSAEnv(t)
	w := s.world()
	gamma := s.createProject(w.principal, w.org.ID, "Gamma")
	if empty, err := s.store.ProjectIsEmpty(s.ctx, gamma.ID); err != nil || !empty {
		t.Fatalf("ProjectIsEmpty(new project) = %v, %v", empty, err)
	}
	sa := s.createSA(w.principal, gamma.ID, "Gamma bot")
	s.createKey(w.principal, sa)
	if empty, err := s.store.ProjectIsEmpty(s.ctx, gamma.ID); err != nil || empty {
		t.Errorf("ProjectIsEmpty(project owning an account) = %v, %v", empty, err)
	}
	// A membership elsewhere does not make alpha non-empty.
	s.addSAMember(sa, w.org.ID, w.alpha.ID, domain.RoleProjectUser)
	if empty, err := s.store.ProjectIsEmpty(s.ctx, w.alpha.ID); err != nil || !empty {
		t.Errorf("ProjectIsEmpty(alpha, where the account is only a member) = %v, %v", empty, err)
	}
	before := s.snapshot()
	err := s.projects.DeleteProject(s.ctx, w.principal, gamma.ID)
	wantCode(t, "DeleteProject(owning an account)", err, domain.EINVALID)
	if after := s.snapshot(); after != before {
		t.Error("refused DeleteProject changed the database")
	}
	if err := s.sas.Delete(s.ctx, w.principal, gamma.ID, sa.ID); err != nil {
		t.Fatal(err)
	}
	if empty, err := s.store.ProjectIsEmpty(s.ctx, gamma.ID); err != nil || !empty {
		t.Errorf("ProjectIsEmpty after deleting the account = %v, %v", empty, err)
	}
	if err := s.projects.DeleteProject(s.ctx, w.principal, gamma.ID); err != nil {
		t.Errorf("DeleteProject(emptied): %v", err)
	}
	if n := s.count("SELECT count(*) FROM projects WHERE id = ?", gamma.ID); n != 0 {
		t.Error("emptied project not deleted")
	}
}

func TestServiceAccountAuditTrail(t *testing.T) {
	s := newSAEnv(t)
	w := s.world()
	p := w.admin
	mark := s.maxAuditID()

	sa := s.createSA(p, w.alpha.ID, "Audit bot")
	s.clock.Advance(1000)
	renamed, err := s.sas.Update(s.ctx, p, w.alpha.ID, sa.ID, domain.ServiceAccountInput{DisplayName: strp("  Audit bot 2 ")})
	if err != nil || renamed.DisplayName != "Audit bot 2" || !renamed.UpdateTime.Equal(s.clock.Now()) {
		t.Fatalf("rename = %+v, %v", renamed, err)
	}
	// No change, no entry: same name, Basic Auth already off.
	off := false
	if _, err := s.sas.Update(s.ctx, p, w.alpha.ID, sa.ID, domain.ServiceAccountInput{DisplayName: strp("Audit bot 2"), EnableBasicAuth: &off}); err != nil {
		t.Fatal(err)
	}
	// Invalid rename: refused, nothing written.
	_, err = s.sas.Update(s.ctx, p, w.alpha.ID, sa.ID, domain.ServiceAccountInput{DisplayName: strp(strings.Repeat("n", 101))})
	wantField(t, "Update(101 characters)", err, "displayName")
	_, err = s.sas.Update(s.ctx, p, w.alpha.ID, sa.ID, domain.ServiceAccountInput{DisplayName: strp(" ")})
	wantField(t, "Update(blank)", err, "displayName")
	on := true
	if _, err := s.sas.Update(s.ctx, p, w.alpha.ID, sa.ID, domain.ServiceAccountInput{EnableBasicAuth: &on}); err != nil {
		t.Fatal(err)
	}
	if n := s.count("SELECT count(*) FROM service_accounts WHERE id = ? AND display_name = 'Audit bot 2' AND name_key = 'audit bot 2' AND enable_basic_auth = 1 AND update_time = ?",
		sa.ID, micro(s.clock.Now()).UnixMicro()); n != 1 {
		t.Error("updates not stored")
	}
	for _, r := range []domain.Role{domain.RoleProjectUser, domain.RoleProjectAdmin, domain.RoleNone} {
		if err := s.sas.SetProjectRole(s.ctx, p, w.alpha.ID, sa.ID, r); err != nil {
			t.Fatal(err)
		}
	}
	k, secret := s.createKey(p, sa)
	_, secret2 := s.createKey(p, sa)
	if err := s.sas.DeleteKey(s.ctx, p, w.alpha.ID, sa.ID, k.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.sas.Delete(s.ctx, p, w.alpha.ID, sa.ID); err != nil {
		t.Fatal(err)
	}

	rows := s.auditSince(mark)
	wantActions := []string{
		"serviceaccount.create",
		"serviceaccount.update",
		"serviceaccount.basic_auth.enable",
		"membership.create",
		"membership.update",
		"membership.delete",
		"serviceaccount.key.create",
		"serviceaccount.key.create",
		"serviceaccount.key.delete",
		"serviceaccount.delete",
	}
	if got := saActions(rows); strings.Join(got, ",") != strings.Join(wantActions, ",") {
		t.Fatalf("audit actions:\n%q\nwant:\n%q", got, wantActions)
	}
	for i, r := range rows {
		if r.orgID != w.org.ID || r.projectID != w.alpha.ID || r.actorID != p.Account.ID ||
			r.actorType != string(domain.AccountUser) || r.remoteAddr != p.RemoteAddr {
			t.Errorf("entry %d (%s): where/who wrong: %+v", i, r.action, r)
		}
	}
	if r := rows[0]; r.targetType != "serviceaccount" || r.targetID != sa.ID || r.targetName != "Audit bot" {
		t.Errorf("create entry %+v", r)
	}
	if r := rows[1]; r.targetID != sa.ID || !strings.Contains(r.detail, "Audit bot") || !strings.Contains(r.detail, "Audit bot 2") {
		t.Errorf("rename entry %+v", r)
	}
	if r := rows[2]; r.targetID != sa.ID || !strings.Contains(r.detail, "Basic Auth on") {
		t.Errorf("Basic Auth entry %+v", r)
	}
	for _, r := range rows[3:6] {
		if r.targetType != "membership" || r.targetName != sa.Email {
			t.Errorf("membership entry %+v", r)
		}
	}
	if r := rows[6]; r.targetType != "key" || r.targetID != k.ID || r.targetName != sa.Email {
		t.Errorf("key create entry %+v", r)
	}
	if r := rows[8]; r.targetType != "key" || r.targetID != k.ID {
		t.Errorf("key delete entry %+v", r)
	}
	if r := rows[9]; r.targetID != sa.ID || !strings.Contains(r.detail, "1 key") {
		t.Errorf("delete entry %+v", r)
	}
	dump := s.auditDump()
	for _, sec := range []string{secret, secret2} {
		if strings.Contains(dump, sec) || strings.Contains(strings.ToLower(dump), sec) {
			t.Error("an audit entry holds a key secret")
		}
	}
	// The organization's audit log shows the same entries to its admins.
	page, err := s.audit.ListOrganization(s.ctx, w.principal, w.org.ID, domain.AuditFilter{}, domain.PageRequest{Size: len(wantActions)})
	if err != nil || len(page.Items) != len(wantActions) || page.Items[0].Action != "serviceaccount.delete" {
		t.Errorf("ListOrganization = %d items, %v", len(page.Items), err)
	}
}

// saHookStore runs hook once, just before the next write transaction, to
// put another change between a service's checks and its write.
type saHookStore struct {
	*sqlite.DB
	mu   sync.Mutex
	hook func()
}

func (h *saHookStore) Update(ctx context.Context, fn func(domain.Tx) error) error {
	h.mu.Lock()
	f := h.hook
	h.hook = nil
	h.mu.Unlock()
	if f != nil {
		f()
	}
	return h.DB.Update(ctx, fn)
}

// Two updates of different fields made at the same time both stay: one
// must not write back the other's stale value.
func TestServiceAccountConcurrentUpdatesKeepBothChanges(t *testing.T) {
	s := newSAEnv(t)
	w := s.world()
	sa := s.createSA(w.admin, w.alpha.ID, "Racy bot")
	hs := &saHookStore{DB: s.store}
	hooked := domain.NewServiceAccounts(hs, s.sealer, s.clock.Now, saEmailDomain)
	on := true
	hs.hook = func() {
		if _, err := s.sas.Update(s.ctx, w.orgAdmin, w.alpha.ID, sa.ID, domain.ServiceAccountInput{EnableBasicAuth: &on}); err != nil {
			t.Errorf("Basic Auth update: %v", err)
		}
	}
	if _, err := hooked.Update(s.ctx, w.admin, w.alpha.ID, sa.ID, domain.ServiceAccountInput{DisplayName: strp("Renamed bot")}); err != nil {
		t.Fatalf("rename: %v", err)
	}
	var name string
	var basic bool
	if err := s.raw.QueryRowContext(s.ctx, "SELECT display_name, enable_basic_auth FROM service_accounts WHERE id = ?", sa.ID).Scan(&name, &basic); err != nil {
		t.Fatal(err)
	}
	if name != "Renamed bot" || !basic {
		t.Errorf("after a rename and a Basic Auth switch at the same time: name %q, Basic Auth %v; want %q and true (a change was lost)",
			name, basic, "Renamed bot")
	}
}

// An account deleted between a call's checks and its write is not found:
// the call must not fail with an internal (foreign key) error.
func TestServiceAccountDeletedMeanwhileIsNotFound(t *testing.T) {
	for _, c := range []struct {
		name string
		call func(svc *domain.ServiceAccounts, p domain.Principal, projectID, accountID string) error
	}{
		{"CreateKey", func(svc *domain.ServiceAccounts, p domain.Principal, projectID, accountID string) error {
			_, _, err := svc.CreateKey(context.Background(), p, projectID, accountID)
			return err
		}},
		{"SetProjectRole", func(svc *domain.ServiceAccounts, p domain.Principal, projectID, accountID string) error {
			return svc.SetProjectRole(context.Background(), p, projectID, accountID, domain.RoleProjectUser)
		}},
		{"Update", func(svc *domain.ServiceAccounts, p domain.Principal, projectID, accountID string) error {
			_, err := svc.Update(context.Background(), p, projectID, accountID, domain.ServiceAccountInput{DisplayName: strp("Late")})
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newSAEnv(t)
			w := s.world()
			sa := s.createSA(w.admin, w.alpha.ID, "Doomed bot")
			hs := &saHookStore{DB: s.store}
			hooked := domain.NewServiceAccounts(hs, s.sealer, s.clock.Now, saEmailDomain)
			hs.hook = func() {
				if err := s.sas.Delete(s.ctx, w.orgAdmin, w.alpha.ID, sa.ID); err != nil {
					t.Errorf("Delete: %v", err)
				}
			}
			mark := s.maxAuditID()
			err := c.call(hooked, w.admin, w.alpha.ID, sa.ID)
			wantCode(t, c.name+" on an account deleted meanwhile", err, domain.ENOTFOUND)
			if n := s.count("SELECT (SELECT count(*) FROM keys WHERE service_account_id = ?) + (SELECT count(*) FROM project_members WHERE service_account_id = ?) + (SELECT count(*) FROM service_accounts WHERE id = ?)",
				sa.ID, sa.ID, sa.ID); n != 0 {
				t.Errorf("%d rows for the deleted account", n)
			}
			if got := saActions(s.auditSince(mark)); strings.Join(got, ",") != "serviceaccount.delete" {
				t.Errorf("audit entries %q, want only the delete", got)
			}
		})
	}
}
