package domain

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Members manages who holds which role where, and invitations.
type Members struct {
	store     MembersStore
	hasher    *Hasher
	now       func() time.Time
	baseURL   string
	inviteTTL time.Duration
}

// NewMembers returns the members service. baseURL starts invite links.
func NewMembers(store MembersStore, hasher *Hasher, now func() time.Time, baseURL string, inviteTTL time.Duration) *Members {
	if inviteTTL <= 0 {
		inviteTTL = DefaultInviteTTL
	}
	return &Members{store: store, hasher: hasher, now: now, baseURL: strings.TrimRight(baseURL, "/"), inviteTTL: inviteTTL}
}

// MembersStore is the part of the store Members uses.
type MembersStore interface {
	UserReader
	OrganizationReader
	ProjectReader
	AccessReader
	ServiceAccountReader
	MembershipReader
	InvitationReader
	OutboxReader
	SessionEnder
	Updater
}

// ParseMemberID reads a member id: a user's number or a service account's id.
func ParseMemberID(s string) (AccountRef, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 && strconv.FormatInt(n, 10) == s {
		return AccountRef{Type: AccountUser, ID: s}, nil
	}
	if ValidID(s) {
		return AccountRef{Type: AccountServiceAccount, ID: s}, nil
	}
	return AccountRef{}, ErrNotFound("Member")
}

// Invited is the result of an invitation: the membership and, for a
// pending user, the link to accept it.
type Invited struct {
	Membership Membership
	InviteURL  string
}

// Authorize returns what the principal holds in a project when it allows
// op on the project's members, so a handler can refuse before it reads a form.
func (s *Members) Authorize(ctx context.Context, p Principal, projectID string, op Operation) (Access, error) {
	return authorizeProject(ctx, s.store, p, projectID, op)
}

// ListProject lists a project's members; anyone who can read the project may.
func (s *Members) ListProject(ctx context.Context, p Principal, projectID, query string, req PageRequest) (Access, Page[Membership], error) {
	a, err := authorizeProject(ctx, s.store, p, projectID, OpMemberRead)
	if err != nil {
		return a, Page[Membership]{}, err
	}
	query = strings.ToLower(strings.TrimSpace(query))
	if len(query) > MaxEmailLength {
		return a, Page[Membership]{}, FieldError("query", "The search text is too long.")
	}
	listing := Listing("projectMembers", projectID, query)
	size, after, err := normalizePage(req, listing)
	if err != nil {
		return a, Page[Membership]{}, err
	}
	afterID, err := cursorID(after)
	if err != nil {
		return a, Page[Membership]{}, err
	}
	items, err := s.store.ListProjectMembers(ctx, projectID, query, afterID, size+1)
	if err != nil {
		return a, Page[Membership]{}, err
	}
	return a, pageOf(items, size, listing, membershipCursor), nil
}

func membershipCursor(m Membership) Cursor { return Cursor{ID: strconv.FormatInt(m.ID, 10)} }

func cursorID(c Cursor) (int64, error) {
	if c.IsZero() {
		return 0, nil
	}
	n, err := strconv.ParseInt(c.ID, 10, 64)
	if err != nil || n <= 0 {
		return 0, FieldError("pageToken", "The page token is not valid.")
	}
	return n, nil
}

// resolveAccount finds the account an email names, creating a pending user
// for an unknown email. It returns the status a new membership gets: a
// service account and a user whose email is verified join at once; any
// other user has to accept an invitation (see Invitation).
func (s *Members) resolveAccount(ctx context.Context, tx Tx, p Principal, email string, now time.Time, orgID, projectID string) (AccountSummary, MembershipStatus, error) {
	if u, err := tx.UserByEmail(ctx, email); err == nil {
		status, err := newMembershipStatus(ctx, tx, u, orgID)
		return AccountSummary{Account: userRef(u.ID), Email: u.Email, DisplayName: u.DisplayName}, status, err
	} else if ErrorCode(err) != ENOTFOUND {
		return AccountSummary{}, "", err
	}
	if sa, err := tx.ServiceAccountByEmail(ctx, email); err == nil {
		return AccountSummary{Account: sa.Ref(), Email: sa.Email, DisplayName: sa.DisplayName, ProjectID: sa.ProjectID}, StatusAccepted, nil
	} else if ErrorCode(err) != ENOTFOUND {
		return AccountSummary{}, "", err
	}
	u := User{Email: email, DisplayName: email, CreateTime: now}
	if err := tx.CreateUser(ctx, &u); err != nil {
		return AccountSummary{}, "", err
	}
	e := auditEntry(p, now, ActionUserCreate, "user", strconv.FormatInt(u.ID, 10), email)
	e.OrganizationID, e.ProjectID, e.Detail = orgID, projectID, "invited"
	if err := tx.AddAudit(ctx, e); err != nil {
		return AccountSummary{}, "", err
	}
	return AccountSummary{Account: userRef(u.ID), Email: email, DisplayName: email}, StatusPending, nil
}

