package web_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"studio/app"
	"studio/domain"
)

// Outcomes of one request in the sweeps.
const (
	allow  = 'a' // passed authentication and permission (2xx, 3xx, or a 400/409/422 about the input)
	deny   = 'f' // 403: may read the resource, lacks the permission
	hidden = 'n' // 404: may not know the resource exists
	signin = 's' // console: redirected to sign in
	unauth = 'u' // API: 401
)

// consoleRoles are the people of the console sweep, in the order of the
// expectation strings below.
var consoleRoles = []string{"nobody", "outsider", "user", "developer", "project admin", "org admin", "staff"}

// consoleExpect is the console's permission matrix, route by route: one
// outcome per role of consoleRoles. A route missing here fails the sweep.
var consoleExpect = map[string]string{
	"GET /signin":                                                  "aaaaaaa",
	"GET /docs/api":                                                "aaaaaaa", // the API reference is public
	"POST /signin":                                                 "uuuuuuu", // no credentials sent: the sign-in form answers 401
	"GET /invite/:token":                                           "nnnnnnn", // unknown token
	"POST /invite/:token":                                          "nnnnnnn",
	"POST /signout":                                                "sssssss", // signed out, everyone lands on the sign-in page
	"GET /":                                                        "saaaaaa",
	"GET /account/password":                                        "saaaaaa",
	"POST /account/password":                                       "saaaaaa",
	"GET /orgs/:org":                                               "snaaaan",
	"POST /orgs/:org/projects":                                     "snfffan",
	"GET /orgs/:org/audit":                                         "snfffan",
	"GET /orgs/:org/admins":                                        "snfffan",
	"POST /orgs/:org/admins":                                       "snfffan",
	"GET /orgs/:org/admins/:member/revoke":                         "snfffan",
	"POST /orgs/:org/admins/:member/revoke":                        "snfffan",
	"POST /orgs/:org/admins/:member/invite-link":                   "snfffan",
	"GET /orgs/:org/members/:member/access":                        "snfffan",
	"POST /orgs/:org/members/:member/access":                       "snfffan",
	"GET /projects/:project":                                       "snaaaan",
	"GET /projects/:project/settings":                              "snaaaan",
	"POST /projects/:project/settings":                             "snffaan",
	"POST /projects/:project/labels":                               "snffaan",
	"POST /projects/:project/labels/remove":                        "snffaan",
	"GET /projects/:project/delete":                                "snffaan",
	"POST /projects/:project/delete":                               "snffaan",
	"GET /projects/:project/members":                               "snaaaan",
	"POST /projects/:project/members":                              "snffaan",
	"POST /projects/:project/members/:member/role":                 "snffaan",
	"GET /projects/:project/members/:member/remove":                "snffaan",
	"POST /projects/:project/members/:member/remove":               "snffaan",
	"POST /projects/:project/members/:member/invite-link":          "snffaan",
	"GET /projects/:project/serviceaccounts":                       "snaaaan",
	"POST /projects/:project/serviceaccounts":                      "snffaan",
	"GET /projects/:project/serviceaccounts/:sa":                   "snaaaan",
	"POST /projects/:project/serviceaccounts/:sa/name":             "snffaan",
	"POST /projects/:project/serviceaccounts/:sa/basicauth":        "snffaan",
	"POST /projects/:project/serviceaccounts/:sa/role":             "snffaan",
	"GET /projects/:project/serviceaccounts/:sa/delete":            "snffaan",
	"POST /projects/:project/serviceaccounts/:sa/delete":           "snffaan",
	"POST /projects/:project/serviceaccounts/:sa/keys":             "snffaan",
	"GET /projects/:project/serviceaccounts/:sa/keys/:key/delete":  "snffaan",
	"POST /projects/:project/serviceaccounts/:sa/keys/:key/delete": "snffaan",
	// Credential lifecycle.
	"POST /projects/:project/serviceaccounts/:sa/disable":               "snffaan",
	"POST /projects/:project/serviceaccounts/:sa/enable":                "snffaan",
	"POST /projects/:project/serviceaccounts/:sa/keys/:key/rotate":      "snffaan",
	"POST /projects/:project/serviceaccounts/:sa/keys/:key/disable":     "snffaan",
	"POST /projects/:project/serviceaccounts/:sa/keys/:key/enable":      "snffaan",
	"GET /projects/:project/serviceaccounts/:sa/keys/:key/compromised":  "snffaan",
	"POST /projects/:project/serviceaccounts/:sa/keys/:key/compromised": "snffaan",
	"GET /orgs/:org/settings":                                           "snfffan",
	"POST /orgs/:org/settings":                                          "snfffan",
	"POST /orgs/:org/keys/purge":                                        "snfffan",
	"POST /support/accounts/:member/disable":                            "snnnnna",
	"POST /support/accounts/:member/enable":                             "snnnnna",
	"POST /support/accounts/:member/keys/:key/disable":                  "snnnnna",
	"POST /support/accounts/:member/keys/:key/enable":                   "snnnnna",
	"GET /support":                                      "snnnnna",
	"GET /support/audit":                                "snnnnna",
	"GET /support/accounts/:member":                     "snnnnna",
	"POST /support/accounts/:member/memberships/remove": "snnnnna",
	"POST /support/accounts/:member/remove-all":         "snnnnna",
	"POST /support/accounts/:member/keys/:key/delete":   "snnnnna",
	"POST /support/accounts/:member/basic-auth-off":     "snnnnna",
	"POST /support/accounts/:member/lock":               "snnnnna",
	"POST /support/accounts/:member/unlock":             "snnnnna",
	"GET /support/organizations/new":                    "snnnnna",
	"POST /support/organizations":                       "snnnnna",
	// Sign-in beyond the password. Without a sign-in in progress (no
	// cookie), its steps send everyone back to the sign-in page or refuse.
	"GET /signin/verify":           "sssssss",
	"POST /signin/verify":          "sssssss",
	"POST /signin/verify/passkey":  "uuuuuuu",
	"POST /signin/passkey/options": "aaaaaaa", // anyone may start a password-less sign-in
	"POST /signin/passkey":         "uuuuuuu",
	"GET /signin/provider":         "aaaaaaa", // the sign-in page's "Sign in with …" choice
	"GET /signin/sso/start":        "nnnnnnn", // no provider for an empty email
	"GET /signin/sso/callback":     "uuuuuuu", // no state
	"GET /signin/link":             "sssssss",
	"POST /signin/link":            "sssssss",
	"GET /signin/sso":              "snnnnnn", // no organization named
	// One's own second factors: everyone signed in, for themselves only.
	"GET /account/security":                           "saaaaaa",
	"POST /account/security/totp":                     "saaaaaa",
	"POST /account/security/totp/confirm":             "saaaaaa",
	"POST /account/security/totp/disable":             "saaaaaa",
	"POST /account/security/recovery-codes":           "saaaaaa",
	"POST /account/security/passkeys/new":             "saaaaaa",
	"POST /account/security/passkeys":                 "saaaaaa",
	"POST /account/security/passkeys/:passkey/remove": "snnnnnn", // no such passkey of one's own
	"POST /account/security/verify":                   "saaaaaa",
	"POST /account/passkey-options":                   "saaaaaa",
	// An organization's sign-in settings: its admins only.
	"GET /orgs/:org/security":                            "snfffan",
	"POST /orgs/:org/security/policy":                    "snfffan",
	"POST /orgs/:org/security/sso":                       "snfffan",
	"POST /orgs/:org/security/sso/delete":                "snfffan",
	"POST /support/accounts/:member/second-factor/reset": "snnnnna",
	// Devices and the emulator (:device is an emulated device of P).
	"GET /projects/:project/devices":                        "snaaaan",
	"GET /projects/:project/devices/live":                   "snaaaan",
	"POST /projects/:project/devices/move":                  "snffaan",
	"GET /projects/:project/devices/:device":                "snaaaan",
	"POST /projects/:project/devices/:device/labels":        "snfaaan",
	"POST /projects/:project/devices/:device/labels/remove": "snfaaan",
	"GET /projects/:project/emulator":                       "snaaaan",
	"POST /projects/:project/emulator":                      "snfaaan",
	"GET /projects/:project/emulator/:device":               "snaaaan",
	"POST /projects/:project/emulator/:device/publish":      "snfaaan",
	"GET /projects/:project/emulator/:device/delete":        "snfaaan",
	"POST /projects/:project/emulator/:device/delete":       "snfaaan",
	// Credential hygiene.
	"GET /orgs/:org/hygiene":          "snfffan",
	"POST /orgs/:org/hygiene/confirm": "snfffan",
	"POST /orgs/:org/hygiene/apply":   "snfffan",
	"GET /support/hygiene":            "snnnnna",
	"POST /support/hygiene/confirm":   "snnnnna",
	"POST /support/hygiene/apply":     "snnnnna",
}

