package sqlite

import (
	"context"
	"time"

	"studio/domain"
)

func (d *DB) CreateSession(ctx context.Context, s domain.Session) error {
	if s.Data == nil {
		s.Data = []byte{}
	}
	_, err := d.exec(ctx, "INSERT INTO sessions (id_hash, user_id, data, create_time, last_seen) VALUES (?, ?, ?, ?, ?)",
		s.IDHash, s.UserID, s.Data, micros(s.CreateTime), micros(s.LastSeen))
	return err
}

func (d *DB) SessionByHash(ctx context.Context, idHash string) (domain.Session, error) {
	s := domain.Session{IDHash: idHash}
	var created, seen int64
	err := d.q.QueryRowContext(ctx, "SELECT user_id, data, create_time, last_seen FROM sessions WHERE id_hash = ?", idHash).
		Scan(&s.UserID, &s.Data, &created, &seen)
	s.CreateTime, s.LastSeen = fromMicros(created), fromMicros(seen)
	return s, notFound(err, "Session")
}

func (d *DB) UpdateSession(ctx context.Context, idHash string, data []byte, lastSeen time.Time) error {
	if data == nil {
		data = []byte{}
	}
	_, err := d.exec(ctx, "UPDATE sessions SET data = ?, last_seen = ? WHERE id_hash = ?", data, micros(lastSeen), idHash)
	return err
}

func (d *DB) DeleteSession(ctx context.Context, idHash string) error {
	_, err := d.exec(ctx, "DELETE FROM sessions WHERE id_hash = ?", idHash)
	return err
}

func (d *DB) DeleteUserSessions(ctx context.Context, userID int64, keepIDHash string) error {
	_, err := d.exec(ctx, "DELETE FROM sessions WHERE user_id = ? AND id_hash <> ?", userID, keepIDHash)
	return err
}

// PurgeBatch is how many expired rows one statement of the cleaner deletes:
// each batch is a write of its own, so the writes queued behind it wait
// for one batch, not for the whole purge.
const PurgeBatch = 1000

// DeleteExpiredSessions removes sessions idle since before idleBefore or
// created before createdBefore, in batches of PurgeBatch, and returns how
// many it removed.
func (d *DB) DeleteExpiredSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int64, error) {
	return inBatches(func(limit int) (int64, error) { return d.PurgeExpiredSessions(ctx, idleBefore, createdBefore, limit) })
}

// PurgeExpiredSessions removes at most limit expired sessions (see
// DeleteExpiredSessions) in one statement.
func (d *DB) PurgeExpiredSessions(ctx context.Context, idleBefore, createdBefore time.Time, limit int) (int64, error) {
	res, err := d.exec(ctx, `DELETE FROM sessions WHERE rowid IN
		(SELECT rowid FROM sessions WHERE last_seen < ? OR create_time < ? LIMIT ?)`, micros(idleBefore), micros(createdBefore), limit)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// inBatches calls purge with PurgeBatch until a batch comes back short.
func inBatches(purge func(limit int) (int64, error)) (int64, error) {
	var total int64
	for {
		n, err := purge(PurgeBatch)
		total += n
		if err != nil || n < PurgeBatch {
			return total, err
		}
	}
}
