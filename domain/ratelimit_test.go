package domain_test

import (
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
