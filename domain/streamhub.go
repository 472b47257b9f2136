package domain

import (
	"sync"
	"sync/atomic"
)

// StreamHub carries committed events to the open event streams. The one
// here is in-process; streams across several nodes (PostgreSQL's
// LISTEN/NOTIFY) are another implementation of the same two methods.
type StreamHub interface {
	// Subscribe opens a subscription to the events f selects, buffering
	// up to buffer of them for a slow reader.
	Subscribe(f StreamFilter, buffer int) Subscription
	// Publish offers events to every matching subscription without ever
	// waiting: a subscription whose buffer is full is dropped (its Lagged
	// channel closes) and counted.
	Publish(events []Event)
}

// Subscription is one open stream's share of the events.
type Subscription interface {
	// Events delivers the matching events in commit order.
	Events() <-chan Event
	// Lagged is closed when the hub dropped the subscription because its
	// reader fell behind; no event follows.
	Lagged() <-chan struct{}
	// Close ends the subscription.
	Close()
}

// StreamFilter selects the events of a stream: the project's, of the
// devices the filter selects, of the event types listed (all when empty).
type StreamFilter struct {
	ProjectID  string
	Devices    DeviceFilter
	EventTypes []EventType
}

// Matches reports whether the stream follows e.
func (f StreamFilter) Matches(e Event) bool {
	if e.ProjectID != f.ProjectID {
		return false
	}
	if len(f.EventTypes) > 0 {
		found := false
		for _, t := range f.EventTypes {
			if t == e.Type {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return f.Devices.matchesDevice(e.DeviceID, e.DeviceType, e.ProductNumber, e.Labels)
}

// DefaultStreamBuffer is how many events an open stream may fall behind
// before it is dropped.
const DefaultStreamBuffer = 256

// LocalHub is the in-process StreamHub: subscriptions by project, each
// with a bounded buffer.
type LocalHub struct {
	mu        sync.RWMutex
	byProject map[string]map[*localSub]struct{}
	dropped   atomic.Int64
}

// NewLocalHub returns an empty in-process hub.
func NewLocalHub() *LocalHub {
	return &LocalHub{byProject: map[string]map[*localSub]struct{}{}}
}

type localSub struct {
	hub    *LocalHub
	filter StreamFilter
	events chan Event
	lagged chan struct{}
	once   sync.Once
}

func (s *localSub) Events() <-chan Event    { return s.events }
func (s *localSub) Lagged() <-chan struct{} { return s.lagged }

// Close removes the subscription; the events channel is left open (a
// Publish may be sending to it) and is collected with it.
func (s *localSub) Close() { s.hub.remove(s) }

// Subscribe opens a subscription.
func (h *LocalHub) Subscribe(f StreamFilter, buffer int) Subscription {
	if buffer <= 0 {
		buffer = DefaultStreamBuffer
	}
	s := &localSub{hub: h, filter: f, events: make(chan Event, buffer), lagged: make(chan struct{})}
	h.mu.Lock()
	subs := h.byProject[f.ProjectID]
	if subs == nil {
		subs = map[*localSub]struct{}{}
		h.byProject[f.ProjectID] = subs
	}
	subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

func (h *LocalHub) remove(s *localSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if subs := h.byProject[s.filter.ProjectID]; subs != nil {
		delete(subs, s)
		if len(subs) == 0 {
			delete(h.byProject, s.filter.ProjectID)
		}
	}
}

// Publish offers each event to the matching subscriptions of its project.
func (h *LocalHub) Publish(events []Event) {
	var slow []*localSub
	h.mu.RLock()
	for _, e := range events {
		for s := range h.byProject[e.ProjectID] {
			if !s.filter.Matches(e) {
				continue
			}
			select {
			case s.events <- e:
			default:
				slow = append(slow, s)
			}
		}
	}
	h.mu.RUnlock()
	for _, s := range slow {
		s.once.Do(func() {
			h.dropped.Add(1)
			h.remove(s)
			close(s.lagged)
		})
	}
}

// HubStats are a hub's figures.
type HubStats struct {
	Subscriptions int
	// Dropped counts the subscriptions dropped for falling behind.
	Dropped int64
}

// Stats returns the hub's figures.
func (h *LocalHub) Stats() HubStats {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for _, subs := range h.byProject {
		n += len(subs)
	}
	return HubStats{Subscriptions: n, Dropped: h.dropped.Load()}
}
