package sqlite

import (
	"os"
	"path/filepath"
	"syscall"
)

// writable reports why this process may not write path, or nil.
func writable(path string) error {
	return syscall.Access(path, 2 /* W_OK */)
}

// outOfSpace reports whether the filesystem holding the database at path
// is (nearly) full, or its files have reached the process's file-size limit.
func outOfSpace(path string) bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(path), &st); err == nil && st.Bavail*uint64(st.Bsize) < 1<<20 {
		return true
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil || lim.Cur == ^uint64(0) { // RLIM_INFINITY
		return false
	}
	for _, name := range []string{path, path + "-wal"} {
		// A page or a WAL frame no longer fits under the limit.
		if info, err := os.Stat(name); err == nil && uint64(info.Size())+64<<10 > lim.Cur {
			return true
		}
	}
	return false
}
