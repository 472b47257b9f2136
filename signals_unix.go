//go:build unix

package main

import (
	"os/signal"
	"syscall"
)

// ignoreFileSizeSignal makes a write past the file-size limit (ulimit -f)
// fail with EFBIG, which SQLite reports and the server answers with 503,
// instead of the signal ending the process.
func ignoreFileSizeSignal() { signal.Ignore(syscall.SIGXFSZ) }
