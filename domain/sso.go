package domain

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Single sign-on with an organization's identity provider (OpenID
// Connect, authorization code flow with PKCE, state and nonce). The
// protocol (discovery, the token endpoint, the ID token's signature,
// issuer, audience and expiry) is an IdentityProvider's job, outside the
// domain (package sso); the domain decides who the identity is here:
//
//   - the provider must say the email is verified, and its domain must be
//     one the organization allows;
//   - an identity seen before signs in as the account it was linked to;
//   - a new email makes a new account, which joins the organization with
//     the connection's default role (none by default);
//   - an email that already has an account is linked to it only once its
//     owner signs in with their password: a provider that asserts any
//     email cannot take an account over.

// IdentityProvider speaks OpenID Connect to an organization's provider.
type IdentityProvider interface {
	// AuthCodeURL is where the browser goes to sign in: the provider's
	// authorization endpoint with state, nonce and the PKCE challenge of verifier.
	AuthCodeURL(ctx context.Context, c OIDCClient, state, nonce, verifier string) (string, error)
	// Exchange redeems the code (with the PKCE verifier) at the token
	// endpoint and returns the ID token's identity, once its signature,
	// issuer, audience and expiry are checked.
	Exchange(ctx context.Context, c OIDCClient, code, verifier string) (Identity, error)
}

// OIDCClient is this console as a client of one provider.
type OIDCClient struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	RedirectURL  string
}

// Identity is what a checked ID token says.
type Identity struct {
	Issuer        string
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	Nonce         string
}

// SSOConnection is an organization's identity provider.
type SSOConnection struct {
	OrganizationID string
	// ProviderName is shown on the button: "Sign in with <ProviderName>".
	ProviderName string
	Issuer       string
	ClientID     string
	// SealedSecret is the client secret, encrypted with the server key.
	SealedSecret []byte
	// Domains are the email domains whose people sign in through it.
	Domains []string
	// DefaultProjectID and DefaultRole: what a new account gets (RoleNone: nothing).
	DefaultProjectID string
	DefaultRole      Role
	CreateTime       time.Time
	UpdateTime       time.Time
}

// SSOLink says which account an identity signs in as.
type SSOLink struct {
	OrganizationID string
	Subject        string
	UserID         int64
	Issuer         string
	CreateTime     time.Time
	// Filled on reads for display.
	OrganizationName string
	ProviderName     string
}

// SSOState is a sign-in sent to a provider, waiting for its answer.
type SSOState struct {
	StateHash      string
	OrganizationID string
	NonceHash      string
	SealedVerifier []byte
	// BrowserHash is a hash of the value the starting browser keeps.
	BrowserHash string
	Next        string
	CreateTime  time.Time
}

// SSOStateTTL is how long a provider may take to answer.
const SSOStateTTL = 10 * time.Minute

// MaxSSODomains bounds the email domains of one connection.
const MaxSSODomains = 20

// NoPasswordHash is the password hash of an account made by single
// sign-on: it matches no password (and is not a pending account's empty one).
const NoPasswordHash = "!sso"

// SSO is single sign-on: organization admins connect their provider;
// people sign in through it.
type SSO struct {
	access      SSOAccess
	store       SecondFactorStore
	signIns     *SignIns
	sealer      *Sealer
	idp         IdentityProvider
	redirectURL string
	now         func() time.Time
}

// SSOAccess is what SSO reads to know who administers an organization.
type SSOAccess interface {
	OrganizationReader
	ProjectReader
	AccessReader
}

// SSOConfig is what SSO needs.
type SSOConfig struct {
	// Access answers who administers an organization (the store).
	Access   SSOAccess
	Store    SecondFactorStore
	SignIns  *SignIns
	Sealer   *Sealer
	Provider IdentityProvider
	// RedirectURL is this console's callback: <base URL>/signin/sso/callback.
	RedirectURL string
	Now         func() time.Time
}