// newMembershipStatus is the status of a user's new membership in an
// organization. A verified email joins at once. An account claimed through
// a shared link may belong to whoever held the link, not to the owner of
// the address, so it joins at once only where it already holds an
// accepted membership: that organization let it in through one of its own
// invitations before.
func newMembershipStatus(ctx context.Context, r interface {
	AccessReader
	MembershipReader
}, u User, orgID string) (MembershipStatus, error) {
	if u.EmailVerified {
		return StatusAccepted, nil
	}
	if u.Pending() {
		return StatusPending, nil
	}
	ref := userRef(u.ID)
	if admin, err := r.IsOrgAdmin(ctx, ref, orgID); err != nil || admin {
		return StatusAccepted, err
	}
	ms, err := r.AccountProjectMemberships(ctx, orgID, ref)
	if err != nil {
		return "", err
	}
	for _, m := range ms {
		if m.Status == StatusAccepted {
			return StatusAccepted, nil
		}
	}
	return StatusPending, nil
}

// InviteToProject makes the account with this email a member of the project.
func (s *Members) InviteToProject(ctx context.Context, p Principal, projectID, email string, role Role) (Invited, error) {
	out, err := s.InviteToProjects(ctx, p, []ProjectInvite{{ProjectID: projectID, Email: email, Role: role}})
	if err != nil {
		return Invited{}, err
	}
	return out[0], nil
}

// ProjectInvite is one invitation of a batch.
type ProjectInvite struct {
	ProjectID string
	Email     string
	Role      Role
}

// InviteToProjects makes several memberships in one transaction: if any is
// refused (permission, input, or already a member), none is made.
func (s *Members) InviteToProjects(ctx context.Context, p Principal, invites []ProjectInvite) ([]Invited, error) {
	if err := checkBatchSize("members", len(invites)); err != nil {
		return nil, err
	}
	for i := range invites {
		// Refuse an outsider before looking at the input, as a read would.
		if _, err := authorizeProject(ctx, s.store, p, invites[i].ProjectID, OpMemberInvite); err != nil {
			return nil, err
		}
		email, err := CleanEmail("email", invites[i].Email)
		if err != nil {
			return nil, err
		}
		invites[i].Email = email
		if !ValidProjectRole(invites[i].Role) {
			return nil, FieldError("role", "Choose Project user, Project developer or Project admin.")
		}
	}
	now := s.now()
	for _, in := range invites {
		if err := requireRecentAuth(p, now, roleChange(RoleNone, in.Role)); err != nil {
			return nil, err
		}
	}
	var out []Invited
	err := s.store.Update(ctx, func(tx Tx) error {
		out = out[:0]
		for _, in := range invites {
			inv, err := s.inviteToProject(ctx, tx, p, now, in)
			if err != nil {
				return err
			}
			out = append(out, inv)
		}
		return nil
	})
	return out, err
}

func (s *Members) inviteToProject(ctx context.Context, tx Tx, p Principal, now time.Time, in ProjectInvite) (Invited, error) {
	a, err := authorizeProject(ctx, tx, p, in.ProjectID, OpMemberInvite)
	if err != nil {
		return Invited{}, err
	}
	acct, status, err := s.resolveAccount(ctx, tx, p, in.Email, now, a.Project.OrganizationID, in.ProjectID)
	if err != nil {
		return Invited{}, err
	}
	m := Membership{OrganizationID: a.Project.OrganizationID, ProjectID: in.ProjectID, Account: acct.Account, Role: in.Role,
		Status: status, CreateTime: now, AccountEmail: acct.Email, AccountDisplayName: acct.DisplayName}
	if err := tx.CreateMembership(ctx, &m); err != nil {
		if ErrorCode(err) == ECONFLICT {
			msg := in.Email + " is already a member of this project."
			return Invited{}, &Error{Code: ECONFLICT, Message: msg, Fields: map[string]string{"email": msg}}
		}
		return Invited{}, err
	}
	e := auditEntry(p, now, ActionMembershipCreate, "membership", acct.Account.ID, in.Email)
	e.OrganizationID, e.ProjectID, e.Detail = a.Project.OrganizationID, in.ProjectID, RoleDisplayName(in.Role)+", "+string(status)
	if err := tx.AddAudit(ctx, e); err != nil {
		return Invited{}, err
	}
	out := Invited{Membership: m}
	if status == StatusPending && acct.Account.Type == AccountUser {
		out.InviteURL, err = s.invite(ctx, tx, p, now, m)
	}
	return out, err
}

