package domain

import "time"

// Key states: where a key is in its life at a given time, and why a
// credential is refused.

// KeyStatus is where a key is in its life, at a given time.
type KeyStatus string

const (
	KeyActive      KeyStatus = "ACTIVE"
	KeyInGrace     KeyStatus = "ROTATING" // rotated, still working until its grace end
	KeyRotated     KeyStatus = "ROTATED"  // rotated and its grace period is over
	KeyExpired     KeyStatus = "EXPIRED"
	KeyDisabled    KeyStatus = "DISABLED"
	KeyCompromised KeyStatus = "COMPROMISED"
)

// Status says what the key is at now. A compromised key is also disabled;
// disabled wins over expired, expired over rotated.
func (k Key) Status(now time.Time) KeyStatus {
	switch {
	case !k.CompromisedTime.IsZero():
		return KeyCompromised
	case !k.DisabledTime.IsZero():
		return KeyDisabled
	case !k.ExpireTime.IsZero() && !now.Before(k.ExpireTime):
		return KeyExpired
	case k.RotatedTo != "" && !now.Before(k.GraceEnd):
		return KeyRotated
	case k.RotatedTo != "":
		return KeyInGrace
	}
	return KeyActive
}

// Works reports whether the key authenticates at now.
func (k Key) Works(now time.Time) bool {
	s := k.Status(now)
	return s == KeyActive || s == KeyInGrace
}

// StopsAt is when a working key stops working by itself: the earlier of its
// expiry and its grace end; zero when it never does.
func (k Key) StopsAt() time.Time {
	end := k.ExpireTime
	if k.RotatedTo != "" && (end.IsZero() || k.GraceEnd.Before(end)) {
		end = k.GraceEnd
	}
	return end
}

// Unused is how long the key has not been used at now: since its last use,
// or since its creation when never used.
func (k Key) Unused(now time.Time) time.Duration {
	since := k.LastUsed
	if since.IsZero() {
		since = k.CreateTime
	}
	if d := now.Sub(since); d > 0 {
		return d
	}
	return 0
}

// credentialRefusal says why a key of an account cannot authenticate at
// now, or "" when it can. It is told only to who proved the key's secret
// (or holds a token of it), so it may name the key's state.
func credentialRefusal(k Key, sa ServiceAccount, now time.Time) string {
	if sa.Disabled() {
		return "This service account is disabled."
	}
	switch k.Status(now) {
	case KeyCompromised:
		return "This key was reported compromised and is disabled."
	case KeyDisabled:
		return "This key is disabled."
	case KeyExpired:
		return "This key expired at " + k.ExpireTime.UTC().Format(time.RFC3339) + "."
	case KeyRotated:
		return "This key was rotated and its grace period ended at " + k.GraceEnd.UTC().Format(time.RFC3339) + ": use the new key."
	}
	return ""
}
