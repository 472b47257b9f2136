// Package handlers holds the console's Echo handlers: each reads the
// request, calls a domain service, and renders a view or redirects.
package handlers

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"studio/domain"
	"studio/handlers/httpx"
	"studio/views"

	"github.com/a-h/templ"
	"github.com/gorilla/securecookie"
	"github.com/labstack/echo/v4"
)

// Services are the domain services the console calls.
type Services struct {
	Accounts        *domain.Accounts
	Projects        *domain.Projects
	Audit           *domain.AuditLog
	ServiceAccounts *domain.ServiceAccounts
	Members         *domain.Members
	Support         *domain.Support
	Hygiene         *domain.Hygiene
	// SignIns, SecondFactors and SSO are sign-in security (issue 19).
	SignIns       *domain.SignIns
	SecondFactors *domain.SecondFactors
	SSO           *domain.SSO
	Devices       *domain.Devices
}

// Config is what the handlers need, built by the composition root (app).
type Config struct {
	Services
	Sessions domain.Sessions
	// BaseURL is the console's public URL, without a trailing slash.
	BaseURL string
	// Health reports whether the database answers.
	Health func(context.Context) error
	// Writes reports whether changes can be saved: "ok" or "failing:
	// <condition>". Nil counts as "ok".
	Writes func() string
	// SessionKey signs session cookies; FlashKey signs flash cookies;
	// BrowserKey signs known-browser cookies.
	SessionKey   []byte
	FlashKey     []byte
	BrowserKey   []byte
	CookieSecure bool
	Now          func() time.Time
}

// Handlers serves the console.
type Handlers struct {
	accounts        *domain.Accounts
	projects        *domain.Projects
	audit           *domain.AuditLog
	serviceAccounts *domain.ServiceAccounts
	members         *domain.Members
	support         *domain.Support
	hygiene         *domain.Hygiene
	signIns         *domain.SignIns
	secondFactors   *domain.SecondFactors
	sso             *domain.SSO
	devices         *domain.Devices
	baseURL         string
	sessions        *SessionStore
	flash           *securecookie.SecureCookie
	browsers        *securecookie.SecureCookie
	health          func(context.Context) error
	writes          func() string
	cookieSecure    bool
	now             func() time.Time
}

// New returns the console handlers.
func New(cfg Config) *Handlers {
	flash := securecookie.New(cfg.FlashKey, nil)
	flash.MaxAge(300)
	return &Handlers{
		accounts:        cfg.Accounts,
		projects:        cfg.Projects,
		audit:           cfg.Audit,
		serviceAccounts: cfg.ServiceAccounts,
		members:         cfg.Members,
		support:         cfg.Support,
		hygiene:         cfg.Hygiene,
		signIns:         cfg.SignIns,
		secondFactors:   cfg.SecondFactors,
		sso:             cfg.SSO,
		devices:         cfg.Devices,
		baseURL:         cfg.BaseURL,
		sessions:        NewSessionStore(cfg.Sessions, cfg.SessionKey, cfg.CookieSecure, cfg.Now),
		flash:           flash,
		browsers:        newBrowserCodec(cfg.BrowserKey),
		health:          cfg.Health,
		writes:          cfg.Writes,
		cookieSecure:    cfg.CookieSecure,
		now:             cfg.Now,
	}
}

// Context keys set by middleware.
const (
	userKey        = "studio.user"
	unavailableKey = "studio.unavailable"
	// CSRFKey is where the CSRF middleware leaves the request's token.
	CSRFKey = "studio.csrf"
)

// Logger returns the request's logger (with the request id), which
// travels in the request's context (httpx.WithRequest).
func Logger(c echo.Context) *slog.Logger { return httpx.Logger(c.Request().Context()) }

func currentUser(c echo.Context) *domain.User {
	u, _ := c.Get(userKey).(*domain.User)
	return u
}

// principal is the signed-in user as the domain sees it, with when the
// password was last proved in this session (set by Reauthenticate; zero,
// so sensitive changes are asked about, when it did not run). Only called
// on routes behind RequireUser.
func principal(c echo.Context) domain.Principal {
	at, _ := c.Get(authTimeCtxKey).(time.Time)
	p := domain.SessionPrincipal(*currentUser(c), c.RealIP(), at)
	p.AuthConfirmed, _ = c.Get(authConfirmedCtxKey).(bool)
	p.SecondFactor, _ = c.Get(secondFactorCtxKey).(bool)
	p.SSOOrganizations, _ = c.Get(ssoOrgsCtxKey).([]string)
	return p
}

