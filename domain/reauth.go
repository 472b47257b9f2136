package domain

import (
	"context"
	"fmt"
	"time"
)

// ReauthAfter is how long after proving the password a person may take
// sensitive actions (create or rotate a key, switch Basic Auth on, grant
// admin) before being asked for it again.
const ReauthAfter = 15 * time.Minute

// ConfirmPassword checks the signed-in user's password again before a
// sensitive action. It goes through the same throttle as sign-in
// (CheckPassword), so it cannot be used to guess a password faster.
func (a *Accounts) ConfirmPassword(ctx context.Context, p Principal, password string, client Client) error {
	if !p.IsUser() {
		return Errorf(EFORBIDDEN, "Only people confirm a password.")
	}
	_, err := a.checkOwnPassword(ctx, p, "reauth_password", "The password is incorrect.", password, client)
	return err
}

// EREAUTH is the code of a change refused because the person acting last
// proved the password more than ReauthAfter ago: the console answers it
// with the password prompt and sends the change again once confirmed.
const EREAUTH = "reauthentication_required"

// Sensitive is a change that a stolen or forgotten session must not make
// alone: it gives someone power or a credential.
type Sensitive string

// The sensitive changes. The text completes "To …, confirm your password".
const (
	GrantProjectAdmin Sensitive = "grant Project admin"
	GrantOrgAdmin     Sensitive = "grant Organization admin"
	CreateKeyChange   Sensitive = "create a key"
	RotateKeyChange   Sensitive = "rotate a key"
	BasicAuthOn       Sensitive = "switch Basic Auth on"
)

// SessionPrincipal is the principal of a person acting through a console
// session in which the password was last proved at authTime (zero: never).
func SessionPrincipal(u User, remoteAddr string, authTime time.Time) Principal {
	p := UserPrincipal(u, remoteAddr)
	p.Console, p.AuthTime = true, authTime
	return p
}

// RecentlyAuthenticated reports whether a password proved at authTime
// still counts at now for sensitive changes.
func RecentlyAuthenticated(authTime, now time.Time) bool {
	age := now.Sub(authTime)
	return !authTime.IsZero() && age >= 0 && age <= ReauthAfter
}

// requireRecentAuth is the one re-authentication rule: it refuses change
// when p is a person in a console session who proved the password more
// than ReauthAfter ago. Every service calls it after its permission check
// and its input checks, where it knows the change will be made, and
// before writing anything.
func requireRecentAuth(p Principal, now time.Time, change Sensitive) error {
	if change == "" || !p.Console || RecentlyAuthenticated(p.AuthTime, now) {
		return nil
	}
	last := "You signed in"
	if p.AuthConfirmed {
		last = "You confirmed your password"
	}
	return &Error{Code: EREAUTH, Message: fmt.Sprintf("To %s, confirm your password. %s more than %d minutes ago.",
		change, last, int(ReauthAfter.Minutes()))}
}

// roleChange is the sensitive change of moving an account from role from
// to role to in one scope, or "" when it grants no admin role it did not
// hold there.
func roleChange(from, to Role) Sensitive {
	switch {
	case from == to:
		return ""
	case to == RoleProjectAdmin:
		return GrantProjectAdmin
	case to == RoleOrgAdmin:
		return GrantOrgAdmin
	}
	return ""
}
