package domain_test

import (
	"strings"
	"testing"
	"time"

	"studio/domain"
)

func TestNewIDShape(t *testing.T) {
	now := time.Date(2021, 3, 11, 9, 39, 56, 15971000, time.UTC)
	seen := map[string]bool{}
	for i := 0; i < 500; i++ {
		id := domain.NewID(now)
		if len(id) != 20 {
			t.Fatalf("NewID = %q, length %d, want 20", id, len(id))
		}
		if strings.Trim(id, "0123456789abcdefghijklmnopqrstuv") != "" {
			t.Fatalf("NewID = %q has characters outside lowercase base32hex", id)
		}
		if !domain.ValidID(id) {
			t.Fatalf("ValidID(NewID()) = false for %q", id)
		}
		if seen[id] {
			t.Fatalf("NewID repeated %q within one second", id)
		}
		seen[id] = true
	}
	if domain.IDLength != 20 {
		t.Errorf("IDLength = %d, want 20", domain.IDLength)
	}
}

func TestValidID(t *testing.T) {
	for _, c := range []struct {
		id   string
		want bool
	}{
		{"c18rs36olv9021epsv2g", true}, // the contract's example
		{"00000000000000000000", true},
		{"vvvvvvvvvvvvvvvvvvvv", true},
		{"", false},
		{"c18rs36olv9021epsv2", false},   // 19
		{"c18rs36olv9021epsv2gg", false}, // 21
		{"C18RS36OLV9021EPSV2G", false},  // uppercase
		{"c18rs36olv9021epsv2G", false},
		{"c18rs36olv9021epsv2w", false},
		{"c18rs36olv9021epsv2x", false},
		{"c18rs36olv9021epsv2y", false},
		{"c18rs36olv9021epsv2z", false},
		{"c18rs36olv9021epsv2-", false},
		{"c18rs36olv9021epsv2_", false},
		{"c18rs36olv9021epsv2 ", false},
		{" c18rs36olv9021epsv2", false},
		{"c18rs36olv9021eps/2g", false},
		{"c18rs36olv9021eps.2g", false},
		{"c18rs36olv9021epsv\x00g", false},
		{"c18rs36olv9021epsvé", false}, // 20 bytes, 19 runes
		{"c18rs36olv9021epsv2=", false},
		{"12345678901234567890", true},
		{"1234567890123456789%", false},
	} {
		if got := domain.ValidID(c.id); got != c.want {
			t.Errorf("ValidID(%q) = %v, want %v", c.id, got, c.want)
		}
	}
}

func TestNewIDSortsByCreationTime(t *testing.T) {
	starts := []time.Time{
		time.Date(1999, 12, 31, 23, 59, 58, 0, time.UTC),
		time.Date(2021, 3, 11, 9, 39, 56, 999999999, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("X", 5*3600)),
		time.Date(2099, 6, 30, 12, 0, 0, 0, time.UTC),
	}
	for _, start := range starts {
		for round := 0; round < 50; round++ {
			prev := domain.NewID(start)
			for step := 1; step <= 3; step++ {
				next := domain.NewID(start.Add(time.Duration(step) * time.Second))
				if next <= prev {
					t.Fatalf("id at %v+%ds = %q does not sort after earlier id %q", start, step, next, prev)
				}
				prev = next
			}
			// A much later id sorts after too.
			if later := domain.NewID(start.Add(400 * 24 * time.Hour)); later <= prev {
				t.Fatalf("id a year later %q does not sort after %q", later, prev)
			}
		}
	}
}