// ProjectMember returns one member of a project.
func (s *Members) ProjectMember(ctx context.Context, p Principal, projectID, memberID string) (Membership, error) {
	_, m, err := s.projectMember(ctx, s.store, p, projectID, memberID, OpMemberRead)
	return m, err
}

// projectMember authorizes op on a project's members and loads one of them.
func (s *Members) projectMember(ctx context.Context, r interface {
	AccessReader
	MembershipReader
}, p Principal, projectID, memberID string, op Operation) (Access, Membership, error) {
	a, err := authorizeProject(ctx, r, p, projectID, op)
	if err != nil {
		return a, Membership{}, err
	}
	ref, err := ParseMemberID(memberID)
	if err != nil {
		return a, Membership{}, err
	}
	m, err := r.ProjectMembership(ctx, projectID, ref)
	if ErrorCode(err) == ENOTFOUND {
		return a, m, ErrNotFound("Member")
	}
	return a, m, err
}

// SetProjectMemberRole changes a member's role.
// The result has the viewer's access to the project (as the change was
// authorized), so the member's row is shown again without reading it twice.
func (s *Members) SetProjectMemberRole(ctx context.Context, p Principal, projectID, memberID string, role Role) (ProjectMemberView, error) {
	a, m, err := s.projectMember(ctx, s.store, p, projectID, memberID, OpMemberUpdate)
	if err != nil {
		return ProjectMemberView{Membership: m}, err
	}
	if !ValidProjectRole(role) {
		return ProjectMemberView{}, FieldError("role", "Choose Project user, Project developer or Project admin.")
	}
	if m.Role == role {
		return ProjectMemberView{Access: a, Membership: m}, nil
	}
	now := s.now()
	if err := requireRecentAuth(p, now, roleChange(m.Role, role)); err != nil {
		return ProjectMemberView{}, err
	}
	err = s.store.Update(ctx, func(tx Tx) error {
		if err := tx.SetMembershipRole(ctx, m, role); err != nil {
			return err
		}
		e := auditEntry(p, now, ActionMembershipUpdate, "membership", m.Account.ID, m.AccountEmail)
		e.OrganizationID, e.ProjectID = a.Project.OrganizationID, projectID
		e.Detail = RoleDisplayName(m.Role) + " → " + RoleDisplayName(role)
		return tx.AddAudit(ctx, e)
	})
	m.Role = role
	return ProjectMemberView{Access: a, Membership: m}, err
}

// ProjectMemberView is a project member with the viewer's access to the project.
type ProjectMemberView struct {
	Access     Access
	Membership Membership
}

// RemoveProjectMember removes a membership; the account itself stays.
func (s *Members) RemoveProjectMember(ctx context.Context, p Principal, projectID, memberID string) error {
	return s.RemoveProjectMembers(ctx, p, []ProjectMemberRef{{ProjectID: projectID, MemberID: memberID}})
}

// ProjectMemberRef names one project membership.
type ProjectMemberRef struct {
	ProjectID string
	MemberID  string
}

// RemoveProjectMembers removes several memberships in one transaction: if
// one is refused or missing, none is removed. Naming one twice is once.
func (s *Members) RemoveProjectMembers(ctx context.Context, p Principal, refs []ProjectMemberRef) error {
	if err := checkBatchSize("names", len(refs)); err != nil {
		return err
	}
	now := s.now()
	seen := map[ProjectMemberRef]bool{}
	return s.store.Update(ctx, func(tx Tx) error {
		for _, r := range refs {
			if seen[r] {
				continue
			}
			seen[r] = true
			a, m, err := s.projectMember(ctx, tx, p, r.ProjectID, r.MemberID, OpMemberRemove)
			if err != nil {
				return err
			}
			// Its invitation, if any, goes with it (ON DELETE CASCADE).
			if err := tx.DeleteMembership(ctx, m); err != nil {
				return err
			}
			e := auditEntry(p, now, ActionMembershipDelete, "membership", m.Account.ID, m.AccountEmail)
			e.OrganizationID, e.ProjectID, e.Detail = a.Project.OrganizationID, r.ProjectID, RoleDisplayName(m.Role)
			if err := tx.AddAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// ProjectInviteURL issues a new shareable link for a pending user
// membership, which ends the previous one, and queues a new invitation
// email. Whoever holds a link may accept that one membership (and, for an
// account without a password, set its password), so only those who may add
// members may issue one; the contract's membership.read would let a project
// user take over a pending admin.
func (s *Members) ProjectInviteURL(ctx context.Context, p Principal, projectID, memberID string) (string, error) {
	return s.reissue(ctx, p, func(tx Tx) (Membership, error) {
		_, m, err := s.projectMember(ctx, tx, p, projectID, memberID, OpMemberInvite)
		return m, err
	})
}
