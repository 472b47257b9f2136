//go:build linux

package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"studio/db/sqlite"
	"studio/internal/jwtbearer"

	"github.com/PuerkitoBio/goquery"
)

// TestFaults recreates an operator's bad day against the real binary
// (issue 20): disk full, a read-only file or filesystem, a write lock held
// by another connection, a corrupt page, a missing or wrong key file. For
// each it checks what clients get (status, Retry-After, message), what
// /healthz says, what the log says, and that nothing acknowledged is lost.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("fault tests build and run the real binary; skipped with -short")
	}
	bin := crashBuild(t, t.TempDir())
	t.Run("disk full", func(t *testing.T) { faultDiskFull(t, bin) })
	t.Run("lock held by another connection", func(t *testing.T) { faultLockHeld(t, bin) })
	t.Run("corrupt page", func(t *testing.T) { faultCorruptPage(t, bin) })
	t.Run("read-only file", func(t *testing.T) { faultReadOnlyFile(t, bin) })
	t.Run("read-only filesystem", func(t *testing.T) { faultReadOnlyFilesystem(t, bin) })
	t.Run("missing directory", func(t *testing.T) { faultMissingDirectory(t, bin) })
	t.Run("wrong or missing key file", func(t *testing.T) { faultKeyFile(t, bin) })
}

// fault is one subtest's server, its client and what it acknowledged.
type fault struct {
	t      *testing.T
	bin    string
	dir    string
	dbPath string
	srv    *crashServer
	base   string
	client *http.Client
	creds  credentials
	token  string
	projID string
	acked  []string // service account ids answered with 200
}

func newFault(t *testing.T, bin string, extra ...string) *fault {
	t.Helper()
	dir := t.TempDir()
	addr := crashFreeAddr(t)
	f := &fault{t: t, bin: bin, dir: dir, dbPath: filepath.Join(dir, "studio.db"), base: "http://" + addr,
		client: &http.Client{Timeout: 30 * time.Second}}
	f.srv = &crashServer{t: t, bin: bin, dbPath: f.dbPath, addr: addr, dir: dir, extra: extra}
	t.Cleanup(f.srv.kill)
	t.Cleanup(f.client.CloseIdleConnections)
	if err := f.srv.start(); err != nil {
		t.Fatal(err)
	}
	f.creds = crashBootstrap(t, bin, f.dbPath, f.base)
	f.projID = crashProjectOfEmail(t, f.creds.Email)
	f.token = f.exchange()
	return f
}

// do sends one API request and returns the status, headers and body.
func (f *fault) do(method, path string, body any) (int, http.Header, []byte) {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.base+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, raw
}

