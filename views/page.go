// Package views holds the console's templ components. Components take
// explicit view models and never touch the database.
package views

import (
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"studio/domain"
)

// Page is what every console page knows besides its own content.
type Page struct {
	Title  string
	CSRF   string
	User   *domain.User
	Flash  []Flash
	Org    *domain.Organization
	OrgAdm bool
	// Project and Menu are set on project pages; Menu names the active item.
	Project  *domain.Project
	Role     domain.Role
	Menu     string
	Switcher []domain.Project
	// SwitcherMore tells that the organization has more projects than the switcher shows.
	SwitcherMore bool
	// Wide lets the page use the whole width (wide tables: audit, hygiene).
	Wide bool
}

// wide is the page using the whole width of the window.
func (p Page) wide() Page {
	p.Wide = true
	return p
}

// mainClass is the class of a page's main element.
func mainClass(p Page) string {
	c := ""
	if p.Project == nil {
		c = "plain"
	}
	if p.Wide {
		c += " wide"
	}
	return c
}

// Flash is a one-time message shown after a redirect.
type Flash struct {
	Kind string // "success" or "error" (toasts), or "warning" (a banner that stays)
	Text string
}

// Menu items of the project pages.
const (
	MenuDevices         = "devices"
	MenuDashboard       = "dashboard"
	MenuEmulator        = "emulator"
	MenuServiceAccounts = "serviceaccounts"
	MenuMembers         = "members"
	MenuGeneral         = "general"
)

func hxHeaders(csrf string) string {
	b, _ := json.Marshal(map[string]string{"X-CSRF-Token": csrf})
	return string(b)
}

// htmxConfig keeps htmx within a strict CSP (no inline styles, no eval) and
// lets error responses swap, so validation messages and error toasts show.
const htmxConfig = `{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"historyCacheSize":0,` +
	`"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},{"code":"[45]..","swap":true,"error":true}]}`

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func orgURL(id string) string      { return "/orgs/" + id }
func projectURL(id string) string  { return "/projects/" + id }
func settingsURL(id string) string { return "/projects/" + id + "/settings" }
func orgAuditURL(id string) string { return "/orgs/" + id + "/audit" }
func pageURL(base string, q url.Values, token string) string {
	v := url.Values{}
	for k, vs := range q {
		v[k] = vs
	}
	v.Set("page", token)
	return base + "?" + v.Encode()
}

// navControls names what the Menu button folds: the account menu and, on a
// project page, the project's menu.
func navControls(p Page) string {
	if p.Project != nil {
		return "site-nav project-nav"
	}
	return "site-nav"
}

func itoa(n int) string { return fmt.Sprint(n) }

func toastRole(kind string) string {
	if kind == "error" {
		return "alert"
	}
	return "status"
}

func lastUsedHow(via string) string {
	switch via {
	case "basic":
		return "Basic Auth"
	case "token":
		return "token exchange"
	}
	return "used"
}

func exampleEnv(a AccountPage) string {
	return "export DT_SERVICE_ACCOUNT_KEY_ID=KEY_ID\n" +
		"export DT_SERVICE_ACCOUNT_SECRET=SECRET\n" +
		"export DT_SERVICE_ACCOUNT_EMAIL=" + a.View.Account.Email + "\n" +
		"# point the client at this server:\n" +
		"#   API base URL:  " + a.BaseURL + "/v2\n" +
		"#   token URL:     " + a.BaseURL + "/oauth2/token"
}

func exampleToken(a AccountPage) string {
	return "curl -X POST " + a.BaseURL + "/oauth2/token \\\n" +
		"  -d grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer \\\n" +
		"  -d assertion=\"$JWT\"\n\n" +
		"curl -H \"Authorization: Bearer $ACCESS_TOKEN\" " + a.BaseURL + "/v2/projects/" + a.View.Account.ProjectID
}

func exampleBasic(a AccountPage) string {
	return "curl -u KEY_ID:SECRET " + a.BaseURL + "/v2/projects/" + a.View.Account.ProjectID + "/serviceaccounts"
}
