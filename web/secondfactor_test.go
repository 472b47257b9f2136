package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"studio/domain"

	"github.com/PuerkitoBio/goquery"
	"github.com/pquerna/otp/totp"
)

// setUpTOTP sets up an authenticator app through the security page as
// the signed-in user of c, and returns its secret and the recovery codes.
func setUpTOTP(t *testing.T, app *testApp, c *client, email string) (string, []string) {
	t.Helper()
	r := c.post("/account/security/totp", nil)
	secret := strings.ReplaceAll(r.doc.Find("[data-testid=totp-secret]").Text(), " ", "")
	if r.status != http.StatusOK || secret == "" || r.doc.Find("[data-testid=totp-qr] path").AttrOr("d", "") == "" {
		t.Fatalf("begin setup: status %d, secret %q", r.status, secret)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("the setup page (with the seed) has Cache-Control %q", r.header.Get("Cache-Control"))
	}
	code, _ := totp.GenerateCode(secret, app.clock.Now())
	r = c.post("/account/security/totp/confirm", url.Values{"code": {code}})
	var codes []string
	r.doc.Find("[data-testid=recovery-code]").Each(func(_ int, s *goquery.Selection) { codes = append(codes, strings.TrimSpace(s.Text())) })
	if r.status != http.StatusOK || len(codes) != domain.RecoveryCodeCount {
		t.Fatalf("confirm: status %d, %d recovery codes, %s", r.status, len(codes), r.doc.Find("[data-testid=error-code]").Text())
	}
	app.factors.mu.Lock()
	app.factors.secrets[email], app.factors.last[email] = secret, app.clock.Now().Unix()/30
	app.factors.mu.Unlock()
	return secret, codes
}

// passwordStep posts the password and returns the answer.
func passwordStep(c *client, email string) response {
	c.get("/signin")
	return c.post("/signin", url.Values{"email": {email}, "password": {adminPassword}})
}

// An authenticator app counts only once confirmed with a code; from then
// on, sign-in asks for a code after the password, and the seed is never
// shown again.
func TestTOTPSetUpConfirmedThenAskedAtSignIn(t *testing.T) {
	app := newApp(t)
	erin := app.addUser("erin@example.com", app.inventory().ID, domain.RoleProjectDev, "")
	c := app.signedIn(erin.Email)
	r := c.post("/account/security/totp", nil)
	secret := strings.ReplaceAll(r.doc.Find("[data-testid=totp-secret]").Text(), " ", "")
	if secret == "" {
		t.Fatalf("no secret on the setup page: status %d", r.status)
	}
	// Not on before it is confirmed: the password alone still signs in.
	if r := passwordStep(app.client(), erin.Email); r.header.Get("Location") != "/" {
		t.Fatalf("before confirming, sign-in goes to %q", r.header.Get("Location"))
	}
	// A wrong code changes nothing, and shows the setup again.
	r = c.post("/account/security/totp/confirm", url.Values{"code": {"000000"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.doc.Find("[data-testid=error-code]").Text(), "not right") ||
		r.doc.Find("[data-testid=totp-secret]").Length() != 1 {
		t.Fatalf("wrong code: status %d", r.status)
	}
	if app.rawCount("SELECT count(*) FROM totp_factors WHERE user_id = ? AND confirm_time = 0", erin.ID) != 1 {
		t.Fatal("a wrong code turned the app on")
	}
	code, _ := totp.GenerateCode(secret, app.clock.Now())
	r = c.post("/account/security/totp/confirm", url.Values{"code": {code}})
	if r.status != http.StatusOK || r.doc.Find("[data-testid=recovery-code]").Length() != domain.RecoveryCodeCount {
		t.Fatalf("confirm: status %d", r.status)
	}
	if r.header.Get("Cache-Control") != "no-store" || r.doc.Find("[hx-history=false]").Length() == 0 {
		t.Error("the recovery codes page may be cached or kept in history")
	}
	// The seed is never shown again, and is sealed in the database.
	page := c.get("/account/security")
	if strings.Contains(page.body, secret) || strings.Contains(page.body, groupFour(secret)) || page.doc.Find("[data-testid=totp-qr]").Length() != 0 {
		t.Fatal("the security page shows the seed after setup")
	}
	if !strings.Contains(page.doc.Find("[data-testid=totp-state]").Text(), "On since") {
		t.Fatalf("state = %q", page.doc.Find("[data-testid=totp-state]").Text())
	}
	if inDatabaseFiles(t, app, secret) {
		t.Fatal("the seed is in the database in plain text")
	}
	// Sign-in now asks for the code.
	fresh := app.client()
	r = passwordStep(fresh, erin.Email)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/signin/verify" || cookieNamed(r.header, "studio_session") != nil {
		t.Fatalf("password step: status %d, Location %q", r.status, r.header.Get("Location"))
	}
	if signedInAs(fresh) != "" {
		t.Fatal("the password alone signed in")
	}
	prompt := fresh.get("/signin/verify")
	if prompt.status != http.StatusOK || prompt.doc.Find("[data-testid=second-factor-email]").Text() != erin.Email {
		t.Fatalf("second-factor page: status %d", prompt.status)
	}
	app.clock.Advance(30 * time.Second)
	code, _ = totp.GenerateCode(secret, app.clock.Now())
	if r := fresh.post("/signin/verify", url.Values{"code": {code}}); r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		t.Fatalf("code step: status %d, %s", r.status, r.doc.Find("[data-testid=error-code]").Text())
	}
	if signedInAs(fresh) != erin.Email {
		t.Fatal("not signed in after the code")
	}
}

