package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"studio/domain"
)

// orgCommand runs `studio org create --name NAME --admin-email EMAIL`: the
// command-line twin of the support console's "Create an organization". It
// makes the organization with its inventory project and its first
// organization admin, audited as the system. When that person has to
// accept, the invite link is the only line on stdout (the invitation email
// is queued for the server to send); the rest goes to stderr.
func orgCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const usage = "usage: studio org create --name NAME --admin-email EMAIL"
	if len(args) == 0 || args[0] != "create" {
		return errors.New(usage)
	}
	var cfg config
	var in domain.NewOrganization
	env := envWithDefaults(getenv)
	fsf := flag.NewFlagSet("studio org create", flag.ContinueOnError)
	fsf.SetOutput(stderr)
	addStoreFlags(fsf, &cfg, env)
	fsf.StringVar(&in.Name, "name", "", "the organization's name (required)")
	fsf.StringVar(&in.AdminEmail, "admin-email", "", "email of its first organization admin, a person (required)")
	ttl, err := time.ParseDuration(env("STUDIO_INVITE_TTL", "168h"))
	if err != nil || ttl <= 0 {
		return fmt.Errorf("STUDIO_INVITE_TTL: %q is not a duration such as 168h", getenv("STUDIO_INVITE_TTL"))
	}
	fsf.DurationVar(&cfg.inviteTTL, "invite-ttl", ttl, "how long the invite link works (STUDIO_INVITE_TTL)")
	if err := fsf.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fsf.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (%s)", fsf.Arg(0), usage)
	}
	if in.Name == "" || in.AdminEmail == "" {
		return errors.New(usage)
	}
	cfg.finish()
	services, closeStore, err := openServices(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeStore()
	created, err := services.Members.CreateOrganization(ctx, domain.System, in)
	if err != nil {
		return errors.New(domain.ErrorMessage(err))
	}
	fmt.Fprintf(stderr, "created organization %s (%s) with its inventory project %s\n",
		created.Organization.DisplayName, created.Organization.ID, created.Inventory.ID)
	m := created.Admin.Membership
	if created.Admin.InviteURL == "" {
		fmt.Fprintf(stderr, "%s is its organization admin\n", m.AccountEmail)
		return nil
	}
	fmt.Fprintf(stderr, "%s is invited as its organization admin: send them the link below (it works once, for %s); "+
		"an invitation email is queued too\n", m.AccountEmail, cfg.inviteTTL)
	fmt.Fprintln(stdout, created.Admin.InviteURL)
	return nil
}
