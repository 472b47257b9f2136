// Package app is the composition root: the one place that wires the server
// key, the sealer, the database and the domain services together, and the
// console and API over them. The server, the command line, the seeder and
// the tests all build their services here, so none of them wires its own.
// Only this package (with main) knows which store satisfies which interface.
package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"log/slog"
	"net"
	"net/http"
	"time"

	"studio/db/sqlite"
	"studio/domain"
	"studio/handlers"
	"studio/handlers/api"
	"studio/passkey"
	"studio/sso"
	"studio/web"

	"github.com/labstack/echo/v4"
)

// Keys are the secrets the services need, each for one purpose.
type Keys struct {
	Sealer  []byte // seals key secrets at rest (and TOTP seeds, passkeys, client secrets)
	Session []byte // signs session cookies
	Flash   []byte // signs flash cookies
	Browser []byte // signs known-browser cookies
	// RecoveryCodes keys the hashes of recovery codes, so a copy of the
	// database alone cannot test guesses.
	RecoveryCodes []byte
}

// KeysFrom derives each purpose's key from the server key, so that one
// purpose's key tells nothing of another's.
func KeysFrom(serverKey []byte) Keys {
	return Keys{
		Sealer:  DeriveKey(serverKey, "key secrets"),
		Session: DeriveKey(serverKey, "session cookie"),
		Flash:   DeriveKey(serverKey, "flash cookie"),
		Browser: DeriveKey(serverKey, "known browser cookie"),

		RecoveryCodes: DeriveKey(serverKey, "recovery codes"),
	}
}

// DeriveKey makes an independent key for one purpose from the server key.
func DeriveKey(master []byte, purpose string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("studio " + purpose))
	return m.Sum(nil)
}

// Config is what the services need.
type Config struct {
	Keys Keys
	// Now is the clock of every service.
	Now func() time.Time
	// Hasher hashes and verifies people's passwords (shared, so its bound
	// on concurrent verifications holds across services).
	Hasher *domain.Hasher
	// BaseURL is the console's public URL, without a trailing slash: it
	// starts invite links and is the token endpoint's audience.
	BaseURL string
	// ServiceAccountEmailDomain ends every service account's email.
	ServiceAccountEmailDomain string
	// InviteTTL is how long invite links work (0: domain.DefaultInviteTTL).
	InviteTTL time.Duration
	// SignInURL is where people's browsers reach the console, when it is
	// not BaseURL (tests: http://localhost:<port>): passkeys are bound to
	// its host name, and identity providers send people back to it.
	SignInURL string
	// IdentityProviderClient talks to identity providers (nil: the
	// default, with timeouts and no link-local addresses).
	IdentityProviderClient *http.Client
	// EventRetention is how long device events are kept (0: domain.DefaultEventRetention).
	EventRetention time.Duration
	// Clock paces the background loops (nil: the real clock).
	Clock domain.Clock
}

// Services are the domain services over one store.
type Services struct {
	handlers.Services // the console's: Accounts, Projects, ServiceAccounts, ...
	Store             *sqlite.DB
	Sealer            *domain.Sealer
	APIAuth           *domain.APIAuth
	// PasskeysUnavailable says why passkeys cannot work at the console's
	// address (nil when they can), for the log at start.
	PasskeysUnavailable error
	// Hub carries committed events to the open event streams.
	Hub *domain.LocalHub
	// Events is the one place events are written (issue 15 adds its hook).
	Events *domain.EventLog
	// Background work, each a Run(ctx) loop that main starts and waits for:
	// the event pruner always, the demo emulator with --demo.
	Pruner       *domain.EventPruner
	DemoEmulator *domain.DemoEmulator

	cfg Config
}

