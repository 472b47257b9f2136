package domain

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Second factors (issue 19): an authenticator app (totp.go), passkeys and
// security keys (passkeys.go), and one-time recovery codes. A user "has a
// second factor" once an authenticator app is confirmed or a passkey is
// registered; from then on every sign-in asks for one after the password
// (signin.go). Organizations may require their members to have one, and
// support staff always need one for the support console.

// Error codes of the sign-in policies. The console answers them by sending
// the person where the policy is met: to set up or prove a second factor,
// or to sign in with the organization's identity provider.
const (
	ESECONDFACTOR = "second_factor_required"
	ESSOREQUIRED  = "sso_required"
)

var errStaffSecondFactor = &Error{Code: ESECONDFACTOR,
	Message: "Support staff need a second factor: set up an authenticator app or a passkey, or confirm the one you have, to use the support console."}

// Audit actions of sign-in security.
const (
	ActionTOTPEnable         = "user.totp_enable"
	ActionTOTPDisable        = "user.totp_disable"
	ActionRecoveryCodesNew   = "user.recovery_codes_new"
	ActionPasskeyAdd         = "user.passkey_add"
	ActionPasskeyRemove      = "user.passkey_remove"
	ActionSecondFactorReset  = "user.second_factor_reset"
	ActionSignInPolicyUpdate = "organization.signin_policy"
	ActionSSOUpdate          = "organization.sso_update"
	ActionSSODelete          = "organization.sso_delete"
	ActionSSOLink            = "user.sso_link"
	// ActionSSOStaffException: a support staff member opened the pages of
	// an organization that requires single sign-on, signed in otherwise.
	ActionSSOStaffException = "sso.staff_exception"
)

// Sensitive changes of sign-in security (see reauth.go): a stolen session
// must not add a factor of its own (locking the owner out) nor take one away.
const (
	SetUpAuthenticator     Sensitive = "set up an authenticator app"
	TurnOffAuthenticator   Sensitive = "turn off the authenticator app"
	MakeRecoveryCodes      Sensitive = "make new recovery codes"
	AddPasskeyChange       Sensitive = "add a passkey"
	RemovePasskeyChange    Sensitive = "remove a passkey"
	ChangeSignInPolicy     Sensitive = "change the sign-in policy"
	ChangeSingleSignOn     Sensitive = "change single sign-on"
	DisconnectSingleSignOn Sensitive = "disconnect single sign-on"
)

// TOTPFactor is a user's authenticator app. Sealed is the seed, encrypted
// with the server key; ConfirmTime is zero while it is being set up.
type TOTPFactor struct {
	UserID      int64
	Sealed      []byte
	CreateTime  time.Time
	ConfirmTime time.Time
	// LastStep is the newest time step whose code was accepted.
	LastStep int64
}

// Confirmed reports whether the app was confirmed with a code: only then
// is it a second factor.
func (f TOTPFactor) Confirmed() bool { return !f.ConfirmTime.IsZero() }

// RecoveryCode is one stored recovery code: only its keyed hash.
type RecoveryCode struct {
	ID       int64
	UserID   int64
	Hash     string
	UsedTime time.Time
}

// Passkey is a registered passkey or security key. Sealed is the WebAuthn
// credential record (public key, counter, flags), encrypted with the server
// key; the domain never reads inside it.
type Passkey struct {
	ID           int64
	UserID       int64
	CredentialID []byte
	Name         string
	Sealed       []byte
	CreateTime   time.Time
	LastUsed     time.Time
}

// Kinds of a sign-in in progress.
const (
	PendingSecondFactor = "second_factor" // the password or the provider said yes; the second factor is next
	PendingPasskey      = "passkey"       // a password-less passkey sign-in waits for its assertion
	PendingSSOLink      = "sso_link"      // a provider's identity waits for the password of the account with its email
)

// PendingSignIn is a sign-in in progress (see the kinds above). Only a
// hash of its token is stored; the browser keeps the token.
type PendingSignIn struct {
	IDHash     string
	Kind       string
	UserID     int64
	SSOOrg     string // the organization whose provider said yes (second factor after SSO, or link)
	SSOSubject string // the provider's identity to link (PendingSSOLink)
	// Challenge is the state of the WebAuthn ceremony under way, if any.
	Challenge  []byte
	CreateTime time.Time
}

// PendingSignInTTL is how long a sign-in in progress waits.
const PendingSignInTTL = 10 * time.Minute

// SecondFactorReset is support staff's reset of a user's second factors,
// told to the user at the next sign-in.
type SecondFactorReset struct {
	Time   time.Time
	Reason string
}

