package domain

import "time"

// recentKeys holds a value per key for the in-memory limiters: at most max
// keys, each forgotten ttl after it was last touched (it then counts as
// never seen). Keys are kept in the order they were last touched, so the
// expired ones are always at the old end: each call drops a few of them
// there, and a new key when all max are live takes the place of the one
// touched longest ago. Every call is O(1), so a flood of distinct keys
// costs neither memory beyond max nor a sweep of the whole map under the
// caller's lock. Not safe for concurrent use: the caller holds its lock.
type recentKeys[V any] struct {
	ttl time.Duration
	max int
	m   map[string]*recentKey[V]
	// newest and oldest ends of the list, in order of the last touch.
	newest, oldest *recentKey[V]
}

type recentKey[V any] struct {
	key          string
	expires      time.Time
	newer, older *recentKey[V]
	value        V
}

// dropPerCall bounds how many expired keys one call forgets.
const dropPerCall = 4

func newRecentKeys[V any](max int, ttl time.Duration) *recentKeys[V] {
	return &recentKeys[V]{ttl: ttl, max: max, m: make(map[string]*recentKey[V])}
}

// peek returns key's value without touching it; nil when the key is
// unknown or expired.
func (r *recentKeys[V]) peek(key string, now time.Time) *V {
	r.dropExpired(now)
	e := r.m[key]
	if e == nil {
		return nil
	}
	if !now.Before(e.expires) {
		r.unlink(e)
		return nil
	}
	return &e.value
}

// touch returns key's value, a zero one when the key is new or had
// expired, and keeps it ttl from now.
func (r *recentKeys[V]) touch(key string, now time.Time) *V {
	r.dropExpired(now)
	e := r.m[key]
	switch {
	case e == nil:
		if len(r.m) >= r.max {
			r.unlink(r.oldest)
		}
		e = &recentKey[V]{key: key}
		r.m[key] = e
	case !now.Before(e.expires):
		var zero V
		e.value = zero
		r.detach(e)
	default:
		r.detach(e)
	}
	// A caller may pass a time a little older than before (it read the
	// clock before slow work): never shorten a key's life.
	if exp := now.Add(r.ttl); exp.After(e.expires) {
		e.expires = exp
	}
	r.pushNewest(e)
	return &e.value
}

// forget drops key.
func (r *recentKeys[V]) forget(key string) {
	if e := r.m[key]; e != nil {
		r.unlink(e)
	}
}

// len is the number of keys held, expired ones not yet dropped included.
func (r *recentKeys[V]) len() int { return len(r.m) }

func (r *recentKeys[V]) dropExpired(now time.Time) {
	for i := 0; i < dropPerCall && r.oldest != nil && !now.Before(r.oldest.expires); i++ {
		r.unlink(r.oldest)
	}
}

// unlink removes e from the list and the map.
func (r *recentKeys[V]) unlink(e *recentKey[V]) {
	r.detach(e)
	delete(r.m, e.key)
}

// detach takes e out of the list only.
func (r *recentKeys[V]) detach(e *recentKey[V]) {
	if e.newer != nil {
		e.newer.older = e.older
	} else {
		r.newest = e.older
	}
	if e.older != nil {
		e.older.newer = e.newer
	} else {
		r.oldest = e.newer
	}
	e.newer, e.older = nil, nil
}

func (r *recentKeys[V]) pushNewest(e *recentKey[V]) {
	e.older = r.newest
	if r.newest != nil {
		r.newest.newer = e
	}
	r.newest = e
	if r.oldest == nil {
		r.oldest = e
	}
}
