package web_test

// Browser tests of the service account pages: creating an account, its role,
// Basic Auth, the one-time key secret (shown once, never again: not after a
// reload, not from the history), deleting keys behind hx-confirm, renaming
// inline and deleting the account behind a typed confirmation. They reuse the
// helpers of browser_test.go; the helpers here carry a browserSA prefix.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"studio/domain"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"
)

// browserSAServerKey is the key newApp seals key secrets with (app_test.go),
// so the test can check that the stored key opens to the secret shown.
const browserSAServerKey = "an AES-256 key of 32 bytes......"

var browserSASecretRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// browserSAInventory is the first organization's inventory project.
func browserSAInventory(t *testing.T, app *testApp) domain.Project {
	t.Helper()
	for _, p := range browserProjects(t, app) {
		if p.Inventory {
			return p
		}
	}
	t.Fatal("the first organization has no inventory project")
	return domain.Project{}
}

func browserSAURL(projectID, saID string) string {
	return "/projects/" + projectID + "/serviceaccounts/" + saID
}

func browserSARef(saID string) domain.AccountRef {
	return domain.AccountRef{Type: domain.AccountServiceAccount, ID: saID}
}

// browserSACreate makes an account through the console's plain form and returns its id.
func browserSACreate(t *testing.T, c *client, projectID, name string) string {
	t.Helper()
	list := "/projects/" + projectID + "/serviceaccounts"
	r := c.post(list, url.Values{"displayName": {name}})
	loc := r.header.Get("Location")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(loc, list+"/") {
		t.Fatalf("create service account %q: status %d, Location %q", name, r.status, loc)
	}
	return strings.TrimPrefix(loc, list+"/")
}

