package web_test

// End-to-end fuzz targets: fuzzed requests against the whole server (the
// newApp of app_test.go, built once per target). Whatever comes in, the
// answer is never a 5xx and the server stays healthy. Run with
//
//	go test ./web -run '^$' -fuzz '^FuzzAPIRequest$' -fuzztime 20s
//
// Inside f.Fuzz only *testing.T may fail the test, so these targets send
// their requests with their own helpers, not the client of app_test.go.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"studio/domain"
	"studio/internal/jwtbearer"
)

// fuzzValidHeader reports whether v may be sent as a header value (as
// golang.org/x/net/http/httpguts.ValidHeaderFieldValue): the client refuses
// anything else before it reaches the server.
func fuzzValidHeader(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; (b < ' ' && b != '\t') || b == 0x7f {
			return false
		}
	}
	return true
}

// fuzzDo sends req and returns the status and headers; a transport error
// (the server dropped the connection, for instance after a panic outside
// Echo's recover) fails the test.
func fuzzDo(t *testing.T, hc *http.Client, req *http.Request) (int, http.Header) {
	t.Helper()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header
}

// fuzzCheck fails on a 5xx and unless GET /healthz still answers 200.
func fuzzCheck(t *testing.T, app *testApp, hc *http.Client, what string, status int) {
	t.Helper()
	if status >= 500 {
		t.Fatalf("%s: status %d\nserver log tail:\n%s", what, status, fuzzTail(app.logs.String(), 2000))
	}
	req, _ := http.NewRequest(http.MethodGet, app.srv.URL+"/healthz", nil)
	if got, _ := fuzzDo(t, hc, req); got != http.StatusOK {
		t.Fatalf("after %s: GET /healthz = %d", what, got)
	}
}

func fuzzTail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// fuzzAPI is the fixture of FuzzAPIRequest: an organization admin service
// account with a key and a bearer token, and resources to aim at.
type fuzzAPI struct {
	app           *testApp
	basic, bearer string
	keyID, secret string
	robotEmail    string
	ids           *strings.Replacer
	http          *http.Client
}

func newFuzzAPI(f *testing.F) *fuzzAPI {
	f.Helper()
	ctx := context.Background()
	app := newApp(f)
	sealer, err := domain.NewSealer([]byte("an AES-256 key of 32 bytes......"))
	if err != nil {
		f.Fatal(err)
	}
	svc := domain.NewServiceAccounts(app.store, sealer, app.clock.Now, "d21s.com")
	u, err := app.store.UserByEmail(ctx, adminEmail)
	if err != nil {
		f.Fatal(err)
	}
	admin := domain.UserPrincipal(u, "test")
	yes, no := true, false
	name := "Fuzz robot"
	robot, err := svc.Create(ctx, admin, app.inventory().ID, domain.ServiceAccountInput{DisplayName: &name, EnableBasicAuth: &yes})
	if err != nil {
		f.Fatal(err)
	}
	key, secret, err := svc.CreateKey(ctx, admin, robot.ProjectID, robot.ID)
	if err != nil {
		f.Fatal(err)
	}
	m := domain.Membership{OrganizationID: app.org.ID, Account: robot.Ref(), Role: domain.RoleOrgAdmin,
		Status: domain.StatusAccepted, CreateTime: app.clock.Now()}
	if err := app.store.Update(ctx, func(tx domain.Tx) error { return tx.CreateMembership(ctx, &m) }); err != nil {
		f.Fatal(err)
	}
	// A bearer token that outlives any fuzzing session on the test clock.
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	bearer := hex.EncodeToString(raw)
	err = app.store.CreateAccessToken(ctx, domain.AccessToken{Hash: domain.HashToken(bearer), KeyID: key.ID,
		ServiceAccountID: robot.ID, ExpireTime: app.clock.Now().AddDate(100, 0, 0)})
	if err != nil {
		f.Fatal(err)
	}
	plant := app.addProject(app.org.ID, "Plant")
	user := app.addUser("user@example.com", plant.ID, domain.RoleProjectUser, "")
	name = "Target"
	target, err := svc.Create(ctx, admin, plant.ID, domain.ServiceAccountInput{DisplayName: &name, EnableBasicAuth: &no})
	if err != nil {
		f.Fatal(err)
	}
	targetKey, _, err := svc.CreateKey(ctx, admin, plant.ID, target.ID)
	if err != nil {
		f.Fatal(err)
	}
	partner, _ := app.addOrg("Partner", "partner@example.com")
	hidden := app.addProject(partner.ID, "Hidden")
	return &fuzzAPI{
		app: app, keyID: key.ID, secret: secret, robotEmail: robot.Email,
		basic:  "Basic " + base64.StdEncoding.EncodeToString([]byte(key.ID+":"+secret)),
		bearer: "Bearer " + bearer,
		ids: strings.NewReplacer("{org}", app.org.ID, "{project}", plant.ID, "{inventory}", robot.ProjectID,
			"{sa}", target.ID, "{key}", targetKey.ID, "{member}", itoa(user.ID), "{robot}", robot.ID,
			"{partner}", partner.ID, "{hidden}", hidden.ID),
		http: &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
	}
}

