// Command studio is the Studio console: one binary serving the web console
// (and, later, the REST API) over an embedded SQLite database.
package main

import (
	"context"
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
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"studio/app"
	"studio/db/sqlite"
	"studio/domain"
	"studio/handlers"
	"studio/web"

	"golang.org/x/term"
)

func main() {
	ignoreFileSizeSignal()
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
	// skipIntegrityCheck skips PRAGMA quick_check at start (very large databases).
	skipIntegrityCheck bool
	shutdownTimeout    time.Duration
	// eventRetention is how long device events are kept.
	eventRetention time.Duration
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
                         generated and printed once to the terminal (or, when
                         stdout is not one, written to <db>.admin-password)
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
	skipDefault, err := parseBool(env("STUDIO_SKIP_INTEGRITY_CHECK", "false"))
	if err != nil {
		return cfg, fmt.Errorf("STUDIO_SKIP_INTEGRITY_CHECK: %w", err)
	}
	fsf.BoolVar(&cfg.skipIntegrityCheck, "skip-integrity-check", skipDefault,
		fmt.Sprintf("do not run PRAGMA quick_check on the database at start (it runs for at most %s; skip it on very large databases) (STUDIO_SKIP_INTEGRITY_CHECK)", integrityCheckLimit))
	shutdownDefault, err := time.ParseDuration(env("STUDIO_SHUTDOWN_TIMEOUT", "15s"))
	if err != nil || shutdownDefault <= 0 {
		return cfg, fmt.Errorf("STUDIO_SHUTDOWN_TIMEOUT: %q is not a duration such as 15s", getenv("STUDIO_SHUTDOWN_TIMEOUT"))
	}
	fsf.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", shutdownDefault, "how long a stop waits for requests in progress before closing their connections (STUDIO_SHUTDOWN_TIMEOUT)")
	retentionDefault, err := domain.ParseLifetime(env("STUDIO_EVENT_RETENTION", "31d"))
	if err != nil {
		return cfg, fmt.Errorf("STUDIO_EVENT_RETENTION: %q is not a duration such as 31d or 72h", getenv("STUDIO_EVENT_RETENTION"))
	}
	cfg.eventRetention = retentionDefault
	fsf.Func("event-retention", "how long device events are kept, such as 31d or 72h; older ones are deleted in the background (STUDIO_EVENT_RETENTION; default 31d)", func(s string) error {
		d, err := domain.ParseLifetime(s)
		if err != nil {
			return err
		}
		cfg.eventRetention = d
		return nil
	})
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
		case "org":
			return orgCommand(ctx, args[1:], getenv, stdout, stderr)
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
	return serve(ctx, cfg, logger, stdout)
}

// integrityCheckLimit bounds PRAGMA quick_check at start.
const integrityCheckLimit = 30 * time.Second

// Intervals of the background work.
const (
	cleanEvery  = 5 * time.Minute
	probeWrites = 10 * time.Second
)

// serve runs the server. Generated passwords go to stdout when it is a
// terminal, else to files beside the database (see tellSecret).
func serve(ctx context.Context, cfg config, logger *slog.Logger, stdout io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	opts := sqlite.Options{Logger: logger, IntegrityCheck: integrityCheckLimit}
	if cfg.skipIntegrityCheck {
		opts.IntegrityCheck = 0
	}
	store, err := sqlite.OpenWith(ctx, cfg.dbPath, opts)
	if err != nil {
		return err
	}
	closeStore := sync.OnceValue(store.Close)
	defer closeStore()
	services, err := newServices(ctx, store, cfg)
	if err != nil {
		return err
	}
	accounts := services.Accounts

	boot, err := accounts.Bootstrap(ctx, domain.BootstrapInput{AdminEmail: cfg.adminEmail, AdminPassword: cfg.adminPassword, OrgName: "My Organization"})
	if err != nil {
		return fmt.Errorf("first start: %w", err)
	}
	if boot.Created {
		logger.Info("first start: created organization and administrator", "organization", boot.Organization.DisplayName, "admin", boot.Admin.Email)
		if boot.GeneratedPassword != "" {
			text := fmt.Sprintf("Sign in at %s as %s with password: %s\n(shown once; change it under Change password)\n",
				cfg.baseURL, boot.Admin.Email, boot.GeneratedPassword)
			if err := tellSecret(stdout, isTerminal(stdout), logger, cfg.dbPath+".admin-password", "The first administrator's password", text); err != nil {
				return fmt.Errorf("first start: %w", err)
			}
		}
	}
	if cfg.demo {
		pw, err := accounts.SeedDemo(ctx, cfg.adminEmail, cfg.saEmailDomain)
		if err != nil {
			return err
		}
		if pw != "" {
			emails := make([]string, len(domain.DemoUsers))
			for i, u := range domain.DemoUsers {
				emails[i] = u.Email
			}
			text := fmt.Sprintf("Demo organization %q added. Its users (%s) sign in with password: %s\n",
				domain.DemoOrganizationName, strings.Join(emails, ", "), pw)
			if err := tellSecret(stdout, isTerminal(stdout), logger, cfg.dbPath+".demo-password", "The demo users' password", text); err != nil {
				return err
			}
		}
		n, err := services.DemoEmulator.Seed(ctx)
		if err != nil {
			return fmt.Errorf("demo devices: %w", err)
		}
		if n > 0 {
			logger.Info("demo: added emulated devices with a day of history", "devices", n)
		}
	}

	members := services.Members
	if err := services.PasskeysUnavailable; err != nil {
		logger.Warn("passkeys are off: "+domain.ErrorMessage(err), "base_url", cfg.baseURL)
	}
	e := services.Server(app.ServerConfig{Logger: logger, CookieSecure: cfg.cookieSecure, TrustedProxies: cfg.trustedProxies,
		RateLimit: cfg.rateLimit, RateWindow: cfg.rateWindow, TokenRateLimit: cfg.tokenRateLimit})
	var conns openConns
	srv := &http.Server{
		Addr:              cfg.addr,
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ConnState:         conns.track,
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	logger.Info("studio listening", "addr", ln.Addr().String(), "url", cfg.baseURL, "db", cfg.dbPath,
		"trusted_proxies", fmt.Sprint(cfg.trustedProxies))

	// Background work ends with ctx and is waited for before the database closes.
	var background sync.WaitGroup
	background.Go(func() { cleanExpired(ctx, store, cleanEvery, logger) })
	background.Go(func() { store.WatchWrites(ctx, probeWrites) })
	// Device events older than the retention go, in bounded batches.
	services.Pruner.OnError = func(err error) {
		if domain.ErrorCode(err) != domain.EUNAVAILABLE {
			logger.Error("pruning device events", "err", err)
		}
	}
	services.Pruner.OnPruned = func(n int) {
		logger.Info("pruned device events past the retention", "count", n, "retention", cfg.eventRetention)
	}
	background.Go(func() { services.Pruner.Run(ctx) })
	if cfg.demo {
		// The demo's virtual sensors publish every few seconds.
		services.DemoEmulator.OnError = func(err error) {
			if domain.ErrorCode(err) != domain.EUNAVAILABLE {
				logger.Error("demo emulator", "err", err)
			}
		}
		background.Go(func() { services.DemoEmulator.Run(ctx) })
	}
	if cfg.smtp.Addr != "" {
		background.Go(func() { sendOutbox(ctx, members, cfg.smtp, 10*time.Second, logger) })
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		stop()
		background.Wait()
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		// Out of time: the requests still running lose their connection.
		// Their writes go on (see sqlite.DB.Close), but their answers are lost.
		open := conns.count()
		srv.Close()
		logger.Warn(fmt.Sprintf("shutdown: %d connection(s) were still open after %s and were closed", open, cfg.shutdownTimeout),
			"open_connections", open, "shutdown_timeout", cfg.shutdownTimeout)
	}
	background.Wait()
	if err := closeStore(); err != nil {
		return fmt.Errorf("closing the database: %w", err)
	}
	logger.Info("stopped; every write finished")
	return nil
}

// openConns counts the server's open connections (http.Server.ConnState).
type openConns struct{ n atomic.Int64 }

func (o *openConns) track(_ net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		o.n.Add(1)
	case http.StateClosed, http.StateHijacked:
		o.n.Add(-1)
	}
}

