// Command studio is the Studio console: one binary serving the web console
// (and, later, the REST API) over an embedded SQLite database.
package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"studio/db"
	"studio/domain"
	"studio/handlers"
	"studio/handlers/api"
	"studio/web"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "studio:", err)
		os.Exit(1)
	}
}

// config is every setting, from flags with environment variables as defaults.
type config struct {
	addr          string
	dbPath        string
	baseURL       string
	cookieSecure  bool
	keyFile       string
	saEmailDomain string
	adminEmail    string
	adminPassword string
	demo          bool
	inviteTTL     time.Duration
	rateLimit     int
	rateWindow    time.Duration
	// tokenRateLimit is how many token exchanges one address may make in
	// each rate window, across all keys (0: twice rateLimit).
	tokenRateLimit int
	// trustedProxies are the reverse proxies whose X-Forwarded-For is believed.
	trustedProxies []*net.IPNet
	smtp           smtpConfig
}

// envLookup reads an environment variable with a default.
type envLookup func(name, def string) string

func envWithDefaults(getenv func(string) string) envLookup {
	return func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
}

// addStoreFlags adds the settings every command that opens the database needs.
func addStoreFlags(fsf *flag.FlagSet, cfg *config, env envLookup) {
	fsf.StringVar(&cfg.dbPath, "db", env("STUDIO_DB", "./studio.db"), "SQLite database file, created when missing (STUDIO_DB)")
	fsf.StringVar(&cfg.keyFile, "key-file", env("STUDIO_KEY_FILE", ""), "server key file, created with mode 0600 when missing; default studio.key beside the database (STUDIO_KEY_FILE)")
	fsf.StringVar(&cfg.baseURL, "base-url", env("STUDIO_BASE_URL", ""), "public URL of the console, used in links and as token audience; default http://localhost:<port> (STUDIO_BASE_URL)")
	fsf.StringVar(&cfg.saEmailDomain, "sa-email-domain", env("STUDIO_SA_EMAIL_DOMAIN", "d21s.com"), "domain of service account emails (STUDIO_SA_EMAIL_DOMAIN)")
}

