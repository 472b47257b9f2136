//go:build !linux

package sqlite

// writable is checked on Linux only; elsewhere SQLite's own errors show.
func writable(path string) error { return nil }

// outOfSpace is known on Linux only.
func outOfSpace(path string) bool { return false }
