package domain

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Token lifetimes and limits of the token endpoint (api-v2.md).
const (
	AccessTokenTTL   = time.Hour
	MaxAssertionLife = time.Hour
	// ClockSkew is how far in the future an assertion's iat may be.
	ClockSkew = time.Minute
	// LastUseEvery bounds how often a key's last use is written.
	LastUseEvery = time.Minute
	// OriginalTokenURL is the original service's token endpoint, accepted as
	// an audience so that clients with it hard-coded work.
	OriginalTokenURL = "https://identity.disruptive-technologies.com/oauth2/token"
)

// How a key was last used.
const (
	UsedBasic = "basic"
	UsedToken = "token"
)

// AccessToken is an issued bearer token; only its SHA-256 hash is stored.
type AccessToken struct {
	Hash             string
	KeyID            string
	ServiceAccountID string
	ExpireTime       time.Time
}

// OAuthError is a refusal of the token endpoint, in RFC 6749's terms.
type OAuthError struct {
	Code        string // invalid_request, invalid_grant, unsupported_grant_type
	Description string
}

func (e *OAuthError) Error() string { return e.Code + ": " + e.Description }

func invalidGrant(desc string) error { return &OAuthError{Code: "invalid_grant", Description: desc} }

// APIAuth authenticates programs: Basic Auth with a key id and secret, the
// JWT-bearer token exchange, and bearer tokens. Secrets are checked by
// opening the sealed secret and comparing in constant time: no slow hash
// on the request path.
type APIAuth struct {
	store     APIAuthStore
	sealer    *Sealer
	now       func() time.Time
	audiences []string

	mu      sync.Mutex
	lastUse map[string]time.Time // key id → when last use was last written
}

// NewAPIAuth returns the API authenticator; tokenURL is this server's
// public token endpoint.
func NewAPIAuth(store APIAuthStore, sealer *Sealer, now func() time.Time, tokenURL string) *APIAuth {
	return &APIAuth{store: store, sealer: sealer, now: now, audiences: []string{tokenURL, OriginalTokenURL}, lastUse: map[string]time.Time{}}
}

// APIAuthStore is the part of the store APIAuth uses.
type APIAuthStore interface {
	ServiceAccountReader
	KeyReader
	AccessTokens
	Updater
}

var errBadCredentials401 = Errorf(EUNAUTHORIZED, "The credentials are not valid.")

// keyAccount loads a key and its account.
func (a *APIAuth) keyAccount(ctx context.Context, keyID string) (Key, ServiceAccount, error) {
	if !ValidID(keyID) {
		return Key{}, ServiceAccount{}, ErrNotFound("Key")
	}
	k, err := a.store.KeyByID(ctx, keyID)
	if err != nil {
		return k, ServiceAccount{}, err
	}
	sa, err := a.store.ServiceAccountByID(ctx, k.ServiceAccountID)
	return k, sa, err
}

func (a *APIAuth) secretMatches(k Key, secret string) bool {
	plain, err := a.sealer.Open(k.Sealed, []byte(k.ID))
	return err == nil && subtle.ConstantTimeCompare(plain, []byte(secret)) == 1
}

func servicePrincipal(sa ServiceAccount, remoteAddr string) Principal {
	return Principal{Account: sa.Ref(), Email: sa.Email, RemoteAddr: remoteAddr}
}

// Basic authenticates a key id and secret, only while the key's account
// has Basic Auth on.
func (a *APIAuth) Basic(ctx context.Context, keyID, secret, remoteAddr string) (Principal, error) {
	k, sa, err := a.keyAccount(ctx, keyID)
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return Principal{}, errBadCredentials401
		}
		return Principal{}, err
	}
	if !a.secretMatches(k, secret) {
		return Principal{}, errBadCredentials401
	}
	if why := credentialRefusal(k, sa, a.now()); why != "" {
		return Principal{}, Errorf(EUNAUTHORIZED, "%s", why)
	}
	if !sa.EnableBasicAuth {
		return Principal{}, Errorf(EUNAUTHORIZED, "Basic Auth is off for this service account: use the OAuth2 token exchange, or switch Basic Auth on.")
	}
	a.recordUse(ctx, k.ID, UsedBasic, remoteAddr)
	return servicePrincipal(sa, remoteAddr), nil
}

