package sqlite

import (
	"context"
	"time"

	"studio/domain"
)

// CreateAccessToken stores an issued token; see tokenWriter.
func (d *DB) CreateAccessToken(ctx context.Context, t domain.AccessToken) error {
	return d.tokens.write(ctx, t)
}

func (q queries) AccessTokenByHash(ctx context.Context, hash string) (domain.AccessToken, error) {
	t := domain.AccessToken{Hash: hash}
	var exp int64
	err := q.q.QueryRowContext(ctx, "SELECT key_id, service_account_id, expire_time FROM access_tokens WHERE token_hash = ?", hash).
		Scan(&t.KeyID, &t.ServiceAccountID, &exp)
	t.ExpireTime = fromMicros(exp)
	return t, notFound(err, "Access token")
}

// DeleteExpiredTokens removes access tokens that expired before now, in
// batches of PurgeBatch, and returns how many it removed.
func (d *DB) DeleteExpiredTokens(ctx context.Context, now time.Time) (int64, error) {
	return inBatches(func(limit int) (int64, error) { return d.PurgeExpiredTokens(ctx, now, limit) })
}

// PurgeExpiredTokens removes at most limit expired access tokens, the
// oldest first, in one statement (the expiry index finds them).
func (d *DB) PurgeExpiredTokens(ctx context.Context, now time.Time, limit int) (int64, error) {
	res, err := d.exec(ctx, `DELETE FROM access_tokens WHERE token_hash IN
		(SELECT token_hash FROM access_tokens WHERE expire_time < ? ORDER BY expire_time LIMIT ?)`, micros(now), limit)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *writeTx) SetKeyLastUse(ctx context.Context, keyID string, at time.Time, how, from string) error {
	_, err := t.q.ExecContext(ctx, "UPDATE keys SET last_used_time = ?, last_used_via = ?, last_used_from = ? WHERE id = ?",
		micros(at), how, from, keyID)
	return err
}

func (t *writeTx) DeleteAccountTokens(ctx context.Context, accountID string) (int, error) {
	res, err := t.q.ExecContext(ctx, "DELETE FROM access_tokens WHERE service_account_id = ?", accountID)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