// NewSSO returns the single sign-on service.
func NewSSO(cfg SSOConfig) *SSO {
	return &SSO{access: cfg.Access, store: cfg.Store, signIns: cfg.SignIns, sealer: cfg.Sealer, idp: cfg.Provider,
		redirectURL: cfg.RedirectURL, now: cfg.Now}
}

// RedirectURL is the callback to register at a provider.
func (s *SSO) RedirectURL() string { return s.redirectURL }

func ssoSecretAAD(orgID string) []byte  { return []byte("sso client secret:" + orgID) }
func ssoVerifierAAD(hash string) []byte { return []byte("sso verifier:" + hash) }
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
func urlToken(n int) string        { return base64.RawURLEncoding.EncodeToString(randomBytes(n)) }
func equalHashes(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
func domainOf(email string) string { _, d, _ := strings.Cut(email, "@"); return d }
func roleAllowedAsDefault(r Role) bool {
	return r == RoleNone || r == RoleProjectUser || r == RoleProjectDev
}
func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return b
}

// SSOSettings is an organization's sign-in page for its admins. The
// client secret is never in it: only whether one is stored.
type SSOSettings struct {
	Organization Organization
	Policy       SignInPolicy
	Connection   *SSOConnection // nil: none
	// SignedInBySSO: this session was signed in by the organization's
	// provider (a condition to require single sign-on).
	SignedInBySSO bool
	// DefaultProject is the project new people join (nil: none, or gone).
	DefaultProject *Project
}

// Settings returns an organization's sign-in settings, for its admins.
func (s *SSO) Settings(ctx context.Context, p Principal, orgID string) (SSOSettings, error) {
	org, err := requireOrgAdmin(ctx, s.access, p, orgID)
	if err != nil {
		return SSOSettings{}, err
	}
	out := SSOSettings{Organization: org, SignedInBySSO: slices.Contains(p.SSOOrganizations, orgID)}
	if out.Policy, err = s.store.SignInPolicy(ctx, orgID); err != nil {
		return out, err
	}
	c, err := s.store.SSOConnection(ctx, orgID)
	switch ErrorCode(err) {
	case "":
		c.SealedSecret = nil
		out.Connection = &c
		if proj, err := s.access.ProjectByID(ctx, c.DefaultProjectID); err == nil && proj.OrganizationID == orgID {
			out.DefaultProject = &proj
		}
	case ENOTFOUND:
	default:
		return out, err
	}
	return out, nil
}

// SSOInput is the connection form.
type SSOInput struct {
	ProviderName     string
	Issuer           string
	ClientID         string
	ClientSecret     string // "" keeps the stored one
	Domains          string // separated by commas, spaces or lines
	DefaultProjectID string
	DefaultRole      Role
}

// SaveConnection connects (or reconnects) the organization's provider.
func (s *SSO) SaveConnection(ctx context.Context, p Principal, orgID string, in SSOInput) error {
	org, err := requireOrgAdmin(ctx, s.access, p, orgID)
	if err != nil {
		return err
	}
	c, errs := s.checkInput(ctx, orgID, in)
	if len(errs) > 0 {
		return &Error{Code: EINVALID, Message: "Check the fields marked below.", Fields: errs}
	}
	now := s.now()
	if err := requireRecentAuth(p, now, ChangeSingleSignOn); err != nil {
		return err
	}
	return s.store.UpdateSignIn(ctx, func(tx SecondFactorTx) error {
		old, err := tx.SSOConnection(ctx, orgID)
		switch ErrorCode(err) {
		case "":
			c.CreateTime = old.CreateTime
			if in.ClientSecret == "" {
				c.SealedSecret = old.SealedSecret
			}
		case ENOTFOUND:
			c.CreateTime = now
			if in.ClientSecret == "" {
				return &Error{Code: EINVALID, Message: "Check the fields marked below.", Fields: map[string]string{"client_secret": "Enter the client secret the provider gave you."}}
			}
		default:
			return err
		}
		if in.ClientSecret != "" {
			c.SealedSecret = s.sealer.Seal([]byte(in.ClientSecret), ssoSecretAAD(orgID))
		}
		for _, d := range c.Domains {
			other, err := tx.SSOConnectionForDomain(ctx, d)
			if err == nil && other.OrganizationID != orgID {
				return &Error{Code: ECONFLICT, Message: "Check the fields marked below.",
					Fields: map[string]string{"domains": "The domain " + d + " already signs in through another organization's provider."}}
			}
			if err != nil && ErrorCode(err) != ENOTFOUND {
				return err
			}
		}
		c.UpdateTime = now
		if err := tx.SetSSOConnection(ctx, c); err != nil {
			return err
		}
		e := auditEntry(p, now, ActionSSOUpdate, "organization", orgID, org.DisplayName)
		e.OrganizationID = orgID
		e.Detail = fmt.Sprintf("provider %s, issuer %s, client id %s, domains %s, default role %s", c.ProviderName, c.Issuer, c.ClientID,
			strings.Join(c.Domains, ", "), defaultAccess(c))
		if in.ClientSecret != "" {
			e.Detail += "; client secret set"
		}
		return tx.AddAudit(ctx, e)
	})
}

