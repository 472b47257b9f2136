package domain

import (
	"sync"
	"time"
)

// RateLimiter allows each key a burst of limit requests, refilled evenly
// over window (a token bucket): 25 per 5 s allows 25 at once, then 5 a second.
type RateLimiter struct {
	limit  float64
	window time.Duration

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewRateLimiter allows limit requests per window and key.
func NewRateLimiter(limit int, window time.Duration) *RateLimiter {
	return &RateLimiter{limit: float64(limit), window: window, buckets: map[string]*bucket{}}
}

// Allow takes one request for key; when refused it says how long to wait.
func (r *RateLimiter) Allow(key string, now time.Time) (bool, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	perSecond := r.limit / r.window.Seconds()
	b, ok := r.buckets[key]
	if !ok {
		if len(r.buckets) > 100_000 {
			r.sweep(now)
		}
		b = &bucket{tokens: r.limit, last: now}
		r.buckets[key] = b
	}
	// A caller may pass a time a little older than the last one (it read
	// the clock before slow work): that is no time elapsed, not negative.
	if now.After(b.last) {
		b.tokens = min(r.limit, b.tokens+now.Sub(b.last).Seconds()*perSecond)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / perSecond * float64(time.Second))
	return false, wait
}

// sweep forgets buckets that have refilled completely.
func (r *RateLimiter) sweep(now time.Time) {
	for k, b := range r.buckets {
		if now.Sub(b.last) >= r.window {
			delete(r.buckets, k)
		}
	}
}
