package web_test

import (
	"strings"
	"testing"

	"studio/domain"

	"github.com/go-rod/rod/lib/proto"
	"github.com/pquerna/otp/totp"
)

// Browser tests of sign-in security: the authenticator app set up as a
// person does (reading the key off the page), passkeys with Chromium's
// virtual authenticator (DevTools WebAuthn domain), and single sign-on
// with the test provider. They run at http://localhost:<port>: WebAuthn
// binds passkeys to a host name and refuses an IP address.

// visitLocal loads a path of the test app at localhost.
func (bp *browserPage) visitLocal(path string) {
	bp.t.Helper()
	p := bp.page.Timeout(browserWaitBudget)
	if err := p.Navigate(bp.app.localURL + path); err != nil {
		bp.fatal("navigate to %s: %v", path, err)
	}
	if err := p.WaitLoad(); err != nil {
		bp.fatal("load %s: %v", path, err)
	}
}

// signInWithPassword signs in at localhost through the form, as a user
// without a second factor.
func (bp *browserPage) signInWithPassword(email string) {
	bp.t.Helper()
	bp.visitLocal("/signin")
	bp.typeInto("#email", email)
	bp.typeInto("#password", adminPassword)
	bp.click("[data-testid=signin-submit]")
}

// virtualAuthenticator gives the tab a platform authenticator that keeps
// passkeys, verifies its user and answers at once.
func (bp *browserPage) virtualAuthenticator() proto.WebAuthnAuthenticatorID {
	bp.t.Helper()
	if err := (proto.WebAuthnEnable{}).Call(bp.page); err != nil {
		bp.fatal("enable WebAuthn: %v", err)
	}
	res, err := proto.WebAuthnAddVirtualAuthenticator{Options: &proto.WebAuthnVirtualAuthenticatorOptions{
		Protocol: proto.WebAuthnAuthenticatorProtocolCtap2, Transport: proto.WebAuthnAuthenticatorTransportInternal,
		HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
	}}.Call(bp.page)
	if err != nil {
		bp.fatal("add a virtual authenticator: %v", err)
	}
	return res.AuthenticatorID
}

func (bp *browserPage) signOut() {
	bp.t.Helper()
	bp.click("[data-testid=user-menu]")
	bp.click("[data-testid=signout]")
	bp.waitPath(`^/signin$`)
}

// An authenticator app set up as a person does: the key read off the page,
// a code typed, the recovery codes shown once; a passkey registered with
// the virtual authenticator; then a password-less sign-in with it, and a
// sign-in that asks for the second factor after the password.
func TestBrowserSecondFactorsAndPasskeys(t *testing.T) {
	app := newApp(t)
	erin := app.addUser("erin@example.com", app.inventory().ID, domain.RoleProjectDev, "")
	bp := browserOpen(t, app)
	auth := bp.virtualAuthenticator()

	bp.signInWithPassword(erin.Email)
	bp.waitPath(`^/$`)
	bp.click("[data-testid=user-menu]")
	bp.click("[data-testid=security-link]")
	bp.waitPath(`^/account/security$`)

	// The authenticator app.
	bp.click("[data-testid=totp-begin]")
	bp.waitText("[data-testid=totp-setup]", "Scan this code")
	if bp.eval(`() => document.querySelector("[data-testid=totp-qr] path").getAttribute("d").length`).Value.Int() < 100 {
		bp.fatal("no QR code drawn")
	}
	bp.screenshot("security-totp-setup")
	secret := strings.ReplaceAll(bp.text("[data-testid=totp-secret]"), " ", "")
	code, err := totp.GenerateCode(secret, app.clock.Now())
	if err != nil {
		bp.fatal("code from %q: %v", secret, err)
	}
	bp.typeInto("[data-testid=totp-code]", code)
	bp.click("[data-testid=totp-confirm]")
	bp.waitText("[data-testid=recovery-codes-page] h1", "Your recovery codes")
	if n := bp.eval(`() => document.querySelectorAll("[data-testid=recovery-code]").length`).Value.Int(); n != domain.RecoveryCodeCount {
		bp.fatal("%d recovery codes shown", n)
	}
	bp.click("[data-testid=recovery-done]")
	bp.waitText("[data-testid=totp-state]", "On since")

	// A passkey, named.
	bp.typeInto("[data-testid=passkey-name-input]", "This laptop")
	bp.click("[data-testid=passkey-add]")
	bp.waitText("[data-testid=passkey-register] h1", "This laptop")
	bp.click("[data-testid=passkey-create]")
	bp.waitText("[data-testid=passkey-name]", "This laptop")
	creds, err := proto.WebAuthnGetCredentials{AuthenticatorID: auth}.Call(bp.page)
	if err != nil || len(creds.Credentials) != 1 || !creds.Credentials[0].IsResidentCredential {
		bp.fatal("the virtual authenticator holds %+v (%v), want one passkey", creds, err)
	}
	bp.screenshot("security")

	// Password-less: the passkey alone.
	bp.signOut()
	bp.visitLocal("/signin")
	bp.click("[data-testid=passkey-signin]")
	bp.waitPath(`^/$`)
	bp.waitText("[data-testid=user-menu]", erin.Email)

	// The password, then the second factor: here the passkey.
	bp.signOut()
	bp.signInWithPassword(erin.Email)
	bp.waitPath(`^/signin/verify$`)
	bp.waitText("[data-testid=second-factor-email]", erin.Email)
	bp.waitJS("the passkey choice", `() => !document.querySelector("[data-testid=second-factor-passkey]").hidden`)
	bp.screenshot("second-factor")
	bp.click("[data-testid=second-factor-passkey]")
	bp.waitPath(`^/$`)
	bp.waitText("[data-testid=user-menu]", erin.Email)
	if n := app.rawCount("SELECT count(*) FROM passkeys WHERE user_id = ? AND last_used_time > 0", erin.ID); n != 1 {
		bp.fatal("the passkey's use is not recorded")
	}
}

// Single sign-on round trip: the email's domain offers its provider on
// the sign-in page; the provider signs the person in; a new account lands
// in the organization.
func TestBrowserSSORoundTrip(t *testing.T) {
	w := newSSOWorld(t)
	w.idp.signIn(bob)
	bp := browserOpen(t, w.app)
	bp.visitLocal("/signin")
	bp.typeInto("#email", bob.Email)
	bp.waitText("[data-testid=sso-signin]", "Sign in with Corp Login")
	bp.screenshot("signin-sso")
	bp.click("[data-testid=sso-signin]")
	bp.waitPath(`^/$`)
	bp.waitText("[data-testid=user-menu]", bob.Email)
	bp.waitText("[data-testid=org-link]", "Acme")
	if w.app.ssoLinks() != 1 {
		bp.fatal("no link recorded")
	}
	// The organization's admin sees the connection (never its secret).
	admin := browserOpen(t, w.app)
	admin.signIn(false)
	admin.visit("/orgs/" + w.app.org.ID + "/security")
	admin.waitText("[data-testid=sso-state]", "Connected to Corp Login")
	if v := admin.value("[data-testid=sso-client_secret]"); v != "" {
		admin.fatal("the client secret field holds %q", v)
	}
	admin.screenshot("org-signin")
}
