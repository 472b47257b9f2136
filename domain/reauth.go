package domain

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// ReauthAfter is how long after proving the password a person may take
// sensitive actions (create or rotate a key, switch Basic Auth on, grant
// admin) before being asked for it again.
const ReauthAfter = 15 * time.Minute

// ConfirmPassword checks the signed-in user's password again before a
// sensitive action. Failures count toward the same limits as sign-in, so
// it cannot be used to guess a password faster.
func (a *Accounts) ConfirmPassword(ctx context.Context, p Principal, password, remoteAddr string) error {
	if !p.IsUser() {
		return Errorf(EFORBIDDEN, "Only people confirm a password.")
	}
	if password == "" {
		return FieldError("reauth_password", "Enter your password.")
	}
	now := a.now()
	email := strings.ToLower(p.Email)
	wait := a.byEmail.Take(email, now)
	if wait == 0 {
		if wait = a.byAddr.Take(remoteAddr, now); wait > 0 {
			a.byEmail.Undo(email, now)
		}
	}
	if wait > 0 {
		minutes := int(wait.Minutes()) + 1
		return &Error{Code: ERATELIMITED, RetryAfter: int(wait.Seconds()) + 1,
			Message: fmt.Sprintf("Too many wrong passwords. Try again in %d minute%s.", minutes, plural(minutes))}
	}
	u, err := a.store.UserByID(ctx, p.UserID)
	if err != nil {
		return err
	}
	if len(password) > MaxPasswordLength*4 {
		return FieldError("reauth_password", "The password is incorrect.")
	}
	ok, err := a.hasher.Verify(ctx, u.PasswordHash, password)
	if err != nil {
		return err
	}
	if !ok {
		return FieldError("reauth_password", "The password is incorrect.")
	}
	if u.Locked {
		return Errorf(EFORBIDDEN, "This account is locked. Contact your support team.")
	}
	a.byEmail.Reset(email)
	a.byAddr.Undo(remoteAddr, now)
	return nil
}
