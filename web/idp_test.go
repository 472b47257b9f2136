package web_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// testIdP is a small OpenID provider inside the test: its own RSA key, a
// discovery document, a JWKS, an authorization endpoint that signs in
// whoever the test says (no login form), and a token endpoint that checks
// the client secret, the PKCE verifier and that a code is used once.
type testIdP struct {
	t            *testing.T
	srv          *httptest.Server
	key          *rsa.PrivateKey
	clientID     string
	clientSecret string
	now          func() time.Time

	mu sync.Mutex
	// user is who the authorization endpoint signs in next.
	user idpUser
	// tamper changes the claims of the ID tokens issued (a wrong issuer,
	// audience, expiry, nonce...).
	tamper func(claims map[string]any)
	codes  map[string]idpGrant
	// redeemed counts the codes exchanged at the token endpoint.
	redeemed int
	// verifier is the last PKCE verifier received.
	verifier string
}

func (idp *testIdP) lastVerifier() string {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	return idp.verifier
}

type idpUser struct {
	Subject  string
	Email    string
	Verified bool
	Name     string
}

type idpGrant struct {
	user      idpUser
	nonce     string
	challenge string
	redirect  string
}

func newTestIdP(t *testing.T, now func() time.Time) *testIdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	idp := &testIdP{t: t, key: key, clientID: "studio-client", clientSecret: "idp-client-secret-9f3b2c7d1e", now: now,
		codes: map[string]idpGrant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", idp.discovery)
	mux.HandleFunc("GET /jwks", idp.jwks)
	mux.HandleFunc("GET /authorize", idp.authorize)
	mux.HandleFunc("POST /token", idp.token)
	idp.srv = httptest.NewServer(mux)
	t.Cleanup(idp.srv.Close)
	return idp
}

func (idp *testIdP) issuer() string { return idp.srv.URL }

func (idp *testIdP) signIn(u idpUser) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.user = u
}

func (idp *testIdP) setTamper(f func(map[string]any)) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.tamper = f
}

func (idp *testIdP) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{
		"issuer":                                idp.issuer(),
		"authorization_endpoint":                idp.issuer() + "/authorize",
		"token_endpoint":                        idp.issuer() + "/token",
		"jwks_uri":                              idp.issuer() + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
}

func (idp *testIdP) jwks(w http.ResponseWriter, r *http.Request) {
	pub := idp.key.PublicKey
	writeJSON(w, map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "kid": "test-key", "use": "sig", "alg": "RS256",
		"n": b64url(pub.N.Bytes()), "e": b64url(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

func (idp *testIdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != idp.clientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || q.Get("state") == "" || q.Get("nonce") == "" || !strings.Contains(q.Get("scope"), "openid") {
		http.Error(w, "bad authorization request: "+r.URL.RawQuery, http.StatusBadRequest)
		return
	}
	code := b64url(randomBytes(idp.t, 16))
	idp.mu.Lock()
	idp.codes[code] = idpGrant{user: idp.user, nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
	idp.mu.Unlock()
	to, _ := url.Parse(q.Get("redirect_uri"))
	back := to.Query()
	back.Set("code", code)
	back.Set("state", q.Get("state"))
	to.RawQuery = back.Encode()
	http.Redirect(w, r, to.String(), http.StatusFound)
}

func (idp *testIdP) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.FormValue("client_id"), r.FormValue("client_secret")
	}
	if id != idp.clientID || secret != idp.clientSecret {
		w.WriteHeader(http.StatusUnauthorized)
		writeJSON(w, map[string]string{"error": "invalid_client"})
		return
	}
	idp.mu.Lock()
	g, found := idp.codes[r.FormValue("code")]
	delete(idp.codes, r.FormValue("code"))
	if found {
		idp.redeemed++
	}
	idp.verifier = r.FormValue("code_verifier")
	tamper := idp.tamper
	idp.mu.Unlock()
	sum := sha256.Sum256([]byte(r.FormValue("code_verifier")))
	if !found || r.FormValue("grant_type") != "authorization_code" || r.FormValue("redirect_uri") != g.redirect || b64url(sum[:]) != g.challenge {
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]string{"error": "invalid_grant"})
		return
	}
	now := idp.now()
	claims := map[string]any{
		"iss": idp.issuer(), "sub": g.user.Subject, "aud": idp.clientID, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"nonce": g.nonce, "email": g.user.Email, "email_verified": g.user.Verified, "name": g.user.Name,
	}
	if tamper != nil {
		tamper(claims)
	}
	writeJSON(w, map[string]any{"access_token": "idp-access-token", "token_type": "Bearer", "expires_in": 300, "id_token": idp.sign(claims)})
}

// sign makes an RS256 JWS of claims.
func (idp *testIdP) sign(claims map[string]any) string {
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "test-key"})
	payload, _ := json.Marshal(claims)
	input := b64url(header) + "." + b64url(payload)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, idp.key, crypto.SHA256, sum[:])
	if err != nil {
		idp.t.Fatal(err)
	}
	return input + "." + b64url(sig)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}