// fuzzAssertion signs claims (raw JSON) as the robot's key, with header
// (raw JSON) or the usual one.
func (x *fuzzAPI) fuzzAssertion(header string, claims []byte) string {
	if header == "" {
		header = `{"alg":"HS256","kid":"` + x.keyID + `","typ":"JWT"}`
	}
	return jwtbearer.Sign("HS256", []byte(header), claims, []byte(x.secret))
}

// Modes of FuzzAPIRequest: the low 3 bits choose the credentials, the next
// 2 the Content-Type.
const (
	fuzzAuthAsIs        = 0 // the fuzzed Authorization header
	fuzzAuthBasic       = 1 // the robot's Basic credentials
	fuzzAuthBearer      = 2 // the robot's bearer token
	fuzzAuthBasicSecret = 3 // the robot's key id with the fuzzed string as secret
	fuzzAuthExchange    = 4 // POST /oauth2/token: the body as claims signed with the robot's key, auth as header JSON
)

var fuzzContentTypes = []string{"application/json", "application/x-www-form-urlencoded", "", "text/plain; charset=utf-8"}

func FuzzAPIRequest(f *testing.F) {
	x := newFuzzAPI(f)
	type seed struct {
		method, path, body, auth string
		mode                     uint8
	}
	const form = 1 << 3
	now := x.app.clock.Now().Unix()
	claims := `{"iss":"` + x.robotEmail + `","aud":"` + apiTokenURL + `","iat":` + itoa(now) + `,"exp":` + itoa(now+3600) + `}`
	for _, s := range []seed{
		{"GET", "v2/organizations", "", "", fuzzAuthBasic},
		{"GET", "v2/organizations/{org}", "", "", fuzzAuthBearer},
		{"GET", "v2/organizations/{partner}", "", "", fuzzAuthBasic},
		{"GET", "v2/organizations/{org}/members?pageSize=1&pageToken=YzE6IiIgIjEi", "", "", fuzzAuthBasic},
		{"POST", "v2/organizations/{org}/members", `{"email":"new@example.com","roles":["roles/organization.admin"]}`, "", fuzzAuthBasic},
		{"GET", "v2/organizations/{org}/members/{member}:getInviteUrl", "", "", fuzzAuthBasic},
		{"GET", "v2/organizations/{org}/permissions", "", "", fuzzAuthBearer},
		{"GET", "v2/projects?pageSize=1001", "", "", fuzzAuthBasic},
		{"GET", "v2/projects?pageSize=2&pageToken=!!!&query=%00%ff&organization=organizations/{org}", "", "", fuzzAuthBasic},
		{"POST", "v2/projects", `{"displayName":"Fuzzed plant","organization":"organizations/{org}","location":{"latitude":91,"longitude":-181,"timeLocation":"Mars/Olympus"}}`, "", fuzzAuthBasic},
		{"POST", "v2/projects", `{"displayName":"x","unknown":true}`, "", fuzzAuthBearer},
		{"POST", "v2/projects", `{"displayName":1e400}`, "", fuzzAuthBasic},
		{"PATCH", "v2/projects/{project}?update_mask=displayName,location", `{"displayName":"Renamed \u202e"}`, "", fuzzAuthBasic},
		{"PATCH", "v2/projects/{project}?updateMask=name", `{"name":"projects/other"}`, "", fuzzAuthBasic},
		{"DELETE", "v2/projects/{project}", "", "", fuzzAuthBasic},
		{"GET", "v2/projects/{hidden}", "", "", fuzzAuthBasic},
		{"GET", "v2/projects/{project}/members", "", "", fuzzAuthBasic},
		{"GET", "v2/projects/-/members?organization=organizations/{org}&memberId={member}", "", "", fuzzAuthBasic},
		{"POST", "v2/projects/{project}/members", `{"email":"dev@example.com","roles":["roles/project.developer"]}`, "", fuzzAuthBasic},
		{"POST", "v2/projects/-/members:batchCreate", `{"members":[{"project":"projects/{project}","email":"b@example.com","roles":["roles/project.user"]}]}`, "", fuzzAuthBasic},
		{"POST", "v2/projects/-/members:batchDelete", `{"names":["projects/{project}/members/{member}","projects/x/members/y"]}`, "", fuzzAuthBasic},
		{"PATCH", "v2/projects/{project}/members/{member}", `{"roles":["roles/organization.admin"]}`, "", fuzzAuthBasic},
		{"GET", "v2/projects/{project}/members/{member}:getInviteUrl", "", "", fuzzAuthBasic},
		{"DELETE", "v2/projects/{project}/members/{member}", "", "", fuzzAuthBearer},
		{"GET", "v2/projects/{project}/permissions", "", "", fuzzAuthBasic},
		{"GET", "v2/projects/{project}/serviceaccounts?pageSize=1", "", "", fuzzAuthBasic},
		{"POST", "v2/projects/{project}/serviceaccounts", "", "", fuzzAuthBasic},
		{"POST", "v2/projects/{project}/serviceaccounts", `{"displayName":"` + strings.Repeat("🚀", 101) + `"}`, "", fuzzAuthBasic},
		{"PATCH", "v2/projects/{project}/serviceaccounts/{sa}", `{"enableBasicAuth":"yes"}`, "", fuzzAuthBasic},
		{"GET", "v2/projects/{project}/serviceaccounts/{sa}/keys", "", "", fuzzAuthBasic},
		{"POST", "v2/projects/{project}/serviceaccounts/{sa}/keys", `{}`, "", fuzzAuthBasic},
		{"GET", "v2/projects/{project}/serviceaccounts/{sa}/keys/{key}", "", "", fuzzAuthBearer},
		{"DELETE", "v2/projects/{project}/serviceaccounts/{sa}/keys/{key}", "", "", fuzzAuthBasic},
		{"GET", "v2/projects/{inventory}/serviceaccounts/{robot}", "", "", fuzzAuthBasic},
		{"GET", "v2/roles", "", "", fuzzAuthBasic},
		{"GET", "v2/roles/project.admin", "", "", fuzzAuthBasic},
		{"GET", "v2/roles/..%2f..%2fetc%2fpasswd", "", "", fuzzAuthBasic},
		{"GET", "v2/../../etc/passwd", "", "", fuzzAuthBasic},
		{"GET", "v2/projects/%00/members/%ff", "", "", fuzzAuthBasic},
		{"PUT", "v2/projects/{project}", `{}`, "", fuzzAuthBasic},
		{"OPTIONS", "v2/projects", "", "", fuzzAuthAsIs},
		{"HEAD", "v2/organizations", "", "", fuzzAuthBasic},
		{"PROPFIND", "v2/organizations", "", "", fuzzAuthBasic},
		{"GET", "v2/organizations", "", "", fuzzAuthAsIs},
		{"GET", "v2/organizations", "", "Basic", fuzzAuthAsIs},
		{"GET", "v2/organizations", "", "Basic !!!notbase64", fuzzAuthAsIs},
		{"GET", "v2/organizations", "", "Basic " + base64.StdEncoding.EncodeToString([]byte("nocolon")), fuzzAuthAsIs},
		{"GET", "v2/organizations", "", "Basic " + base64.StdEncoding.EncodeToString([]byte(":")), fuzzAuthAsIs},
		{"GET", "v2/organizations", "", "Basic " + strings.Repeat("QUFB", 300), fuzzAuthAsIs},
		{"GET", "v2/organizations", "", "Bearer " + strings.Repeat("0", 64), fuzzAuthAsIs},
		{"GET", "v2/organizations", "", "bEaReR    spaced", fuzzAuthAsIs},
		{"GET", "v2/organizations", "", "Digest username=x", fuzzAuthAsIs},
		{"GET", "v2/organizations", "", "wrong secret", fuzzAuthBasicSecret},
		{"GET", "v2/organizations", "", "", fuzzAuthBasicSecret},
		{"POST", "oauth2/token", "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a.b.c", "", fuzzAuthAsIs | form},
		{"POST", "oauth2/token", "grant_type=client_credentials", "", fuzzAuthAsIs | form},
		{"POST", "oauth2/token?assertion=x", "", "", fuzzAuthAsIs | form},
		{"POST", "oauth2/token", `{"grant_type":"x"}`, "", fuzzAuthAsIs},
		{"POST", "oauth2/token", "%zz=%zz&&&==", "", fuzzAuthAsIs | form},
		{"POST", "", claims, "", fuzzAuthExchange},
		{"POST", "", claims, `{"alg":"none","kid":"` + x.keyID + `"}`, fuzzAuthExchange},
		{"POST", "", claims, `{"alg":"HS256","kid":"` + x.keyID + `"} trailing`, fuzzAuthExchange},
		{"POST", "", `{"iss":"x","aud":["a",1,null],"iat":1e400,"exp":"never"}`, "", fuzzAuthExchange},
		{"POST", "", `{"iss":{"nested":true},"aud":{},"iat":-1,"exp":99999999999999999999}`, "", fuzzAuthExchange},
		{"POST", "", `{"iat":` + itoa(now) + `,"exp":` + itoa(now+3601) + `}`, "", fuzzAuthExchange},
		{"POST", "", `null`, `[]`, fuzzAuthExchange},
		{"GET", "healthz", "", "", fuzzAuthAsIs},
		{"GET", "docs/api-errors", "", "", fuzzAuthAsIs},
		{"GET", "static/../../../etc/passwd", "", "", fuzzAuthAsIs},
		{"POST", "v2/projects", `{"displayName":"` + strings.Repeat("x", 70000) + `"}`, "", fuzzAuthBasic},
		{"POST", "v2/projects", "[" + strings.Repeat(`{"a":[`, 3000) + strings.Repeat(`]}`, 3000) + "]", "", fuzzAuthBasic},
	} {
		f.Add(s.method, s.path, []byte(s.body), s.auth, s.mode)
	}
	f.Fuzz(func(t *testing.T, method, path string, body []byte, auth string, mode uint8) {
		if method == http.MethodConnect || len(method) > 32 || len(path) > 8192 {
			return // CONNECT makes the client tunnel; the rest is noise
		}
		target := x.app.srv.URL + "/" + strings.TrimPrefix(x.ids.Replace(path), "/")
		if bytes.IndexByte(body, '{') >= 0 {
			body = []byte(x.ids.Replace(string(body))) // "{project}" and the like, in JSON bodies too
		}
		header := ""
		contentType := fuzzContentTypes[(mode>>3)%4]
		switch mode % 8 {
		case fuzzAuthAsIs:
			header = auth
		case fuzzAuthBearer:
			header = x.bearer
		case fuzzAuthBasicSecret:
			header = "Basic " + base64.StdEncoding.EncodeToString([]byte(x.keyID+":"+auth))
		case fuzzAuthExchange:
			method, target, contentType = http.MethodPost, x.app.srv.URL+"/oauth2/token", "application/x-www-form-urlencoded"
			body = []byte(url.Values{"grant_type": {jwtbearer.GrantType},
				"assertion": {x.fuzzAssertion(auth, body)}}.Encode())
		default:
			header = x.basic
		}
		if !fuzzValidHeader(header) {
			return // the client would refuse to send it
		}
		req, err := http.NewRequest(method, target, bytes.NewReader(body))
		if err != nil {
			return // not a method or URL a client can send
		}
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		status, h := fuzzDo(t, x.http, req)
		what := req.Method + " " + req.URL.String()
		fuzzCheck(t, x.app, x.http, what, status)
		// The API answers every refusal with its JSON error body, never a page.
		p := req.URL.Path
		if (p == "/v2" || strings.HasPrefix(p, "/v2/") || p == "/oauth2/token") && status >= 400 && req.Method != http.MethodHead &&
			!strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Fatalf("%s: status %d with Content-Type %q, want the JSON error body", what, status, h.Get("Content-Type"))
		}
		// The test clock stands still: move it on, so the per-second API
		// limits and the per-minute failure throttle keep letting requests in.
		x.app.clock.Advance(time.Second)
		if status == http.StatusTooManyRequests {
			x.app.clock.Advance(2 * time.Minute)
		}
	})
}