// SignInPolicy is what an organization requires of its members' sign-in.
type SignInPolicy struct {
	OrganizationID      string
	RequireSecondFactor bool
	RequireSSO          bool
	UpdateTime          time.Time
}

// SecondFactorStore is the persistence of second factors, sign-ins in
// progress and sign-in policies. Reads run on their own; changes run
// inside UpdateSignIn, in one transaction with their audit entries.
type SecondFactorStore interface {
	SecondFactorReader
	UpdateSignIn(ctx context.Context, fn func(SecondFactorTx) error) error
	// DeleteUserSessions ends every session of a user but keepIDHash.
	DeleteUserSessions(ctx context.Context, userID int64, keepIDHash string) error
}

// SecondFactorReader holds the reads. A missing row is ENOTFOUND.
type SecondFactorReader interface {
	UserByID(ctx context.Context, id int64) (User, error)
	UserByEmail(ctx context.Context, email string) (User, error)
	OrganizationByID(ctx context.Context, id string) (Organization, error)
	ProjectByID(ctx context.Context, id string) (Project, error)
	AccountMemberships(ctx context.Context, account AccountRef, limit int) ([]Membership, error)
	TOTPFactor(ctx context.Context, userID int64) (TOTPFactor, error)
	// RecoveryCodes lists the user's unused recovery codes.
	RecoveryCodes(ctx context.Context, userID int64) ([]RecoveryCode, error)
	// ListPasskeys lists the user's passkeys in registration order (at most MaxPasskeys+1).
	ListPasskeys(ctx context.Context, userID int64) ([]Passkey, error)
	PasskeyByCredentialID(ctx context.Context, credentialID []byte) (Passkey, error)
	// WebAuthnHandle is the user's WebAuthn user handle (ENOTFOUND: none yet).
	WebAuthnHandle(ctx context.Context, userID int64) ([]byte, error)
	// UserByWebAuthnHandle finds whose handle it is.
	UserByWebAuthnHandle(ctx context.Context, handle []byte) (int64, error)
	PendingSignIn(ctx context.Context, idHash string) (PendingSignIn, error)
	SignInPolicy(ctx context.Context, orgID string) (SignInPolicy, error)
	// ProjectSignInPolicy returns the sign-in policy of a project's
	// organization, in one read (ENOTFOUND: no such project).
	ProjectSignInPolicy(ctx context.Context, projectID string) (SignInPolicy, error)
	// SignInPoliciesOf returns the policies of the organizations where the
	// user holds an accepted membership and something is required.
	SignInPoliciesOf(ctx context.Context, userID int64) ([]SignInPolicy, error)
	SSOConnection(ctx context.Context, orgID string) (SSOConnection, error)
	// SSOConnectionForDomain finds the connection an email domain belongs to.
	SSOConnectionForDomain(ctx context.Context, domain string) (SSOConnection, error)
	SSOLinkBySubject(ctx context.Context, orgID, subject string) (SSOLink, error)
	// SSOLinksOf lists the user's links.
	SSOLinksOf(ctx context.Context, userID int64) ([]SSOLink, error)
}

// SecondFactorTx holds the changes, inside UpdateSignIn.
type SecondFactorTx interface {
	SecondFactorReader
	AddAudit(ctx context.Context, e AuditEntry) error
	// SetTOTPFactor stores (or replaces) the user's authenticator app.
	SetTOTPFactor(ctx context.Context, f TOTPFactor) error
	DeleteTOTPFactor(ctx context.Context, userID int64) error
	// AdvanceTOTPStep records step as the newest accepted one if it is
	// newer than the stored one, and reports whether it was: a code raced
	// by another request is accepted once.
	AdvanceTOTPStep(ctx context.Context, userID, step int64) (bool, error)
	// ReplaceRecoveryCodes deletes the user's codes and stores these hashes.
	ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes []string) error
	// UseRecoveryCode marks an unused code used and reports whether it was unused.
	UseRecoveryCode(ctx context.Context, id int64, at time.Time) (bool, error)
	SetWebAuthnHandle(ctx context.Context, userID int64, handle []byte) error
	// CreatePasskey stores a passkey and sets its ID. A credential already
	// registered is ECONFLICT.
	CreatePasskey(ctx context.Context, pk *Passkey) error
	UpdatePasskeyUse(ctx context.Context, id int64, sealed []byte, at time.Time) error
	DeletePasskey(ctx context.Context, userID, id int64) error
	// DeleteSecondFactors deletes the user's authenticator app, recovery
	// codes, passkeys and WebAuthn handle.
	DeleteSecondFactors(ctx context.Context, userID int64) error
	CreatePendingSignIn(ctx context.Context, p PendingSignIn) error
	SetPendingChallenge(ctx context.Context, idHash string, challenge []byte) error
	// TakePendingSignIn deletes and returns a sign-in in progress: it is used once.
	TakePendingSignIn(ctx context.Context, idHash string) (PendingSignIn, error)
	// ForgetPendingSignIns deletes a bounded batch of those created before.
	ForgetPendingSignIns(ctx context.Context, before time.Time) error
	SetSecondFactorReset(ctx context.Context, userID int64, r SecondFactorReset) error
	// TakeSecondFactorReset returns and deletes the reset to tell (ENOTFOUND: none).
	TakeSecondFactorReset(ctx context.Context, userID int64) (SecondFactorReset, error)
	SetLastSignIn(ctx context.Context, userID int64, at time.Time) error
	SetSignInPolicy(ctx context.Context, p SignInPolicy) error
	SetSSOConnection(ctx context.Context, c SSOConnection) error
	DeleteSSOConnection(ctx context.Context, orgID string) error
	CreateSSOLink(ctx context.Context, l SSOLink) error
	CreateSSOState(ctx context.Context, s SSOState) error
	// TakeSSOState deletes and returns a state: it works once.
	TakeSSOState(ctx context.Context, stateHash string) (SSOState, error)
	ForgetSSOStates(ctx context.Context, before time.Time) error
	CreateUser(ctx context.Context, u *User) error
	CreateMembership(ctx context.Context, m *Membership) error
}

