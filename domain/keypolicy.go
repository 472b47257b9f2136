package domain

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Key lifetimes: an organization's key policy, the expiry it gives new
// keys, and the purge of keys past their expiry or rotation grace.

// KeyPolicy is an organization's rule for key lifetimes. Zero durations
// mean no default (keys never expire unless asked) and no maximum.
type KeyPolicy struct {
	DefaultLifetime time.Duration
	MaxLifetime     time.Duration
	UpdateTime      time.Time
}

// FormatLifetime says a lifetime in days (or hours, below a day).
func FormatLifetime(d time.Duration) string {
	if d <= 0 {
		return "none"
	}
	if d%(24*time.Hour) == 0 {
		n := int(d / (24 * time.Hour))
		return strconv.Itoa(n) + " day" + plural(n)
	}
	n := int((d + time.Hour - 1) / time.Hour)
	return strconv.Itoa(n) + " hour" + plural(n)
}

// check validates a policy an organization admin sets.
func (pol KeyPolicy) check() error {
	switch {
	case pol.DefaultLifetime < 0 || pol.DefaultLifetime > MaxKeyLifetime:
		return FieldError("defaultLifetime", "The default lifetime must be between 1 day and 3650 days, or empty for none.")
	case pol.MaxLifetime < 0 || pol.MaxLifetime > MaxKeyLifetime:
		return FieldError("maxLifetime", "The maximum lifetime must be between 1 day and 3650 days, or empty for none.")
	case pol.MaxLifetime > 0 && pol.DefaultLifetime > pol.MaxLifetime:
		return FieldError("defaultLifetime", "The default lifetime cannot be longer than the maximum lifetime.")
	}
	return nil
}

// KeyOptions is what a key's creator may choose.
type KeyOptions struct {
	// ExpireTime is when the key stops working; zero takes the
	// organization's default (or its maximum, when it has only that).
	ExpireTime time.Time
	// Never asks for a key that never expires, refused under a maximum lifetime.
	Never bool
}

// Expiry applies the policy to what the creator asked, at now.
func (pol KeyPolicy) Expiry(now time.Time, opts KeyOptions) (time.Time, error) {
	switch {
	case opts.Never && pol.MaxLifetime > 0:
		return time.Time{}, FieldError("expireTime", fmt.Sprintf(
			"This organization's keys may live at most %s: a key that never expires is not allowed. Choose an expiry.", FormatLifetime(pol.MaxLifetime)))
	case opts.Never:
		return time.Time{}, nil
	case opts.ExpireTime.IsZero() && pol.DefaultLifetime > 0:
		return now.Add(pol.DefaultLifetime).Truncate(time.Microsecond), nil
	case opts.ExpireTime.IsZero() && pol.MaxLifetime > 0:
		return now.Add(pol.MaxLifetime).Truncate(time.Microsecond), nil
	case opts.ExpireTime.IsZero():
		return time.Time{}, nil
	case !opts.ExpireTime.After(now):
		return time.Time{}, FieldError("expireTime", "The key's expiry must be in the future.")
	case pol.MaxLifetime > 0 && opts.ExpireTime.Sub(now) > pol.MaxLifetime+expirySlack:
		return time.Time{}, FieldError("expireTime", fmt.Sprintf(
			"The key's expiry is beyond this organization's maximum key lifetime of %s: choose an expiry no later than %s.",
			FormatLifetime(pol.MaxLifetime), now.Add(pol.MaxLifetime).UTC().Format("2006-01-02 15:04 MST")))
	case opts.ExpireTime.Sub(now) > MaxKeyLifetime:
		return time.Time{}, FieldError("expireTime", "The key's expiry can be at most 3650 days away.")
	}
	return opts.ExpireTime.UTC().Truncate(time.Microsecond), nil
}

