package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"
	"time"

	"studio/domain"
)

// eventInsertRows is how many events one INSERT statement writes: a
// transaction's statements are parsed each time they run (see
// stmtCache), so a batch is written in few, long statements.
const eventInsertRows = 64

var eventInserts sync.Map // rows → the INSERT statement for that many rows

func eventInsert(n int) string {
	if q, ok := eventInserts.Load(n); ok {
		return q.(string)
	}
	q := "INSERT INTO events (id, device_id, event_type, time, value, body) VALUES " +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?), ", n), ", ")
	eventInserts.Store(n, q)
	return q
}

func (t *writeTx) AddEvents(ctx context.Context, events []domain.Event) error {
	for len(events) > 0 {
		n := min(len(events), eventInsertRows)
		args := make([]any, 0, 6*n)
		for _, e := range events[:n] {
			var value any
			if e.HasValue {
				value = e.Value
			}
			args = append(args, e.ID, e.DeviceID, string(e.Type), micros(e.Time), value, string(e.Body))
		}
		if _, err := t.q.ExecContext(ctx, eventInsert(n), args...); err != nil {
			return err
		}
		events = events[n:]
	}
	return nil
}

func scanEvent(row interface{ Scan(...any) error }) (domain.Event, error) {
	var e domain.Event
	var at int64
	var value sql.NullFloat64
	var body string
	err := row.Scan(&e.ID, &e.DeviceID, &e.Type, &at, &value, &body)
	e.Time, e.Value, e.HasValue, e.Body = fromMicros(at), value.Float64, value.Valid, []byte(body)
	return e, err
}

func (q queries) ListEvents(ctx context.Context, f domain.EventFilter, after domain.Cursor, limit int) ([]domain.Event, error) {
	query := "SELECT id, device_id, event_type, time, value, body FROM events WHERE device_id = ? AND time >= ? AND time < ?"
	args := []any{f.DeviceID, micros(f.Start), micros(f.End)}
	if len(f.Types) > 0 {
		types := make([]any, len(f.Types))
		for i, t := range f.Types {
			types[i] = string(t)
		}
		query += " AND event_type IN (" + placeholders(len(types)) + ")"
		args = append(args, types...)
	}
	if !after.IsZero() {
		at, err := strconv.ParseInt(after.Key, 10, 64)
		if err != nil {
			return nil, domain.FieldError("pageToken", "The page token is not valid.")
		}
		query += " AND (time, id) < (?, ?)"
		args = append(args, at, after.ID)
	}
	query += " ORDER BY time DESC, id DESC LIMIT ?"
	rows, err := q.q.QueryContext(ctx, query, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]domain.Event, 0, min(limit, 128))
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (q queries) EventSeries(ctx context.Context, deviceID string, et domain.EventType, from, to time.Time, step time.Duration) ([]domain.SeriesBucket, error) {
	start, width := micros(from), step.Microseconds()
	rows, err := q.q.QueryContext(ctx, `SELECT (time - ?) / ? AS bucket, min(value), max(value), avg(value), count(*)
		FROM events WHERE device_id = ? AND time >= ? AND time < ? AND event_type = ? AND value IS NOT NULL
		GROUP BY bucket ORDER BY bucket`, start, width, deviceID, start, micros(to), string(et))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.SeriesBucket
	for rows.Next() {
		var b domain.SeriesBucket
		var bucket int64
		if err := rows.Scan(&bucket, &b.Min, &b.Max, &b.Avg, &b.Count); err != nil {
			return nil, err
		}
		b.Start = fromMicros(start + bucket*width)
		out = append(out, b)
	}
	return out, rows.Err()
}

func (q queries) LatestEvent(ctx context.Context, deviceID string, et domain.EventType) (domain.Event, error) {
	e, err := scanEvent(q.q.QueryRowContext(ctx, `SELECT id, device_id, event_type, time, value, body FROM events
		WHERE device_id = ? AND event_type = ? ORDER BY time DESC, id DESC LIMIT 1`, deviceID, string(et)))
	return e, notFound(err, "Event")
}

func (t *writeTx) DeleteEventsBefore(ctx context.Context, before time.Time, limit int) (int, error) {
	res, err := t.q.ExecContext(ctx, `DELETE FROM events WHERE rowid IN
		(SELECT rowid FROM events WHERE time < ? ORDER BY time LIMIT ?)`, micros(before), limit)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
