package domain

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

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