// exchange gets an access token; it fails the test unless the answer is 200.
func (f *fault) exchange() string {
	f.t.Helper()
	status, _, raw := f.tokenRequest()
	if status != http.StatusOK {
		f.t.Fatalf("token exchange: %d %s", status, raw)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(raw, &tok)
	return tok.AccessToken
}

func (f *fault) tokenRequest() (int, http.Header, []byte) {
	f.t.Helper()
	assertion := jwtbearer.Assertion(f.creds.KeyID, f.creds.Secret, f.creds.Email, f.creds.TokenEndpoint, time.Now())
	form := url.Values{"grant_type": {jwtbearer.GrantType}, "assertion": {assertion}}
	resp, err := f.client.Post(f.base+"/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, raw
}

// create makes a service account; it returns the status and body, and
// records the account when acknowledged.
func (f *fault) create(name string) (int, http.Header, []byte) {
	f.t.Helper()
	status, hdr, raw := f.do(http.MethodPost, "/v2/projects/"+f.projID+"/serviceaccounts", map[string]string{"displayName": name})
	if status == http.StatusOK {
		var sa struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(raw, &sa); err != nil {
			f.t.Fatal(err)
		}
		f.acked = append(f.acked, sa.Name[strings.LastIndex(sa.Name, "/")+1:])
	}
	return status, hdr, raw
}

// health answers GET /healthz, decoded strictly.
func (f *fault) health() (int, map[string]string) {
	f.t.Helper()
	resp, err := f.client.Get(f.base + "/healthz")
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status   string `json:"status"`
		Database string `json:"database"`
		Writes   string `json:"writes"`
	}
	dec := json.NewDecoder(resp.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		f.t.Fatalf("healthz body: %v", err)
	}
	return resp.StatusCode, map[string]string{"status": body.Status, "database": body.Database, "writes": body.Writes}
}

func (f *fault) wantHealth(wantStatus int, writes string) {
	f.t.Helper()
	status, body := f.health()
	want := map[string]string{"status": "ok", "database": "ok", "writes": writes}
	if wantStatus != http.StatusOK {
		want["status"] = "unavailable"
	}
	if status != wantStatus || fmt.Sprint(body) != fmt.Sprint(want) {
		f.t.Errorf("/healthz = %d %v, want %d %v", status, body, wantStatus, want)
	}
}

// waitHealth polls /healthz until writes says want (the probe runs every 10 s).
func (f *fault) waitHealth(writes string) {
	f.t.Helper()
	deadline := time.Now().Add(25 * time.Second)
	for {
		_, body := f.health()
		if body["writes"] == writes {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("/healthz writes = %q after 25 s, want %q", body["writes"], writes)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// wantUnavailable checks the API's answer to a write the database refused:
// 503, Retry-After, the contract's error body saying changes cannot be saved.
func wantUnavailable(t *testing.T, what string, status int, hdr http.Header, raw []byte, retryAfter int) {
	t.Helper()
	if status != http.StatusServiceUnavailable {
		t.Fatalf("%s: status %d (%s), want 503", what, status, raw)
	}
	if got := hdr.Get("Retry-After"); got != strconv.Itoa(retryAfter) {
		t.Errorf("%s: Retry-After %q, want %d", what, got, retryAfter)
	}
	var body struct {
		Error string `json:"error"`
		Code  int    `json:"code"`
		Help  string `json:"help"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("%s: error body %s: %v", what, raw, err)
	}
	if body.Code != 503 || !strings.Contains(body.Error, "cannot save changes right now") || !strings.HasSuffix(body.Help, "#503") {
		t.Errorf("%s: error body %+v", what, body)
	}
}

// logCount counts the lines of the server logs that contain s.
func (f *fault) logCount(s string) int {
	logs, _ := filepath.Glob(filepath.Join(f.dir, "server-*.log"))
	n := 0
	for _, name := range logs {
		b, _ := os.ReadFile(name)
		n += strings.Count(string(b), s)
	}
	return n
}

// verify checks, on the stopped server's file, that every acknowledged
// account is there and the file is whole.
func (f *fault) verify() {
	f.t.Helper()
	store, err := sqlite.Open(context.Background(), f.dbPath)
	if err != nil {
		f.t.Fatalf("open after the fault: %v", err)
	}
	defer store.Close()
	for _, id := range f.acked {
		if _, err := store.ServiceAccountByID(context.Background(), id); err != nil {
			f.t.Errorf("acknowledged service account %s: %v", id, err)
		}
	}
	if len(f.acked) == 0 {
		f.t.Error("nothing was acknowledged: the test checked nothing")
	}
}

// refusedStart runs the server binary, which must exit with an error
// before it serves; it returns what it printed.
func (f *fault) refusedStart(args ...string) string {
	f.t.Helper()
	return refusedStart(f.t, f.bin, append([]string{"--addr", crashFreeAddr(f.t), "--db", f.dbPath}, args...)...)
}

func refusedStart(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = crashEnv()
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("studio %v: %v (want exit status 1)\n%s", args, err, out)
	}
	if strings.Contains(string(out), "unable to open database file") {
		t.Errorf("the refusal is SQLite's words, not a cause: %s", out)
	}
	return string(out)
}

func wantSays(t *testing.T, what, out string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(out, p) {
			t.Errorf("%s: %q does not say %q", what, out, p)
		}
	}
}

// setFileSizeLimit sets RLIMIT_FSIZE of another process (prlimit(2)).
func setFileSizeLimit(t *testing.T, pid int, limit uint64) {
	t.Helper()
	lim := syscall.Rlimit{Cur: limit, Max: ^uint64(0)}
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), uintptr(syscall.RLIMIT_FSIZE),
		uintptr(unsafe.Pointer(&lim)), 0, 0, 0); errno != 0 {
		t.Skipf("cannot set the server's file-size limit here: %v", errno)
	}
}

// Disk full: a file-size limit set on the running server. Writes answer
// 503 with the message (API, token exchange, console sign-in with the
// email kept), reads go on, /healthz says "failing: disk full", the log
// says it once; with the limit lifted, writes work again.
func faultDiskFull(t *testing.T, bin string) {
	f := newFault(t, bin)
	for i := 0; i < 3; i++ {
		if status, _, raw := f.create(fmt.Sprintf("before %d", i)); status != http.StatusOK {
			t.Fatalf("create before the fault: %d %s", status, raw)
		}
	}
	console := f.signIn()
	// Not one more frame fits in the WAL, where every write goes: with any
	// room left, small writes (a token, a session) would still fit after a
	// larger one failed, as on a real disk with a few blocks free.
	wal, err := os.Stat(f.dbPath + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	setFileSizeLimit(t, f.srv.pid(), uint64(wal.Size()))
	lifted := false
	defer func() {
		if !lifted {
			setFileSizeLimit(t, f.srv.pid(), ^uint64(0))
		}
	}()

	var status int
	var hdr http.Header
	var raw []byte
	for i := 0; i < 2000; i++ {
		if status, hdr, raw = f.create(fmt.Sprintf("filling the disk %d", i)); status != http.StatusOK {
			break
		}
	}
	wantUnavailable(t, "create on a full disk", status, hdr, raw, 60)
	status, hdr, raw = f.create("once more")
	wantUnavailable(t, "a second create on a full disk", status, hdr, raw, 60)
	status, hdr, raw = f.tokenRequest()
	wantUnavailable(t, "token exchange on a full disk", status, hdr, raw, 60)
	f.wantHealth(http.StatusServiceUnavailable, "failing: disk full")
	if status, _, raw := f.do(http.MethodGet, "/v2/projects/"+f.projID+"/serviceaccounts?pageSize=5", nil); status != http.StatusOK {
		t.Errorf("a read on a full disk: %d %s", status, raw)
	}
	f.signInWhileFull()
	f.consoleFormWhileFull(console)
	if n := f.logCount("database writes failing"); n != 1 {
		t.Errorf("the condition was logged %d times, want once for all the refused writes", n)
	}
	if f.logCount(`condition="disk full"`) != 1 {
		t.Error("the log does not name the condition")
	}

	setFileSizeLimit(t, f.srv.pid(), ^uint64(0))
	lifted = true
	if status, _, raw := f.create("after"); status != http.StatusOK {
		t.Fatalf("create once the disk has room: %d %s", status, raw)
	}
	f.wantHealth(http.StatusOK, "ok")
	if f.logCount("database writes work again") != 1 {
		t.Error("the recovery is not logged")
	}
	if err := f.srv.terminate(); err != nil {
		t.Fatal(err)
	}
	f.verify()
	if err := sqlite.CheckIntegrity(context.Background(), f.dbPath); err != nil {
		t.Error(err)
	}
	t.Logf("disk full: %d writes acknowledged, then 503 (%s)", len(f.acked), raw)
}

// csrfToken is the double-submit token the console's test requests carry.
var csrfToken = strings.Repeat("ab", 32)

// signIn signs the administrator in on the console and returns a client
// holding the session.
func (f *fault) signIn() *http.Client {
	f.t.Helper()
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(f.base)
	jar.SetCookies(u, []*http.Cookie{{Name: "studio_csrf", Value: csrfToken, Path: "/"}})
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	f.t.Cleanup(c.CloseIdleConnections)
	resp, err := c.PostForm(f.base+"/signin", url.Values{"email": {"admin@example.com"}, "password": {crashPassword}, "_csrf": {csrfToken}})
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		f.t.Fatalf("console sign-in: %d", resp.StatusCode)
	}
	return c
}

// consoleFormWhileFull creates a service account on the console while the
// disk is full: the page comes back 503 with a banner and the name as
// typed; from an htmx form, a toast and nothing swapped.
func (f *fault) consoleFormWhileFull(c *http.Client) {
	f.t.Helper()
	post := func(htmx bool) (*http.Response, *goquery.Document) {
		form := url.Values{"displayName": {"Typed before the disk filled"}, "_csrf": {csrfToken}}
		req, _ := http.NewRequest(http.MethodPost, f.base+"/projects/"+f.projID+"/serviceaccounts", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if htmx {
			req.Header.Set("HX-Request", "true")
		}
		resp, err := c.Do(req)
		if err != nil {
			f.t.Fatal(err)
		}
		defer resp.Body.Close()
		doc, err := goquery.NewDocumentFromReader(resp.Body)
		if err != nil {
			f.t.Fatal(err)
		}
		return resp, doc
	}
	resp, doc := post(false)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "60" {
		f.t.Errorf("console create on a full disk: %d, Retry-After %q; want 503, 60", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if banner := doc.Find(`[data-testid="flash"]`).Text(); !strings.Contains(banner, "cannot save changes right now") {
		f.t.Errorf("console create on a full disk: banner %q", banner)
	}
	if v, _ := doc.Find(`[data-testid="new-sa-name"]`).Attr("value"); v != "Typed before the disk filled" {
		f.t.Errorf("console create on a full disk: the name field holds %q, want what was typed", v)
	}
	resp, doc = post(true)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("HX-Reswap") != "none" {
		f.t.Errorf("htmx create on a full disk: %d, HX-Reswap %q; want 503 and nothing swapped", resp.StatusCode, resp.Header.Get("HX-Reswap"))
	}
	if toast := doc.Text(); !strings.Contains(toast, "cannot save changes right now") {
		f.t.Errorf("htmx create on a full disk: toast %q", toast)
	}
}

// signInWhileFull signs in on the console while the disk is full: the
// sign-in page comes back 503 with a banner and the email as typed.
func (f *fault) signInWhileFull() {
	f.t.Helper()
	form := url.Values{"email": {"admin@example.com"}, "password": {crashPassword}, "_csrf": {csrfToken}}
	req, _ := http.NewRequest(http.MethodPost, f.base+"/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "studio_csrf", Value: csrfToken})
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		f.t.Errorf("console sign-in on a full disk: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if banner := doc.Find(`[data-testid="flash"]`).Text(); !strings.Contains(banner, "cannot save changes right now") {
		f.t.Errorf("console sign-in on a full disk: banner %q", banner)
	}
	if v, _ := doc.Find(`input[name="email"]`).Attr("value"); v != "admin@example.com" {
		f.t.Errorf("console sign-in on a full disk: the email field holds %q, want what was typed", v)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "studio_session" && c.MaxAge >= 0 {
			f.t.Errorf("a session cookie was set although nothing could be saved: %v", c)
		}
	}
}

// A write lock held by another connection: 32 writers wait, reads answer
// within 50 ms meanwhile, every write goes through once the lock is
// released. Held past the busy timeout, writes answer 503 ("locked",
// Retry-After 5) and /healthz says so until the lock is gone.
func faultLockHeld(t *testing.T, bin string) {
	f := newFault(t, bin)
	hold := func() (release func()) {
		raw, err := sql.Open("sqlite", "file:"+(&url.URL{Path: f.dbPath}).EscapedPath()+"?_pragma=busy_timeout(5000)")
		if err != nil {
			t.Fatal(err)
		}
		conn, err := raw.Conn(context.Background())
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
				raw.Close()
			})
		}
		t.Cleanup(release)
		return release
	}

	release := hold()
	const writers = 32
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, _, _ := f.create(fmt.Sprintf("waiting writer %d", i))
			mu.Lock()
			statuses[status]++
			mu.Unlock()
		}()
	}
	time.Sleep(300 * time.Millisecond) // the writers are waiting by now
	const bound = 50 * time.Millisecond
	for i := 0; i < 5; i++ {
		start := time.Now()
		status, _, raw := f.do(http.MethodGet, "/v2/projects/"+f.projID, nil)
		if took := time.Since(start); status != http.StatusOK || took > bound {
			t.Errorf("a read while %d writers wait for the lock: %d in %s (want 200 within %s) %s", writers, status, took, bound, raw)
		}
	}
	f.wantHealth(http.StatusOK, "ok") // waiting is not failing
	time.Sleep(700 * time.Millisecond)
	release()
	wg.Wait()
	if statuses[http.StatusOK] != writers {
		t.Fatalf("after the lock was released the writers got %v, want %d×200", statuses, writers)
	}

	// Past the busy timeout.
	release = hold()
	status, hdr, raw := f.create("refused while locked")
	wantUnavailable(t, "create while another process holds the lock", status, hdr, raw, 5)
	f.wantHealth(http.StatusServiceUnavailable, "failing: locked")
	if f.logCount("condition=locked") != 1 {
		t.Error("the log does not name the condition once")
	}
	release()
	f.waitHealth("ok") // the probe finds the lock gone
	if status, _, raw := f.create("after the lock"); status != http.StatusOK {
		t.Fatalf("create after the lock: %d %s", status, raw)
	}
	if err := f.srv.terminate(); err != nil {
		t.Fatal(err)
	}
	f.verify()
	if len(f.acked) != writers+1 {
		t.Errorf("%d writes acknowledged, want %d", len(f.acked), writers+1)
	}
}

// A corrupt page: the start is refused with the path and how to restore a
// backup; started anyway (--skip-integrity-check), a write that meets the
// page answers 503, never 200, and /healthz says "failing: corrupt".
func faultCorruptPage(t *testing.T, bin string) {
	f := newFault(t, bin)
	for i := 0; i < 3; i++ {
		if status, _, raw := f.create(fmt.Sprintf("before %d", i)); status != http.StatusOK {
			t.Fatalf("create: %d %s", status, raw)
		}
	}
	if err := f.srv.terminate(); err != nil {
		t.Fatal(err)
	}
	corruptRootPage(t, f.dbPath, "audit_log")

	out := f.refusedStart()
	wantSays(t, "start on a corrupt file", out, f.dbPath, "corrupt", "restore the last good backup", "README, Restore")

	f.srv.extra = []string{"--skip-integrity-check"}
	if err := f.srv.start(); err != nil {
		t.Fatal(err)
	}
	f.wantHealth(http.StatusOK, "ok")
	before := len(f.acked)
	status, hdr, raw := f.create("into the corrupt page")
	wantUnavailable(t, "a write that meets the corrupt page", status, hdr, raw, 60)
	if len(f.acked) != before {
		t.Fatal("a write into the corrupt file was acknowledged")
	}
	f.wantHealth(http.StatusServiceUnavailable, "failing: corrupt")
	if status, _, raw := f.do(http.MethodGet, "/v2/projects/"+f.projID+"/serviceaccounts", nil); status != http.StatusOK {
		t.Errorf("a read of a sound table: %d %s", status, raw)
	}
	f.srv.kill()
	f.verify()
}

// corruptRootPage overwrites the root page of a table with garbage.
func corruptRootPage(t *testing.T, path, table string) {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath())
	if err != nil {
		t.Fatal(err)
	}
	var root, pageSize int64
	err = raw.QueryRow("SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?", table).Scan(&root)
	if err == nil {
		err = raw.QueryRow("PRAGMA page_size").Scan(&pageSize)
	}
	if err == nil {
		_, err = raw.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	}
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if _, err := file.WriteAt(bytes.Repeat([]byte{0xA5}, int(pageSize)), (root-1)*pageSize); err != nil {
		t.Fatal(err)
	}
}

// A read-only database file: the start is refused with the path and the
// cause (SQLite would open it read-only without a word and fail every
// change); once writable again, everything acknowledged is there.
func faultReadOnlyFile(t *testing.T, bin string) {
	f := newFault(t, bin)
	if status, _, raw := f.create("before"); status != http.StatusOK {
		t.Fatalf("create: %d %s", status, raw)
	}
	if err := f.srv.terminate(); err != nil {
		t.Fatal(err)
	}
	undo := readOnly(t, f.dbPath)
	out := f.refusedStart()
	wantSays(t, "start on a read-only file", out, f.dbPath)
	if !strings.Contains(out, "read-only") && !strings.Contains(out, "may not be written") {
		t.Errorf("start on a read-only file: %q does not give the cause", out)
	}
	undo()
	if err := f.srv.start(); err != nil {
		t.Fatal(err)
	}
	f.wantHealth(http.StatusOK, "ok")
	f.srv.kill()
	f.verify()
}

// readOnly makes path unwritable for the server: chmod for a normal user,
// the immutable attribute for root (whom modes do not stop).
func readOnly(t *testing.T, path string) (undo func()) {
	t.Helper()
	if os.Getuid() != 0 {
		if err := os.Chmod(path, 0o400); err != nil {
			t.Fatal(err)
		}
		return func() { os.Chmod(path, 0o600) }
	}
	if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
		t.Skipf("running as root, and chattr +i is not possible here: %v %s", err, out)
	}
	undo = sync.OnceFunc(func() { exec.Command("chattr", "-i", path).Run() })
	t.Cleanup(undo)
	return undo
}

// A read-only filesystem (a read-only bind mount in a mount namespace of
// its own): the start is refused with the path and the cause.
func faultReadOnlyFilesystem(t *testing.T, bin string) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "studio.db")
	script := fmt.Sprintf("mount --bind %[1]q %[1]q && mount -o remount,bind,ro %[1]q && exec %[2]q --addr 127.0.0.1:0 --db %[3]q",
		dir, bin, dbPath)
	probe := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", fmt.Sprintf("mount --bind %[1]q %[1]q", dir))
	if out, err := probe.CombinedOutput(); err != nil {
		t.Skipf("no mount namespace for a read-only bind mount here: %v %s", err, out)
	}
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script)
	cmd.Env = crashEnv()
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("start on a read-only filesystem: %v (want exit status 1)\n%s", err, out)
	}
	wantSays(t, "start on a read-only filesystem", string(out), dbPath, "read-only filesystem")
	if strings.Contains(string(out), "unable to open database file") {
		t.Errorf("the refusal is SQLite's words: %s", out)
	}
}

// A missing directory: the start is refused with the path and the cause.
func faultMissingDirectory(t *testing.T, bin string) {
	dir := filepath.Join(t.TempDir(), "not", "made")
	out := refusedStart(t, bin, "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "studio.db"))
	wantSays(t, "start in a missing directory", out, filepath.Join(dir, "studio.db"), "does not exist", "mkdir -p "+dir)
}

// A missing or wrong key file beside a database with sealed secrets: the
// start is refused with where the right key is expected, no key file is
// made; with the right key back, the credentials made before work.
func faultKeyFile(t *testing.T, bin string) {
	f := newFault(t, bin)
	if err := f.srv.terminate(); err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(f.dir, "studio.key")
	if err := os.Rename(keyPath, keyPath+".aside"); err != nil {
		t.Fatal(err)
	}
	out := f.refusedStart()
	wantSays(t, "start without the key file", out, keyPath+" is missing", f.dbPath, "Put the key file that belongs to this database at "+keyPath)
	if _, err := os.Stat(keyPath); err == nil {
		t.Fatal("a new key file was made beside a database with sealed secrets")
	}

	other := filepath.Join(f.dir, "other.key")
	if _, err := createKeyFile(other); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, keyPath); err != nil {
		t.Fatal(err)
	}
	out = f.refusedStart()
	wantSays(t, "start with another database's key", out, "server key in "+keyPath+" does not belong to the database "+f.dbPath)

	if err := os.Rename(keyPath+".aside", keyPath); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.start(); err != nil {
		t.Fatal(err)
	}
	f.token = f.exchange() // the key made before the fault still works
	if status, _, raw := f.create("after"); status != http.StatusOK {
		t.Fatalf("create with the right key: %d %s", status, raw)
	}
	f.srv.kill()
	f.verify()
}
