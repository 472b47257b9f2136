package sqlite

import (
	"context"
	"time"

	"studio/domain"
)

const userColumns = "id, email, display_name, password_hash, staff, locked, create_time, last_sign_in, password_changed, email_verified"

func scanUser(row interface{ Scan(...any) error }) (domain.User, error) {
	var u domain.User
	var created, lastSignIn, pwChanged int64
	err := row.Scan(&u.ID, &u.Email, &u.DisplayName, &u.PasswordHash, &u.Staff, &u.Locked, &created, &lastSignIn, &pwChanged, &u.EmailVerified)
	u.CreateTime, u.LastSignIn, u.PasswordChanged = fromMicros(created), fromMicros(lastSignIn), fromMicros(pwChanged)
	return u, err
}

func (q queries) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n)
	return n, err
}

func (q queries) UserByID(ctx context.Context, id int64) (domain.User, error) {
	u, err := scanUser(q.q.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = ?", id))
	return u, notFound(err, "User")
}

func (q queries) UserByEmail(ctx context.Context, email string) (domain.User, error) {
	u, err := scanUser(q.q.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE email = ?", email))
	return u, notFound(err, "User")
}

func (t *writeTx) CreateUser(ctx context.Context, u *domain.User) error {
	res, err := t.q.ExecContext(ctx, `INSERT INTO users (email, display_name, password_hash, staff, locked, create_time, password_changed, email_verified)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, u.Email, u.DisplayName, u.PasswordHash, u.Staff, u.Locked, micros(u.CreateTime), micros(u.PasswordChanged), u.EmailVerified)
	if isUnique(err) {
		return domain.Errorf(domain.ECONFLICT, "A user with the email %s already exists.", u.Email)
	}
	if err != nil {
		return err
	}
	u.ID, err = res.LastInsertId()
	return err
}

func (t *writeTx) SetPassword(ctx context.Context, userID int64, hash string, at time.Time) error {
	return t.execOne(ctx, "User", "UPDATE users SET password_hash = ?, password_changed = ? WHERE id = ?", hash, micros(at), userID)
}

func (t *writeTx) SetLastSignIn(ctx context.Context, userID int64, at time.Time) error {
	return t.execOne(ctx, "User", "UPDATE users SET last_sign_in = ? WHERE id = ?", micros(at), userID)
}

func (t *writeTx) SetEmailVerified(ctx context.Context, userID int64) error {
	return t.execOne(ctx, "User", "UPDATE users SET email_verified = 1 WHERE id = ?", userID)
}

// execOne runs a statement that must change exactly one row.
func (t *writeTx) execOne(ctx context.Context, what, query string, args ...any) error {
	res, err := t.q.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		if err == nil {
			err = domain.ErrNotFound(what)
		}
		return err
	}
	return nil
}