// fuzzConsole is the fixture of FuzzConsoleForm: a signed-in organization
// admin, an anonymous visitor for the sign-in form, and resources.
type fuzzConsole struct {
	app          *testApp
	admin, guest *client
	org, project string
	sa, member   string
}

func newFuzzConsole(f *testing.F) *fuzzConsole {
	f.Helper()
	app := newApp(f)
	plant := app.addProject(app.org.ID, "Plant")
	sa := app.addServiceAccount(plant, "Target")
	user := app.addUser("user@example.com", plant.ID, domain.RoleProjectUser, "")
	admin := app.signedIn(adminEmail)
	admin.get("/orgs/" + app.org.ID) // a page with the CSRF token
	guest := app.client()
	guest.get("/signin")
	if admin.csrf == "" || guest.csrf == "" {
		f.Fatal("no CSRF token on the console pages")
	}
	return &fuzzConsole{app: app, admin: admin, guest: guest, org: app.org.ID, project: plant.ID, sa: sa.ID, member: itoa(user.ID)}
}

// fuzzForm is one console form: where it goes, which fields the two
// fuzzed strings fill, and which seeds suit it.
type fuzzForm struct {
	method, path string
	fields       func(a, b string) url.Values
	seeds        string // "text", "email", "role", "enable", "query", "password", "signin", "next"
	guest        bool   // sent by the visitor who is not signed in
}

