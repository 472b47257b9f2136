package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var csrfInputs = regexp.MustCompile(`name="_csrf" value="([0-9a-f]+)"`)

// TestCSRFTokenMaskedPerResponse: every page carries the CSRF token in
// other bytes (so compression cannot reveal it, see BREACH), never the
// cookie's value itself, and each of those forms is accepted; a changed
// or truncated token is refused and changes nothing.
func TestCSRFTokenMaskedPerResponse(t *testing.T) {
	app := newApp(t)
	c := app.signedIn(adminEmail)
	orgPage := "/orgs/" + app.org.ID
	var cookie string
	u, _ := url.Parse(app.srv.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "studio_csrf" {
			cookie = ck.Value
		}
	}
	if len(cookie) != 64 {
		t.Fatalf("csrf cookie %q", cookie)
	}
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		r := c.get(orgPage)
		m := csrfInputs.FindAllStringSubmatch(r.body, -1)
		if len(m) == 0 {
			t.Fatal("no _csrf field on the organization page")
		}
		tok := m[0][1]
		if seen[tok] || strings.Contains(r.body, cookie) || len(tok) != 128 {
			t.Fatalf("page %d: token %q (seen before: %v, %d characters), page holds the cookie's token: %v",
				i, tok, seen[tok], len(tok), strings.Contains(r.body, cookie))
		}
		seen[tok] = true
		name := "Masked " + itoa(int64(i))
		if r := c.post(orgPage+"/projects", url.Values{"displayName": {name}, "_csrf": {tok}}); r.status != http.StatusSeeOther {
			t.Fatalf("create project with page %d's token: status %d", i, r.status)
		}
	}
	before := len(browserProjects(t, app))
	tok := c.get(orgPage).doc.Find(`input[name="_csrf"]`).First().AttrOr("value", "")
	last := "0"
	if strings.HasSuffix(tok, "0") {
		last = "1"
	}
	for name, bad := range map[string]string{"changed": tok[:127] + last, "truncated": tok[:126], "pad only": tok[:64] + strings.Repeat("0", 64),
		"not hex": strings.Repeat("z", 128)} {
		if r := c.post(orgPage+"/projects", url.Values{"displayName": {"Forged " + name}, "_csrf": {bad}}); r.status != http.StatusForbidden {
			t.Fatalf("%s token: status %d, want 403", name, r.status)
		}
	}
	if after := browserProjects(t, app); len(after) != before {
		t.Fatalf("refused posts made projects: %d -> %d", before, len(after))
	}
	for _, p := range browserProjects(t, app) {
		if strings.HasPrefix(p.DisplayName, "Forged") {
			t.Fatalf("project %q made with a bad token", p.DisplayName)
		}
	}
}
