// Package web builds the Echo server: middleware order, routes, error handler.
package web

import (
	"io/fs"
	"log/slog"
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
	e.Use(securityHeaders)
	e.Use(middleware.BodyLimit(MaxConsoleBody))

	routes(e, h, a, cfg)
	return e
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
