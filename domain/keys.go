package domain

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Keys of service accounts: made with a secret shown once, rotated with a
// grace period, disabled and enabled, reported compromised, deleted.

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

// CreateKeyWith makes a key as CreateKey does, with an expiry chosen under
// the organization's policy.
func (s *ServiceAccounts) CreateKeyWith(ctx context.Context, p Principal, projectID, accountID string, opts KeyOptions, asked ...Refresh) (Key, string, error) {
	now := s.now()
	k, secret := s.newKey(now, accountID)
	err := s.change(ctx, p, projectID, accountID, OpKeyCreate, asked, func(tx Tx, a Access, acct *ServiceAccount) error {
		sa := *acct
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
func (s *ServiceAccounts) RotateKey(ctx context.Context, p Principal, projectID, accountID, keyID string, grace time.Duration, asked ...Refresh) (Rotation, error) {
	// Refuse who may not rotate before looking at the input.
	if _, _, err := s.authorize(ctx, s.store, p, projectID, accountID, OpKeyRotate); err != nil {
		return Rotation{}, err
	}
	if grace < 0 || grace > MaxRotationGrace {
		return Rotation{}, FieldError("grace", fmt.Sprintf("The grace period must be between 0 (stop the old key now) and %s.", FormatLifetime(MaxRotationGrace)))
	}
	now := s.now()
	nk, secret := s.newKey(now, accountID)
	var old Key
	err := s.change(ctx, p, projectID, accountID, OpKeyRotate, asked, func(tx Tx, a Access, acct *ServiceAccount) error {
		sa := *acct
		var err error
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

// SetKeyDisabled disables a key (refused on the next request: Basic Auth,
// token exchange and tokens already issued, which never work again) or
// enables it again. A key reported compromised cannot be enabled.
func (s *ServiceAccounts) SetKeyDisabled(ctx context.Context, p Principal, projectID, accountID, keyID string, disabled bool, asked ...Refresh) (Key, error) {
	now := s.now()
	var k Key
	err := s.change(ctx, p, projectID, accountID, OpKeyDisable, asked, func(tx Tx, a Access, acct *ServiceAccount) error {
		sa := *acct
		var err error
		if k, err = s.keyOf(ctx, tx, sa, keyID); err != nil {
			return err
		}
		_, err = changeKeyState(ctx, tx, &k, sa, disabled, now, s.credentialAudit(p, a, now, sa))
		return err
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
func (s *ServiceAccounts) ReportKeyCompromised(ctx context.Context, p Principal, projectID, accountID, keyID, reason string, asked ...Refresh) (CompromiseReport, error) {
	if _, _, err := s.authorize(ctx, s.store, p, projectID, accountID, OpKeyReportCompromised); err != nil {
		return CompromiseReport{}, err
	}
	reason, err := cleanReason(reason)
	if err != nil {
		return CompromiseReport{}, err
	}
	now := s.now()
	var rep CompromiseReport
	err = s.change(ctx, p, projectID, accountID, OpKeyReportCompromised, asked, func(tx Tx, a Access, acct *ServiceAccount) error {
		sa := *acct
		k, err := s.keyOf(ctx, tx, sa, keyID)
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

// ListKeys lists an account's keys.
func (s *ServiceAccounts) ListKeys(ctx context.Context, p Principal, projectID, accountID string, req PageRequest) (Page[Key], error) {
	_, sa, err := s.authorize(ctx, s.store, p, projectID, accountID, OpKeyRead)
	if err != nil {
		return Page[Key]{}, err
	}
	listing := Listing("keys", sa.ID)
	size, after, err := normalizePage(req, listing)
	if err != nil {
		return Page[Key]{}, err
	}
	keys, err := s.store.ListKeys(ctx, sa.ID, after.ID, size+1)
	if err != nil {
		return Page[Key]{}, err
	}
	return pageOf(keys, size, listing, func(k Key) Cursor { return Cursor{ID: k.ID} }), nil
}

// GetKey returns one key of an account.
func (s *ServiceAccounts) GetKey(ctx context.Context, p Principal, projectID, accountID, keyID string) (Key, error) {
	_, sa, err := s.authorize(ctx, s.store, p, projectID, accountID, OpKeyRead)
	if err != nil {
		return Key{}, err
	}
	return s.keyOf(ctx, s.store, sa, keyID)
}

func (s *ServiceAccounts) keyOf(ctx context.Context, r KeyReader, sa ServiceAccount, keyID string) (Key, error) {
	if !ValidID(keyID) {
		return Key{}, ErrNotFound("Key")
	}
	k, err := r.KeyByID(ctx, keyID)
	if err != nil {
		return k, err
	}
	if k.ServiceAccountID != sa.ID {
		return Key{}, ErrNotFound("Key")
	}
	return k, nil
}

// CreateKey makes a key and returns it with its secret, which is never
// available again: only its sealed form is stored. Its expiry is the
// organization's default, if any (see CreateKeyWith).
func (s *ServiceAccounts) CreateKey(ctx context.Context, p Principal, projectID, accountID string) (Key, string, error) {
	return s.CreateKeyWith(ctx, p, projectID, accountID, KeyOptions{})
}

// DeleteKey deletes one key of an account.
func (s *ServiceAccounts) DeleteKey(ctx context.Context, p Principal, projectID, accountID, keyID string, asked ...Refresh) error {
	now := s.now()
	return s.change(ctx, p, projectID, accountID, OpKeyDelete, asked, func(tx Tx, a Access, acct *ServiceAccount) error {
		sa := *acct
		k, err := s.keyOf(ctx, tx, sa, keyID)
		if err != nil {
			return err
		}
		return deleteKey(ctx, tx, k, sa, s.credentialAudit(p, a, now, sa))
	})
}

// newKey makes a key for an account with a fresh secret, sealed with the
// key's id as associated data, and returns the plain secret beside it.
func (s *ServiceAccounts) newKey(now time.Time, accountID string) (Key, string) {
	secret := NewKeySecret()
	k := Key{ID: NewID(now), ServiceAccountID: accountID, CreateTime: now}
	k.Sealed = s.sealer.Seal([]byte(secret), []byte(k.ID))
	return k, secret
}

// keyAudit is the audit entry of a change to one key.
func (s *ServiceAccounts) keyAudit(p Principal, a Access, now time.Time, action string, sa ServiceAccount, k Key, detail string) AuditEntry {
	e := s.audit(p, a, now, action, sa, detail)
	e.TargetType, e.TargetID, e.TargetName = "key", k.ID, sa.Email
	return e
}

// KeySecret opens a key's sealed secret, for verifying API credentials.
func (s *ServiceAccounts) KeySecret(k Key) (string, error) {
	b, err := s.sealer.Open(k.Sealed, []byte(k.ID))
	return string(b), err
}
