package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// keyEnv is a database made by the seed command (so it holds sealed key
// secrets) and its key file.
type keyEnv struct {
	t               *testing.T
	dir, db, key    string
	env             func(string) string
	originalKeyFile []byte
}

func newKeyEnv(t *testing.T) *keyEnv {
	t.Helper()
	dir := t.TempDir()
	e := &keyEnv{t: t, dir: dir, db: filepath.Join(dir, "studio.db"), key: filepath.Join(dir, "studio.key"),
		env: envFrom(map[string]string{"STUDIO_ADMIN_PASSWORD": "correct horse battery"})}
	// A fresh database: the command makes the key, 0600, and records its check value.
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"seed", "--db", e.db, "--orgs", "1", "--projects", "1", "--accounts", "2", "--members", "0", "--keys", "1"},
		e.env, io.Discard, &stderr); err != nil {
		t.Fatalf("seed: %v\n%s", err, stderr.String())
	}
	info, err := os.Stat(e.key)
	if err != nil {
		t.Fatalf("no key file made for the fresh database: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %o, want 600", info.Mode().Perm())
	}
	if e.originalKeyFile, err = os.ReadFile(e.key); err != nil {
		t.Fatal(err)
	}
	if check := e.keyCheck(); check == "" {
		t.Fatal("no key check value recorded for the fresh database")
	}
	return e
}

// sql runs a statement on a connection of its own.
func (e *keyEnv) sql(query string, args ...any) *sql.DB {
	e.t.Helper()
	raw, err := sql.Open("sqlite", "file:"+(&url.URL{Path: e.db}).EscapedPath()+"?_pragma=busy_timeout(5000)")
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { raw.Close() })
	if query != "" {
		if _, err := raw.Exec(query, args...); err != nil {
			e.t.Fatal(err)
		}
	}
	return raw
}

func (e *keyEnv) keyCheck() string {
	e.t.Helper()
	var check string
	if err := e.sql("").QueryRow("SELECT key_check FROM server_meta").Scan(&check); err != nil {
		e.t.Fatal(err)
	}
	return check
}

func (e *keyEnv) keys() int {
	e.t.Helper()
	var n int
	if err := e.sql("").QueryRow("SELECT count(*) FROM keys").Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// commands runs every command that needs the key (the server included)
// and returns each one's error.
func (e *keyEnv) commands() map[string]error {
	e.t.Helper()
	ctx := context.Background()
	out := map[string]error{}
	out["serviceaccount create"] = run(ctx, []string{"serviceaccount", "create", "--db", e.db, "--org", "My Organization",
		"--project", "Inventory", "--name", "Robot"}, e.env, io.Discard, io.Discard)
	out["seed"] = run(ctx, []string{"seed", "--db", e.db, "--orgs", "1", "--projects", "1", "--accounts", "1", "--members", "0", "--keys", "1"},
		e.env, io.Discard, io.Discard)
	out["backup"] = run(ctx, []string{"backup", "--db", e.db, filepath.Join(e.dir, "backup-"+strings.ReplaceAll(e.t.Name(), "/", "-")+".db")},
		e.env, io.Discard, io.Discard)
	cfg, err := parseConfig([]string{"--addr", "127.0.0.1:0", "--db", e.db}, e.env, io.Discard)
	if err != nil {
		e.t.Fatal(err)
	}
	// Refused before it listens: serve returns at once.
	out["server"] = serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	return out
}

func (e *keyEnv) wantRefused(what string, refusals map[string]error, says ...string) {
	e.t.Helper()
	for cmd, err := range refusals {
		if err == nil {
			e.t.Errorf("%s: %s was not refused", what, cmd)
			continue
		}
		for _, s := range says {
			if !strings.Contains(err.Error(), s) {
				e.t.Errorf("%s: %s refused with %q, which does not say %q", what, cmd, err, s)
			}
		}
	}
}

// Issue 20 item 1, issue 11 item 4: a missing studio.key beside a database
// holding sealed secrets is refused by the server and every command, with
// where the right key is expected; no new key file is written and nothing
// is sealed with another key.
func TestMissingServerKeyIsRefused(t *testing.T) {
	e := newKeyEnv(t)
	keys := e.keys()
	if err := os.Rename(e.key, e.key+".aside"); err != nil {
		t.Fatal(err)
	}
	e.wantRefused("key file missing", e.commands(), "server key file "+e.key+" is missing", e.db, "Put the key file that belongs to this database at "+e.key)
	if _, err := os.Stat(e.key); err == nil {
		t.Fatal("a new key file was written beside a database with sealed secrets")
	}
	if n := e.keys(); n != keys {
		t.Errorf("%d keys after the refusals, want %d", n, keys)
	}

	// The right key back: everything works again.
	if err := os.Rename(e.key+".aside", e.key); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"serviceaccount", "create", "--db", e.db, "--org", "My Organization", "--project", "Inventory", "--name", "Robot"},
		e.env, &stdout, io.Discard); err != nil || !strings.Contains(stdout.String(), `"secret"`) {
		t.Fatalf("serviceaccount create with the right key: %v %s", err, stdout.String())
	}
}

