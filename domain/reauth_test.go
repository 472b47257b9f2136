package domain_test

import (
	"testing"
	"time"

	"studio/domain"
)

// TestRecentlyAuthenticated is the window in which a proved password
// counts for sensitive changes: up to ReauthAfter, not before it was proved
// (a clock set back), never for a session that never proved it.
func TestRecentlyAuthenticated(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		at   time.Time
		want bool
	}{
		{"just now", now, true},
		{"14 minutes ago", now.Add(-14 * time.Minute), true},
		{"exactly 15 minutes ago", now.Add(-domain.ReauthAfter), true},
		{"15 minutes and a microsecond ago", now.Add(-domain.ReauthAfter - time.Microsecond), false},
		{"a day ago", now.Add(-24 * time.Hour), false},
		{"in the future", now.Add(time.Minute), false},
		{"never", time.Time{}, false},
	} {
		if got := domain.RecentlyAuthenticated(c.at, now); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	p := domain.SessionPrincipal(domain.User{ID: 7, Email: "a@example.com"}, "192.0.2.1", now)
	if !p.Console || !p.AuthTime.Equal(now) || !p.IsUser() {
		t.Errorf("session principal %+v", p)
	}
	if domain.UserPrincipal(domain.User{ID: 7}, "x").Console {
		t.Error("a principal made outside a console session is marked as one")
	}
}
