package domain_test

import (
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"studio/domain"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func TestThrottleLimitAndWindow(t *testing.T) {
	const limit = 3
	const window = time.Minute
	th := domain.NewThrottle(limit, window)
	if w := th.Wait("k", t0); w != 0 {
		t.Fatalf("fresh key Wait = %v, want 0", w)
	}
	// Failures at t0, t0+10s, t0+20s.
	for i := 0; i < limit; i++ {
		at := t0.Add(time.Duration(i) * 10 * time.Second)
		if w := th.Wait("k", at); w != 0 {
			t.Fatalf("after %d failures Wait = %v, want 0", i, w)
		}
		th.Fail("k", at)
	}
	now := t0.Add(20 * time.Second)
	w := th.Wait("k", now)
	if w <= 0 {
		t.Fatalf("limit reached: Wait = %v, want > 0", w)
	}
	// The oldest failure (t0) ages out at t0+window.
	if want := t0.Add(window).Sub(now); w != want {
		t.Errorf("Wait = %v, want %v (until the oldest failure leaves the window)", w, want)
	}
	if w2 := th.Wait("k", now.Add(w/2)); w2 <= 0 || w2 >= w {
		t.Errorf("halfway Wait = %v, want between 0 and %v", w2, w)
	}
	// Other keys are not affected.
	if w := th.Wait("other", now); w != 0 {
		t.Errorf("other key Wait = %v, want 0", w)
	}
	// Once the returned wait is over, the key may try again.
	if w := th.Wait("k", now.Add(w)); w != 0 {
		t.Errorf("after waiting Wait = %v, want 0", w)
	}
	// After the whole window has passed, everything is forgotten: limit-1
	// new failures are not refused.
	later := t0.Add(window + 20*time.Second)
	if w := th.Wait("k", later); w != 0 {
		t.Errorf("after the window Wait = %v, want 0", w)
	}
	for i := 0; i < limit-1; i++ {
		th.Fail("k", later)
	}
	if w := th.Wait("k", later); w != 0 {
		t.Errorf("%d fresh failures after the window: Wait = %v, want 0", limit-1, w)
	}
	th.Fail("k", later)
	if w := th.Wait("k", later); w != window {
		t.Errorf("limit reached again at one instant: Wait = %v, want %v", w, window)
	}
}

func TestThrottleReset(t *testing.T) {
	th := domain.NewThrottle(2, time.Hour)
	for _, k := range []string{"a", "b"} {
		th.Fail(k, t0)
		th.Fail(k, t0)
	}
	if th.Wait("a", t0) <= 0 || th.Wait("b", t0) <= 0 {
		t.Fatal("limit reached but Wait = 0")
	}
	th.Reset("a")
	if w := th.Wait("a", t0); w != 0 {
		t.Errorf("after Reset Wait = %v, want 0", w)
	}
	if w := th.Wait("b", t0); w <= 0 {
		t.Errorf("Reset of a cleared b too (Wait = %v)", w)
	}
	// Reset forgets all failures: one more failure is below the limit again.
	th.Fail("a", t0)
	if w := th.Wait("a", t0); w != 0 {
		t.Errorf("one failure after Reset: Wait = %v, want 0", w)
	}
	th.Reset("never-seen") // must not panic
}

// Wait promises how long to wait "before it may try again". That must hold
// even when more failures than the limit were recorded (which happens when
// several attempts pass the check at once before any failure is recorded).
func TestThrottleWaitIsEnoughWhenOverLimit(t *testing.T) {
	const window = 10 * time.Minute
	th := domain.NewThrottle(2, window)
	for i := 0; i < 4; i++ {
		th.Fail("k", t0.Add(time.Duration(i)*time.Minute))
	}
	now := t0.Add(3 * time.Minute)
	w := th.Wait("k", now)
	if w <= 0 {
		t.Fatalf("Wait = %v, want > 0", w)
	}
	if again := th.Wait("k", now.Add(w)); again != 0 {
		t.Errorf("Wait said %v, but after waiting that long Wait = %v (still refused)", w, again)
	}
}

func TestThrottleConcurrentUse(t *testing.T) {
	th := domain.NewThrottle(1000, time.Hour)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				th.Fail("shared", t0)
				th.Fail(fmt.Sprint("own", g), t0)
				th.Wait("shared", t0)
			}
		}(g)
	}
	wg.Wait()
	// 800 failures of 1000 allowed: not refused; 200 more reach the limit.
	if w := th.Wait("shared", t0); w != 0 {
		t.Errorf("Wait = %v after 800 of 1000 failures", w)
	}
	for i := 0; i < 200; i++ {
		th.Fail("shared", t0)
	}
	if w := th.Wait("shared", t0); w != time.Hour {
		t.Errorf("Wait = %v after 1000 failures, want 1h (lost updates?)", w)
	}
}

// ago lists times before now, newest first.
func ago(now time.Time, ds ...time.Duration) []time.Time {
	out := make([]time.Time, len(ds))
	for i, d := range ds {
		out[i] = now.Add(-d)
	}
	return out
}

// repeat lists n failures at one time.
func repeat(n int, at time.Time) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = at
	}
	return out
}

