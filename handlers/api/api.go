// Package api serves the REST API v2 and the OAuth2 token endpoint of
// api-v2.md. It calls the same domain services as the console, so a
// program can never do what a person could not.
package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"studio/domain"
	"studio/handlers/httpx"
	"studio/views"

	"github.com/labstack/echo/v4"
)

// Config is what the API needs, built by main.
type Config struct {
	Auth            *domain.APIAuth
	Projects        *domain.Projects
	Members         *domain.Members
	ServiceAccounts *domain.ServiceAccounts
	// RateLimit requests per RateWindow are allowed per account.
	RateLimit  int
	RateWindow time.Duration
	// TokenRateLimit token requests per RateWindow are allowed per client
	// address, across all keys (0: TokenRateFactor times RateLimit).
	TokenRateLimit int
	BaseURL        string
	Now            func() time.Time
}

// API serves /v2 and /oauth2/token.
type API struct {
	auth            *domain.APIAuth
	projects        *domain.Projects
	members         *domain.Members
	serviceAccounts *domain.ServiceAccounts
	perAccount      *domain.RateLimiter
	perKey          *domain.RateLimiter
	perAddress      *domain.RateLimiter
	authFailures    *domain.Throttle
	baseURL         string
	now             func() time.Time
	// openapi is the served OpenAPI document, reference the page made of it.
	openapi   []byte
	reference views.APIReference
}

// New returns the API handlers.
func New(cfg Config) *API {
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = 25
	}
	if cfg.RateWindow <= 0 {
		cfg.RateWindow = 5 * time.Second
	}
	if cfg.TokenRateLimit <= 0 {
		cfg.TokenRateLimit = TokenRateFactor * cfg.RateLimit
	}
	baseURL := strings.TrimRight(cfg.BaseURL, "/")
	doc, err := mergeOpenAPI(openapiFiles)
	if err != nil {
		// Embedded in the binary and checked by the tests: broken only by a bad edit.
		panic("the embedded OpenAPI document is broken: " + err.Error())
	}
	reference, err := openAPIReference(doc, baseURL)
	if err != nil {
		panic("the embedded OpenAPI document cannot be shown: " + err.Error())
	}
	served, err := openAPIWithServer(baseURL)
	if err != nil {
		panic("the embedded OpenAPI document is broken: " + err.Error())
	}
	return &API{
		openapi: served, reference: reference,
		auth: cfg.Auth, projects: cfg.Projects, members: cfg.Members, serviceAccounts: cfg.ServiceAccounts,
		perAccount:   domain.NewRateLimiter(cfg.RateLimit, cfg.RateWindow),
		perKey:       domain.NewRateLimiter(cfg.RateLimit, cfg.RateWindow),
		perAddress:   domain.NewRateLimiter(cfg.TokenRateLimit, cfg.RateWindow),
		authFailures: domain.NewThrottle(AuthFailureLimit, time.Minute),
		baseURL:      baseURL, now: cfg.Now,
	}
}

// TokenRateFactor sets the default ceiling of token requests per address
// across all keys, as a multiple of the per-key limit. A program needs one
// exchange an hour (a token lives 3600 s), so twice one key's burst leaves
// room for many programs behind one address, while a client holding many
// keys no longer gets a fresh allowance with each one: every exchange
// writes a token row, and the ceiling bounds those writes per address.
const TokenRateFactor = 2

// AuthFailureLimit is how many failed authentications an address may make
// in a minute before it is refused for a while.
const AuthFailureLimit = 60

// MaxBody bounds a request body of the API.
const MaxBody = 64 << 10

// MaxBatchBody bounds the body of a batch request, which may name up to
// domain.MaxBatchItems items (a thousand emails of up to 254 characters).
const MaxBatchBody = 1 << 20

const principalKey = "studio.api.principal"

func principal(c echo.Context) domain.Principal {
	p, _ := c.Get(principalKey).(domain.Principal)
	return p
}

