package web_test

import (
	"net/http"
	"net/url"
	"testing"
)

// browserTarget is where a browser goes for a Location header value on
// http://studio.test, after its own normalisation (WHATWG URL): tabs and
// line breaks dropped anywhere, leading and trailing spaces and control
// characters trimmed, "\" read as "/".
func browserTarget(t *testing.T, location string) *url.URL {
	t.Helper()
	var b []rune
	for _, r := range location {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
		case r == '\\':
			b = append(b, '/')
		default:
			b = append(b, r)
		}
	}
	s := string(b)
	for len(s) > 0 && s[0] <= ' ' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] <= ' ' {
		s = s[:len(s)-1]
	}
	base, _ := url.Parse("http://studio.test/signin")
	ref, err := url.Parse(s)
	if err != nil {
		return &url.URL{Scheme: "invalid", Host: location}
	}
	return base.ResolveReference(ref)
}

// TestSignInRedirectStaysOnSite signs in through a link with a crafted
// next parameter, as a phishing mail would send it: every form that a
// browser reads as another site (or a script) lands on the home page
// instead, both in the form's hidden field and in the redirect after
// signing in; paths of this site are kept.
func TestSignInRedirectStaysOnSite(t *testing.T) {
	app := newApp(t)
	evil := []string{
		"/\t/evil.example",
		"/\n/evil.example",
		"/\r\n/evil.example",
		"\t//evil.example",
		"/\t\t/evil.example/path?q=1",
		"//evil.example",
		"///evil.example",
		"////evil.example",
		"/\\evil.example",
		"\\/evil.example",
		"\\\\evil.example",
		"/\\/evil.example",
		"/\t\\evil.example",
		"https://evil.example",
		"http:evil.example",
		"http:/evil.example",
		"//evil.example@studio.test",
		"https:\\\\evil.example",
		"javascript:alert(1)",
		"JaVaScRiPt:alert(document.cookie)",
		"\tjavascript:alert(1)",
		"java\tscript:alert(1)",
		"data:text/html,<script>alert(1)</script>",
		" //evil.example",
		"\x00//evil.example",
		"/\x00/evil.example",
		"/\x0b/evil.example",
		"/\x7f/evil.example",
		"/\u0085/evil.example",
		"/%2F/evil.example",
		"/%2f%2fevil.example",
		"evil.example",
		"@evil.example",
		"",
	}
	for _, next := range evil {
		c := app.client()
		page := c.get("/signin?next=" + url.QueryEscape(next))
		hidden := page.doc.Find(`input[name="next"]`).AttrOr("value", "missing")
		if hidden != "/" {
			t.Errorf("next=%q: the sign-in form carries %q", next, hidden)
		}
		// Through the administrator's second factor, which carries next on.
		r := c.secondFactor(adminEmail, c.post("/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}, "next": {next}}))
		loc := r.header.Get("Location")
		if r.status != http.StatusSeeOther || loc != "/" {
			t.Errorf("next=%q: status %d, Location %q, want /", next, r.status, loc)
		}
		if target := browserTarget(t, loc); target.Host != "studio.test" || target.Scheme != "http" {
			t.Errorf("next=%q: the browser goes to %s", next, target)
		}
	}
	kept := []string{
		"/projects/p1/serviceaccounts?q=robot",
		"/orgs/o1/audit?actor=a%40b.example&page=2",
		"/a//b",
		"/%09/evil.example", // an encoded tab is part of a path of this site
		"/@evil.example",
		"/",
	}
	for _, next := range kept {
		c := app.client()
		c.get("/signin?next=" + url.QueryEscape(next))
		// Through the administrator's second factor, which carries next on.
		r := c.secondFactor(adminEmail, c.post("/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}, "next": {next}}))
		if loc := r.header.Get("Location"); r.status != http.StatusSeeOther || loc != next {
			t.Errorf("next=%q: status %d, Location %q", next, r.status, loc)
		}
		if target := browserTarget(t, r.header.Get("Location")); target.Host != "studio.test" {
			t.Errorf("next=%q: the browser goes to %s", next, target)
		}
	}
}