// browserSASetRole gives the account a role in its project through the plain form.
func browserSASetRole(t *testing.T, c *client, projectID, saID string, role domain.Role) {
	t.Helper()
	r := c.post(browserSAURL(projectID, saID)+"/role", url.Values{"role": {string(role)}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("set role %s: status %d", role, r.status)
	}
}

// browserSACreateKey makes a key through the plain form (or, with htmx, as
// the page's button does) and returns the response and the secret it shows.
func browserSACreateKey(t *testing.T, c *client, projectID, saID string, htmx bool) (response, string) {
	t.Helper()
	if c.csrf == "" {
		c.get(browserSAURL(projectID, saID))
	}
	form := url.Values{"_csrf": {c.csrf}}
	req, _ := http.NewRequest(http.MethodPost, c.app.srv.URL+browserSAURL(projectID, saID)+"/keys", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if htmx {
		req.Header.Set("HX-Request", "true")
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	r := c.do(req)
	if r.status != http.StatusOK {
		t.Fatalf("create key (htmx %v): status %d", htmx, r.status)
	}
	secret := strings.TrimSpace(r.doc.Find("[data-testid=new-key-secret]").Text())
	if !browserSASecretRE.MatchString(secret) {
		t.Fatalf("create key (htmx %v): secret %q is not 32 lowercase hex characters", htmx, secret)
	}
	return r, secret
}

// browserSAKeys lists the account's keys straight from the database.
func browserSAKeys(t *testing.T, app *testApp, saID string) []domain.Key {
	t.Helper()
	keys, err := app.store.ListKeys(context.Background(), saID, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// browserSAOpenSecret opens a stored key's sealed secret with the server key.
func browserSAOpenSecret(t *testing.T, k domain.Key) string {
	t.Helper()
	s, err := domain.NewSealer([]byte(browserSAServerKey))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Open(k.Sealed, []byte(k.ID))
	if err != nil {
		t.Fatalf("the stored key %s does not open with the server key: %v", k.ID, err)
	}
	return string(b)
}

// browserSAResponses records the headers of the responses whose URL ends with suffix.
type browserSAResponses struct {
	mu      sync.Mutex
	headers []map[string]string
}

func (r *browserSAResponses) list() []map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]string(nil), r.headers...)
}

func browserSAWatchResponses(bp *browserPage, suffix string) *browserSAResponses {
	bp.t.Helper()
	rec := &browserSAResponses{}
	if err := (proto.NetworkEnable{}).Call(bp.page); err != nil {
		bp.fatal("enable network domain: %v", err)
	}
	wait := bp.page.EachEvent(func(e *proto.NetworkResponseReceived) {
		if !strings.HasSuffix(e.Response.URL, suffix) {
			return
		}
		h := map[string]string{"status": itoa(int64(e.Response.Status))}
		for k, v := range e.Response.Headers {
			h[strings.ToLower(k)] = v.Str()
		}
		rec.mu.Lock()
		rec.headers = append(rec.headers, h)
		rec.mu.Unlock()
	})
	go wait()
	return rec
}

// browserSAHTML is the whole document as the browser holds it now.
func browserSAHTML(bp *browserPage) string {
	bp.t.Helper()
	html, err := bp.page.Timeout(browserWaitBudget).HTML()
	if err != nil {
		bp.fatal("read the page's HTML: %v", err)
	}
	return html
}

// browserSAStorage is everything the page keeps in session and local storage
// (htmx's history snapshots land there when its cache is on).
func browserSAStorage(bp *browserPage) string {
	bp.t.Helper()
	return bp.eval(`() => JSON.stringify(sessionStorage) + JSON.stringify(localStorage)`).Value.Str()
}

// browserSAConfirm clicks sel, which asks in the console's confirm dialog
// (hx-confirm), answers it and returns the question asked.
func browserSAConfirm(bp *browserPage, sel string, accept bool) string {
	bp.t.Helper()
	return bp.confirmDialog(sel, accept)
}

// browserSACredentials is the credentials file of the API contract.
type browserSACredentials struct {
	ServiceAccount struct {
		KeyID         string `json:"keyId"`
		Secret        string `json:"secret"`
		Email         string `json:"email"`
		Algorithm     string `json:"algorithm"`
		TokenEndpoint string `json:"tokenEndpoint"`
	} `json:"serviceAccount"`
}

func TestBrowserServiceAccountKeyFlow(t *testing.T) {
	browserRequire(t)
	ctx := context.Background()
	app := newApp(t)
	inv := browserSAInventory(t, app)
	bp := browserOpen(t, app)
	keysWatch := browserSAWatchResponses(bp, "/keys")

	bp.signIn(false)
	bp.openOrg()
	bp.clickText("[data-testid=project-link]", "Inventory")
	bp.waitPath(`^/projects/` + regexp.QuoteMeta(inv.ID) + `$`)
	bp.click("[data-testid=menu-serviceaccounts]")
	listPath := "/projects/" + inv.ID + "/serviceaccounts"
	bp.waitPath(`^` + regexp.QuoteMeta(listPath) + `$`)
	bp.waitText("h1", "Service Accounts")
	bp.waitText("[data-testid=no-sas]", "no service accounts yet")

	// Create the account: its page opens.
	bp.typeInto("[data-testid=new-sa-name]", "Weather station")
	bp.click("[data-testid=create-sa]")
	bp.waitPath(`^` + regexp.QuoteMeta(listPath) + `/[^/]+$`)
	bp.waitFlash("created")
	bp.waitText("[data-testid=sa-email]", "@")
	saPath := bp.eval(`() => location.pathname`).Value.Str()
	saID := strings.TrimPrefix(saPath, listPath+"/")
	if !domain.ValidID(saID) {
		bp.fatal("account page path %q does not end with a valid id", saPath)
	}
	email := bp.text("[data-testid=sa-email]")
	if re := `^` + regexp.QuoteMeta(saID) + `@` + regexp.QuoteMeta(inv.ID) + `\.serviceaccount\.d21s\.com$`; !regexp.MustCompile(re).MatchString(email) {
		bp.fatal("account email %q does not match %s", email, re)
	}
	if got := bp.text("[data-testid=sa-id]"); got != saID {
		bp.fatal("account page shows id %q, the URL has %q", got, saID)
	}
	if got := bp.value("[data-testid=sa-name-input]"); got != "Weather station" {
		bp.fatal("name field = %q, want Weather station", got)
	}
	sa, err := app.store.ServiceAccountByID(ctx, saID)
	if err != nil {
		t.Fatalf("created account %s not in the database: %v", saID, err)
	}
	if sa.DisplayName != "Weather station" || sa.ProjectID != inv.ID || sa.Email != email || sa.EnableBasicAuth {
		t.Fatalf("database account = %+v, want Weather station in %s with email %s and Basic Auth off", sa, inv.ID, email)
	}
	if got := bp.value("[data-testid=role-select]"); got != "" {
		bp.fatal("a new account's role = %q, want No access", got)
	}

	// Role: chosen in the select, saved with its button.
	if err := bp.element("[data-testid=role-select]").Select([]string{"Project developer"}, true, rod.SelectorTypeText); err != nil {
		bp.fatal("select Project developer: %v", err)
	}
	bp.click("[data-testid=role-save]")
	bp.waitFlash("Project developer")
	bp.waitJS("the swapped role select to hold Project developer", `() => {
		const s = document.querySelector("[data-testid=role-select]");
		return !!s && s.value === "roles/project.developer" && s.selectedOptions[0].textContent.trim() === "Project developer";
	}`)
	if got := bp.text("[data-testid=role-effect]"); !strings.Contains(got, "Allows editing devices") {
		bp.fatal("role effect = %q, want the developer role's description", got)
	}
	m, err := app.store.ProjectMembership(ctx, inv.ID, browserSARef(saID))
	if err != nil {
		t.Fatalf("no membership in the database after choosing a role: %v", err)
	}
	if m.Role != domain.RoleProjectDev || m.Status != domain.StatusAccepted {
		t.Fatalf("database membership role %q status %q, want %q accepted", m.Role, m.Status, domain.RoleProjectDev)
	}

	// Basic Auth: enable it.
	if got := bp.text("[data-testid=basic-toggle]"); got != "Enable Basic Auth" {
		bp.fatal("Basic Auth button = %q, want Enable Basic Auth", got)
	}
	bp.click("[data-testid=basic-toggle]")
	bp.waitJS("Basic Auth to say on", `() => {
		const s = document.querySelector("[data-testid=basic-state] strong");
		return !!s && s.textContent.trim() === "on";
	}`)
	bp.waitFlash("Basic Auth is on")
	if got := bp.text("[data-testid=basic-toggle]"); got != "Disable Basic Auth" {
		bp.fatal("Basic Auth button after enabling = %q, want Disable Basic Auth", got)
	}
	if sa, err = app.store.ServiceAccountByID(ctx, saID); err != nil || !sa.EnableBasicAuth {
		t.Fatalf("database EnableBasicAuth = %v (err %v), want true", sa.EnableBasicAuth, err)
	}

	// Create a key: the dialog shows the secret once.
	bp.waitText("[data-testid=no-keys]", "No keys yet")
	bp.click("[data-testid=create-key]")
	bp.waitText("#secret-title", "New key created")
	secret := bp.text("[data-testid=new-key-secret]")
	keyID := bp.text("[data-testid=new-key-id]")
	if !browserSASecretRE.MatchString(secret) {
		bp.fatal("secret %q is not 32 lowercase hex characters", secret)
	}
	if !domain.ValidID(keyID) {
		bp.fatal("key id %q is not a valid id", keyID)
	}
	if got := bp.text("[data-testid=new-key-email]"); got != email {
		bp.fatal("dialog email = %q, want %q", got, email)
	}
	if got := bp.text("[data-testid=secret-warning]"); !strings.Contains(got, "only this once") {
		bp.fatal("secret warning = %q", got)
	}
	if got := bp.eval(`() => document.querySelector("[data-testid=secret-dialog]").getAttribute("hx-history")`).Value.Str(); got != "false" {
		bp.fatal("secret dialog hx-history = %q, want false", got)
	}
	if got := bp.eval(`() => location.href`).Value.Str(); strings.Contains(got, secret) || !strings.HasSuffix(got, saPath) {
		bp.fatal("address after creating the key = %q, want the account page without the secret", got)
	}
	bp.waitText("[data-testid=key-row]", keyID)

	// The credentials file: a data: URL of base64 JSON with the same values.
	dl := bp.element("[data-testid=download-credentials]")
	href := bp.eval(`() => document.querySelector("[data-testid=download-credentials]").getAttribute("href")`).Value.Str()
	if name, err := dl.Attribute("download"); err != nil || name == nil || *name != "credentials-"+keyID+".json" {
		bp.fatal("download attribute = %v (err %v), want credentials-%s.json", name, err, keyID)
	}
	const dataPrefix = "data:application/json;base64,"
	if !strings.HasPrefix(href, dataPrefix) {
		bp.fatal("download href = %.60q…, want a %s URL", href, dataPrefix)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(href, dataPrefix))
	if err != nil {
		t.Fatalf("credentials are not base64: %v", err)
	}
	var creds browserSACredentials
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&creds); err != nil {
		t.Fatalf("credentials JSON %s: %v", raw, err)
	}
	cs := creds.ServiceAccount
	if cs.KeyID != keyID || cs.Secret != secret || cs.Email != email || cs.Algorithm != "HS256" || !strings.HasSuffix(cs.TokenEndpoint, "/oauth2/token") {
		t.Fatalf("credentials = %+v, want key %s, the secret shown, %s, HS256 and a token endpoint ending in /oauth2/token", cs, keyID, email)
	}
	bp.screenshot("sa-secret")

	// The database holds the key sealed: it opens to the secret shown, and the secret is not stored in clear.
	keys := browserSAKeys(t, app, saID)
	if len(keys) != 1 || keys[0].ID != keyID {
		t.Fatalf("database keys = %+v, want just %s", keys, keyID)
	}
	if k, err := app.store.KeyByID(ctx, keyID); err != nil || k.ServiceAccountID != saID {
		t.Fatalf("KeyByID(%s) = %+v, %v", keyID, k, err)
	}
	if bytes.Contains(keys[0].Sealed, []byte(secret)) {
		t.Fatal("the database stores the secret in clear")
	}
	if got := browserSAOpenSecret(t, keys[0]); got != secret {
		t.Fatalf("the stored key opens to %q, the dialog showed %q", got, secret)
	}

	// The browser's key creation response is not cacheable.
	var seen []map[string]string
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if seen = keysWatch.list(); len(seen) > 0 {
			break
		}
	}
	if len(seen) != 1 {
		t.Fatalf("saw %d responses of the key creation, want 1", len(seen))
	}
	if cc := seen[0]["cache-control"]; !strings.Contains(cc, "no-store") || seen[0]["status"] != "200" {
		t.Fatalf("key creation response: status %s, Cache-Control %q, want 200 with no-store", seen[0]["status"], cc)
	}

	// Leaving the page with a full navigation and coming Back must not bring
	// the secret back (the back/forward cache keeps whole live pages).
	bp.eval(`() => { window.__saAccountDoc = 1 }`)
	bp.visit(listPath)
	bp.waitText("[data-testid=sa-row]", "Weather station")
	if got := bp.text("[data-testid=sa-keys]"); got != "1" {
		bp.fatal("list shows %q keys, want 1", got)
	}
	if got := bp.text("[data-testid=sa-basic]"); got != "On" {
		bp.fatal("list shows Basic Auth %q, want On", got)
	}
	bp.screenshot("sa-list")
	bp.eval(`() => { window.__saLeft = 1 }`)
	if err := bp.page.NavigateBack(); err != nil {
		bp.fatal("history back: %v", err)
	}
	bp.waitJS("the account page to come back", `() => !window.__saLeft && document.readyState === "complete" && !!document.querySelector("[data-testid=sa-email]")`)
	if strings.Contains(browserSAHTML(bp), secret) || strings.Contains(browserSAStorage(bp), secret) {
		bp.screenshot("sa-secret-after-back")
		t.Errorf("BUG: after leaving the account page (full navigation) and pressing Back, the page still holds the key's secret "+
			"(dialog shown: %v; the same live document restored from the back/forward cache: %v)",
			bp.eval(`() => !!document.querySelector("[data-testid=secret-dialog]")`).Value.Bool(),
			bp.eval(`() => window.__saAccountDoc === 1`).Value.Bool())
	}

	// A reload shows the key, never the secret.
	if err := bp.page.Timeout(browserWaitBudget).Reload(); err != nil {
		bp.fatal("reload: %v", err)
	}
	if err := bp.page.Timeout(browserWaitBudget).WaitLoad(); err != nil {
		bp.fatal("load after reload: %v", err)
	}
	bp.waitText("[data-testid=key-row]", keyID)
	if html := browserSAHTML(bp); strings.Contains(html, secret) {
		bp.fatal("after a reload the page's HTML contains the secret")
	}
	if bp.eval(`() => !!document.querySelector("[data-testid=secret-dialog]")`).Value.Bool() {
		bp.fatal("after a reload the secret dialog shows again")
	}
	if got := bp.eval(`() => document.querySelectorAll("[data-testid=key-row]").length`).Value.Int(); got != 1 {
		bp.fatal("after a reload %d key rows are listed, want 1", got)
	}
	if got := bp.value("[data-testid=role-select]"); got != string(domain.RoleProjectDev) {
		bp.fatal("after a reload the role select = %q, want the developer role", got)
	}
	bp.screenshot("sa-account")

	// A second key, closed with "I have saved it": Back must not restore a
	// snapshot holding the secret (htmx keeps history in sessionStorage).
	bp.eval(`() => {
		window.__saSameDocument = 1;
		window.__saHistory = [];
		for (const ev of ["htmx:historyRestore", "htmx:historyCacheHit", "htmx:historyCacheMiss"]) {
			document.addEventListener(ev, () => window.__saHistory.push(ev));
		}
	}`)
	bp.click("[data-testid=create-key]")
	bp.waitText("#secret-title", "New key created")
	secret2 := bp.text("[data-testid=new-key-secret]")
	keyID2 := bp.text("[data-testid=new-key-id]")
	if !browserSASecretRE.MatchString(secret2) || secret2 == secret || keyID2 == keyID {
		bp.fatal("second key %q secret %q: want a new id and a new 32-hex secret", keyID2, secret2)
	}
	bp.click("[data-testid=secret-done]")
	bp.waitJS("the dialog to close", `() => !document.querySelector("[data-testid=secret-dialog]") && !!document.querySelector("[data-testid=sa-email]")`)
	if strings.Contains(browserSAHTML(bp), secret2) {
		bp.fatal("after \"I have saved it\" the page still holds the secret")
	}
	if err := bp.page.NavigateBack(); err != nil {
		bp.fatal("history back: %v", err)
	}
	bp.waitJS("the previous page to be restored", `() => (window.__saSameDocument !== 1 || window.__saHistory.length > 0) &&
		document.readyState === "complete" && !!document.querySelector("main")`)
	if html := browserSAHTML(bp); strings.Contains(html, secret2) || strings.Contains(html, secret) {
		bp.fatal("after Back the page holds a key secret (history events %v)", bp.eval(`() => window.__saHistory || "new document"`).Value)
	}
	if st := browserSAStorage(bp); strings.Contains(st, secret2) || strings.Contains(st, secret) {
		bp.fatal("session or local storage holds a key secret")
	}

	// Delete the keys: hx-confirm asks first; cancelling keeps the key.
	bp.visit(saPath)
	bp.waitJS("two key rows", `() => document.querySelectorAll("[data-testid=key-row]").length === 2`)
	bp.eval(`() => { window.__saSameDocument = 1 }`)
	first := bp.text("[data-testid=key-row] [data-testid=key-id]")
	if first != keyID && first != keyID2 {
		bp.fatal("first key row shows %q, want %s or %s", first, keyID, keyID2)
	}
	// Delete waits in the row's menu.
	bp.click("[data-testid=key-row] [data-testid=key-menu-button]")
	q := browserSAConfirm(bp, "[data-testid=key-row] [data-testid=delete-key]", false)
	if !strings.Contains(q, first) {
		bp.fatal("confirm question %q does not name the key %s", q, first)
	}
	time.Sleep(300 * time.Millisecond)
	if got := len(browserSAKeys(t, app, saID)); got != 2 {
		t.Fatalf("after cancelling the confirm the database has %d keys, want 2", got)
	}
	if got := bp.eval(`() => document.querySelectorAll("[data-testid=key-row]").length`).Value.Int(); got != 2 {
		bp.fatal("after cancelling the confirm %d key rows are listed, want 2", got)
	}
	for left := 1; left >= 0; left-- {
		id := bp.text("[data-testid=key-row] [data-testid=key-id]")
		bp.click("[data-testid=key-row] [data-testid=key-menu-button]")
		q := browserSAConfirm(bp, "[data-testid=key-row] [data-testid=delete-key]", true)
		if !strings.Contains(q, id) {
			bp.fatal("confirm question %q does not name the key %s", q, id)
		}
		bp.waitFlash("Key " + id + " deleted")
		bp.waitJS("the key row to go", `(id, left) => {
			const rows = [...document.querySelectorAll("[data-testid=key-row]")];
			return rows.length === left && !rows.some(r => r.textContent.includes(id));
		}`, id, left)
	}
	bp.waitText("[data-testid=no-keys]", "No keys yet")
	if bp.eval(`() => window.__saSameDocument`).Value.Int() != 1 {
		bp.fatal("deleting a key reloaded the page instead of swapping the key list")
	}
	if keys := browserSAKeys(t, app, saID); len(keys) != 0 {
		t.Fatalf("database still has %d keys after deleting them", len(keys))
	}
	for _, id := range []string{keyID, keyID2} {
		if _, err := app.store.KeyByID(ctx, id); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Fatalf("KeyByID(%s) after delete = %v, want not found", id, err)
		}
	}

	// The same creation from a plain client: both answers are no-store.
	c := app.signedIn(adminEmail)
	r, secret3 := browserSACreateKey(t, c, inv.ID, saID, false)
	r4, secret4 := browserSACreateKey(t, c, inv.ID, saID, true)
	for i, r := range []response{r, r4} {
		if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("key creation response %d: Cache-Control %q, want no-store", i, cc)
		}
	}

	// No secret in the logs, nor in the audit log.
	logs := app.logs.String()
	audit, err := app.store.ListAudit(ctx, domain.AuditFilter{}, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	auditJSON, _ := json.Marshal(audit)
	for _, s := range []string{secret, secret2, secret3, secret4} {
		if strings.Contains(logs, s) {
			t.Errorf("the server log contains a key secret")
		}
		if strings.Contains(string(auditJSON), s) {
			t.Errorf("the audit log contains a key secret")
		}
	}
}

