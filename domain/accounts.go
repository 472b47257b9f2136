package domain

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Accounts signs users in and manages their passwords. It takes the whole
// Store: its password throttle (NewPasswordThrottle) does.
type Accounts struct {
	store    Store
	hasher   *Hasher
	now      func() time.Time
	throttle *PasswordThrottle
}

// NewAccounts returns the accounts service.
func NewAccounts(store Store, hasher *Hasher, now func() time.Time) *Accounts {
	return &Accounts{store: store, hasher: hasher, now: now, throttle: NewPasswordThrottle(store, now)}
}

var errBadCredentials = Errorf(EUNAUTHORIZED, "The email or password is incorrect.")

// NormalizeEmail is the form of an email that sign-in and the password
// throttle compare.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CheckPassword is the one door every check of a person's password goes
// through (sign-in, change of password, confirmation before a sensitive
// action, acceptance of an invitation by signing in): it holds the attempt
// to the password throttle (see PasswordThrottle), then compares. It
// returns the user when the password is right, EUNAUTHORIZED with one
// message for a wrong password and an unknown email alike, ERATELIMITED
// (with RetryAfter) when the throttle refuses, and EFORBIDDEN for a locked
// account with the right password.
func (a *Accounts) CheckPassword(ctx context.Context, email, password string, client Client) (User, error) {
	email = NormalizeEmail(email)
	if email == "" || password == "" {
		// No guess at any password: nothing to throttle or count.
		return User{}, errBadCredentials
	}
	u, err := a.store.UserByEmail(ctx, email)
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return User{}, err
	}
	ok, err := a.throttle.Check(ctx, email, u.ID, client, func() (bool, error) {
		if len(password) > MaxPasswordLength*4 {
			return false, nil
		}
		// Also for an unknown email (an empty hash): the same work, so
		// timing does not tell whether the account exists.
		return a.hasher.Verify(ctx, u.PasswordHash, password)
	})
	if err != nil {
		return User{}, err
	}
	if !ok {
		return User{}, errBadCredentials
	}
	if u.Locked {
		return User{}, Errorf(EFORBIDDEN, "This account is locked. Contact your support team.")
	}
	return u, nil
}

// SignInResult is a successful sign-in.
type SignInResult struct {
	User User
	// FailedAttempts are the wrong passwords tried on the account since its
	// previous sign-in, to tell the owner now (they are counted from zero again).
	FailedAttempts FailedAttempts
}

// SignIn checks an email and password (through CheckPassword) and records
// the sign-in. It knows nothing of second factors: the console signs people
// in through SignIns (signin.go), which asks for one when the user has one.
func (a *Accounts) SignIn(ctx context.Context, email, password string, client Client) (SignInResult, error) {
	u, err := a.CheckPassword(ctx, email, password, client)
	if err != nil {
		return SignInResult{}, err
	}
	return a.recordSignIn(ctx, u)
}

// recordSignIn records that u signed in now and takes the wrong passwords
// tried since the previous sign-in, to tell the owner.
func (a *Accounts) recordSignIn(ctx context.Context, u User) (SignInResult, error) {
	now := a.now()
	var failed FailedAttempts
	err := a.store.Update(ctx, func(tx Tx) error {
		if err := tx.SetLastSignIn(ctx, u.ID, now); err != nil {
			return err
		}
		var err error
		failed, err = tx.TakeFailedAttempts(ctx, u.ID)
		return err
	})
	if err != nil {
		return SignInResult{}, err
	}
	u.LastSignIn = now
	return SignInResult{User: u, FailedAttempts: failed}, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// ChangePassword sets a new password after checking the current one, and
// signs the user out of every other session (keepSession is the current one's hash).
// The current password goes through the password throttle like a sign-in.
func (a *Accounts) ChangePassword(ctx context.Context, p Principal, current, next, confirm, keepSession string, client Client) error {
	if !p.IsUser() {
		return Errorf(EFORBIDDEN, "Only people can change a password.")
	}
	u, err := a.checkOwnPassword(ctx, p, "current", "The current password is incorrect.", current, client)
	if err != nil {
		return err
	}
	if err := CheckNewPassword("new", next, u.Email); err != nil {
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

// checkOwnPassword checks the signed-in user's password through
// CheckPassword; a wrong one is the error wrong on the form's field, and a
// refusal of the throttle says its message there too.
func (a *Accounts) checkOwnPassword(ctx context.Context, p Principal, field, wrong, password string, client Client) (User, error) {
	u, err := a.store.UserByID(ctx, p.UserID)
	if err != nil {
		return User{}, err
	}
	if password == "" {
		return User{}, FieldError(field, "Enter your password.")
	}
	checked, err := a.CheckPassword(ctx, u.Email, password, client)
	switch ErrorCode(err) {
	case "":
		return checked, nil
	case EUNAUTHORIZED:
		return User{}, FieldError(field, wrong)
	case ERATELIMITED:
		var e *Error
		errors.As(err, &e)
		return User{}, &Error{Code: ERATELIMITED, Message: e.Message, RetryAfter: e.RetryAfter, Fields: map[string]string{field: e.Message}}
	}
	return User{}, err
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
	} else if err := CheckNewPassword("password", password, email); err != nil {
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
