// Package web builds the Echo server: middleware order, routes, error handler.
package web

import (
	"log/slog"
	"net/http"

	"studio/handlers"
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

// New returns the Echo server with every route.
func New(cfg Config, h *handlers.Handlers) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// The client address is the connection's: X-Forwarded-For is not trusted,
	// or a rotating header would bypass the sign-in throttle.
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = h.HandleError

	e.Use(requestLog(cfg.Logger))
	e.Use(middleware.Recover())
	e.Use(securityHeaders)
	e.Use(middleware.BodyLimit(MaxConsoleBody))

	routes(e, h, cfg)
	return e
}

func staticHandler() echo.HandlerFunc {
	files := http.StripPrefix("/static/", http.FileServerFS(static.FS))
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
