package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"studio/domain"
)

// keyColumnsK is keyColumns for a query where keys is aliased k.
var keyColumnsK = "k." + strings.ReplaceAll(keyColumns, ", ", ", k.")

func (t *writeTx) UpdateKeyLifecycle(ctx context.Context, k domain.Key) error {
	return t.execOne(ctx, "Key", `UPDATE keys SET disabled_time = ?, compromised_time = ?, expire_time = ?,
		rotated_to = ?, grace_end = ? WHERE id = ?`,
		micros(k.DisabledTime), micros(k.CompromisedTime), micros(k.ExpireTime), k.RotatedTo, micros(k.GraceEnd), k.ID)
}

func (t *writeTx) DeleteKeyTokens(ctx context.Context, keyID string) (int, error) {
	res, err := t.q.ExecContext(ctx, "DELETE FROM access_tokens WHERE key_id = ?", keyID)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (q queries) KeyPolicy(ctx context.Context, orgID string) (domain.KeyPolicy, error) {
	var def, max, updated int64
	err := q.q.QueryRowContext(ctx, `SELECT default_key_lifetime, max_key_lifetime, update_time
		FROM organization_settings WHERE organization_id = ?`, orgID).Scan(&def, &max, &updated)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return domain.KeyPolicy{}, nil
		}
		return domain.KeyPolicy{}, err
	}
	return domain.KeyPolicy{DefaultLifetime: time.Duration(def) * time.Second, MaxLifetime: time.Duration(max) * time.Second,
		UpdateTime: fromMicros(updated)}, nil
}

func (t *writeTx) SetKeyPolicy(ctx context.Context, orgID string, pol domain.KeyPolicy) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO organization_settings (organization_id, default_key_lifetime, max_key_lifetime, update_time)
		VALUES (?, ?, ?, ?) ON CONFLICT (organization_id) DO UPDATE SET default_key_lifetime = excluded.default_key_lifetime,
		max_key_lifetime = excluded.max_key_lifetime, update_time = excluded.update_time`,
		orgID, int64(pol.DefaultLifetime/time.Second), int64(pol.MaxLifetime/time.Second), micros(pol.UpdateTime))
	return err
}

func (q queries) ListExpiredKeys(ctx context.Context, orgID string, now time.Time, limit int) ([]domain.ExpiredKey, error) {
	at := micros(now)
	// Two indexed lookups (by expiry, by grace end), joined to the organization.
	rows, err := q.q.QueryContext(ctx, "SELECT "+keyColumnsK+`, sa.email, sa.display_name, p.id, p.display_name
		FROM keys k JOIN service_accounts sa ON sa.id = k.service_account_id JOIN projects p ON p.id = sa.project_id
		WHERE p.organization_id = ? AND k.id IN (
			SELECT id FROM keys WHERE expire_time > 0 AND expire_time <= ?
			UNION SELECT id FROM keys WHERE rotated_to <> '' AND grace_end <= ?)
		ORDER BY k.id LIMIT ?`, orgID, at, at, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.ExpiredKey
	for rows.Next() {
		var x domain.ExpiredKey
		k, err := scanKey(rows, &x.AccountEmail, &x.AccountDisplayName, &x.ProjectID, &x.ProjectDisplayName)
		if err != nil {
			return nil, err
		}
		x.Key = k
		out = append(out, x)
	}
	return out, rows.Err()
}
