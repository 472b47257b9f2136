package sqlite

import (
	"context"
	"database/sql"
	"errors"
)

// KeyCheck returns the check value of the server key recorded for this
// database, "" when none is recorded yet.
func (d *DB) KeyCheck(ctx context.Context) (string, error) {
	var check string
	err := d.read.QueryRowContext(ctx, "SELECT key_check FROM server_meta WHERE id = 1").Scan(&check)
	return check, err
}

// SetKeyCheck records the check value of the server key. With replace
// false it records it only where none is recorded, and returns the value
// that stands afterwards: another process may have been first.
func (d *DB) SetKeyCheck(ctx context.Context, check string, replace bool) (string, error) {
	query := "UPDATE server_meta SET key_check = ? WHERE id = 1 AND key_check = ''"
	if replace {
		query = "UPDATE server_meta SET key_check = ? WHERE id = 1"
	}
	if _, err := d.exec(ctx, query, check); err != nil {
		return "", err
	}
	return d.KeyCheck(ctx)
}

// NewestSealedKey returns the id and sealed secret of the newest key, and
// false when the database holds no key secret at all.
func (d *DB) NewestSealedKey(ctx context.Context) (id string, sealed []byte, found bool, err error) {
	err = d.read.QueryRowContext(ctx, "SELECT id, secret_sealed FROM keys ORDER BY create_time DESC, id DESC LIMIT 1").Scan(&id, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, false, nil
	}
	return id, sealed, err == nil, err
}