func groupFour(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// A code is accepted once: replayed within its window it is refused.
func TestTOTPCodeAcceptedOnce(t *testing.T) {
	app := newApp(t)
	erin := app.addUser("erin@example.com", "", "", "")
	secret, _ := setUpTOTP(t, app, app.signedIn(erin.Email), erin.Email)
	app.clock.Advance(30 * time.Second)
	code, _ := totp.GenerateCode(secret, app.clock.Now())
	first := app.client()
	passwordStep(first, erin.Email)
	if r := first.post("/signin/verify", url.Values{"code": {code}}); r.status != http.StatusSeeOther {
		t.Fatalf("first use: status %d", r.status)
	}
	second := app.client()
	passwordStep(second, erin.Email)
	r := second.post("/signin/verify", url.Values{"code": {code}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.doc.Find("[data-testid=error-code]").Text(), "used already") {
		t.Fatalf("replayed code: status %d, %q", r.status, r.doc.Find("[data-testid=error-code]").Text())
	}
	if signedInAs(second) != "" {
		t.Fatal("a replayed code signed in")
	}
}

// Guessing codes counts toward the password throttle: after the free
// failures the client waits, even with the right code.
func TestSecondFactorGuessesAreThrottled(t *testing.T) {
	app := newApp(t)
	erin := app.addUser("erin@example.com", "", "", "")
	secret, _ := setUpTOTP(t, app, app.signedIn(erin.Email), erin.Email)
	app.clock.Advance(30 * time.Second)
	c := app.client()
	passwordStep(c, erin.Email)
	before := app.rawCount("SELECT count(*) FROM password_failures WHERE account = ?", erin.Email)
	for i := range domain.PasswordFreeFailures {
		if r := c.post("/signin/verify", url.Values{"code": {"123456"}}); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("guess %d: status %d", i+1, r.status)
		}
	}
	if n := app.rawCount("SELECT count(*) FROM password_failures WHERE account = ?", erin.Email) - before; n != domain.PasswordFreeFailures {
		t.Fatalf("%d failures recorded for %d wrong codes", n, domain.PasswordFreeFailures)
	}
	code, _ := totp.GenerateCode(secret, app.clock.Now())
	r := c.post("/signin/verify", url.Values{"code": {code}})
	wantRetryAfter(t, "right code after too many wrong ones", r)
	if !strings.Contains(r.doc.Find("[data-testid=error-code]").Text(), "Try again in") || signedInAs(c) != "" {
		t.Fatalf("throttled: %q", r.doc.Find("[data-testid=error-code]").Text())
	}
	// The same throttle holds the password: it is the one account.
	if r := passwordStep(c, erin.Email); r.status != http.StatusTooManyRequests {
		t.Fatalf("password after too many wrong codes: status %d", r.status)
	}
}

// Recovery codes sign in once each; new ones end the old ones; they are
// stored hashed.
func TestRecoveryCodesWorkOnceAndRegenerate(t *testing.T) {
	app := newApp(t)
	erin := app.addUser("erin@example.com", "", "", "")
	owner := app.signedIn(erin.Email)
	_, codes := setUpTOTP(t, app, owner, erin.Email)
	for _, code := range codes {
		if inDatabaseFiles(t, app, code) || inDatabaseFiles(t, app, strings.ReplaceAll(code, "-", "")) {
			t.Fatalf("recovery code %s is in the database in plain text", code)
		}
	}
	c := app.client()
	passwordStep(c, erin.Email)
	r := c.post("/signin/verify", url.Values{"code": {strings.ToUpper(codes[0])}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("recovery code: status %d, %s", r.status, r.doc.Find("[data-testid=error-code]").Text())
	}
	if notice := c.get("/").doc.Find("[data-testid=notice]").Text(); !strings.Contains(notice, "recovery code; 9 left") {
		t.Fatalf("notice = %q", notice)
	}
	again := app.client()
	passwordStep(again, erin.Email)
	if r := again.post("/signin/verify", url.Values{"code": {codes[0]}}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("used recovery code again: status %d", r.status)
	}
	// New codes: the old unused ones stop working.
	r = owner.post("/account/security/recovery-codes", nil)
	if r.status != http.StatusOK || r.doc.Find("[data-testid=recovery-code]").Length() != domain.RecoveryCodeCount {
		t.Fatalf("new codes: status %d", r.status)
	}
	if r := again.post("/signin/verify", url.Values{"code": {codes[1]}}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("an old code after new ones were made: status %d", r.status)
	}
	fresh := strings.TrimSpace(r.doc.Find("[data-testid=recovery-code]").First().Text())
	if r := again.post("/signin/verify", url.Values{"code": {fresh}}); r.status != http.StatusSeeOther {
		t.Fatalf("a new code: status %d", r.status)
	}
}

// A sign-in in progress waits 10 minutes for its second factor.
func TestSecondFactorStepExpires(t *testing.T) {
	app := newApp(t)
	c := app.client()
	passwordStep(c, adminEmail)
	app.clock.Advance(domain.PendingSignInTTL + time.Minute)
	code, _ := app.totpCode(adminEmail)
	r := c.post("/signin/verify", url.Values{"code": {code}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/signin" || signedInAs(c) != "" {
		t.Fatalf("late second factor: status %d, Location %q", r.status, r.header.Get("Location"))
	}
	if flash := c.get("/signin").doc.Find("[data-testid=flash]").Text(); !strings.Contains(flash, "took too long") {
		t.Fatalf("flash = %q", flash)
	}
}

// The re-authentication prompt takes a code instead of the password.
func TestReauthAcceptsCode(t *testing.T) {
	app := newApp(t)
	admin := app.signedIn(adminEmail)
	sa := app.addServiceAccount(app.inventory(), "Reauth robot")
	app.clock.Advance(domain.ReauthAfter + time.Minute)
	r := admin.post(saPath(sa)+"/keys", nil)
	if r.status != http.StatusUnauthorized || r.doc.Find("[data-testid=reauth-code]").Length() != 1 {
		t.Fatalf("stale session: status %d, code field %d", r.status, r.doc.Find("[data-testid=reauth-code]").Length())
	}
	if r := admin.post(saPath(sa)+"/keys", url.Values{"reauth_code": {"999999"}}); r.status != http.StatusUnauthorized || app.keyCount(sa.ID) != 0 {
		t.Fatalf("wrong code: status %d, %d keys", r.status, app.keyCount(sa.ID))
	}
	code, _ := app.totpCode(adminEmail)
	r = admin.post(saPath(sa)+"/keys", url.Values{"reauth_code": {code}})
	if r.status != http.StatusOK || r.doc.Find("[data-testid=new-key-secret]").Length() != 1 || app.keyCount(sa.ID) != 1 {
		t.Fatalf("with a code: status %d, %d keys", r.status, app.keyCount(sa.ID))
	}
}

// "Members must use a second factor": a member without one is sent to set
// it up before any page of the organization; other organizations and the
// API of service accounts are not affected.
func TestOrgRequiresSecondFactor(t *testing.T) {
	app := newApp(t)
	inv := app.inventory()
	admin := app.signedIn(adminEmail)
	orgPath := "/orgs/" + app.org.ID
	if r := admin.post(orgPath+"/security/policy", url.Values{"require_second_factor": {"on"}}); r.status != http.StatusSeeOther {
		t.Fatalf("set the policy: status %d", r.status)
	}
	if !strings.Contains(strings.Join(app.auditActions(app.org.ID), " "), domain.ActionSignInPolicyUpdate) {
		t.Fatal("the policy change is not audited")
	}
	erin := app.addUser("erin@example.com", inv.ID, domain.RoleProjectDev, "")
	elsewhere, _ := app.addOrg("Elsewhere", "boss@elsewhere.example")
	far := app.addProject(elsewhere.ID, "Far")
	addMember(t, app, far, erin)
	c := app.signedIn(erin.Email)
	for _, p := range []string{orgPath, "/projects/" + inv.ID, "/projects/" + inv.ID + "/serviceaccounts"} {
		r := c.get(p)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account/security?next="+url.QueryEscape(p) {
			t.Fatalf("%s without a second factor: status %d, Location %q", p, r.status, r.header.Get("Location"))
		}
	}
	// A change sent to the organization is refused the same way, and changes nothing.
	if r := c.post("/projects/"+inv.ID+"/serviceaccounts", url.Values{"displayName": {"Sneaky"}}); r.status != http.StatusSeeOther ||
		!strings.HasPrefix(r.header.Get("Location"), "/account/security") {
		t.Fatalf("a change without a second factor: status %d", r.status)
	}
	if len(listAccounts(t, app, inv)) != 0 {
		t.Fatal("the refused change was made")
	}
	page := c.get("/account/security?next=" + url.QueryEscape(orgPath))
	if !strings.Contains(page.doc.Find("[data-testid=required-by]").Text(), "Acme") {
		t.Fatalf("security page: %q", page.doc.Find("[data-testid=required-by]").Text())
	}
	// Another organization without the policy opens.
	if r := c.get("/projects/" + far.ID); r.status != http.StatusOK {
		t.Fatalf("another organization's project: status %d", r.status)
	}
	// The API of service accounts is not affected.
	keyID, secret := app.addRobot(inv)
	req, _ := http.NewRequest(http.MethodGet, app.srv.URL+"/v2/projects/"+inv.ID+"/serviceaccounts", nil)
	req.SetBasicAuth(keyID, secret)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("API under the policy: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// Once set up (which this session proves), the pages open.
	setUpTOTP(t, app, c, erin.Email)
	if r := c.get(orgPath); r.status != http.StatusOK {
		t.Fatalf("%s after setting up: status %d", orgPath, r.status)
	}
	// And the last factor cannot be taken away while the policy stands.
	r := c.post("/account/security/totp/disable", nil)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Acme requires a second factor") {
		t.Fatalf("turning the only factor off: status %d", r.status)
	}
	if app.rawCount("SELECT count(*) FROM totp_factors WHERE user_id = ? AND confirm_time <> 0", erin.ID) != 1 {
		t.Fatal("the refused change turned the app off")
	}
}

func addMember(t *testing.T, app *testApp, p domain.Project, u domain.User) {
	t.Helper()
	ctx := context.Background()
	m := domain.Membership{OrganizationID: p.OrganizationID, ProjectID: p.ID, Account: domain.AccountRef{Type: domain.AccountUser, ID: itoa(u.ID)},
		Role: domain.RoleProjectUser, Status: domain.StatusAccepted, CreateTime: app.clock.Now()}
	if err := app.store.Update(ctx, func(tx domain.Tx) error { return tx.CreateMembership(ctx, &m) }); err != nil {
		t.Fatal(err)
	}
}

func listAccounts(t *testing.T, app *testApp, p domain.Project) []domain.ServiceAccount {
	t.Helper()
	list, err := app.store.ListServiceAccounts(context.Background(), domain.ServiceAccountFilter{ProjectID: p.ID, Query: "Sneaky"}, domain.Cursor{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// Support staff always need a second factor for the support console.
func TestStaffNeedSecondFactor(t *testing.T) {
	app := newApp(t)
	sam := app.addStaff("sam@example.com", "")
	victim := app.addUser("victim@example.com", app.inventory().ID, domain.RoleProjectUser, "")
	c := app.signedIn(sam.Email)
	r := c.get("/support")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account/security?next=%2Fsupport" {
		t.Fatalf("support console without a second factor: status %d, Location %q", r.status, r.header.Get("Location"))
	}
	r = c.post("/support/accounts/"+itoa(victim.ID)+"/lock", url.Values{"reason": {"ticket 42: account takeover"}})
	if !strings.HasPrefix(r.header.Get("Location"), "/account/security") || app.storedUser(victim.ID).Locked {
		t.Fatalf("support action without a second factor: status %d, locked %v", r.status, app.storedUser(victim.ID).Locked)
	}
	setUpTOTP(t, app, c, sam.Email)
	if r := c.get("/support"); r.status != http.StatusOK {
		t.Fatalf("support console with a second factor: status %d", r.status)
	}
}

// Support staff reset a user's lost second factor: with a reason, audited
// in every organization of the user, who is signed out and told at the
// next sign-in.
func TestSupportResetsSecondFactor(t *testing.T) {
	app := newApp(t)
	inv := app.inventory()
	victim := app.addUser("victim@example.com", inv.ID, domain.RoleProjectUser, "")
	elsewhere, _ := app.addOrg("Elsewhere", "boss@elsewhere.example")
	addMember(t, app, app.addProject(elsewhere.ID, "Far"), victim)
	session := app.signedIn(victim.Email)
	setUpTOTP(t, app, session, victim.Email)
	staff := app.signedIn(adminEmail)
	path := "/support/accounts/" + itoa(victim.ID)
	if page := staff.get(path); !strings.Contains(page.doc.Find("[data-testid=support-factors]").Text(), "Authenticator app: on") {
		t.Fatalf("support page: %q", page.doc.Find("[data-testid=support-factors]").Text())
	}
	r := staff.post(path+"/second-factor/reset", url.Values{"reason": {""}})
	if r.status != http.StatusUnprocessableEntity || r.doc.Find("#second-factor [data-testid=error-reason]").Length() != 1 {
		t.Fatalf("reset without a reason: status %d", r.status)
	}
	if app.rawCount("SELECT count(*) FROM totp_factors WHERE user_id = ?", victim.ID) != 1 {
		t.Fatal("a refused reset removed the factor")
	}
	// Others than staff do not even see it.
	if r := app.signedIn(victim.Email).post(path+"/second-factor/reset", url.Values{"reason": {"I lost my phone"}}); r.status != http.StatusNotFound {
		t.Fatalf("reset by the user: status %d", r.status)
	}
	r = staff.post(path+"/second-factor/reset", url.Values{"reason": {"Ticket 7: lost phone, identity checked by video call"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("reset: status %d, %s", r.status, r.doc.Find("[data-testid=error-reason]").Text())
	}
	if app.rawCount("SELECT count(*) FROM totp_factors WHERE user_id = ?", victim.ID)+
		app.rawCount("SELECT count(*) FROM recovery_codes WHERE user_id = ?", victim.ID) != 0 {
		t.Fatal("factors left after the reset")
	}
	for _, org := range []string{app.org.ID, elsewhere.ID} {
		found := false
		for _, e := range auditEntries(t, app) {
			if e.OrganizationID == org && e.Action == domain.ActionSecondFactorReset && e.TargetID == itoa(victim.ID) &&
				strings.Contains(e.Reason, "Ticket 7") && e.ActorStaff {
				found = true
			}
		}
		if !found {
			t.Errorf("no reset in the audit log of organization %s", org)
		}
	}
	if signedInAs(session) != "" {
		t.Fatal("the user's session survived the reset")
	}
	c := app.client()
	if r := passwordStep(c, victim.Email); r.header.Get("Location") != "/" {
		t.Fatalf("sign-in after the reset: Location %q", r.header.Get("Location"))
	}
	notice := c.get("/").doc.Find("[data-testid=notice]").Text()
	if !strings.Contains(notice, "Support staff reset your second factor") || !strings.Contains(notice, "Ticket 7") {
		t.Fatalf("notice = %q", notice)
	}
	if again := app.signedIn(victim.Email).get("/"); strings.Contains(again.doc.Find("[data-testid=notice]").Text(), "reset your second factor") {
		t.Fatal("told twice")
	}
}

// Accepting an invitation by signing in asks for the second factor too:
// the password alone neither signs in nor accepts.
func TestInviteSignInAsksSecondFactor(t *testing.T) {
	w := newInvWorld(t)
	field := w.app.addProject(w.acme.ID, "Field")
	w.acmeAdm.get(memMembersPath(field.ID))
	acmeLink := memLink(t, w.acmeAdm.post(memMembersPath(field.ID), url.Values{"email": {invVictim}, "role": {string(domain.RoleProjectDev)}}))
	w.mallory.get(memMembersPath(w.evilProj.ID))
	evilLink := memLink(t, w.mallory.post(memMembersPath(w.evilProj.ID), url.Values{"email": {invVictim}, "role": {string(domain.RoleProjectUser)}}))
	owner := w.acceptWithPassword(t, acmeLink, invVictimPassword)
	setUpTOTP(t, w.app, owner, invVictim)
	victim, _ := w.app.memUser(invVictim)

	c := w.app.client()
	c.get(evilLink)
	r := c.post(evilLink, url.Values{"action": {"signin"}, "password": {invVictimPassword}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/signin/verify?next="+url.QueryEscape(evilLink) {
		t.Fatalf("password of an account with a second factor: status %d, Location %q", r.status, r.header.Get("Location"))
	}
	if signedInAs(c) != "" {
		t.Fatal("the password alone signed in")
	}
	if m, _ := w.app.memMembership(w.evilProj.ID, memUserRef(victim)); m.Status != domain.StatusPending {
		t.Fatal("the password alone accepted the invitation")
	}
	r = c.secondFactor(invVictim, r)
	if r.header.Get("Location") != evilLink {
		t.Fatalf("after the second factor: Location %q", r.header.Get("Location"))
	}
	if page := c.get(evilLink); page.doc.Find("[data-testid=accept-form]").Length()+page.doc.Find("form input[name=action][value=accept]").Length() == 0 {
		t.Fatalf("the invitation page does not offer to accept as the signed-in user: status %d", page.status)
	}
	if r := c.post(evilLink, url.Values{"action": {"accept"}}); r.status != http.StatusSeeOther {
		t.Fatalf("accept: status %d", r.status)
	}
	if m, _ := w.app.memMembership(w.evilProj.ID, memUserRef(victim)); m.Status != domain.StatusAccepted {
		t.Fatal("not accepted after the second factor")
	}
}

// Every page of an organization that requires a second factor, whatever
// route it comes from (the routes with :org or :project, read from the
// router), sends a member without one to set it up; none answers anything
// else, and nothing changes.
func TestSecondFactorPolicySweep(t *testing.T) {
	w := newSweepWorld(t)
	admin := w.app.signedIn(adminEmail)
	if r := admin.post("/orgs/"+w.app.org.ID+"/security/policy", url.Values{"require_second_factor": {"on"}}); r.status != http.StatusSeeOther {
		t.Fatalf("set the policy: status %d", r.status)
	}
	member := w.app.signedIn("padmin@example.com")
	before := len(w.app.auditActions(w.app.org.ID))
	n := 0
	for _, key := range routeKeys(t, w.app, false) {
		method, route, _ := strings.Cut(key, " ")
		if !strings.Contains(route, ":org") && !strings.Contains(route, ":project") {
			continue
		}
		var r response
		if method == http.MethodGet {
			r = member.get(w.path(route))
		} else {
			r = member.post(w.path(route), url.Values{"displayName": {"Policy"}, "confirm": {"yes"}, "role": {string(domain.RoleProjectAdmin)}})
		}
		n++
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/account/security?next=") {
			t.Errorf("%s: status %d, Location %q; want the security page", key, r.status, r.header.Get("Location"))
		}
	}
	if n < 40 {
		t.Fatalf("only %d organization routes swept", n)
	}
	if after := len(w.app.auditActions(w.app.org.ID)); after != before {
		t.Fatalf("refused requests wrote %d audit entries", after-before)
	}
	t.Logf("second-factor policy sweep: %d organization routes", n)
}

// A session signed in before its user set up a second factor (elsewhere)
// has not proved it: the policy asks this session to confirm it, then
// goes on to where it was going.
func TestPolicyAsksOlderSessionToProveFactor(t *testing.T) {
	app := newApp(t)
	inv := app.inventory()
	erin := app.addUser("erin@example.com", inv.ID, domain.RoleProjectDev, "")
	older := app.signedIn(erin.Email)
	setUpTOTP(t, app, app.signedIn(erin.Email), erin.Email)
	if r := app.signedIn(adminEmail).post("/orgs/"+app.org.ID+"/security/policy", url.Values{"require_second_factor": {"on"}}); r.status != http.StatusSeeOther {
		t.Fatalf("set the policy: status %d", r.status)
	}
	target := "/projects/" + inv.ID
	r := older.get(target)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account/security?next="+url.QueryEscape(target) {
		t.Fatalf("older session: status %d, Location %q", r.status, r.header.Get("Location"))
	}
	page := older.get(r.header.Get("Location"))
	if page.doc.Find("[data-testid=verify-form]").Length() != 1 {
		t.Fatal("the security page does not ask to confirm the second factor")
	}
	if r := older.post("/account/security/verify", url.Values{"code": {"000000"}, "next": {target}}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("wrong code: status %d", r.status)
	}
	if r := older.get(target); r.status != http.StatusSeeOther {
		t.Fatal("a wrong code let the session in")
	}
	code, _ := app.totpCode(erin.Email)
	r = older.post("/account/security/verify", url.Values{"code": {code}, "next": {target}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != target {
		t.Fatalf("right code: status %d, Location %q", r.status, r.header.Get("Location"))
	}
	if r := older.get(target); r.status != http.StatusOK {
		t.Fatalf("%s after confirming: status %d", target, r.status)
	}
}
