package web_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"studio/app"
	"studio/db/sqlite"
	"studio/domain"
	"studio/web"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"
	"github.com/pquerna/otp/totp"
)

// apiRateLimit is the test app's API limit per account and second: high,
// so only the rate-limit test meets it.
const apiRateLimit = 1000

// adminPassword is the first administrator's password in every test app.
const (
	adminEmail    = "admin@example.com"
	adminPassword = "correct horse battery"
)

// testApp is the whole server on a fresh database file, as main wires it.
type testApp struct {
	t     testing.TB
	store *sqlite.DB
	// services are the server's own services, as the composition root built them.
	services *app.Services
	echo     *echo.Echo
	srv      *httptest.Server
	org      domain.Organization // the first organization
	logs     *syncBuffer
	clock    *testClock
	// dbPath is the database file.
	dbPath string
	// statements counts what the database runs (see TestStatementsPerRequest).
	statements *sqlite.StatementCounter
	// localURL is the server as http://localhost:<port>: passkeys need a
	// host name (WebAuthn refuses IP addresses), and the passkey ceremony
	// and single sign-on of the test app are set up for this origin.
	localURL string
	// factors are the authenticator apps given to users (giveTOTP), by email.
	factors *testFactors
}

// testFactors remembers the authenticator apps of the test app's users, and
// the newest code step each used, so sign-ins never replay a code.
type testFactors struct {
	mu      sync.Mutex
	secrets map[string]string
	last    map[string]int64
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// appOption changes how newApp builds the server.
type appOption func(*appSettings)

type appSettings struct {
	rateLimit      int
	trustedProxies string
	server         func(*app.ServerConfig)
}

// withServer changes the server's settings (stream timings and the like).
func withServer(f func(*app.ServerConfig)) appOption {
	return func(s *appSettings) { s.server = f }
}

// withRateLimit sets the API's per-account limit per second.
func withRateLimit(n int) appOption { return func(s *appSettings) { s.rateLimit = n } }

// withTrustedProxies sets --trusted-proxies (the test server's clients
// connect from 127.0.0.1).
func withTrustedProxies(list string) appOption {
	return func(s *appSettings) { s.trustedProxies = list }
}

func newApp(t testing.TB, opts ...appOption) *testApp {
	t.Helper()
	settings := appSettings{rateLimit: apiRateLimit}
	for _, o := range opts {
		o(&settings)
	}
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "studio.db")
	statements := &sqlite.StatementCounter{}
	store, err := sqlite.OpenWith(ctx, dbPath, sqlite.Options{Count: statements})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clock := &testClock{now: time.Now().UTC()}
	// The server's address first: the passkey ceremony and single sign-on
	// are bound to it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	localURL := "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	// Wired by the composition root, as main wires the server; the keys
	// are fixed so that tests can seal and sign as the server does.
	services, err := app.NewServices(store, app.Config{
		Keys: app.Keys{
			Sealer:  []byte("an AES-256 key of 32 bytes......"),
			Session: []byte("0123456789abcdef0123456789abcdef"),
			Flash:   []byte("fedcba9876543210fedcba9876543210"),
			Browser: []byte("known browser key of 32 bytes..."),

			RecoveryCodes: []byte("recovery code key of 32 bytes..."),
		},
		SignInURL:                 localURL,
		Now:                       clock.Now,
		Hasher:                    domain.NewHasher(2),
		BaseURL:                   "http://studio.test",
		ServiceAccountEmailDomain: "d21s.com",
	})
	if err != nil {
		t.Fatal(err)
	}
	boot, err := services.Accounts.Bootstrap(ctx, domain.BootstrapInput{AdminEmail: adminEmail, AdminPassword: adminPassword, OrgName: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	trusted, err := web.ParseTrustedProxies(settings.trustedProxies)
	if err != nil {
		t.Fatal(err)
	}
	serverConfig := app.ServerConfig{Logger: slog.New(slog.NewTextHandler(logs, nil)), TrustedProxies: trusted,
		RateLimit: settings.rateLimit, RateWindow: time.Second}
	if settings.server != nil {
		settings.server(&serverConfig)
	}
	e := services.Server(serverConfig)
	// Every JSON response is checked against the OpenAPI document
	// (openapi_test.go); the server closes first, so every response is in.
	checked, _ := checkResponses(t, e)
	srv := httptest.NewUnstartedServer(checked)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	ta := &testApp{t: t, store: store, services: services, echo: e, srv: srv, org: boot.Organization, logs: logs, clock: clock,
		dbPath: dbPath, statements: statements, localURL: localURL, factors: &testFactors{secrets: map[string]string{}, last: map[string]int64{}}}
	// The first administrator is support staff, and support staff always
	// need a second factor: an authenticator app, which sign-in asks for.
	ta.giveTOTP(adminEmail)
	return ta
}

// giveTOTP sets up an authenticator app for the user with this email, the
// way a person does (a seed, confirmed with a code), and remembers the
// seed so signIn can answer the second factor.
func (a *testApp) giveTOTP(email string) {
	a.t.Helper()
	ctx := context.Background()
	u, err := a.store.UserByEmail(ctx, email)
	if err != nil {
		a.t.Fatal(err)
	}
	p := domain.UserPrincipal(u, "test setup")
	setup, err := a.services.SecondFactors.BeginTOTP(ctx, p)
	if err != nil {
		a.t.Fatal(err)
	}
	// Confirmed with the code of the step before, so that sign-ins may
	// use the current one.
	step := a.clock.Now().Unix()/30 - 1
	code, err := totp.GenerateCode(setup.Secret, time.Unix(step*30, 0))
	if err != nil {
		a.t.Fatal(err)
	}
	if _, err := a.services.SecondFactors.ConfirmTOTP(ctx, p, code, domain.Client{Address: "test setup"}); err != nil {
		a.t.Fatal(err)
	}
	a.factors.mu.Lock()
	defer a.factors.mu.Unlock()
	a.factors.secrets[email], a.factors.last[email] = setup.Secret, step
}

// totpCode is a code of the user's authenticator app that was not used
// yet: the current step's, or the next one's (accepted too); when both were
// used, the test clock moves on 30 seconds. ok is false for a user
// without an app.
func (a *testApp) totpCode(email string) (string, bool) {
	a.factors.mu.Lock()
	defer a.factors.mu.Unlock()
	secret, ok := a.factors.secrets[email]
	if !ok {
		return "", false
	}
	step := max(a.factors.last[email]+1, a.clock.Now().Unix()/30)
	for step > a.clock.Now().Unix()/30+1 {
		a.clock.Advance(30 * time.Second)
	}
	code, err := totp.GenerateCode(secret, time.Unix(step*30, 0))
	if err != nil {
		a.t.Fatal(err)
	}
	a.factors.last[email] = step
	return code, true
}

// addUser creates an established user, with a password and a verified
// email, and, when projectID is set, an accepted membership with role
// there; orgAdmin adds an organization admin membership.
func (a *testApp) addUser(email string, projectID string, role domain.Role, orgAdminOf string) domain.User {
	a.t.Helper()
	ctx := context.Background()
	hash, err := domain.NewHasher(1).Hash(ctx, adminPassword)
	if err != nil {
		a.t.Fatal(err)
	}
	u := domain.User{Email: email, DisplayName: email, PasswordHash: hash, CreateTime: a.clock.Now(), EmailVerified: true}
	err = a.store.Update(ctx, func(tx domain.Tx) error {
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		ref := domain.AccountRef{Type: domain.AccountUser, ID: itoa(u.ID)}
		if projectID != "" {
			p, err := tx.ProjectByID(ctx, projectID)
			if err != nil {
				return err
			}
			m := domain.Membership{OrganizationID: p.OrganizationID, ProjectID: projectID, Account: ref, Role: role, Status: domain.StatusAccepted, CreateTime: a.clock.Now()}
			if err := tx.CreateMembership(ctx, &m); err != nil {
				return err
			}
		}
		if orgAdminOf != "" {
			m := domain.Membership{OrganizationID: orgAdminOf, Account: ref, Role: domain.RoleOrgAdmin, Status: domain.StatusAccepted, CreateTime: a.clock.Now()}
			return tx.CreateMembership(ctx, &m)
		}
		return nil
	})
	if err != nil {
		a.t.Fatal(err)
	}
	return u
}

// addProject makes a project in org as the system.
func (a *testApp) addProject(orgID, name string) domain.Project {
	a.t.Helper()
	ctx := context.Background()
	now := a.clock.Now()
	p := domain.Project{ID: domain.NewID(now), OrganizationID: orgID, DisplayName: name, CreateTime: now, UpdateTime: now}
	if err := a.store.Update(ctx, func(tx domain.Tx) error { return tx.CreateProject(ctx, p) }); err != nil {
		a.t.Fatal(err)
	}
	return p
}

// addOrg makes another organization with its inventory project and an admin.
func (a *testApp) addOrg(name, adminEmail string) (domain.Organization, domain.User) {
	a.t.Helper()
	ctx := context.Background()
	now := a.clock.Now()
	o := domain.Organization{ID: domain.NewID(now), DisplayName: name, CreateTime: now}
	if err := a.store.Update(ctx, func(tx domain.Tx) error { return tx.CreateOrganization(ctx, o) }); err != nil {
		a.t.Fatal(err)
	}
	u := a.addUser(adminEmail, "", "", o.ID)
	return o, u
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// The readers below fail the test when the read fails, so that a check after
// them ("no keys left", "not locked") cannot pass on a zero value.

// keyCount is how many keys the service account has.
func (a *testApp) keyCount(saID string) int {
	a.t.Helper()
	n, err := a.store.CountKeys(context.Background(), saID)
	if err != nil {
		a.t.Fatalf("count keys of %s: %v", saID, err)
	}
	return n
}

// memberships lists the account's memberships, up to 100.
func (a *testApp) memberships(ref domain.AccountRef) []domain.Membership {
	a.t.Helper()
	ms, err := a.store.AccountMemberships(context.Background(), ref, 100)
	if err != nil {
		a.t.Fatalf("memberships of %v: %v", ref, err)
	}
	return ms
}

// storedServiceAccount reads the service account from the database.
func (a *testApp) storedServiceAccount(id string) domain.ServiceAccount {
	a.t.Helper()
	sa, err := a.store.ServiceAccountByID(context.Background(), id)
	if err != nil {
		a.t.Fatalf("service account %s: %v", id, err)
	}
	return sa
}

// storedUser reads the user from the database.
func (a *testApp) storedUser(id int64) domain.User {
	a.t.Helper()
	u, err := a.store.UserByID(context.Background(), id)
	if err != nil {
		a.t.Fatalf("user %d: %v", id, err)
	}
	return u
}

// client is a browser-like client: it keeps cookies and the CSRF token,
// and does not follow redirects so tests see them.
type client struct {
	app  *testApp
	http *http.Client
	csrf string
	// forwardedFor, when set, is sent as X-Forwarded-For (as a proxy would).
	forwardedFor string
}

func (a *testApp) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{app: a, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type response struct {
	status int
	header http.Header
	body   string
	doc    *goquery.Document
}

func (c *client) do(req *http.Request) response {
	c.app.t.Helper()
	if c.forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", c.forwardedFor)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.app.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(b)))
	if err != nil {
		c.app.t.Fatal(err)
	}
	if tok, ok := doc.Find(`input[name="_csrf"]`).First().Attr("value"); ok && tok != "" {
		c.csrf = tok
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b), doc: doc}
}

func (c *client) get(path string) response {
	c.app.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.app.srv.URL+path, nil)
	return c.do(req)
}

// post sends a form with the client's CSRF token (unless form sets _csrf).
func (c *client) post(path string, form url.Values) response {
	c.app.t.Helper()
	// Copy, so a form shared between requests keeps no one's token.
	sent := url.Values{}
	for k, v := range form {
		sent[k] = v
	}
	form = sent
	if _, ok := form["_csrf"]; !ok {
		if c.csrf == "" {
			c.get("/signin")
		}
		form.Set("_csrf", c.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, c.app.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// signIn signs in and fails the test unless it worked. A user with an
// authenticator app (giveTOTP) gives its code when asked.
func (c *client) signIn(email, password string) {
	c.app.t.Helper()
	c.get("/signin")
	r := c.post("/signin", url.Values{"email": {email}, "password": {password}})
	if r.status != http.StatusSeeOther {
		c.app.t.Fatalf("sign in as %s: status %d, body %s", email, r.status, r.doc.Find("[data-testid=signin-error]").Text())
	}
	c.secondFactor(email, r)
}

// secondFactor answers the second-factor step when r, the answer to a
// right password, asks for it; it returns the answer that finishes the
// sign-in (r itself when no second factor was asked).
func (c *client) secondFactor(email string, r response) response {
	c.app.t.Helper()
	loc := r.header.Get("Location")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/signin/verify") {
		return r
	}
	code, ok := c.app.totpCode(email)
	if !ok {
		c.app.t.Fatalf("sign in as %s: a second factor is asked, and the test gave %s no authenticator app", email, email)
	}
	u, _ := url.Parse(loc)
	r = c.post("/signin/verify", url.Values{"code": {code}, "next": {u.Query().Get("next")}})
	if r.status != http.StatusSeeOther {
		c.app.t.Fatalf("second factor of %s: status %d, %s", email, r.status, r.doc.Find("[data-testid=error-code]").Text())
	}
	return r
}

func (a *testApp) signedIn(email string) *client {
	c := a.client()
	c.signIn(email, adminPassword)
	return c
}