// SecondFactors manages a user's second factors and checks them.
type SecondFactors struct {
	accounts    *Accounts
	store       SecondFactorStore
	sealer      *Sealer
	recoveryKey []byte
	passkeys    PasskeyCeremony
	issuer      string
	now         func() time.Time
}

// SecondFactorsConfig is what SecondFactors needs.
type SecondFactorsConfig struct {
	// Accounts checks passwords: codes are guessed through its throttle.
	Accounts *Accounts
	Store    SecondFactorStore
	// Sealer seals TOTP seeds and passkey records with the server key.
	Sealer *Sealer
	// RecoveryKey keys the hashes of recovery codes (derived from the
	// server key), so a copy of the database alone cannot test guesses.
	RecoveryKey []byte
	// Passkeys runs the WebAuthn ceremonies.
	Passkeys PasskeyCeremony
	// Issuer names the service in authenticator apps ("Studio").
	Issuer string
	Now    func() time.Time
}

// NewSecondFactors returns the service.
func NewSecondFactors(cfg SecondFactorsConfig) *SecondFactors {
	issuer := cfg.Issuer
	if issuer == "" {
		issuer = "Studio"
	}
	return &SecondFactors{accounts: cfg.Accounts, store: cfg.Store, sealer: cfg.Sealer, recoveryKey: cfg.RecoveryKey,
		passkeys: cfg.Passkeys, issuer: issuer, now: cfg.Now}
}

// Factors is what second factors a user has.
type Factors struct {
	TOTP          TOTPFactor // zero UserID: none
	Passkeys      []Passkey
	RecoveryCodes int // unused ones
}

// Any reports whether the user has a second factor.
func (f Factors) Any() bool { return f.TOTP.Confirmed() || len(f.Passkeys) > 0 }

// factors reads what second factors the user has.
func factorsOf(ctx context.Context, r SecondFactorReader, userID int64) (Factors, error) {
	var f Factors
	t, err := r.TOTPFactor(ctx, userID)
	switch ErrorCode(err) {
	case "":
		f.TOTP = t
	case ENOTFOUND:
	default:
		return f, err
	}
	if f.Passkeys, err = r.ListPasskeys(ctx, userID); err != nil {
		return f, err
	}
	codes, err := r.RecoveryCodes(ctx, userID)
	f.RecoveryCodes = len(codes)
	return f, err
}

// SecurityOverview is the account's security page.
type SecurityOverview struct {
	User    User
	Factors Factors
	// Setup is set while an authenticator app is being set up (not yet confirmed).
	Setup *TOTPSetup
	// RequiredBy names the organizations that require a second factor of
	// this user ("support staff" for staff).
	RequiredBy []string
	// SSOLinks are the identity providers that sign this user in.
	SSOLinks []SSOLink
}

