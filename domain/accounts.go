package domain

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sign-in throttling: failures allowed per account and per remote address
// within the window before further attempts are refused.
const (
	SignInAccountLimit = 5
	SignInAddressLimit = 20
	SignInWindow       = 15 * time.Minute
)

// Accounts signs users in and manages their passwords.
type Accounts struct {
	store   Store
	hasher  *Hasher
	now     func() time.Time
	byEmail *Throttle
	byAddr  *Throttle
}

// NewAccounts returns the accounts service.
func NewAccounts(store Store, hasher *Hasher, now func() time.Time) *Accounts {
	return &Accounts{
		store: store, hasher: hasher, now: now,
		byEmail: NewThrottle(SignInAccountLimit, SignInWindow),
		byAddr:  NewThrottle(SignInAddressLimit, SignInWindow),
	}
}

var errBadCredentials = Errorf(EUNAUTHORIZED, "The email or password is incorrect.")

// SignIn checks an email and password. Every failure says the same thing,
// so it does not tell which accounts exist; repeated failures per account
// and per address are refused for a while.
func (a *Accounts) SignIn(ctx context.Context, email, password, remoteAddr string) (User, error) {
	now := a.now()
	email = strings.ToLower(strings.TrimSpace(email))
	// Each attempt is counted before the (slow) password check, so parallel
	// guesses cannot all slip under the limit; a success takes it back.
	wait := a.byEmail.Take(email, now)
	if wait == 0 {
		if wait = a.byAddr.Take(remoteAddr, now); wait > 0 {
			a.byEmail.Undo(email, now)
		}
	}
	if wait > 0 {
		minutes := int(wait.Minutes()) + 1
		return User{}, &Error{Code: ERATELIMITED, RetryAfter: int(wait.Seconds()) + 1,
			Message: fmt.Sprintf("Too many failed sign-ins. Try again in %d minute%s.", minutes, plural(minutes))}
	}
	if email == "" || password == "" || len(password) > MaxPasswordLength*4 {
		return User{}, errBadCredentials
	}
	u, err := a.store.UserByEmail(ctx, email)
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return User{}, err
	}
	ok, err := a.hasher.Verify(ctx, u.PasswordHash, password)
	if err != nil {
		return User{}, err
	}
	if !ok {
		return User{}, errBadCredentials
	}
	if u.Locked {
		return User{}, Errorf(EFORBIDDEN, "This account is locked. Contact your support team.")
	}
	a.byEmail.Reset(email)
	a.byAddr.Undo(remoteAddr, now)
	if err := a.store.Update(ctx, func(tx Tx) error { return tx.SetLastSignIn(ctx, u.ID, now) }); err != nil {
		return User{}, err
	}
	u.LastSignIn = now
	return u, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// ChangePassword sets a new password after checking the current one, and
// signs the user out of every other session (keepSession is the current one's hash).
func (a *Accounts) ChangePassword(ctx context.Context, p Principal, current, next, confirm, keepSession string) error {
	if !p.IsUser() {
		return Errorf(EFORBIDDEN, "Only people can change a password.")
	}
	u, err := a.store.UserByID(ctx, p.UserID)
	if err != nil {
		return err
	}
	ok, err := a.hasher.Verify(ctx, u.PasswordHash, current)
	if err != nil {
		return err
	}
	if !ok {
		return FieldError("current", "The current password is incorrect.")
	}
	if err := CheckNewPassword("new", next); err != nil {
		return err
	}
	if next != confirm {
		return FieldError("confirm", "The two new passwords do not match.")
	}
	if next == current {
		return FieldError("new", "Choose a password different from the current one.")
	}
	hash, err := a.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	now := a.now()
	err = a.store.Update(ctx, func(tx Tx) error {
		if err := tx.SetPassword(ctx, u.ID, hash, now); err != nil {
			return err
		}
		return tx.AddAudit(ctx, auditEntry(p, now, ActionPasswordChange, "user", fmt.Sprint(u.ID), u.Email))
	})
	if err != nil {
		return err
	}
	return a.store.DeleteUserSessions(ctx, u.ID, keepSession)
}