func (x *fuzzConsole) forms() []fuzzForm {
	one := func(name string) func(a, b string) url.Values {
		return func(a, _ string) url.Values { return url.Values{name: {a}} }
	}
	two := func(n1, n2 string) func(a, b string) url.Values {
		return func(a, b string) url.Values { return url.Values{n1: {a}, n2: {b}} }
	}
	proj, sa := "/projects/"+x.project, "/projects/"+x.project+"/serviceaccounts/"+x.sa
	return []fuzzForm{
		{"POST", "/orgs/" + x.org + "/projects", one("displayName"), "text", false},
		{"POST", proj + "/settings", one("displayName"), "text", false},
		{"POST", proj + "/serviceaccounts", one("displayName"), "text", false},
		{"POST", sa + "/name", one("displayName"), "text", false},
		{"POST", "/signin", two("email", "password"), "signin", true},
		{"POST", proj + "/members", two("email", "role"), "email", false},
		{"POST", "/orgs/" + x.org + "/admins", one("email"), "email", false},
		{"POST", sa + "/role", one("role"), "role", false},
		{"POST", sa + "/basicauth", one("enable"), "enable", false},
		{"POST", "/orgs/" + x.org + "/members/" + x.member + "/access",
			func(a, b string) url.Values { return url.Values{"role-" + a: {b}} }, "role", false},
		{"POST", proj + "/members/" + x.member + "/role", one("role"), "role", false},
		{"POST", "/account/password",
			func(a, b string) url.Values { return url.Values{"current": {a}, "new": {b}, "confirm": {b}} }, "password", false},
		{"POST", "/signin",
			func(a, b string) url.Values { return url.Values{"email": {adminEmail}, "password": {a}, "next": {b}} }, "next", true},
		{"GET", "/orgs/" + x.org, two("q", "page"), "query", false},
		{"GET", proj + "/serviceaccounts", two("q", "page"), "query", false},
		{"GET", proj + "/members", two("q", "page"), "query", false},
		{"GET", "/orgs/" + x.org + "/audit", two("q", "page"), "query", false},
	}
}

