package domain_test

import (
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"studio/domain"
)

func TestRateLimiterBurstRefillAndWait(t *testing.T) {
	r := domain.NewRateLimiter(25, 5*time.Second)
	t0 := time.Unix(1_800_000_000, 0)
	for i := 0; i < 25; i++ {
		if ok, _ := r.Allow("a", t0); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := r.Allow("a", t0)
	if ok || wait <= 0 || wait > 200*time.Millisecond {
		t.Fatalf("26th request: ok=%v wait=%v, want refused with about 200ms to wait", ok, wait)
	}
	if ok, _ := r.Allow("b", t0); !ok {
		t.Fatal("another key was limited too")
	}
	// 5 requests a second come back.
	if ok, _ := r.Allow("a", t0.Add(wait)); !ok {
		t.Fatal("refused after waiting the time it said")
	}
	if ok, _ := r.Allow("a", t0.Add(wait)); ok {
		t.Fatal("allowed more than the refill")
	}
}

// A caller that read the clock before slow work passes an older time: that
// must not drain the bucket, nor roll its clock back.
func TestRateLimiterOlderTimeIsNoTimeElapsed(t *testing.T) {
	r := domain.NewRateLimiter(100_000, 5*time.Second)
	t0 := time.Unix(1_800_000_000, 0)
	if ok, _ := r.Allow("a", t0.Add(5*time.Second)); !ok {
		t.Fatal("first request refused")
	}
	if ok, wait := r.Allow("a", t0); !ok {
		t.Fatalf("a request stamped earlier was refused (wait %v)", wait)
	}
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// floodKeys is how many distinct keys the flood tests send.
const floodKeys = 1_000_000

// Issue 12, item 8: a flood of a million distinct keys within one window
// (addresses or key ids an attacker makes up) keeps the limiter's memory
// bounded, and a key in use during the flood keeps its count. Before, the
// map grew with every key, and past 100,000 each new key swept the whole
// map under the lock without freeing anything.
func TestRateLimiterBoundedUnderAFloodOfKeys(t *testing.T) {
	r := domain.NewRateLimiter(3, 5*time.Second)
	t0 := time.Unix(1_800_000_000, 0)
	for i := 0; i < 3; i++ {
		r.Allow("live", t0)
	}
	if ok, _ := r.Allow("live", t0); ok {
		t.Fatal("the live key's burst is not used up")
	}
	before := heapInUse()
	for i := 0; i < floodKeys; i++ {
		now := t0.Add(time.Duration(i) * time.Microsecond) // all within one second
		if ok, _ := r.Allow("flood-"+strconv.Itoa(i), now); !ok {
			t.Fatalf("a new key was refused at %d", i)
		}
		if i%1000 == 0 {
			if ok, _ := r.Allow("live", now); ok {
				t.Fatalf("the live key lost its count after %d other keys", i)
			}
		}
	}
	grown := int64(heapInUse()) - int64(before)
	t.Logf("after %d keys: %d held, heap grown by %.1f MiB", floodKeys, r.Keys(), float64(grown)/(1<<20))
	if n := r.Keys(); n > domain.MaxRateLimitKeys {
		t.Errorf("%d keys held after the flood, want at most %d", n, domain.MaxRateLimitKeys)
	}
	if grown > 48<<20 {
		t.Errorf("the flood grew the heap by %d MiB, want at most 48", grown>>20)
	}
	runtime.KeepAlive(r)
}

// Keys are forgotten once their bucket is full again (a window unused),
// while a key used within its window keeps its count.
func TestRateLimiterForgetsExpiredKeys(t *testing.T) {
	const window = 5 * time.Second
	r := domain.NewRateLimiter(3, window)
	t0 := time.Unix(1_800_000_000, 0)
	for i := 0; i < 1000; i++ {
		r.Allow("old-"+strconv.Itoa(i), t0)
	}
	live := t0.Add(4 * time.Second)
	for i := 0; i < 3; i++ {
		r.Allow("live", live)
	}
	if n := r.Keys(); n != 1001 {
		t.Fatalf("%d keys held, want 1001", n)
	}
	later := t0.Add(window)
	for i := 0; i < 1000; i++ {
		r.Allow("new-"+strconv.Itoa(i), later)
	}
	if n := r.Keys(); n != 1001 {
		t.Errorf("%d keys held a window later, want 1001: the 1000 new and the live one, the old ones forgotten", n)
	}
	// One second of refill (0.6 of a request) is not a request yet.
	if ok, _ := r.Allow("live", later); ok {
		t.Error("the live key lost its count when the old keys were forgotten")
	}
	// A forgotten key has its full burst, as if never seen.
	for i := 0; i < 3; i++ {
		if ok, _ := r.Allow("old-0", later); !ok {
			t.Fatalf("request %d of a forgotten key's burst refused", i+1)
		}
	}
}

// Under concurrent use, with other goroutines flooding new keys, a live
// key is allowed exactly its burst: no count is lost or doubled.
func TestRateLimiterExactUnderConcurrentFlood(t *testing.T) {
	r := domain.NewRateLimiter(100, time.Hour)
	t0 := time.Unix(1_800_000_000, 0)
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for i := 0; i < 50; i++ {
				if ok, _ := r.Allow("live", t0); ok {
					allowed.Add(1)
				}
			}
		})
		wg.Go(func() {
			for i := 0; i < 10_000; i++ { // 80,000 in all: below the bound
				r.Allow("flood-"+strconv.Itoa(g)+"-"+strconv.Itoa(i), t0)
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != 100 {
		t.Fatalf("%d of 400 requests of the live key allowed, want its burst of 100", n)
	}
}
