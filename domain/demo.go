package domain

import (
	"context"
	"fmt"
)

// DemoOrganizationName names the organization SeedDemo makes.
const DemoOrganizationName = "Demo Fleet"

// DemoUsers are the people SeedDemo makes, with their role in the first
// demo project, or Organization admin of the demo organization (so its
// admin pages can be seen from a customer's side, not only by the first
// administrator, who is support staff too).
var DemoUsers = []struct {
	Email, Name string
	Role        Role
}{
	{"alice@demo.example", "Alice Admin", RoleProjectAdmin},
	{"dev@demo.example", "Dave Developer", RoleProjectDev},
	{"viewer@demo.example", "Vera Viewer", RoleProjectUser},
	{"owner@demo.example", "Olivia Owner", RoleOrgAdmin},
}

// SeedDemo makes a second organization with a few projects and users so a
// newcomer can click around; admin becomes its organization admin. It
// returns the demo users' shared password, or "" when the demo data exists.
func (a *Accounts) SeedDemo(ctx context.Context, adminEmail, saEmailDomain string) (string, error) {
	if _, err := a.store.UserByEmail(ctx, DemoUsers[0].Email); err == nil {
		return "", nil
	}
	admin, err := a.store.UserByEmail(ctx, adminEmail)
	if err != nil {
		return "", fmt.Errorf("demo data: administrator %s: %w", adminEmail, err)
	}
	password := RandomPassword()
	hash, err := a.hasher.Hash(ctx, password)
	if err != nil {
		return "", err
	}
	now := a.now()
	err = a.store.Update(ctx, func(tx Tx) error {
		org, err := createOrganization(ctx, tx, System, now, DemoOrganizationName, userRef(admin.ID))
		if err != nil {
			return err
		}
		var projects []Project
		// Labels as a fleet would have them, so the list shows tags and filters.
		labels := map[string]map[string]string{
			"Cold chain":        {"env": "prod", "site": "Bergen"},
			"Office climate":    {"env": "prod", "site": "Oslo"},
			"Warehouse sensors": {"env": "test", "site": "Oslo", "pilot": ""},
		}
		for _, name := range []string{"Cold chain", "Office climate", "Warehouse sensors"} {
			p := Project{ID: NewID(now), OrganizationID: org.ID, OrganizationDisplayName: org.DisplayName,
				DisplayName: name, Labels: labels[name], CreateTime: now, UpdateTime: now}
			if err := tx.CreateProject(ctx, p); err != nil {
				return err
			}
			e := auditEntry(System, now, ActionProjectCreate, "project", p.ID, p.DisplayName)
			e.OrganizationID, e.ProjectID = org.ID, p.ID
			if err := tx.AddAudit(ctx, e); err != nil {
				return err
			}
			projects = append(projects, p)
		}
		for i, name := range []string{"Gateway uploader", "Reporting export"} {
			sa := ServiceAccount{ID: NewID(now), ProjectID: projects[2].ID, DisplayName: name, EnableBasicAuth: i == 0, CreateTime: now, UpdateTime: now}
			sa.Email = ServiceAccountEmail(sa.ID, sa.ProjectID, saEmailDomain)
			if err := tx.CreateServiceAccount(ctx, sa); err != nil {
				return err
			}
			m := Membership{OrganizationID: org.ID, ProjectID: sa.ProjectID, Account: sa.Ref(),
				Role: []Role{RoleProjectDev, RoleProjectUser}[i], Status: StatusAccepted, CreateTime: now}
			if err := tx.CreateMembership(ctx, &m); err != nil {
				return err
			}
			e := auditEntry(System, now, ActionServiceAccountCreate, "serviceaccount", sa.ID, sa.DisplayName)
			e.OrganizationID, e.ProjectID = org.ID, sa.ProjectID
			if err := tx.AddAudit(ctx, e); err != nil {
				return err
			}
		}
		for _, du := range DemoUsers {
			u := User{Email: du.Email, DisplayName: du.Name, PasswordHash: hash, CreateTime: now, PasswordChanged: now, EmailVerified: true}
			if err := tx.CreateUser(ctx, &u); err != nil {
				return err
			}
			m := Membership{OrganizationID: org.ID, ProjectID: projects[0].ID, Account: userRef(u.ID),
				Role: du.Role, Status: StatusAccepted, CreateTime: now}
			if du.Role == RoleOrgAdmin {
				m.ProjectID = ""
			}
			if err := tx.CreateMembership(ctx, &m); err != nil {
				return err
			}
			e := auditEntry(System, now, ActionMembershipCreate, "membership", fmt.Sprint(m.ID), u.Email)
			e.OrganizationID, e.ProjectID, e.Detail = org.ID, m.ProjectID, string(du.Role)
			if err := tx.AddAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return password, nil
}
