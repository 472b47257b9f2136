package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"studio/app"
	"studio/db/sqlite"
	"studio/domain"
)

// serverKey returns the server key of the database in store, read from
// keyFile, and refuses a key that does not belong to that database.
//
// The database keeps a check value of its key (server_meta.key_check). A
// new key is made only for a database that holds no sealed secret: made
// for one that does, every existing key secret would fail, and keys made
// afterwards would be sealed with a key the original no longer matches.
// A database from before the check value had its key verified by opening
// one stored secret, then gets the check value. With create false (the
// backup command) a missing key file is only refused, never made.
func serverKey(ctx context.Context, store *sqlite.DB, keyFile, dbPath string, create bool) ([]byte, error) {
	keyID, sealed, hasSecrets, err := store.NewestSealedKey(ctx)
	if err != nil {
		return nil, err
	}
	stored, err := store.KeyCheck(ctx)
	if err != nil {
		return nil, err
	}
	// Sign-in secrets (TOTP seeds, passkeys, identity providers' client
	// secrets) are sealed with the same key: they forbid a new one too.
	signInSecrets, err := store.HasSealedSignInSecrets(ctx)
	if err != nil {
		return nil, err
	}
	key, err := readKeyFile(keyFile)
	if errors.Is(err, fs.ErrNotExist) {
		if hasSecrets || signInSecrets {
			return nil, fmt.Errorf("the server key file %s is missing, but the database %s holds key secrets sealed with its server key. "+
				"Put the key file that belongs to this database at %s (or give its path with --key-file or STUDIO_KEY_FILE). "+
				"No new key was made: it could not open those secrets", keyFile, dbPath, keyFile)
		}
		if !create {
			return nil, nil
		}
		key, err = createKeyFile(keyFile)
		if errors.Is(err, fs.ErrExist) {
			// Another process (the server, the command line) made it just now.
			key, err = readKeyFile(keyFile)
		}
		if err != nil {
			return nil, err
		}
		// Nothing is sealed with an older key, if there was one: the new
		// key's check value replaces its.
		if _, err := store.SetKeyCheck(ctx, keyCheck(key), true); err != nil {
			return nil, err
		}
		return key, nil
	}
	if err != nil {
		return nil, err
	}
	check := keyCheck(key)
	if stored == "" {
		if hasSecrets {
			sealer, err := domain.NewSealer(app.KeysFrom(key).Sealer)
			if err != nil {
				return nil, err
			}
			if _, err := sealer.Open(sealed, []byte(keyID)); err != nil {
				return nil, wrongKey(keyFile, dbPath)
			}
		}
		if stored, err = store.SetKeyCheck(ctx, check, false); err != nil {
			return nil, err
		}
	}
	if !hmac.Equal([]byte(stored), []byte(check)) {
		return nil, wrongKey(keyFile, dbPath)
	}
	return key, nil
}

func wrongKey(keyFile, dbPath string) error {
	return fmt.Errorf("the server key in %s does not belong to the database %s: it cannot open the key secrets stored there. "+
		"Put the key file that belongs to this database at %s (or give its path with --key-file or STUDIO_KEY_FILE)", keyFile, dbPath, keyFile)
}

// keyCheck is the check value of a server key: an HMAC of a fixed label
// under a key derived for this purpose only, so it tells nothing of the
// keys derived for sealing and cookies.
func keyCheck(key []byte) string {
	m := hmac.New(sha256.New, app.DeriveKey(key, "key check"))
	m.Write([]byte("this server key seals this database's secrets"))
	return hex.EncodeToString(m.Sum(nil))
}

// readKeyFile reads the 32-byte server key (hex) from path. A file others
// may read is refused.
func readKeyFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("read server key file: %w", err)
	}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("server key file %s is readable by others (mode %o): run chmod 600 %s", path, info.Mode().Perm(), path)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("server key file %s must hold 64 hex characters", path)
	}
	return key, nil
}

// createKeyFile makes a new server key in a new file of mode 0600. The
// file appears whole or not at all (written aside, then linked in place),
// and an existing file is never overwritten (fs.ErrExist): two processes
// starting at once end up with one key.
func createKeyFile(path string) ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".studio.key-*")
	if err != nil {
		return nil, fmt.Errorf("create server key file: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.WriteString(hex.EncodeToString(key) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("create server key file: %w", err)
	}
	if err := os.Link(f.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		return nil, fmt.Errorf("create server key file: %w", err)
	}
	return key, nil
}
