package domain

import (
	"context"
	"time"
)

// Clock is the time of the background loops: the real one in the server,
// one moved by hand in tests.
type Clock interface {
	Now() time.Time
	// After fires once d has passed.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now().UTC() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// RealClock is the system's clock, in UTC.
func RealClock() Clock { return realClock{} }

// EventPruner deletes events older than the retention, in bounded batches
// (each its own short transaction, so publishers get the writer between
// them), every interval until its context ends.
type EventPruner struct {
	store     Updater
	clock     Clock
	retention time.Duration
	every     time.Duration
	// OnError is told of a failed round (the next round tries again).
	OnError func(error)
	// OnPruned is told how many events a round deleted, when it deleted some.
	OnPruned func(int)
}

// Defaults of event retention.
const (
	DefaultEventRetention = 31 * 24 * time.Hour
	PruneEvery            = 10 * time.Minute
	// PruneBatch bounds the events one pruning transaction deletes.
	PruneBatch = 1000
)

// NewEventPruner returns the pruner of events older than retention.
func NewEventPruner(store Updater, clock Clock, retention, every time.Duration) *EventPruner {
	if retention <= 0 {
		retention = DefaultEventRetention
	}
	if every <= 0 {
		every = PruneEvery
	}
	return &EventPruner{store: store, clock: clock, retention: retention, every: every}
}

// Retention is how long events are kept.
func (p *EventPruner) Retention() time.Duration { return p.retention }

// PruneOnce deletes every event older than the retention, batch by batch,
// and says how many it deleted.
func (p *EventPruner) PruneOnce(ctx context.Context) (int, error) {
	before := p.clock.Now().Add(-p.retention)
	total := 0
	for ctx.Err() == nil {
		var n int
		err := p.store.Update(ctx, func(tx Tx) error {
			var err error
			n, err = tx.DeleteEventsBefore(ctx, before, PruneBatch)
			return err
		})
		total += n
		if err != nil {
			return total, err
		}
		if n < PruneBatch {
			break
		}
	}
	return total, ctx.Err()
}

// Run prunes now and then every interval until ctx ends.
func (p *EventPruner) Run(ctx context.Context) {
	for {
		n, err := p.PruneOnce(ctx)
		if err != nil && ctx.Err() == nil && p.OnError != nil {
			p.OnError(err)
		}
		if n > 0 && p.OnPruned != nil {
			p.OnPruned(n)
		}
		select {
		case <-ctx.Done():
			return
		case <-p.clock.After(p.every):
		}
	}
}
