package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"studio/db/sqlite"
	"studio/domain"
)

// seedBatch is how many rows one write transaction of the seeder holds.
const seedBatch = 20_000

// seedCommand runs `studio seed`: it fills a database through the same store
// code the server uses, in large transactions, for benchmarks and demos.
func seedCommand(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	var cfg config
	var orgs, projects, accounts, members, keys int
	fsf := flag.NewFlagSet("studio seed", flag.ContinueOnError)
	fsf.SetOutput(stderr)
	addStoreFlags(fsf, &cfg, envWithDefaults(getenv))
	fsf.IntVar(&orgs, "orgs", 1, "organizations to add")
	fsf.IntVar(&projects, "projects", 10, "projects per organization (besides its inventory project)")
	fsf.IntVar(&accounts, "accounts", 1000, "service accounts per project")
	fsf.IntVar(&members, "members", 1000, "memberships per project (given to its service accounts, roles in turn)")
	fsf.IntVar(&keys, "keys", 0, "keys per service account")
	if err := fsf.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	switch {
	case orgs < 1 || projects < 1 || accounts < 0 || members < 0 || keys < 0:
		return errors.New("--orgs and --projects must be at least 1; counts cannot be negative")
	case members > accounts:
		return errors.New("--members cannot exceed --accounts: memberships go to the project's own accounts")
	case keys > domain.MaxKeysPerAccount:
		return fmt.Errorf("--keys can be at most %d", domain.MaxKeysPerAccount)
	}
	cfg.finish()
	services, closeStore, err := openServices(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeStore()
	boot, err := services.Accounts.Bootstrap(ctx, domain.BootstrapInput{AdminEmail: envWithDefaults(getenv)("STUDIO_ADMIN_EMAIL", "admin@example.com"),
		AdminPassword: getenv("STUDIO_ADMIN_PASSWORD"), OrgName: "My Organization"})
	if err != nil {
		return err
	}
	if boot.GeneratedPassword != "" {
		fmt.Fprintf(stderr, "administrator %s, password: %s\n", boot.Admin.Email, boot.GeneratedPassword)
	}
	admin, err := services.Store.UserByEmail(ctx, envWithDefaults(getenv)("STUDIO_ADMIN_EMAIL", "admin@example.com"))
	if err != nil {
		return fmt.Errorf("the administrator to make organization admin of the seeded organizations: %w", err)
	}
	s := seeder{store: services.Store, sealer: services.Sealer, domain: cfg.saEmailDomain, admin: domain.AccountRef{Type: domain.AccountUser, ID: fmt.Sprint(admin.ID)}}
	start := time.Now()
	for o := 0; o < orgs; o++ {
		if err := s.org(ctx, fmt.Sprintf("Seeded %03d", o), projects, accounts, members, keys); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "organization %d of %d: %d accounts, %d memberships so far (%s)\n",
			o+1, orgs, s.accounts, s.members, time.Since(start).Round(time.Second))
	}
	fmt.Fprintf(stderr, "seeded %d organizations, %d projects, %d service accounts, %d memberships, %d keys in %s\n",
		orgs, orgs*projects, s.accounts, s.members, s.keys, time.Since(start).Round(time.Millisecond))
	return nil
}

type seeder struct {
	store                   *sqlite.DB
	sealer                  *domain.Sealer
	domain                  string
	admin                   domain.AccountRef
	accounts, members, keys int
}

// pending collects rows and writes them in one transaction per batch.
type pending struct {
	accounts []domain.ServiceAccount
	keys     []domain.Key
	members  []domain.Membership
}

func (p *pending) size() int { return len(p.accounts) + len(p.keys) + len(p.members) }

func (s *seeder) flush(ctx context.Context, p *pending) error {
	err := s.store.Update(ctx, func(tx domain.Tx) error {
		for _, sa := range p.accounts {
			if err := tx.CreateServiceAccount(ctx, sa); err != nil {
				return err
			}
		}
		for _, k := range p.keys {
			if err := tx.CreateKey(ctx, k); err != nil {
				return err
			}
		}
		for i := range p.members {
			if err := tx.CreateMembership(ctx, &p.members[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.accounts += len(p.accounts)
	s.keys += len(p.keys)
	s.members += len(p.members)
	*p = pending{}
	return nil
}

func (s *seeder) org(ctx context.Context, name string, projects, accounts, members, keys int) error {
	now := time.Now().UTC()
	org := domain.Organization{ID: domain.NewID(now), DisplayName: name, CreateTime: now}
	inv := domain.Project{ID: domain.NewID(now), OrganizationID: org.ID, DisplayName: domain.InventoryProjectName, Inventory: true, CreateTime: now, UpdateTime: now}
	err := s.store.Update(ctx, func(tx domain.Tx) error {
		if err := tx.CreateOrganization(ctx, org); err != nil {
			return err
		}
		if err := tx.CreateProject(ctx, inv); err != nil {
			return err
		}
		m := domain.Membership{OrganizationID: org.ID, Account: s.admin, Role: domain.RoleOrgAdmin, Status: domain.StatusAccepted, CreateTime: now}
		return tx.CreateMembership(ctx, &m)
	})
	if err != nil {
		return err
	}
	roles := domain.ProjectRoles
	var batch pending
	for pi := 0; pi < projects; pi++ {
		proj := domain.Project{ID: domain.NewID(now), OrganizationID: org.ID, DisplayName: fmt.Sprintf("Project %04d", pi), CreateTime: now, UpdateTime: now}
		if err := s.store.Update(ctx, func(tx domain.Tx) error { return tx.CreateProject(ctx, proj) }); err != nil {
			return err
		}
		for ai := 0; ai < accounts; ai++ {
			sa := domain.ServiceAccount{ID: domain.NewID(now), ProjectID: proj.ID, DisplayName: fmt.Sprintf("Account %07d", ai), CreateTime: now, UpdateTime: now}
			sa.Email = domain.ServiceAccountEmail(sa.ID, proj.ID, s.domain)
			batch.accounts = append(batch.accounts, sa)
			for ki := 0; ki < keys; ki++ {
				k := domain.Key{ID: domain.NewID(now), ServiceAccountID: sa.ID, CreateTime: now}
				k.Sealed = s.sealer.Seal([]byte(domain.NewKeySecret()), []byte(k.ID))
				batch.keys = append(batch.keys, k)
			}
			if ai < members {
				batch.members = append(batch.members, domain.Membership{OrganizationID: org.ID, ProjectID: proj.ID, Account: sa.Ref(),
					Role: roles[ai%len(roles)], Status: domain.StatusAccepted, CreateTime: now})
			}
			if batch.size() >= seedBatch {
				if err := s.flush(ctx, &batch); err != nil {
					return err
				}
			}
		}
	}
	return s.flush(ctx, &batch)
}