func FuzzConsoleForm(f *testing.F) {
	x := newFuzzConsole(f)
	forms := x.forms()
	texts := []string{
		"Alpha plant", "", "   ", "Zürich – Süd 東京 🚀", "line\nbreak", "tab\there", "nul\x00byte", "\xff\xfe invalid",
		"bidi \u202eevil", "<script>alert(1)</script>", "'; DROP TABLE projects; --", "{{.}}", "%00%0d%0a",
		strings.Repeat("a", 100), strings.Repeat("a", 101), strings.Repeat("🚀", 101), strings.Repeat("x", 10000),
	}
	emails := []string{"new@example.com", " New@Example.COM ", "user@example.com", "admin@example.com", "a@b", "@x.y", "a@b.c\n",
		"ü@bücher.de", strings.Repeat("a", 250) + "@example.com", "a<b>@c.d"}
	roles := []string{"roles/project.user", "roles/project.developer", "roles/project.admin", "roles/organization.admin", "",
		"roles/../admin", "ROLES/PROJECT.ADMIN", "none"}
	seeds := map[string][][2]string{
		"signin":   {{adminEmail, "wrong password!"}, {"nobody@example.com", ""}, {"\x00", strings.Repeat("p", 5000)}},
		"enable":   {{"on", ""}, {"off", ""}, {"true", ""}, {"", ""}, {"\x00", ""}},
		"query":    {{"plant", ""}, {"%", "not a token"}, {"_", "YzE6IiIgIiI"}, {"", strings.Repeat("A", 3000)}},
		"password": {{"wrong password!", "a new password 1"}, {"", strings.Repeat(" ", 20)}},
		"next":     {{"wrong password!", "//evil.example"}, {"", "/\\evil"}},
	}
	for _, s := range texts {
		seeds["text"] = append(seeds["text"], [2]string{s, ""})
	}
	for i, e := range emails {
		seeds["email"] = append(seeds["email"], [2]string{e, roles[i%len(roles)]})
	}
	for _, r := range roles {
		seeds["role"] = append(seeds["role"], [2]string{r, r})
	}
	seeds["role"] = append(seeds["role"], [2]string{x.project, "roles/project.admin"})
	for i, form := range forms {
		for _, s := range seeds[form.seeds] {
			f.Add(uint8(i), s[0], s[1])
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, a, b string) {
		form := forms[int(which)%len(forms)]
		c := x.admin
		if form.guest {
			c = x.guest
		}
		values := form.fields(a, b)
		var req *http.Request
		if form.method == http.MethodGet {
			req, _ = http.NewRequest(http.MethodGet, x.app.srv.URL+form.path+"?"+values.Encode(), nil)
		} else {
			values.Set("_csrf", c.csrf)
			req, _ = http.NewRequest(http.MethodPost, x.app.srv.URL+form.path, strings.NewReader(values.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		status, _ := fuzzDo(t, c.http, req)
		fuzzCheck(t, x.app, c.http, form.method+" "+form.path, status)
	})
}
