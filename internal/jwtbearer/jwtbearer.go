// Package jwtbearer is the client's side of the OAuth2 JWT-bearer grant
// (api-v2.md, POST /oauth2/token): it signs the assertion a service account
// sends. The tests and the load program use it; the server checks
// assertions in domain (apiauth.go) and never uses this package.
package jwtbearer

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"time"
)

// GrantType is the grant_type of the token request.
const GrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// Lifetime is how long Assertion's assertions are valid, the most the
// server accepts.
const Lifetime = time.Hour

// Assertion is what a well-behaved client sends: HS256 keyed with the
// secret's bytes, the key id in the header, the account's email as issuer,
// the token endpoint's URL as audience, valid for Lifetime from now.
func Assertion(keyID, secret, email, audience string, now time.Time) string {
	header := fmt.Sprintf(`{"alg":"HS256","kid":%s,"typ":"JWT"}`, quote(keyID))
	claims := fmt.Sprintf(`{"iss":%s,"aud":%s,"iat":%d,"exp":%d}`, quote(email), quote(audience),
		now.Unix(), now.Add(Lifetime).Unix())
	return Sign("HS256", []byte(header), []byte(claims), []byte(secret))
}

// SignJSON encodes header and claims as JSON and signs them with the
// algorithm the header names (see Sign).
func SignJSON(header, claims map[string]any, key []byte) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("JWT header: %w", err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("JWT claims: %w", err)
	}
	alg, _ := header["alg"].(string)
	return Sign(alg, h, c, key), nil
}

// Sign joins header and claims, taken as they are (a test may send broken
// JSON), base64url-encoded, and signs them with HMAC-SHA256 for alg
// "HS256" or HMAC-SHA512 for "HS512". Any other alg gives an unsigned
// token ending in ".", as "none" does.
func Sign(alg string, header, claims, key []byte) string {
	signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	var newHash func() hash.Hash
	switch alg {
	case "HS256":
		newHash = sha256.New
	case "HS512":
		newHash = sha512.New
	default:
		return signing + "."
	}
	mac := hmac.New(newHash, key)
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// quote is s as a JSON string.
func quote(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b)
}
