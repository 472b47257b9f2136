package domain

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Audit actions of service accounts and keys.
const (
	ActionServiceAccountCreate = "serviceaccount.create"
	ActionServiceAccountUpdate = "serviceaccount.update"
	ActionServiceAccountDelete = "serviceaccount.delete"
	ActionKeyCreate            = "serviceaccount.key.create"
	ActionKeyDelete            = "serviceaccount.key.delete"
	ActionMembershipUpdate     = "membership.update"
	ActionMembershipDelete     = "membership.delete"
)

// ServiceAccounts manages service accounts and their keys. Only the owning
// project grants rights over an account: its memberships elsewhere never do.
type ServiceAccounts struct {
	store       Store
	sealer      *Sealer
	now         func() time.Time
	emailDomain string
}

// NewServiceAccounts returns the service; emailDomain is the part after
// ".serviceaccount." in every account email.
func NewServiceAccounts(store Store, sealer *Sealer, now func() time.Time, emailDomain string) *ServiceAccounts {
	return &ServiceAccounts{store: store, sealer: sealer, now: now, emailDomain: emailDomain}
}

// ServiceAccountEmail is the system-made email of an account.
func ServiceAccountEmail(accountID, projectID, domain string) string {
	return accountID + "@" + projectID + ".serviceaccount." + domain
}

// ServiceAccountView is an account as its page shows it: with the viewer's
// access to the owning project and the account's own role there.
type ServiceAccountView struct {
	Access  Access
	Account ServiceAccount
	// Role is the account's role in its owning project (RoleNone: no access).
	Role Role
}

// account loads an account of the project after checking perm there. An
// account of another project is not found, whatever the caller holds there.
func (s *ServiceAccounts) account(ctx context.Context, r Reader, p Principal, projectID, accountID string, perm Permission) (Access, ServiceAccount, error) {
	a, err := requireAccess(ctx, r, p, projectID, perm)
	if err != nil {
		return a, ServiceAccount{}, err
	}
	if !ValidID(accountID) {
		return a, ServiceAccount{}, ErrNotFound("Service account")
	}
	sa, err := r.ServiceAccountByID(ctx, accountID)
	if err != nil {
		return a, sa, err
	}
	if sa.ProjectID != projectID {
		return a, ServiceAccount{}, ErrNotFound("Service account")
	}
	return a, sa, nil
}

// List lists a project's service accounts, optionally searched by name or email.
func (s *ServiceAccounts) List(ctx context.Context, p Principal, projectID, query string, req PageRequest) (Access, Page[ServiceAccount], error) {
	a, err := requireAccess(ctx, s.store, p, projectID, PermServiceAccountRead)
	if err != nil {
		return a, Page[ServiceAccount]{}, err
	}
	size, after, err := normalizePage(req)
	if err != nil {
		return a, Page[ServiceAccount]{}, err
	}
	query = strings.TrimSpace(query)
	if len(query) > MaxEmailLength {
		return a, Page[ServiceAccount]{}, FieldError("query", "The search text is too long.")
	}
	items, err := s.store.ListServiceAccounts(ctx, ServiceAccountFilter{ProjectID: projectID, Query: query}, after, size+1)
	if err != nil {
		return a, Page[ServiceAccount]{}, err
	}
	return a, pageOf(items, size, ServiceAccountCursor), nil
}

// ServiceAccountCursor is the keyset position of an account in name order.
func ServiceAccountCursor(sa ServiceAccount) Cursor {
	return Cursor{Key: strings.ToLower(sa.DisplayName), ID: sa.ID}
}

// Get returns one account with its role in the owning project.
func (s *ServiceAccounts) Get(ctx context.Context, p Principal, projectID, accountID string) (ServiceAccountView, error) {
	a, sa, err := s.account(ctx, s.store, p, projectID, accountID, PermServiceAccountRead)
	if err != nil {
		return ServiceAccountView{}, err
	}
	v := ServiceAccountView{Access: a, Account: sa}
	m, err := s.store.ProjectMembership(ctx, projectID, sa.Ref())
	switch {
	case err == nil:
		v.Role = m.Role
	case ErrorCode(err) != ENOTFOUND:
		return v, err
	}
	return v, nil
}