// apiRoles are the callers of the API sweep: service accounts, and nobody.
var apiRoles = []string{"nobody", "outsider", "user", "developer", "project admin", "org admin"}

// apiExpect is api-v2.md's permission matrix, route by route.
var apiExpect = map[string]string{
	"GET /v2/organizations":                                      "uaaaaa",
	"GET /v2/organizations/:org":                                 "unaaaa",
	"GET /v2/organizations/:org/members":                         "unfffa",
	"POST /v2/organizations/:org/members":                        "unfffa",
	"GET /v2/organizations/:org/members/:member":                 "unfffa",
	"DELETE /v2/organizations/:org/members/:member":              "unfffa",
	"GET /v2/organizations/:org/permissions":                     "unaaaa",
	"GET /v2/projects":                                           "uaaaaa",
	"POST /v2/projects":                                          "unfffa",
	"POST /v2/projects:batchUpdate":                              "unffaa",
	"GET /v2/projects/:project":                                  "unaaaa",
	"PATCH /v2/projects/:project":                                "unffaa",
	"DELETE /v2/projects/:project":                               "unffaa",
	"GET /v2/projects/:project/members":                          "unaaaa",
	"POST /v2/projects/:project/members":                         "unffaa",
	"POST /v2/projects/-/members:batchCreate":                    "unffaa",
	"POST /v2/projects/-/members:batchDelete":                    "unffaa",
	"GET /v2/projects/:project/members/:member":                  "unaaaa",
	"PATCH /v2/projects/:project/members/:member":                "unffaa",
	"DELETE /v2/projects/:project/members/:member":               "unffaa",
	"GET /v2/projects/:project/permissions":                      "unaaaa",
	"GET /v2/projects/:project/serviceaccounts":                  "unaaaa",
	"POST /v2/projects/:project/serviceaccounts":                 "unffaa",
	"GET /v2/projects/:project/serviceaccounts/:sa":              "unaaaa",
	"PATCH /v2/projects/:project/serviceaccounts/:sa":            "unffaa",
	"DELETE /v2/projects/:project/serviceaccounts/:sa":           "unffaa",
	"GET /v2/projects/:project/serviceaccounts/:sa/keys":         "unaaaa",
	"POST /v2/projects/:project/serviceaccounts/:sa/keys":        "unffaa",
	"GET /v2/projects/:project/serviceaccounts/:sa/keys/:key":    "unaaaa",
	"DELETE /v2/projects/:project/serviceaccounts/:sa/keys/:key": "unffaa",
	// Credential lifecycle (their requests: apiActionRequest in lifecycle_test.go).
	"POST /v2/projects/:project/serviceaccounts/:sa/keys/:key": "unffaa", // {k}:disable
	"POST /v2/projects/:project/serviceaccounts/:sa":           "unffaa", // {sa}:disable
	"GET /v2/organizations/:org/keyPolicy":                     "unfffa",
	"PATCH /v2/organizations/:org/keyPolicy":                   "unfffa",
	"POST /v2/organizations/:org/keys:purgeExpired":            "unfffa",
	// Devices, events, the stream and the emulator (api-v2-devices.md).
	"GET /v2/projects/:project/devices":                     "unaaaa",
	"GET /v2/projects/:project/devices/:device":             "unaaaa",
	"GET /v2/projects/:project/devices/:device/events":      "unaaaa",
	"GET /v2/projects/:project/devices:stream":              "unaaaa",
	"POST /v2/projects/:project/devices:batchUpdate":        "unfaaa",
	"POST /v2/projects/:project/devices:transfer":           "unffaa",
	"POST /emulator/v2/projects/:project/devices":           "unfaaa",
	"GET /emulator/v2/projects/:project/devices":            "unaaaa",
	"GET /emulator/v2/projects/:project/devices/:device":    "unaaaa",
	"PUT /emulator/v2/projects/:project/devices/:device":    "unfaaa",
	"DELETE /emulator/v2/projects/:project/devices/:device": "unfaaa",
	"POST /emulator/v2/projects/:project/devices/:device":   "unfaaa", // {d}:publish
	"* /emulator/v2/*":     "unnnnn",
	"GET /v2/roles":        "uaaaaa",
	"GET /v2/roles/:role":  "uaaaaa",
	"* /v2/*":              "unnnnn", // any unknown path
	"GET /v2/openapi.json": "aaaaaa", // the API's document is public
}

