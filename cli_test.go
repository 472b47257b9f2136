package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"studio/db/sqlite"
	"studio/domain"
	"studio/internal/jwtbearer"
)

// startServer runs the real server on a free loopback port until the test ends.
func startServer(t *testing.T, dbPath string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg, err := parseConfig([]string{"--addr", addr, "--db", dbPath, "--base-url", "http://" + addr}, envFrom(map[string]string{"STUDIO_ADMIN_PASSWORD": "correct horse battery"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard) }()
	t.Cleanup(func() { cancel(); <-done })
	for i := 0; i < 100; i++ {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return "http://" + addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("server did not start")
	return ""
}

// TestServiceAccountCommandWhileServing creates an account from the command
// line beside a running server, then uses the printed credentials file
// against that server: token exchange, then a Bearer call.
func TestServiceAccountCommandWhileServing(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "studio.db")
	base := startServer(t, dbPath)
	var stdout, stderr bytes.Buffer
	args := []string{"serviceaccount", "create", "--db", dbPath, "--base-url", base, "--project", "inventory", "--name", "CI robot", "--project-role", "developer"}
	if err := run(context.Background(), args, envFrom(nil), &stdout, &stderr); err != nil {
		t.Fatalf("command failed: %v\n%s", err, stderr.String())
	}
	var creds credentialsFile
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&creds); err != nil {
		t.Fatalf("stdout is not the credentials file: %v", err)
	}
	if dec.More() {
		t.Fatal("stdout holds more than the credentials file")
	}
	c := creds.ServiceAccount
	if c.Algorithm != "HS256" || c.TokenEndpoint != base+"/oauth2/token" || len(c.Secret) != 32 || !strings.Contains(c.Email, ".serviceaccount.d21s.com") {
		t.Fatalf("credentials = %+v", c)
	}
	assertion := jwtbearer.Assertion(c.KeyID, c.Secret, c.Email, c.TokenEndpoint, time.Now())
	resp, err := http.PostForm(c.TokenEndpoint, url.Values{"grant_type": {jwtbearer.GrantType}, "assertion": {assertion}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("token exchange: status %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/v2/projects", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"inventory":true`) {
		t.Fatalf("GET /v2/projects as the new account: %d %s", resp.StatusCode, body)
	}
}

func TestServiceAccountCommandRefusesBadInput(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "studio.db")
	startServer(t, dbPath)
	for _, args := range [][]string{
		{"--project", "inventory"},
		{"--project", "no such project", "--name", "x"},
		{"--project", "inventory", "--name", "x", "--project-role", "owner"},
		{"--project", "inventory", "--name", "x", "--org", "Nope"},
		{"--project", "inventory", "--name", "x", "--org-admin", "--project-role", "admin"},
	} {
		var stdout bytes.Buffer
		full := append([]string{"serviceaccount", "create", "--db", dbPath}, args...)
		if err := run(context.Background(), full, envFrom(nil), &stdout, io.Discard); err == nil {
			t.Errorf("%v: accepted", args)
		} else if stdout.Len() != 0 {
			t.Errorf("%v: printed %q on stdout", args, stdout.String())
		}
	}
}

func TestBackupCommandWhileServing(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "studio.db")
	startServer(t, dbPath)
	dest := filepath.Join(dir, "copy.db")
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"backup", "--db", dbPath, dest}, envFrom(nil), io.Discard, &stderr); err != nil {
		t.Fatalf("backup: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "checked") || !strings.Contains(stderr.String(), "studio.key") {
		t.Fatalf("backup said %q", stderr.String())
	}
	if err := run(context.Background(), []string{"backup", "--db", dbPath, dest}, envFrom(nil), io.Discard, io.Discard); err == nil {
		t.Fatal("backup overwrote an existing file")
	}
	if err := run(context.Background(), []string{"backup", "--db", dbPath}, envFrom(nil), io.Discard, io.Discard); err == nil {
		t.Fatal("backup without a destination was accepted")
	}
}

func TestSeedCommand(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "studio.db")
	var stderr bytes.Buffer
	env := envFrom(map[string]string{"STUDIO_ADMIN_PASSWORD": "correct horse battery"})
	args := []string{"seed", "--db", dbPath, "--orgs", "2", "--projects", "3", "--accounts", "40", "--members", "25", "--keys", "1"}
	if err := run(context.Background(), args, env, io.Discard, &stderr); err != nil {
		t.Fatalf("seed: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "seeded 2 organizations, 6 projects, 240 service accounts, 150 memberships, 240 keys") {
		t.Fatalf("seed said %q", stderr.String())
	}
	store, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	orgs, _ := store.ListOrganizations(ctx, domain.AccountRef{}, domain.Cursor{}, 10)
	if len(orgs) != 3 {
		t.Fatalf("%d organizations, want the first one and 2 seeded", len(orgs))
	}
	projects, _ := store.ListProjects(ctx, domain.ProjectFilter{OrganizationID: orgs[1].ID, Query: "project 0001"}, domain.Cursor{}, 10)
	if len(projects) != 1 {
		t.Fatalf("seeded project not found: %v", projects)
	}
	sas, _ := store.ListServiceAccounts(ctx, domain.ServiceAccountFilter{ProjectID: projects[0].ID}, domain.Cursor{}, 100)
	if len(sas) != 40 || sas[0].KeyCount != 1 {
		t.Fatalf("%d accounts (first with %d keys), want 40 with 1 key", len(sas), sas[0].KeyCount)
	}
	members, _ := store.ListProjectMembers(ctx, projects[0].ID, "", 0, 100)
	if len(members) != 25 {
		t.Fatalf("%d members, want 25", len(members))
	}
	for _, bad := range [][]string{{"--members", "50", "--accounts", "10"}, {"--orgs", "0"}, {"--keys", "11"}} {
		if err := run(context.Background(), append([]string{"seed", "--db", dbPath}, bad...), env, io.Discard, io.Discard); err == nil {
			t.Errorf("seed %v accepted", bad)
		}
	}
}
