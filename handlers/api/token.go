package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"studio/domain"
	"studio/handlers/httpx"

	"github.com/labstack/echo/v4"
)

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

type oauthErrorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func oauthError(c echo.Context, status int, code, desc string) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(status, oauthErrorBody{Error: code, ErrorDescription: desc})
}

// Token is POST /oauth2/token: the JWT-bearer grant of RFC 7523. The body
// is form-encoded; query parameters are not accepted.
func (a *API) Token(c echo.Context) error {
	now, remote := a.now(), c.RealIP()
	// One ceiling per address across all keys (Config.TokenRateLimit): a
	// client holding many keys gets no fresh allowance with each one.
	if ok, wait := a.perAddress.Allow(remote, now); !ok {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		return oauthError(c, http.StatusTooManyRequests, "slow_down", "Too many token requests from this address.")
	}
	req := c.Request()
	if req.URL.RawQuery != "" {
		return oauthError(c, http.StatusBadRequest, "invalid_request", "Send the parameters in a form-encoded body, not in the query.")
	}
	if !strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return oauthError(c, http.StatusBadRequest, "invalid_request", "The body must be application/x-www-form-urlencoded.")
	}
	req.Body = http.MaxBytesReader(c.Response(), req.Body, MaxBody)
	if err := req.ParseForm(); err != nil {
		return oauthError(c, http.StatusBadRequest, "invalid_request", "The form body could not be read.")
	}
	assertion := req.PostForm.Get("assertion")
	// Per key and address together: a key id is no secret (it is the Basic
	// Auth user name), so junk sent with it from elsewhere must not lock out
	// the key's own client.
	if kid := domain.AssertionKeyID(assertion); kid != "" {
		if ok, wait := a.perKey.Allow(kid+"|"+remote, now); !ok {
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			return oauthError(c, http.StatusTooManyRequests, "slow_down", "Too many token requests for this key.")
		}
	}
	token, err := a.auth.Exchange(req.Context(), req.PostForm.Get("grant_type"), assertion, remote)
	var oe *domain.OAuthError
	if errors.As(err, &oe) {
		httpx.Logger(c.Request().Context()).Info("token exchange refused", "error", oe.Code)
		return oauthError(c, http.StatusBadRequest, oe.Code, oe.Description)
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set("Pragma", "no-cache")
	return c.JSON(http.StatusOK, tokenResponse{AccessToken: token, TokenType: "Bearer", ExpiresIn: int(domain.AccessTokenTTL.Seconds())})
}