// Authenticate accepts Basic (key id and secret) or Bearer (access token)
// credentials, then applies the per-account rate limit. Console sessions
// do not count here.
func (a *API) Authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, remote := c.Request().Context(), c.RealIP()
		now := a.now()
		if wait := a.authFailures.Wait(remote, now); wait > 0 {
			// Too many failed attempts from this address: refuse before any work.
			return a.rateLimited(c, wait)
		}
		header := c.Request().Header.Get("Authorization")
		scheme, cred, _ := strings.Cut(header, " ")
		var p domain.Principal
		var err error
		switch strings.ToLower(scheme) {
		case "bearer":
			p, err = a.auth.Bearer(ctx, strings.TrimSpace(cred), remote)
		case "basic":
			keyID, secret, ok := parseBasic(strings.TrimSpace(cred))
			if !ok {
				err = domain.Errorf(domain.EUNAUTHORIZED, "The Basic Auth header is malformed.")
			} else {
				p, err = a.auth.Basic(ctx, keyID, secret, remote)
			}
		default:
			err = domain.Errorf(domain.EUNAUTHORIZED, "Authenticate with a Bearer token from /oauth2/token, or with Basic Auth (key id and secret).")
		}
		if err != nil {
			if domain.ErrorCode(err) == domain.EUNAUTHORIZED {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="studio", Basic realm="studio"`)
				a.authFailures.Fail(remote, now)
			}
			return err
		}
		if ok, wait := a.perAccount.Allow(p.Account.ID, now); !ok {
			return a.rateLimited(c, wait)
		}
		c.Set(principalKey, p)
		return next(c)
	}
}

// parseBasic reads "base64(keyid:secret)".
func parseBasic(cred string) (string, string, bool) {
	if len(cred) > 1024 {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		return "", "", false
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	return user, pass, ok && user != "" && pass != ""
}

func (a *API) rateLimited(c echo.Context, wait time.Duration) error {
	secs := int(wait.Seconds())
	if time.Duration(secs)*time.Second < wait || secs < 1 {
		secs++
	}
	return &domain.Error{Code: domain.ERATELIMITED, Message: "Too many requests: slow down and retry after the time in Retry-After.", RetryAfter: secs}
}

// errorBody is the contract's error body.
type errorBody struct {
	Error string `json:"error"`
	Code  int    `json:"code"`
	Help  string `json:"help"`
}

// WriteError writes any error as the contract's error body, with the
// status of the table both faces share (httpx). 5xx never show internals;
// their text ends with the request id, which the request's log lines carry.
func (a *API) WriteError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	pr := httpx.ProblemOf(err)
	status, msg := pr.Status, pr.Message
	if pr.HTTP != nil {
		switch status {
		case http.StatusNotFound:
			msg = "No such resource."
		case http.StatusMethodNotAllowed:
			msg = "Method not allowed on this resource."
		case http.StatusRequestEntityTooLarge:
			status, msg = http.StatusBadRequest, "The request body is too large."
		default:
			if status < 500 {
				msg = http.StatusText(status)
			}
		}
	}
	if msg == "" {
		msg = "Internal error."
	}
	pr.SetRetryAfter(c.Response().Header())
	ctx := c.Request().Context()
	if pr.Log {
		httpx.Logger(ctx).Error("api request failed", "status", status, "err", err)
	}
	if id := httpx.RequestID(ctx); status >= 500 && id != "" {
		msg += " Request id: " + id + "."
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	_ = c.JSON(status, errorBody{Error: msg, Code: status, Help: a.baseURL + "/docs/api-errors#" + strconv.Itoa(status)})
}

// ok writes a success: always 200 with a JSON body.
func ok(c echo.Context, v any) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, v)
}

// decode reads a JSON body strictly: one object, known fields only, within MaxBody.
func decode(c echo.Context, v any) error { return decodeLimit(c, v, MaxBody) }

// decodeLimit is decode with another bound on the body.
func decodeLimit(c echo.Context, v any, limit int64) error {
	body := http.MaxBytesReader(c.Response(), c.Request().Body, limit)
	raw, err := io.ReadAll(body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return domain.Errorf(domain.EINVALID, "The request body is larger than %d bytes.", limit)
		}
		return domain.Errorf(domain.EINVALID, "The request body could not be read.")
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		raw = []byte("{}")
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return domain.Errorf(domain.EINVALID, "Invalid JSON body: %s.", jsonProblem(err))
	}
	if dec.More() {
		return domain.Errorf(domain.EINVALID, "Invalid JSON body: more than one JSON value.")
	}
	return nil
}

// jsonProblem says what is wrong with a body without echoing it.
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return fmt.Sprintf("field %q must be a %s", typeErr.Field, typeErr.Type.String())
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("syntax error at byte %d", syntaxErr.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		if len(name) > 66 {
			name = name[:64] + "…\""
		}
		return "unknown field " + name
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the body ends too early"
	}
	return "not a JSON object of the expected shape"
}

// query reads a query parameter in either casing of the contract.
func query(c echo.Context, names ...string) string {
	for _, n := range names {
		if v := c.QueryParam(n); v != "" {
			return v
		}
	}
	return ""
}

// pageRequest reads pageSize and pageToken.
func pageRequest(c echo.Context) (domain.PageRequest, error) {
	size, err := domain.ParsePageSize(query(c, "pageSize", "page_size"))
	if err != nil {
		return domain.PageRequest{}, err
	}
	return domain.PageRequest{Size: size, Token: query(c, "pageToken", "page_token")}, nil
}

// updateMask reads update_mask: nil when absent, else the set of field names.
func updateMask(c echo.Context, known ...string) (map[string]bool, error) {
	raw := query(c, "update_mask", "updateMask")
	if raw == "" {
		return nil, nil
	}
	mask := map[string]bool{}
	for _, f := range strings.Split(raw, ",") {
		f = strings.TrimSpace(f)
		found := false
		for _, k := range known {
			if f == k {
				found = true
			}
		}
		if !found {
			return nil, domain.Errorf(domain.EINVALID, "update_mask names %q, which cannot be updated here (use %s).", f, strings.Join(known, ", "))
		}
		mask[f] = true
	}
	return mask, nil
}

// NotFound answers unknown /v2 paths with the contract's error body.
func (a *API) NotFound(c echo.Context) error { return echo.ErrNotFound }

// ErrorsDoc is the page the error bodies' help links point to.
func (a *API) ErrorsDoc(c echo.Context) error {
	return c.HTML(http.StatusOK, errorsDoc)
}

const errorsDoc = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>API errors · Studio</title>
<link rel="stylesheet" href="/static/app.css"></head><body><main class="plain"><h1>API errors</h1>
<p>Every error has the body <code>{"error": "…", "code": &lt;status&gt;, "help": "&lt;this page&gt;"}</code>.</p>
<dl class="facts">
<dt id="400">400</dt><dd>Invalid argument: bad JSON, an unknown or wrongly typed field, a bad page size or token, a role that does not fit the scope, the key limit, deleting a project that is not empty.</dd>
<dt id="401">401</dt><dd>Not authenticated: missing, unknown or expired credentials, or Basic Auth switched off for the account.</dd>
<dt id="403">403</dt><dd>Authenticated, but the account's role does not allow this.</dd>
<dt id="404">404</dt><dd>No such resource, or one the account may not know exists.</dd>
<dt id="409">409</dt><dd>Already exists: the email is already a member.</dd>
<dt id="429">429</dt><dd>Rate limited: retry after the seconds in the Retry-After header.</dd>
<dt id="500">500</dt><dd>Internal error; the server's log has the details under the request id.</dd>
</dl></main></body></html>`
