package jwtbearer_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"studio/internal/jwtbearer"
)

// TestAssertion checks an assertion against RFC 7515 by hand: three
// base64url parts, the header and claims a client must send, and an
// HMAC-SHA256 over the first two parts keyed with the secret.
func TestAssertion(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	got := jwtbearer.Assertion("key-1", "s3cret", `sa"1@example.com`, "http://studio.test/oauth2/token", now)
	parts := strings.Split(got, ".")
	if len(parts) != 3 {
		t.Fatalf("assertion %q has %d parts", got, len(parts))
	}
	var header map[string]string
	decodePart(t, parts[0], &header)
	if header["alg"] != "HS256" || header["kid"] != "key-1" || header["typ"] != "JWT" || len(header) != 3 {
		t.Errorf("header = %v", header)
	}
	var claims map[string]any
	decodePart(t, parts[1], &claims)
	if claims["iss"] != `sa"1@example.com` || claims["aud"] != "http://studio.test/oauth2/token" ||
		claims["iat"] != float64(1_700_000_000) || claims["exp"] != float64(1_700_003_600) || len(claims) != 4 {
		t.Errorf("claims = %v", claims)
	}
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if want := base64.RawURLEncoding.EncodeToString(mac.Sum(nil)); parts[2] != want {
		t.Errorf("signature %q, want %q", parts[2], want)
	}
}

func TestSignJSONFollowsTheHeadersAlg(t *testing.T) {
	for alg, sigLen := range map[string]int{"HS256": 43, "HS512": 86, "none": 0} {
		tok, err := jwtbearer.SignJSON(map[string]any{"alg": alg}, map[string]any{"iss": "x"}, []byte("k"))
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(tok, ".")
		if len(parts) != 3 || len(parts[2]) != sigLen {
			t.Errorf("%s: token %q, want a signature of %d characters", alg, tok, sigLen)
		}
	}
	if _, err := jwtbearer.SignJSON(map[string]any{"alg": "HS256"}, map[string]any{"bad": func() {}}, nil); err == nil {
		t.Error("claims that cannot be JSON were signed")
	}
}

func decodePart(t *testing.T, part string, v any) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatalf("part %q: %v", part, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("part %s: %v", raw, err)
	}
}
