package domain

import (
	"sync"
	"time"
)

// Throttle counts failures per key in a sliding window and refuses a key
// once it reaches the limit, until its oldest counted failure ages out.
type Throttle struct {
	limit  int
	window time.Duration

	mu       sync.Mutex
	failures map[string][]time.Time
}

// NewThrottle allows limit failures per key within window.
func NewThrottle(limit int, window time.Duration) *Throttle {
	return &Throttle{limit: limit, window: window, failures: map[string][]time.Time{}}
}

// Wait returns how long the key must wait before it may try again (0: now).
func (t *Throttle) Wait(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	times := t.prune(key, now)
	if len(times) < t.limit {
		return 0
	}
	// The key may try again once enough failures have aged out to leave
	// fewer than limit in the window.
	return times[len(times)-t.limit].Add(t.window).Sub(now)
}

// Take checks and counts one attempt of key at once, so that attempts
// running in parallel cannot all pass the check before any is counted. It
// returns 0 when the attempt may go ahead (and is now counted), or how long
// to wait. A successful attempt is taken back with Undo or Reset.
func (t *Throttle) Take(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	times := t.prune(key, now)
	if len(times) >= t.limit {
		return times[len(times)-t.limit].Add(t.window).Sub(now)
	}
	t.failures[key] = append(times, now)
	t.bound(now)
	return 0
}

// Undo takes back one attempt counted by Take at the given time.
func (t *Throttle) Undo(key string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	times := t.failures[key]
	for i := len(times) - 1; i >= 0; i-- {
		if times[i].Equal(at) {
			times = append(times[:i:i], times[i+1:]...)
			break
		}
	}
	if len(times) == 0 {
		delete(t.failures, key)
	} else {
		t.failures[key] = times
	}
}

// Fail records one failure of key.
func (t *Throttle) Fail(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failures[key] = append(t.prune(key, now), now)
	t.bound(now)
}

// bound keeps memory bounded under a flood of distinct keys.
func (t *Throttle) bound(now time.Time) {
	if len(t.failures) > 100_000 {
		for k := range t.failures {
			t.prune(k, now)
		}
	}
}

// Reset forgets the failures of key, after a success.
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.failures, key)
}

func (t *Throttle) prune(key string, now time.Time) []time.Time {
	times := t.failures[key]
	i := 0
	for i < len(times) && now.Sub(times[i]) >= t.window {
		i++
	}
	times = times[i:]
	if len(times) == 0 {
		delete(t.failures, key)
		return nil
	}
	t.failures[key] = times
	return times
}