// A key file that belongs to another database is refused by the server
// and every command; the check value is unchanged.
func TestWrongServerKeyIsRefused(t *testing.T) {
	e := newKeyEnv(t)
	check, keys := e.keyCheck(), e.keys()
	other := filepath.Join(e.dir, "other.key")
	if _, err := createKeyFile(other); err != nil {
		t.Fatal(err)
	}
	otherKey, _ := os.ReadFile(other)
	if err := os.WriteFile(e.key, otherKey, 0o600); err != nil {
		t.Fatal(err)
	}
	e.wantRefused("wrong key file", e.commands(), "server key in "+e.key+" does not belong to the database "+e.db,
		"Put the key file that belongs to this database at "+e.key)
	if got := e.keyCheck(); got != check {
		t.Error("the refused commands changed the recorded check value")
	}
	if n := e.keys(); n != keys {
		t.Errorf("%d keys after the refusals, want %d", n, keys)
	}
}

// A database from before the check value (sealed secrets, no check): the
// right key is proved by opening a stored secret and its check recorded; a
// wrong key is refused and nothing recorded.
func TestServerKeyOfADatabaseWithoutCheckValue(t *testing.T) {
	e := newKeyEnv(t)
	check := e.keyCheck()
	e.sql("UPDATE server_meta SET key_check = ''")

	other := filepath.Join(e.dir, "other.key")
	if _, err := createKeyFile(other); err != nil {
		t.Fatal(err)
	}
	otherKey, _ := os.ReadFile(other)
	if err := os.WriteFile(e.key, otherKey, 0o600); err != nil {
		t.Fatal(err)
	}
	e.wantRefused("wrong key, no check value", map[string]error{"serviceaccount create": run(context.Background(),
		[]string{"serviceaccount", "create", "--db", e.db, "--org", "My Organization", "--project", "Inventory", "--name", "Robot"}, e.env, io.Discard, io.Discard)},
		"does not belong to the database")
	if got := e.keyCheck(); got != "" {
		t.Errorf("a wrong key's check value was recorded: %q", got)
	}

	if err := os.WriteFile(e.key, e.originalKeyFile, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"serviceaccount", "create", "--db", e.db, "--org", "My Organization", "--project", "Inventory", "--name", "Robot"},
		e.env, io.Discard, io.Discard); err != nil {
		t.Fatalf("the right key was refused: %v", err)
	}
	if got := e.keyCheck(); got != check {
		t.Errorf("check value recorded %q, want the key's %q", got, check)
	}
}

// A database without any sealed secret gets a new key when its file is
// missing: nothing would be lost.
func TestNewServerKeyOnlyWithoutSecrets(t *testing.T) {
	e := newKeyEnv(t)
	e.sql("DELETE FROM keys")
	if err := os.Remove(e.key); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"serviceaccount", "create", "--db", e.db, "--org", "My Organization", "--project", "Inventory", "--name", "Robot"},
		e.env, io.Discard, io.Discard); err != nil {
		t.Fatalf("serviceaccount create on a database without secrets: %v", err)
	}
	made, err := readKeyFile(e.key)
	if err != nil {
		t.Fatalf("no new key file: %v", err)
	}
	if got := e.keyCheck(); got != keyCheck(made) {
		t.Error("the new key's check value was not recorded")
	}
}

// Sign-in secrets (TOTP seeds, passkey records, identity providers' client
// secrets) are sealed with the server key too: a database holding any of
// them, and no key secret, still refuses a missing key file instead of
// making a new key that would open none of them.
func TestMissingServerKeyIsRefusedForSignInSecrets(t *testing.T) {
	for _, insert := range []string{
		"INSERT INTO totp_factors (user_id, secret_sealed, create_time) SELECT id, x'00', 1 FROM users LIMIT 1",
		"INSERT INTO passkeys (user_id, credential_id, name, record_sealed, create_time) SELECT id, x'01', 'Key', x'00', 1 FROM users LIMIT 1",
		"INSERT INTO sso_connections (organization_id, provider_name, issuer, client_id, client_secret_sealed, create_time, update_time) " +
			"SELECT id, 'P', 'https://idp.example', 'c', x'00', 1, 1 FROM organizations LIMIT 1",
	} {
		table := strings.Fields(insert)[2]
		t.Run(table, func(t *testing.T) {
			e := newKeyEnv(t)
			e.sql("DELETE FROM keys")
			e.sql(insert)
			if err := os.Remove(e.key); err != nil {
				t.Fatal(err)
			}
			err := run(context.Background(), []string{"serviceaccount", "create", "--db", e.db, "--org", "My Organization", "--project", "Inventory", "--name", "Robot"},
				e.env, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "is missing") {
				t.Fatalf("missing key beside %s: %v", table, err)
			}
			if _, err := os.Stat(e.key); err == nil {
				t.Fatal("a new key file was written")
			}
		})
	}
}
