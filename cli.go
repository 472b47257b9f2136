package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"studio/db/sqlite"
	"studio/domain"
)

// serviceAccountCommand runs `studio serviceaccount create`: it makes a
// service account with one key and a role, and prints the credentials file
// of api-v2.md on stdout (and nothing else there). It works beside a
// running server: SQLite's WAL and busy timeout share the file.
func serviceAccountCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: studio serviceaccount create --project PROJECT --name NAME [--org ORG] [--org-admin | --project-role ROLE] [--expires-in DURATION]")
	}
	var cfg config
	var in domain.BootstrapAccountInput
	var role string
	fsf := flag.NewFlagSet("studio serviceaccount create", flag.ContinueOnError)
	fsf.SetOutput(stderr)
	addStoreFlags(fsf, &cfg, envWithDefaults(getenv))
	fsf.StringVar(&in.Organization, "org", "", "organization id or name (may be left out when there is only one)")
	fsf.StringVar(&in.Project, "project", "", "owning project id or name (required)")
	fsf.StringVar(&in.Name, "name", "", "display name of the service account (required)")
	fsf.BoolVar(&in.OrgAdmin, "org-admin", false, "make the account organization admin")
	fsf.StringVar(&role, "project-role", "", "role in the owning project: user, developer or admin")
	var expiresIn string
	fsf.StringVar(&expiresIn, "expires-in", "", "the key's lifetime, such as 90d or 36h; default: the organization's default key lifetime (within its maximum)")
	if err := fsf.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fsf.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fsf.Arg(0))
	}
	cfg.finish()
	if expiresIn != "" {
		d, err := domain.ParseLifetime(expiresIn)
		if err != nil {
			return fmt.Errorf("--expires-in: %v", err)
		}
		in.ExpiresIn = d
	}
	if role != "" {
		r := domain.Role("roles/project." + strings.TrimPrefix(strings.TrimPrefix(role, "roles/"), "project."))
		if !domain.ValidProjectRole(r) {
			return fmt.Errorf("--project-role %q: use user, developer or admin", role)
		}
		in.ProjectRole = r
	}
	services, closeStore, err := openServices(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeStore()
	sa, k, secret, err := services.ServiceAccounts.BootstrapAccount(ctx, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "created service account %s (%s) in project %s\n", sa.DisplayName, sa.Email, sa.ProjectID)
	if !k.ExpireTime.IsZero() {
		fmt.Fprintf(stderr, "its key %s expires at %s\n", k.ID, k.ExpireTime.Format(time.RFC3339))
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(credentialsFile{ServiceAccount: credentials{
		KeyID: k.ID, Secret: secret, Email: sa.Email, Algorithm: "HS256", TokenEndpoint: cfg.baseURL + "/oauth2/token",
	}})
}

// credentialsFile is the file of api-v2.md that the official clients read.
type credentialsFile struct {
	ServiceAccount credentials `json:"serviceAccount"`
}

type credentials struct {
	KeyID         string `json:"keyId"`
	Secret        string `json:"secret"`
	Email         string `json:"email"`
	Algorithm     string `json:"algorithm"`
	TokenEndpoint string `json:"tokenEndpoint"`
}

// backupCommand runs `studio backup DEST`: a consistent online copy of the
// database, checked, while the server may be running.
func backupCommand(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	var cfg config
	fsf := flag.NewFlagSet("studio backup", flag.ContinueOnError)
	fsf.SetOutput(stderr)
	fsf.Usage = func() {
		fmt.Fprintln(stderr, "Usage: studio backup [--db FILE] DEST\n\nCopies the database to DEST (a new file) while the server runs, and checks the copy.")
		fsf.PrintDefaults()
	}
	addStoreFlags(fsf, &cfg, envWithDefaults(getenv))
	if err := fsf.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fsf.NArg() != 1 {
		fsf.Usage()
		return errors.New("give the backup file to write")
	}
	cfg.finish()
	store, err := sqlite.Open(ctx, cfg.dbPath)
	if err != nil {
		return err
	}
	defer store.Close()
	// The backup is of use only with the key that belongs to it: a missing
	// or wrong key file is said now, not on the day of the restore.
	if _, err := serverKey(ctx, store, cfg.keyFile, cfg.dbPath, false); err != nil {
		return err
	}
	dest := fsf.Arg(0)
	if err := store.Backup(ctx, dest); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "backup written to %s and checked.\nKeep the server key (%s) with it, apart from the backup: key secrets cannot be read without it.\n", dest, cfg.keyFile)
	return nil
}
