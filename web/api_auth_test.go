package web_test

// Authentication of the REST API: the OAuth2 JWT-bearer token exchange
// (the JWT is built here with the standard library alone), Basic Auth,
// bearer tokens, keys' last use, and rate limits.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"studio/domain"
	"studio/internal/jwtbearer"
)

const apiJWTBearer = jwtbearer.GrantType

// apiJWT encodes and signs a JWT: HS256 or HS512 with key, or no signature for "none".
func apiJWT(t testing.TB, header, claims map[string]any, key []byte) string {
	t.Helper()
	tok, err := jwtbearer.SignJSON(header, claims, key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// apiClaims are the parts of an assertion a test may change.
type apiClaims struct {
	alg, kid, iss string
	aud           any
	iat, exp      int64
	secret        string
}

// claims are the standard claims a client sends for c.
func (e *apiEnv) claims(c apiCaller) apiClaims {
	now := e.app.clock.Now().Unix()
	return apiClaims{alg: "HS256", kid: c.KeyID, iss: c.SA.Email, aud: apiTokenURL, iat: now, exp: now + 3600, secret: c.Secret}
}

func (e *apiEnv) assertion(a apiClaims) string {
	return apiJWT(e.t, map[string]any{"alg": a.alg, "kid": a.kid, "typ": "JWT"},
		map[string]any{"iss": a.iss, "aud": a.aud, "iat": a.iat, "exp": a.exp}, []byte(a.secret))
}

// exchange posts a form to the token endpoint.
func (e *apiEnv) exchange(form url.Values) apiResponse {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.app.srv.URL+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return apiSend(e.t, e.app, req)
}

func (e *apiEnv) grantForm(a apiClaims) url.Values {
	return url.Values{"grant_type": {apiJWTBearer}, "assertion": {e.assertion(a)}}
}

// apiTokenBody is the token endpoint's success body.
type apiTokenBody struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

// decodeToken checks a successful exchange and returns the access token.
func (e *apiEnv) decodeToken(r apiResponse) string {
	e.t.Helper()
	apiOK(e.t, r)
	var tok apiTokenBody
	apiStrict(e.t, r.body, &tok, "access_token", "token_type", "expires_in")
	if tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 || tok.AccessToken == "" {
		e.t.Fatalf("token response %+v", tok)
	}
	return tok.AccessToken
}

// token runs the exchange for c as the official clients do.
func (e *apiEnv) token(c apiCaller) string {
	e.t.Helper()
	return e.decodeToken(e.exchange(e.grantForm(e.claims(c))))
}

// wantOAuthError checks a refusal of the token endpoint.
func (e *apiEnv) wantOAuthError(r apiResponse, code string) {
	e.t.Helper()
	if r.status != http.StatusBadRequest {
		e.t.Errorf("status %d, want 400 %s: %s", r.status, code, r.body)
		return
	}
	apiCheckJSON(e.t, r)
	var body struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	apiStrict(e.t, r.body, &body, "error", "error_description")
	if body.Error != code || body.ErrorDescription == "" {
		e.t.Errorf("refusal %+v, want error %q with a description", body, code)
	}
}

func TestAPITokenExchange(t *testing.T) {
	e := apiNewEnv(t)
	inv := e.app.inventory()
	robot := e.caller(e.admin, inv, "Robot")
	e.grant(robot.SA.Ref(), e.app.org.ID, inv.ID, domain.RoleProjectUser)

	for _, aud := range []any{apiTokenURL, "https://identity.disruptive-technologies.com/oauth2/token", []string{"https://elsewhere.example/token", apiTokenURL}} {
		a := e.claims(robot)
		a.aud = aud
		r := e.exchange(e.grantForm(a))
		token := e.decodeToken(r)
		if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("token response Cache-Control %q", cc)
		}
		got := apiDecodeProject(t, apiOK(t, e.call(http.MethodGet, "/v2/projects/"+inv.ID, "Bearer "+token, nil)))
		if got.Name != "projects/"+inv.ID {
			t.Fatalf("bearer call with aud %v: %+v", aud, got)
		}
	}
	// Without typ, and with iat a little in the future (clock skew) or exp-iat exactly 3600.
	a := e.claims(robot)
	raw := apiJWT(t, map[string]any{"alg": "HS256", "kid": robot.KeyID}, map[string]any{"iss": a.iss, "aud": a.aud, "iat": a.iat, "exp": a.exp}, []byte(robot.Secret))
	e.decodeToken(e.exchange(url.Values{"grant_type": {apiJWTBearer}, "assertion": {raw}}))
	a.iat, a.exp = a.iat+30, a.iat+30+3600
	e.decodeToken(e.exchange(e.grantForm(a)))
	// The iss compares case-insensitively, as emails do.
	a = e.claims(robot)
	a.iss = strings.ToUpper(a.iss)
	e.decodeToken(e.exchange(e.grantForm(a)))
	// Basic Auth off does not matter for the token exchange.
	off := false
	if _, err := e.svc.Update(context.Background(), e.admin, inv.ID, robot.SA.ID, domain.ServiceAccountInput{EnableBasicAuth: &off}); err != nil {
		t.Fatal(err)
	}
	token := e.token(robot)
	apiOK(t, e.call(http.MethodGet, "/v2/projects", "Bearer "+token, nil))
	apiDecodeError(t, e.call(http.MethodGet, "/v2/projects", apiBasic(robot.KeyID, robot.Secret), nil), http.StatusUnauthorized)
}

// TestAPITokenRefusals: each bad assertion is 400 invalid_grant and issues nothing.
func TestAPITokenRefusals(t *testing.T) {
	e := apiNewEnv(t)
	inv := e.app.inventory()
	robot := e.caller(e.admin, inv, "Robot")
	other := e.caller(e.admin, inv, "Other")
	doomedKey := e.caller(e.admin, inv, "Doomed key")
	doomedAccount := e.caller(e.admin, inv, "Doomed account")
	ctx := context.Background()
	if err := e.svc.DeleteKey(ctx, e.admin, inv.ID, doomedKey.SA.ID, doomedKey.KeyID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Delete(ctx, e.admin, inv.ID, doomedAccount.SA.ID); err != nil {
		t.Fatal(err)
	}
	now := e.app.clock.Now().Unix()
	cases := []struct {
		name   string
		change func(*apiClaims)
	}{
		{"wrong alg HS512", func(a *apiClaims) { a.alg = "HS512" }},
		{"alg none", func(a *apiClaims) { a.alg = "none" }},
		{"alg RS256", func(a *apiClaims) { a.alg = "RS256" }},
		{"unknown kid", func(a *apiClaims) { a.kid = "zzzzzzzzzzzzzzzzzzzz" }},
		{"malformed kid", func(a *apiClaims) { a.kid = "../../etc" }},
		{"kid of another account", func(a *apiClaims) { a.kid = other.KeyID }},
		{"wrong iss", func(a *apiClaims) { a.iss = other.SA.Email }},
		{"empty iss", func(a *apiClaims) { a.iss = "" }},
		{"wrong aud", func(a *apiClaims) { a.aud = "https://evil.example/oauth2/token" }},
		{"aud without scheme", func(a *apiClaims) { a.aud = "studio.test/oauth2/token" }},
		{"expired", func(a *apiClaims) { a.iat, a.exp = now-7200, now-3600 }},
		{"expires now", func(a *apiClaims) { a.iat, a.exp = now-3600, now }},
		{"iat in the future", func(a *apiClaims) { a.iat, a.exp = now+120, now+600 }},
		{"too long lived", func(a *apiClaims) { a.iat, a.exp = now, now+3601 }},
		{"too long lived, iat in the past", func(a *apiClaims) { a.iat, a.exp = now-100, now+3600 }},
		{"bad signature", func(a *apiClaims) { a.secret = other.Secret }},
		{"hex-decoded secret as key", func(a *apiClaims) { a.secret = string(apiHexDecode(t, robot.Secret)) }},
		{"deleted key", func(a *apiClaims) { a.kid, a.iss, a.secret = doomedKey.KeyID, doomedKey.SA.Email, doomedKey.Secret }},
		{"deleted account", func(a *apiClaims) {
			a.kid, a.iss, a.secret = doomedAccount.KeyID, doomedAccount.SA.Email, doomedAccount.Secret
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := e.claims(robot)
			tc.change(&a)
			e.wantOAuthError(e.exchange(e.grantForm(a)), "invalid_grant")
		})
	}
	a := e.claims(robot)
	good := e.assertion(a)
	parts := strings.Split(good, ".")
	for name, assertion := range map[string]string{
		"two parts":         parts[0] + "." + parts[1],
		"four parts":        good + ".x",
		"signature missing": parts[0] + "." + parts[1] + ".",
		"header not base64": "!!!." + parts[1] + "." + parts[2],
		"claims not JSON":   parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("nope")) + "." + parts[2],
		"claims changed": parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+other.SA.Email+`","aud":"`+apiTokenURL+
			`","iat":`+strconv.FormatInt(a.iat, 10)+`,"exp":`+strconv.FormatInt(a.exp, 10)+`}`)) + "." + parts[2],
		"iat missing": apiJWT(t, map[string]any{"alg": "HS256", "kid": robot.KeyID}, map[string]any{"iss": a.iss, "aud": a.aud, "exp": a.exp}, []byte(robot.Secret)),
		"exp missing": apiJWT(t, map[string]any{"alg": "HS256", "kid": robot.KeyID}, map[string]any{"iss": a.iss, "aud": a.aud, "iat": a.iat}, []byte(robot.Secret)),
	} {
		t.Run(name, func(t *testing.T) {
			e.wantOAuthError(e.exchange(url.Values{"grant_type": {apiJWTBearer}, "assertion": {assertion}}), "invalid_grant")
		})
	}
	if n := apiTokenCount(t, e); n != 0 {
		t.Fatalf("%d access tokens stored after refusals", n)
	}
	// The good assertion still works.
	e.decodeToken(e.exchange(url.Values{"grant_type": {apiJWTBearer}, "assertion": {good}}))
}

