package sqlite

import (
	"context"
	"sync"

	"studio/domain"
)

// tokenWriter stores issued access tokens with group commit: each commit
// costs an fsync (about 0.4 ms here), which capped token exchanges near
// 2,000 a second when every token had a transaction of its own. Tokens
// waiting together go into one transaction, which takes its turn on the
// writer like any write; each caller still returns only once its token is
// durable.
type tokenWriter struct {
	w        *writer
	in       chan tokenWrite
	quit     chan struct{} // closed by close
	finished chan struct{} // closed when run has returned
	once     sync.Once
	count    *StatementCounter
}

type tokenWrite struct {
	token domain.AccessToken
	err   chan error
}

// maxTokenBatch bounds one group commit.
const maxTokenBatch = 256

func newTokenWriter(wr *writer, count *StatementCounter) *tokenWriter {
	w := &tokenWriter{w: wr, in: make(chan tokenWrite, maxTokenBatch), quit: make(chan struct{}), finished: make(chan struct{}), count: count}
	go w.run()
	return w
}

func (w *tokenWriter) run() {
	defer close(w.finished)
	for {
		select {
		case first := <-w.in:
			w.flush(first)
		case <-w.quit:
			// Commit what was queued before the close.
			for {
				select {
				case first := <-w.in:
					w.flush(first)
				default:
					return
				}
			}
		}
	}
}

// flush commits first and whatever else is waiting, up to maxTokenBatch.
func (w *tokenWriter) flush(first tokenWrite) {
	batch := []tokenWrite{first}
	for len(batch) < maxTokenBatch {
		select {
		case next := <-w.in:
			batch = append(batch, next)
			continue
		default:
		}
		break
	}
	err := w.commit(batch)
	for _, b := range batch {
		b.err <- err
	}
}

// commit writes a batch in one transaction. It does not end with one
// caller's context: the callers wait for it once their token is queued.
func (w *tokenWriter) commit(batch []tokenWrite) error {
	return w.w.run(context.Background(), func(ctx context.Context) error {
		w.count.transaction()
		tx, err := w.w.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		for _, b := range batch {
			t := b.token
			w.count.statement()
			if _, err := tx.ExecContext(ctx, "INSERT INTO access_tokens (token_hash, key_id, service_account_id, expire_time) VALUES (?, ?, ?, ?)",
				t.Hash, t.KeyID, t.ServiceAccountID, micros(t.ExpireTime)); err != nil {
				tx.Rollback()
				return err
			}
		}
		return tx.Commit()
	})
}

// write stores one token, returning once it is committed.
func (w *tokenWriter) write(ctx context.Context, t domain.AccessToken) error {
	req := tokenWrite{token: t, err: make(chan error, 1)}
	select {
	case w.in <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-w.quit:
		return errClosed
	}
	// Once queued, the write happens; wait for it even if ctx ends, so a
	// token is never reported lost while it is being committed.
	select {
	case err := <-req.err:
		return err
	case <-w.finished:
		// Queued just as the writer stopped: answered, or never written.
		select {
		case err := <-req.err:
			return err
		default:
			return errClosed
		}
	}
}

// close stops the writer after committing what is queued; it may be called twice.
func (w *tokenWriter) close() {
	w.once.Do(func() { close(w.quit) })
	<-w.finished
}
