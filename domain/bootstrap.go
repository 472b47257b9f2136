package domain

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// CommandLine is the principal of changes made with the studio command on
// the server's own machine: whoever can run it holds the database file.
var CommandLine = Principal{Account: AccountRef{Type: AccountUser, ID: "cli"}, Email: "command line", RemoteAddr: "local"}

// BootstrapAccountInput says what `studio serviceaccount create` makes.
type BootstrapAccountInput struct {
	Organization string // id or display name; "" when there is only one
	Project      string // id or display name
	Name         string
	OrgAdmin     bool
	ProjectRole  Role // RoleNone for none
	// ExpiresIn is the key's lifetime; zero takes the organization's
	// default. It must be within the organization's maximum.
	ExpiresIn time.Duration
}

// BootstrapAccount creates a service account with one key and the role
// asked for, in one transaction, for automation that has no browser yet.
// It returns the account, the key and its secret.
func (s *ServiceAccounts) BootstrapAccount(ctx context.Context, in BootstrapAccountInput) (ServiceAccount, Key, string, error) {
	name, err := CleanDisplayName("name", in.Name)
	if err != nil {
		return ServiceAccount{}, Key{}, "", fmt.Errorf("--name: %s", ErrorMessage(err))
	}
	if in.ProjectRole != RoleNone && !ValidProjectRole(in.ProjectRole) {
		return ServiceAccount{}, Key{}, "", fmt.Errorf("--project-role must be user, developer or admin")
	}
	if in.OrgAdmin && in.ProjectRole != RoleNone {
		return ServiceAccount{}, Key{}, "", fmt.Errorf("give either --org-admin or --project-role, not both")
	}
	org, err := s.findOrganization(ctx, in.Organization)
	if err != nil {
		return ServiceAccount{}, Key{}, "", err
	}
	proj, err := s.findProject(ctx, org, in.Project)
	if err != nil {
		return ServiceAccount{}, Key{}, "", err
	}
	now := s.now()
	sa := ServiceAccount{ID: NewID(now), ProjectID: proj.ID, DisplayName: name, CreateTime: now, UpdateTime: now}
	sa.Email = ServiceAccountEmail(sa.ID, proj.ID, s.emailDomain)
	k, secret := s.newKey(now, sa.ID)
	pol, err := keyPolicyOf(ctx, s.store, org.ID)
	if err != nil {
		return ServiceAccount{}, Key{}, "", err
	}
	var opts KeyOptions
	if in.ExpiresIn > 0 {
		opts.ExpireTime = now.Add(in.ExpiresIn)
	}
	if k.ExpireTime, err = pol.Expiry(now, opts); err != nil {
		return ServiceAccount{}, Key{}, "", fmt.Errorf("--expires-in: %s", ErrorMessage(err))
	}
	access := Access{Project: proj}
	err = s.store.Update(ctx, func(tx Tx) error {
		if err := tx.CreateServiceAccount(ctx, sa); err != nil {
			return err
		}
		if err := tx.AddAudit(ctx, s.audit(CommandLine, access, now, ActionServiceAccountCreate, sa, "")); err != nil {
			return err
		}
		if err := tx.CreateKey(ctx, k); err != nil {
			return err
		}
		e := s.keyAudit(CommandLine, access, now, ActionKeyCreate, sa, k, "key "+k.ID+expiryDetail(k.ExpireTime))
		if err := tx.AddAudit(ctx, e); err != nil {
			return err
		}
		var m Membership
		switch {
		case in.OrgAdmin:
			m = Membership{OrganizationID: org.ID, Account: sa.Ref(), Role: RoleOrgAdmin, Status: StatusAccepted, CreateTime: now}
		case in.ProjectRole != RoleNone:
			m = Membership{OrganizationID: org.ID, ProjectID: proj.ID, Account: sa.Ref(), Role: in.ProjectRole, Status: StatusAccepted, CreateTime: now}
		default:
			return nil
		}
		if err := tx.CreateMembership(ctx, &m); err != nil {
			return err
		}
		e = auditEntry(CommandLine, now, ActionMembershipCreate, "membership", sa.ID, sa.Email)
		e.OrganizationID, e.ProjectID, e.Detail = org.ID, m.ProjectID, RoleDisplayName(m.Role)
		return tx.AddAudit(ctx, e)
	})
	if err != nil {
		return ServiceAccount{}, Key{}, "", err
	}
	return sa, k, secret, nil
}

// findOrganization finds an organization by id or display name; with no
// name given, the only organization.
func (s *ServiceAccounts) findOrganization(ctx context.Context, ref string) (Organization, error) {
	if ValidID(ref) {
		if o, err := s.store.OrganizationByID(ctx, ref); err == nil {
			return o, nil
		}
	}
	var matches, all []Organization
	after := Cursor{}
	for {
		page, err := s.store.ListOrganizations(ctx, AccountRef{}, after, 500)
		if err != nil {
			return Organization{}, err
		}
		for _, o := range page {
			all = append(all, o)
			if strings.EqualFold(o.DisplayName, strings.TrimSpace(ref)) {
				matches = append(matches, o)
			}
		}
		if len(page) < 500 {
			break
		}
		last := page[len(page)-1]
		after = Cursor{Key: strings.ToLower(last.DisplayName), ID: last.ID}
	}
	switch {
	case ref == "" && len(all) == 1:
		return all[0], nil
	case ref == "":
		return Organization{}, fmt.Errorf("there are %d organizations: name one with --org (id or name)", len(all))
	case len(matches) == 1:
		return matches[0], nil
	case len(matches) == 0:
		return Organization{}, fmt.Errorf("no organization has the id or name %q", ref)
	}
	return Organization{}, fmt.Errorf("%d organizations are named %q: give its id (%s)", len(matches), ref, ids(matches, func(o Organization) string { return o.ID }))
}

func (s *ServiceAccounts) findProject(ctx context.Context, org Organization, ref string) (Project, error) {
	if ref == "" {
		return Project{}, fmt.Errorf("name the project with --project (id or name)")
	}
	if ValidID(ref) {
		if p, err := s.store.ProjectByID(ctx, ref); err == nil && p.OrganizationID == org.ID {
			return p, nil
		}
	}
	var matches []Project
	after := Cursor{}
	for {
		page, err := s.store.ListProjects(ctx, ProjectFilter{OrganizationID: org.ID, Query: strings.TrimSpace(ref)}, after, 500)
		if err != nil {
			return Project{}, err
		}
		for _, p := range page {
			if strings.EqualFold(p.DisplayName, strings.TrimSpace(ref)) {
				matches = append(matches, p)
			}
		}
		if len(page) < 500 {
			break
		}
		after = ProjectCursor(page[len(page)-1])
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return Project{}, fmt.Errorf("organization %q has no project with the id or name %q", org.DisplayName, ref)
	}
	return Project{}, fmt.Errorf("%d projects are named %q: give its id (%s)", len(matches), ref, ids(matches, func(p Project) string { return p.ID }))
}

func ids[T any](items []T, id func(T) string) string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	return strings.Join(out, ", ")
}