// notSwept are routes with no resource behind them.
var notSwept = map[string]bool{
	"GET /healthz": true, "GET /static/*": true, "GET /docs/api-errors": true,
	"POST /oauth2/token": true, // its own refusals are tested in api_auth_test.go
}

// sweepWorld is the fixture: one project P of the organization with a
// service account, its key and a member, and one person per role.
type sweepWorld struct {
	app      *testApp
	project  domain.Project
	sa       domain.ServiceAccount
	keyID    string
	member   domain.User // a project user of P, the target of member routes
	orgAdmin domain.User // the target of organization admin routes
	svc      *domain.ServiceAccounts
	sealer   *domain.Sealer
	admin    domain.Principal
	people   map[string]*client
	// device is an emulated device of P.
	device domain.Device
}

func newSweepWorld(t *testing.T) *sweepWorld {
	// An event stream that is allowed ends at once: the sweep reads its status.
	app := newApp(t, withServer(func(c *app.ServerConfig) { c.StreamMaxAge = 50 * time.Millisecond }))
	ctx := context.Background()
	w := &sweepWorld{app: app, project: app.addProject(app.org.ID, "Swept"), people: map[string]*client{}}
	sealer, _ := domain.NewSealer([]byte("an AES-256 key of 32 bytes......"))
	w.svc, w.sealer = domain.NewServiceAccounts(app.store, sealer, app.clock.Now, "d21s.com"), sealer
	adminUser, _ := app.store.UserByEmail(ctx, adminEmail)
	w.admin = domain.UserPrincipal(adminUser, "sweep")
	w.sa = app.addServiceAccount(w.project, "Swept account")
	k, _, err := w.svc.CreateKey(ctx, w.admin, w.project.ID, w.sa.ID)
	if err != nil {
		t.Fatal(err)
	}
	w.keyID = k.ID
	w.device, err = app.services.Devices.CreateEmulated(ctx, w.admin, w.project.ID, domain.EmulatedInput{Type: domain.DeviceTemperature})
	if err != nil {
		t.Fatal(err)
	}
	w.member = app.addUser("target@example.com", w.project.ID, domain.RoleProjectUser, "")
	app.addOrg("Elsewhere", "outsider@example.com")
	app.addUser("user@example.com", w.project.ID, domain.RoleProjectUser, "")
	app.addUser("developer@example.com", w.project.ID, domain.RoleProjectDev, "")
	app.addUser("padmin@example.com", w.project.ID, domain.RoleProjectAdmin, "")
	w.orgAdmin = app.addUser("orgadmin@example.com", "", "", app.org.ID)
	hash, _ := domain.NewHasher(1).Hash(ctx, adminPassword)
	staff := domain.User{Email: "staff@example.com", DisplayName: "Staff", PasswordHash: hash, Staff: true, CreateTime: app.clock.Now()}
	if err := app.store.Update(ctx, func(tx domain.Tx) error { return tx.CreateUser(ctx, &staff) }); err != nil {
		t.Fatal(err)
	}
	app.giveTOTP(staff.Email) // support staff always need a second factor
	for role, email := range map[string]string{"outsider": "outsider@example.com", "user": "user@example.com", "developer": "developer@example.com",
		"project admin": "padmin@example.com", "org admin": "orgadmin@example.com", "staff": "staff@example.com"} {
		w.people[role] = app.signedIn(email)
	}
	w.people["nobody"] = app.client()
	w.people["nobody"].get("/signin") // a CSRF token, so only the missing session counts
	return w
}

