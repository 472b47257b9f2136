package domain

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Passkeys and security keys (WebAuthn). The ceremonies themselves (the
// options sent to the browser, the checks of its answers) are run by a
// PasskeyCeremony that lives outside the domain (package passkey); the
// domain decides who may register, use and remove which passkey, stores
// them sealed, and counts them as second factors.

// MaxPasskeys is how many passkeys one user may register.
const MaxPasskeys = 20

// MaxPasskeyNameLength bounds a passkey's name, in characters.
const MaxPasskeyNameLength = 64

// PasskeyCeremony runs WebAuthn ceremonies. Options are the JSON the
// browser's navigator.credentials.create/get take; state is what the
// ceremony must find again at its end (kept server-side, used once);
// response is the JSON of the browser's answer. Records are the credential
// records as the ceremony reads and writes them.
type PasskeyCeremony interface {
	BeginRegistration(u PasskeyUser) (options, state []byte, err error)
	FinishRegistration(u PasskeyUser, state, response []byte) (PasskeyCredential, error)
	// BeginLogin asks for an assertion by one of u's passkeys.
	BeginLogin(u PasskeyUser) (options, state []byte, err error)
	// BeginDiscoverableLogin asks for an assertion by any passkey of this
	// site, with user verification (a password-less sign-in).
	BeginDiscoverableLogin() (options, state []byte, err error)
	// AssertionUser reads which credential and user handle an assertion
	// names, checking nothing: to find the user whose passkeys check it.
	AssertionUser(response []byte) (credentialID, userHandle []byte, err error)
	// FinishLogin checks an assertion by one of u's passkeys against the state.
	FinishLogin(u PasskeyUser, state, response []byte) (PasskeyCredential, error)
}

// PasskeyUser is a user as a ceremony sees it.
type PasskeyUser struct {
	Handle      []byte
	Name        string
	DisplayName string
	Records     [][]byte
}

// PasskeyCredential is a credential a ceremony registered or checked,
// with its record as it must be stored now (the counter moves).
type PasskeyCredential struct {
	ID     []byte
	Record []byte
	// UserVerified: the authenticator verified its user (PIN, biometrics).
	UserVerified bool
}

// errPasskeyRefused is the one answer to an assertion or registration that
// does not check out; the cause goes to the log.
func errPasskeyRefused(cause error) error {
	var e *Error
	if errors.As(cause, &e) {
		return cause
	}
	return &Error{Code: EUNAUTHORIZED, Message: "The passkey could not be verified. Try again, or use another way.", Err: cause}
}

func passkeyAAD(credentialID []byte) []byte {
	return []byte("passkey:" + hex.EncodeToString(credentialID))
}

// passkeyUser loads u's passkeys, opened, for a ceremony; handle is "" when
// the user has none yet.
func (s *SecondFactors) passkeyUser(ctx context.Context, r SecondFactorReader, u User) (PasskeyUser, []Passkey, error) {
	pu := PasskeyUser{Name: u.Email, DisplayName: u.DisplayName}
	handle, err := r.WebAuthnHandle(ctx, u.ID)
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return pu, nil, err
	}
	pu.Handle = handle
	keys, err := r.ListPasskeys(ctx, u.ID)
	if err != nil {
		return pu, nil, err
	}
	for _, k := range keys {
		rec, err := s.sealer.Open(k.Sealed, passkeyAAD(k.CredentialID))
		if err != nil {
			return pu, nil, fmt.Errorf("open passkey %d of user %d: %w", k.ID, u.ID, err)
		}
		pu.Records = append(pu.Records, rec)
	}
	return pu, keys, nil
}

// CleanPasskeyName checks the name given to a passkey.
func CleanPasskeyName(name string) (string, error) {
	if strings.TrimSpace(name) == "" {
		return "", FieldError("name", "Give the passkey a name, such as the device it is on.")
	}
	name, err := CleanDisplayName("name", name)
	if err != nil {
		return "", err
	}
	if utf8.RuneCountInString(name) > MaxPasskeyNameLength {
		return "", FieldError("name", fmt.Sprintf("The name can be at most %d characters long.", MaxPasskeyNameLength))
	}
	return name, nil
}