// NewServices builds every service over store.
func NewServices(store *sqlite.DB, cfg Config) (*Services, error) {
	sealer, err := domain.NewSealer(cfg.Keys.Sealer)
	if err != nil {
		return nil, err
	}
	now := cfg.Now
	signInURL := cfg.SignInURL
	if signInURL == "" {
		signInURL = cfg.BaseURL
	}
	ceremony, err := passkey.New(signInURL)
	if err != nil {
		return nil, err
	}
	accounts := domain.NewAccounts(store, cfg.Hasher, now)
	secondFactors := domain.NewSecondFactors(domain.SecondFactorsConfig{Accounts: accounts, Store: store, Sealer: sealer,
		RecoveryKey: cfg.Keys.RecoveryCodes, Passkeys: ceremony, Now: now})
	signIns := domain.NewSignIns(secondFactors)
	clock := cfg.Clock
	if clock == nil {
		clock = domain.RealClock()
	}
	hub := domain.NewLocalHub()
	events := domain.NewEventLog(store, hub)
	devices := domain.NewDevices(store, events, now)
	return &Services{
		Services: handlers.Services{
			Accounts:        accounts,
			Projects:        domain.NewProjects(store, now),
			Audit:           domain.NewAuditLog(store),
			ServiceAccounts: domain.NewServiceAccounts(store, sealer, now, cfg.ServiceAccountEmailDomain),
			Members:         domain.NewMembers(store, cfg.Hasher, now, cfg.BaseURL, cfg.InviteTTL),
			Support:         domain.NewSupport(store, now),
			Hygiene:         domain.NewHygiene(store, now),
			SecondFactors:   secondFactors,
			SignIns:         signIns,
			SSO: domain.NewSSO(domain.SSOConfig{Access: store, Store: store, SignIns: signIns, Sealer: sealer,
				Provider: sso.New(now, cfg.IdentityProviderClient), RedirectURL: signInURL + "/signin/sso/callback", Now: now}),
			Devices: devices,
		},
		PasskeysUnavailable: ceremony.Unavailable(),
		Store:               store,
		Sealer:              sealer,
		APIAuth:             domain.NewAPIAuth(store, sealer, now, cfg.BaseURL+"/oauth2/token"),
		Hub:                 hub,
		Events:              events,
		Pruner:              domain.NewEventPruner(store, clock, cfg.EventRetention, domain.PruneEvery),
		DemoEmulator:        domain.NewDemoEmulator(devices, clock, domain.DemoEmulatorEvery, uint64(time.Now().UnixNano())),
		cfg:                 cfg,
	}, nil
}

// ServerConfig is what the web server needs besides the services.
type ServerConfig struct {
	Logger       *slog.Logger
	CookieSecure bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is believed.
	TrustedProxies []*net.IPNet
	// RateLimit API requests per RateWindow per account; TokenRateLimit
	// token exchanges per RateWindow per client address (0: the default).
	RateLimit      int
	RateWindow     time.Duration
	TokenRateLimit int
	// Event streams: how long one stays open, how often it checks its
	// credentials, how many events it may fall behind (0: the defaults).
	StreamMaxAge  time.Duration
	StreamRecheck time.Duration
	StreamBuffer  int
}

// Server builds the console and the API over the services, with every route.
func (s *Services) Server(cfg ServerConfig) *echo.Echo {
	h := handlers.New(handlers.Config{
		Services:     s.Services,
		BaseURL:      s.cfg.BaseURL,
		Sessions:     s.Store,
		Health:       s.Store.Ping,
		Writes:       s.Store.WriteHealth,
		SessionKey:   s.cfg.Keys.Session,
		FlashKey:     s.cfg.Keys.Flash,
		BrowserKey:   s.cfg.Keys.Browser,
		CookieSecure: cfg.CookieSecure,
		Now:          s.cfg.Now,
	})
	a := api.New(api.Config{
		Auth:            s.APIAuth,
		Projects:        s.Projects,
		Members:         s.Members,
		ServiceAccounts: s.ServiceAccounts,
		Devices:         s.Devices,
		RateLimit:       cfg.RateLimit,
		RateWindow:      cfg.RateWindow,
		TokenRateLimit:  cfg.TokenRateLimit,
		BaseURL:         s.cfg.BaseURL,
		Now:             s.cfg.Now,
		StreamMaxAge:    cfg.StreamMaxAge,
		StreamRecheck:   cfg.StreamRecheck,
		StreamBuffer:    cfg.StreamBuffer,
	})
	return web.New(web.Config{Logger: cfg.Logger, CookieSecure: cfg.CookieSecure, TrustedProxies: cfg.TrustedProxies}, h, a)
}
