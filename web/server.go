// Package web builds the Echo server: middleware order, routes, error handler.
package web

import (
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"studio/handlers"
	"studio/handlers/api"
	"studio/static"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// Config is what the server needs besides the handlers.
type Config struct {
	Logger       *slog.Logger
	CookieSecure bool
	// TrustedProxies are the proxies whose X-Forwarded-For is believed
	// (see clientIP); none by default.
	TrustedProxies []*net.IPNet
}

// MaxConsoleBody bounds a console request body.
const MaxConsoleBody = "1M"

// New returns the Echo server with every route: the console (h) and the API (a).
func New(cfg Config, h *handlers.Handlers, a *api.API) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = clientIP(cfg.TrustedProxies)
	// One error handler per face: the API's JSON body for programs, pages for people.
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		if isAPIPath(c.Request().URL.Path) {
			a.WriteError(err, c)
			return
		}
		h.HandleError(err, c)
	}

	e.Use(requestLog(cfg.Logger))
	e.Use(middleware.Recover())
	e.Use(securityHeaders)
	e.Use(middleware.BodyLimit(MaxConsoleBody))

	routes(e, h, a, cfg)
	return e
}

// clientIP says where a request comes from, for the password throttle,
// rate limits, the audit log and the request log. Without trusted proxies
// it is the connection's peer: X-Forwarded-For is not believed, or a
// rotating header would bypass the throttle. Behind trusted proxies it is
// the rightmost address in X-Forwarded-For that is not a trusted proxy,
// read only when the peer itself is one (else the peer); each hop appends
// the address it saw, so what a client wrote to the left cannot pass for it.
func clientIP(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	// Echo trusts loopback, link-local and private addresses by default:
	// only the configured ranges are trusted here.
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// ParseTrustedProxies reads a comma-separated list of CIDR ranges (a bare
// address is one host), as --trusted-proxies takes it.
func ParseTrustedProxies(list string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if ip := net.ParseIP(item); ip != nil {
			bits := 8 * net.IPv6len
			if ip4 := ip.To4(); ip4 != nil {
				ip, bits = ip4, 8*net.IPv4len
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(item)
		if err != nil {
			return nil, fmt.Errorf("%q is neither a CIDR range such as 10.0.0.0/8 nor an IP address", item)
		}
		out = append(out, n)
	}
	return out, nil
}

func isAPIPath(path string) bool {
	return path == "/v2" || strings.HasPrefix(path, "/v2/") || path == "/oauth2/token"
}

// staticHandler serves the embedded files, and 404 for anything that is
// not one of them: the file server would list a directory ("/static/").
func staticHandler() echo.HandlerFunc {
	files := http.StripPrefix("/static/", http.FileServerFS(static.FS))
	return func(c echo.Context) error {
		name := strings.TrimPrefix(c.Request().URL.Path, "/static/")
		if !fs.ValidPath(name) {
			return echo.ErrNotFound
		}
		if info, err := fs.Stat(static.FS, name); err != nil || !info.Mode().IsRegular() {
			return echo.ErrNotFound
		}
		c.Response().Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
