package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"studio/domain"
)

// supportEmail is a support staff member who holds no role in any organization.
const supportEmail = "support@example.com"

// TestSupportMarkOnlyWhenSupportAllowedIt: the first administrator is
// organization admin of Acme and support staff. Its ordinary changes in
// Acme, and what it does in Acme through the support console, are its
// organization admin's work: not marked. Through the support console in
// Globex, where it holds no role, it is a support action, marked. A staff
// member without any role is marked everywhere (issue 16).
func TestSupportMarkOnlyWhenSupportAllowedIt(t *testing.T) {
	w := newSupportWorld(t)
	w.app.addStaff(supportEmail, "")
	w.app.giveTOTP(supportEmail) // staff need a second factor for the support console
	admin := w.app.signedIn(adminEmail)
	support := w.app.signedIn(supportEmail)
	newest := func(action string) domain.AuditEntry {
		t.Helper()
		entries, err := w.app.store.ListAudit(context.Background(), domain.AuditFilter{Action: action}, 0, 1)
		if err != nil || len(entries) != 1 {
			t.Fatalf("no %s entry (err %v)", action, err)
		}
		return entries[0]
	}
	// An ordinary change in its own organization.
	if r := admin.post("/projects/"+w.proj.ID+"/settings", url.Values{"displayName": {"Field sensors 2"}}); r.status != http.StatusSeeOther {
		t.Fatalf("rename: status %d", r.status)
	}
	if e := newest(domain.ActionProjectUpdate); e.ActorStaff || e.ActorEmail != adminEmail {
		t.Fatalf("an organization admin's rename is marked as support: %+v", e)
	}
	// Through the support console, in its own organization: its role allows it.
	userPage := supportAccountPath(itoa(w.user.ID))
	if r := admin.post(userPage+"/memberships/remove", url.Values{"org": {w.app.org.ID}, "project": {w.proj.ID}, "reason": {"Ticket 1: left"}}); r.status != http.StatusSeeOther {
		t.Fatalf("remove in Acme: status %d", r.status)
	}
	if e := newest(domain.ActionMembershipDelete); e.ActorStaff || e.Reason != "Ticket 1: left" || e.OrganizationID != w.app.org.ID {
		t.Fatalf("a removal its Acme role allows is marked as support: %+v", e)
	}
	// In Globex, where it holds no role: a support action.
	if r := admin.post(userPage+"/memberships/remove", url.Values{"org": {w.otherOrg.ID}, "project": {w.otherProj.ID}, "reason": {"Ticket 2: left"}}); r.status != http.StatusSeeOther {
		t.Fatalf("remove in Globex: status %d", r.status)
	}
	if e := newest(domain.ActionMembershipDelete); !e.ActorStaff || e.OrganizationID != w.otherOrg.ID {
		t.Fatalf("a removal only support allows is not marked: %+v", e)
	}
	// Staff without any role: marked in Acme too, and the Acme audit page shows the badge.
	saPage := supportAccountPath(w.sa.ID)
	if r := support.post(saPage+"/basic-auth-off", url.Values{"reason": {"Ticket 3: no Basic Auth"}}); r.status != http.StatusSeeOther {
		t.Fatalf("basic auth off: status %d", r.status)
	}
	e := newest(domain.ActionBasicAuthDisable)
	if !e.ActorStaff || e.ActorEmail != supportEmail || e.OrganizationID != w.app.org.ID {
		t.Fatalf("support's Basic Auth off in Acme: %+v", e)
	}
	shownAsStaff(t, admin.get("/orgs/"+w.app.org.ID+"/audit"), domain.ActionBasicAuthDisable, "Ticket 3: no Basic Auth")
	// Locking a person is support's alone: marked even in the actor's own organization.
	if r := admin.post(userPage+"/lock", url.Values{"reason": {"Ticket 4: stolen laptop"}}); r.status != http.StatusSeeOther {
		t.Fatalf("lock: status %d", r.status)
	}
	if e := newest(domain.ActionUserLock); !e.ActorStaff {
		t.Fatalf("a lock is not marked as support: %+v", e)
	}
}
