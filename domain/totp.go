package domain

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// Authenticator app codes (TOTP, RFC 6238): SHA-1, 6 digits, 30 seconds,
// the parameters every authenticator app reads from a QR code.
const (
	totpPeriod = 30
	totpDigits = otp.DigitsSix
	// totpSkew accepts the code of the step before and after the current
	// one, for clocks a little apart and codes typed at a step's end.
	totpSkew = 1
	// totpSecretSize is 160 bits, as RFC 4226 recommends.
	totpSecretSize = 20
)

// RecoveryCodeCount is how many recovery codes a user gets at once.
const RecoveryCodeCount = 10

// TOTPSetup is what a person needs to add the account to an authenticator
// app: the otpauth:// URL (for the QR code) and the seed in text. It is
// shown only while the app is being set up.
type TOTPSetup struct {
	URL    string
	Secret string
}

func totpAAD(userID int64) []byte { return []byte(fmt.Sprintf("totp:%d", userID)) }

func (s *SecondFactors) totpSetup(u User, f TOTPFactor) (TOTPSetup, error) {
	seed, err := s.sealer.Open(f.Sealed, totpAAD(u.ID))
	if err != nil {
		return TOTPSetup{}, fmt.Errorf("open TOTP seed of user %d: %w", u.ID, err)
	}
	key, err := s.totpKey(u, seed)
	if err != nil {
		return TOTPSetup{}, err
	}
	return TOTPSetup{URL: key.URL(), Secret: key.Secret()}, nil
}

