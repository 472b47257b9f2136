package sqlite

import (
	"context"
	"database/sql"
	"time"

	"studio/domain"
)

// UnsentOutbox returns up to limit messages not yet sent, oldest first.
func (q queries) UnsentOutbox(ctx context.Context, limit int) ([]domain.OutboxMessage, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT id, to_email, subject, body, invitation_id, requested_by, create_time FROM outbox
		WHERE sent_time = 0 ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.OutboxMessage
	for rows.Next() {
		var m domain.OutboxMessage
		var invitation sql.NullInt64
		var created int64
		if err := rows.Scan(&m.ID, &m.To, &m.Subject, &m.Body, &invitation, &m.RequestedBy, &created); err != nil {
			return nil, err
		}
		m.InvitationID, m.CreateTime = invitation.Int64, fromMicros(created)
		out = append(out, m)
	}
	return out, rows.Err()
}

// MarkOutboxSent records that a message went out and drops its body: what
// was sent is the recipient's, not the server's, to keep.
func (t *writeTx) MarkOutboxSent(ctx context.Context, id int64, at time.Time) error {
	return t.execOne(ctx, "Message", "UPDATE outbox SET sent_time = ?, body = '' WHERE id = ?", micros(at), id)
}

func (t *writeTx) DeleteOutbox(ctx context.Context, id int64) error {
	return t.execOne(ctx, "Message", "DELETE FROM outbox WHERE id = ?", id)
}
