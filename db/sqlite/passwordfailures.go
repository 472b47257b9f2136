package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"studio/domain"
)

// The password throttle's memory (migration 008).

func (q queries) PasswordFailureTimes(ctx context.Context, f domain.PasswordFailureFilter, since time.Time, limit int) ([]time.Time, error) {
	// Each selection is a whole fixed string, so it uses its index.
	var query string
	var args []any
	switch {
	case f.Account != "" && f.Client != "":
		query = "SELECT time FROM password_failures WHERE account = ? AND client = ? AND time >= ? ORDER BY time DESC LIMIT ?"
		args = []any{f.Account, f.Client}
	case f.Account != "" && f.UnknownOnly:
		query = "SELECT time FROM password_failures WHERE account = ? AND known = 0 AND time >= ? ORDER BY time DESC LIMIT ?"
		args = []any{f.Account}
	case f.Address != "" && f.UnknownOnly:
		query = "SELECT time FROM password_failures WHERE address = ? AND known = 0 AND time >= ? ORDER BY time DESC LIMIT ?"
		args = []any{f.Address}
	default:
		return nil, errors.New("password failures: unsupported filter")
	}
	rows, err := q.q.QueryContext(ctx, query, append(args, micros(since), limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var t int64
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, fromMicros(t))
	}
	return out, rows.Err()
}

// forgetBatch bounds how many old failures one new failure deletes: the
// table shrinks faster than it grows, and no write grows long.
const forgetBatch = 100

func (t *writeTx) AddPasswordFailure(ctx context.Context, f domain.PasswordFailure, forgetBefore time.Time) error {
	if _, err := t.q.ExecContext(ctx, "INSERT INTO password_failures (account, client, address, known, time) VALUES (?, ?, ?, ?, ?)",
		f.Account, f.Client, f.Address, f.Known, micros(f.Time)); err != nil {
		return err
	}
	if f.UserID != 0 {
		if _, err := t.q.ExecContext(ctx, `INSERT INTO failed_attempts (user_id, count, last_time, last_address) VALUES (?, 1, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET count = count + 1, last_time = excluded.last_time, last_address = excluded.last_address`,
			f.UserID, micros(f.Time), f.Address); err != nil {
			return err
		}
	}
	_, err := t.q.ExecContext(ctx, `DELETE FROM password_failures WHERE id IN
		(SELECT id FROM password_failures WHERE time < ? ORDER BY time LIMIT ?)`, micros(forgetBefore), forgetBatch)
	return err
}

func (t *writeTx) ForgetPasswordFailures(ctx context.Context, account, client string) error {
	_, err := t.q.ExecContext(ctx, "DELETE FROM password_failures WHERE account = ? AND client = ?", account, client)
	return err
}

func (t *writeTx) TakeFailedAttempts(ctx context.Context, userID int64) (domain.FailedAttempts, error) {
	var fa domain.FailedAttempts
	var last int64
	err := t.q.QueryRowContext(ctx, "DELETE FROM failed_attempts WHERE user_id = ? RETURNING count, last_time, last_address", userID).
		Scan(&fa.Count, &last, &fa.LastAddress)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.FailedAttempts{}, nil
	}
	fa.Last = fromMicros(last)
	return fa, err
}