// CurrentUser loads the user behind a session and refuses a locked one.
func (a *Accounts) CurrentUser(ctx context.Context, id int64) (User, error) {
	u, err := a.store.UserByID(ctx, id)
	if err != nil {
		return User{}, err
	}
	if u.Locked || u.Pending() {
		return User{}, Errorf(EUNAUTHORIZED, "Sign in again.")
	}
	return u, nil
}

// BootstrapInput configures the first start.
type BootstrapInput struct {
	AdminEmail    string
	AdminPassword string // "" to generate one
	OrgName       string
}

// BootstrapResult tells what the first start made. GeneratedPassword is set
// only when the password was generated, to be shown once.
type BootstrapResult struct {
	Created           bool
	Admin             User
	Organization      Organization
	GeneratedPassword string
}

// Bootstrap runs on every start: on an empty database it creates an
// organization, its inventory project, and an administrator who is
// organization admin and support staff. Otherwise it does nothing.
func (a *Accounts) Bootstrap(ctx context.Context, in BootstrapInput) (BootstrapResult, error) {
	n, err := a.store.CountUsers(ctx)
	if err != nil || n > 0 {
		return BootstrapResult{}, err
	}
	email, err := CleanEmail("email", in.AdminEmail)
	if err != nil {
		return BootstrapResult{}, fmt.Errorf("admin email %q: %s", in.AdminEmail, ErrorMessage(err))
	}
	orgName, err := CleanDisplayName("name", in.OrgName)
	if err != nil {
		return BootstrapResult{}, fmt.Errorf("organization name: %s", ErrorMessage(err))
	}
	res := BootstrapResult{Created: true}
	password := in.AdminPassword
	if password == "" {
		password = RandomPassword()
		res.GeneratedPassword = password
	} else if err := CheckNewPassword("password", password); err != nil {
		return BootstrapResult{}, fmt.Errorf("admin password: %s", ErrorMessage(err))
	}
	hash, err := a.hasher.Hash(ctx, password)
	if err != nil {
		return BootstrapResult{}, err
	}
	now := a.now()
	// The system made the account for this address: nothing to prove.
	admin := User{Email: email, DisplayName: "Administrator", PasswordHash: hash, Staff: true, CreateTime: now, PasswordChanged: now, EmailVerified: true}
	err = a.store.Update(ctx, func(tx Tx) error {
		// Checked again inside the transaction: two first starts at once make one admin.
		if n, err := tx.CountUsers(ctx); err != nil || n > 0 {
			if err == nil {
				err = errAlreadyBootstrapped
			}
			return err
		}
		if err := tx.CreateUser(ctx, &admin); err != nil {
			return err
		}
		if err := tx.AddAudit(ctx, auditEntry(System, now, ActionUserCreate, "user", fmt.Sprint(admin.ID), admin.Email)); err != nil {
			return err
		}
		org, err := createOrganization(ctx, tx, System, now, orgName, userRef(admin.ID))
		res.Organization = org
		return err
	})
	if errors.Is(err, errAlreadyBootstrapped) {
		return BootstrapResult{}, nil
	}
	if err != nil {
		return BootstrapResult{}, err
	}
	res.Admin = admin
	return res, nil
}

var errAlreadyBootstrapped = errors.New("already bootstrapped")

// userRef names a user account.
func userRef(id int64) AccountRef { return AccountRef{Type: AccountUser, ID: fmt.Sprint(id)} }

// UserPrincipal is the principal of a signed-in user acting from remoteAddr.
func UserPrincipal(u User, remoteAddr string) Principal {
	return Principal{Account: userRef(u.ID), UserID: u.ID, Email: u.Email, Staff: u.Staff, RemoteAddr: remoteAddr}
}