func defaultAccess(c SSOConnection) string {
	if c.DefaultRole == RoleNone {
		return "none"
	}
	return RoleDisplayName(c.DefaultRole) + " in project " + c.DefaultProjectID
}

// checkInput checks the connection form, field by field.
func (s *SSO) checkInput(ctx context.Context, orgID string, in SSOInput) (SSOConnection, map[string]string) {
	errs := map[string]string{}
	c := SSOConnection{OrganizationID: orgID, DefaultRole: in.DefaultRole}
	if name, err := CleanDisplayName("provider_name", in.ProviderName); err != nil {
		errs["provider_name"] = ErrorMessage(err)
	} else {
		c.ProviderName = name
	}
	if issuer, msg := cleanIssuer(in.Issuer); msg != "" {
		errs["issuer"] = msg
	} else {
		c.Issuer = issuer
	}
	c.ClientID = strings.TrimSpace(in.ClientID)
	switch {
	case c.ClientID == "":
		errs["client_id"] = "Enter the client id the provider gave you."
	case len(c.ClientID) > 255 || strings.IndexFunc(c.ClientID, invisibleOrSpace) >= 0:
		errs["client_id"] = "A client id is at most 255 characters, without spaces or invisible characters."
	}
	if len(in.ClientSecret) > 1024 || strings.IndexFunc(in.ClientSecret, invisibleOrSpace) >= 0 {
		errs["client_secret"] = "A client secret is at most 1024 characters, without spaces or invisible characters."
	}
	if domains, msg := cleanDomains(in.Domains); msg != "" {
		errs["domains"] = msg
	} else {
		c.Domains = domains
	}
	switch {
	case !roleAllowedAsDefault(in.DefaultRole):
		errs["default_role"] = "New accounts may get Project user or Project developer at most; grant more by hand."
	case in.DefaultRole != RoleNone:
		proj, err := s.access.ProjectByID(ctx, in.DefaultProjectID)
		if !ValidID(in.DefaultProjectID) || err != nil || proj.OrganizationID != orgID {
			errs["default_project"] = "Choose a project of this organization."
		} else {
			c.DefaultProjectID = proj.ID
		}
	}
	return c, errs
}

func invisibleOrSpace(r rune) bool { return r <= ' ' || r == 0x7f || !isVisible(r) }

// cleanIssuer checks an issuer URL: https (http only for this machine, to
// try a provider out), no query or fragment, no trailing slash kept.
func cleanIssuer(raw string) (string, string) {
	raw = strings.TrimRight(strings.TrimSpace(raw), "/")
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return "", "Enter the provider's issuer URL, such as https://login.example.com."
	case len(raw) > 500 || err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return "", "Enter the issuer as a plain https:// URL, without a query or a fragment."
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopbackHost(u.Hostname()):
	default:
		return "", "The issuer must be an https:// URL (http:// only for a provider on this machine)."
	}
	return raw, ""
}