func TestBrowserServiceAccountRenameInline(t *testing.T) {
	browserRequire(t)
	ctx := context.Background()
	app := newApp(t)
	inv := browserSAInventory(t, app)
	saID := browserSACreate(t, app.signedIn(adminEmail), inv.ID, "Weather station")
	bp := browserOpen(t, app)
	bp.signIn(false)

	saPath := browserSAURL(inv.ID, saID)
	bp.visit(saPath)
	bp.waitText("[data-testid=sa-id]", saID)
	bp.eval(`() => { window.__marker = 1 }`)

	bp.typeInto("[data-testid=sa-name-input]", "Rain gauge")
	bp.click("[data-testid=sa-name-save]")
	bp.waitFlash("Rain gauge")
	bp.waitJS("the name field to hold the new name", `() => {
		const e = document.querySelector("[data-testid=sa-name-input]");
		return !!e && e.value === "Rain gauge" && !document.querySelector("[data-testid=error-displayName]");
	}`)
	if bp.eval(`() => window.__marker`).Value.Int() != 1 {
		bp.fatal("renaming reloaded the page instead of swapping the name in place")
	}
	if got := bp.eval(`() => location.pathname`).Value.Str(); got != saPath {
		bp.fatal("address after renaming = %q, want %q", got, saPath)
	}
	if sa, err := app.store.ServiceAccountByID(ctx, saID); err != nil || sa.DisplayName != "Rain gauge" {
		t.Fatalf("database name after rename = %q (err %v), want Rain gauge", sa.DisplayName, err)
	}

	// Spaces only: an error beside the field, the typed value kept, nothing saved.
	bp.typeInto("[data-testid=sa-name-input]", "   ")
	bp.click("[data-testid=sa-name-save]")
	bp.waitText("[data-testid=error-displayName]", "Enter a name")
	if got := bp.value("[data-testid=sa-name-input]"); got != "   " {
		bp.fatal("name field after the error = %q, want the spaces typed", got)
	}
	if got := bp.eval(`() => document.querySelector("[data-testid=sa-name-input]").getAttribute("aria-invalid")`).Value.Str(); got != "true" {
		bp.fatal("name field aria-invalid = %q, want true", got)
	}
	if bp.eval(`() => window.__marker`).Value.Int() != 1 {
		bp.fatal("the failed rename reloaded the page instead of swapping the name form")
	}
	if got := bp.eval(`() => document.querySelectorAll("[data-testid=sa-name-input]").length`).Value.Int(); got != 1 {
		bp.fatal("%d name fields on the page after the error, want 1", got)
	}
	if sa, err := app.store.ServiceAccountByID(ctx, saID); err != nil || sa.DisplayName != "Rain gauge" {
		t.Fatalf("database name after the failed rename = %q (err %v), want Rain gauge", sa.DisplayName, err)
	}

	// The list shows the new name.
	bp.visit("/projects/" + inv.ID + "/serviceaccounts")
	bp.waitText("[data-testid=sa-link]", "Rain gauge")
}

