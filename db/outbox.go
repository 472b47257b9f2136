package db

import (
	"context"
	"time"

	"studio/domain"
)

// UnsentOutbox returns up to limit messages not yet sent, oldest first.
func (d *DB) UnsentOutbox(ctx context.Context, limit int) ([]domain.OutboxMessage, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT id, to_email, subject, body, create_time FROM outbox
		WHERE sent_time = 0 ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.OutboxMessage
	for rows.Next() {
		var m domain.OutboxMessage
		var created int64
		if err := rows.Scan(&m.ID, &m.To, &m.Subject, &m.Body, &created); err != nil {
			return nil, err
		}
		m.CreateTime = fromMicros(created)
		out = append(out, m)
	}
	return out, rows.Err()
}

// MarkOutboxSent records that a message went out.
func (d *DB) MarkOutboxSent(ctx context.Context, id int64, at time.Time) error {
	_, err := d.sql.ExecContext(ctx, "UPDATE outbox SET sent_time = ? WHERE id = ?", micros(at), id)
	return err
}
