package domain

import (
	"strings"
	"testing"
	"time"
)

func TestKeyStatus(t *testing.T) {
	now := time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC)
	before, after := now.Add(-time.Second), now.Add(time.Second)
	cases := []struct {
		name string
		k    Key
		want KeyStatus
	}{
		{"new", Key{}, KeyActive},
		{"expires later", Key{ExpireTime: after}, KeyActive},
		{"expires now", Key{ExpireTime: now}, KeyExpired},
		{"in grace", Key{RotatedTo: "n", GraceEnd: after}, KeyInGrace},
		{"grace ends now", Key{RotatedTo: "n", GraceEnd: now}, KeyRotated},
		{"grace over, also expired", Key{RotatedTo: "n", GraceEnd: before, ExpireTime: before}, KeyExpired},
		{"disabled in grace", Key{RotatedTo: "n", GraceEnd: after, DisabledTime: before}, KeyDisabled},
		{"compromised", Key{DisabledTime: before, CompromisedTime: before}, KeyCompromised},
	}
	for _, c := range cases {
		if got := c.k.Status(now); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
		if works := c.k.Works(now); works != (c.want == KeyActive || c.want == KeyInGrace) {
			t.Errorf("%s: Works = %v", c.name, works)
		}
	}
	k := Key{RotatedTo: "n", GraceEnd: now.Add(2 * time.Hour), ExpireTime: now.Add(time.Hour)}
	if !k.StopsAt().Equal(now.Add(time.Hour)) {
		t.Errorf("StopsAt = %s, want the earlier expiry", k.StopsAt())
	}
	if why := credentialRefusal(Key{}, ServiceAccount{DisabledTime: before}, now); !strings.Contains(why, "account is disabled") {
		t.Errorf("refusal of a disabled account %q", why)
	}
	if why := credentialRefusal(Key{RotatedTo: "n", GraceEnd: after}, ServiceAccount{}, now); why != "" {
		t.Errorf("a key in grace is refused: %q", why)
	}
}

func TestKeyPolicyExpiry(t *testing.T) {
	now := time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	none, dflt, max, both := KeyPolicy{}, KeyPolicy{DefaultLifetime: 30 * day}, KeyPolicy{MaxLifetime: 90 * day},
		KeyPolicy{DefaultLifetime: 30 * day, MaxLifetime: 90 * day}
	cases := []struct {
		name string
		pol  KeyPolicy
		opts KeyOptions
		want time.Time // zero: never
		err  string
	}{
		{"no policy, no choice", none, KeyOptions{}, time.Time{}, ""},
		{"no policy, never", none, KeyOptions{Never: true}, time.Time{}, ""},
		{"default applies", dflt, KeyOptions{}, now.Add(30 * day), ""},
		{"never beside a default", dflt, KeyOptions{Never: true}, time.Time{}, ""},
		{"maximum alone applies", max, KeyOptions{}, now.Add(90 * day), ""},
		{"default under a maximum", both, KeyOptions{}, now.Add(30 * day), ""},
		{"exactly the maximum", both, KeyOptions{ExpireTime: now.Add(90 * day)}, now.Add(90 * day), ""},
		{"beyond the maximum", both, KeyOptions{ExpireTime: now.Add(91 * day)}, time.Time{}, "maximum key lifetime of 90 days"},
		{"never under a maximum", max, KeyOptions{Never: true}, time.Time{}, "never expires is not allowed"},
		{"in the past", none, KeyOptions{ExpireTime: now.Add(-time.Minute)}, time.Time{}, "in the future"},
		{"beyond ten years", none, KeyOptions{ExpireTime: now.Add(4000 * day)}, time.Time{}, "3650 days"},
	}
	for _, c := range cases {
		got, err := c.pol.Expiry(now, c.opts)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(ErrorMessage(err), c.err) || ErrorCode(err) != EINVALID):
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.err)
		case c.err == "" && (err != nil || !got.Equal(c.want)):
			t.Errorf("%s: %s (%v), want %s", c.name, got, err, c.want)
		}
	}
	if err := (KeyPolicy{DefaultLifetime: 100 * day, MaxLifetime: 90 * day}).check(); ErrorCode(err) != EINVALID {
		t.Errorf("a default beyond the maximum passes: %v", err)
	}
}

func TestParseLifetimeAndFormat(t *testing.T) {
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "36h": 36 * time.Hour, "30m": 30 * time.Minute, " 1d ": 24 * time.Hour} {
		if got, err := ParseLifetime(in); err != nil || got != want {
			t.Errorf("ParseLifetime(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0d", "-1h", "forever", "4000d", "1w"} {
		if _, err := ParseLifetime(bad); err == nil {
			t.Errorf("ParseLifetime(%q) passes", bad)
		}
	}
	for d, want := range map[time.Duration]string{0: "none", 24 * time.Hour: "1 day", 90 * 24 * time.Hour: "90 days", 36 * time.Hour: "36 hours"} {
		if got := FormatLifetime(d); got != want {
			t.Errorf("FormatLifetime(%s) = %q, want %q", d, got, want)
		}
	}
}
