package web_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"studio/domain"
	"studio/internal/jwtbearer"

	"github.com/pquerna/otp/totp"
)

// TestNoSecretLeaks runs a scenario that makes every kind of secret: key
// secrets (console and API), access tokens, passwords (right, wrong, new,
// invited), invite links, TOTP seeds, recovery codes, an identity
// provider's client secret and the values of a single sign-on (state,
// nonce, code, PKCE verifier). Then it greps the logs, the audit table, the
// database files and every page and API answer seen after each secret's one
// legitimate showing: none may appear anywhere.
func TestNoSecretLeaks(t *testing.T) {
	app := newApp(t)
	ctx := context.Background()
	inv := app.inventory()
	var seen []string // bodies of every response that must not hold a secret
	keep := func(r response) response { seen = append(seen, r.body); return r }
	secrets := map[string]string{"admin password": adminPassword}

	// Failed sign-ins with passwords that must not be logged.
	for _, pw := range []string{"wrong-password-one", "Wrong Password Two!"} {
		c := app.client()
		c.get("/signin")
		keep(c.post("/signin", url.Values{"email": {adminEmail}, "password": {pw}}))
		secrets["wrong password "+pw] = pw
	}
	admin := app.signedIn(adminEmail)

	// A key made in the console, and one through the API.
	sa := app.addServiceAccount(inv, "Leaky")
	keep(admin.get(saPath(sa)))
	admin.post(saPath(sa)+"/role", url.Values{"role": {string(domain.RoleProjectAdmin)}})
	admin.post(saPath(sa)+"/basicauth", url.Values{"enable": {"true"}})
	r := admin.post(saPath(sa)+"/keys", nil) // the one showing of this secret
	keyID, secret := r.doc.Find("[data-testid=new-key-id]").Text(), r.doc.Find("[data-testid=new-key-secret]").Text()
	secrets["console key secret"] = secret
	apiCall := func(method, path, auth, body string) (int, string) {
		req, _ := http.NewRequest(method, app.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b := new(strings.Builder)
		if _, err := io.Copy(b, resp.Body); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, b.String()
	}
	basic := "Basic " + base64Std(keyID+":"+secret)
	status, body := apiCall(http.MethodPost, "/v2/projects/"+inv.ID+"/serviceaccounts/"+sa.ID+"/keys", basic, "")
	var made struct{ Secret string }
	if status != http.StatusOK || json.Unmarshal([]byte(body), &made) != nil || made.Secret == "" {
		t.Fatalf("API key creation: %d %s", status, body)
	}
	secrets["API key secret"] = made.Secret
	// Wrong secrets over Basic Auth.
	apiCall(http.MethodGet, "/v2/projects", "Basic "+base64Std(keyID+":"+"0123456789abcdef0123456789abcdef"), "")
	secrets["wrong key secret"] = "0123456789abcdef0123456789abcdef"

	// A token exchange.
	assertion := jwtbearer.Assertion(keyID, secret, sa.Email, "http://studio.test/oauth2/token", app.clock.Now())
	resp, err := http.PostForm(app.srv.URL+"/oauth2/token", url.Values{"grant_type": {jwtbearer.GrantType}, "assertion": {assertion}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if tok.AccessToken == "" {
		t.Fatal("no access token")
	}
	secrets["access token"] = tok.AccessToken
	secrets["signed assertion"] = assertion
	_, listed := apiCall(http.MethodGet, "/v2/projects/"+inv.ID+"/serviceaccounts/"+sa.ID+"/keys", "Bearer "+tok.AccessToken, "")
	seen = append(seen, listed)

	// An invitation, accepted with a new password; and a password change.
	r = admin.post("/projects/"+inv.ID+"/members", url.Values{"email": {"newcomer@example.com"}, "role": {string(domain.RoleProjectUser)}})
	link := r.doc.Find("[data-copy]").First().AttrOr("data-copy", "")
	link = strings.TrimSpace(r.doc.Find(link).Text())
	if !strings.Contains(link, "/invite/") {
		t.Fatalf("no invite link on the page: %q", link)
	}
	token := link[strings.LastIndex(link, "/")+1:]
	secrets["invite token"] = token
	newcomer := app.client()
	path := "/invite/" + token
	newcomer.get(path) // the link's own page posts back to the link: the only other place it may be
	keep(newcomer.post(path, url.Values{"name": {"Newcomer"}, "password": {"fresh start passphrase 1"}, "confirm": {"fresh start passphrase 1"}}))
	secrets["newcomer password"] = "fresh start passphrase 1"
	keep(admin.post("/account/password", url.Values{"current": {adminPassword}, "new": {"second secret phrase two"}, "confirm": {"second secret phrase two"}}))
	secrets["new admin password"] = "second secret phrase two"

	// Second factors and single sign-on. The newcomer sets up an
	// authenticator app: the setup page shows the seed and the next page
	// the recovery codes, their one showing each.
	r = newcomer.post("/account/security/totp", nil)
	seed := strings.ReplaceAll(r.doc.Find("[data-testid=totp-secret]").Text(), " ", "")
	code, err := totp.GenerateCode(seed, app.clock.Now())
	if seed == "" || err != nil {
		t.Fatalf("no TOTP seed on the setup page: %v", err)
	}
	secrets["TOTP seed"] = seed
	secrets["TOTP seed as shown"] = groupFour(seed)
	secrets["the administrator's TOTP seed"] = app.factors.secrets[adminEmail]
	r = newcomer.post("/account/security/totp/confirm", url.Values{"code": {code}})
	var codes []string
	for _, n := range r.doc.Find("[data-testid=recovery-code]").Nodes {
		codes = append(codes, strings.TrimSpace(n.FirstChild.Data))
	}
	if len(codes) != domain.RecoveryCodeCount {
		t.Fatalf("%d recovery codes shown", len(codes))
	}
	for i, c := range codes {
		secrets[fmt.Sprintf("recovery code %d", i)] = c
		secrets[fmt.Sprintf("recovery code %d without its dash", i)] = strings.ReplaceAll(c, "-", "")
	}
	keep(newcomer.get("/account/security"))
	// The newcomer signs in with a recovery code (and a wrong one first).
	again := app.client()
	again.get("/signin")
	keep(again.post("/signin", url.Values{"email": {"newcomer@example.com"}, "password": {"fresh start passphrase 1"}}))
	keep(again.get("/signin/verify"))
	keep(again.post("/signin/verify", url.Values{"code": {"zzzzz-zzzzz"}}))
	keep(again.post("/signin/verify", url.Values{"code": {codes[3]}}))
	keep(again.get("/account/security"))
	// The organization connects its identity provider, and someone signs in through it.
	sso := &ssoWorld{app: app, idp: newTestIdP(t, app.clock.Now), admin: admin, inv: inv}
	secrets["SSO client secret"] = sso.idp.clientSecret
	if r := admin.post("/orgs/"+app.org.ID+"/security/sso", sso.connection(nil)); r.status != http.StatusSeeOther {
		t.Fatalf("connect the provider: status %d", r.status)
	}
	keep(admin.get("/orgs/" + app.org.ID + "/security"))
	traveller := app.client()
	sso.idp.signIn(bob)
	authURL := sso.start(traveller, bob.Email)
	callback := sso.authorize(authURL)
	cb, _ := url.Parse(callback)
	au, _ := url.Parse(authURL)
	secrets["SSO state"] = cb.Query().Get("state")
	secrets["SSO authorization code"] = cb.Query().Get("code")
	secrets["SSO nonce"] = au.Query().Get("nonce")
	r = traveller.get(callback)
	if r.status != http.StatusSeeOther {
		t.Fatalf("single sign-on: status %d", r.status)
	}
	keep(traveller.get("/"))
	secrets["PKCE verifier"] = sso.idp.lastVerifier()
	keep(admin.get("/support/accounts/" + itoa(app.storedUserByEmail("newcomer@example.com").ID)))

	// Every page an administrator would open afterwards.
	for _, p := range []string{"/", "/orgs/" + app.org.ID, "/orgs/" + app.org.ID + "/audit", "/projects/" + inv.ID,
		"/projects/" + inv.ID + "/serviceaccounts", saPath(sa), "/projects/" + inv.ID + "/members", "/support/audit",
		"/support/accounts/" + sa.ID} {
		keep(admin.get(p))
	}

	// The database files, after a checkpoint so the WAL's content is in the main file too.
	// Every read here fails the test: a file or log that cannot be read
	// would otherwise count as one without secrets.
	raw, err := sql.Open("sqlite", "file:"+app.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	raw.Close()
	dbFiles, err := filepath.Glob(app.dbPath + "*")
	if err != nil || len(dbFiles) == 0 {
		t.Fatalf("database files at %s: %v %v", app.dbPath, dbFiles, err)
	}
	var stored []string
	for _, f := range dbFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, string(b))
	}
	entries, err := app.store.ListAudit(ctx, domain.AuditFilter{}, 0, 10_000)
	if err != nil || len(entries) == 0 {
		t.Fatalf("audit log: %d entries, %v", len(entries), err)
	}
	var audit []string
	for _, e := range entries {
		audit = append(audit, strings.Join([]string{e.ActorEmail, e.Action, e.TargetID, e.TargetName, e.Detail, e.Reason}, "|"))
	}
	places := map[string][]string{"logs": {app.logs.String()}, "audit log": audit, "database files": stored, "pages and API answers": seen}
	for what, secret := range secrets {
		for where, texts := range places {
			for _, text := range texts {
				if strings.Contains(text, secret) {
					i := strings.Index(text, secret)
					t.Errorf("the %s appears in the %s: …%s…", what, where, text[max(0, i-120):min(len(text), i+80)])
					break
				}
			}
		}
	}
	if len(stored) == 0 || len(seen) < 15 || len(audit) < 5 {
		t.Fatalf("looked in too little: %d database files, %d responses, %d audit entries", len(stored), len(seen), len(audit))
	}
}