func isLoopbackHost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// cleanDomains reads the allowed email domains.
func cleanDomains(raw string) ([]string, string) {
	fields := strings.FieldsFunc(strings.ToLower(raw), func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
	var out []string
	for _, d := range fields {
		d = strings.TrimPrefix(d, "@")
		if !validDomain(d) {
			return nil, fmt.Sprintf("%q is not a domain name such as example.com.", d)
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	switch {
	case len(out) == 0:
		return nil, "Enter at least one email domain, such as example.com: its people sign in through this provider."
	case len(out) > MaxSSODomains:
		return nil, fmt.Sprintf("At most %d domains.", MaxSSODomains)
	}
	slices.Sort(out)
	return out, ""
}

func validDomain(d string) bool {
	if len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// DeleteConnection disconnects the provider; single sign-on stops being
// required. Links are kept, for a reconnection.
func (s *SSO) DeleteConnection(ctx context.Context, p Principal, orgID string, confirmed bool) error {
	org, err := requireOrgAdmin(ctx, s.access, p, orgID)
	if err != nil {
		return err
	}
	if !confirmed {
		return Errorf(EINVALID, "Confirm that you want to disconnect the identity provider.")
	}
	now := s.now()
	if err := requireRecentAuth(p, now, DisconnectSingleSignOn); err != nil {
		return err
	}
	return s.store.UpdateSignIn(ctx, func(tx SecondFactorTx) error {
		c, err := tx.SSOConnection(ctx, orgID)
		if err != nil {
			return err
		}
		if err := tx.DeleteSSOConnection(ctx, orgID); err != nil {
			return err
		}
		pol, err := tx.SignInPolicy(ctx, orgID)
		if err != nil {
			return err
		}
		detail := "provider " + c.ProviderName + " disconnected"
		if pol.RequireSSO {
			pol.RequireSSO, pol.UpdateTime = false, now
			if err := tx.SetSignInPolicy(ctx, pol); err != nil {
				return err
			}
			detail += "; single sign-on no longer required"
		}
		e := auditEntry(p, now, ActionSSODelete, "organization", orgID, org.DisplayName)
		e.OrganizationID, e.Detail = orgID, detail
		return tx.AddAudit(ctx, e)
	})
}

// SetPolicy sets what the organization requires of its members' sign-in.
// Requiring single sign-on takes a connected provider, and a session its
// provider signed in, so an admin cannot lock everyone out with a
// provider that does not work.
func (s *SSO) SetPolicy(ctx context.Context, p Principal, orgID string, requireSecondFactor, requireSSO bool) error {
	org, err := requireOrgAdmin(ctx, s.access, p, orgID)
	if err != nil {
		return err
	}
	now := s.now()
	return s.store.UpdateSignIn(ctx, func(tx SecondFactorTx) error {
		old, err := tx.SignInPolicy(ctx, orgID)
		if err != nil {
			return err
		}
		if old.RequireSecondFactor == requireSecondFactor && old.RequireSSO == requireSSO {
			return nil
		}
		if requireSSO && !old.RequireSSO {
			if _, err := tx.SSOConnection(ctx, orgID); ErrorCode(err) == ENOTFOUND {
				return FieldError("require_sso", "Connect an identity provider first.")
			} else if err != nil {
				return err
			}
			if !slices.Contains(p.SSOOrganizations, orgID) {
				return FieldError("require_sso", "Sign in with the organization's provider first (sign out, then sign in with it), so you know it works before everyone must use it.")
			}
		}
		if err := requireRecentAuth(p, now, ChangeSignInPolicy); err != nil {
			return err
		}
		pol := SignInPolicy{OrganizationID: orgID, RequireSecondFactor: requireSecondFactor, RequireSSO: requireSSO, UpdateTime: now}
		if err := tx.SetSignInPolicy(ctx, pol); err != nil {
			return err
		}
		e := auditEntry(p, now, ActionSignInPolicyUpdate, "organization", orgID, org.DisplayName)
		e.OrganizationID = orgID
		e.Detail = fmt.Sprintf("second factor required: %s; single sign-on required: %s", yesNo(requireSecondFactor), yesNo(requireSSO))
		return tx.AddAudit(ctx, e)
	})
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// ProviderFor returns the connection an email's domain signs in through,
// for the sign-in page's button; ENOTFOUND when none.
func (s *SSO) ProviderFor(ctx context.Context, email string) (SSOConnection, error) {
	email, err := CleanEmail("email", email)
	if err != nil {
		return SSOConnection{}, ErrNotFound("Provider")
	}
	c, err := s.store.SSOConnectionForDomain(ctx, domainOf(email))
	c.SealedSecret = nil
	return c, err
}

// SSOStartView names an organization's provider, for the page that asks
// its members to sign in with it.
type SSOStartView struct {
	OrganizationName string
	ProviderName     string
}

// StartView names the provider of an organization (ENOTFOUND: none).
func (s *SSO) StartView(ctx context.Context, orgID string) (SSOStartView, error) {
	if !ValidID(orgID) {
		return SSOStartView{}, ErrNotFound("Identity provider")
	}
	c, err := s.store.SSOConnection(ctx, orgID)
	if err != nil {
		return SSOStartView{}, err
	}
	org, err := s.store.OrganizationByID(ctx, orgID)
	return SSOStartView{OrganizationName: org.DisplayName, ProviderName: c.ProviderName}, err
}

// SSOStart is a sign-in sent to a provider: where the browser goes, and
// the value it keeps (in a cookie) to be recognised when it comes back.
type SSOStart struct {
	URL     string
	Browser string
}

// Begin sends a sign-in to the organization's provider (orgID), or to the
// provider of the email's domain (email). next is where to go once signed in.
func (s *SSO) Begin(ctx context.Context, orgID, email, next string) (SSOStart, error) {
	var c SSOConnection
	var err error
	if orgID != "" {
		if !ValidID(orgID) {
			return SSOStart{}, ErrNotFound("Provider")
		}
		c, err = s.store.SSOConnection(ctx, orgID)
	} else {
		c, err = s.ProviderFor(ctx, email)
		if err == nil {
			c, err = s.store.SSOConnection(ctx, c.OrganizationID)
		}
	}
	if ErrorCode(err) == ENOTFOUND {
		return SSOStart{}, Errorf(ENOTFOUND, "No identity provider signs in this address. Sign in with your password.")
	}
	if err != nil {
		return SSOStart{}, err
	}
	client, err := s.client(c)
	if err != nil {
		return SSOStart{}, err
	}
	state, nonce, verifier, browser := urlToken(32), urlToken(32), urlToken(48), urlToken(32)
	now := s.now()
	st := SSOState{StateHash: hashToken(state), OrganizationID: c.OrganizationID, NonceHash: hashToken(nonce),
		BrowserHash: hashToken(browser), Next: next, CreateTime: now}
	st.SealedVerifier = s.sealer.Seal([]byte(verifier), ssoVerifierAAD(st.StateHash))
	authURL, err := s.idp.AuthCodeURL(ctx, client, state, nonce, verifier)
	if err != nil {
		return SSOStart{}, Errorf(EUNAVAILABLE, "%s cannot be reached right now. Try again later, or sign in with your password.", c.ProviderName).withCause(err)
	}
	err = s.store.UpdateSignIn(ctx, func(tx SecondFactorTx) error {
		if err := tx.ForgetSSOStates(ctx, now.Add(-SSOStateTTL)); err != nil {
			return err
		}
		return tx.CreateSSOState(ctx, st)
	})
	if err != nil {
		return SSOStart{}, err
	}
	return SSOStart{URL: authURL, Browser: browser}, nil
}

func (s *SSO) client(c SSOConnection) (OIDCClient, error) {
	secret, err := s.sealer.Open(c.SealedSecret, ssoSecretAAD(c.OrganizationID))
	if err != nil {
		return OIDCClient{}, fmt.Errorf("open client secret of %s: %w", c.OrganizationID, err)
	}
	return OIDCClient{Issuer: c.Issuer, ClientID: c.ClientID, ClientSecret: string(secret), RedirectURL: s.redirectURL}, nil
}

// ssoRefused is a sign-in the provider's answer does not allow.
func ssoRefused(format string, args ...any) error {
	return Errorf(EUNAUTHORIZED, format, args...)
}

// SSOFinish is where a sign-in stands after the provider's answer, and
// where to go afterwards.
type SSOFinish struct {
	SignInStep
	Next string
	// Link is set when the identity's email has an account not linked yet:
	// its owner must give the password (LinkWithPassword).
	Link *SSOLinkView
}

// SSOLinkView is the page asking for the password to link an identity.
type SSOLinkView struct {
	Email            string
	OrganizationName string
	ProviderName     string
}

// Finish takes the provider's answer: the state must be one this browser
// started (and is used once), the code is redeemed, and the identity must
// be the one asked for (nonce), with a verified email of an allowed domain.
func (s *SSO) Finish(ctx context.Context, state, browser, code string, client Client) (SSOFinish, error) {
	if state == "" || code == "" {
		return SSOFinish{}, ssoRefused("The identity provider's answer is incomplete. Start again.")
	}
	var st SSOState
	err := s.store.UpdateSignIn(ctx, func(tx SecondFactorTx) error {
		var err error
		st, err = tx.TakeSSOState(ctx, hashToken(state))
		return err
	})
	if ErrorCode(err) == ENOTFOUND {
		return SSOFinish{}, ssoRefused("This sign-in was used already or is unknown. Start again.")
	}
	if err != nil {
		return SSOFinish{}, err
	}
	now := s.now()
	if !equalHashes(st.BrowserHash, hashToken(browser)) {
		return SSOFinish{}, ssoRefused("This sign-in was started in another browser. Start again here.")
	}
	if now.Sub(st.CreateTime) > SSOStateTTL {
		return SSOFinish{}, ssoRefused("This sign-in took too long. Start again.")
	}
	c, err := s.store.SSOConnection(ctx, st.OrganizationID)
	if ErrorCode(err) == ENOTFOUND {
		return SSOFinish{}, ssoRefused("The organization's identity provider was disconnected meanwhile.")
	}
	if err != nil {
		return SSOFinish{}, err
	}
	oc, err := s.client(c)
	if err != nil {
		return SSOFinish{}, err
	}
	verifier, err := s.sealer.Open(st.SealedVerifier, ssoVerifierAAD(st.StateHash))
	if err != nil {
		return SSOFinish{}, err
	}
	id, err := s.idp.Exchange(ctx, oc, code, string(verifier))
	if err != nil {
		if ErrorCode(err) != EINTERNAL {
			return SSOFinish{}, err
		}
		return SSOFinish{}, (&Error{Code: EUNAUTHORIZED, Message: c.ProviderName + " did not confirm who you are. Start again, or sign in with your password."}).withCause(err)
	}
	if id.Issuer != c.Issuer {
		return SSOFinish{}, ssoRefused("The answer did not come from %s. Start again.", c.ProviderName)
	}
	if !equalHashes(hashToken(id.Nonce), st.NonceHash) {
		return SSOFinish{}, ssoRefused("The answer was not for this sign-in. Start again.")
	}
	if id.Subject == "" || len(id.Subject) > 255 {
		return SSOFinish{}, ssoRefused("%s did not say who you are.", c.ProviderName)
	}
	if !id.EmailVerified {
		return SSOFinish{}, ssoRefused("%s has not verified your email address, so it cannot sign you in here. Verify it there, or sign in with your password.", c.ProviderName)
	}
	email, err := CleanEmail("email", id.Email)
	if err != nil {
		return SSOFinish{}, ssoRefused("%s gave no usable email address.", c.ProviderName)
	}
	if !slices.Contains(c.Domains, domainOf(email)) {
		return SSOFinish{}, ssoRefused("%s may sign in addresses of %s only, not %s.", c.ProviderName, strings.Join(c.Domains, ", "), email)
	}
	out := SSOFinish{Next: st.Next}
	link, err := s.store.SSOLinkBySubject(ctx, c.OrganizationID, id.Subject)
	switch ErrorCode(err) {
	case "":
		u, err := s.signIns.activeUser(ctx, link.UserID)
		if err != nil {
			return out, err
		}
		out.SignInStep, err = s.signIns.afterPrimary(ctx, u, c.OrganizationID)
		return out, err
	case ENOTFOUND:
	default:
		return out, err
	}
	existing, err := s.store.UserByEmail(ctx, email)
	switch ErrorCode(err) {
	case "":
		if existing.Pending() {
			return out, ssoRefused("An invitation is waiting for %s: accept it through its link first, then sign in with %s.", email, c.ProviderName)
		}
		if existing.Locked {
			return out, Errorf(EFORBIDDEN, "This account is locked. Contact your support team.")
		}
		token, err := s.signIns.startPending(ctx, PendingSignIn{Kind: PendingSSOLink, UserID: existing.ID,
			SSOOrg: c.OrganizationID, SSOSubject: id.Subject})
		if err != nil {
			return out, err
		}
		org, err := s.store.OrganizationByID(ctx, c.OrganizationID)
		if err != nil {
			return out, err
		}
		out.SignInStep = SignInStep{User: existing, Pending: token, PendingKind: PendingSSOLink}
		out.Link = &SSOLinkView{Email: existing.Email, OrganizationName: org.DisplayName, ProviderName: c.ProviderName}
		return out, nil
	case ENOTFOUND:
	default:
		return out, err
	}
	u, err := s.createUser(ctx, c, id, email, client)
	if err != nil {
		return out, err
	}
	out.SignInStep, err = s.signIns.afterPrimary(ctx, u, c.OrganizationID)
	return out, err
}

// createUser makes the account of a person the provider signs in for the
// first time, links it, and gives it the connection's default role.
func (s *SSO) createUser(ctx context.Context, c SSOConnection, id Identity, email string, client Client) (User, error) {
	name, err := CleanDisplayName("name", id.Name)
	if err != nil {
		name, _, _ = strings.Cut(email, "@")
	}
	now := s.now()
	// The provider verified the address, for a domain the organization
	// vouches for: as good as an emailed link.
	u := User{Email: email, DisplayName: name, PasswordHash: NoPasswordHash, CreateTime: now, EmailVerified: true}
	err = s.store.UpdateSignIn(ctx, func(tx SecondFactorTx) error {
		org, err := tx.OrganizationByID(ctx, c.OrganizationID)
		if err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		actor := Principal{Account: userRef(u.ID), UserID: u.ID, Email: u.Email, RemoteAddr: client.Address}
		e := auditEntry(actor, now, ActionUserCreate, "user", fmt.Sprint(u.ID), u.Email)
		e.OrganizationID, e.Detail = c.OrganizationID, "first sign-in with "+c.ProviderName+" (single sign-on of "+org.DisplayName+")"
		if err := tx.AddAudit(ctx, e); err != nil {
			return err
		}
		if err := s.link(ctx, tx, actor, now, c, id, u); err != nil {
			return err
		}
		if c.DefaultRole == RoleNone {
			return nil
		}
		proj, err := tx.ProjectByID(ctx, c.DefaultProjectID)
		if ErrorCode(err) == ENOTFOUND || (err == nil && proj.OrganizationID != c.OrganizationID) {
			return nil // the default project is gone: no role to give
		}
		if err != nil {
			return err
		}
		m := Membership{OrganizationID: c.OrganizationID, ProjectID: proj.ID, Account: userRef(u.ID), Role: c.DefaultRole,
			Status: StatusAccepted, CreateTime: now}
		if err := tx.CreateMembership(ctx, &m); err != nil {
			return err
		}
		e = auditEntry(actor, now, ActionMembershipCreate, "membership", fmt.Sprint(u.ID), u.Email)
		e.OrganizationID, e.ProjectID = c.OrganizationID, proj.ID
		e.Detail = RoleDisplayName(c.DefaultRole) + " (the default role of single sign-on)"
		return tx.AddAudit(ctx, e)
	})
	return u, err
}

// link records that the provider's identity signs in as u.
func (s *SSO) link(ctx context.Context, tx SecondFactorTx, actor Principal, now time.Time, c SSOConnection, id Identity, u User) error {
	err := tx.CreateSSOLink(ctx, SSOLink{OrganizationID: c.OrganizationID, Subject: id.Subject, UserID: u.ID, Issuer: c.Issuer, CreateTime: now})
	if ErrorCode(err) == ECONFLICT {
		return Errorf(ECONFLICT, "Your account is linked to another %s identity already. Sign in with that one.", c.ProviderName)
	}
	if err != nil {
		return err
	}
	e := auditEntry(actor, now, ActionSSOLink, "user", fmt.Sprint(u.ID), u.Email)
	e.OrganizationID, e.Detail = c.OrganizationID, "linked to "+c.ProviderName+" identity "+id.Subject
	return tx.AddAudit(ctx, e)
}

// PendingLink shows the page asking for the password to link an identity.
func (s *SSO) PendingLink(ctx context.Context, token string) (SSOLinkView, error) {
	p, err := s.signIns.pending(ctx, token, PendingSSOLink)
	if err != nil {
		return SSOLinkView{}, err
	}
	return s.linkView(ctx, p)
}

func (s *SSO) linkView(ctx context.Context, p PendingSignIn) (SSOLinkView, error) {
	u, err := s.store.UserByID(ctx, p.UserID)
	if err != nil {
		return SSOLinkView{}, err
	}
	org, err := s.store.OrganizationByID(ctx, p.SSOOrg)
	if err != nil {
		return SSOLinkView{}, err
	}
	v := SSOLinkView{Email: u.Email, OrganizationName: org.DisplayName, ProviderName: "your identity provider"}
	if c, err := s.store.SSOConnection(ctx, p.SSOOrg); err == nil {
		v.ProviderName = c.ProviderName
	}
	return v, nil
}

// LinkWithPassword links a provider's identity to the existing account
// with its email once the account's password is given (through the
// password throttle), then signs in (asking the second factor next, when
// the user has one).
func (s *SSO) LinkWithPassword(ctx context.Context, token, password string, client Client) (SignInStep, error) {
	p, err := s.signIns.pending(ctx, token, PendingSSOLink)
	if err != nil {
		return SignInStep{}, err
	}
	u, err := s.store.UserByID(ctx, p.UserID)
	if err != nil {
		return SignInStep{}, err
	}
	if password == "" {
		return SignInStep{}, FieldError("password", "Enter your password.")
	}
	if _, err := s.signIns.f.accounts.CheckPassword(ctx, u.Email, password, client); err != nil {
		if ErrorCode(err) == EUNAUTHORIZED {
			return SignInStep{}, FieldError("password", "The password is incorrect.")
		}
		return SignInStep{}, asFieldError(err, "password")
	}
	c, err := s.store.SSOConnection(ctx, p.SSOOrg)
	if ErrorCode(err) == ENOTFOUND {
		return SignInStep{}, ssoRefused("The organization's identity provider was disconnected meanwhile.")
	}
	if err != nil {
		return SignInStep{}, err
	}
	if err := s.signIns.take(ctx, token); err != nil {
		return SignInStep{}, err
	}
	now := s.now()
	actor := Principal{Account: userRef(u.ID), UserID: u.ID, Email: u.Email, Staff: u.Staff, RemoteAddr: client.Address}
	err = s.store.UpdateSignIn(ctx, func(tx SecondFactorTx) error {
		return s.link(ctx, tx, actor, now, c, Identity{Subject: p.SSOSubject}, u)
	})
	if err != nil {
		return SignInStep{}, err
	}
	return s.signIns.afterPrimary(ctx, u, p.SSOOrg)
}

// withCause keeps err for the logs behind a message meant to be shown.
func (e *Error) withCause(err error) *Error {
	e.Err = err
	return e
}
