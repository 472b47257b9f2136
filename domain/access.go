package domain

import (
	"context"
	"strconv"
)

// ProjectAccessRow is one project of an organization with an account's role in it.
type ProjectAccessRow struct {
	Project Project
	Role    Role // RoleNone: no access
	Status  MembershipStatus
}

// AccountAccessView is an account's access in one organization.
type AccountAccessView struct {
	Organization Organization
	Account      AccountSummary
	OrgAdmin     bool
	Projects     Page[ProjectAccessRow]
}

// MaxAccessChanges bounds how many projects one save may change.
const MaxAccessChanges = 1000

// AccountAccess shows an organization admin every project of the
// organization (a page at a time) with the account's role in each.
func (s *Members) AccountAccess(ctx context.Context, p Principal, orgID, memberID string, req PageRequest) (AccountAccessView, error) {
	org, err := requireOrgAdmin(ctx, s.store, p, orgID)
	if err != nil {
		return AccountAccessView{}, err
	}
	acct, err := s.orgAccount(ctx, orgID, memberID)
	if err != nil {
		return AccountAccessView{}, err
	}
	v := AccountAccessView{Organization: org, Account: acct}
	if v.OrgAdmin, err = s.store.IsOrgAdmin(ctx, acct.Account, orgID); err != nil {
		return v, err
	}
	size, after, err := normalizePage(req)
	if err != nil {
		return v, err
	}
	projects, err := s.store.ListProjects(ctx, ProjectFilter{OrganizationID: orgID}, after, size+1)
	if err != nil {
		return v, err
	}
	ms, err := s.store.AccountProjectMemberships(ctx, orgID, acct.Account)
	if err != nil {
		return v, err
	}
	byProject := map[string]Membership{}
	for _, m := range ms {
		byProject[m.ProjectID] = m
	}
	rows := make([]ProjectAccessRow, len(projects))
	for i, pr := range projects {
		rows[i] = ProjectAccessRow{Project: pr, Role: byProject[pr.ID].Role, Status: byProject[pr.ID].Status}
	}
	v.Projects = pageOf(rows, size, func(r ProjectAccessRow) Cursor { return ProjectCursor(r.Project) })
	return v, nil
}

// orgAccount finds the account a member id names, if it holds some
// membership in the organization: an organization admin must not be able
// to look up accounts of other organizations by guessing ids.
func (s *Members) orgAccount(ctx context.Context, orgID, memberID string) (AccountSummary, error) {
	acct, err := s.accountSummary(ctx, memberID)
	if err != nil {
		return acct, err
	}
	if _, err := s.store.OrgMembership(ctx, orgID, acct.Account); err == nil {
		return acct, nil
	} else if ErrorCode(err) != ENOTFOUND {
		return acct, err
	}
	ms, err := s.store.AccountProjectMemberships(ctx, orgID, acct.Account)
	if err != nil {
		return acct, err
	}
	if len(ms) == 0 {
		return AccountSummary{}, ErrNotFound("Member")
	}
	return acct, nil
}

// accountSummary finds the account a member id names.
func (s *Members) accountSummary(ctx context.Context, memberID string) (AccountSummary, error) {
	ref, err := ParseMemberID(memberID)
	if err != nil {
		return AccountSummary{}, err
	}
	if ref.Type == AccountServiceAccount {
		sa, err := s.store.ServiceAccountByID(ctx, ref.ID)
		if err != nil {
			return AccountSummary{}, ErrNotFound("Member")
		}
		return AccountSummary{Account: ref, Email: sa.Email, DisplayName: sa.DisplayName, ProjectID: sa.ProjectID}, nil
	}
	id, _ := strconv.ParseInt(ref.ID, 10, 64)
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return AccountSummary{}, ErrNotFound("Member")
	}
	return AccountSummary{Account: ref, Email: u.Email, DisplayName: u.DisplayName}, nil
}