// Overview is what the security page shows. It never holds a seed of a
// confirmed authenticator app: the seed is shown only while setting up.
func (s *SecondFactors) Overview(ctx context.Context, p Principal) (SecurityOverview, error) {
	if !p.IsUser() {
		return SecurityOverview{}, Errorf(EFORBIDDEN, "Only people have second factors.")
	}
	u, err := s.store.UserByID(ctx, p.UserID)
	if err != nil {
		return SecurityOverview{}, err
	}
	out := SecurityOverview{User: u}
	if out.Factors, err = factorsOf(ctx, s.store, u.ID); err != nil {
		return out, err
	}
	if t := out.Factors.TOTP; t.UserID != 0 && !t.Confirmed() {
		setup, err := s.totpSetup(u, t)
		if err != nil {
			return out, err
		}
		out.Setup = &setup
	}
	if out.RequiredBy, err = s.requiredBy(ctx, u); err != nil {
		return out, err
	}
	out.SSOLinks, err = s.store.SSOLinksOf(ctx, u.ID)
	return out, err
}

// requiredBy names who requires a second factor of u.
func (s *SecondFactors) requiredBy(ctx context.Context, u User) ([]string, error) {
	var names []string
	if u.Staff {
		names = append(names, "support staff")
	}
	pols, err := s.store.SignInPoliciesOf(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, pol := range pols {
		if !pol.RequireSecondFactor {
			continue
		}
		org, err := s.store.OrganizationByID(ctx, pol.OrganizationID)
		if err != nil {
			return nil, err
		}
		names = append(names, org.DisplayName)
	}
	return names, nil
}

// keepOne refuses to take away a user's last second factor while an
// organization of theirs, or their being staff, requires one.
func (s *SecondFactors) keepOne(ctx context.Context, tx SecondFactorTx, u User, remaining Factors, what string) error {
	if remaining.Any() {
		return nil
	}
	by, err := s.requiredBy(ctx, u)
	if err != nil || len(by) == 0 {
		return err
	}
	return Errorf(EINVALID, "%s requires a second factor: add another one before you %s.", strings.Join(by, " and "), what)
}

// selfEntry is the audit entry of a user's change to their own sign-in
// security: in the support audit (no organization).
func selfEntry(p Principal, now time.Time, action string, u User, detail string) AuditEntry {
	e := auditEntry(p, now, action, "user", fmt.Sprint(u.ID), u.Email)
	e.Detail = detail
	return e
}

// requireSelf loads the signed-in user for a change of their own factors,
// after the re-authentication rule for change.
func (s *SecondFactors) requireSelf(ctx context.Context, r SecondFactorReader, p Principal, change Sensitive) (User, error) {
	if !p.IsUser() {
		return User{}, Errorf(EFORBIDDEN, "Only people have second factors.")
	}
	u, err := r.UserByID(ctx, p.UserID)
	if err != nil {
		return User{}, err
	}
	if err := requireRecentAuth(p, s.now(), change); err != nil {
		return User{}, err
	}
	return u, nil
}

// ResetByStaff removes every second factor of a user (authenticator app,
// recovery codes, passkeys) for someone who lost theirs: support staff
// only, with a reason, written to the audit log of every organization the
// user belongs to, and told to the user at the next sign-in. The user's
// sessions end.
func (s *SecondFactors) ResetByStaff(ctx context.Context, p Principal, memberID, reason string) error {
	if err := requireStaff(p); err != nil {
		return err
	}
	reason, err := cleanReason(reason)
	if err != nil {
		return err
	}
	ref, err := ParseMemberID(memberID)
	if err != nil {
		return err
	}
	if ref.Type != AccountUser {
		return Errorf(EINVALID, "Only people have second factors.")
	}
	userID := mustInt(ref.ID)
	if userID == p.UserID {
		return Errorf(EINVALID, "Another member of the support staff must reset your own second factor.")
	}
	now := s.now()
	err = s.store.UpdateSignIn(ctx, func(tx SecondFactorTx) error {
		u, err := tx.UserByID(ctx, userID)
		if err != nil {
			return err
		}
		f, err := factorsOf(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if !f.Any() && f.TOTP.UserID == 0 {
			return Errorf(EINVALID, "%s has no second factor to reset.", u.Email)
		}
		if err := tx.DeleteSecondFactors(ctx, u.ID); err != nil {
			return err
		}
		if err := tx.SetSecondFactorReset(ctx, u.ID, SecondFactorReset{Time: now, Reason: reason}); err != nil {
			return err
		}
		ms, err := tx.AccountMemberships(ctx, userRef(u.ID), MaxSupportMemberships)
		if err != nil {
			return err
		}
		orgs := map[string]bool{}
		for _, m := range ms {
			orgs[m.OrganizationID] = true
		}
		if len(orgs) == 0 {
			orgs[""] = true
		}
		detail := fmt.Sprintf("removed: authenticator app %s, %d passkey%s, %d recovery code%s",
			map[bool]string{true: "on", false: "off"}[f.TOTP.Confirmed()], len(f.Passkeys), plural(len(f.Passkeys)),
			f.RecoveryCodes, plural(f.RecoveryCodes))
		for _, orgID := range sortedKeys(orgs) {
			e := auditEntry(p, now, ActionSecondFactorReset, "user", fmt.Sprint(u.ID), u.Email)
			e.OrganizationID, e.Reason, e.ActorStaff, e.Detail = orgID, reason, true, detail
			if err := tx.AddAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.store.DeleteUserSessions(ctx, userID, "")
}

// StaffView is what support staff see of a user's second factors.
type StaffView struct {
	TOTP          bool
	Passkeys      int
	RecoveryCodes int
}

// ForStaff tells support staff which second factors a user has (never the
// factors themselves).
func (s *SecondFactors) ForStaff(ctx context.Context, p Principal, userID int64) (StaffView, error) {
	if err := requireStaff(p); err != nil {
		return StaffView{}, err
	}
	f, err := factorsOf(ctx, s.store, userID)
	return StaffView{TOTP: f.TOTP.Confirmed(), Passkeys: len(f.Passkeys), RecoveryCodes: f.RecoveryCodes}, err
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Admission is the verdict of an organization's sign-in policy on a
// session that may open its pages.
type Admission struct {
	// StaffException is set when the organization requires single sign-on,
	// the person is support staff signed in otherwise, and is let in: the
	// console records it once per session (RecordStaffException).
	StaffException bool
}

// Admit applies an organization's sign-in policy to a console session
// about to open one of its pages: ESSOREQUIRED when the organization
// requires single sign-on and the session was not signed in by its
// provider (support staff excepted), ESECONDFACTOR when it requires a
// second factor and the session proved none. Programs (service accounts
// on the API) and the command line are not console sessions: untouched.
func (s *SecondFactors) Admit(ctx context.Context, p Principal, orgID string) (Admission, error) {
	if !p.Console || !p.IsUser() {
		return Admission{}, nil
	}
	pol, err := s.store.SignInPolicy(ctx, orgID)
	if err != nil {
		return Admission{}, err
	}
	return s.admit(ctx, p, pol)
}

// AdmitProject is Admit for a page of a project, read with its
// organization's policy at once; it returns the organization ("" when
// there is no such project: its page answers for itself).
func (s *SecondFactors) AdmitProject(ctx context.Context, p Principal, projectID string) (string, Admission, error) {
	if !p.Console || !p.IsUser() || !ValidID(projectID) {
		return "", Admission{}, nil
	}
	pol, err := s.store.ProjectSignInPolicy(ctx, projectID)
	if ErrorCode(err) == ENOTFOUND {
		return "", Admission{}, nil
	}
	if err != nil {
		return "", Admission{}, err
	}
	adm, err := s.admit(ctx, p, pol)
	return pol.OrganizationID, adm, err
}

func (s *SecondFactors) admit(ctx context.Context, p Principal, pol SignInPolicy) (Admission, error) {
	orgID := pol.OrganizationID
	if !pol.RequireSSO && !pol.RequireSecondFactor {
		return Admission{}, nil
	}
	var adm Admission
	if pol.RequireSSO && !slices.Contains(p.SSOOrganizations, orgID) {
		if !p.Staff {
			return adm, s.ssoRequired(ctx, orgID)
		}
		adm.StaffException = true
	}
	if pol.RequireSecondFactor && !p.SecondFactor {
		return adm, &Error{Code: ESECONDFACTOR, Message: "This organization requires a second factor: set up an authenticator app or a passkey, or confirm the one you have, to open its pages."}
	}
	return adm, nil
}

func (s *SecondFactors) ssoRequired(ctx context.Context, orgID string) error {
	provider := "its identity provider"
	if c, err := s.store.SSOConnection(ctx, orgID); err == nil {
		provider = c.ProviderName
	}
	return &Error{Code: ESSOREQUIRED, Message: "This organization requires signing in with " + provider + "."}
}

// RecordStaffException writes, in the organization's audit log, that a
// support staff member opened its pages without its single sign-on.
func (s *SecondFactors) RecordStaffException(ctx context.Context, p Principal, orgID, path string) error {
	now := s.now()
	return s.store.UpdateSignIn(ctx, func(tx SecondFactorTx) error {
		e := auditEntry(p, now, ActionSSOStaffException, "organization", orgID, "")
		e.OrganizationID, e.ActorStaff = orgID, true
		e.Detail = "opened " + path + " signed in without the organization's single sign-on (support staff are excepted)"
		return tx.AddAudit(ctx, e)
	})
}
