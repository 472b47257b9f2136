package api

import (
	"mime"
	"net/http"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"
)

// apiPrefix matches the first path segment of an API version: v1, v2,
// v2alpha, v3beta1. Only /v2 exists; the others answer the JSON 404, so a
// client pointed at the wrong version reads why instead of a sign-in page.
var apiPrefix = regexp.MustCompile(`^/v[0-9]+[a-z0-9]*(/|$)`)

// IsAPIPath reports whether a path is the API's (JSON errors): /v2 and any
// other version prefix, and the token endpoint.
func IsAPIPath(path string) bool {
	return apiPrefix.MatchString(path) || path == "/oauth2/token" || path == "/oauth2/token/"
}

// IsProgram reports whether a request comes from a program rather than a
// browser: it carries credentials in Authorization, or asks for JSON.
func IsProgram(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" {
		return true
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "application/json" {
			return true
		}
	}
	return false
}

// ProgramNotFound is the first middleware of the console's routes. A
// request that matched no route (Echo runs the group's middleware for it
// on the catch-all "/*") under an API prefix, or from a program, gets the
// API's JSON 404 instead of the console's answer, which would send it to
// sign in.
func (a *API) ProgramNotFound(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Path() == "/*" && (IsAPIPath(c.Request().URL.Path) || IsProgram(c.Request())) {
			a.WriteError(echo.ErrNotFound, c)
			return nil
		}
		return next(c)
	}
}
