package sqlite_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"studio/db/sqlite"
	"studio/domain"
)

// syncBuffer collects log lines written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// faultEnv is a store opened with options, its log, and a raw connection.
type faultEnv struct {
	*env
	logs *syncBuffer
}

func newFaultEnv(t *testing.T, opts sqlite.Options) *faultEnv {
	t.Helper()
	path := filepath.Join(t.TempDir(), "studio.db")
	logs := &syncBuffer{}
	opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	store, err := sqlite.OpenWith(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	c := newClock()
	return &faultEnv{env: &env{t: t, ctx: context.Background(), path: path, store: store, raw: openRaw(t, path), clock: c,
		accounts: domain.NewAccounts(store, domain.NewHasher(1), c.Now), projects: domain.NewProjects(store, c.Now),
		audit: domain.NewAuditLog(store)}, logs: logs}
}

// addUser is one write: a user with the given email.
func (e *env) addUser(ctx context.Context, email string) error {
	return e.store.Update(ctx, func(tx domain.Tx) error {
		u := domain.User{Email: email, DisplayName: "U", PasswordHash: "x", CreateTime: e.clock.Now()}
		return tx.CreateUser(ctx, &u)
	})
}

// holdWriteLock takes the database's write lock on a connection of its own,
// as another process would, until the returned function is called.
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	other := openRaw(t, path)
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			conn.ExecContext(context.Background(), "ROLLBACK")
			conn.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// wantUnavailable checks a refused write: EUNAVAILABLE, the message for
// people and programs, a Retry-After.
func wantUnavailable(t *testing.T, what string, err error, retryAfter int) {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.EUNAVAILABLE {
		t.Fatalf("%s: error %v, want EUNAVAILABLE", what, err)
	}
	if !strings.Contains(de.Message, "cannot save changes right now") {
		t.Errorf("%s: message %q does not say changes cannot be saved now", what, de.Message)
	}
	if de.RetryAfter != retryAfter {
		t.Errorf("%s: RetryAfter %d, want %d", what, de.RetryAfter, retryAfter)
	}
}

// Issue 20, item 3: with 32 writers waiting for a lock another connection
// holds, reads still answer at once; once the lock is released, every
// write goes through. (Before: writers waiting in the busy handler held
// all eight pooled connections, and a read waited for the lock too.)
func TestReadsAnswerWhileWritersWaitForALock(t *testing.T) {
	e := newEnv(t)
	b := e.bootstrap()
	release := holdWriteLock(t, e.path)

	const writers = 32
	errs := make(chan error, writers)
	for i := 0; i < writers; i++ {
		go func() { errs <- e.addUser(e.ctx, fmt.Sprintf("writer%d@example.com", i)) }()
	}
	time.Sleep(200 * time.Millisecond) // every writer is waiting by now

	// A liveness bound, not a speed figure: a read must not wait for the lock.
	const bound = 50 * time.Millisecond
	for i := 0; i < 10; i++ {
		start := time.Now()
		if _, err := e.store.ProjectByID(e.ctx, b.inventory.ID); err != nil {
			t.Fatal(err)
		}
		if n, err := e.store.CountUsers(e.ctx); err != nil || n != 1 {
			t.Fatalf("CountUsers = %d, %v while the writers wait", n, err)
		}
		if took := time.Since(start); took > bound {
			t.Fatalf("read %d took %s while writers waited for the lock, want under %s", i, took, bound)
		}
	}
	select {
	case err := <-errs:
		t.Fatalf("a writer ended while the lock was held: %v", err)
	default:
	}

	release()
	for i := 0; i < writers; i++ {
		if err := <-errs; err != nil {
			t.Errorf("write after the lock was released: %v", err)
		}
	}
	if n := e.count("SELECT count(*) FROM users WHERE email LIKE 'writer%'"); n != writers {
		t.Errorf("%d writers' users stored, want %d", n, writers)
	}
}

// Writers get the writer connection in the order they asked for it.
func TestWritersTakeTurnsInArrivalOrder(t *testing.T) {
	e := newEnv(t)
	release := holdWriteLock(t, e.path)
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	const writers = 10
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := e.store.Update(e.ctx, func(tx domain.Tx) error {
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
		time.Sleep(20 * time.Millisecond) // arrive one after the other
	}
	release()
	wg.Wait()
	for i, w := range order {
		if w != i {
			t.Fatalf("writers ran in the order %v, want 0..%d", order, writers-1)
		}
	}
}

// A lock held by another process past the busy timeout: the write is
// refused as unavailable (for a moment: Retry-After 5), health says
// "failing: locked", the log says so once; after the release, writes work
// and health is ok again. Nothing acknowledged is lost, nothing refused
// is stored.
func TestWriteRefusedWhileAnotherProcessHoldsTheLock(t *testing.T) {
	e := newFaultEnv(t, sqlite.Options{BusyTimeout: 100 * time.Millisecond})
	if err := e.addUser(e.ctx, "before@example.com"); err != nil {
		t.Fatal(err)
	}
	release := holdWriteLock(t, e.path)
	for i := 0; i < 3; i++ {
		wantUnavailable(t, "write while locked", e.addUser(e.ctx, fmt.Sprintf("refused%d@example.com", i)), 5)
	}
	if got := e.store.WriteHealth(); got != "failing: locked" {
		t.Errorf("WriteHealth = %q while locked", got)
	}
	if n := strings.Count(e.logs.String(), "database writes failing"); n != 1 {
		t.Errorf("the condition was logged %d times for three refused writes, want once:\n%s", n, e.logs)
	}
	if !strings.Contains(e.logs.String(), "condition=locked") {
		t.Errorf("the log does not name the condition:\n%s", e.logs)
	}

	release()
	if err := e.addUser(e.ctx, "after@example.com"); err != nil {
		t.Fatalf("write after the release: %v", err)
	}
	if got := e.store.WriteHealth(); got != "ok" {
		t.Errorf("WriteHealth = %q after a write worked", got)
	}
	if !strings.Contains(e.logs.String(), "database writes work again") {
		t.Errorf("the recovery is not logged:\n%s", e.logs)
	}
	if n := e.count("SELECT count(*) FROM users WHERE email IN ('before@example.com', 'after@example.com')"); n != 2 {
		t.Errorf("%d of the 2 acknowledged users stored", n)
	}
	if n := e.count("SELECT count(*) FROM users WHERE email LIKE 'refused%'"); n != 0 {
		t.Errorf("%d refused users stored", n)
	}
}

// The probe turns health back to ok once the condition is gone, without
// waiting for a client's write.
func TestWriteProbeNoticesRecovery(t *testing.T) {
	e := newFaultEnv(t, sqlite.Options{BusyTimeout: 50 * time.Millisecond})
	release := holdWriteLock(t, e.path)
	wantUnavailable(t, "write while locked", e.addUser(e.ctx, "refused@example.com"), 5)
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { e.store.WatchWrites(ctx, 20*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()

	time.Sleep(200 * time.Millisecond)
	if got := e.store.WriteHealth(); got != "failing: locked" {
		t.Errorf("WriteHealth = %q while the lock is still held", got)
	}
	release()
	deadline := time.Now().Add(5 * time.Second)
	for e.store.WriteHealth() != "ok" {
		if time.Now().After(deadline) {
			t.Fatalf("WriteHealth = %q 5 s after the lock was released", e.store.WriteHealth())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A corrupt page under a table: a write into it is refused as
// unavailable, never acknowledged; health says "failing: corrupt" and
// keeps saying it after a write elsewhere works (the file needs a restore).
func TestWriteIntoCorruptPageIsRefused(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 30; i++ {
		e.newUser(fmt.Sprintf("user%02d-with-a-long-enough-address@example.com", i), "")
	}
	e.store.Close()
	e.raw.Close()
	corruptTable(t, e.path, "users")

	f := &syncBuffer{}
	store, err := sqlite.OpenWith(e.ctx, e.path, sqlite.Options{Logger: slog.New(slog.NewTextHandler(f, nil))})
	if err != nil {
		t.Fatalf("Open without the integrity check: %v", err)
	}
	defer store.Close()
	e.store = store
	wantUnavailable(t, "write into the corrupt table", e.addUser(e.ctx, "new@example.com"), 60)
	if got := store.WriteHealth(); got != "failing: corrupt" {
		t.Errorf("WriteHealth = %q", got)
	}
	// A write elsewhere in the file works, and the condition stays.
	if err := store.Update(e.ctx, func(tx domain.Tx) error {
		return tx.CreateOrganization(e.ctx, domain.Organization{ID: domain.NewID(e.clock.Now()), DisplayName: "Elsewhere", CreateTime: e.clock.Now()})
	}); err != nil {
		t.Fatalf("write into a sound table: %v", err)
	}
	if got := store.WriteHealth(); got != "failing: corrupt" {
		t.Errorf("WriteHealth = %q after a write elsewhere, want it to stay failing: corrupt", got)
	}
	if !strings.Contains(f.String(), "condition=corrupt") || !strings.Contains(f.String(), "restore the last backup") {
		t.Errorf("the log does not name the condition and the remedy:\n%s", f)
	}
}

// Disk full, made with a file-size limit (RLIMIT_FSIZE) on this process:
// writes past it fail (EFBIG; SIGXFSZ is ignored), are refused as
// unavailable and named "disk full"; below the limit again, the probe
// finds writes work. Every acknowledged write is there.
func TestWriteRefusedWhenTheDiskIsFull(t *testing.T) {
	e := newFaultEnv(t, sqlite.Options{})
	signal.Ignore(syscall.SIGXFSZ)
	defer signal.Reset(syscall.SIGXFSZ)
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	var largest int64
	for _, name := range []string{e.path, e.path + "-wal"} {
		if info, err := os.Stat(name); err == nil && info.Size() > largest {
			largest = info.Size()
		}
	}
	limit := syscall.Rlimit{Cur: uint64(largest) + 128<<10, Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limit); err != nil {
		t.Skipf("cannot set a file-size limit here: %v", err)
	}
	restore := sync.OnceFunc(func() { syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old) })
	defer restore()

	var acked []string
	var refused error
	big := strings.Repeat("x", 4000)
	for i := 0; i < 1000 && refused == nil; i++ {
		email := fmt.Sprintf("fill%04d@example.com", i)
		err := e.store.Update(e.ctx, func(tx domain.Tx) error {
			u := domain.User{Email: email, DisplayName: big, PasswordHash: "x", CreateTime: e.clock.Now()}
			return tx.CreateUser(e.ctx, &u)
		})
		if err != nil {
			refused = err
			break
		}
		acked = append(acked, email)
	}
	restore()
	if refused == nil {
		t.Fatal("no write failed past the file-size limit")
	}
	wantUnavailable(t, "write past the file-size limit", refused, 60)
	if got := e.store.WriteHealth(); got != "failing: disk full" {
		t.Errorf("WriteHealth = %q", got)
	}
	if !strings.Contains(e.logs.String(), `condition="disk full"`) {
		t.Errorf("the log does not name the condition:\n%s", e.logs)
	}

	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { e.store.WatchWrites(ctx, 20*time.Millisecond); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for e.store.WriteHealth() != "ok" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if got := e.store.WriteHealth(); got != "ok" {
		t.Errorf("WriteHealth = %q once the limit is lifted", got)
	}
	for _, email := range acked {
		if _, err := e.store.UserByEmail(e.ctx, email); err != nil {
			t.Fatalf("acknowledged user %s: %v", email, err)
		}
	}
	if n := e.count("SELECT count(*) FROM users"); n != len(acked) {
		t.Errorf("%d users stored, %d acknowledged", n, len(acked))
	}
	if err := sqlite.CheckIntegrity(e.ctx, e.path); err != nil {
		t.Error(err)
	}
	t.Logf("%d writes acknowledged before the limit, then: %v", len(acked), refused)
}

// Close waits for the write in progress, which commits, and refuses the
// writes after it: a stop never loses a write it let start.
func TestCloseWaitsForTheWriteInProgress(t *testing.T) {
	e := newEnv(t)
	started := make(chan struct{})
	result := make(chan error, 1)
	go func() {
		result <- e.store.Update(e.ctx, func(tx domain.Tx) error {
			close(started)
			time.Sleep(200 * time.Millisecond)
			u := domain.User{Email: "slow@example.com", DisplayName: "S", PasswordHash: "x", CreateTime: e.clock.Now()}
			return tx.CreateUser(e.ctx, &u)
		})
	}()
	<-started
	if err := e.store.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-result:
		if err != nil {
			t.Fatalf("the write in progress at Close: %v", err)
		}
	default:
		t.Fatal("Close returned before the write in progress ended")
	}
	if n := e.count("SELECT count(*) FROM users WHERE email = 'slow@example.com'"); n != 1 {
		t.Error("the write in progress at Close is not stored")
	}
	if err := e.addUser(e.ctx, "late@example.com"); err == nil {
		t.Error("a write after Close succeeded")
	}
}
