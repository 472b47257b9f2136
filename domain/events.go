package domain

import (
	"context"
	"encoding/json"
	"runtime"
	"sync"
	"time"
)

// Event is something a device reported, or a change of its labels.
type Event struct {
	ID       string // xid-style, 20 characters
	DeviceID string
	// ProjectID is the device's project when the event happened (for a
	// stored event read back: its project now, as history follows the device).
	ProjectID string
	Type      EventType
	// Time is the body's updateTime: the event's timestamp.
	Time time.Time
	// Body is the event type's body; for labelsChanged it is the whole data.
	Body json.RawMessage
	// Value is the number the console charts, when HasValue.
	Value    float64
	HasValue bool

	// The device as it was when the event happened: what streams and
	// (next) data connectors filter on.
	DeviceType    DeviceType
	ProductNumber string
	Labels        map[string]string

	// Memo is shared by every stream that gets this event (set when it is
	// delivered): what an edge derives from the event, its wire encoding,
	// is made once for all of them.
	Memo *EventMemo
}

// EventMemo keeps one value derived from an event, made by the first
// that asks.
type EventMemo struct {
	once  sync.Once
	value any
}

// Get returns the memo's value, making it with make the first time.
func (m *EventMemo) Get(make func() any) any {
	if m == nil {
		return make()
	}
	m.once.Do(func() { m.value = make() })
	return m.value
}

// TargetName is the resource name of the event's device.
func (e Event) TargetName() string { return "projects/" + e.ProjectID + "/devices/" + e.DeviceID }

// Data is the event's data as the API writes it: {"<eventType>": body},
// or for labelsChanged the body itself.
func (e Event) Data() json.RawMessage {
	if e.Type == EventLabelsChanged {
		return e.Body
	}
	out := make([]byte, 0, len(e.Body)+len(e.Type)+5)
	out = append(out, '{', '"')
	out = append(out, e.Type...)
	out = append(out, '"', ':')
	out = append(out, e.Body...)
	return append(out, '}')
}

// InHistory reports whether events of this type are kept in the history.
// labelsChanged goes to streams (and connectors) only: the Swift client
// says the history never holds it.
func (t EventType) InHistory() bool { return t != EventLabelsChanged && t != EventPing }

// EventFilter selects a device's events: of Types (all when empty), with
// Start <= Time < End.
type EventFilter struct {
	DeviceID   string
	Types      []EventType
	Start, End time.Time
}

// SeriesBucket is one step of a chart: the events of one type in
// [Start, Start+step).
type SeriesBucket struct {
	Start         time.Time
	Min, Max, Avg float64
	Count         int
}

// EventReader reads the event history.
type EventReader interface {
	// ListEvents lists events newest first (by time, then id), after the cursor.
	ListEvents(ctx context.Context, f EventFilter, after Cursor, limit int) ([]Event, error)
	// EventSeries groups the values of a device's events of one type in
	// [from, to) into steps of step, oldest first, leaving out empty steps.
	EventSeries(ctx context.Context, deviceID string, et EventType, from, to time.Time, step time.Duration) ([]SeriesBucket, error)
	// LatestEvent returns a device's newest event of a type (ENOTFOUND when none).
	LatestEvent(ctx context.Context, deviceID string, et EventType) (Event, error)
}

// EventWriter writes the event history.
type EventWriter interface {
	// AddEvents stores events (of types kept in the history).
	AddEvents(ctx context.Context, events []Event) error
	// DeleteEventsBefore deletes up to limit of the oldest events older
	// than before, and says how many it deleted.
	DeleteEventsBefore(ctx context.Context, before time.Time, limit int) (int, error)
}

// EventHook writes what else an event means in the transaction that
// stores it: issue 15's data connectors add their outbox rows here, so a
// delivery is queued exactly when its event is committed.
type EventHook func(ctx context.Context, tx Tx, events []Event) error

// EventLog is the one place events are written. Record writes events
// inside a caller's transaction (history, the devices' reported, and the
// hooks); Publish writes published events in batches (group commit: the
// publishers waiting together share one transaction and one fsync, and
// each returns once its event is durable); after each commit the events
// go to the open streams through the hub.
type EventLog struct {
	store EventLogStore
	hub   StreamHub
	hooks []EventHook

	mu       sync.Mutex
	queue    []*pendingEvent
	flushing bool
}

// EventLogStore is the part of the store the event log uses.
type EventLogStore interface {
	Updater
}

// NewEventLog returns the event log over store, delivering to hub.
func NewEventLog(store EventLogStore, hub StreamHub) *EventLog {
	return &EventLog{store: store, hub: hub}
}

// AddHook adds a hook every recorded batch of events runs through, in
// the transaction that stores them. Hooks are added while the services
// are built, before any event is published.
func (l *EventLog) AddHook(h EventHook) { l.hooks = append(l.hooks, h) }

// Hub is where recorded events are delivered.
func (l *EventLog) Hub() StreamHub { return l.hub }

