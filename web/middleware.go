package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"studio/domain"
	"studio/handlers"
	"studio/handlers/httpx"

	"github.com/labstack/echo/v4"
)

// requestLog gives every request an id, a logger carrying it, and one log
// line when it ends. Only the path is logged: queries may carry tokens.
func requestLog(base *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			id := randomHex(8)
			c.Response().Header().Set(echo.HeaderXRequestID, id)
			l := base.With("request_id", id)
			c.SetRequest(c.Request().WithContext(httpx.WithRequest(c.Request().Context(), id, l)))
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			l.Info("request", "method", c.Request().Method, "path", loggedPath(c.Request().URL.Path),
				"status", c.Response().Status, "duration_ms", time.Since(start).Milliseconds(), "remote", c.RealIP())
			return nil
		}
	}
}

// loggedPath hides the token of an invite link: whoever reads the log
// could otherwise set the invited account's password.
func loggedPath(path string) string {
	if strings.HasPrefix(path, "/invite/") {
		return "/invite/[redacted]"
	}
	return path
}

// contentSecurityPolicy allows our own script and style files only: no
// inline script or style, no framing, forms post only to us.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		return next(c)
	}
}

const csrfCookie = "studio_csrf"

// csrf is double-submit protection for the console: every unsafe request
// must carry the cookie's token in the _csrf form field or the X-CSRF-Token
// header (htmx sends it from hx-headers). Unlike Echo's middleware, the
// token is always checked, even when the browser says Sec-Fetch-Site:
// same-origin, and a cross-site request is refused outright.
func csrf(secure bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			token := ""
			if ck, err := c.Cookie(csrfCookie); err == nil && len(ck.Value) == 64 && isHex(ck.Value) {
				token = ck.Value
			}
			switch c.Request().Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions:
			default:
				site := c.Request().Header.Get("Sec-Fetch-Site")
				sent := c.Request().Header.Get("X-CSRF-Token")
				if sent == "" {
					sent = c.FormValue("_csrf")
				}
				if site == "cross-site" || site == "same-site" || token == "" || !csrfMatches(sent, token) {
					return domain.Errorf(domain.EFORBIDDEN,
						"This form has expired or came from another site. Reload the page and try again.")
				}
			}
			if token == "" {
				token = randomHex(32)
				c.SetCookie(&http.Cookie{Name: csrfCookie, Value: token, Path: "/", HttpOnly: true,
					Secure: secure, SameSite: http.SameSiteLaxMode, MaxAge: 7 * 24 * 3600})
			}
			c.Set(handlers.CSRFKey, maskCSRF(token))
			return next(c)
		}
	}
}

// maskCSRF is the token as pages carry it: a fresh random pad, then the
// token XOR the pad, in hex. Every response shows other bytes for the same
// token, so a compressed page cannot leak it through its length (BREACH)
// however much of the page an attacker chooses.
func maskCSRF(token string) string {
	raw, err := hex.DecodeString(token)
	if err != nil {
		panic("csrf: the cookie token is not hex: " + err.Error()) // csrf only keeps hex cookies
	}
	pad := make([]byte, len(raw))
	if _, err := rand.Read(pad); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	masked := make([]byte, len(raw))
	for i := range raw {
		masked[i] = raw[i] ^ pad[i]
	}
	return hex.EncodeToString(pad) + hex.EncodeToString(masked)
}

// csrfMatches reports, in constant time, whether sent is the cookie's token
// in a page's masked form (maskCSRF) or as it is.
func csrfMatches(sent, token string) bool {
	want, err := hex.DecodeString(token)
	if err != nil || len(want) == 0 {
		return false
	}
	got, err := hex.DecodeString(sent)
	if err != nil {
		return false
	}
	if len(got) == 2*len(want) {
		pad, masked := got[:len(want)], got[len(want):]
		for i := range masked {
			masked[i] ^= pad[i]
		}
		got = masked
	}
	return subtle.ConstantTimeCompare(got, want) == 1
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}
