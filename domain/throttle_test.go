package domain_test

import (
	"fmt"
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

func TestThrottleTakeAndUndo(t *testing.T) {
	const limit = 3
	const window = time.Minute
	th := domain.NewThrottle(limit, window)
	times := []time.Time{t0, t0.Add(5 * time.Second), t0.Add(10 * time.Second)}
	for i, at := range times {
		if w := th.Take("k", at); w != 0 {
			t.Fatalf("Take %d = %v, want 0", i+1, w)
		}
	}
	now := t0.Add(20 * time.Second)
	w := th.Take("k", now)
	if want := t0.Add(window).Sub(now); w != want {
		t.Errorf("Take over the limit = %v, want %v", w, want)
	}
	// A refused Take is not counted: Wait says the same, and after the
	// wait one attempt is allowed again.
	if ww := th.Wait("k", now); ww != w {
		t.Errorf("Wait after a refused Take = %v, want %v", ww, w)
	}
	if w2 := th.Take("k", now.Add(w)); w2 != 0 {
		t.Errorf("Take after waiting %v = %v, want 0", w, w2)
	}

	// Undo takes back exactly the attempt made at that time.
	th2 := domain.NewThrottle(limit, window)
	for _, at := range times {
		th2.Take("k", at)
	}
	th2.Undo("k", times[1])
	if w := th2.Wait("k", times[2]); w != 0 {
		t.Errorf("Wait after Undo = %v, want 0", w)
	}
	if w := th2.Take("k", times[2]); w != 0 {
		t.Errorf("Take after Undo = %v, want 0", w)
	}
	if w := th2.Take("k", times[2]); w <= 0 {
		t.Errorf("limit reached again but Take = %v", w)
	}
	// Undo of a time never taken, or of an unknown key, changes nothing.
	th2.Undo("k", t0.Add(-time.Hour))
	th2.Undo("unknown", t0)
	if w := th2.Wait("k", times[2]); w <= 0 {
		t.Errorf("Undo of an unknown attempt freed a slot (Wait = %v)", w)
	}

	// Two attempts at the same instant: Undo removes one, not both.
	th3 := domain.NewThrottle(2, window)
	th3.Take("k", t0)
	th3.Take("k", t0)
	th3.Undo("k", t0)
	if w := th3.Take("k", t0); w != 0 {
		t.Errorf("Take after undoing one of two = %v, want 0", w)
	}
	if w := th3.Take("k", t0); w <= 0 {
		t.Errorf("Undo removed both attempts at one instant (Take = %v)", w)
	}
}

// Parallel Takes let exactly limit attempts through.
func TestThrottleTakeIsAtomic(t *testing.T) {
	const limit = 5
	th := domain.NewThrottle(limit, time.Hour)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	start := make(chan struct{})
	for g := 0; g < 64; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if th.Take("k", t0) == 0 {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	if allowed != limit {
		t.Errorf("%d of 64 parallel Takes allowed, want %d", allowed, limit)
	}
}
