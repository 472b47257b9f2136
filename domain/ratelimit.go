package domain

import (
	"sync"
	"time"
)

// RateLimiter allows each key a burst of limit requests, refilled evenly
// over window (a token bucket): 25 per 5 s allows 25 at once, then 5 a second.
//
// It holds at most MaxRateLimitKeys keys. A key unused for a window has a
// full bucket again and is forgotten; when more keys than that are in use
// at once, the one used longest ago is forgotten (it gets a full bucket,
// which is no more than a client with that many keys has anyway).
type RateLimiter struct {
	limit  float64
	window time.Duration

	mu      sync.Mutex
	buckets *recentKeys[bucket]
}

// MaxRateLimitKeys bounds the keys of one RateLimiter (about 17 MB).
const MaxRateLimitKeys = 100_000

type bucket struct {
	tokens float64
	last   time.Time // zero: a new bucket
}

// NewRateLimiter allows limit requests per window and key.
func NewRateLimiter(limit int, window time.Duration) *RateLimiter {
	return &RateLimiter{limit: float64(limit), window: window, buckets: newRecentKeys[bucket](MaxRateLimitKeys, window)}
}

// Allow takes one request for key; when refused it says how long to wait.
func (r *RateLimiter) Allow(key string, now time.Time) (bool, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	perSecond := r.limit / r.window.Seconds()
	b := r.buckets.touch(key, now)
	if b.last.IsZero() {
		b.tokens, b.last = r.limit, now
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
