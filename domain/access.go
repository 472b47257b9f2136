package domain

import (
	"context"
	"strconv"
)

// An account's access across an organization's projects: one page of
// every project with its role in each, changed in one save.

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
	// OwnerProject is a service account's own project when it is one of
	// this organization's; nil for a user, or for a service account of
	// another organization (whose project is not named to this one).
	OwnerProject *Project
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
	if acct.Account.Type == AccountServiceAccount {
		own, err := s.store.ProjectByID(ctx, acct.ProjectID)
		if err != nil {
			return v, err
		}
		if own.OrganizationID == orgID {
			v.OwnerProject = &own
		}
	}
	listing := Listing("memberAccess", orgID, acct.Account.ID)
	size, after, err := normalizePage(req, listing)
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
	v.Projects = pageOf(rows, size, listing, func(r ProjectAccessRow) Cursor { return ProjectCursor(r.Project) })
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
					if status, err = newMembershipStatus(ctx, tx, u, orgID); err != nil {
						return err
					}
				}
				m = Membership{OrganizationID: orgID, ProjectID: projectID, Account: acct.Account, Role: role, Status: status,
					CreateTime: now, AccountEmail: acct.Email}
				err, action = tx.CreateMembership(ctx, &m), ActionMembershipCreate
				if err == nil && status == StatusPending {
					// The invitation email is the person's way in; the
					// shareable link can be issued from the members page.
					_, err = s.createInvitation(ctx, tx, p, now, m)
				}
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

// MemberProjectMemberships lists an account's memberships in every project
// of an organization, for its admins.
func (s *Members) MemberProjectMemberships(ctx context.Context, p Principal, orgID, memberID string) ([]Membership, error) {
	if _, err := requireOrgAdmin(ctx, s.store, p, orgID); err != nil {
		return nil, err
	}
	// An account that exists but holds nothing here has no memberships:
	// an empty list, not not-found (the Terraform provider reads an empty
	// list as "gone" and makes the membership again; a 404 stops it).
	acct, err := s.accountSummary(ctx, memberID)
	if err != nil {
		return nil, err
	}
	return s.store.AccountProjectMemberships(ctx, orgID, acct.Account)
}
