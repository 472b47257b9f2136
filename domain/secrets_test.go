package domain_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"testing"

	"studio/domain"
)

func testSealer(t *testing.T) *domain.Sealer {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	s, err := domain.NewSealer(key)
	if err != nil {
		t.Fatalf("NewSealer(32 bytes): %v", err)
	}
	return s
}

func TestSealerRoundTrip(t *testing.T) {
	s := testSealer(t)
	for _, plain := range []string{"", "x", "0123456789abcdef0123456789abcdef", string(bytes.Repeat([]byte{0, 255, 'a'}, 1000))} {
		ad := []byte("c18rs36olv9021epsv2g")
		sealed := s.Seal([]byte(plain), ad)
		if len(plain) >= 8 && bytes.Contains(sealed, []byte(plain)) {
			t.Errorf("sealed form of %d bytes contains the plaintext", len(plain))
		}
		if len(sealed) <= len(plain) {
			t.Errorf("sealed form is %d bytes for %d bytes of plaintext: no nonce or tag", len(sealed), len(plain))
		}
		got, err := s.Open(sealed, ad)
		if err != nil {
			t.Fatalf("Open(Seal(%d bytes)): %v", len(plain), err)
		}
		if string(got) != plain {
			t.Errorf("Open(Seal(x)) = %q, want %q", got, plain)
		}
	}
}

func TestSealerOtherAssociatedDataFails(t *testing.T) {
	s := testSealer(t)
	secret := []byte(domain.NewKeySecret())
	sealed := s.Seal(secret, []byte("c18rs36olv9021epsv2g"))
	for _, ad := range [][]byte{nil, []byte(""), []byte("c18rs36olv9021epsv2h"), []byte("C18RS36OLV9021EPSV2G"), []byte("c18rs36olv9021epsv2g ")} {
		if got, err := s.Open(sealed, ad); err == nil {
			t.Errorf("Open with associated data %q succeeded (%q), want an error", ad, got)
		}
	}
	// A sealed secret made without associated data does not open with some.
	bare := s.Seal(secret, nil)
	if _, err := s.Open(bare, []byte("x")); err == nil {
		t.Error("Open of a secret sealed without associated data succeeded with associated data")
	}
	if got, err := s.Open(bare, nil); err != nil || !bytes.Equal(got, secret) {
		t.Errorf("Open(bare, nil) = %q, %v", got, err)
	}
}

func TestSealerTamperedFails(t *testing.T) {
	s := testSealer(t)
	ad := []byte("c18rs36olv9021epsv2g")
	sealed := s.Seal([]byte(domain.NewKeySecret()), ad)
	// Flip each bit position class in every byte: nonce, ciphertext and tag.
	for i := range sealed {
		for _, bit := range []byte{0x01, 0x80} {
			bad := bytes.Clone(sealed)
			bad[i] ^= bit
			if got, err := s.Open(bad, ad); err == nil {
				t.Fatalf("Open with byte %d flipped (%#x) succeeded: %q", i, bit, got)
			}
		}
	}
	// Truncated, extended and empty forms fail without panicking.
	for name, bad := range map[string][]byte{
		"empty":        nil,
		"one byte":     sealed[:1],
		"nonce only":   sealed[:12],
		"no tag":       sealed[:len(sealed)-16],
		"last dropped": sealed[:len(sealed)-1],
		"extra byte":   append(bytes.Clone(sealed), 0),
	} {
		if got, err := s.Open(bad, ad); err == nil {
			t.Errorf("Open(%s) succeeded: %q", name, got)
		}
	}
	// The untouched form still opens (the loop did not modify it).
	if _, err := s.Open(sealed, ad); err != nil {
		t.Errorf("Open(original) after the tamper checks: %v", err)
	}
}

func TestSealerOtherKeyFails(t *testing.T) {
	a, b := testSealer(t), testSealer(t)
	sealed := a.Seal([]byte("secret"), []byte("ad"))
	if got, err := b.Open(sealed, []byte("ad")); err == nil {
		t.Errorf("a sealer with another key opened the secret: %q", got)
	}
}

func TestSealTwiceDiffers(t *testing.T) {
	s := testSealer(t)
	plain, ad := []byte(domain.NewKeySecret()), []byte("c18rs36olv9021epsv2g")
	seen := map[string]bool{}
	nonces := map[string]bool{}
	for i := 0; i < 50; i++ {
		sealed := s.Seal(plain, ad)
		if seen[string(sealed)] {
			t.Fatalf("Seal %d returned a sealed form seen before", i)
		}
		seen[string(sealed)] = true
		if nonces[string(sealed[:12])] {
			t.Fatalf("Seal %d reused a nonce", i)
		}
		nonces[string(sealed[:12])] = true
		if got, err := s.Open(sealed, ad); err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("Open(Seal %d) = %q, %v", i, got, err)
		}
	}
}

func TestNewSealerKeyLength(t *testing.T) {
	for _, n := range []int{0, 1, 16, 24, 31, 33, 64} {
		s, err := domain.NewSealer(make([]byte, n))
		if err == nil || s != nil {
			t.Errorf("NewSealer(%d-byte key) = %v, %v; want nil and an error", n, s, err)
		}
	}
	if _, err := domain.NewSealer(nil); err == nil {
		t.Error("NewSealer(nil) succeeded")
	}
	if s, err := domain.NewSealer(make([]byte, 32)); err != nil || s == nil {
		t.Errorf("NewSealer(32-byte key) = %v, %v", s, err)
	}
}

func TestNewKeySecret(t *testing.T) {
	shape := regexp.MustCompile(`^[0-9a-f]{32}$`)
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		s := domain.NewKeySecret()
		if !shape.MatchString(s) {
			t.Fatalf("NewKeySecret() = %q, want 32 lowercase hex characters", s)
		}
		if b, err := hex.DecodeString(s); err != nil || len(b) != 16 {
			t.Fatalf("NewKeySecret() = %q does not decode to 16 bytes", s)
		}
		if seen[s] {
			t.Fatalf("NewKeySecret() returned %q twice", s)
		}
		seen[s] = true
	}
}
