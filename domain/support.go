package domain

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Audit actions only support staff take.
const (
	ActionUserLock   = "user.lock"
	ActionUserUnlock = "user.unlock"
	// Basic Auth switched on or off, from the console, the API, support or
	// the hygiene view alike.
	ActionBasicAuthEnable  = "serviceaccount.basic_auth.enable"
	ActionBasicAuthDisable = "serviceaccount.basic_auth.disable"
	// ActionSupportView is a staff member's search, or opening of an
	// account: reading is access too, and the organizations concerned see it.
	ActionSupportView = "support.view"
)

// Support is the platform staff's console: find any account and revoke its
// access, always with a written reason. It is separate from organization roles.
type Support struct {
	store SupportStore
	now   func() time.Time
}

// SupportStore is the part of the store Support uses.
type SupportStore interface {
	UserReader
	ServiceAccountReader
	KeyReader
	MembershipReader
	AccountFinder
	AuditReader
	SessionEnder
	Updater
}

// NewSupport returns the support service.
func NewSupport(store SupportStore, now func() time.Time) *Support {
	return &Support{store: store, now: now}
}

// requireStaff refuses anyone who is not support staff with not-found, so
// the support console does not reveal itself.
func requireStaff(p Principal) error {
	if !p.IsUser() || !p.Staff {
		return ErrNotFound("Page")
	}
	// Support staff always need a second factor (secondfactor.go): a
	// stolen password alone must not reach every account.
	if p.Console && !p.SecondFactor {
		return errStaffSecondFactor
	}
	return nil
}

// cleanReason checks the written reason every staff action needs.
func cleanReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	switch n := utf8.RuneCountInString(reason); {
	case n < 5:
		return "", FieldError("reason", "Write why you are doing this (at least 5 characters). It goes into the audit log.")
	case n > 500:
		return "", FieldError("reason", "The reason can be at most 500 characters long.")
	}
	return reason, nil
}

// Find looks accounts up by id or email (or the start of an email).
func (s *Support) Find(ctx context.Context, p Principal, query string) ([]AccountSummary, error) {
	if err := requireStaff(p); err != nil {
		return nil, err
	}
	query = strings.ToLower(strings.TrimSpace(query))
	if query == "" {
		return nil, nil
	}
	if len(query) > MaxEmailLength {
		return nil, FieldError("q", "The search text is too long.")
	}
	found, err := s.store.FindAccounts(ctx, query, 50)
	if err != nil {
		return nil, err
	}
	// In the support audit: what was looked for, and how much was seen.
	e := auditEntry(p, s.now(), ActionSupportView, "search", "", query)
	e.ActorStaff, e.Detail = true, fmt.Sprintf("searched for %q: %d account%s found", query, len(found), plural(len(found)))
	if err := s.store.Update(ctx, func(tx Tx) error { return tx.AddAudit(ctx, e) }); err != nil {
		return nil, err
	}
	return found, nil
}

// SupportAccount is everything staff see about one account.
type SupportAccount struct {
	Summary     AccountSummary
	User        *User           // for a user
	Service     *ServiceAccount // for a service account
	Keys        []Key
	Memberships []Membership
}

// MaxSupportMemberships bounds the memberships the support page lists.
const MaxSupportMemberships = 500

