// Package web builds the Echo server: middleware order, routes, error handler.
package web

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"studio/handlers"
	"studio/handlers/api"
	"studio/handlers/httpx"
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
	e.Use(recoverPanics)
	e.Use(compress)
	e.Use(securityHeaders)
	e.Use(middleware.BodyLimit(MaxConsoleBody))

	routes(e, h, a, cfg)
	return e
}

// recoverPanics turns a panic in a handler into a 500 (the error handler's
// page or body, with the request id) and logs it once, with its stack,
// through the request's logger: Echo's own Recover writes to Echo's logger,
// which carries no request id and goes elsewhere.
var recoverPanics = middleware.RecoverWithConfig(middleware.RecoverConfig{
	DisableStackAll: true, // the panicking goroutine's stack only
	LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
		httpx.Logger(c.Request().Context()).Error("panic", "err", err, "stack", string(stack))
		return httpx.Logged(err)
	},
})

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

func isAPIPath(path string) bool { return api.IsAPIPath(path) }

// staticHandler serves the embedded files. Under their content-hashed names
// (the ones pages link to, static.URL) they may be cached for a year without
// asking again; under their plain names they must be revalidated, which
// costs a 304 while they are unchanged. Text comes gzipped, compressed once
// at start, to clients that accept it. Anything else under /static/, the
// directory itself included, is 404.
func staticHandler() echo.HandlerFunc {
	return func(c echo.Context) error {
		a, hashed, ok := static.Lookup(c.Param("*"))
		if !ok {
			return echo.ErrNotFound
		}
		h := c.Response().Header()
		if hashed {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		h.Set(echo.HeaderContentType, a.ContentType)
		body, etag := a.Body, a.ETag
		if a.Gzip != nil {
			addVary(h, echo.HeaderAcceptEncoding)
			if acceptsGzip(c.Request().Header.Get(echo.HeaderAcceptEncoding)) {
				body, etag = a.Gzip, a.GzipETag
				h.Set(echo.HeaderContentEncoding, "gzip")
				// ServeContent sets no Content-Length on an encoded body, for
				// fear of a range; a part of a gzip stream is of no use, so
				// the whole is sent, with its length.
				c.Request().Header.Del("Range")
				h.Set(echo.HeaderContentLength, strconv.Itoa(len(body)))
			}
		}
		h.Set("ETag", etag)
		// ServeContent answers If-None-Match with 304, HEAD and Range
		// requests, and sets Content-Length.
		http.ServeContent(c.Response(), c.Request(), "", time.Time{}, bytes.NewReader(body))
		return nil
	}
}
