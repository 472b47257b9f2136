package domain

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// SignIns is the console's one door in. A person signs in with a password,
// with a passkey (password-less: the passkey is both factors), or through
// an organization's identity provider (sso.go); after a password or a
// provider, a person who has a second factor is asked for it before the
// sign-in counts. Between the two steps the sign-in is "in progress" (a
// PendingSignIn the browser names with a token), and nothing is recorded
// as a sign-in yet.
type SignIns struct {
	f *SecondFactors
}

// NewSignIns returns the sign-in service.
func NewSignIns(f *SecondFactors) *SignIns { return &SignIns{f: f} }

// SignInStep is where a sign-in stands after a step.
type SignInStep struct {
	User User
	// Pending is the token of the sign-in in progress, for the browser to
	// keep, and PendingKind what it waits for; "" when signed in.
	Pending     string
	PendingKind string
	// Choices: which second factors the next step may take.
	HasTOTP, HasPasskeys bool

	// Once signed in: whether the session proved a second factor, the
	// organization whose provider signed it in, and what to tell the user.
	SecondFactor   bool
	SSOOrg         string
	FailedAttempts FailedAttempts
	Reset          *SecondFactorReset
	// RecoveryCodesLeft is set when a recovery code was used.
	UsedRecoveryCode  bool
	RecoveryCodesLeft int
}

// Done reports whether the person is signed in.
func (s SignInStep) Done() bool { return s.Pending == "" }

func newPendingToken() (token, hash string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	token = hex.EncodeToString(b)
	return token, hashPendingToken(token)
}

func hashPendingToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

var errPendingGone = Errorf(EUNAUTHORIZED, "This sign-in took too long or was finished elsewhere. Sign in again.")

// startPending stores a sign-in in progress and returns its token.
func (s *SignIns) startPending(ctx context.Context, p PendingSignIn) (string, error) {
	token, hash := newPendingToken()
	p.IDHash, p.CreateTime = hash, s.f.now()
	err := s.f.store.UpdateSignIn(ctx, func(tx SecondFactorTx) error {
		if err := tx.ForgetPendingSignIns(ctx, p.CreateTime.Add(-PendingSignInTTL)); err != nil {
			return err
		}
		return tx.CreatePendingSignIn(ctx, p)
	})
	return token, err
}

// pending reads a sign-in in progress of kind by its token, refusing an
// unknown, expired or other one.
func (s *SignIns) pending(ctx context.Context, token, kind string) (PendingSignIn, error) {
	if token == "" {
		return PendingSignIn{}, errPendingGone
	}
	p, err := s.f.store.PendingSignIn(ctx, hashPendingToken(token))
	if ErrorCode(err) == ENOTFOUND || (err == nil && (p.Kind != kind || s.f.now().Sub(p.CreateTime) > PendingSignInTTL)) {
		return PendingSignIn{}, errPendingGone
	}
	return p, err
}

// take consumes a sign-in in progress: of two requests finishing it at
// once, one gets it.
func (s *SignIns) take(ctx context.Context, token string) error {
	return s.f.store.UpdateSignIn(ctx, func(tx SecondFactorTx) error {
		_, err := tx.TakePendingSignIn(ctx, hashPendingToken(token))
		if ErrorCode(err) == ENOTFOUND {
			return errPendingGone
		}
		return err
	})
}

// activeUser loads a user who may sign in: not locked, not an invited
// account without a password.
func (s *SignIns) activeUser(ctx context.Context, id int64) (User, error) {
	u, err := s.f.store.UserByID(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		return User{}, errPendingGone
	}
	if err != nil {
		return User{}, err
	}
	if u.Locked {
		return User{}, Errorf(EFORBIDDEN, "This account is locked. Contact your support team.")
	}
	if u.Pending() {
		return User{}, Errorf(EUNAUTHORIZED, "This account is waiting for its invitation to be accepted: use the invite link first.")
	}
	return u, nil
}

// afterPrimary continues a sign-in whose first factor (a password, or an
// identity provider for ssoOrg) said yes: to the second factor when the
// user has one, else signed in.
func (s *SignIns) afterPrimary(ctx context.Context, u User, ssoOrg string) (SignInStep, error) {
	f, err := factorsOf(ctx, s.f.store, u.ID)
	if err != nil {
		return SignInStep{}, err
	}
	if !f.Any() {
		return s.complete(ctx, u, false, ssoOrg)
	}
	token, err := s.startPending(ctx, PendingSignIn{Kind: PendingSecondFactor, UserID: u.ID, SSOOrg: ssoOrg})
	if err != nil {
		return SignInStep{}, err
	}
	return SignInStep{User: u, Pending: token, PendingKind: PendingSecondFactor,
		HasTOTP: f.TOTP.Confirmed(), HasPasskeys: len(f.Passkeys) > 0}, nil
}

