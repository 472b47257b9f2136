package domain

import (
	"context"
	"fmt"
)

// Creating organizations (issue 16). Support staff are the instance's
// operators: they make an organization, with its inventory project, and
// invite its first organization admin by email. The command line does the
// same as System. Neither the console's organization admins nor the API
// can: an organization is the unit that the operators give out.

// NewOrganization is an organization to create and the email of the person
// who becomes its first organization admin.
type NewOrganization struct {
	Name       string
	AdminEmail string
}

// OrganizationCreated is what CreateOrganization made. Admin.InviteURL is
// set when the first admin has to accept (an account without a password,
// or whose email is not verified); the invitation email is queued too.
type OrganizationCreated struct {
	Organization Organization
	Inventory    Project
	Admin        Invited
}

// CreateOrganization makes an organization with its inventory project, and
// the person with in.AdminEmail its first organization admin: at once for
// a user whose email is verified, else through an invitation bound to that
// membership. Only support staff may (or System, for the command line);
// the first admin must be a person. Every change is in the new
// organization's audit log, marked as a support action.
func (s *Members) CreateOrganization(ctx context.Context, p Principal, in NewOrganization) (OrganizationCreated, error) {
	if p.Account != System.Account {
		if err := requireStaff(p); err != nil {
			return OrganizationCreated{}, err
		}
	}
	name, err := CleanDisplayName("name", in.Name)
	if err != nil {
		return OrganizationCreated{}, err
	}
	email, err := CleanEmail("adminEmail", in.AdminEmail)
	if err != nil {
		return OrganizationCreated{}, err
	}
	now := s.now()
	// Making someone organization admin is as sensitive here as anywhere.
	if err := requireRecentAuth(p, now, GrantOrgAdmin); err != nil {
		return OrganizationCreated{}, err
	}
	var out OrganizationCreated
	err = s.store.Update(ctx, func(tx Tx) error {
		org := Organization{ID: NewID(now), DisplayName: name, CreateTime: now}
		inv := Project{ID: NewID(now), OrganizationID: org.ID, OrganizationDisplayName: name,
			DisplayName: InventoryProjectName, Inventory: true, CreateTime: now, UpdateTime: now}
		if err := tx.CreateOrganization(ctx, org); err != nil {
			return err
		}
		if err := tx.CreateProject(ctx, inv); err != nil {
			return err
		}
		acct, status, err := s.resolveAccount(ctx, tx, p, email, now, org.ID, "")
		if err != nil {
			return err
		}
		if acct.Account.Type != AccountUser {
			return FieldError("adminEmail", fmt.Sprintf("%s is a service account: an organization's first admin must be a person.", email))
		}
		m := Membership{OrganizationID: org.ID, Account: acct.Account, Role: RoleOrgAdmin, Status: status, CreateTime: now,
			AccountEmail: acct.Email, AccountDisplayName: acct.DisplayName}
		if err := tx.CreateMembership(ctx, &m); err != nil {
			return err
		}
		entries := []AuditEntry{
			auditEntry(p, now, ActionOrganizationCreate, "organization", org.ID, org.DisplayName),
			auditEntry(p, now, ActionProjectCreate, "project", inv.ID, inv.DisplayName),
			auditEntry(p, now, ActionMembershipCreate, "membership", acct.Account.ID, acct.Email),
		}
		entries[1].ProjectID = inv.ID
		entries[2].Detail = RoleDisplayName(RoleOrgAdmin) + ", " + string(status) + " (first admin)"
		for _, e := range entries {
			e.OrganizationID = org.ID
			if p.Account == System.Account {
				err = tx.AddAudit(ctx, e)
			} else {
				// The staff member holds no role in a new organization:
				// addSupportEntry marks each entry as support's.
				err = addSupportEntry(ctx, tx, p, e, "")
			}
			if err != nil {
				return err
			}
		}
		out = OrganizationCreated{Organization: org, Inventory: inv, Admin: Invited{Membership: m}}
		if status == StatusPending {
			out.Admin.InviteURL, err = s.invite(ctx, tx, p, now, m)
		}
		return err
	})
	return out, err
}

// CanCreateOrganization tells whether p may create organizations (before
// showing the form): support staff only.
func (s *Members) CanCreateOrganization(p Principal) error { return requireStaff(p) }
