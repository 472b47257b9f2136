package domain_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"studio/domain"
)

func TestHasherHashVerify(t *testing.T) {
	ctx := context.Background()
	h := domain.NewHasher(2)
	const pw = "correct horse battery staple"
	hash, err := h.Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$") {
		t.Errorf("hash %q is not an encoded argon2id hash", hash)
	}
	if strings.Contains(hash, pw) {
		t.Errorf("hash contains the password")
	}
	for _, c := range []struct {
		pw   string
		want bool
	}{
		{pw, true},
		{"correct horse battery stapl", false},
		{"Correct horse battery staple", false},
		{pw + " ", false},
		{"", false},
	} {
		ok, err := h.Verify(ctx, hash, c.pw)
		if err != nil || ok != c.want {
			t.Errorf("Verify(hash, %q) = %v, %v; want %v, nil", c.pw, ok, err, c.want)
		}
	}

	// Same password, new salt: a different hash, both verify.
	hash2, err := h.Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	if hash2 == hash {
		t.Errorf("two hashes of one password are equal (no salt?): %q", hash)
	}
	if salt := func(s string) string { return strings.Split(s, "$")[4] }; salt(hash) == salt(hash2) {
		t.Errorf("two hashes share the salt %q", salt(hash))
	}
	if ok, err := h.Verify(ctx, hash2, pw); !ok || err != nil {
		t.Errorf("Verify(second hash) = %v, %v", ok, err)
	}
}

func TestHasherUnicodePassword(t *testing.T) {
	ctx := context.Background()
	h := domain.NewHasher(1)
	pw := "pässwörd – 北京 😀"
	hash, err := h.Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := h.Verify(ctx, hash, pw); !ok {
		t.Error("unicode password does not verify")
	}
	// NFC vs NFD spelling are different byte strings: not equal.
	if ok, _ := h.Verify(ctx, hash, "pa\u0308sswörd – 北京 😀"); ok {
		t.Error("a different byte sequence verified")
	}
}

func TestHasherRejectsEmptyAndMalformedHashes(t *testing.T) {
	ctx := context.Background()
	h := domain.NewHasher(2)
	const pw = "correct horse battery staple"
	good, err := h.Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	join := func(p []string) string { return strings.Join(p, "$") }
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return join(p)
	}
	for _, c := range []struct{ name, hash string }{
		{"empty", ""},
		{"garbage", "not-a-hash"},
		{"the password itself", pw},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", with(1, "argon2i")},
		{"wrong version", with(2, "v=16")},
		{"bad params", with(3, "m=abc")},
		{"zero memory", with(3, "m=0,t=2,p=1")},
		{"huge memory", with(3, "m=4194304,t=2,p=1")},
		{"zero time", with(3, "m=19456,t=0,p=1")},
		{"huge time", with(3, "m=19456,t=1000,p=1")},
		{"zero threads", with(3, "m=19456,t=2,p=0")},
		{"bad salt", with(4, "!!!")},
		{"bad key", with(5, "!!!")},
		{"empty key", with(5, "")},
		{"truncated key", with(5, parts[5][:10])},
		{"missing part", join(parts[:5])},
		{"extra part", good + "$x"},
		{"other salt", with(4, "AAAAAAAAAAAAAAAAAAAAAA")},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			ok, err := h.Verify(ctx, c.hash, pw)
			if err != nil {
				t.Errorf("Verify(%q) error %v, want none", c.hash, err)
			}
			if ok {
				t.Errorf("Verify(%q) = true", c.hash)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Verify(%q) took %v: hash parameters are not bounded", c.hash, d)
			}
		})
	}
	// An empty password against an empty hash (a pending user) never matches.
	if ok, err := h.Verify(ctx, "", ""); ok || err != nil {
		t.Errorf("Verify(\"\", \"\") = %v, %v; want false, nil", ok, err)
	}
}

func TestRandomPassword(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		pw := domain.RandomPassword()
		if len(pw) != 20 {
			t.Errorf("RandomPassword() = %q, length %d, want 20", pw, len(pw))
		}
		if err := domain.CheckNewPassword("password", pw, "admin@example.com"); err != nil {
			t.Errorf("RandomPassword() = %q fails CheckNewPassword: %v", pw, err)
		}
		if strings.ContainsAny(pw, "01lIoO") {
			t.Errorf("RandomPassword() = %q has an ambiguous character", pw)
		}
		if seen[pw] {
			t.Errorf("RandomPassword() repeated %q", pw)
		}
		seen[pw] = true
	}
}