// ServiceAccountInput is what a person or program sets on an account; nil
// fields stay as they are.
type ServiceAccountInput struct {
	DisplayName     *string
	EnableBasicAuth *bool
}

// Create makes a service account in the project. It has no access at all,
// not even to its own project, until a role is granted.
func (s *ServiceAccounts) Create(ctx context.Context, p Principal, projectID string, in ServiceAccountInput) (ServiceAccount, error) {
	a, err := requireAccess(ctx, s.store, p, projectID, PermServiceAccountCreate)
	if err != nil {
		return ServiceAccount{}, err
	}
	var name string
	if in.DisplayName != nil {
		name = *in.DisplayName
	}
	if name, err = CleanDisplayName("displayName", name); err != nil {
		return ServiceAccount{}, err
	}
	now := s.now()
	sa := ServiceAccount{ID: NewID(now), ProjectID: projectID, DisplayName: name, CreateTime: now, UpdateTime: now}
	sa.Email = ServiceAccountEmail(sa.ID, projectID, s.emailDomain)
	if in.EnableBasicAuth != nil && *in.EnableBasicAuth {
		if err := requireRecentAuth(p, now, BasicAuthOn); err != nil {
			return ServiceAccount{}, err
		}
		sa.EnableBasicAuth = true
	}
	err = s.store.Update(ctx, func(tx Tx) error {
		if err := tx.CreateServiceAccount(ctx, sa); err != nil {
			return err
		}
		return tx.AddAudit(ctx, s.audit(p, a, now, ActionServiceAccountCreate, sa, ""))
	})
	return sa, err
}

func (s *ServiceAccounts) audit(p Principal, a Access, now time.Time, action string, sa ServiceAccount, detail string) AuditEntry {
	e := auditEntry(p, now, action, "serviceaccount", sa.ID, sa.DisplayName)
	e.OrganizationID, e.ProjectID, e.Detail = a.Project.OrganizationID, a.Project.ID, detail
	return e
}

