package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"studio/db/sqlite"
	"studio/domain"
)

// TestServiceAccountCommandRespectsKeyPolicy: `studio serviceaccount create`
// takes --expires-in, within the organization's maximum key lifetime, and
// otherwise gives the key the organization's default.
func TestServiceAccountCommandRespectsKeyPolicy(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "studio.db")
	store, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	boot, err := domain.NewAccounts(store, domain.NewHasher(1), time.Now).Bootstrap(ctx,
		domain.BootstrapInput{AdminEmail: "admin@example.com", AdminPassword: "correct horse battery", OrgName: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	pol := domain.KeyPolicy{DefaultLifetime: 30 * 24 * time.Hour, MaxLifetime: 90 * 24 * time.Hour, UpdateTime: time.Now()}
	if err := store.Update(ctx, func(tx domain.Tx) error { return tx.SetKeyPolicy(ctx, boot.Organization.ID, pol) }); err != nil {
		t.Fatal(err)
	}
	store.Close()

	create := func(extra ...string) (creds credentialsFile, stderrText string, err error) {
		var stdout, stderr bytes.Buffer
		args := append([]string{"serviceaccount", "create", "--db", dbPath, "--project", "inventory", "--name", "CI robot"}, extra...)
		err = run(ctx, args, envFrom(nil), &stdout, &stderr)
		if err == nil {
			if err := json.Unmarshal(stdout.Bytes(), &creds); err != nil {
				t.Fatalf("stdout is not the credentials file: %v\n%s", err, stdout.String())
			}
		} else if stdout.Len() != 0 {
			t.Fatalf("a refused command printed credentials: %s", stdout.String())
		}
		return creds, stderr.String(), err
	}
	expiry := func(keyID string) time.Time {
		s, err := sqlite.Open(ctx, dbPath)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		k, err := s.KeyByID(ctx, keyID)
		if err != nil {
			t.Fatal(err)
		}
		return k.ExpireTime
	}

	for _, bad := range []string{"400d", "91d"} {
		if _, _, err := create("--expires-in", bad); err == nil || !strings.Contains(err.Error(), "maximum key lifetime of 90 days") {
			t.Fatalf("--expires-in %s: %v, want a refusal naming the maximum", bad, err)
		}
	}
	if _, _, err := create("--expires-in", "soon"); err == nil || !strings.Contains(err.Error(), "--expires-in") {
		t.Fatalf("--expires-in soon: %v", err)
	}
	start := time.Now()
	creds, stderr, err := create("--expires-in", "7d")
	if err != nil {
		t.Fatalf("--expires-in 7d: %v", err)
	}
	if got := expiry(creds.ServiceAccount.KeyID); got.Before(start.Add(7*24*time.Hour-time.Second)) || got.After(time.Now().Add(7*24*time.Hour)) {
		t.Fatalf("key expires %s, want 7 days from now", got)
	}
	if !strings.Contains(stderr, "expires at") {
		t.Fatalf("stderr does not tell the expiry: %s", stderr)
	}
	creds, _, err = create()
	if err != nil {
		t.Fatal(err)
	}
	if got := expiry(creds.ServiceAccount.KeyID); got.Before(start.Add(30*24*time.Hour-time.Second)) || got.After(time.Now().Add(30*24*time.Hour)) {
		t.Fatalf("key without --expires-in expires %s, want the 30-day default", got)
	}
}