func apiHexDecode(t testing.TB, s string) []byte {
	t.Helper()
	b := make([]byte, len(s)/2)
	for i := range b {
		n, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		if err != nil {
			t.Fatal(err)
		}
		b[i] = byte(n)
	}
	return b
}

// apiTokenCount counts the stored access tokens. The store has no count,
// so it deletes them all as if expired and counts what went: call it only
// when no token is needed afterwards.
func apiTokenCount(t testing.TB, e *apiEnv) int64 {
	t.Helper()
	n, err := e.app.store.DeleteExpiredTokens(context.Background(), e.app.clock.Now().Add(100*365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAPITokenEndpointRequests: the shape of the request itself.
func TestAPITokenEndpointRequests(t *testing.T) {
	e := apiNewEnv(t)
	inv := e.app.inventory()
	robot := e.caller(e.admin, inv, "Robot")
	assertion := e.assertion(e.claims(robot))

	e.wantOAuthError(e.exchange(url.Values{"assertion": {assertion}}), "invalid_request")
	e.wantOAuthError(e.exchange(url.Values{"grant_type": {apiJWTBearer}}), "invalid_request")
	e.wantOAuthError(e.exchange(url.Values{"grant_type": {"client_credentials"}, "assertion": {assertion}}), "unsupported_grant_type")
	e.wantOAuthError(e.exchange(url.Values{"grant_type": {"password"}, "username": {"x"}, "password": {"y"}}), "unsupported_grant_type")

	// Parameters in the query are refused, even with a good body.
	form := url.Values{"grant_type": {apiJWTBearer}, "assertion": {assertion}}
	req, _ := http.NewRequest(http.MethodPost, e.app.srv.URL+"/oauth2/token?"+form.Encode(), nil)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	e.wantOAuthError(apiSend(t, e.app, req), "invalid_request")
	req, _ = http.NewRequest(http.MethodPost, e.app.srv.URL+"/oauth2/token?grant_type="+url.QueryEscape(apiJWTBearer), strings.NewReader("assertion="+assertion))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	e.wantOAuthError(apiSend(t, e.app, req), "invalid_request")
	// A JSON body is refused.
	raw, _ := json.Marshal(map[string]string{"grant_type": apiJWTBearer, "assertion": assertion})
	req, _ = http.NewRequest(http.MethodPost, e.app.srv.URL+"/oauth2/token", strings.NewReader(string(raw)))
	req.Header.Set("Content-Type", "application/json")
	e.wantOAuthError(apiSend(t, e.app, req), "invalid_request")
	// The form works as sent.
	e.decodeToken(e.exchange(form))
}

// TestAPIAuthRefusals: what is not a valid credential is 401 with the error body.
func TestAPIAuthRefusals(t *testing.T) {
	e := apiNewEnv(t)
	app := e.app
	inv := app.inventory()
	robot := e.caller(e.admin, inv, "Robot")
	e.grant(robot.SA.Ref(), app.org.ID, inv.ID, domain.RoleProjectUser)
	shy := e.account(e.admin, inv, "Basic off", false)
	shyKey, shySecret := e.key(e.admin, shy)
	e.grant(shy.Ref(), app.org.ID, inv.ID, domain.RoleProjectUser)
	path := "/v2/projects/" + inv.ID

	apiOK(t, e.call(http.MethodGet, path, apiBasic(robot.KeyID, robot.Secret), nil))
	for name, auth := range map[string]string{
		"Basic Auth off":          apiBasic(shyKey, shySecret),
		"wrong secret":            apiBasic(robot.KeyID, shySecret),
		"secret in upper case":    apiBasic(robot.KeyID, strings.ToUpper(robot.Secret)),
		"unknown key":             apiBasic("zzzzzzzzzzzzzzzzzzzz", robot.Secret),
		"empty secret":            apiBasic(robot.KeyID, ""),
		"email as user name":      apiBasic(robot.SA.Email, robot.Secret),
		"no credentials":          "",
		"Basic not base64":        "Basic !!!",
		"unknown scheme":          "Token " + robot.Secret,
		"bearer garbage":          "Bearer " + strings.Repeat("a", 64),
		"bearer short":            "Bearer abc",
		"bearer is the secret":    "Bearer " + robot.Secret,
		"bearer is the assertion": "Bearer " + e.assertion(e.claims(robot)),
	} {
		r := e.call(http.MethodGet, path, auth, nil)
		if r.status != http.StatusUnauthorized {
			t.Errorf("%s: %s, want 401", name, r)
			continue
		}
		apiDecodeError(t, r, http.StatusUnauthorized)
	}
	// A console session does not authenticate API calls.
	c := app.signedIn(adminEmail)
	if r := c.get("/v2/projects/" + inv.ID); r.status != http.StatusUnauthorized {
		t.Fatalf("console session alone: status %d, want 401", r.status)
	} else {
		apiDecodeError(t, apiResponse{status: r.status, header: r.header, body: []byte(r.body)}, http.StatusUnauthorized)
	}
	// Nothing a refused request asked for happened.
	if got := apiTokenCount(t, e); got != 0 {
		t.Fatalf("%d tokens", got)
	}
}

// TestAPITokensDie: a token dies with its key, its account, and after an hour.
func TestAPITokensDie(t *testing.T) {
	e := apiNewEnv(t)
	app := e.app
	inv := app.inventory()
	ctx := context.Background()
	path := "/v2/projects/" + inv.ID
	newCaller := func(name string) (apiCaller, string) {
		c := e.caller(e.admin, inv, name)
		e.grant(c.SA.Ref(), app.org.ID, inv.ID, domain.RoleProjectUser)
		bearer := "Bearer " + e.token(c)
		apiOK(t, e.call(http.MethodGet, path, bearer, nil))
		return c, bearer
	}

	keyGone, keyGoneBearer := newCaller("Key gone")
	second, _ := e.key(e.admin, keyGone.SA) // the account keeps another key
	if err := e.svc.DeleteKey(ctx, e.admin, inv.ID, keyGone.SA.ID, keyGone.KeyID); err != nil {
		t.Fatal(err)
	}
	apiDecodeError(t, e.call(http.MethodGet, path, keyGoneBearer, nil), http.StatusUnauthorized)
	if _, err := app.store.KeyByID(ctx, second); err != nil {
		t.Fatal("the other key went too")
	}

	accountGone, accountGoneBearer := newCaller("Account gone")
	if err := e.svc.Delete(ctx, e.admin, inv.ID, accountGone.SA.ID); err != nil {
		t.Fatal(err)
	}
	apiDecodeError(t, e.call(http.MethodGet, path, accountGoneBearer, nil), http.StatusUnauthorized)
	apiDecodeError(t, e.call(http.MethodGet, path, apiBasic(accountGone.KeyID, accountGone.Secret), nil), http.StatusUnauthorized)

	// Deleting a key through the API kills its tokens at once too.
	admin := e.caller(e.admin, inv, "Admin")
	e.grant(admin.SA.Ref(), app.org.ID, "", domain.RoleOrgAdmin)
	victim, victimBearer := newCaller("Victim")
	apiEmpty(t, e.call(http.MethodDelete, "/v2/projects/"+inv.ID+"/serviceaccounts/"+victim.SA.ID+"/keys/"+victim.KeyID, apiBasic(admin.KeyID, admin.Secret), nil))
	apiDecodeError(t, e.call(http.MethodGet, path, victimBearer, nil), http.StatusUnauthorized)

	_, bearer := newCaller("Expiring")
	app.clock.Advance(59 * time.Minute)
	apiOK(t, e.call(http.MethodGet, path, bearer, nil))
	app.clock.Advance(2 * time.Minute)
	apiDecodeError(t, e.call(http.MethodGet, path, bearer, nil), http.StatusUnauthorized)
}

// TestAPIKeysRecordLastUse: a key records when, how and from where it was
// last used, at most once a minute.
func TestAPIKeysRecordLastUse(t *testing.T) {
	e := apiNewEnv(t)
	app := e.app
	inv := app.inventory()
	ctx := context.Background()
	robot := e.caller(e.admin, inv, "Robot")
	lastUse := func(keyID string) domain.Key {
		t.Helper()
		k, err := app.store.KeyByID(ctx, keyID)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	if k := lastUse(robot.KeyID); !k.LastUsed.IsZero() || k.LastUsedVia != "" || k.LastUsedFrom != "" {
		t.Fatalf("new key has a last use: %+v", k)
	}
	first := app.clock.Now()
	apiOK(t, e.call(http.MethodGet, "/v2/roles", apiBasic(robot.KeyID, robot.Secret), nil))
	k := lastUse(robot.KeyID)
	if !k.LastUsed.Equal(first.Truncate(time.Microsecond)) || k.LastUsedVia != "basic" || k.LastUsedFrom != "127.0.0.1" {
		t.Fatalf("after a Basic call: used %s via %q from %q; want %s via basic from 127.0.0.1", k.LastUsed, k.LastUsedVia, k.LastUsedFrom, first)
	}
	app.clock.Advance(30 * time.Second)
	apiOK(t, e.call(http.MethodGet, "/v2/roles", apiBasic(robot.KeyID, robot.Secret), nil))
	if again := lastUse(robot.KeyID); !again.LastUsed.Equal(k.LastUsed) {
		t.Fatalf("a second use within a minute wrote again: %s, was %s", again.LastUsed, k.LastUsed)
	}
	app.clock.Advance(31 * time.Second)
	apiOK(t, e.call(http.MethodGet, "/v2/roles", apiBasic(robot.KeyID, robot.Secret), nil))
	if later := lastUse(robot.KeyID); !later.LastUsed.Equal(app.clock.Now().Truncate(time.Microsecond)) {
		t.Fatalf("a use after a minute was not written: %s", later.LastUsed)
	}

	// The token exchange records "token"; bearer calls use the token, not the key.
	other := e.caller(e.admin, inv, "Other")
	bearer := "Bearer " + e.token(other)
	k = lastUse(other.KeyID)
	if !k.LastUsed.Equal(app.clock.Now().Truncate(time.Microsecond)) || k.LastUsedVia != "token" || k.LastUsedFrom != "127.0.0.1" {
		t.Fatalf("after a token exchange: %s via %q from %q", k.LastUsed, k.LastUsedVia, k.LastUsedFrom)
	}
	apiOK(t, e.call(http.MethodGet, "/v2/roles", bearer, nil))
	// A refused attempt is not a use.
	shy := e.caller(e.admin, inv, "Shy")
	apiDecodeError(t, e.call(http.MethodGet, "/v2/roles", apiBasic(shy.KeyID, other.Secret), nil), http.StatusUnauthorized)
	if k := lastUse(shy.KeyID); !k.LastUsed.IsZero() {
		t.Fatalf("a wrong secret recorded a use: %+v", k)
	}
}

// TestAPIRateLimit: over the per-account limit (1000 a second in tests;
// the test clock stands still), requests are 429 with Retry-After and the
// error body, through either scheme, until time passes.
func TestAPIRateLimit(t *testing.T) {
	e := apiNewEnv(t)
	app := e.app
	inv := app.inventory()
	robot := e.caller(e.admin, inv, "Robot")
	bystander := e.caller(e.admin, inv, "Bystander")
	basic := apiBasic(robot.KeyID, robot.Secret)
	bearer := "Bearer " + e.token(robot)
	for i := 0; i < apiRateLimit; i++ {
		auth := basic
		if i%2 == 1 {
			auth = bearer
		}
		if r := e.call(http.MethodGet, "/v2/roles", auth, nil); r.status != http.StatusOK {
			t.Fatalf("request %d: %s", i+1, r)
		}
	}
	for _, auth := range []string{basic, bearer} {
		r := e.call(http.MethodGet, "/v2/roles", auth, nil)
		apiDecodeError(t, r, http.StatusTooManyRequests)
		secs, err := strconv.Atoi(r.header.Get("Retry-After"))
		if err != nil || secs < 1 {
			t.Fatalf("Retry-After %q, want whole seconds ≥ 1", r.header.Get("Retry-After"))
		}
	}
	// The limit is per account.
	apiOK(t, e.call(http.MethodGet, "/v2/roles", apiBasic(bystander.KeyID, bystander.Secret), nil))
	app.clock.Advance(2 * time.Second)
	apiOK(t, e.call(http.MethodGet, "/v2/roles", basic, nil))
	apiOK(t, e.call(http.MethodGet, "/v2/roles", bearer, nil))
}

// TestAPIAuthFailureThrottle: after 60 failed authentications from one
// address, its requests are 429 even with good credentials, for a while.
func TestAPIAuthFailureThrottle(t *testing.T) {
	e := apiNewEnv(t)
	app := e.app
	inv := app.inventory()
	robot := e.caller(e.admin, inv, "Robot")
	good := apiBasic(robot.KeyID, robot.Secret)
	bad := apiBasic(robot.KeyID, strings.Repeat("0", 32))
	apiOK(t, e.call(http.MethodGet, "/v2/roles", good, nil))
	for i := 0; i < 60; i++ {
		if r := e.call(http.MethodGet, "/v2/roles", bad, nil); r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %s, want 401", i+1, r)
		}
	}
	for _, auth := range []string{good, bad, "Bearer " + e.token(robot)} {
		r := e.call(http.MethodGet, "/v2/roles", auth, nil)
		apiDecodeError(t, r, http.StatusTooManyRequests)
		if secs, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || secs < 1 {
			t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
		}
	}
	app.clock.Advance(61 * time.Second)
	apiOK(t, e.call(http.MethodGet, "/v2/roles", good, nil))
}

// Each new key got a fresh token bucket, so one address holding many keys
// could exchange 250 assertions per 5 s. There is now one ceiling per
// address across keys (twice the per-key limit by default), with 429,
// Retry-After and the token endpoint's error body.
func TestTokenEndpointCeilingPerAddressAcrossKeys(t *testing.T) {
	const perKey = 5
	e := apiNewEnv(t, withRateLimit(perKey), withTrustedProxies("127.0.0.1/32"))
	inv := e.app.inventory()
	ceiling := 2 * perKey
	var keys []apiCaller
	for i := 0; i < 4; i++ {
		keys = append(keys, e.caller(e.admin, inv, "Robot "+strconv.Itoa(i)))
	}
	exchange := func(k apiCaller, from string) apiResponse {
		req, _ := http.NewRequest(http.MethodPost, e.app.srv.URL+"/oauth2/token", strings.NewReader(e.grantForm(e.claims(k)).Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", from)
		return apiSend(t, e.app, req)
	}
	// Each key stays under its own limit (3 of 5); together they reach the ceiling.
	for i := 0; i < ceiling; i++ {
		e.decodeToken(exchange(keys[i%len(keys)], "203.0.113.7"))
	}
	r := exchange(keys[3], "203.0.113.7")
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("exchange over the ceiling: %s, want 429", r)
	}
	if secs, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || secs < 1 {
		t.Fatalf("Retry-After %q, want whole seconds", r.header.Get("Retry-After"))
	}
	apiCheckJSON(t, r)
	var body struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	apiStrict(t, r.body, &body, "error", "error_description")
	if body.Error != "slow_down" || !strings.Contains(body.ErrorDescription, "this address") {
		t.Fatalf("error body %+v", body)
	}
	if n := apiTokenCount(t, e); n != int64(ceiling) {
		t.Fatalf("%d tokens stored, want %d", n, ceiling)
	}
	// Another address has its own ceiling; time refills this one.
	e.decodeToken(exchange(keys[3], "198.51.100.3"))
	e.app.clock.Advance(time.Second)
	e.decodeToken(exchange(keys[3], "203.0.113.7"))
}
