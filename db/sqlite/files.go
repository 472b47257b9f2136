package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// prepareFiles checks the database's directory and files before SQLite
// opens them, and creates a missing database file with mode 0600 so that
// nobody else can read it at any moment (SQLite creates the -wal and -shm
// files with the database file's mode). created tells that the file is new.
//
// SQLite itself would answer a missing directory with "unable to open
// database file", open a file it may not write read-only without a word
// (every change then fails), and take an empty file for a new database.
func prepareFiles(path string) (created bool, err error) {
	dir := filepath.Dir(path)
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("cannot open the database %s: the directory %s does not exist: create it (mkdir -p %s) or choose another --db", path, dir, dir)
	case err != nil:
		return false, fmt.Errorf("cannot open the database %s: %w", path, err)
	case !info.IsDir():
		return false, fmt.Errorf("cannot open the database %s: %s is not a directory", path, dir)
	}
	if err := writable(dir); err != nil {
		return false, fmt.Errorf("cannot open the database %s: its directory %s %s; SQLite keeps the -wal and -shm files beside the database, so the directory must be writable",
			path, dir, notWritable(err))
	}

	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return true, f.Close()
	}
	if !errors.Is(err, fs.ErrExist) {
		return false, fmt.Errorf("cannot create the database %s: %w", path, err)
	}

	info, err = os.Stat(path)
	if err != nil {
		return false, fmt.Errorf("cannot open the database %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return false, fmt.Errorf("cannot open the database %s: it is not a regular file", path)
	}
	var loose, modes []string
	var walSize int64
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		if err != nil {
			continue
		}
		if name == path+"-wal" {
			walSize = fi.Size()
		}
		if fi.Mode().Perm()&0o077 != 0 {
			loose = append(loose, name)
			modes = append(modes, fmt.Sprintf("%s mode %o", filepath.Base(name), fi.Mode().Perm()))
		}
		if err := writable(name); err != nil {
			return false, fmt.Errorf("cannot open the database %s: %s %s; make it writable by the user running studio (chown, chmod 600 %s)",
				path, name, notWritable(err), name)
		}
	}
	if len(loose) > 0 {
		return false, fmt.Errorf("the database files are readable by other users (%s): run chmod 600 %s",
			strings.Join(modes, ", "), strings.Join(loose, " "))
	}
	if info.Size() == 0 && walSize == 0 {
		return false, fmt.Errorf("the database file %s exists but is empty, so it holds no Studio data: "+
			"if it should, restore a backup (README, Restore); to start a new database, remove the empty file", path)
	}
	return false, nil
}

// notWritable says why a path may not be written, after the path.
func notWritable(err error) string {
	switch {
	case errors.Is(err, syscall.EROFS):
		return "is on a read-only filesystem"
	case errors.Is(err, syscall.EACCES):
		return fmt.Sprintf("is read-only for this user (uid %d)", os.Getuid())
	case errors.Is(err, syscall.EPERM):
		return "may not be written (is it immutable? see lsattr)"
	}
	return fmt.Sprintf("cannot be written (%v)", err)
}