// SetAccountAccess changes an account's role in several projects of an
// organization at once, in one transaction; RoleNone removes access.
// Projects not in changes keep their role.
func (s *Members) SetAccountAccess(ctx context.Context, p Principal, orgID, memberID string, changes map[string]Role) (int, error) {
	if _, err := requireOrgAdmin(ctx, s.store, p, orgID); err != nil {
		return 0, err
	}
	acct, err := s.orgAccount(ctx, orgID, memberID)
	if err != nil {
		return 0, err
	}
	if len(changes) > MaxAccessChanges {
		return 0, Errorf(EINVALID, "Change at most %d projects at once.", MaxAccessChanges)
	}
	for projectID, role := range changes {
		if role != RoleNone && !ValidProjectRole(role) {
			return 0, FieldError("role-"+projectID, "Choose No access, Project user, Project developer or Project admin.")
		}
	}
	now := s.now()
	changed := 0
	err = s.store.Update(ctx, func(tx Tx) error {
		for projectID, role := range changes {
			proj, err := tx.ProjectByID(ctx, projectID)
			if err != nil || proj.OrganizationID != orgID {
				return Errorf(EINVALID, "A project in the list is not part of this organization (any more). Reload the page.")
			}
			m, err := tx.ProjectMembership(ctx, projectID, acct.Account)
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
				continue
			case !exists:
				status := StatusAccepted
				if acct.Account.Type == AccountUser {
					u, err := tx.UserByID(ctx, mustInt(acct.Account.ID))
					if err != nil {
						return err
					}
					if u.Pending() {
						status = StatusPending
					}
				}
				m = Membership{OrganizationID: orgID, ProjectID: projectID, Account: acct.Account, Role: role, Status: status, CreateTime: now}
				err, action = tx.CreateMembership(ctx, &m), ActionMembershipCreate
			case role == RoleNone:
				err, action = tx.DeleteMembership(ctx, m), ActionMembershipDelete
			default:
				err, action = tx.SetMembershipRole(ctx, m, role), ActionMembershipUpdate
			}
			if err != nil {
				return err
			}
			e := auditEntry(p, now, action, "membership", acct.Account.ID, acct.Email)
			e.OrganizationID, e.ProjectID = orgID, projectID
			e.Detail = RoleDisplayName(m.Role) + " → " + RoleDisplayName(role)
			if action == ActionMembershipCreate {
				e.Detail = RoleDisplayName(role)
			}
			if err := tx.AddAudit(ctx, e); err != nil {
				return err
			}
			changed++
		}
		return nil
	})
	return changed, err
}

func mustInt(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// Invitation returns the pending user an invite token is for. An unknown,
// used or expired token is not found.
func (s *Members) Invitation(ctx context.Context, token string) (User, error) {
	if len(token) != 64 {
		return User{}, errBadInvite
	}
	inv, err := s.store.InvitationByHash(ctx, HashToken(token))
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return User{}, errBadInvite
		}
		return User{}, err
	}
	if !s.now().Before(inv.ExpireTime) {
		return User{}, Errorf(ENOTFOUND, "This invite link has expired. Ask the person who invited you for a new one.")
	}
	u, err := s.store.UserByID(ctx, inv.UserID)
	if err != nil {
		return User{}, errBadInvite
	}
	if !u.Pending() {
		return User{}, Errorf(ENOTFOUND, "This invitation was already accepted. Sign in with your email and password.")
	}
	if u.Locked {
		return User{}, Errorf(EFORBIDDEN, "This account is locked. Contact your support team.")
	}
	return u, nil
}

var errBadInvite = Errorf(ENOTFOUND, "This invite link is not valid: it may have been used already. Ask the person who invited you for a new one.")

// AcceptInvitation sets the invited user's name and password, makes every
// pending membership of the user accepted, and ends every link of the user.
func (s *Members) AcceptInvitation(ctx context.Context, token, name, password, confirm, remoteAddr string) (User, error) {
	u, err := s.Invitation(ctx, token)
	if err != nil {
		return User{}, err
	}
	if name, err = CleanDisplayName("name", name); err != nil {
		return User{}, err
	}
	if err := CheckNewPassword("password", password, u.Email); err != nil {
		return User{}, err
	}
	if password != confirm {
		return User{}, FieldError("confirm", "The two passwords do not match.")
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return User{}, err
	}
	now := s.now()
	err = s.store.Update(ctx, func(tx Tx) error {
		// Checked again inside the transaction: a link works once.
		inv, err := tx.InvitationByHash(ctx, HashToken(token))
		if err != nil || inv.UserID != u.ID {
			return errBadInvite
		}
		if err := tx.SetUserName(ctx, u.ID, name); err != nil {
			return err
		}
		if err := tx.SetPassword(ctx, u.ID, hash, now); err != nil {
			return err
		}
		// Accepting signs the user in.
		if err := tx.SetLastSignIn(ctx, u.ID, now); err != nil {
			return err
		}
		n, err := tx.AcceptMemberships(ctx, u.ID)
		if err != nil {
			return err
		}
		if err := tx.DeleteInvitations(ctx, u.ID); err != nil {
			return err
		}
		actor := Principal{Account: userRef(u.ID), UserID: u.ID, Email: u.Email, RemoteAddr: remoteAddr}
		e := auditEntry(actor, now, ActionInvitationAccept, "user", strconv.FormatInt(u.ID, 10), u.Email)
		e.Detail = strconv.Itoa(n) + " membership(s) accepted"
		return tx.AddAudit(ctx, e)
	})
	if err != nil {
		return User{}, err
	}
	u.DisplayName, u.PasswordHash = name, hash
	return u, nil
}

// MemberProjectMemberships lists an account's memberships in every project
// of an organization, for its admins.
func (s *Members) MemberProjectMemberships(ctx context.Context, p Principal, orgID, memberID string) ([]Membership, error) {
	if _, err := requireOrgAdmin(ctx, s.store, p, orgID); err != nil {
		return nil, err
	}
	acct, err := s.orgAccount(ctx, orgID, memberID)
	if err != nil {
		return nil, err
	}
	return s.store.AccountProjectMemberships(ctx, orgID, acct.Account)
}
