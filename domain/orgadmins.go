package domain

import "context"

// Organization admins: who administers an organization.

// ListOrgAdmins lists an organization's admins; only its admins may.
func (s *Members) ListOrgAdmins(ctx context.Context, p Principal, orgID string, req PageRequest) (Organization, Page[Membership], error) {
	org, err := requireOrgAdmin(ctx, s.store, p, orgID)
	if err != nil {
		return org, Page[Membership]{}, err
	}
	listing := Listing("organizationMembers", orgID)
	size, after, err := normalizePage(req, listing)
	if err != nil {
		return org, Page[Membership]{}, err
	}
	afterID, err := cursorID(after)
	if err != nil {
		return org, Page[Membership]{}, err
	}
	items, err := s.store.ListOrgMembers(ctx, orgID, afterID, size+1)
	if err != nil {
		return org, Page[Membership]{}, err
	}
	return org, pageOf(items, size, listing, membershipCursor), nil
}

// InviteOrgAdmin makes the account with this email an organization admin.
func (s *Members) InviteOrgAdmin(ctx context.Context, p Principal, orgID, email string) (Invited, error) {
	_, err := requireOrgAdmin(ctx, s.store, p, orgID)
	if err != nil {
		return Invited{}, err
	}
	if email, err = CleanEmail("email", email); err != nil {
		return Invited{}, err
	}
	now := s.now()
	if err := requireRecentAuth(p, now, GrantOrgAdmin); err != nil {
		return Invited{}, err
	}
	var out Invited
	err = s.store.Update(ctx, func(tx Tx) error {
		acct, status, err := s.resolveAccount(ctx, tx, p, email, now, orgID, "")
		if err != nil {
			return err
		}
		m := Membership{OrganizationID: orgID, Account: acct.Account, Role: RoleOrgAdmin, Status: status, CreateTime: now,
			AccountEmail: acct.Email, AccountDisplayName: acct.DisplayName}
		if err := tx.CreateMembership(ctx, &m); err != nil {
			if ErrorCode(err) == ECONFLICT {
				return &Error{Code: ECONFLICT, Message: email + " is already an organization admin.",
					Fields: map[string]string{"email": email + " is already an organization admin."}}
			}
			return err
		}
		e := auditEntry(p, now, ActionMembershipCreate, "membership", acct.Account.ID, email)
		e.OrganizationID, e.Detail = orgID, RoleDisplayName(RoleOrgAdmin)+", "+string(status)
		if err := tx.AddAudit(ctx, e); err != nil {
			return err
		}
		out.Membership = m
		if status == StatusPending && acct.Account.Type == AccountUser {
			out.InviteURL, err = s.invite(ctx, tx, p, now, m)
		}
		return err
	})
	return out, err
}

// OrgMember returns one organization membership.
func (s *Members) OrgMember(ctx context.Context, p Principal, orgID, memberID string) (Membership, error) {
	if _, err := requireOrgAdmin(ctx, s.store, p, orgID); err != nil {
		return Membership{}, err
	}
	return s.orgMember(ctx, s.store, orgID, memberID)
}

func (s *Members) orgMember(ctx context.Context, r MembershipReader, orgID, memberID string) (Membership, error) {
	ref, err := ParseMemberID(memberID)
	if err != nil {
		return Membership{}, err
	}
	m, err := r.OrgMembership(ctx, orgID, ref)
	if ErrorCode(err) == ENOTFOUND {
		return m, ErrNotFound("Member")
	}
	return m, err
}

// RevokeOrgAdmin removes an organization admin. The last admin who is a
// person stays: without one, no one could manage the organization.
func (s *Members) RevokeOrgAdmin(ctx context.Context, p Principal, orgID, memberID string) error {
	if _, err := requireOrgAdmin(ctx, s.store, p, orgID); err != nil {
		return err
	}
	now := s.now()
	return s.store.Update(ctx, func(tx Tx) error {
		m, err := s.orgMember(ctx, tx, orgID, memberID)
		if err != nil {
			return err
		}
		if m.Account.Type == AccountUser && m.Status == StatusAccepted {
			n, err := tx.CountOrgUserAdmins(ctx, orgID)
			if err != nil {
				return err
			}
			if n <= 1 {
				return Errorf(EINVALID, "%s is the organization's last admin who is a person. Make someone else an organization admin first: without one, no one could manage the organization.", m.AccountEmail)
			}
		}
		if err := tx.DeleteMembership(ctx, m); err != nil {
			return err
		}
		e := auditEntry(p, now, ActionMembershipDelete, "membership", m.Account.ID, m.AccountEmail)
		e.OrganizationID, e.Detail = orgID, RoleDisplayName(RoleOrgAdmin)
		return tx.AddAudit(ctx, e)
	})
}

// OrgInviteURL issues a new shareable link for a pending organization
// admin, which ends the previous one, and queues a new invitation email.
func (s *Members) OrgInviteURL(ctx context.Context, p Principal, orgID, memberID string) (string, error) {
	return s.reissue(ctx, p, func(tx Tx) (Membership, error) {
		if _, err := requireOrgAdmin(ctx, tx, p, orgID); err != nil {
			return Membership{}, err
		}
		return s.orgMember(ctx, tx, orgID, memberID)
	})
}
