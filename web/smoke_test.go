package web_test

import (
	"net/http"
	"testing"
)

func TestSignInShowsOrganizations(t *testing.T) {
	app := newApp(t)
	c := app.signedIn(adminEmail)
	r := c.get("/")
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	if got := r.doc.Find("[data-testid=org-link]").Text(); got != "Acme" {
		t.Fatalf("org list = %q, want Acme", got)
	}
}
