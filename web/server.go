// Package web builds the Echo server: middleware order, routes, error handler.
package web

import (
	"bytes"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

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
}

// MaxConsoleBody bounds a console request body.
const MaxConsoleBody = "1M"

// New returns the Echo server with every route: the console (h) and the API (a).
func New(cfg Config, h *handlers.Handlers, a *api.API) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// The client address is the connection's: X-Forwarded-For is not trusted,
	// or a rotating header would bypass the sign-in throttle.
	e.IPExtractor = echo.ExtractIPDirect()
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
	e.Use(compress)
	e.Use(securityHeaders)
	e.Use(middleware.BodyLimit(MaxConsoleBody))

	routes(e, h, a, cfg)
	return e
}

func isAPIPath(path string) bool {
	return path == "/v2" || strings.HasPrefix(path, "/v2/") || path == "/oauth2/token"
}

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