func TestPasswordWait(t *testing.T) {
	now := t0
	free := domain.PasswordFreeFailures
	cases := []struct {
		name string
		h    domain.FailureHistory
		wait time.Duration
		why  domain.ThrottleReason
	}{
		{"no failures", domain.FailureHistory{}, 0, domain.NotThrottled},
		{"free failures", domain.FailureHistory{Pair: repeat(free-1, now)}, 0, domain.NotThrottled},
		{"first delay", domain.FailureHistory{Pair: repeat(free, now)}, domain.PasswordFirstDelay, domain.ThrottledPair},
		{"first delay, partly waited", domain.FailureHistory{Pair: repeat(free, now.Add(-10*time.Second))}, domain.PasswordFirstDelay - 10*time.Second, domain.ThrottledPair},
		{"first delay, waited", domain.FailureHistory{Pair: repeat(free, now.Add(-domain.PasswordFirstDelay))}, 0, domain.NotThrottled},
		{"doubles", domain.FailureHistory{Pair: repeat(free+1, now)}, 2 * domain.PasswordFirstDelay, domain.ThrottledPair},
		{"doubles again", domain.FailureHistory{Pair: repeat(free+2, now)}, 4 * domain.PasswordFirstDelay, domain.ThrottledPair},
		{"capped", domain.FailureHistory{Pair: repeat(free+12, now)}, domain.PasswordMaxDelay, domain.ThrottledPair},
		{"pair counts for a known browser too", domain.FailureHistory{Pair: repeat(free, now), Known: true}, domain.PasswordFirstDelay, domain.ThrottledPair},
		{"account below the limit", domain.FailureHistory{Account: repeat(domain.AccountUnknownLimit-1, now)}, 0, domain.NotThrottled},
		{"account at the limit", domain.FailureHistory{Account: ago(now, append([]time.Duration{10 * time.Second}, repeatDur(domain.AccountUnknownLimit-1, time.Minute)...)...)},
			domain.AccountUnknownDelay - 10*time.Second, domain.ThrottledAccount},
		{"account limit spares a known browser", domain.FailureHistory{Account: repeat(domain.AccountUnknownLimit, now), Known: true}, 0, domain.NotThrottled},
		{"address below the limit", domain.FailureHistory{Address: repeat(domain.SignInAddressLimit-1, now)}, 0, domain.NotThrottled},
		// 21 failures: the 20th newest, 5 minutes old, leaves the window in 10 minutes.
		{"address at the limit", domain.FailureHistory{Address: ago(now, append(repeatDur(domain.SignInAddressLimit, 5*time.Minute), 14*time.Minute)...)},
			domain.SignInWindow - 5*time.Minute, domain.ThrottledAddress},
		{"address limit spares a known browser", domain.FailureHistory{Address: repeat(domain.SignInAddressLimit, now), Known: true}, 0, domain.NotThrottled},
		{"the longest wait wins", domain.FailureHistory{Pair: repeat(free, now), Address: repeat(domain.SignInAddressLimit, now)},
			domain.SignInWindow, domain.ThrottledAddress},
	}
	for _, c := range cases {
		wait, why := domain.PasswordWait(c.h, now)
		if wait != c.wait || why != c.why {
			t.Errorf("%s: PasswordWait = %v, %v; want %v, %v", c.name, wait, why, c.wait, c.why)
		}
	}
}

func repeatDur(n int, d time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// Issue 12, item 8: a flood of a million distinct failing keys within the
// window keeps the throttle bounded, and a key that reached the limit and
// keeps trying stays refused. Before, the map grew with every key and
// each failure past 100,000 keys pruned the whole map under the lock.
func TestThrottleBoundedUnderAFloodOfKeys(t *testing.T) {
	th := domain.NewThrottle(3, time.Minute)
	for i := 0; i < 3; i++ {
		th.Fail("live", t0)
	}
	before := heapInUse()
	for i := 0; i < floodKeys; i++ {
		now := t0.Add(time.Duration(i) * 10 * time.Microsecond) // all within 10 s
		th.Fail("flood-"+strconv.Itoa(i), now)
		if i%1000 == 0 && th.Wait("live", now) <= 0 {
			t.Fatalf("the live key lost its failures after %d other keys", i)
		}
	}
	grown := int64(heapInUse()) - int64(before)
	t.Logf("after %d keys: %d held, heap grown by %.1f MiB", floodKeys, th.Keys(), float64(grown)/(1<<20))
	if n := th.Keys(); n > domain.MaxThrottleKeys {
		t.Errorf("%d keys held after the flood, want at most %d", n, domain.MaxThrottleKeys)
	}
	if grown > 32<<20 {
		t.Errorf("the flood grew the heap by %d MiB, want at most 32", grown>>20)
	}
	// Its failures still age out by their own times.
	if w := th.Wait("live", t0.Add(time.Minute)); w != 0 {
		t.Errorf("a window after its failures the live key waits %v, want 0", w)
	}
	runtime.KeepAlive(th)
}

// A key is forgotten a window after its last failure; a key with failures
// in its window keeps them however many others come and go.
func TestThrottleForgetsExpiredKeys(t *testing.T) {
	th := domain.NewThrottle(3, time.Minute)
	for i := 0; i < 1000; i++ {
		th.Fail("old-"+strconv.Itoa(i), t0)
	}
	live := t0.Add(30 * time.Second)
	for i := 0; i < 3; i++ {
		th.Fail("live", live)
	}
	later := t0.Add(time.Minute)
	for i := 0; i < 1000; i++ {
		th.Fail("new-"+strconv.Itoa(i), later)
	}
	if n := th.Keys(); n != 1001 {
		t.Errorf("%d keys held a window later, want 1001: the 1000 new and the live one, the old ones forgotten", n)
	}
	if w := th.Wait("live", later); w != 30*time.Second {
		t.Errorf("live key Wait = %v, want 30s", w)
	}
	// Many more failures than the limit keep only what Wait needs, and
	// Wait still says when the limit-th newest leaves the window.
	for i := 0; i < 100; i++ {
		th.Fail("many", later.Add(time.Duration(i)*time.Second/10))
	}
	last := later.Add(99 * time.Second / 10)
	if w, want := th.Wait("many", last), last.Add(-2*time.Second/10).Add(time.Minute).Sub(last); w != want {
		t.Errorf("after 100 failures Wait = %v, want %v", w, want)
	}
}
