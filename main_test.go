package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func envFrom(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigDefaultsFlagsAndEnvironment(t *testing.T) {
	cfg, err := parseConfig(nil, envFrom(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.addr != ":8080" || cfg.dbPath != "./studio.db" || cfg.keyFile != "studio.key" ||
		cfg.baseURL != "http://localhost:8080" || cfg.saEmailDomain != "d21s.com" || cfg.adminEmail != "admin@example.com" || cfg.cookieSecure {
		t.Fatalf("defaults = %+v", cfg)
	}
	env := envFrom(map[string]string{"STUDIO_ADDR": "127.0.0.1:9000", "STUDIO_DB": "/data/s.db", "STUDIO_COOKIE_SECURE": "true",
		"STUDIO_BASE_URL": "https://studio.example.com/", "STUDIO_SA_EMAIL_DOMAIN": "example.net", "STUDIO_ADMIN_EMAIL": "root@example.com"})
	cfg, err = parseConfig(nil, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.addr != "127.0.0.1:9000" || cfg.dbPath != "/data/s.db" || cfg.keyFile != "/data/studio.key" || !cfg.cookieSecure ||
		cfg.baseURL != "https://studio.example.com" || cfg.saEmailDomain != "example.net" || cfg.adminEmail != "root@example.com" {
		t.Fatalf("from environment = %+v", cfg)
	}
	// Flags win over the environment.
	cfg, err = parseConfig([]string{"--addr", ":7000", "--key-file", "/k"}, env, io.Discard)
	if err != nil || cfg.addr != ":7000" || cfg.keyFile != "/k" {
		t.Fatalf("flags: %+v %v", cfg, err)
	}
	if _, err := parseConfig(nil, envFrom(map[string]string{"STUDIO_COOKIE_SECURE": "maybe"}), io.Discard); err == nil {
		t.Fatal("a bad boolean was accepted")
	}
	if _, err := parseConfig([]string{"frobnicate"}, envFrom(nil), io.Discard); err == nil {
		t.Fatal("an unknown command was accepted")
	}
}

// --trusted-proxies: empty by default (X-Forwarded-For believed from no
// one), CIDR ranges or single addresses from the flag or the environment,
// and a clear refusal of anything else.
func TestTrustedProxiesSetting(t *testing.T) {
	cfg, err := parseConfig(nil, envFrom(nil), io.Discard)
	if err != nil || len(cfg.trustedProxies) != 0 {
		t.Fatalf("default: %v, %v; want none", cfg.trustedProxies, err)
	}
	env := envFrom(map[string]string{"STUDIO_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7,2001:db8::/32"})
	cfg, err = parseConfig(nil, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range cfg.trustedProxies {
		got = append(got, n.String())
	}
	if strings.Join(got, " ") != "10.0.0.0/8 192.0.2.7/32 2001:db8::/32" {
		t.Fatalf("from the environment: %v", got)
	}
	cfg, err = parseConfig([]string{"--trusted-proxies", "172.16.0.0/12"}, env, io.Discard)
	if err != nil || len(cfg.trustedProxies) != 1 || cfg.trustedProxies[0].String() != "172.16.0.0/12" {
		t.Fatalf("the flag wins: %v, %v", cfg.trustedProxies, err)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example.com", "10.0.0.0/8;"} {
		if _, err := parseConfig(nil, envFrom(map[string]string{"STUDIO_TRUSTED_PROXIES": bad}), io.Discard); err == nil ||
			!strings.Contains(err.Error(), "STUDIO_TRUSTED_PROXIES") {
			t.Errorf("STUDIO_TRUSTED_PROXIES=%q: %v, want a refusal naming the setting", bad, err)
		}
		if _, err := parseConfig([]string{"--trusted-proxies", bad}, envFrom(nil), io.Discard); err == nil ||
			!strings.Contains(err.Error(), "trusted-proxies") {
			t.Errorf("--trusted-proxies %q: %v, want a refusal naming the flag", bad, err)
		}
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, envFrom(nil), io.Discard, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"-addr", "STUDIO_ADDR", "-db", "STUDIO_DB", "-base-url", "-cookie-secure", "-key-file",
		"-sa-email-domain", "STUDIO_ADMIN_EMAIL", "STUDIO_ADMIN_PASSWORD", "-demo",
		"-trusted-proxies", "STUDIO_TRUSTED_PROXIES", "-token-rate-limit", "STUDIO_TOKEN_RATE_LIMIT"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help does not mention %s", want)
		}
	}
}

func TestServerKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "studio.key")
	key, err := createKeyFile(path)
	if err != nil || len(key) != 32 {
		t.Fatalf("create: %v, %d bytes", err, len(key))
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, want 0600", info.Mode().Perm())
	}
	again, err := readKeyFile(path)
	if err != nil || !bytes.Equal(again, key) {
		t.Fatal("the key changed on the second start")
	}
	if _, err := createKeyFile(path); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("an existing key file was not kept: %v", err)
	}
	if again, _ := readKeyFile(path); !bytes.Equal(again, key) {
		t.Fatal("the key file was overwritten")
	}
	os.Chmod(path, 0o644)
	if _, err := readKeyFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable key file was accepted: %v", err)
	}
}