// path fills a route's parameters with the fixture's ids.
func (w *sweepWorld) path(route string) string {
	if strings.Contains(route, "/admins/:member") {
		route = strings.Replace(route, ":member", itoa(w.orgAdmin.ID), 1)
	}
	r := strings.NewReplacer(":org", w.app.org.ID, ":project", w.project.ID, ":sa", w.sa.ID, ":key", w.keyID, ":device", w.device.ID,
		":member", itoa(w.member.ID), ":token", strings.Repeat("ab", 32), ":role", "project.user", "*", "no-such-thing")
	return r.Replace(route)
}

// outcome classifies a console response.
func consoleOutcome(r response) rune {
	switch {
	case r.status == http.StatusSeeOther && strings.HasPrefix(r.header.Get("Location"), "/signin"):
		return signin
	case r.status == http.StatusUnauthorized:
		return unauth
	case r.status == http.StatusForbidden:
		return deny
	case r.status == http.StatusNotFound:
		return hidden
	case r.status < 500:
		return allow
	}
	return '!'
}

func routeKeys(t *testing.T, app *testApp, api bool) []string {
	var keys []string
	seen := map[string]bool{}
	for _, r := range app.echo.Routes() {
		key := r.Method + " " + strings.ReplaceAll(r.Path, "\\:", ":")
		if r.Method == "echo_route_any" || strings.HasSuffix(key, "/v2/*") {
			key = "* " + strings.ReplaceAll(r.Path, "\\:", ":")
		}
		isAPI := strings.HasPrefix(r.Path, "/v2") || strings.HasPrefix(r.Path, "/emulator/v2")
		if seen[key] || notSwept[key] || isAPI != api || r.Method == "echo_route_not_found" {
			continue
		}
		seen[key] = true
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}

// TestConsoleAuthorizationSweep tries every console route of the router as
// every role and compares with consoleExpect. Forms are sent empty, so an
// allowed write fails validation and changes nothing; a refused one must
// be refused whatever the input.
func TestConsoleAuthorizationSweep(t *testing.T) {
	w := newSweepWorld(t)
	keys := routeKeys(t, w.app, false)
	tried := 0
	for _, key := range keys {
		want, ok := consoleExpect[key]
		if !ok {
			t.Errorf("route %s has no entry in the expected permission table", key)
			continue
		}
		method, route, _ := strings.Cut(key, " ")
		for i, role := range consoleRoles {
			c := w.people[role]
			if key == "POST /signout" && role != "nobody" {
				c = w.app.signedIn(map[string]string{"outsider": "outsider@example.com", "user": "user@example.com",
					"developer": "developer@example.com", "project admin": "padmin@example.com",
					"org admin": "orgadmin@example.com", "staff": "staff@example.com"}[role])
			}
			form := url.Values{}
			if key == "POST /signin" {
				// One address, several made-up emails: the per-email throttle stays out of it.
				form.Set("email", strings.ReplaceAll(role, " ", "-")+"@nowhere.example")
			}
			var r response
			if method == http.MethodGet {
				r = c.get(w.path(route))
			} else {
				r = c.post(w.path(route), form)
			}
			tried++
			if got := consoleOutcome(r); got != rune(want[i]) {
				t.Errorf("%s as %s: %c (status %d), want %c", key, role, got, r.status, want[i])
			}
		}
	}
	for key := range consoleExpect {
		if !contains(keys, key) {
			t.Errorf("the expected table names %s, which the router does not have", key)
		}
	}
	t.Logf("console sweep: %d routes × %d roles = %d requests", len(keys), len(consoleRoles), tried)
	// Nothing an empty form can do changed the fixture.
	ctx := context.Background()
	if _, err := w.app.store.ServiceAccountByID(ctx, w.sa.ID); err != nil {
		t.Error("the swept service account is gone")
	}
	if _, err := w.app.store.ProjectByID(ctx, w.project.ID); err != nil {
		t.Error("the swept project is gone")
	}
}

// TestCSRFSweep sends every unsafe console route without a token (and
// without Sec-Fetch-Site) as a signed-in admin: each is refused with 403
// and nothing changes.
func TestCSRFSweep(t *testing.T) {
	w := newSweepWorld(t)
	admin := w.app.signedIn(adminEmail)
	before := len(w.app.auditActions(w.app.org.ID))
	n := 0
	for _, key := range routeKeys(t, w.app, false) {
		method, route, _ := strings.Cut(key, " ")
		if method == http.MethodGet {
			continue
		}
		for name, token := range map[string]string{"missing": "", "wrong": strings.Repeat("0", 64)} {
			r := admin.post(w.path(route), url.Values{"_csrf": {token}, "displayName": {"CSRF"}, "confirm": {"yes"},
				"reason": {"cross-site request"}, "role": {string(domain.RoleProjectAdmin)}, "enable": {"true"}})
			n++
			if r.status != http.StatusForbidden {
				t.Errorf("%s with a %s token: status %d, want 403", key, name, r.status)
			}
		}
	}
	if after := len(w.app.auditActions(w.app.org.ID)); after != before {
		t.Fatalf("refused requests wrote %d audit entries", after-before)
	}
	t.Logf("CSRF sweep: %d unsafe requests refused", n)
}

// TestAPIAuthorizationSweep tries every API route of the router as every
// caller. Writes that succeed act on objects made for the request, so the
// fixture stays for the next one.
func TestAPIAuthorizationSweep(t *testing.T) {
	w := newSweepWorld(t)
	ctx := context.Background()
	callers := map[string]string{} // role → Authorization header
	other, _ := w.app.store.ListOrganizations(ctx, domain.AccountRef{}, domain.Cursor{}, 10)
	var elsewhere domain.Organization
	for _, o := range other {
		if o.DisplayName == "Elsewhere" {
			elsewhere = o
		}
	}
	elsewhereProject := w.app.addProject(elsewhere.ID, "Far")
	for role, grant := range map[string]func(sa domain.ServiceAccount) domain.Membership{
		"outsider": func(sa domain.ServiceAccount) domain.Membership {
			return domain.Membership{OrganizationID: elsewhere.ID, Account: sa.Ref(), Role: domain.RoleOrgAdmin}
		},
		"user": func(sa domain.ServiceAccount) domain.Membership {
			return domain.Membership{OrganizationID: w.app.org.ID, ProjectID: w.project.ID, Account: sa.Ref(), Role: domain.RoleProjectUser}
		},
		"developer": func(sa domain.ServiceAccount) domain.Membership {
			return domain.Membership{OrganizationID: w.app.org.ID, ProjectID: w.project.ID, Account: sa.Ref(), Role: domain.RoleProjectDev}
		},
		"project admin": func(sa domain.ServiceAccount) domain.Membership {
			return domain.Membership{OrganizationID: w.app.org.ID, ProjectID: w.project.ID, Account: sa.Ref(), Role: domain.RoleProjectAdmin}
		},
		"org admin": func(sa domain.ServiceAccount) domain.Membership {
			return domain.Membership{OrganizationID: w.app.org.ID, Account: sa.Ref(), Role: domain.RoleOrgAdmin}
		},
	} {
		owner := w.project
		if role == "outsider" {
			owner = elsewhereProject
		}
		now := w.app.clock.Now()
		sa := domain.ServiceAccount{ID: domain.NewID(now), ProjectID: owner.ID, DisplayName: "Caller " + role, EnableBasicAuth: true, CreateTime: now, UpdateTime: now}
		sa.Email = domain.ServiceAccountEmail(sa.ID, owner.ID, "d21s.com")
		secret := domain.NewKeySecret()
		k := domain.Key{ID: domain.NewID(now), ServiceAccountID: sa.ID, CreateTime: now}
		k.Sealed = w.sealer.Seal([]byte(secret), []byte(k.ID))
		m := grant(sa)
		m.Status = domain.StatusAccepted
		err := w.app.store.Update(ctx, func(tx domain.Tx) error {
			if err := tx.CreateServiceAccount(ctx, sa); err != nil {
				return err
			}
			if err := tx.CreateKey(ctx, k); err != nil {
				return err
			}
			return tx.CreateMembership(ctx, &m)
		})
		if err != nil {
			t.Fatal(err)
		}
		callers[role] = "Basic " + basicCredentials(k.ID, secret)
	}
	keys := routeKeys(t, w.app, true)
	tried := 0
	for _, key := range keys {
		want, ok := apiExpect[key]
		if !ok {
			t.Errorf("route %s has no entry in the expected permission table", key)
			continue
		}
		method, route, _ := strings.Cut(key, " ")
		if method == "*" {
			method = http.MethodGet
		}
		for i, role := range apiRoles {
			path, body := w.apiRequest(t, route)
			if method == http.MethodPost {
				path, body = w.apiActionRequest(route, path, body)
			}
			req, _ := http.NewRequest(method, w.app.srv.URL+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if role != "nobody" {
				req.Header.Set("Authorization", callers[role])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			// Read to the end: a body cut short by the client fails the
			// OpenAPI check of the response (the document is large).
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			tried++
			got := map[int]rune{200: allow, 400: allow, 409: allow, 401: unauth, 403: deny, 404: hidden}[resp.StatusCode]
			if got != rune(want[i]) {
				t.Errorf("%s %s as %s: status %d, want %c", method, path, role, resp.StatusCode, want[i])
			}
		}
	}
	for key := range apiExpect {
		if !contains(keys, key) {
			t.Errorf("the expected table names %s, which the router does not have", key)
		}
	}
	t.Logf("API sweep: %d routes × %d callers = %d requests", len(keys), len(apiRoles), tried)
}

// apiRequest fills a route and gives a valid body; a route that deletes
// acts on an object made for this one request.
func (w *sweepWorld) apiRequest(t *testing.T, route string) (string, string) {
	ctx := context.Background()
	path := strings.Replace(w.path(route), "/v2/projects/-/members:batch", "/v2/projects/-/members:batch", 1)
	fresh := func() domain.ServiceAccount { return w.app.addServiceAccount(w.project, "Disposable") }
	switch route {
	case "/v2/organizations/:org/members/:member":
		sa := fresh()
		m := domain.Membership{OrganizationID: w.app.org.ID, Account: sa.Ref(), Role: domain.RoleOrgAdmin, Status: domain.StatusAccepted}
		w.app.store.Update(ctx, func(tx domain.Tx) error { return tx.CreateMembership(ctx, &m) })
		path = "/v2/organizations/" + w.app.org.ID + "/members/" + sa.ID
	case "/v2/projects/:project/members/:member":
		sa := fresh()
		m := domain.Membership{OrganizationID: w.app.org.ID, ProjectID: w.project.ID, Account: sa.Ref(), Role: domain.RoleProjectUser, Status: domain.StatusAccepted}
		w.app.store.Update(ctx, func(tx domain.Tx) error { return tx.CreateMembership(ctx, &m) })
		path = "/v2/projects/" + w.project.ID + "/members/" + sa.ID
		return path, `{"roles":["roles/project.developer"]}`
	case "/v2/projects/:project/serviceaccounts/:sa":
		path = "/v2/projects/" + w.project.ID + "/serviceaccounts/" + fresh().ID
		return path, `{"displayName":"Renamed"}`
	case "/v2/projects/:project/serviceaccounts/:sa/keys/:key":
		sa := fresh()
		k, _, _ := w.svc.CreateKey(ctx, w.admin, w.project.ID, sa.ID)
		path = "/v2/projects/" + w.project.ID + "/serviceaccounts/" + sa.ID + "/keys/" + k.ID
	case "/v2/organizations/:org/members":
		return path, fmt.Sprintf(`{"roles":["roles/organization.admin"],"email":"%s"}`, fresh().Email)
	case "/v2/projects":
		return path, fmt.Sprintf(`{"organization":"organizations/%s","displayName":"Swept too"}`, w.app.org.ID)
	case "/v2/projects:batchUpdate":
		return path, fmt.Sprintf(`{"projects":["projects/%s"],"addLabels":{"swept":"yes"}}`, w.project.ID)
	case "/v2/projects/:project":
		return path, `{"displayName":"Swept"}`
	case "/v2/projects/:project/members":
		return path, fmt.Sprintf(`{"roles":["roles/project.user"],"email":"%s"}`, fresh().Email)
	case "/v2/projects/-/members:batchCreate":
		return path, fmt.Sprintf(`{"members":[{"project":"projects/%s","email":"%s","roles":["roles/project.user"]}]}`, w.project.ID, fresh().Email)
	case "/v2/projects/-/members:batchDelete":
		sa := fresh()
		m := domain.Membership{OrganizationID: w.app.org.ID, ProjectID: w.project.ID, Account: sa.Ref(), Role: domain.RoleProjectUser, Status: domain.StatusAccepted}
		w.app.store.Update(ctx, func(tx domain.Tx) error { return tx.CreateMembership(ctx, &m) })
		return path, fmt.Sprintf(`{"names":["projects/%s/members/%s"]}`, w.project.ID, sa.ID)
	case "/v2/projects/:project/serviceaccounts/:sa/keys", "/v2/projects/:project/serviceaccounts":
		return path, `{}`
	case "/v2/projects/:project/devices:batchUpdate":
		return path, fmt.Sprintf(`{"devices":["projects/%s/devices/%s"],"addLabels":{"swept":"yes"}}`, w.project.ID, w.device.ID)
	case "/v2/projects/:project/devices:transfer":
		// Into its own project: allowed, and it stays where it is.
		return path, fmt.Sprintf(`{"devices":["projects/%s/devices/%s"]}`, w.project.ID, w.device.ID)
	case "/emulator/v2/projects/:project/devices":
		return path, `{"type":"touch","labels":{}}`
	case "/emulator/v2/projects/:project/devices/:device":
		// GET reads the fixture's device; PUT, DELETE and :publish act on one made for the request.
		d, err := w.app.services.Devices.CreateEmulated(ctx, w.admin, w.project.ID, domain.EmulatedInput{Type: domain.DeviceTouch})
		if err != nil {
			t.Fatal(err)
		}
		return "/emulator/v2/projects/" + w.project.ID + "/devices/" + d.ID, `{"type":"touch","labels":{"swept":"yes"}}`
	}
	return path, ""
}

func basicCredentials(keyID, secret string) string {
	return base64Std(keyID + ":" + secret)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
