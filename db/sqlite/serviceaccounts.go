package sqlite

import (
	"context"
	"strings"

	"studio/domain"
)

const serviceAccountColumns = "sa.id, sa.project_id, sa.email, sa.display_name, sa.enable_basic_auth, sa.create_time, sa.update_time, sa.disabled_time"

func scanServiceAccount(row interface{ Scan(...any) error }, extra ...any) (domain.ServiceAccount, error) {
	var sa domain.ServiceAccount
	var created, updated, disabled int64
	err := row.Scan(append([]any{&sa.ID, &sa.ProjectID, &sa.Email, &sa.DisplayName, &sa.EnableBasicAuth, &created, &updated, &disabled}, extra...)...)
	sa.CreateTime, sa.UpdateTime, sa.DisabledTime = fromMicros(created), fromMicros(updated), fromMicros(disabled)
	return sa, err
}

func (q queries) ServiceAccountByID(ctx context.Context, id string) (domain.ServiceAccount, error) {
	sa, err := scanServiceAccount(q.q.QueryRowContext(ctx, "SELECT "+serviceAccountColumns+" FROM service_accounts sa WHERE sa.id = ?", id))
	return sa, notFound(err, "Service account")
}

func (q queries) ListServiceAccounts(ctx context.Context, f domain.ServiceAccountFilter, after domain.Cursor, limit int) ([]domain.ServiceAccount, error) {
	query := "SELECT " + serviceAccountColumns + `, (SELECT count(*) FROM keys k WHERE k.service_account_id = sa.id)
		FROM service_accounts sa WHERE sa.project_id = ? AND (sa.name_key, sa.id) > (?, ?)`
	args := []any{f.ProjectID, after.Key, after.ID}
	if f.Query != "" {
		q := strings.ToLower(f.Query)
		query += " AND (instr(sa.name_key, ?) > 0 OR instr(sa.email, ?) > 0)"
		args = append(args, q, q)
	}
	query += " ORDER BY sa.name_key, sa.id LIMIT ?"
	rows, err := q.q.QueryContext(ctx, query, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.ServiceAccount
	for rows.Next() {
		var n int
		sa, err := scanServiceAccount(rows, &n)
		if err != nil {
			return nil, err
		}
		sa.KeyCount = n
		out = append(out, sa)
	}
	return out, rows.Err()
}

func (t *writeTx) CreateServiceAccount(ctx context.Context, sa domain.ServiceAccount) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO service_accounts (id, project_id, email, display_name, name_key,
		enable_basic_auth, create_time, update_time, disabled_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sa.ID, sa.ProjectID, sa.Email, sa.DisplayName, nameKey(sa.DisplayName), sa.EnableBasicAuth, micros(sa.CreateTime), micros(sa.UpdateTime),
		micros(sa.DisabledTime))
	if isUnique(err) {
		return domain.Errorf(domain.ECONFLICT, "A service account with this id or email already exists.")
	}
	return err
}

func (t *writeTx) UpdateServiceAccount(ctx context.Context, sa domain.ServiceAccount) error {
	return t.execOne(ctx, "Service account", `UPDATE service_accounts SET display_name = ?, name_key = ?,
		enable_basic_auth = ?, update_time = ?, disabled_time = ? WHERE id = ?`,
		sa.DisplayName, nameKey(sa.DisplayName), sa.EnableBasicAuth, micros(sa.UpdateTime), micros(sa.DisabledTime), sa.ID)
}

func (t *writeTx) DeleteServiceAccount(ctx context.Context, id string) error {
	// Keys and memberships go by ON DELETE CASCADE.
	return t.execOne(ctx, "Service account", "DELETE FROM service_accounts WHERE id = ?", id)
}

const keyColumns = "id, service_account_id, secret_sealed, create_time, last_used_time, last_used_via, last_used_from, " +
	"disabled_time, compromised_time, expire_time, rotated_to, grace_end"

func scanKey(row interface{ Scan(...any) error }, extra ...any) (domain.Key, error) {
	var k domain.Key
	var created, used, disabled, compromised, expire, grace int64
	err := row.Scan(append([]any{&k.ID, &k.ServiceAccountID, &k.Sealed, &created, &used, &k.LastUsedVia, &k.LastUsedFrom,
		&disabled, &compromised, &expire, &k.RotatedTo, &grace}, extra...)...)
	k.CreateTime, k.LastUsed = fromMicros(created), fromMicros(used)
	k.DisabledTime, k.CompromisedTime, k.ExpireTime, k.GraceEnd = fromMicros(disabled), fromMicros(compromised), fromMicros(expire), fromMicros(grace)
	return k, err
}

func (q queries) KeyByID(ctx context.Context, id string) (domain.Key, error) {
	k, err := scanKey(q.q.QueryRowContext(ctx, "SELECT "+keyColumns+" FROM keys WHERE id = ?", id))
	return k, notFound(err, "Key")
}

func (q queries) ListKeys(ctx context.Context, serviceAccountID string, afterID string, limit int) ([]domain.Key, error) {
	rows, err := q.q.QueryContext(ctx, "SELECT "+keyColumns+` FROM keys
		WHERE service_account_id = ? AND id > ? ORDER BY id LIMIT ?`, serviceAccountID, afterID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

func (q queries) CountKeys(ctx context.Context, serviceAccountID string) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, "SELECT count(*) FROM keys WHERE service_account_id = ?", serviceAccountID).Scan(&n)
	return n, err
}

func (t *writeTx) CreateKey(ctx context.Context, k domain.Key) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO keys (id, service_account_id, secret_sealed, create_time,
		disabled_time, compromised_time, expire_time, rotated_to, grace_end) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.ServiceAccountID, k.Sealed, micros(k.CreateTime),
		micros(k.DisabledTime), micros(k.CompromisedTime), micros(k.ExpireTime), k.RotatedTo, micros(k.GraceEnd))
	return err
}

func (t *writeTx) DeleteKey(ctx context.Context, id string) error {
	return t.execOne(ctx, "Key", "DELETE FROM keys WHERE id = ?", id)
}
