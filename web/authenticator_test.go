package web_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"
)

// softAuthenticator is a passkey on a pretend device, for the HTTP tests
// (the browser tests use Chromium's virtual authenticator): a P-256 key
// pair, made when it registers with attestation "none", that signs
// assertions for the origin it was made for. userVerified says whether it
// claims to have verified its user (a PIN, a fingerprint).
type softAuthenticator struct {
	t            *testing.T
	origin, rpID string
	key          *ecdsa.PrivateKey
	credID       []byte
	userHandle   []byte
	counter      uint32
	userVerified bool
}

func newSoftAuthenticator(t *testing.T, origin, rpID string) *softAuthenticator {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &softAuthenticator{t: t, origin: origin, rpID: rpID, key: key, credID: randomBytes(t, 16), userVerified: true}
}

type webauthnOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		ExcludeCredentials []struct {
			ID string `json:"id"`
		} `json:"excludeCredentials"`
		AllowCredentials []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
	} `json:"publicKey"`
}

func parseOptions(t *testing.T, raw string) webauthnOptions {
	t.Helper()
	var o webauthnOptions
	if err := json.Unmarshal([]byte(raw), &o); err != nil || o.PublicKey.Challenge == "" {
		t.Fatalf("WebAuthn options %q: %v", raw, err)
	}
	return o
}

func (a *softAuthenticator) flags(extra byte) byte {
	f := byte(0x01) | extra // user present
	if a.userVerified {
		f |= 0x04
	}
	return f
}

func (a *softAuthenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.origin, "crossOrigin": false})
	return b
}

// create answers creation options (navigator.credentials.create) with a
// new credential, as the browser's JSON.
func (a *softAuthenticator) create(options string) string {
	a.t.Helper()
	o := parseOptions(a.t, options)
	handle, err := base64.RawURLEncoding.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		a.t.Fatalf("user id %q: %v", o.PublicKey.User.ID, err)
	}
	a.userHandle = handle
	rpHash := sha256.Sum256([]byte(a.rpID))
	auth := append([]byte{}, rpHash[:]...)
	auth = append(auth, a.flags(0x40)) // attested credential data follows
	auth = binary.BigEndian.AppendUint32(auth, a.counter)
	auth = append(auth, make([]byte, 16)...) // AAGUID
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(a.credID)))
	auth = append(auth, a.credID...)
	auth = append(auth, a.coseKey()...)
	// {"fmt": "none", "attStmt": {}, "authData": auth} in CBOR.
	att := []byte{0xa3, 0x63, 'f', 'm', 't', 0x64, 'n', 'o', 'n', 'e', 0x67, 'a', 't', 't', 'S', 't', 'm', 't', 0xa0,
		0x68, 'a', 'u', 't', 'h', 'D', 'a', 't', 'a', 0x58, byte(len(auth))}
	att = append(att, auth...)
	return a.credential(map[string]any{
		"clientDataJSON":    b64url(a.clientData("webauthn.create", o.PublicKey.Challenge)),
		"attestationObject": b64url(att),
		"transports":        []string{"internal"},
	})
}

// coseKey is the public key as COSE (EC2, ES256, P-256) in CBOR.
func (a *softAuthenticator) coseKey() []byte {
	raw, err := a.key.PublicKey.Bytes() // 0x04 || x || y
	if err != nil || len(raw) != 65 {
		a.t.Fatalf("public key: %v", err)
	}
	x, y := raw[1:33], raw[33:]
	k := []byte{0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20}
	k = append(k, x...)
	k = append(k, 0x22, 0x58, 0x20)
	return append(k, y...)
}

// get answers request options (navigator.credentials.get) with an assertion.
func (a *softAuthenticator) get(options string) string {
	a.t.Helper()
	o := parseOptions(a.t, options)
	a.counter++
	rpHash := sha256.Sum256([]byte(a.rpID))
	auth := append([]byte{}, rpHash[:]...)
	auth = append(auth, a.flags(0))
	auth = binary.BigEndian.AppendUint32(auth, a.counter)
	cd := a.clientData("webauthn.get", o.PublicKey.Challenge)
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, auth...), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		a.t.Fatal(err)
	}
	return a.credential(map[string]any{
		"clientDataJSON":    b64url(cd),
		"authenticatorData": b64url(auth),
		"signature":         b64url(sig),
		"userHandle":        b64url(a.userHandle),
	})
}

func (a *softAuthenticator) credential(response map[string]any) string {
	b, _ := json.Marshal(map[string]any{"id": b64url(a.credID), "rawId": b64url(a.credID), "type": "public-key",
		"response": response, "clientExtensionResults": map[string]any{}, "authenticatorAttachment": "platform"})
	return string(b)
}