// TestServeFirstStartAndGracefulShutdown starts the real server with its
// output going to pipes (as under a service manager): the generated
// password is in a file beside the database that only its owner can read,
// and neither in the logs (which name the file) nor on stdout; /healthz
// answers, and cancelling shuts the server down cleanly.
func TestServeFirstStartAndGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg, err := parseConfig([]string{"--addr", addr, "--db", filepath.Join(dir, "studio.db")}, envFrom(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var logs, terminal syncWriter
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(&logs, nil)), &terminal) }()

	var resp *http.Response
	for i := 0; i < 100; i++ {
		if resp, err = http.Get("http://" + addr + "/healthz"); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("server did not start: %v\n%s", err, logs.String())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz status %d", resp.StatusCode)
	}
	file := filepath.Join(dir, "studio.db.admin-password")
	info, err := os.Stat(file)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v, mode %v; want 0600", err, info)
	}
	content, _ := os.ReadFile(file)
	_, after, ok := strings.Cut(string(content), "with password: ")
	password := strings.Fields(after)
	if !ok || len(password) == 0 || len(password[0]) < 12 {
		t.Fatalf("no generated password in the file: %q", content)
	}
	if strings.Contains(logs.String(), password[0]) || strings.Contains(terminal.String(), password[0]) {
		t.Fatal("the generated password reached the logs or stdout")
	}
	if !strings.Contains(logs.String(), file) {
		t.Fatalf("the logs do not say where the password is: %s", logs.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "studio.key")); err != nil {
		t.Fatal("no key file beside the database")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not shut down")
	}
}

type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestTellSecret shows a generated password on a terminal as it is, and
// otherwise writes it to a new owner-only file (replacing a readable one
// left by an earlier first start) whose path alone is logged.
func TestTellSecret(t *testing.T) {
	var logs, out bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	path := filepath.Join(t.TempDir(), "studio.db.admin-password")
	if err := tellSecret(&out, true, logger, path, "The password", "Sign in with password: s3cret-s3cret\n"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Sign in with password: s3cret-s3cret") || logs.Len() != 0 {
		t.Fatalf("terminal: out %q, logs %q", out.String(), logs.String())
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("a file was written although stdout is a terminal")
	}

	out.Reset()
	if err := os.WriteFile(path, []byte("an old password"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := tellSecret(&out, false, logger, path, "The password", "Sign in with password: n3w-s3cret\n"); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v, %v; want 0600", info, err)
	}
	if content, _ := os.ReadFile(path); string(content) != "Sign in with password: n3w-s3cret\n" {
		t.Fatalf("file holds %q", content)
	}
	if out.Len() != 0 || strings.Contains(logs.String(), "n3w-s3cret") || !strings.Contains(logs.String(), path) {
		t.Fatalf("not a terminal: out %q, logs %q", out.String(), logs.String())
	}
}
