package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"studio/domain"
)

// The client address is the connection's unless the connection comes from
// a trusted proxy: then it is the rightmost untrusted X-Forwarded-For hop.
// It is what the audit log records and what the password throttle counts.
func TestTrustedProxies(t *testing.T) {
	for _, tc := range []struct {
		name, trusted, xff, want string
	}{
		{"no trusted proxies: the header is ignored", "", "203.0.113.5", "127.0.0.1"},
		{"peer not trusted: the header is ignored", "10.0.0.0/8", "203.0.113.5", "127.0.0.1"},
		{"trusted peer: the client it saw", "127.0.0.1/32", "203.0.113.5", "203.0.113.5"},
		{"what the client wrote on the left is not believed", "127.0.0.1/32", "192.0.2.1, 203.0.113.5", "203.0.113.5"},
		{"trusted hops are skipped", "127.0.0.1, 10.0.0.0/8", "192.0.2.1, 203.0.113.5, 10.1.2.3", "203.0.113.5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := newApp(t, withTrustedProxies(tc.trusted))
			c := app.client()
			c.forwardedFor = tc.xff
			c.signIn(adminEmail, adminPassword)
			if r := c.post("/orgs/"+app.org.ID+"/projects", url.Values{"displayName": {"Greenhouse"}}); r.status != http.StatusSeeOther {
				t.Fatalf("create project: status %d", r.status)
			}
			entries, err := app.store.ListAudit(context.Background(), domain.AuditFilter{OrganizationID: app.org.ID, Action: domain.ActionProjectCreate}, 0, 10)
			if err != nil || len(entries) == 0 || entries[0].TargetName != "Greenhouse" {
				t.Fatalf("audit: %v, %v", entries, err)
			}
			if entries[0].RemoteAddr != tc.want {
				t.Fatalf("audit records %q, want %q", entries[0].RemoteAddr, tc.want)
			}
			// A wrong password is counted against the same address.
			guesser := app.client()
			guesser.forwardedFor = tc.xff
			guesser.get("/signin")
			guesser.post("/signin", url.Values{"email": {adminEmail}, "password": {"guess"}})
			if n := app.failuresOf(adminEmail, "address:"+tc.want); n != 1 {
				t.Fatalf("failures counted for %s: %d, want 1", tc.want, n)
			}
		})
	}
}