// PasskeyRegistration is a registration under way: the options for the
// browser, and the state to keep (server-side) until it answers.
type PasskeyRegistration struct {
	Name    string
	Options []byte
	State   []byte
}

// BeginPasskey starts registering a passkey named name for the signed-in
// user. Passkeys the user has already are excluded, so one authenticator
// is not registered twice.
func (s *SecondFactors) BeginPasskey(ctx context.Context, p Principal, name string) (PasskeyRegistration, error) {
	name, err := CleanPasskeyName(name)
	if err != nil {
		return PasskeyRegistration{}, err
	}
	u, err := s.requireSelf(ctx, s.store, p, AddPasskeyChange)
	if err != nil {
		return PasskeyRegistration{}, err
	}
	var pu PasskeyUser
	err = s.store.UpdateSignIn(ctx, func(tx SecondFactorTx) error {
		var keys []Passkey
		var err error
		if pu, keys, err = s.passkeyUser(ctx, tx, u); err != nil {
			return err
		}
		if len(keys) >= MaxPasskeys {
			return FieldError("name", fmt.Sprintf("You have %d passkeys, the most there can be. Remove one first.", MaxPasskeys))
		}
		if pu.Handle == nil {
			// The user handle is random and the same for all of the
			// user's passkeys: it names no one to the authenticator.
			pu.Handle = make([]byte, 32)
			if _, err := rand.Read(pu.Handle); err != nil {
				return err
			}
			return tx.SetWebAuthnHandle(ctx, u.ID, pu.Handle)
		}
		return nil
	})
	if err != nil {
		return PasskeyRegistration{}, err
	}
	options, state, err := s.passkeys.BeginRegistration(pu)
	if err != nil {
		return PasskeyRegistration{}, err
	}
	return PasskeyRegistration{Name: name, Options: options, State: state}, nil
}

// PasskeyAdded is a registered passkey, and the recovery codes to show
// once when it is the user's first second factor.
type PasskeyAdded struct {
	Passkey       Passkey
	RecoveryCodes []string
}