// finish fills the defaults that depend on other settings.
func (cfg *config) finish() {
	if cfg.keyFile == "" {
		cfg.keyFile = filepath.Join(filepath.Dir(cfg.dbPath), "studio.key")
	}
	if cfg.baseURL == "" {
		port := "8080"
		if _, p, err := net.SplitHostPort(cfg.addr); err == nil && p != "" {
			port = p
		}
		cfg.baseURL = "http://localhost:" + port
	}
	cfg.baseURL = strings.TrimRight(cfg.baseURL, "/")
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	env := envWithDefaults(getenv)
	var cfg config
	fsf := flag.NewFlagSet("studio", flag.ContinueOnError)
	fsf.SetOutput(stderr)
	fsf.Usage = func() {
		fmt.Fprintln(stderr, `Usage: studio [flags]
       studio serviceaccount create --project PROJECT --name NAME [--org ORG] [--org-admin | --project-role ROLE] [--expires-in DURATION]
       studio backup [--db FILE] DEST
       studio seed [--orgs N] [--projects N] [--accounts N] [--members N] [--keys N]

Serves the Studio console and API. Every flag can also be set by the environment variable shown.

Flags:`)
		fsf.PrintDefaults()
		fmt.Fprintln(stderr, `
Environment only (read on the first start, when the database is empty):
  STUDIO_ADMIN_EMAIL     email of the first administrator (default admin@example.com)
  STUDIO_ADMIN_PASSWORD  password of the first administrator; when empty, one is
                         generated and printed once to the terminal
  STUDIO_SMTP_USER, STUDIO_SMTP_PASSWORD  SMTP credentials, when the server needs them`)
	}
	fsf.StringVar(&cfg.addr, "addr", env("STUDIO_ADDR", ":8080"), "listen address (STUDIO_ADDR)")
	addStoreFlags(fsf, &cfg, env)
	secureDefault, err := parseBool(env("STUDIO_COOKIE_SECURE", "false"))
	if err != nil {
		return cfg, fmt.Errorf("STUDIO_COOKIE_SECURE: %w", err)
	}
	fsf.BoolVar(&cfg.cookieSecure, "cookie-secure", secureDefault, "mark cookies Secure; set when served over HTTPS (STUDIO_COOKIE_SECURE)")
	fsf.BoolVar(&cfg.demo, "demo", false, "add a demo organization with projects and users on start")
	ttlDefault, err := time.ParseDuration(env("STUDIO_INVITE_TTL", "168h"))
	if err != nil || ttlDefault <= 0 {
		return cfg, fmt.Errorf("STUDIO_INVITE_TTL: %q is not a duration such as 168h", getenv("STUDIO_INVITE_TTL"))
	}
	fsf.DurationVar(&cfg.inviteTTL, "invite-ttl", ttlDefault, "how long invite links work (STUDIO_INVITE_TTL)")
	limitDefault, err := strconv.Atoi(env("STUDIO_RATE_LIMIT", "25"))
	if err != nil || limitDefault < 1 {
		return cfg, fmt.Errorf("STUDIO_RATE_LIMIT: %q is not a positive whole number", getenv("STUDIO_RATE_LIMIT"))
	}
	fsf.IntVar(&cfg.rateLimit, "rate-limit", limitDefault, "API requests allowed per account in each rate window (STUDIO_RATE_LIMIT)")
	windowDefault, err := time.ParseDuration(env("STUDIO_RATE_WINDOW", "5s"))
	if err != nil || windowDefault <= 0 {
		return cfg, fmt.Errorf("STUDIO_RATE_WINDOW: %q is not a duration such as 5s", getenv("STUDIO_RATE_WINDOW"))
	}
	fsf.DurationVar(&cfg.rateWindow, "rate-window", windowDefault, "the API rate limit's window (STUDIO_RATE_WINDOW)")
	tokenLimitDefault, err := strconv.Atoi(env("STUDIO_TOKEN_RATE_LIMIT", "0"))
	if err != nil || tokenLimitDefault < 0 {
		return cfg, fmt.Errorf("STUDIO_TOKEN_RATE_LIMIT: %q is not a whole number", getenv("STUDIO_TOKEN_RATE_LIMIT"))
	}
	fsf.IntVar(&cfg.tokenRateLimit, "token-rate-limit", tokenLimitDefault, "token exchanges allowed per client address in each rate window, across all keys; 0 for twice --rate-limit (STUDIO_TOKEN_RATE_LIMIT)")
	trustedDefault := env("STUDIO_TRUSTED_PROXIES", "")
	fsf.Func("trusted-proxies", "comma-separated CIDR ranges of reverse proxies whose X-Forwarded-For gives the client address; empty trusts none (STUDIO_TRUSTED_PROXIES)", func(s string) error {
		nets, err := web.ParseTrustedProxies(s)
		cfg.trustedProxies = nets
		return err
	})
	if cfg.trustedProxies, err = web.ParseTrustedProxies(trustedDefault); err != nil {
		return cfg, fmt.Errorf("STUDIO_TRUSTED_PROXIES: %w", err)
	}
	fsf.StringVar(&cfg.smtp.Addr, "smtp-addr", env("STUDIO_SMTP_ADDR", ""), "SMTP server (host:port) for invitation emails; empty sends none, and the outbox table keeps only their recipients, never a link (STUDIO_SMTP_ADDR)")
	fsf.StringVar(&cfg.smtp.From, "smtp-from", env("STUDIO_SMTP_FROM", "studio@localhost"), "sender address of emails (STUDIO_SMTP_FROM)")
	cfg.smtp.User = getenv("STUDIO_SMTP_USER")
	cfg.smtp.Password = getenv("STUDIO_SMTP_PASSWORD")
	cfg.adminEmail = env("STUDIO_ADMIN_EMAIL", "admin@example.com")
	cfg.adminPassword = getenv("STUDIO_ADMIN_PASSWORD")
	if err := fsf.Parse(args); err != nil {
		return cfg, err
	}
	if fsf.NArg() > 0 && fsf.Arg(0) != "serve" {
		return cfg, fmt.Errorf("unknown command %q (run studio --help)", fsf.Arg(0))
	}
	cfg.finish()
	return cfg, nil
}

func parseBool(s string) (bool, error) {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("%q is not true or false", s)
	}
	return b, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "serviceaccount":
			return serviceAccountCommand(ctx, args[1:], getenv, stdout, stderr)
		case "backup":
			return backupCommand(ctx, args[1:], getenv, stderr)
		case "seed":
			return seedCommand(ctx, args[1:], getenv, stderr)
		}
	}
	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	return serve(ctx, cfg, logger, stderr)
}

