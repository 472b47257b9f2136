package domain

import (
	"context"
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