// FinishPasskey checks the browser's answer to BeginPasskey and stores the
// new passkey, sealed. When it is the user's first second factor and no
// recovery codes exist, recovery codes are made too.
func (s *SecondFactors) FinishPasskey(ctx context.Context, p Principal, name string, state, response []byte) (PasskeyAdded, error) {
	name, err := CleanPasskeyName(name)
	if err != nil {
		return PasskeyAdded{}, err
	}
	u, err := s.requireSelf(ctx, s.store, p, AddPasskeyChange)
	if err != nil {
		return PasskeyAdded{}, err
	}
	if len(state) == 0 {
		return PasskeyAdded{}, Errorf(EINVALID, "The passkey registration expired. Start again.")
	}
	pu, _, err := s.passkeyUser(ctx, s.store, u)
	if err != nil {
		return PasskeyAdded{}, err
	}
	cred, err := s.passkeys.FinishRegistration(pu, state, response)
	if err != nil {
		return PasskeyAdded{}, errPasskeyRefused(err)
	}
	now := s.now()
	out := PasskeyAdded{Passkey: Passkey{UserID: u.ID, CredentialID: cred.ID, Name: name,
		Sealed: s.sealer.Seal(cred.Record, passkeyAAD(cred.ID)), CreateTime: now}}
	codes, hashes := s.newRecoveryCodes()
	err = s.store.UpdateSignIn(ctx, func(tx SecondFactorTx) error {
		f, err := factorsOf(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if len(f.Passkeys) >= MaxPasskeys {
			return FieldError("name", fmt.Sprintf("You have %d passkeys, the most there can be. Remove one first.", MaxPasskeys))
		}
		handle, err := tx.WebAuthnHandle(ctx, u.ID)
		if err != nil || !bytes.Equal(handle, pu.Handle) {
			return Errorf(ECONFLICT, "Your passkeys changed meanwhile. Start again.")
		}
		if err := tx.CreatePasskey(ctx, &out.Passkey); err != nil {
			return err
		}
		detail := "passkey " + name
		if !f.Any() && f.RecoveryCodes == 0 {
			if err := tx.ReplaceRecoveryCodes(ctx, u.ID, hashes); err != nil {
				return err
			}
			out.RecoveryCodes = codes
			detail += fmt.Sprintf("; first second factor, %d new recovery codes", len(codes))
		}
		e := selfEntry(p, now, ActionPasskeyAdd, u, detail)
		return tx.AddAudit(ctx, e)
	})
	if err != nil {
		return PasskeyAdded{}, err
	}
	return out, nil
}

// RemovePasskey removes one of the signed-in user's passkeys. When it was
// the last second factor, the recovery codes go with it; it is refused
// while an organization (or being staff) requires a factor.
func (s *SecondFactors) RemovePasskey(ctx context.Context, p Principal, id int64) (Passkey, error) {
	u, err := s.requireSelf(ctx, s.store, p, RemovePasskeyChange)
	if err != nil {
		return Passkey{}, err
	}
	now := s.now()
	var removed Passkey
	err = s.store.UpdateSignIn(ctx, func(tx SecondFactorTx) error {
		f, err := factorsOf(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		i := -1
		for j, k := range f.Passkeys {
			if k.ID == id {
				i = j
			}
		}
		if i < 0 {
			return ErrNotFound("Passkey")
		}
		removed = f.Passkeys[i]
		f.Passkeys = append(f.Passkeys[:i:i], f.Passkeys[i+1:]...)
		if err := s.keepOne(ctx, tx, u, f, "remove this passkey"); err != nil {
			return err
		}
		if err := tx.DeletePasskey(ctx, u.ID, id); err != nil {
			return err
		}
		detail := "passkey " + removed.Name
		if !f.Any() {
			if err := tx.ReplaceRecoveryCodes(ctx, u.ID, nil); err != nil {
				return err
			}
			detail += "; no second factor left, recovery codes deleted"
		}
		return tx.AddAudit(ctx, selfEntry(p, now, ActionPasskeyRemove, u, detail))
	})
	return removed, err
}

// checkPasskey checks an assertion by one of u's passkeys against a
// ceremony's state, and records the use (the counter moves). It returns
// whether the authenticator verified its user.
func (s *SecondFactors) checkPasskey(ctx context.Context, u User, state, response []byte) (bool, error) {
	if len(state) == 0 || len(response) == 0 {
		return false, errPasskeyRefused(errors.New("no ceremony state or no response"))
	}
	pu, keys, err := s.passkeyUser(ctx, s.store, u)
	if err != nil {
		return false, err
	}
	if len(keys) == 0 {
		return false, errPasskeyRefused(errors.New("the user has no passkeys"))
	}
	cred, err := s.passkeys.FinishLogin(pu, state, response)
	if err != nil {
		return false, errPasskeyRefused(err)
	}
	var used *Passkey
	for i := range keys {
		if bytes.Equal(keys[i].CredentialID, cred.ID) {
			used = &keys[i]
		}
	}
	if used == nil {
		return false, errPasskeyRefused(errors.New("the credential is not the user's"))
	}
	now := s.now()
	err = s.store.UpdateSignIn(ctx, func(tx SecondFactorTx) error {
		return tx.UpdatePasskeyUse(ctx, used.ID, s.sealer.Seal(cred.Record, passkeyAAD(cred.ID)), now)
	})
	return cred.UserVerified, err
}

// passkeyLoginOptions starts an assertion by one of u's passkeys.
func (s *SecondFactors) passkeyLoginOptions(ctx context.Context, u User) (options, state []byte, err error) {
	pu, keys, err := s.passkeyUser(ctx, s.store, u)
	if err != nil {
		return nil, nil, err
	}
	if len(keys) == 0 {
		return nil, nil, Errorf(EINVALID, "You have no passkey. Use a code instead.")
	}
	return s.passkeys.BeginLogin(pu)
}