// Bearer authenticates an access token. A token dies with its key or
// account, and is refused while either is disabled, or once its key has
// expired or its rotation grace has ended: both are read on every request.
// A disable ends it for good: disabling and enabling delete the tokens
// (see setKeyDisabled).
func (a *APIAuth) Bearer(ctx context.Context, token, remoteAddr string) (Principal, error) {
	if len(token) != 64 {
		return Principal{}, errBadCredentials401
	}
	t, err := a.store.AccessTokenByHash(ctx, HashToken(token))
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return Principal{}, Errorf(EUNAUTHORIZED, "The access token is not valid or has expired.")
		}
		return Principal{}, err
	}
	if !a.now().Before(t.ExpireTime) {
		return Principal{}, Errorf(EUNAUTHORIZED, "The access token is not valid or has expired.")
	}
	k, sa, err := a.keyAccount(ctx, t.KeyID)
	if err != nil || sa.ID != t.ServiceAccountID {
		if err != nil && ErrorCode(err) != ENOTFOUND {
			return Principal{}, err
		}
		return Principal{}, errBadCredentials401
	}
	if why := credentialRefusal(k, sa, a.now()); why != "" {
		return Principal{}, Errorf(EUNAUTHORIZED, "The access token is refused: %s", lowerFirst(why))
	}
	return servicePrincipal(sa, remoteAddr), nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// JWTHeader is the header of an assertion.
type JWTHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

// JWTClaims are the claims of an assertion.
type JWTClaims struct {
	Iss string          `json:"iss"`
	Aud json.RawMessage `json:"aud"`
	Iat *json.Number    `json:"iat"`
	Exp *json.Number    `json:"exp"`
}

// AssertionKeyID reads the key id of an assertion without checking it, so
// the token endpoint can rate-limit per key before doing the work. It reads
// the header exactly as Exchange does, so no header can slip past the limit
// and still name a key.
func AssertionKeyID(assertion string) string {
	parsed, err := ParseAssertion(assertion)
	if err != nil {
		return ""
	}
	return parsed.Header.Kid
}

// Exchange checks a JWT-bearer grant (RFC 7523) in the contract's order and
// issues an access token valid for an hour.
func (a *APIAuth) Exchange(ctx context.Context, grantType, assertion, remoteAddr string) (string, error) {
	if grantType != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		if grantType == "" {
			return "", &OAuthError{Code: "invalid_request", Description: "grant_type is missing."}
		}
		return "", &OAuthError{Code: "unsupported_grant_type", Description: "Only urn:ietf:params:oauth:grant-type:jwt-bearer is supported."}
	}
	if assertion == "" {
		return "", &OAuthError{Code: "invalid_request", Description: "assertion is missing."}
	}
	parsed, err := ParseAssertion(assertion)
	if err != nil {
		return "", err
	}
	h, c, sig := parsed.Header, parsed.Claims, parsed.Signature
	if h.Alg != "HS256" {
		return "", invalidGrant("The JWT must be signed with HS256.")
	}
	k, sa, err := a.keyAccount(ctx, h.Kid)
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return "", invalidGrant("No key has the JWT's kid.")
		}
		return "", err
	}
	if !strings.EqualFold(c.Iss, sa.Email) {
		return "", invalidGrant("The JWT's iss must be the service account's email.")
	}
	if !a.audienceOK(c.Aud) {
		// Name the expected value: "localhost" written for "127.0.0.1" (or
		// http for https) is the usual mistake, and the credentials file's
		// tokenEndpoint holds the right one.
		return "", invalidGrant(fmt.Sprintf("The JWT's aud must be this server's token endpoint, %q (the tokenEndpoint of the credentials file).", a.audiences[0]))
	}
	iat, err1 := claimTime(c.Iat)
	exp, err2 := claimTime(c.Exp)
	if err1 != nil || err2 != nil {
		return "", invalidGrant("The JWT must have iat and exp as Unix seconds.")
	}
	now := a.now()
	if iat.After(now.Add(ClockSkew)) {
		return "", invalidGrant("The JWT's iat is in the future.")
	}
	if !exp.After(now) {
		return "", invalidGrant("The JWT has expired.")
	}
	if !exp.After(iat) || exp.Sub(iat) > MaxAssertionLife {
		return "", invalidGrant("The JWT's exp must be after its iat, by at most 3600 seconds.")
	}
	plain, err := a.sealer.Open(k.Sealed, []byte(k.ID))
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, plain)
	mac.Write([]byte(parsed.SigningInput))
	if subtle.ConstantTimeCompare(mac.Sum(nil), sig) != 1 {
		return "", invalidGrant("The JWT's signature does not match the key's secret.")
	}
	// The key's and account's state, told only to who proved the secret.
	if why := credentialRefusal(k, sa, now); why != "" {
		return "", invalidGrant(why)
	}
	token := randomToken()
	t := AccessToken{Hash: HashToken(token), KeyID: k.ID, ServiceAccountID: sa.ID, ExpireTime: now.Add(AccessTokenTTL)}
	if err := a.store.CreateAccessToken(ctx, t); err != nil {
		return "", err
	}
	a.recordUse(ctx, k.ID, UsedToken, remoteAddr)
	return token, nil
}

