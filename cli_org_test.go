package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"studio/db/sqlite"
	"studio/domain"
)

// TestOrgCreateCommand creates an organization from the command line beside
// a running server: its first admin accepts through the printed invite link
// and sees the organization; the audit log has the creation. Bad input
// changes nothing.
func TestOrgCreateCommand(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "studio.db")
	base := startServer(t, dbPath)
	var stdout, stderr bytes.Buffer
	args := []string{"org", "create", "--db", dbPath, "--base-url", base, "--name", "Globex", "--admin-email", "Grace@Globex.example"}
	if err := run(context.Background(), args, envFrom(nil), &stdout, &stderr); err != nil {
		t.Fatalf("command failed: %v\n%s", err, stderr.String())
	}
	link := strings.TrimSpace(stdout.String())
	if !strings.HasPrefix(link, base+"/invite/") || strings.Contains(link, "\n") {
		t.Fatalf("stdout = %q, want the invite link alone", stdout.String())
	}
	if !strings.Contains(stderr.String(), "created organization Globex") || !strings.Contains(stderr.String(), "grace@globex.example is invited") {
		t.Fatalf("stderr = %q", stderr.String())
	}

	// The invited person accepts and lands in the new organization.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	page, err := browser.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	csrf := between(string(body), `name="_csrf" value="`, `"`)
	resp, err := browser.PostForm(link, url.Values{"_csrf": {csrf}, "name": {"Grace"}, "password": {"a long enough passphrase"}, "confirm": {"a long enough passphrase"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.Path, "/orgs/") || !strings.Contains(string(body), "Globex") {
		t.Fatalf("accept: status %d at %s", resp.StatusCode, resp.Request.URL)
	}

	store, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	orgID := strings.TrimPrefix(resp.Request.URL.Path, "/orgs/")
	entries, err := store.ListAudit(context.Background(), domain.AuditFilter{OrganizationID: orgID}, 0, 20)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{domain.ActionOrganizationCreate, domain.ActionProjectCreate, domain.ActionMembershipCreate, domain.ActionInvitationAccept} {
		if !strings.Contains(strings.Join(actions, ","), want) {
			t.Errorf("the new organization's audit log %v has no %s", actions, want)
		}
	}

	// Refused: nothing printed on stdout, no organization made.
	before, _ := store.ListAudit(context.Background(), domain.AuditFilter{Action: domain.ActionOrganizationCreate}, 0, 100)
	for _, bad := range [][]string{
		{"--name", "Initech"},
		{"--admin-email", "a@example.com"},
		{"--name", "  ", "--admin-email", "a@example.com"},
		{"--name", "Initech", "--admin-email", "not an email"},
	} {
		var out bytes.Buffer
		full := append([]string{"org", "create", "--db", dbPath}, bad...)
		if err := run(context.Background(), full, envFrom(nil), &out, io.Discard); err == nil || out.Len() != 0 {
			t.Errorf("%v: err %v, stdout %q", bad, err, out.String())
		}
	}
	after, _ := store.ListAudit(context.Background(), domain.AuditFilter{Action: domain.ActionOrganizationCreate}, 0, 100)
	if len(after) != len(before) {
		t.Fatalf("refused commands made %d organizations", len(after)-len(before))
	}
}

func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, end)
	return v
}
