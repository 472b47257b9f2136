package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"studio/db/sqlite"
	"studio/domain"
)

// clock is a settable time source for the services.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	// Nanoseconds on purpose: stored times keep microseconds only.
	return &clock{t: time.Date(2026, 3, 11, 9, 39, 56, 15971234, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is one test's database and services.
type env struct {
	t        *testing.T
	ctx      context.Context
	path     string
	store    *sqlite.DB
	raw      *sql.DB // a separate connection for checking rows directly
	clock    *clock
	accounts *domain.Accounts
	projects *domain.Projects
	audit    *domain.AuditLog
}

func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "studio.db")
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	c := newClock()
	return &env{
		t: t, ctx: ctx, path: path, store: store, raw: openRaw(t, path), clock: c,
		accounts: domain.NewAccounts(store, domain.NewHasher(2), c.Now),
		projects: domain.NewProjects(store, c.Now),
		audit:    domain.NewAuditLog(store),
	}
}

// count returns the result of a SELECT count(*) ... on the raw connection.
func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.raw.QueryRowContext(e.ctx, query, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
	return n
}

const adminPassword = "correct horse battery staple"

// bootstrapped is the state after the first start.
type bootstrapped struct {
	admin     domain.User
	principal domain.Principal
	org       domain.Organization
	inventory domain.Project
}

func (e *env) bootstrap() bootstrapped {
	e.t.Helper()
	res, err := e.accounts.Bootstrap(e.ctx, domain.BootstrapInput{
		AdminEmail: "Admin@Example.com", AdminPassword: adminPassword, OrgName: "Acme Sensors",
	})
	if err != nil {
		e.t.Fatalf("Bootstrap: %v", err)
	}
	if !res.Created {
		e.t.Fatal("Bootstrap on an empty database did not create anything")
	}
	var inv domain.Project
	var found int
	for _, p := range e.allProjects(domain.UserPrincipal(res.Admin, "test"), res.Organization.ID, "", 1000) {
		if p.Inventory {
			inv = p
			found++
		}
	}
	if found != 1 {
		e.t.Fatalf("found %d inventory projects after Bootstrap, want 1", found)
	}
	return bootstrapped{
		admin: res.Admin, principal: domain.UserPrincipal(res.Admin, "192.0.2.1"),
		org: res.Organization, inventory: inv,
	}
}

// newUser stores a user without memberships, with a verified email (an
// established account). The hash is a placeholder unless password is given
// (hashing costs ~25 ms).
func (e *env) newUser(email, password string) domain.User {
	e.t.Helper()
	hash := "$placeholder$not-a-usable-hash"
	if password != "" {
		var err error
		if hash, err = domain.NewHasher(1).Hash(e.ctx, password); err != nil {
			e.t.Fatal(err)
		}
	}
	u := domain.User{Email: email, DisplayName: "User " + email, PasswordHash: hash,
		CreateTime: e.clock.Now(), PasswordChanged: e.clock.Now(), EmailVerified: true}
	if err := e.store.Update(e.ctx, func(tx domain.Tx) error { return tx.CreateUser(e.ctx, &u) }); err != nil {
		e.t.Fatalf("CreateUser(%s): %v", email, err)
	}
	if u.ID == 0 {
		e.t.Fatalf("CreateUser(%s) did not set the id", email)
	}
	return u
}

func (e *env) addMember(m domain.Membership) domain.Membership {
	e.t.Helper()
	if m.Status == "" {
		m.Status = domain.StatusAccepted
	}
	if m.CreateTime.IsZero() {
		m.CreateTime = e.clock.Now()
	}
	if err := e.store.Update(e.ctx, func(tx domain.Tx) error { return tx.CreateMembership(e.ctx, &m) }); err != nil {
		e.t.Fatalf("CreateMembership(%+v): %v", m, err)
	}
	return m
}

func (e *env) addProjectMember(u domain.User, p domain.Project, role domain.Role, status domain.MembershipStatus) {
	e.t.Helper()
	e.addMember(domain.Membership{OrganizationID: p.OrganizationID, ProjectID: p.ID,
		Account: domain.AccountRef{Type: domain.AccountUser, ID: fmt.Sprint(u.ID)}, Role: role, Status: status})
}

func (e *env) addOrgAdmin(u domain.User, orgID string, status domain.MembershipStatus) {
	e.t.Helper()
	e.addMember(domain.Membership{OrganizationID: orgID,
		Account: domain.AccountRef{Type: domain.AccountUser, ID: fmt.Sprint(u.ID)}, Role: domain.RoleOrgAdmin, Status: status})
}

func (e *env) createProject(p domain.Principal, orgID, name string) domain.Project {
	e.t.Helper()
	proj, err := e.projects.CreateProject(e.ctx, p, orgID, domain.ProjectInput{DisplayName: &name})
	if err != nil {
		e.t.Fatalf("CreateProject(%q): %v", name, err)
	}
	return proj
}

// allPages reads a keyset-paged list to its end, asking list for pages of
// size, and checks the paging contract on the way: no page longer than size,
// only full pages before a next token, an end within 1,000 pages.
func allPages[T any](t testing.TB, what string, size int, list func(domain.PageRequest) (domain.Page[T], error)) []T {
	t.Helper()
	var out []T
	tok := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatalf("%s: pagination does not end", what)
		}
		page, err := list(domain.PageRequest{Size: size, Token: tok})
		if err != nil {
			t.Fatalf("%s, page %d: %v", what, pages+1, err)
		}
		if len(page.Items) > size || (page.NextPageToken != "" && len(page.Items) != size) {
			t.Fatalf("%s: page of %d items, size %d, next token %q", what, len(page.Items), size, page.NextPageToken)
		}
		out = append(out, page.Items...)
		if tok = page.NextPageToken; tok == "" {
			return out
		}
	}
}

// allProjects pages through ListProjects with the given page size.
func (e *env) allProjects(p domain.Principal, orgID, query string, size int) []domain.Project {
	e.t.Helper()
	return allPages(e.t, fmt.Sprintf("ListProjects(org %q, query %q)", orgID, query), size, func(r domain.PageRequest) (domain.Page[domain.Project], error) {
		return e.projects.ListProjects(e.ctx, p, orgID, query, r)
	})
}

func projectNames(ps []domain.Project) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.DisplayName)
	}
	return out
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := domain.ErrorCode(err); got != code {
		t.Errorf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
}

func strp(s string) *string { return &s }

// micro is how a time comes back from the database: UTC, microseconds.
func micro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
