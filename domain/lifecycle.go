package domain

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Audit actions of the credential lifecycle (issue 8).
const (
	ActionKeyRotate             = "serviceaccount.key.rotate"
	ActionKeyDisable            = "serviceaccount.key.disable"
	ActionKeyEnable             = "serviceaccount.key.enable"
	ActionKeyCompromised        = "serviceaccount.key.compromised"
	ActionKeyPurge              = "serviceaccount.key.purge"
	ActionServiceAccountDisable = "serviceaccount.disable"
	ActionServiceAccountEnable  = "serviceaccount.enable"
	ActionKeyPolicyUpdate       = "organization.key_policy.update"
)

// Rotation grace periods.
const (
	DefaultRotationGrace = 24 * time.Hour
	MaxRotationGrace     = 30 * 24 * time.Hour
	// MaxKeyLifetime bounds what an organization may set as a key lifetime.
	MaxKeyLifetime = 10 * 365 * 24 * time.Hour
	// expirySlack lets a program ask for exactly "now + the maximum"
	// although its clock and ours differ a little.
	expirySlack = time.Minute
	// MaxCompromiseReach bounds the memberships a compromise report lists.
	MaxCompromiseReach = 500
	// purgeBatch is how many expired keys the purge reads at a time.
	purgeBatch = 500
)

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
func keyPolicyOf(ctx context.Context, r Reader, orgID string) (KeyPolicy, error) {
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

// CreateKeyWith makes a key as CreateKey does, with an expiry chosen under
// the organization's policy.
func (s *ServiceAccounts) CreateKeyWith(ctx context.Context, p Principal, projectID, accountID string, opts KeyOptions) (Key, string, error) {
	now := s.now()
	k, secret := s.newKey(now, accountID)
	err := s.store.Update(ctx, func(tx Tx) error {
		a, sa, err := s.account(ctx, tx, p, projectID, accountID, PermKeyCreate)
		if err != nil {
			return err
		}
		pol, err := keyPolicyOf(ctx, tx, a.Project.OrganizationID)
		if err != nil {
			return err
		}
		if k.ExpireTime, err = pol.Expiry(now, opts); err != nil {
			return err
		}
		// Counted inside the write transaction, so parallel requests cannot pass the limit.
		if err := checkKeyLimit(ctx, tx, sa.ID); err != nil {
			return err
		}
		if err := requireRecentAuth(p, now, CreateKeyChange); err != nil {
			return err
		}
		if err := tx.CreateKey(ctx, k); err != nil {
			return err
		}
		e := s.keyAudit(p, a, now, ActionKeyCreate, sa, k, "key "+k.ID+expiryDetail(k.ExpireTime))
		return tx.AddAudit(ctx, e)
	})
	if err != nil {
		return Key{}, "", err
	}
	return k, secret, nil
}

func checkKeyLimit(ctx context.Context, tx Tx, accountID string) error {
	n, err := tx.CountKeys(ctx, accountID)
	if err != nil {
		return err
	}
	if n >= MaxKeysPerAccount {
		return Errorf(EINVALID, "This service account already has %d keys, the most it can have. Delete a key you no longer use first.", MaxKeysPerAccount)
	}
	return nil
}

func expiryDetail(t time.Time) string {
	if t.IsZero() {
		return "; never expires"
	}
	return "; expires " + t.UTC().Format(time.RFC3339)
}

// Rotation is the result of rotating a key.
type Rotation struct {
	New    Key
	Secret string
	Old    Key
}

// RotateKey makes a new key and gives the old one a grace period, after
// which it is refused. A zero grace stops the old key at once.
func (s *ServiceAccounts) RotateKey(ctx context.Context, p Principal, projectID, accountID, keyID string, grace time.Duration) (Rotation, error) {
	// Refuse who may not rotate before looking at the input.
	if _, _, err := s.account(ctx, s.store, p, projectID, accountID, PermKeyCreate); err != nil {
		return Rotation{}, err
	}
	if grace < 0 || grace > MaxRotationGrace {
		return Rotation{}, FieldError("grace", fmt.Sprintf("The grace period must be between 0 (stop the old key now) and %s.", FormatLifetime(MaxRotationGrace)))
	}
	now := s.now()
	nk, secret := s.newKey(now, accountID)
	var old Key
	err := s.store.Update(ctx, func(tx Tx) error {
		a, sa, err := s.account(ctx, tx, p, projectID, accountID, PermKeyCreate)
		if err != nil {
			return err
		}
		if err := a.Require(PermKeyDelete); err != nil {
			return err
		}
		if old, err = s.keyOf(ctx, tx, sa, keyID); err != nil {
			return err
		}
		switch st := old.Status(now); {
		case st == KeyInGrace:
			return Errorf(EINVALID, "This key is already being replaced by key %s: it stops working at %s.", old.RotatedTo, old.GraceEnd.UTC().Format(time.RFC3339))
		case st != KeyActive:
			return Errorf(EINVALID, "Only a working key can be rotated, and this one is %s. Create a new key instead.", strings.ToLower(string(st)))
		}
		pol, err := keyPolicyOf(ctx, tx, a.Project.OrganizationID)
		if err != nil {
			return err
		}
		if nk.ExpireTime, err = pol.Expiry(now, KeyOptions{}); err != nil {
			return err
		}
		if err := checkKeyLimit(ctx, tx, sa.ID); err != nil {
			return Errorf(EINVALID, "This service account already has %d keys, the most it can have: delete a key you no longer use before rotating.", MaxKeysPerAccount)
		}
		if err := requireRecentAuth(p, now, RotateKeyChange); err != nil {
			return err
		}
		if err := tx.CreateKey(ctx, nk); err != nil {
			return err
		}
		old.RotatedTo, old.GraceEnd = nk.ID, now.Add(grace).Truncate(time.Microsecond)
		if err := tx.UpdateKeyLifecycle(ctx, old); err != nil {
			return err
		}
		e := s.keyAudit(p, a, now, ActionKeyCreate, sa, nk, "key "+nk.ID+" (rotation of key "+old.ID+")"+expiryDetail(nk.ExpireTime))
		if err := tx.AddAudit(ctx, e); err != nil {
			return err
		}
		return tx.AddAudit(ctx, s.keyAudit(p, a, now, ActionKeyRotate, sa, old, fmt.Sprintf("key %s → key %s; the old key works until %s (grace %s)",
			old.ID, nk.ID, old.GraceEnd.UTC().Format(time.RFC3339), formatGrace(grace))))
	})
	if err != nil {
		return Rotation{}, err
	}
	return Rotation{New: nk, Secret: secret, Old: old}, nil
}

func formatGrace(d time.Duration) string {
	switch {
	case d == 0:
		return "none: stopped at once"
	case d%(24*time.Hour) == 0 || d >= 24*time.Hour:
		return FormatLifetime(d.Round(24 * time.Hour))
	case d%time.Hour == 0:
		return FormatLifetime(d)
	}
	return d.String()
}

// keyChange loads an account's key inside a write transaction after
// checking perm, for the changes below.
func (s *ServiceAccounts) keyChange(ctx context.Context, tx Tx, p Principal, projectID, accountID, keyID string, perm Permission) (Access, ServiceAccount, Key, error) {
	a, sa, err := s.account(ctx, tx, p, projectID, accountID, perm)
	if err != nil {
		return a, sa, Key{}, err
	}
	k, err := s.keyOf(ctx, tx, sa, keyID)
	return a, sa, k, err
}

// setKeyDisabled disables a key at now, or enables it again, and deletes
// its access tokens either way: a token issued before a disable never
// works again, even once the key is enabled. (A disabled key gets no new
// token, so every token left at an enable dates from before the disable:
// one stored by an exchange that checked the key just before the disable
// and wrote just after, or one kept by an older version.) Every path that
// disables or enables a key goes through here.
func setKeyDisabled(ctx context.Context, tx Tx, k *Key, disabled bool, now time.Time) error {
	k.DisabledTime = time.Time{}
	if disabled {
		k.DisabledTime = now
	}
	if err := tx.UpdateKeyLifecycle(ctx, *k); err != nil {
		return err
	}
	_, err := tx.DeleteKeyTokens(ctx, k.ID)
	return err
}

// setAccountDisabled is setKeyDisabled for a whole service account and
// the access tokens of all its keys.
func setAccountDisabled(ctx context.Context, tx Tx, sa *ServiceAccount, disabled bool, now time.Time) error {
	sa.DisabledTime, sa.UpdateTime = time.Time{}, now
	if disabled {
		sa.DisabledTime = now
	}
	if err := tx.UpdateServiceAccount(ctx, *sa); err != nil {
		return err
	}
	_, err := tx.DeleteAccountTokens(ctx, sa.ID)
	return err
}

// SetKeyDisabled disables a key (refused on the next request: Basic Auth,
// token exchange and tokens already issued, which never work again) or
// enables it again. A key reported compromised cannot be enabled.
func (s *ServiceAccounts) SetKeyDisabled(ctx context.Context, p Principal, projectID, accountID, keyID string, disabled bool) (Key, error) {
	now := s.now()
	var k Key
	err := s.store.Update(ctx, func(tx Tx) error {
		a, sa, cur, err := s.keyChange(ctx, tx, p, projectID, accountID, keyID, PermKeyDelete)
		if err != nil {
			return err
		}
		k = cur
		if !disabled && !k.CompromisedTime.IsZero() {
			return Errorf(EINVALID, "Key %s was reported compromised: it cannot be enabled again. Create a new key instead.", k.ID)
		}
		if disabled == !k.DisabledTime.IsZero() {
			return nil
		}
		if err := setKeyDisabled(ctx, tx, &k, disabled, now); err != nil {
			return err
		}
		action := ActionKeyEnable
		if disabled {
			action = ActionKeyDisable
		}
		e := s.keyAudit(p, a, now, action, sa, k, "key "+k.ID)
		return tx.AddAudit(ctx, e)
	})
	return k, err
}

// CompromiseReport is what a compromised key could reach: every membership
// of its account, in every project and organization.
type CompromiseReport struct {
	Account ServiceAccount
	Key     Key
	// Memberships are those of the account (at most MaxCompromiseReach);
	// More tells that it holds more.
	Memberships []Membership
	More        bool
	// TokensRevoked counts the access tokens of the key deleted with the report.
	TokensRevoked int
}

// ReportKeyCompromised disables a key at once and for good, deletes its
// access tokens, records the report with its reason in the audit log and
// returns what the key could reach.
func (s *ServiceAccounts) ReportKeyCompromised(ctx context.Context, p Principal, projectID, accountID, keyID, reason string) (CompromiseReport, error) {
	if _, _, err := s.account(ctx, s.store, p, projectID, accountID, PermKeyDelete); err != nil {
		return CompromiseReport{}, err
	}
	reason, err := cleanReason(reason)
	if err != nil {
		return CompromiseReport{}, err
	}
	now := s.now()
	var rep CompromiseReport
	err = s.store.Update(ctx, func(tx Tx) error {
		a, sa, k, err := s.keyChange(ctx, tx, p, projectID, accountID, keyID, PermKeyDelete)
		if err != nil {
			return err
		}
		if !k.CompromisedTime.IsZero() {
			return Errorf(EINVALID, "Key %s was already reported compromised, at %s.", k.ID, k.CompromisedTime.UTC().Format(time.RFC3339))
		}
		k.CompromisedTime = now
		if k.DisabledTime.IsZero() {
			k.DisabledTime = now
		}
		if err := tx.UpdateKeyLifecycle(ctx, k); err != nil {
			return err
		}
		n, err := tx.DeleteKeyTokens(ctx, k.ID)
		if err != nil {
			return err
		}
		ms, err := tx.AccountMemberships(ctx, sa.Ref(), MaxCompromiseReach+1)
		if err != nil {
			return err
		}
		rep = CompromiseReport{Account: sa, Key: k, Memberships: ms, TokensRevoked: n}
		if len(ms) > MaxCompromiseReach {
			rep.Memberships, rep.More = ms[:MaxCompromiseReach], true
		}
		e := s.audit(p, a, now, ActionKeyCompromised, sa, fmt.Sprintf("key %s disabled; %d access token%s revoked; the account holds %s",
			k.ID, n, plural(n), reachSummary(rep)))
		e.TargetType, e.TargetID, e.TargetName, e.Reason = "key", k.ID, sa.Email, reason
		return tx.AddAudit(ctx, e)
	})
	return rep, err
}

func reachSummary(r CompromiseReport) string {
	if len(r.Memberships) == 0 {
		return "no membership"
	}
	parts := make([]string, 0, len(r.Memberships))
	for i, m := range r.Memberships {
		if i == 20 {
			parts = append(parts, fmt.Sprintf("and %d more", len(r.Memberships)-i))
			break
		}
		where := "organization " + m.OrganizationID
		if m.ProjectID != "" {
			where = "project " + m.ProjectID
		}
		parts = append(parts, RoleDisplayName(m.Role)+" in "+where)
	}
	return strings.Join(parts, ", ")
}

// SetAccountDisabled disables a whole service account (every key and
// token refused on the next request; its tokens never work again) or
// enables it again.
func (s *ServiceAccounts) SetAccountDisabled(ctx context.Context, p Principal, projectID, accountID string, disabled bool) (ServiceAccount, error) {
	now := s.now()
	var sa ServiceAccount
	err := s.store.Update(ctx, func(tx Tx) error {
		a, cur, err := s.account(ctx, tx, p, projectID, accountID, PermServiceAccountUpdate)
		if err != nil {
			return err
		}
		sa = cur
		if disabled == sa.Disabled() {
			return nil
		}
		if err := setAccountDisabled(ctx, tx, &sa, disabled, now); err != nil {
			return err
		}
		action := ActionServiceAccountEnable
		if disabled {
			action = ActionServiceAccountDisable
		}
		return tx.AddAudit(ctx, s.audit(p, a, now, action, sa, sa.Email))
	})
	return sa, err
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

// Now is the service's clock, so pages show states at the time the rules use.
func (s *ServiceAccounts) Now() time.Time { return s.now() }

// SetServiceAccountDisabled lets support staff disable a service account
// (every key and token refused) or enable it again, with a reason.
func (s *Support) SetServiceAccountDisabled(ctx context.Context, p Principal, memberID string, disabled bool, reason string) error {
	acct, reason, err := s.prepare(ctx, p, memberID, reason)
	if err != nil {
		return err
	}
	if acct.Service == nil {
		return Errorf(EINVALID, "Only service accounts can be disabled; lock a person instead.")
	}
	now := s.now()
	return s.store.Update(ctx, func(tx Tx) error {
		// Read again inside the transaction: a change meanwhile must stay.
		sa, err := tx.ServiceAccountByID(ctx, acct.Service.ID)
		if err != nil || sa.Disabled() == disabled {
			return err
		}
		if err := setAccountDisabled(ctx, tx, &sa, disabled, now); err != nil {
			return err
		}
		action := ActionServiceAccountEnable
		if disabled {
			action = ActionServiceAccountDisable
		}
		e := s.entry(p, now, action, acct, reason)
		e.ProjectID = sa.ProjectID
		if proj, err := tx.ProjectByID(ctx, sa.ProjectID); err == nil {
			e.OrganizationID = proj.OrganizationID
		}
		return s.add(ctx, tx, p, e)
	})
}

// SetKeyDisabled lets support staff disable one key of a service account
// or enable it again (not a key reported compromised), with a reason.
func (s *Support) SetKeyDisabled(ctx context.Context, p Principal, memberID, keyID string, disabled bool, reason string) error {
	acct, reason, err := s.prepare(ctx, p, memberID, reason)
	if err != nil {
		return err
	}
	if acct.Service == nil {
		return ErrNotFound("Key")
	}
	now := s.now()
	return s.store.Update(ctx, func(tx Tx) error {
		k, err := tx.KeyByID(ctx, keyID)
		if err != nil || k.ServiceAccountID != acct.Service.ID {
			return ErrNotFound("Key")
		}
		if !disabled && !k.CompromisedTime.IsZero() {
			return Errorf(EINVALID, "Key %s was reported compromised: it cannot be enabled again.", k.ID)
		}
		if disabled == !k.DisabledTime.IsZero() {
			return nil
		}
		if err := setKeyDisabled(ctx, tx, &k, disabled, now); err != nil {
			return err
		}
		action := ActionKeyEnable
		if disabled {
			action = ActionKeyDisable
		}
		e := s.entry(p, now, action, acct, reason)
		e.TargetType, e.TargetID, e.ProjectID, e.Detail = "key", keyID, acct.Service.ProjectID, "key "+keyID
		if proj, err := tx.ProjectByID(ctx, acct.Service.ProjectID); err == nil {
			e.OrganizationID = proj.OrganizationID
		}
		return s.add(ctx, tx, p, e)
	})
}