// Record writes events inside tx: the ones kept in the history, the
// reported of their devices (only a body newer than the one there
// replaces it), and whatever the hooks add. devices holds each event's
// device as read in tx; Record updates them. The caller delivers the
// events (Deliver) once tx has committed.
func (l *EventLog) Record(ctx context.Context, tx Tx, events []Event, devices map[string]*Device) error {
	var history []Event
	changed := map[string]bool{}
	for _, e := range events {
		if e.Type.InHistory() {
			history = append(history, e)
		}
		d := devices[e.DeviceID]
		if d == nil || e.Type == EventLabelsChanged {
			continue
		}
		if d.Reported == nil {
			d.Reported = Reported{}
		}
		if old, ok := d.Reported[e.Type]; !ok || !bodyTime(old).After(e.Time) {
			d.Reported[e.Type] = e.Body
			changed[d.ID] = true
		}
		if e.Time.After(d.LastSeen) {
			d.LastSeen = e.Time
			changed[d.ID] = true
		}
	}
	if len(history) > 0 {
		if err := tx.AddEvents(ctx, history); err != nil {
			return err
		}
	}
	if len(changed) > 0 {
		updates := make([]ReportedUpdate, 0, len(changed))
		for id := range changed {
			d := devices[id]
			updates = append(updates, ReportedUpdate{ID: id, Reported: d.Reported, LastSeen: d.LastSeen})
		}
		if err := tx.SetReported(ctx, updates); err != nil {
			return err
		}
	}
	for _, h := range l.hooks {
		if err := h(ctx, tx, events); err != nil {
			return err
		}
	}
	return nil
}

// bodyTime reads a body's updateTime (zero when it has none).
func bodyTime(body json.RawMessage) time.Time {
	var b struct {
		UpdateTime string `json:"updateTime"`
	}
	_ = json.Unmarshal(body, &b)
	t, _ := time.Parse(time.RFC3339Nano, b.UpdateTime)
	return t
}

// Deliver sends committed events to the open streams. It never waits
// for a slow stream (see StreamHub).
func (l *EventLog) Deliver(events []Event) {
	if l.hub != nil && len(events) > 0 {
		out := make([]Event, len(events))
		for i, e := range events {
			e.Memo = &EventMemo{}
			out[i] = e
		}
		l.hub.Publish(out)
	}
}

// pendingEvent is a published event waiting for its batch.
type pendingEvent struct {
	event Event
	// done receives the outcome of the event's batch; lead tells a waiting
	// publisher that it commits the next batch.
	done chan error
	lead chan struct{}
}

// maxPublishBatch bounds one group commit.
const maxPublishBatch = 512

// Publish stores a published event and returns once it is durable, then
// delivers it. Concurrent publishers share transactions: the first to
// arrive commits what is waiting (its own event first), then hands the
// turn to the first publisher still waiting, so no one commits for
// others for long. The event's device is read again in the transaction:
// a device deleted or moved out of e.ProjectID meanwhile makes it
// not-found, and only that event fails.
func (l *EventLog) Publish(ctx context.Context, e Event) error {
	p := &pendingEvent{event: e, done: make(chan error, 1), lead: make(chan struct{}, 1)}
	l.mu.Lock()
	l.queue = append(l.queue, p)
	lead := !l.flushing
	l.flushing = true
	l.mu.Unlock()
	if !lead {
		// Once queued the event is written whatever happens to ctx: the
		// turn may come to this publisher, and a batch must not wait on
		// one that left.
		select {
		case err := <-p.done:
			return err
		case <-p.lead:
		}
	} else {
		// The first to arrive yields once, so that publishers already
		// runnable queue their events and share this commit (on one CPU
		// they would otherwise wait for the next).
		runtime.Gosched()
	}
	l.mu.Lock()
	n := min(len(l.queue), maxPublishBatch)
	batch := append([]*pendingEvent(nil), l.queue[:n]...)
	l.queue = append(l.queue[:0], l.queue[n:]...)
	l.mu.Unlock()

	l.commit(context.WithoutCancel(ctx), batch)

	l.mu.Lock()
	if len(l.queue) > 0 {
		l.queue[0].lead <- struct{}{}
	} else {
		l.flushing = false
	}
	l.mu.Unlock()
	return <-p.done
}

// commit writes one batch in one transaction and answers each publisher.
func (l *EventLog) commit(ctx context.Context, batch []*pendingEvent) {
	results := make([]error, len(batch))
	var recorded []Event
	err := l.store.Update(ctx, func(tx Tx) error {
		recorded = recorded[:0]
		// Every device of the batch in one read (in the transaction: one
		// deleted or moved meanwhile fails its events alone).
		ids := make([]string, 0, len(batch))
		seen := map[string]bool{}
		for _, p := range batch {
			if !seen[p.event.DeviceID] {
				seen[p.event.DeviceID] = true
				ids = append(ids, p.event.DeviceID)
			}
		}
		found, err := tx.DevicesByIDs(ctx, ids)
		if err != nil {
			return err
		}
		devices := make(map[string]*Device, len(found))
		for i := range found {
			devices[found[i].ID] = &found[i]
		}
		for i, p := range batch {
			results[i] = nil
			if d := devices[p.event.DeviceID]; d == nil || d.ProjectID != p.event.ProjectID {
				results[i] = ErrNotFound("Device")
				continue
			}
			recorded = append(recorded, p.event)
		}
		return l.Record(ctx, tx, recorded, devices)
	})
	for i, p := range batch {
		if err != nil {
			p.done <- err
		} else {
			p.done <- results[i]
		}
	}
	if err == nil {
		l.Deliver(recorded)
	}
}