// complete records the sign-in and gathers what to tell the user.
func (s *SignIns) complete(ctx context.Context, u User, secondFactor bool, ssoOrg string) (SignInStep, error) {
	res, err := s.f.accounts.recordSignIn(ctx, u)
	if err != nil {
		return SignInStep{}, err
	}
	step := SignInStep{User: res.User, SecondFactor: secondFactor, SSOOrg: ssoOrg, FailedAttempts: res.FailedAttempts}
	err = s.f.store.UpdateSignIn(ctx, func(tx SecondFactorTx) error {
		r, err := tx.TakeSecondFactorReset(ctx, u.ID)
		switch ErrorCode(err) {
		case "":
			step.Reset = &r
		case ENOTFOUND:
		default:
			return err
		}
		return nil
	})
	return step, err
}

// WithPassword is the first step of a password sign-in: the password
// goes through Accounts.CheckPassword (and its throttle); then the second
// factor is asked when the user has one.
func (s *SignIns) WithPassword(ctx context.Context, email, password string, client Client) (SignInStep, error) {
	u, err := s.f.accounts.CheckPassword(ctx, email, password, client)
	if err != nil {
		return SignInStep{}, err
	}
	return s.afterPrimary(ctx, u, "")
}

// SecondFactorChoices says which second factors a sign-in in progress may take.
func (s *SignIns) SecondFactorChoices(ctx context.Context, token string) (SignInStep, error) {
	p, err := s.pending(ctx, token, PendingSecondFactor)
	if err != nil {
		return SignInStep{}, err
	}
	u, err := s.activeUser(ctx, p.UserID)
	if err != nil {
		return SignInStep{}, err
	}
	f, err := factorsOf(ctx, s.f.store, u.ID)
	if err != nil {
		return SignInStep{}, err
	}
	return SignInStep{User: u, Pending: token, PendingKind: p.Kind, HasTOTP: f.TOTP.Confirmed(), HasPasskeys: len(f.Passkeys) > 0}, nil
}