// ParseLifetime reads a lifetime such as "90d", "36h" or "30m" (Go
// durations, plus d for days).
func ParseLifetime(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 || days > 3650 {
			return 0, fmt.Errorf("%q is not a number of days between 1 and 3650", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a duration such as 90d, 36h or 30m", s)
	}
	return d, nil
}

// keyPolicyOf reads an organization's policy (the zero policy when none is set).
func keyPolicyOf(ctx context.Context, r KeyReader, orgID string) (KeyPolicy, error) {
	return r.KeyPolicy(ctx, orgID)
}

// KeyPolicyView is an organization's settings page.
type KeyPolicyView struct {
	Organization Organization
	Policy       KeyPolicy
}

// KeyPolicy returns an organization's key lifetime policy, for its admins.
func (s *ServiceAccounts) KeyPolicy(ctx context.Context, p Principal, orgID string) (KeyPolicyView, error) {
	org, err := requireOrgAdmin(ctx, s.store, p, orgID)
	if err != nil {
		return KeyPolicyView{}, err
	}
	pol, err := keyPolicyOf(ctx, s.store, orgID)
	return KeyPolicyView{Organization: org, Policy: pol}, err
}

// SetKeyPolicy sets an organization's default and maximum key lifetime.
// Existing keys keep their expiry; new keys follow the policy.
func (s *ServiceAccounts) SetKeyPolicy(ctx context.Context, p Principal, orgID string, def, max time.Duration) (KeyPolicy, error) {
	org, err := requireOrgAdmin(ctx, s.store, p, orgID)
	if err != nil {
		return KeyPolicy{}, err
	}
	now := s.now()
	pol := KeyPolicy{DefaultLifetime: def, MaxLifetime: max, UpdateTime: now}
	if err := pol.check(); err != nil {
		return KeyPolicy{}, err
	}
	err = s.store.Update(ctx, func(tx Tx) error {
		cur, err := tx.KeyPolicy(ctx, orgID)
		if err != nil {
			return err
		}
		if cur.DefaultLifetime == def && cur.MaxLifetime == max {
			pol = cur
			return nil
		}
		if err := tx.SetKeyPolicy(ctx, orgID, pol); err != nil {
			return err
		}
		e := auditEntry(p, now, ActionKeyPolicyUpdate, "organization", org.ID, org.DisplayName)
		e.OrganizationID = org.ID
		e.Detail = fmt.Sprintf("default key lifetime: %s → %s; maximum key lifetime: %s → %s",
			FormatLifetime(cur.DefaultLifetime), FormatLifetime(def), FormatLifetime(cur.MaxLifetime), FormatLifetime(max))
		return tx.AddAudit(ctx, e)
	})
	return pol, err
}

// ExpiredKey is a key past its expiry or its rotation grace, with where it is.
type ExpiredKey struct {
	Key                Key
	AccountEmail       string
	AccountDisplayName string
	ProjectID          string
	ProjectDisplayName string
}

// EndedAt is when the key stopped working.
func (e ExpiredKey) EndedAt() time.Time {
	if e.Key.RotatedTo != "" && (e.Key.ExpireTime.IsZero() || e.Key.GraceEnd.Before(e.Key.ExpireTime)) {
		return e.Key.GraceEnd
	}
	return e.Key.ExpireTime
}

// ExpiredKeys lists up to limit keys of the organization past their expiry
// or their rotation grace period, for its admins.
func (s *ServiceAccounts) ExpiredKeys(ctx context.Context, p Principal, orgID string, limit int) ([]ExpiredKey, error) {
	if _, err := requireOrgAdmin(ctx, s.store, p, orgID); err != nil {
		return nil, err
	}
	return s.store.ListExpiredKeys(ctx, orgID, s.now(), limit)
}

// PurgeExpiredKeys deletes every key of the organization past its expiry
// or its rotation grace period, with one audit entry per key.
func (s *ServiceAccounts) PurgeExpiredKeys(ctx context.Context, p Principal, orgID string) (int, error) {
	if _, err := requireOrgAdmin(ctx, s.store, p, orgID); err != nil {
		return 0, err
	}
	now := s.now()
	purged := 0
	err := s.store.Update(ctx, func(tx Tx) error {
		for {
			keys, err := tx.ListExpiredKeys(ctx, orgID, now, purgeBatch)
			if err != nil || len(keys) == 0 {
				return err
			}
			for _, x := range keys {
				if err := tx.DeleteKey(ctx, x.Key.ID); err != nil {
					return err
				}
				why := "expired at "
				if x.Key.Status(now) == KeyRotated {
					why = "rotated; its grace period ended at "
				}
				e := auditEntry(p, now, ActionKeyPurge, "key", x.Key.ID, x.AccountEmail)
				e.OrganizationID, e.ProjectID = orgID, x.ProjectID
				e.Detail = "key " + x.Key.ID + " " + why + x.EndedAt().UTC().Format(time.RFC3339)
				if err := tx.AddAudit(ctx, e); err != nil {
					return err
				}
				purged++
			}
		}
	})
	return purged, err
}
