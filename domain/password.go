package domain

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password length bounds, in characters.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 256
)

// MinLocalPartInPassword is the shortest email local part that a password
// may not contain: shorter ones ("al") are in too many good passwords.
const MinLocalPartInPassword = 3

// CheckNewPassword checks a password being set by (or for) the account
// with this email: between 12 and 256 characters, not only spaces, not one
// of the most common passwords, and not containing the email's local part
// (the name before the "@", in any case), which is the first thing an
// attacker who knows the address tries.
func CheckNewPassword(field, pw, email string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLength:
		return FieldError(field, "The password must be at least 12 characters long.")
	case n > MaxPasswordLength:
		return FieldError(field, "The password can be at most 256 characters long.")
	case strings.TrimSpace(pw) == "":
		return FieldError(field, "The password cannot be only spaces.")
	case IsCommonPassword(pw):
		return FieldError(field, "This password is one of the most common ones, which attackers try first. Choose another.")
	}
	local, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(email)), "@")
	if utf8.RuneCountInString(local) >= MinLocalPartInPassword && strings.Contains(strings.ToLower(pw), local) {
		return FieldError(field, fmt.Sprintf("The password cannot contain the name of your email address (%q). Choose another.", local))
	}
	return nil
}

//go:embed common_passwords.txt
var commonPasswordsFile string

// commonPasswords is the set of common_passwords.txt, read once.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 4096)
	lines := bufio.NewScanner(strings.NewReader(commonPasswordsFile))
	for lines.Scan() {
		if line := lines.Text(); line != "" && !strings.HasPrefix(line, "#") {
			set[line] = struct{}{}
		}
	}
	return set
})

// IsCommonPassword reports whether pw, in any case, is one of the common
// passwords of the embedded list (common_passwords.txt: those of 12
// characters or more, as shorter ones are refused anyway).
func IsCommonPassword(pw string) bool {
	_, ok := commonPasswords()[strings.ToLower(pw)]
	return ok
}

// Argon2id parameters: the OWASP minimum (19 MiB, 2 passes), about 25 ms here.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
)

// Hasher hashes and verifies passwords with argon2id, running at most a
// bounded number at once so a burst of sign-ins cannot exhaust memory.
type Hasher struct {
	slots chan struct{}
}

// NewHasher returns a Hasher that runs at most concurrency hashes at once.
func NewHasher(concurrency int) *Hasher {
	if concurrency < 1 {
		concurrency = 1
	}
	return &Hasher{slots: make(chan struct{}, concurrency)}
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns an encoded argon2id hash of pw with a fresh salt.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Verify reports whether pw matches the encoded hash, comparing in constant time.
// An empty or malformed hash never matches, but still costs one hash, so
// timing does not tell whether an account exists.
func (h *Hasher) Verify(ctx context.Context, encoded, pw string) (bool, error) {
	var version int
	var mem uint32
	var t uint32
	var threads uint8
	salt, want := []byte("studio-no-account"), make([]byte, argonKeyLen)
	mem, t, threads = argonMemoryKiB, argonTime, argonThreads
	valid := false
	if parts := strings.Split(encoded, "$"); len(parts) == 6 && parts[1] == "argon2id" {
		_, err1 := fmt.Sscanf(parts[2], "v=%d", &version)
		_, err2 := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &t, &threads)
		s, err3 := base64.RawStdEncoding.DecodeString(parts[4])
		k, err4 := base64.RawStdEncoding.DecodeString(parts[5])
		if err1 == nil && err2 == nil && err3 == nil && err4 == nil && version == argon2.Version &&
			mem > 0 && mem <= 256*1024 && t > 0 && t <= 10 && threads > 0 && len(k) > 0 {
			salt, want, valid = s, k, true
		} else {
			mem, t, threads = argonMemoryKiB, argonTime, argonThreads
		}
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(pw), salt, t, mem, threads, uint32(len(want)))
	return valid && subtle.ConstantTimeCompare(got, want) == 1, nil
}

// RandomPassword returns a password of 20 characters from crypto/rand,
// for the first administrator when none is configured.
func RandomPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
