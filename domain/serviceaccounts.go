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
	store       ServiceAccountsStore
	sealer      *Sealer
	now         func() time.Time
	emailDomain string
}

// NewServiceAccounts returns the service; emailDomain is the part after
// ".serviceaccount." in every account email.
func NewServiceAccounts(store ServiceAccountsStore, sealer *Sealer, now func() time.Time, emailDomain string) *ServiceAccounts {
	return &ServiceAccounts{store: store, sealer: sealer, now: now, emailDomain: emailDomain}
}

// ServiceAccountsStore is the part of the store ServiceAccounts uses.
type ServiceAccountsStore interface {
	OrganizationReader
	ProjectReader
	AccessReader
	ServiceAccountReader
	KeyReader
	MembershipReader
	Updater
}

// accountReader is what reading an account's page reads.
type accountReader interface {
	AccessReader
	ServiceAccountReader
	KeyReader
	MembershipReader
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

// authorize is the service's one permission decision: it authorizes op in
// the project and loads the account, which must belong to it. An account
// of another project is not found, whatever the caller holds there.
func (s *ServiceAccounts) authorize(ctx context.Context, r accountReader, p Principal, projectID, accountID string, op Operation) (Access, ServiceAccount, error) {
	a, err := authorizeProject(ctx, r, p, projectID, op)
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

// Authorize refuses who may not do op on the account (as the method that
// does it would), so a handler can refuse before it reads a form.
func (s *ServiceAccounts) Authorize(ctx context.Context, p Principal, projectID, accountID string, op Operation) error {
	_, _, err := s.authorize(ctx, s.store, p, projectID, accountID, op)
	return err
}

// ServiceAccountListing names the listing of a project's service accounts
// searched for query, whose page tokens List reads.
func ServiceAccountListing(projectID, query string) string {
	return Listing("serviceAccounts", projectID, query)
}

// List lists a project's service accounts, optionally searched by name or email.
func (s *ServiceAccounts) List(ctx context.Context, p Principal, projectID, query string, req PageRequest) (Access, Page[ServiceAccount], error) {
	a, err := authorizeProject(ctx, s.store, p, projectID, OpServiceAccountRead)
	if err != nil {
		return a, Page[ServiceAccount]{}, err
	}
	query = strings.TrimSpace(query)
	if len(query) > MaxEmailLength {
		return a, Page[ServiceAccount]{}, FieldError("query", "The search text is too long.")
	}
	listing := ServiceAccountListing(projectID, query)
	size, after, err := normalizePage(req, listing)
	if err != nil {
		return a, Page[ServiceAccount]{}, err
	}
	items, err := s.store.ListServiceAccounts(ctx, ServiceAccountFilter{ProjectID: projectID, Query: query}, after, size+1)
	if err != nil {
		return a, Page[ServiceAccount]{}, err
	}
	return a, pageOf(items, size, listing, ServiceAccountCursor), nil
}

// ServiceAccountCursor is the keyset position of an account in name order.
func ServiceAccountCursor(sa ServiceAccount) Cursor {
	return Cursor{Key: strings.ToLower(sa.DisplayName), ID: sa.ID}
}

// Get returns one account with its role in the owning project.
func (s *ServiceAccounts) Get(ctx context.Context, p Principal, projectID, accountID string) (ServiceAccountView, error) {
	a, sa, err := s.authorize(ctx, s.store, p, projectID, accountID, OpServiceAccountRead)
	if err != nil {
		return ServiceAccountView{}, err
	}
	return viewOf(ctx, s.store, a, sa)
}

// viewOf adds the account's role in its owning project to what authorize found.
func viewOf(ctx context.Context, r MembershipReader, a Access, sa ServiceAccount) (ServiceAccountView, error) {
	v := ServiceAccountView{Access: a, Account: sa}
	m, err := r.ProjectMembership(ctx, sa.ProjectID, sa.Ref())
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
	a, err := authorizeProject(ctx, s.store, p, projectID, OpServiceAccountCreate)
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
func (s *ServiceAccounts) Update(ctx context.Context, p Principal, projectID, accountID string, in ServiceAccountInput, asked ...Refresh) (ServiceAccount, error) {
	// Refuse an outsider before looking at the input, as a read would.
	if _, _, err := s.authorize(ctx, s.store, p, projectID, accountID, OpServiceAccountUpdate); err != nil {
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
	err := s.change(ctx, p, projectID, accountID, OpServiceAccountUpdate, asked, func(tx Tx, a Access, cur *ServiceAccount) error {
		defer func() { sa = *cur }()
		// One entry per kind of change: a rename is serviceaccount.update,
		// Basic Auth has actions of its own (as support's and hygiene's).
		var entries []AuditEntry
		if in.DisplayName != nil && name != cur.DisplayName {
			old := cur.DisplayName
			cur.DisplayName = name
			entries = append(entries, s.audit(p, a, now, ActionServiceAccountUpdate, *cur, fmt.Sprintf("name: %s → %s", old, name)))
		}
		if in.EnableBasicAuth != nil && *in.EnableBasicAuth != cur.EnableBasicAuth {
			if *in.EnableBasicAuth {
				if err := requireRecentAuth(p, now, BasicAuthOn); err != nil {
					return err
				}
			}
			cur.EnableBasicAuth = *in.EnableBasicAuth
			action, detail := ActionBasicAuthDisable, "Basic Auth off"
			if cur.EnableBasicAuth {
				action, detail = ActionBasicAuthEnable, "Basic Auth on"
			}
			entries = append(entries, s.audit(p, a, now, action, *cur, detail))
		}
		if len(entries) == 0 {
			return nil
		}
		cur.UpdateTime = now
		if err := tx.UpdateServiceAccount(ctx, *cur); err != nil {
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

// change runs one change to an account in a write transaction: it
// authorizes op there (a change of access meanwhile counts), lets fn make
// the change to the account it loaded, and fills the overviews asked for
// from the same transaction.
func (s *ServiceAccounts) change(ctx context.Context, p Principal, projectID, accountID string, op Operation, asked []Refresh,
	fn func(tx Tx, a Access, sa *ServiceAccount) error) error {
	return s.store.Update(ctx, func(tx Tx) error {
		a, sa, err := s.authorize(ctx, tx, p, projectID, accountID, op)
		if err != nil {
			return err
		}
		if err := fn(tx, a, &sa); err != nil {
			return err
		}
		return refresh(ctx, tx, p, a, sa, asked)
	})
}

// SetProjectRole creates, changes or (with RoleNone) removes the account's
// membership in its owning project.
func (s *ServiceAccounts) SetProjectRole(ctx context.Context, p Principal, projectID, accountID string, role Role, asked ...Refresh) error {
	// Refuse who may not change the account before looking at the input.
	if _, _, err := s.authorize(ctx, s.store, p, projectID, accountID, OpServiceAccountSetRole); err != nil {
		return err
	}
	if role != RoleNone && !ValidProjectRole(role) {
		return FieldError("role", "Choose No access, Project user, Project developer or Project admin.")
	}
	now := s.now()
	return s.change(ctx, p, projectID, accountID, OpServiceAccountSetRole, asked, func(tx Tx, a Access, acct *ServiceAccount) error {
		sa := *acct
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
			m = Membership{OrganizationID: a.Project.OrganizationID, ProjectID: projectID, Account: sa.Ref(),
				Role: role, Status: StatusAccepted, CreateTime: now}
			err, action = tx.CreateMembership(ctx, &m), ActionMembershipCreate
		case role == RoleNone:
			err, action = tx.DeleteMembership(ctx, m), ActionMembershipDelete
		default:
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
	_, sa, err := s.authorize(ctx, s.store, p, projectID, accountID, OpServiceAccountRead)
	if err != nil {
		return nil, err
	}
	return s.store.AccountMemberships(ctx, sa.Ref(), limit)
}

// Delete deletes an account, its keys (killing their tokens) and every
// membership it holds in any project or organization.
func (s *ServiceAccounts) Delete(ctx context.Context, p Principal, projectID, accountID string) error {
	now := s.now()
	return s.change(ctx, p, projectID, accountID, OpServiceAccountDelete, nil, func(tx Tx, a Access, sa *ServiceAccount) error {
		return deleteAccount(ctx, tx, *sa, s.credentialAudit(p, a, now, *sa))
	})
}

// credentialAudit is how the owner's changes of a credential are recorded
// (see credentials.go): in the account's project, by the principal.
func (s *ServiceAccounts) credentialAudit(p Principal, a Access, now time.Time, sa ServiceAccount) credentialAudit {
	return credentialAudit{Entry: s.audit(p, a, now, "", sa, "")}
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
	a, sa, err := s.authorize(ctx, s.store, p, projectID, accountID, OpServiceAccountRead)
	if err != nil {
		return AccountOverview{}, err
	}
	return overviewOf(ctx, s.store, p, a, sa, membershipLimit)
}

// Refresh asks a change to an account for the account's overview as it is
// after the change, read in the change's own transaction: the page that
// made the change is shown again without reading the viewer's access a
// second time. Into receives it; MembershipLimit is Overview's limit.
type Refresh struct {
	Into            *AccountOverview
	MembershipLimit int
}

// refresh fills the overviews asked for, after a change made by p with access a.
func refresh(ctx context.Context, r accountReader, p Principal, a Access, sa ServiceAccount, asked []Refresh) error {
	for _, rf := range asked {
		if rf.Into == nil {
			continue
		}
		o, err := overviewOf(ctx, r, p, a, sa, rf.MembershipLimit)
		if err != nil {
			return err
		}
		*rf.Into = o
	}
	return nil
}

// overviewOf reads what Overview shows of an account already authorized.
func overviewOf(ctx context.Context, r accountReader, p Principal, a Access, sa ServiceAccount, membershipLimit int) (AccountOverview, error) {
	v, err := viewOf(ctx, r, a, sa)
	if err != nil {
		return AccountOverview{}, err
	}
	o := AccountOverview{View: v}
	// An account has at most MaxKeysPerAccount keys, those in a rotation's grace included.
	if o.Keys, err = r.ListKeys(ctx, sa.ID, "", MaxKeysPerAccount); err != nil {
		return o, err
	}
	all, err := r.AccountMemberships(ctx, sa.Ref(), membershipLimit)
	if err != nil {
		return o, err
	}
	o.More = len(all) >= membershipLimit
	if o.Memberships, err = readableMemberships(ctx, r, p, all); err != nil {
		return o, err
	}
	o.Hidden = len(all) - len(o.Memberships)
	o.Policy, err = keyPolicyOf(ctx, r, a.Project.OrganizationID)
	return o, err
}

// readableMemberships keeps the memberships p may read where they are, as
// the members pages and the API would show them: a project's to whoever
// holds membership.read there, an organization's to its admins. Reading
// an account must not tell the names of projects and organizations the
// viewer has no access to.
func readableMemberships(ctx context.Context, r AccessReader, p Principal, ms []Membership) ([]Membership, error) {
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

// SetAccountDisabled disables a whole service account (every key and
// token refused on the next request; its tokens never work again) or
// enables it again.
func (s *ServiceAccounts) SetAccountDisabled(ctx context.Context, p Principal, projectID, accountID string, disabled bool, asked ...Refresh) (ServiceAccount, error) {
	now := s.now()
	var sa ServiceAccount
	err := s.change(ctx, p, projectID, accountID, OpServiceAccountUpdate, asked, func(tx Tx, a Access, cur *ServiceAccount) error {
		_, err := changeAccountState(ctx, tx, cur, disabled, now, s.credentialAudit(p, a, now, *cur))
		sa = *cur
		return err
	})
	return sa, err
}

// Now is the service's clock, so pages show states at the time the rules use.
func (s *ServiceAccounts) Now() time.Time { return s.now() }