// page fills what every page needs.
func (h *Handlers) page(c echo.Context, title string) views.Page {
	token, _ := c.Get(CSRFKey).(string)
	p := views.Page{Title: title, CSRF: token, User: currentUser(c), Flash: h.takeFlash(c)}
	if err, ok := c.Get(unavailableKey).(error); ok {
		p.Flash = append(p.Flash, views.Flash{Kind: "error", Text: withRequestID(c, http.StatusServiceUnavailable, domain.ErrorMessage(err))})
	}
	return p
}

// cannotSave reports whether err is a change the database refused for now
// (disk full, read-only, locked, corrupt: EUNAVAILABLE) on a page's form.
// The form handler then shows its page again with what was typed, as for
// a validation error: the page gets a banner saying the service cannot
// save changes, and render answers 503 with Retry-After. An htmx form
// inside a page gets the error handler's toast instead: nothing is
// swapped, so what was typed stays where it was.
func cannotSave(c echo.Context, err error) bool {
	if domain.ErrorCode(err) != domain.EUNAVAILABLE || isFragment(c) {
		return false
	}
	c.Set(unavailableKey, err)
	return true
}

// projectPage fills a project page: the organization, the menu and the switcher.
func (h *Handlers) projectPage(c echo.Context, title string, a domain.Access, menu string) views.Page {
	p := h.page(c, title)
	proj := a.Project
	p.Project, p.Role, p.Menu = &proj, a.Role(), menu
	p.Org = &domain.Organization{ID: proj.OrganizationID, DisplayName: proj.OrganizationDisplayName}
	p.OrgAdm = a.OrgAdmin
	if list, err := h.projects.ListProjects(c.Request().Context(), principal(c), proj.OrganizationID, "",
		domain.PageRequest{Size: switcherSize}); err == nil {
		p.Switcher, p.SwitcherMore = list.Items, list.NextPageToken != ""
	}
	return p
}

// switcherSize is how many projects the header's switcher lists.
const switcherSize = 15

// render writes a component with a status; a form shown again because
// its change could not be saved (see cannotSave) answers 503.
func render(c echo.Context, status int, comp templ.Component) error {
	var de *domain.Error
	if err, ok := c.Get(unavailableKey).(error); ok && errors.As(err, &de) {
		status = http.StatusServiceUnavailable
		c.Response().Header().Set("Retry-After", strconv.Itoa(de.RetryAfter))
	}
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	hxVary(c)
	if status >= 400 && c.Request().Method != http.MethodGet {
		// A boosted form that failed shows its page again; the address bar
		// must keep the page's URL, not the form's action (which has no GET).
		hxNoPush(c)
	}
	// Rendered whole first: one write with a Content-Length instead of a
	// chunk and a syscall every few kilobytes, and a failed render can
	// still become an error page.
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	c.Response().WriteHeader(status)
	_, err := c.Response().Write(buf.Bytes())
	return err
}

// redirect answers a form post: 303 See Other to the next page (post/redirect/get).
func redirect(c echo.Context, to string) error {
	return c.Redirect(http.StatusSeeOther, to)
}

// isInvalid reports whether err is a validation error to show beside the form.
func isInvalid(err error) bool { return domain.ErrorCode(err) == domain.EINVALID }

// Health answers GET /healthz: whether the database answers a read
// ("database") and whether changes can be saved ("writes": "ok" or
// "failing: <condition>", from the last writes and a periodic probe).
// Either failing answers 503, so a load balancer stops sending traffic.
// A write condition is logged where it is seen, once per change, not here.
func (h *Handlers) Health(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	body := map[string]string{"status": "ok", "database": "ok", "writes": "ok"}
	if h.writes != nil {
		body["writes"] = h.writes()
	}
	if err := h.health(ctx); err != nil {
		Logger(c).Error("health check failed", "err", err)
		body["database"] = "error"
	}
	if body["database"] != "ok" || body["writes"] != "ok" {
		body["status"] = "unavailable"
		return c.JSON(http.StatusServiceUnavailable, body)
	}
	return c.JSON(http.StatusOK, body)
}