func TestBrowserServiceAccountDeleteConfirmation(t *testing.T) {
	browserRequire(t)
	ctx := context.Background()
	app := newApp(t)
	inv := browserSAInventory(t, app)
	other := app.addProject(app.org.ID, "Greenhouse")
	c := app.signedIn(adminEmail)
	saID := browserSACreate(t, c, inv.ID, "Old uploader")
	keep := browserSACreate(t, c, inv.ID, "Keeper")
	browserSASetRole(t, c, inv.ID, saID, domain.RoleProjectUser)
	browserSACreateKey(t, c, inv.ID, saID, false)
	browserSACreateKey(t, c, inv.ID, saID, false)
	// A membership elsewhere goes with the account too.
	err := app.store.Update(ctx, func(tx domain.Tx) error {
		m := domain.Membership{OrganizationID: app.org.ID, ProjectID: other.ID, Account: browserSARef(saID),
			Role: domain.RoleProjectDev, Status: domain.StatusAccepted, CreateTime: app.clock.Now()}
		return tx.CreateMembership(ctx, &m)
	})
	if err != nil {
		t.Fatal(err)
	}

	bp := browserOpen(t, app)
	bp.signIn(false)
	saPath := browserSAURL(inv.ID, saID)
	bp.visit(saPath)
	bp.waitText("[data-testid=sa-id]", saID)
	bp.click("[data-testid=delete-sa-link]")
	bp.waitPath(`^` + regexp.QuoteMeta(saPath) + `/delete$`)
	bp.waitText("h1", "Delete Old uploader?")
	if got := bp.text("[data-testid=delete-keys-count]"); !strings.Contains(got, "2 key") {
		bp.fatal("key count = %q, want 2 keys", got)
	}
	var rows []string
	for _, r := range bp.eval(`() => [...document.querySelectorAll("[data-testid=membership-row]")].map(r =>
		[...r.querySelectorAll("td")].map(td => td.textContent.trim()).join(" | "))`).Value.Arr() {
		rows = append(rows, r.Str())
	}
	want := []string{"Acme | Greenhouse | Project developer", "Acme | Inventory | Project user"}
	if len(rows) != 2 || !(rows[0] == want[0] && rows[1] == want[1] || rows[0] == want[1] && rows[1] == want[0]) {
		bp.fatal("membership rows = %q, want %q", rows, want)
	}
	bp.screenshot("sa-delete")

	// The wrong name: an error, the typed text kept, nothing deleted.
	bp.typeInto("[data-testid=delete-confirm]", "old uploader")
	bp.click("[data-testid=delete-submit]")
	bp.waitText("[data-testid=error-confirm]", "name exactly")
	if got := bp.value("[data-testid=delete-confirm]"); got != "old uploader" {
		bp.fatal("confirm field after the error = %q, want what was typed", got)
	}
	if _, err := app.store.ServiceAccountByID(ctx, saID); err != nil {
		t.Fatalf("account deleted although the wrong name was typed: %v", err)
	}
	if got := len(browserSAKeys(t, app, saID)); got != 2 {
		t.Fatalf("after the wrong name the database has %d keys, want 2", got)
	}

	// The right name: back to the list with a flash; everything goes.
	bp.typeInto("[data-testid=delete-confirm]", "Old uploader")
	bp.click("[data-testid=delete-submit]")
	bp.waitPath(`^/projects/` + regexp.QuoteMeta(inv.ID) + `/serviceaccounts$`)
	bp.waitFlash("deleted")
	bp.waitText("[data-testid=sa-table]", "Keeper")
	if got := bp.text("[data-testid=sa-table]"); strings.Contains(got, "Old uploader") {
		bp.fatal("the list still shows the deleted account: %q", got)
	}
	if _, err := app.store.ServiceAccountByID(ctx, saID); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("after delete ServiceAccountByID = %v, want not found", err)
	}
	if n, err := app.store.CountKeys(ctx, saID); err != nil || n != 0 {
		t.Fatalf("after delete the database has %d keys (err %v), want 0", n, err)
	}
	if ms, err := app.store.AccountMemberships(ctx, browserSARef(saID), 10); err != nil || len(ms) != 0 {
		t.Fatalf("after delete the account still holds memberships %+v (err %v)", ms, err)
	}
	if _, err := app.store.ServiceAccountByID(ctx, keep); err != nil {
		t.Fatalf("the other account went too: %v", err)
	}
}