// SecondFactorPasskeyOptions starts the assertion of one of the user's
// passkeys for a sign-in in progress; its state stays with the sign-in.
func (s *SignIns) SecondFactorPasskeyOptions(ctx context.Context, token string) ([]byte, error) {
	p, err := s.pending(ctx, token, PendingSecondFactor)
	if err != nil {
		return nil, err
	}
	u, err := s.activeUser(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	options, state, err := s.f.passkeyLoginOptions(ctx, u)
	if err != nil {
		return nil, err
	}
	err = s.f.store.UpdateSignIn(ctx, func(tx SecondFactorTx) error {
		return tx.SetPendingChallenge(ctx, p.IDHash, state)
	})
	return options, err
}

// SecondStep finishes a sign-in in progress with a code (authenticator
// app or recovery code, through the password throttle) or a passkey's
// assertion. A wrong code leaves the sign-in in progress for another try.
func (s *SignIns) SecondStep(ctx context.Context, token, code string, passkeyResponse []byte, client Client) (SignInStep, error) {
	p, err := s.pending(ctx, token, PendingSecondFactor)
	if err != nil {
		return SignInStep{}, err
	}
	u, err := s.activeUser(ctx, p.UserID)
	if err != nil {
		return SignInStep{}, err
	}
	var usedRecovery bool
	if len(passkeyResponse) > 0 {
		_, err = s.f.checkPasskey(ctx, u, p.Challenge, passkeyResponse)
	} else {
		usedRecovery, err = s.f.checkCode(ctx, u, "code", code, client)
	}
	if err != nil {
		return SignInStep{}, err
	}
	if err := s.take(ctx, token); err != nil {
		return SignInStep{}, err
	}
	step, err := s.complete(ctx, u, true, p.SSOOrg)
	if err != nil || !usedRecovery {
		return step, err
	}
	codes, err := s.f.store.RecoveryCodes(ctx, u.ID)
	step.UsedRecoveryCode, step.RecoveryCodesLeft = true, len(codes)
	return step, err
}

// PasskeyOptions starts a password-less sign-in: an assertion by any
// passkey of this site, with user verification. The browser keeps the
// returned token for PasskeySignIn.
func (s *SignIns) PasskeyOptions(ctx context.Context) (token string, options []byte, err error) {
	options, state, err := s.f.passkeys.BeginDiscoverableLogin()
	if err != nil {
		return "", nil, err
	}
	token, err = s.startPending(ctx, PendingSignIn{Kind: PendingPasskey, Challenge: state})
	return token, options, err
}

// PasskeySignIn finishes a password-less sign-in. The passkey must be
// registered to the user its handle names, and must have verified its
// user (PIN or biometrics): then it is two factors in one. The challenge
// is used once, whatever the outcome.
func (s *SignIns) PasskeySignIn(ctx context.Context, token string, response []byte) (SignInStep, error) {
	p, err := s.pending(ctx, token, PendingPasskey)
	if err != nil {
		return SignInStep{}, err
	}
	if err := s.take(ctx, token); err != nil {
		return SignInStep{}, err
	}
	credID, handle, err := s.f.passkeys.AssertionUser(response)
	if err != nil {
		return SignInStep{}, errPasskeyRefused(err)
	}
	userID, err := s.f.store.UserByWebAuthnHandle(ctx, handle)
	if ErrorCode(err) == ENOTFOUND {
		return SignInStep{}, errUnknownPasskey
	}
	if err != nil {
		return SignInStep{}, err
	}
	pk, err := s.f.store.PasskeyByCredentialID(ctx, credID)
	if ErrorCode(err) == ENOTFOUND || (err == nil && pk.UserID != userID) {
		return SignInStep{}, errUnknownPasskey
	}
	if err != nil {
		return SignInStep{}, err
	}
	u, err := s.activeUser(ctx, userID)
	if err != nil {
		return SignInStep{}, err
	}
	verified, err := s.f.checkPasskey(ctx, u, p.Challenge, response)
	if err != nil {
		return SignInStep{}, err
	}
	if !verified {
		return SignInStep{}, Errorf(EUNAUTHORIZED, "Your passkey did not verify that it is you (with a PIN, fingerprint or face). Sign in with your password instead.")
	}
	return s.complete(ctx, u, true, "")
}

var errUnknownPasskey = Errorf(EUNAUTHORIZED, "This passkey is not registered here (it may have been removed). Sign in with your password instead.")

// ConfirmCode proves the signed-in user's second factor again (before a
// sensitive change, or for a policy that asks for one) with a code,
// through the password throttle. field names the form's field.
func (s *SignIns) ConfirmCode(ctx context.Context, p Principal, field, code string, client Client) error {
	if !p.IsUser() {
		return Errorf(EFORBIDDEN, "Only people confirm a second factor.")
	}
	u, err := s.f.store.UserByID(ctx, p.UserID)
	if err != nil {
		return err
	}
	_, err = s.f.checkCode(ctx, u, field, code, client)
	return err
}

// ConfirmPasskeyOptions starts an assertion by one of the signed-in
// user's passkeys; the caller keeps state (server-side) for ConfirmPasskey.
func (s *SignIns) ConfirmPasskeyOptions(ctx context.Context, p Principal) (options, state []byte, err error) {
	if !p.IsUser() {
		return nil, nil, Errorf(EFORBIDDEN, "Only people have passkeys.")
	}
	u, err := s.f.store.UserByID(ctx, p.UserID)
	if err != nil {
		return nil, nil, err
	}
	return s.f.passkeyLoginOptions(ctx, u)
}

// ConfirmPasskey proves the signed-in user's presence again with a passkey.
func (s *SignIns) ConfirmPasskey(ctx context.Context, p Principal, state, response []byte) error {
	if !p.IsUser() {
		return Errorf(EFORBIDDEN, "Only people have passkeys.")
	}
	u, err := s.f.store.UserByID(ctx, p.UserID)
	if err != nil {
		return err
	}
	_, err = s.f.checkPasskey(ctx, u, state, response)
	return err
}

// FactorChoices says which second factors a user has, for the prompts.
type FactorChoices struct {
	HasTOTP       bool
	HasPasskeys   bool
	RecoveryCodes int
}

// Choices says which second factors the user has.
func (s *SignIns) Choices(ctx context.Context, userID int64) (FactorChoices, error) {
	f, err := factorsOf(ctx, s.f.store, userID)
	return FactorChoices{HasTOTP: f.TOTP.Confirmed(), HasPasskeys: len(f.Passkeys) > 0, RecoveryCodes: f.RecoveryCodes}, err
}

// IsPendingGone reports whether err says a sign-in in progress is over.
func IsPendingGone(err error) bool { return errors.Is(err, errPendingGone) }