// totpKey is the authenticator app's view of a seed: its otpauth:// URL
// names this service and the account, and its secret is the seed in base32.
func (s *SecondFactors) totpKey(u User, seed []byte) (*otp.Key, error) {
	return totp.Generate(totp.GenerateOpts{Issuer: s.issuer, AccountName: u.Email, Period: totpPeriod,
		Secret: seed, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
}

// totpSecret opens a sealed seed as the base32 secret codes are made from.
func (s *SecondFactors) totpSecret(userID int64, sealed []byte) (string, error) {
	seed, err := s.sealer.Open(sealed, totpAAD(userID))
	if err != nil {
		return "", fmt.Errorf("open TOTP seed of user %d: %w", userID, err)
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(seed), nil
}

// BeginTOTP starts setting up an authenticator app: a new seed, stored
// sealed and unconfirmed (it replaces an unconfirmed one, never a
// confirmed one: turn that off first).
func (s *SecondFactors) BeginTOTP(ctx context.Context, p Principal) (TOTPSetup, error) {
	u, err := s.requireSelf(ctx, s.store, p, SetUpAuthenticator)
	if err != nil {
		return TOTPSetup{}, err
	}
	seed := make([]byte, totpSecretSize)
	if _, err := rand.Read(seed); err != nil {
		return TOTPSetup{}, err
	}
	key, err := s.totpKey(u, seed)
	if err != nil {
		return TOTPSetup{}, err
	}
	f := TOTPFactor{UserID: u.ID, Sealed: s.sealer.Seal(seed, totpAAD(u.ID)), CreateTime: s.now()}
	err = s.store.UpdateSignIn(ctx, func(tx SecondFactorTx) error {
		old, err := tx.TOTPFactor(ctx, u.ID)
		if err == nil && old.Confirmed() {
			return Errorf(ECONFLICT, "An authenticator app is already on. Turn it off first to set up another.")
		}
		if err != nil && ErrorCode(err) != ENOTFOUND {
			return err
		}
		return tx.SetTOTPFactor(ctx, f)
	})
	if err != nil {
		return TOTPSetup{}, err
	}
	return TOTPSetup{URL: key.URL(), Secret: key.Secret()}, nil
}

// ConfirmTOTP turns the app being set up on once a code from it is right,
// and returns new recovery codes to show once. A wrong code is counted by
// the password throttle like a wrong password.
func (s *SecondFactors) ConfirmTOTP(ctx context.Context, p Principal, code string, client Client) ([]string, error) {
	u, err := s.requireSelf(ctx, s.store, p, SetUpAuthenticator)
	if err != nil {
		return nil, err
	}
	f, err := s.store.TOTPFactor(ctx, u.ID)
	if ErrorCode(err) == ENOTFOUND || (err == nil && f.Confirmed()) {
		return nil, Errorf(EINVALID, "There is no authenticator app being set up. Start again.")
	}
	if err != nil {
		return nil, err
	}
	code = normalizeCode(code)
	if !isTOTPCode(code) {
		return nil, FieldError("code", "Enter the 6-digit code your app shows.")
	}
	secret, err := s.totpSecret(u.ID, f.Sealed)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var step int64
	ok, err := s.accounts.throttle.Check(ctx, NormalizeEmail(u.Email), u.ID, client, func() (bool, error) {
		var found bool
		step, found = matchTOTP(secret, code, now, f.LastStep)
		return found, nil
	})
	if err != nil {
		return nil, asFieldError(err, "code")
	}
	if !ok {
		return nil, FieldError("code", "That code is not right. Check that your phone's clock is set automatically, and enter the code your app shows now.")
	}
	codes, hashes := s.newRecoveryCodes()
	err = s.store.UpdateSignIn(ctx, func(tx SecondFactorTx) error {
		cur, err := tx.TOTPFactor(ctx, u.ID)
		if err != nil || cur.Confirmed() || string(cur.Sealed) != string(f.Sealed) {
			// Replaced or confirmed meanwhile (another tab): not this one.
			return Errorf(ECONFLICT, "The authenticator app setup changed meanwhile. Start again.")
		}
		cur.ConfirmTime, cur.LastStep = now, step
		if err := tx.SetTOTPFactor(ctx, cur); err != nil {
			return err
		}
		if err := tx.ReplaceRecoveryCodes(ctx, u.ID, hashes); err != nil {
			return err
		}
		return tx.AddAudit(ctx, selfEntry(p, now, ActionTOTPEnable, u, fmt.Sprintf("authenticator app on; %d new recovery codes", len(codes))))
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// DisableTOTP turns the authenticator app off (or drops one being set up).
// When it was the last second factor, the recovery codes go with it; it
// is refused while an organization (or being staff) requires a factor.
func (s *SecondFactors) DisableTOTP(ctx context.Context, p Principal) error {
	u, err := s.requireSelf(ctx, s.store, p, TurnOffAuthenticator)
	if err != nil {
		return err
	}
	now := s.now()
	return s.store.UpdateSignIn(ctx, func(tx SecondFactorTx) error {
		f, err := factorsOf(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if f.TOTP.UserID == 0 {
			return Errorf(EINVALID, "No authenticator app is on.")
		}
		was := f.TOTP.Confirmed()
		f.TOTP = TOTPFactor{}
		if was {
			if err := s.keepOne(ctx, tx, u, f, "turn the authenticator app off"); err != nil {
				return err
			}
		}
		if err := tx.DeleteTOTPFactor(ctx, u.ID); err != nil {
			return err
		}
		if !was {
			return nil
		}
		detail := "authenticator app off"
		if !f.Any() {
			if err := tx.ReplaceRecoveryCodes(ctx, u.ID, nil); err != nil {
				return err
			}
			detail += "; no second factor left, recovery codes deleted"
		}
		return tx.AddAudit(ctx, selfEntry(p, now, ActionTOTPDisable, u, detail))
	})
}

// NewRecoveryCodes replaces the user's recovery codes with new ones, shown
// once; the old ones stop working.
func (s *SecondFactors) NewRecoveryCodes(ctx context.Context, p Principal) ([]string, error) {
	u, err := s.requireSelf(ctx, s.store, p, MakeRecoveryCodes)
	if err != nil {
		return nil, err
	}
	codes, hashes := s.newRecoveryCodes()
	now := s.now()
	err = s.store.UpdateSignIn(ctx, func(tx SecondFactorTx) error {
		f, err := factorsOf(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if !f.Any() {
			return Errorf(EINVALID, "Recovery codes stand in for a second factor: set up an authenticator app or a passkey first.")
		}
		if err := tx.ReplaceRecoveryCodes(ctx, u.ID, hashes); err != nil {
			return err
		}
		return tx.AddAudit(ctx, selfEntry(p, now, ActionRecoveryCodesNew, u,
			fmt.Sprintf("%d new recovery codes; the %d unused ones before stop working", len(codes), f.RecoveryCodes)))
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// recoveryAlphabet has 32 letters and digits without look-alikes (no 0, 1,
// l, o): 5 bits per character, no bias.
const recoveryAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"

// newRecoveryCodes makes RecoveryCodeCount codes of 10 characters (50
// bits), written "xxxxx-xxxxx", and their keyed hashes.
func (s *SecondFactors) newRecoveryCodes() (codes, hashes []string) {
	for range RecoveryCodeCount {
		b := make([]byte, 10)
		if _, err := rand.Read(b); err != nil {
			panic("crypto/rand failed: " + err.Error())
		}
		for i := range b {
			b[i] = recoveryAlphabet[int(b[i])%len(recoveryAlphabet)]
		}
		code := string(b[:5]) + "-" + string(b[5:])
		codes = append(codes, code)
		hashes = append(hashes, s.recoveryHash(code))
	}
	return codes, hashes
}

// recoveryHash is the stored form of a recovery code: HMAC-SHA-256 under a
// key derived from the server key, of the code without separators.
func (s *SecondFactors) recoveryHash(code string) string {
	m := hmac.New(sha256.New, s.recoveryKey)
	m.Write([]byte(strings.ReplaceAll(normalizeCode(code), "-", "")))
	return hex.EncodeToString(m.Sum(nil))
}

// normalizeCode drops the spaces and dashes people type or paste, and
// lower-cases letters.
func normalizeCode(code string) string {
	code = strings.ToLower(strings.TrimSpace(code))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '-' {
			return -1
		}
		return r
	}, code)
}

func isTOTPCode(code string) bool {
	if len(code) != 6 {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func isRecoveryCode(code string) bool {
	if len(code) != 10 {
		return false
	}
	for _, r := range code {
		if !strings.ContainsRune(recoveryAlphabet, r) {
			return false
		}
	}
	return true
}

// matchTOTP finds the time step, newer than lastStep, whose code is code,
// among the steps around now; every candidate is compared (in constant
// time), so timing does not tell which one matched.
func matchTOTP(secret, code string, now time.Time, lastStep int64) (int64, bool) {
	current := now.Unix() / totpPeriod
	var found int64
	for step := current - totpSkew; step <= current+totpSkew; step++ {
		ok, err := hotp.ValidateCustom(code, uint64(step), secret, hotp.ValidateOpts{Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
		if err == nil && ok && step > lastStep && found == 0 {
			found = step
		}
	}
	return found, found != 0
}

// checkCode verifies a second-factor code of u (an authenticator app code
// or an unused recovery code) through the password throttle, and consumes
// it: an app code's step is recorded so it is not accepted again, a
// recovery code is marked used. It reports what was used.
func (s *SecondFactors) checkCode(ctx context.Context, u User, field, code string, client Client) (usedRecovery bool, err error) {
	code = normalizeCode(code)
	switch {
	case code == "":
		return false, FieldError(field, "Enter the code from your authenticator app, or a recovery code.")
	case !isTOTPCode(code) && !isRecoveryCode(code):
		return false, FieldError(field, "Enter the 6-digit code from your authenticator app, or a recovery code (like abcde-fgh23).")
	}
	f, err := factorsOf(ctx, s.store, u.ID)
	if err != nil {
		return false, err
	}
	secret := ""
	if f.TOTP.Confirmed() {
		if secret, err = s.totpSecret(u.ID, f.TOTP.Sealed); err != nil {
			return false, err
		}
	}
	now := s.now()
	var step, recoveryID int64
	ok, err := s.accounts.throttle.Check(ctx, NormalizeEmail(u.Email), u.ID, client, func() (bool, error) {
		if isTOTPCode(code) {
			if secret == "" {
				return false, nil
			}
			var ok bool
			step, ok = matchTOTP(secret, code, now, f.TOTP.LastStep)
			return ok, nil
		}
		codes, err := s.store.RecoveryCodes(ctx, u.ID)
		if err != nil {
			return false, err
		}
		want := []byte(s.recoveryHash(code))
		for _, c := range codes {
			if subtle.ConstantTimeCompare([]byte(c.Hash), want) == 1 {
				recoveryID = c.ID
			}
		}
		return recoveryID != 0, nil
	})
	if err != nil {
		return false, asFieldError(err, field)
	}
	if !ok {
		return false, FieldError(field, "That code is not right, or was used already.")
	}
	// Consumed in a transaction that checks again: two requests racing
	// with the same code get one yes.
	var consumed bool
	err = s.store.UpdateSignIn(ctx, func(tx SecondFactorTx) error {
		var err error
		if recoveryID != 0 {
			consumed, err = tx.UseRecoveryCode(ctx, recoveryID, now)
			if consumed && err == nil {
				left, lerr := tx.RecoveryCodes(ctx, u.ID)
				if lerr != nil {
					return lerr
				}
				e := selfEntry(Principal{Account: userRef(u.ID), UserID: u.ID, Email: u.Email, Staff: u.Staff, RemoteAddr: client.Address},
					now, ActionRecoveryCodeUse, u, fmt.Sprintf("%d recovery code%s left", len(left), plural(len(left))))
				return tx.AddAudit(ctx, e)
			}
			return err
		}
		consumed, err = tx.AdvanceTOTPStep(ctx, u.ID, step)
		return err
	})
	if err != nil {
		return false, err
	}
	if !consumed {
		return false, FieldError(field, "That code is not right, or was used already.")
	}
	return recoveryID != 0, nil
}

// ActionRecoveryCodeUse records the use of a recovery code (a lost factor, maybe).
const ActionRecoveryCodeUse = "user.recovery_code_use"

// asFieldError puts a throttle's refusal beside the form's field.
func asFieldError(err error, field string) error {
	var e *Error
	if ErrorCode(err) == ERATELIMITED && errors.As(err, &e) {
		return &Error{Code: ERATELIMITED, Message: e.Message, RetryAfter: e.RetryAfter, Fields: map[string]string{field: e.Message}}
	}
	return err
}