func (o *openConns) count() int64 { return o.n.Load() }

// cleanExpired deletes expired sessions and access tokens now and then
// every interval, in batches (see sqlite.PurgeBatch), until ctx ends.
func cleanExpired(ctx context.Context, store *sqlite.DB, every time.Duration, logger *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		now := time.Now()
		n, err := store.DeleteExpiredSessions(ctx, now.Add(-handlers.IdleTimeout), now.Add(-handlers.AbsoluteTimeout))
		if n > 0 {
			logger.Info("cleaned expired sessions", "count", n)
		}
		if err != nil && ctx.Err() == nil && domain.ErrorCode(err) != domain.EUNAVAILABLE {
			logger.Error("cleaning sessions", "err", err)
		}
		n, err = store.DeleteExpiredTokens(ctx, now)
		if n > 0 {
			logger.Info("cleaned expired access tokens", "count", n)
		}
		if err != nil && ctx.Err() == nil && domain.ErrorCode(err) != domain.EUNAVAILABLE {
			logger.Error("cleaning access tokens", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// openServices opens the database of the command line's tools (beside a
// running server: SQLite's WAL and busy timeout share the file) and builds
// the services over it; close closes the database.
func openServices(ctx context.Context, cfg config) (services *app.Services, close func() error, err error) {
	store, err := sqlite.Open(ctx, cfg.dbPath)
	if err != nil {
		return nil, nil, err
	}
	if services, err = newServices(ctx, store, cfg); err != nil {
		store.Close()
		return nil, nil, err
	}
	return services, store.Close, nil
}

// newServices builds the services over store through the composition root
// (app), with the database's server key (made on the first start).
func newServices(ctx context.Context, store *sqlite.DB, cfg config) (*app.Services, error) {
	key, err := serverKey(ctx, store, cfg.keyFile, cfg.dbPath, true)
	if err != nil {
		return nil, err
	}
	return app.NewServices(store, app.Config{
		Keys:                      app.KeysFrom(key),
		Now:                       func() time.Time { return time.Now().UTC() },
		Hasher:                    domain.NewHasher(runtime.NumCPU()),
		BaseURL:                   cfg.baseURL,
		ServiceAccountEmailDomain: cfg.saEmailDomain,
		InviteTTL:                 cfg.inviteTTL,
		EventRetention:            cfg.eventRetention,
	})
}

// isTerminal reports whether w is a terminal (and not a pipe, a file or a
// log collector).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// tellSecret tells a generated password once, never through the log
// stream, which may end up in a journal or a log service: on the terminal
// when stdout is one, else in a new file at path (beside the database)
// that only its owner may read, whose path alone is logged. what names
// the secret for that log line.
func tellSecret(stdout io.Writer, tty bool, logger *slog.Logger, path, what, text string) error {
	if tty {
		_, err := fmt.Fprintf(stdout, "\n  %s\n", strings.ReplaceAll(strings.TrimRight(text, "\n"), "\n", "\n  "))
		return err
	}
	// A file left by an earlier first start holds an old secret: replace
	// it with a new file, created 0600 whatever the old one's mode was.
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	logger.Warn(what+" is in a file only its owner can read: read it, sign in, change the password and delete the file", "path", path)
	return nil
}