// Assertion is a JWT split into its parts, not yet checked.
type Assertion struct {
	Header       JWTHeader
	Claims       JWTClaims
	Signature    []byte
	SigningInput string // header.claims, as signed
}

// ParseAssertion splits and decodes a compact JWT.
func ParseAssertion(assertion string) (Assertion, error) {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 || len(assertion) > 8192 {
		return Assertion{}, invalidGrant("The assertion is not a JWT (three base64url parts).")
	}
	var a Assertion
	if err := decodeSegment(parts[0], &a.Header); err != nil {
		return Assertion{}, invalidGrant("The JWT header is not valid base64url JSON.")
	}
	if err := decodeSegment(parts[1], &a.Claims); err != nil {
		return Assertion{}, invalidGrant("The JWT claims are not valid base64url JSON.")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return Assertion{}, invalidGrant("The JWT signature is not valid base64url.")
	}
	a.Signature, a.SigningInput = sig, parts[0]+"."+parts[1]
	return a, nil
}

func decodeSegment(seg string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}

func claimTime(n *json.Number) (time.Time, error) {
	if n == nil {
		return time.Time{}, errBadCredentials401
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > 1e11 {
		return time.Time{}, errBadCredentials401
	}
	return time.Unix(int64(f), 0), nil
}

func (a *APIAuth) audienceOK(raw json.RawMessage) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return a.knownAudience(one)
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		for _, s := range many {
			if a.knownAudience(s) {
				return true
			}
		}
	}
	return false
}

func (a *APIAuth) knownAudience(s string) bool {
	for _, want := range a.audiences {
		if s == want {
			return true
		}
	}
	return false
}

// recordUse writes a key's last use at most once per LastUseEvery, so
// busy keys do not turn every request into a write. A failed write is not
// the caller's problem: the request goes on.
func (a *APIAuth) recordUse(ctx context.Context, keyID, how, remoteAddr string) {
	now := a.now()
	a.mu.Lock()
	last, ok := a.lastUse[keyID]
	if ok && now.Sub(last) < LastUseEvery {
		a.mu.Unlock()
		return
	}
	a.lastUse[keyID] = now
	if len(a.lastUse) > 100_000 {
		for id, t := range a.lastUse {
			if now.Sub(t) >= LastUseEvery {
				delete(a.lastUse, id)
			}
		}
	}
	a.mu.Unlock()
	_ = a.store.Update(ctx, func(tx Tx) error { return tx.SetKeyLastUse(ctx, keyID, now, how, remoteAddr) })
}