// Update renames an account or switches Basic Auth. The account is read
// and checked inside the write transaction, so two changes at once both land.
func (s *ServiceAccounts) Update(ctx context.Context, p Principal, projectID, accountID string, in ServiceAccountInput) (ServiceAccount, error) {
	// Refuse an outsider before looking at the input, as a read would.
	if _, _, err := s.account(ctx, s.store, p, projectID, accountID, PermServiceAccountUpdate); err != nil {
		return ServiceAccount{}, err
	}
	var name string
	if in.DisplayName != nil {
		var err error
		if name, err = CleanDisplayName("displayName", *in.DisplayName); err != nil {
			return ServiceAccount{}, err
		}
	}
	now := s.now()
	var sa ServiceAccount
	err := s.store.Update(ctx, func(tx Tx) error {
		a, cur, err := s.account(ctx, tx, p, projectID, accountID, PermServiceAccountUpdate)
		if err != nil {
			return err
		}
		sa = cur
		// One entry per kind of change: a rename is serviceaccount.update,
		// Basic Auth has actions of its own (as support's and hygiene's).
		var entries []AuditEntry
		if in.DisplayName != nil && name != sa.DisplayName {
			old := sa.DisplayName
			sa.DisplayName = name
			entries = append(entries, s.audit(p, a, now, ActionServiceAccountUpdate, sa, fmt.Sprintf("name: %s → %s", old, name)))
		}
		if in.EnableBasicAuth != nil && *in.EnableBasicAuth != sa.EnableBasicAuth {
			if *in.EnableBasicAuth {
				if err := requireRecentAuth(p, now, BasicAuthOn); err != nil {
					return err
				}
			}
			sa.EnableBasicAuth = *in.EnableBasicAuth
			action, detail := ActionBasicAuthDisable, "Basic Auth off"
			if sa.EnableBasicAuth {
				action, detail = ActionBasicAuthEnable, "Basic Auth on"
			}
			entries = append(entries, s.audit(p, a, now, action, sa, detail))
		}
		if len(entries) == 0 {
			return nil
		}
		sa.UpdateTime = now
		if err := tx.UpdateServiceAccount(ctx, sa); err != nil {
			return err
		}
		for _, e := range entries {
			if err := tx.AddAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	return sa, err
}

// SetProjectRole creates, changes or (with RoleNone) removes the account's
// membership in its owning project.
func (s *ServiceAccounts) SetProjectRole(ctx context.Context, p Principal, projectID, accountID string, role Role) error {
	// Refuse who may not change the account before looking at the input.
	if _, _, err := s.account(ctx, s.store, p, projectID, accountID, PermServiceAccountUpdate); err != nil {
		return err
	}
	if role != RoleNone && !ValidProjectRole(role) {
		return FieldError("role", "Choose No access, Project user, Project developer or Project admin.")
	}
	now := s.now()
	return s.store.Update(ctx, func(tx Tx) error {
		a, sa, err := s.account(ctx, tx, p, projectID, accountID, PermServiceAccountUpdate)
		if err != nil {
			return err
		}
		m, err := tx.ProjectMembership(ctx, projectID, sa.Ref())
		exists := err == nil
		if err != nil && ErrorCode(err) != ENOTFOUND {
			return err
		}
		if err := requireRecentAuth(p, now, roleChange(m.Role, role)); err != nil {
			return err
		}
		var action string
		switch {
		case !exists && role == RoleNone, exists && m.Role == role:
			return nil
		case !exists:
			if err := a.Require(PermMembershipCreate); err != nil {
				return err
			}
			m = Membership{OrganizationID: a.Project.OrganizationID, ProjectID: projectID, Account: sa.Ref(),
				Role: role, Status: StatusAccepted, CreateTime: now}
			err, action = tx.CreateMembership(ctx, &m), ActionMembershipCreate
		case role == RoleNone:
			if err := a.Require(PermMembershipDelete); err != nil {
				return err
			}
			err, action = tx.DeleteMembership(ctx, m), ActionMembershipDelete
		default:
			if err := a.Require(PermMembershipUpdate); err != nil {
				return err
			}
			err, action = tx.SetMembershipRole(ctx, m, role), ActionMembershipUpdate
		}
		if err != nil {
			return err
		}
		e := auditEntry(p, now, action, "membership", fmt.Sprint(m.ID), sa.Email)
		e.OrganizationID, e.ProjectID = a.Project.OrganizationID, projectID
		e.Detail = fmt.Sprintf("%s → %s", RoleDisplayName(m.Role), RoleDisplayName(role))
		if action == ActionMembershipCreate {
			e.Detail = RoleDisplayName(role)
		}
		return tx.AddAudit(ctx, e)
	})
}

// Memberships lists up to limit memberships the account holds anywhere,
// for its page (read-only there).
func (s *ServiceAccounts) Memberships(ctx context.Context, p Principal, projectID, accountID string, limit int) ([]Membership, error) {
	_, sa, err := s.account(ctx, s.store, p, projectID, accountID, PermServiceAccountRead)
	if err != nil {
		return nil, err
	}
	return s.store.AccountMemberships(ctx, sa.Ref(), limit)
}

// Delete deletes an account, its keys (killing their tokens) and every
// membership it holds in any project or organization.
func (s *ServiceAccounts) Delete(ctx context.Context, p Principal, projectID, accountID string) error {
	now := s.now()
	return s.store.Update(ctx, func(tx Tx) error {
		a, sa, err := s.account(ctx, tx, p, projectID, accountID, PermServiceAccountDelete)
		if err != nil {
			return err
		}
		keys, err := tx.CountKeys(ctx, sa.ID)
		if err != nil {
			return err
		}
		if err := tx.DeleteServiceAccount(ctx, sa.ID); err != nil {
			return err
		}
		return tx.AddAudit(ctx, s.audit(p, a, now, ActionServiceAccountDelete, sa,
			fmt.Sprintf("%s; %d key%s deleted with it", sa.Email, keys, plural(keys))))
	})
}

// ListKeys lists an account's keys.
func (s *ServiceAccounts) ListKeys(ctx context.Context, p Principal, projectID, accountID string, req PageRequest) (Page[Key], error) {
	_, sa, err := s.account(ctx, s.store, p, projectID, accountID, PermKeyRead)
	if err != nil {
		return Page[Key]{}, err
	}
	size, after, err := normalizePage(req)
	if err != nil {
		return Page[Key]{}, err
	}
	keys, err := s.store.ListKeys(ctx, sa.ID, after.ID, size+1)
	if err != nil {
		return Page[Key]{}, err
	}
	return pageOf(keys, size, func(k Key) Cursor { return Cursor{ID: k.ID} }), nil
}

// GetKey returns one key of an account.
func (s *ServiceAccounts) GetKey(ctx context.Context, p Principal, projectID, accountID, keyID string) (Key, error) {
	_, sa, err := s.account(ctx, s.store, p, projectID, accountID, PermKeyRead)
	if err != nil {
		return Key{}, err
	}
	return s.keyOf(ctx, s.store, sa, keyID)
}

func (s *ServiceAccounts) keyOf(ctx context.Context, r Reader, sa ServiceAccount, keyID string) (Key, error) {
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
func (s *ServiceAccounts) DeleteKey(ctx context.Context, p Principal, projectID, accountID, keyID string) error {
	now := s.now()
	return s.store.Update(ctx, func(tx Tx) error {
		a, sa, err := s.account(ctx, tx, p, projectID, accountID, PermKeyDelete)
		if err != nil {
			return err
		}
		k, err := s.keyOf(ctx, tx, sa, keyID)
		if err != nil {
			return err
		}
		if err := tx.DeleteKey(ctx, k.ID); err != nil {
			return err
		}
		e := s.keyAudit(p, a, now, ActionKeyDelete, sa, k, "key "+k.ID)
		return tx.AddAudit(ctx, e)
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

// AccountOverview is everything an account's page shows, read with one
// permission check.
type AccountOverview struct {
	View ServiceAccountView
	Keys []Key
	// Memberships are those of the account's memberships, among the first
	// membershipLimit, that the viewer may read; Hidden counts the others,
	// and More tells that the account may hold memberships beyond them.
	Memberships []Membership
	Hidden      int
	More        bool
	Policy      KeyPolicy // the organization's key lifetimes
}

// Overview reads an account, its keys, up to membershipLimit of its
// memberships anywhere (naming only those the viewer may read), and its
// organization's key policy.
func (s *ServiceAccounts) Overview(ctx context.Context, p Principal, projectID, accountID string, membershipLimit int) (AccountOverview, error) {
	v, err := s.Get(ctx, p, projectID, accountID)
	if err != nil {
		return AccountOverview{}, err
	}
	o := AccountOverview{View: v}
	// An account has at most MaxKeysPerAccount keys, those in a rotation's grace included.
	if o.Keys, err = s.store.ListKeys(ctx, accountID, "", MaxKeysPerAccount); err != nil {
		return o, err
	}
	all, err := s.store.AccountMemberships(ctx, v.Account.Ref(), membershipLimit)
	if err != nil {
		return o, err
	}
	o.More = len(all) >= membershipLimit
	if o.Memberships, err = readableMemberships(ctx, s.store, p, all); err != nil {
		return o, err
	}
	o.Hidden = len(all) - len(o.Memberships)
	o.Policy, err = keyPolicyOf(ctx, s.store, v.Access.Project.OrganizationID)
	return o, err
}

// readableMemberships keeps the memberships p may read where they are, as
// the members pages and the API would show them: a project's to whoever
// holds membership.read there, an organization's to its admins. Reading
// an account must not tell the names of projects and organizations the
// viewer has no access to.
func readableMemberships(ctx context.Context, r Reader, p Principal, ms []Membership) ([]Membership, error) {
	var projects, orgs []string
	for _, m := range ms {
		if m.ProjectID != "" {
			projects = append(projects, m.ProjectID)
		}
		orgs = append(orgs, m.OrganizationID)
	}
	roles, admin, err := r.RolesOf(ctx, p.Account, projects, orgs)
	if err != nil {
		return nil, err
	}
	out := make([]Membership, 0, len(ms))
	for _, m := range ms {
		readable := admin[m.OrganizationID]
		if m.ProjectID != "" {
			readable = EffectiveRole(roles[m.ProjectID], admin[m.OrganizationID]).Has(PermMembershipRead)
		}
		if readable {
			out = append(out, m)
		}
	}
	return out, nil
}