// View opens an account for a staff member, as Account does, and records
// it in the audit log of every organization the account belongs to (its
// memberships', and a service account's own), or in the support audit
// alone when it belongs to none.
func (s *Support) View(ctx context.Context, p Principal, memberID string) (SupportAccount, error) {
	acct, err := s.Account(ctx, p, memberID)
	if err != nil {
		return acct, err
	}
	orgs := map[string]bool{}
	for _, m := range acct.Memberships {
		orgs[m.OrganizationID] = true
	}
	now := s.now()
	err = s.store.Update(ctx, func(tx Tx) error {
		if acct.Service != nil {
			if proj, err := tx.ProjectByID(ctx, acct.Service.ProjectID); err == nil {
				orgs[proj.OrganizationID] = true
			}
		}
		if len(orgs) == 0 {
			orgs[""] = true
		}
		for orgID := range orgs {
			e := s.entry(p, now, ActionSupportView, acct, "")
			e.OrganizationID, e.Detail = orgID, "opened in the support console"
			if err := tx.AddAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	return acct, err
}

// Account loads an account by member id, for staff, without recording a
// view: the actions on it record their own entries.
func (s *Support) Account(ctx context.Context, p Principal, memberID string) (SupportAccount, error) {
	if err := requireStaff(p); err != nil {
		return SupportAccount{}, err
	}
	ref, err := ParseMemberID(memberID)
	if err != nil {
		return SupportAccount{}, err
	}
	out := SupportAccount{Summary: AccountSummary{Account: ref}}
	if ref.Type == AccountUser {
		u, err := s.store.UserByID(ctx, mustInt(ref.ID))
		if err != nil {
			return out, err
		}
		out.User, out.Summary.Email, out.Summary.DisplayName = &u, u.Email, u.DisplayName
	} else {
		sa, err := s.store.ServiceAccountByID(ctx, ref.ID)
		if err != nil {
			return out, err
		}
		out.Service, out.Summary.Email, out.Summary.DisplayName, out.Summary.ProjectID = &sa, sa.Email, sa.DisplayName, sa.ProjectID
		if out.Keys, err = s.store.ListKeys(ctx, sa.ID, "", MaxKeysPerAccount+1); err != nil {
			return out, err
		}
	}
	out.Memberships, err = s.store.AccountMemberships(ctx, ref, MaxSupportMemberships)
	return out, err
}

func (s *Support) entry(p Principal, now time.Time, action string, acct SupportAccount, reason string) AuditEntry {
	e := auditEntry(p, now, action, strings.ToLower(string(acct.Summary.Account.Type)), acct.Summary.Account.ID, acct.Summary.Email)
	e.Reason, e.ActorStaff = reason, true
	return e
}

// supportPerm is what a project role needs for the same change as a
// support action (see addSupportEntry): "" for what only support does.
var supportPerm = map[string]Permission{
	ActionMembershipDelete:      PermMembershipDelete,
	ActionKeyDelete:             PermKeyDelete,
	ActionKeyDisable:            PermKeyDelete,
	ActionKeyEnable:             PermKeyDelete,
	ActionBasicAuthDisable:      PermServiceAccountUpdate,
	ActionServiceAccountDisable: PermServiceAccountUpdate,
	ActionServiceAccountEnable:  PermServiceAccountUpdate,
	ActionServiceAccountDelete:  PermServiceAccountDelete,
}

// add writes the entry of a support action, marked as one unless a role
// the person holds where it happened allows it too.
func (s *Support) add(ctx context.Context, tx Tx, p Principal, e AuditEntry) error {
	return addSupportEntry(ctx, tx, p, e, supportPerm[e.Action])
}

// RemoveMembership removes one membership of the account: in a project
// (projectID set) or in an organization.
func (s *Support) RemoveMembership(ctx context.Context, p Principal, memberID, orgID, projectID, reason string) error {
	acct, reason, err := s.prepare(ctx, p, memberID, reason)
	if err != nil {
		return err
	}
	now := s.now()
	return s.store.Update(ctx, func(tx Tx) error {
		var m Membership
		var err error
		if projectID != "" {
			m, err = tx.ProjectMembership(ctx, projectID, acct.Summary.Account)
		} else {
			m, err = tx.OrgMembership(ctx, orgID, acct.Summary.Account)
		}
		if err != nil {
			return err
		}
		if err := tx.DeleteMembership(ctx, m); err != nil {
			return err
		}
		e := s.entry(p, now, ActionMembershipDelete, acct, reason)
		e.OrganizationID, e.ProjectID, e.Detail = m.OrganizationID, m.ProjectID, RoleDisplayName(m.Role)
		return s.add(ctx, tx, p, e)
	})
}

func (s *Support) prepare(ctx context.Context, p Principal, memberID, reason string) (SupportAccount, string, error) {
	if err := requireStaff(p); err != nil {
		return SupportAccount{}, "", err
	}
	reason, err := cleanReason(reason)
	if err != nil {
		return SupportAccount{}, "", err
	}
	acct, err := s.Account(ctx, p, memberID)
	return acct, reason, err
}

// RemoveAllAccess removes every membership of the account, everywhere.
func (s *Support) RemoveAllAccess(ctx context.Context, p Principal, memberID, reason string) (int, error) {
	acct, reason, err := s.prepare(ctx, p, memberID, reason)
	if err != nil {
		return 0, err
	}
	now := s.now()
	removed := 0
	err = s.store.Update(ctx, func(tx Tx) error {
		for {
			// Re-read inside the transaction, in batches, until none is left.
			ms, err := tx.AccountMemberships(ctx, acct.Summary.Account, MaxSupportMemberships)
			if err != nil || len(ms) == 0 {
				return err
			}
			for _, m := range ms {
				if err := tx.DeleteMembership(ctx, m); err != nil {
					return err
				}
				e := s.entry(p, now, ActionMembershipDelete, acct, reason)
				e.OrganizationID, e.ProjectID, e.Detail = m.OrganizationID, m.ProjectID, RoleDisplayName(m.Role)+" (all access removed)"
				if err := s.add(ctx, tx, p, e); err != nil {
					return err
				}
				removed++
			}
		}
	})
	return removed, err
}

// SetLocked locks a user (signed out everywhere, sign-in refused) or unlocks it.
func (s *Support) SetLocked(ctx context.Context, p Principal, memberID string, locked bool, reason string) error {
	acct, reason, err := s.prepare(ctx, p, memberID, reason)
	if err != nil {
		return err
	}
	if acct.User == nil {
		return Errorf(EINVALID, "Only people can be locked; remove a service account's access or delete its keys instead.")
	}
	if acct.User.ID == p.UserID {
		return Errorf(EINVALID, "You cannot lock yourself out.")
	}
	now := s.now()
	action := ActionUserUnlock
	if locked {
		action = ActionUserLock
	}
	err = s.store.Update(ctx, func(tx Tx) error {
		if err := tx.SetUserLocked(ctx, acct.User.ID, locked); err != nil {
			return err
		}
		// One entry in each organization the user belongs to, so its admins
		// see it; one global entry for a user who belongs nowhere.
		orgs := map[string]bool{}
		for _, m := range acct.Memberships {
			orgs[m.OrganizationID] = true
		}
		if len(orgs) == 0 {
			orgs[""] = true
		}
		for orgID := range orgs {
			e := s.entry(p, now, action, acct, reason)
			e.OrganizationID = orgID
			if err := s.add(ctx, tx, p, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || !locked {
		return err
	}
	return s.store.DeleteUserSessions(ctx, acct.User.ID, "")
}

// Audit lists the global audit log for staff, filtered.
func (s *Support) Audit(ctx context.Context, p Principal, f AuditFilter, req PageRequest) (Page[AuditEntry], error) {
	if err := requireStaff(p); err != nil {
		return Page[AuditEntry]{}, err
	}
	return listAudit(ctx, s.store, f, req)
}

// listAudit pages through the audit log, newest first. Emails are stored
// lower-case, so the actor filter is too.
func listAudit(ctx context.Context, r AuditReader, f AuditFilter, req PageRequest) (Page[AuditEntry], error) {
	f.Actor = strings.ToLower(strings.TrimSpace(f.Actor))
	listing := Listing("audit", f.OrganizationID, f.ProjectID, f.Actor, f.Action,
		strconv.FormatInt(f.Since.UnixMicro(), 10), strconv.FormatInt(f.Until.UnixMicro(), 10))
	size, after, err := normalizePage(req, listing)
	if err != nil {
		return Page[AuditEntry]{}, err
	}
	before, err := cursorID(after)
	if err != nil {
		return Page[AuditEntry]{}, err
	}
	items, err := r.ListAudit(ctx, f, before, size+1)
	if err != nil {
		return Page[AuditEntry]{}, err
	}
	return pageOf(items, size, listing, func(e AuditEntry) Cursor { return Cursor{ID: strconv.FormatInt(e.ID, 10)} }), nil
}

// Staff's changes of a service account's credentials: the same changes as
// the owner's and the hygiene view's (credentials.go), with a reason.

// SetServiceAccountDisabled lets support staff disable a service account
// (every key and token refused) or enable it again, with a reason.
func (s *Support) SetServiceAccountDisabled(ctx context.Context, p Principal, memberID string, disabled bool, reason string) error {
	return s.credentialChange(ctx, p, memberID, reason, Errorf(EINVALID, "Only service accounts can be disabled; lock a person instead."),
		func(tx Tx, sa *ServiceAccount, now time.Time, audit credentialAudit) error {
			_, err := changeAccountState(ctx, tx, sa, disabled, now, audit)
			return err
		})
}

// DisableBasicAuth switches Basic Auth off for a service account.
func (s *Support) DisableBasicAuth(ctx context.Context, p Principal, memberID, reason string) error {
	return s.credentialChange(ctx, p, memberID, reason, Errorf(EINVALID, "Only service accounts have Basic Auth."),
		func(tx Tx, sa *ServiceAccount, now time.Time, audit credentialAudit) error {
			_, err := switchBasicAuthOff(ctx, tx, sa, now, audit)
			return err
		})
}

// SetKeyDisabled lets support staff disable one key of a service account
// or enable it again (not a key reported compromised), with a reason.
func (s *Support) SetKeyDisabled(ctx context.Context, p Principal, memberID, keyID string, disabled bool, reason string) error {
	return s.credentialChange(ctx, p, memberID, reason, ErrNotFound("Key"),
		func(tx Tx, sa *ServiceAccount, now time.Time, audit credentialAudit) error {
			k, err := accountKey(ctx, tx, *sa, keyID)
			if err != nil {
				return err
			}
			_, err = changeKeyState(ctx, tx, &k, *sa, disabled, now, audit)
			return err
		})
}

// DeleteKey deletes one key of a service account.
func (s *Support) DeleteKey(ctx context.Context, p Principal, memberID, keyID, reason string) error {
	return s.credentialChange(ctx, p, memberID, reason, ErrNotFound("Key"),
		func(tx Tx, sa *ServiceAccount, now time.Time, audit credentialAudit) error {
			k, err := accountKey(ctx, tx, *sa, keyID)
			if err != nil {
				return err
			}
			return deleteKey(ctx, tx, k, *sa, audit)
		})
}

// credentialChange runs one staff change to a service account's
// credentials: after the staff check and the reason, the account is read
// again inside the transaction (a change meanwhile must stay) and change
// makes the change, recorded with the reason in the account's project and
// organization. A member id that is not a service account gets notService.
func (s *Support) credentialChange(ctx context.Context, p Principal, memberID, reason string, notService error,
	change func(tx Tx, sa *ServiceAccount, now time.Time, audit credentialAudit) error) error {
	acct, reason, err := s.prepare(ctx, p, memberID, reason)
	if err != nil {
		return err
	}
	if acct.Service == nil {
		return notService
	}
	now := s.now()
	return s.store.Update(ctx, func(tx Tx) error {
		sa, err := tx.ServiceAccountByID(ctx, acct.Service.ID)
		if err != nil {
			return err
		}
		e := s.entry(p, now, "", acct, reason)
		e.ProjectID = sa.ProjectID
		if proj, err := tx.ProjectByID(ctx, sa.ProjectID); err == nil {
			e.OrganizationID = proj.OrganizationID
		}
		return change(tx, &sa, now, credentialAudit{Entry: e, NoDetail: true, Support: &p})
	})
}

// accountKey is a key of sa; any other is not found.
func accountKey(ctx context.Context, tx Tx, sa ServiceAccount, keyID string) (Key, error) {
	k, err := tx.KeyByID(ctx, keyID)
	if err != nil || k.ServiceAccountID != sa.ID {
		return Key{}, ErrNotFound("Key")
	}
	return k, nil
}
