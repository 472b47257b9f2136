package domain

// Keys is how many keys the limiter holds, for the tests of its bound.
func (r *RateLimiter) Keys() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buckets.len()
}

// Keys is how many keys the throttle holds, for the tests of its bound.
func (t *Throttle) Keys() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failures.len()
}