func serve(ctx context.Context, cfg config, logger *slog.Logger, terminal io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	key, err := loadOrCreateKey(cfg.keyFile)
	if err != nil {
		return err
	}
	store, err := db.Open(ctx, cfg.dbPath)
	if err != nil {
		return err
	}
	defer store.Close()

	now := func() time.Time { return time.Now().UTC() }
	hasher := domain.NewHasher(runtime.NumCPU())
	accounts := domain.NewAccounts(store, hasher, now)
	projects := domain.NewProjects(store, now)

	boot, err := accounts.Bootstrap(ctx, domain.BootstrapInput{AdminEmail: cfg.adminEmail, AdminPassword: cfg.adminPassword, OrgName: "My Organization"})
	if err != nil {
		return fmt.Errorf("first start: %w", err)
	}
	if boot.Created {
		logger.Info("first start: created organization and administrator", "organization", boot.Organization.DisplayName, "admin", boot.Admin.Email)
		if boot.GeneratedPassword != "" {
			// Printed once to the terminal, never logged.
			fmt.Fprintf(terminal, "\n  Sign in at %s as %s with password: %s\n  (shown once; change it under Change password)\n\n",
				cfg.baseURL, boot.Admin.Email, boot.GeneratedPassword)
		}
	}
	if cfg.demo {
		pw, err := accounts.SeedDemo(ctx, cfg.adminEmail, cfg.saEmailDomain)
		if err != nil {
			return err
		}
		if pw != "" {
			fmt.Fprintf(terminal, "\n  Demo organization %q added. Its users (", domain.DemoOrganizationName)
			for i, u := range domain.DemoUsers {
				if i > 0 {
					fmt.Fprint(terminal, ", ")
				}
				fmt.Fprint(terminal, u.Email)
			}
			fmt.Fprintf(terminal, ") sign in with password: %s\n\n", pw)
		}
	}

	sealer, err := domain.NewSealer(deriveKey(key, "key secrets"))
	if err != nil {
		return err
	}
	serviceAccounts := domain.NewServiceAccounts(store, sealer, now, cfg.saEmailDomain)
	members := domain.NewMembers(store, hasher, now, cfg.baseURL, cfg.inviteTTL)
	h := handlers.New(handlers.Config{
		Accounts:        accounts,
		Projects:        projects,
		Audit:           domain.NewAuditLog(store),
		ServiceAccounts: serviceAccounts,
		Members:         members,
		Support:         domain.NewSupport(store, now),
		Hygiene:         domain.NewHygiene(store, store, now),
		BaseURL:         cfg.baseURL,
		Sessions:        store,
		Health:          store.Ping,
		SessionKey:      deriveKey(key, "session cookie"),
		FlashKey:        deriveKey(key, "flash cookie"),
		BrowserKey:      deriveKey(key, "known browser cookie"),
		CookieSecure:    cfg.cookieSecure,
		Now:             now,
	})
	a := api.New(api.Config{
		Auth:            domain.NewAPIAuth(store, sealer, now, cfg.baseURL+"/oauth2/token"),
		Projects:        projects,
		Members:         members,
		ServiceAccounts: serviceAccounts,
		RateLimit:       cfg.rateLimit,
		RateWindow:      cfg.rateWindow,
		TokenRateLimit:  cfg.tokenRateLimit,
		BaseURL:         cfg.baseURL,
		Now:             now,
		Logger:          handlers.Logger,
	})
	e := web.New(web.Config{Logger: logger, CookieSecure: cfg.cookieSecure, TrustedProxies: cfg.trustedProxies}, h, a)
	srv := &http.Server{
		Addr:              cfg.addr,
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	logger.Info("studio listening", "addr", ln.Addr().String(), "url", cfg.baseURL, "db", cfg.dbPath,
		"trusted_proxies", fmt.Sprint(cfg.trustedProxies))

	go cleanSessions(ctx, store, logger)
	if cfg.smtp.Addr != "" {
		go sendOutbox(ctx, members, cfg.smtp, 10*time.Second, logger)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// cleanSessions deletes expired session rows and access tokens every hour.
func cleanSessions(ctx context.Context, store *db.DB, logger *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		now := time.Now()
		if n, err := store.DeleteExpiredSessions(ctx, now.Add(-handlers.IdleTimeout), now.Add(-handlers.AbsoluteTimeout)); err != nil {
			if ctx.Err() == nil {
				logger.Error("cleaning sessions", "err", err)
			}
		} else if n > 0 {
			logger.Info("cleaned expired sessions", "count", n)
		}
		if _, err := store.DeleteExpiredTokens(ctx, now); err != nil && ctx.Err() == nil {
			logger.Error("cleaning access tokens", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// loadOrCreateKey reads the 32-byte server key (hex) from path, creating
// it with mode 0600 when missing.
func loadOrCreateKey(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create server key file: %w", err)
		}
		if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
			f.Close()
			return nil, err
		}
		return key, f.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("read server key file: %w", err)
	}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("server key file %s is readable by others (mode %o): run chmod 600 %s", path, info.Mode().Perm(), path)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("server key file %s must hold 64 hex characters", path)
	}
	return key, nil
}

// deriveKey makes an independent key for one purpose from the server key.
func deriveKey(master []byte, purpose string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("studio " + purpose))
	return m.Sum(nil)
}
