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
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"studio/app"
	"studio/db/sqlite"
	"studio/domain"
	"studio/internal/jwtbearer"
)

// Figures of the crash test, tuned so the whole test (build included, with a
// warm build cache) stays well under a minute.
const (
	crashCycles = 10
	// More writers than the server's eight read connections and its one
	// writer: a cold statement cache once starved write transactions of a
	// connection here.
	crashWorkers    = 12
	crashMinUptime  = 100 * time.Millisecond
	crashMaxUptime  = 800 * time.Millisecond
	crashPassword   = "crash-safety-first-password"
	crashStartLimit = 20 * time.Second
)

// TestCrashSafety runs API write load against the real binary, kills it
// with SIGKILL at random moments, restarts it on the same database, and
// checks after every crash that the file is whole, and at the end that
// every write the client saw acknowledged is there and that no half-made
// object exists (issue 7, item 4).
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and kills the real binary; skipped with -short")
	}
	began := time.Now()
	dir := t.TempDir()
	bin := crashBuild(t, dir)
	built := time.Since(began)
	dbPath := filepath.Join(dir, "studio.db")
	addr := crashFreeAddr(t)
	base := "http://" + addr

	srv := &crashServer{t: t, bin: bin, dbPath: dbPath, addr: addr, dir: dir}
	t.Cleanup(srv.kill) // never leave a server running, whatever happens below
	if err := srv.start(); err != nil {
		t.Fatal(err)
	}
	creds := crashBootstrap(t, bin, dbPath, base)
	projectID := crashProjectOfEmail(t, creds.Email)

	api := &crashAPI{base: base, statuses: map[int]int{}, http: &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: crashWorkers * 2, DisableCompression: true},
	}}
	t.Cleanup(api.http.CloseIdleConnections)
	acked := &crashLedger{accounts: map[string]*crashAccount{}, keys: map[string]crashKey{}}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }() // the load stops before the cleanup kills the server

	survived := 0
	var lastToken string
	for cycle := 1; cycle <= crashCycles; cycle++ {
		// A token acknowledged before the crash must still work after it.
		if lastToken != "" {
			var proj struct {
				Name string `json:"name"`
			}
			status, err := api.call(context.Background(), http.MethodGet, "/v2/projects/"+projectID, lastToken, nil, &proj)
			if err != nil || status != http.StatusOK {
				t.Errorf("cycle %d: the access token acknowledged before the crash no longer works: status %d, %v", cycle, status, err)
			}
		}
		tok, err := crashRetry(func() (string, error) { return api.exchange(t, creds) })
		if err != nil {
			t.Fatalf("cycle %d: token exchange: %v\n%s", cycle, err, srv.logTail())
		}
		lastToken = tok
		acked.addToken(tok)
		api.token.Store(&tok)
		if cycle == 1 {
			for w := 0; w < crashWorkers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					crashWorker(ctx, api, acked, projectID, w)
				}()
			}
		}

		time.Sleep(crashMinUptime + mrand.N(crashMaxUptime-crashMinUptime))
		srv.kill()
		if err := sqlite.CheckIntegrity(context.Background(), dbPath); err != nil {
			t.Fatalf("cycle %d: after SIGKILL: %v", cycle, err)
		}
		if cycle < crashCycles {
			if err := srv.start(); err != nil {
				t.Fatalf("cycle %d: restart after SIGKILL: %v", cycle, err)
			}
		}
		survived++
	}
	cancel()
	wg.Wait()
	if n := api.serverErrors(); n > 0 {
		t.Errorf("the server answered %d requests of the load with 5xx (statuses %s); its logs say:\n%s", n, api.statusSummary(), crashLogErrors(dir))
	}

	verified := crashVerify(t, dir, dbPath, projectID, acked)

	// The server comes up once more on the crashed file, serves the data with
	// a token from before the crash, and stops cleanly on SIGTERM.
	if err := srv.start(); err != nil {
		t.Fatalf("final restart: %v", err)
	}
	var list struct {
		ServiceAccounts []struct {
			Name string `json:"name"`
		} `json:"serviceAccounts"`
		NextPageToken string `json:"nextPageToken"`
	}
	status, err := api.call(context.Background(), http.MethodGet, "/v2/projects/"+projectID+"/serviceaccounts?pageSize=1000", lastToken, nil, &list)
	if err != nil || status != http.StatusOK {
		t.Fatalf("final restart: list service accounts: status %d, %v", status, err)
	}
	if len(list.ServiceAccounts) < len(acked.accounts) && list.NextPageToken == "" {
		t.Errorf("final restart: the API lists %d service accounts, %d were acknowledged", len(list.ServiceAccounts), len(acked.accounts))
	}
	if err := srv.terminate(); err != nil {
		t.Errorf("final stop with SIGTERM: %v\n%s", err, srv.logTail())
	}
	if err := sqlite.CheckIntegrity(context.Background(), dbPath); err != nil {
		t.Errorf("after the clean stop: %v", err)
	}

	t.Logf("crash safety: %d SIGKILL/restart cycles survived; %d writes acknowledged (%s), %d verified in the database; "+
		"%d requests in all (%d failed on the connection: expected around kills); statuses %s; runtime %s (build %s)",
		survived, acked.count(), acked.summary(), verified, api.requests.Load(), api.connErrors.Load(), api.statusSummary(),
		time.Since(began).Round(time.Millisecond), built.Round(time.Millisecond))
}

// crashBuild builds the real binary once into dir.
func crashBuild(t *testing.T, dir string) string {
	t.Helper()
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "studio")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// crashFreeAddr picks a free loopback port; the server binds it again on
// every restart (Go listeners set SO_REUSEADDR).
func crashFreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// crashEnv is the environment of the child processes: ours without any
// STUDIO_ setting that could change what the flags say.
func crashEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STUDIO_") {
			env = append(env, kv)
		}
	}
	return append(env, "STUDIO_ADMIN_PASSWORD="+crashPassword)
}

// crashServer runs the binary as a child process.
type crashServer struct {
	t                      *testing.T
	bin, dbPath, addr, dir string
	extra                  []string // more flags

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	starts int
	log    string
}

// start runs the server and waits until /healthz answers 200.
func (s *crashServer) start() error {
	s.mu.Lock()
	if s.cmd != nil {
		s.mu.Unlock()
		return errors.New("server already running")
	}
	s.starts++
	s.log = filepath.Join(s.dir, fmt.Sprintf("server-%02d.log", s.starts))
	logf, err := os.Create(s.log)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	cmd := exec.Command(s.bin, append([]string{"--addr", s.addr, "--db", s.dbPath, "--base-url", "http://" + s.addr, "--rate-limit", "100000"}, s.extra...)...)
	cmd.Env = crashEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	// Should this test binary die without running its cleanups (a go test
	// timeout panics), the kernel kills the server with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		s.mu.Unlock()
		return err
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		logf.Close()
		close(done)
	}()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(crashStartLimit)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("server exited during start (%v)\n%s", cmd.ProcessState, s.logTail())
		default:
		}
		if resp, err := client.Get("http://" + s.addr + "/healthz"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("server did not answer /healthz within %s\n%s", crashStartLimit, s.logTail())
}

// pid is the running server's process id.
func (s *crashServer) pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd.Process.Pid
}

// kill sends SIGKILL, if the server runs, and waits until it is gone.
func (s *crashServer) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd, s.done = nil, nil
}

// terminate asks the server to stop with SIGTERM and waits (SIGKILL after 20 s).
func (s *crashServer) terminate() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	cmd, done := s.cmd, s.done
	s.cmd, s.done = nil, nil
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		return errors.New("server did not stop within 20 s of SIGTERM")
	}
	if !cmd.ProcessState.Success() {
		return fmt.Errorf("server exited with %v", cmd.ProcessState)
	}
	return nil
}

// logTail is the end of the current server log, for failure messages.
func (s *crashServer) logTail() string {
	b, _ := os.ReadFile(s.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// crashLogErrors collects the error lines of every server log in dir.
func crashLogErrors(dir string) string {
	logs, _ := filepath.Glob(filepath.Join(dir, "server-*.log"))
	var out []string
	for _, name := range logs {
		b, _ := os.ReadFile(name)
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "level=ERROR") && len(out) < 40 {
				out = append(out, filepath.Base(name)+": "+line)
			}
		}
	}
	return strings.Join(out, "\n")
}

// crashBootstrap makes the project admin account with the command line.
func crashBootstrap(t *testing.T, bin, dbPath, base string) credentials {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "serviceaccount", "create", "--db", dbPath, "--base-url", base,
		"--project", "Inventory", "--name", "Loader", "--project-role", "admin")
	cmd.Env = crashEnv()
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("serviceaccount create: %v\n%s", err, stderr.String())
	}
	var f credentialsFile
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("serviceaccount create printed no credentials file: %v", err)
	}
	c := f.ServiceAccount
	if c.KeyID == "" || c.Secret == "" || c.Email == "" || c.TokenEndpoint != base+"/oauth2/token" {
		t.Fatalf("credentials file = %+v", c)
	}
	return c
}

// crashRetry retries f while the server answers 5xx, for up to 15 s.
func crashRetry(f func() (string, error)) (string, error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		v, err := f()
		var se *crashStatusError
		if err == nil || !errors.As(err, &se) || se.status < 500 || time.Now().After(deadline) {
			return v, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// crashStatusError is an answer other than 200.
type crashStatusError struct {
	status int
	msg    string
}

func (e *crashStatusError) Error() string { return e.msg }

// crashProjectOfEmail reads the owning project id out of an account email.
func crashProjectOfEmail(t *testing.T, email string) string {
	t.Helper()
	_, host, _ := strings.Cut(email, "@")
	projectID, _, ok := strings.Cut(host, ".serviceaccount.")
	if !ok || !domain.ValidID(projectID) {
		t.Fatalf("email %q does not name a project", email)
	}
	return projectID
}

// crashAPI is the load's HTTP client; it counts every request.
type crashAPI struct {
	base       string
	http       *http.Client
	token      atomic.Pointer[string]
	requests   atomic.Int64
	connErrors atomic.Int64

	mu       sync.Mutex
	statuses map[int]int
}

// call sends one request. An error means no complete answer arrived (the
// connection failed or the body was cut): such a write is not acknowledged.
func (c *crashAPI) call(ctx context.Context, method, path, token string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return c.send(req, out)
}

func (c *crashAPI) send(req *http.Request, out any) (int, error) {
	c.requests.Add(1)
	resp, err := c.http.Do(req)
	if err != nil {
		c.connErrors.Add(1)
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.connErrors.Add(1)
		return 0, err
	}
	c.mu.Lock()
	c.statuses[resp.StatusCode]++
	c.mu.Unlock()
	if resp.StatusCode == http.StatusOK && out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s %s: %w (%q)", req.Method, req.URL.Path, err, raw)
		}
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, &crashStatusError{status: resp.StatusCode,
			msg: fmt.Sprintf("%s %s: status %d: %s", req.Method, req.URL.Path, resp.StatusCode, raw)}
	}
	return resp.StatusCode, nil
}

// exchange gets an access token with the JWT-bearer grant.
func (c *crashAPI) exchange(t *testing.T, cr credentials) (string, error) {
	assertion := jwtbearer.Assertion(cr.KeyID, cr.Secret, cr.Email, cr.TokenEndpoint, time.Now())
	form := url.Values{"grant_type": {jwtbearer.GrantType}, "assertion": {assertion}}
	req, err := http.NewRequest(http.MethodPost, c.base+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if _, err := c.send(req, &tok); err != nil {
		return "", err
	}
	if tok.AccessToken == "" {
		return "", errors.New("token endpoint answered without a token")
	}
	return tok.AccessToken, nil
}

// serverErrors counts 5xx answers.
func (c *crashAPI) serverErrors() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for code, count := range c.statuses {
		if code >= 500 {
			n += count
		}
	}
	return n
}

func (c *crashAPI) statusSummary() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	codes := make([]int, 0, len(c.statuses))
	for code := range c.statuses {
		codes = append(codes, code)
	}
	sort.Ints(codes)
	parts := make([]string, 0, len(codes))
	for _, code := range codes {
		parts = append(parts, fmt.Sprintf("%d×%d", c.statuses[code], code))
	}
	return strings.Join(parts, ", ")
}

// crashAccount is what the client knows of an acknowledged service account.
type crashAccount struct {
	email       string
	name        string // display name at the acknowledged create
	renameTo    string // the rename sent, "" when none was sent
	renameAcked bool
	memberAcked bool
}

type crashKey struct {
	accountID, secret string
}

// crashLedger records every write acknowledged with 200.
type crashLedger struct {
	mu       sync.Mutex
	accounts map[string]*crashAccount
	keys     map[string]crashKey
	tokens   []string
	// Project renames come from worker 0 only, one at a time, numbered.
	projectRenameAcked, projectRenameSent int
	projectRenames                        int // acknowledged
	refusals                              []string
}

func (l *crashLedger) addToken(tok string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tokens = append(l.tokens, tok)
}

func (l *crashLedger) refused(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.refusals) < 20 {
		l.refusals = append(l.refusals, err.Error())
	}
}

// count is the number of acknowledged writes.
func (l *crashLedger) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.accounts) + len(l.keys) + len(l.tokens) + l.projectRenames
	for _, a := range l.accounts {
		if a.renameAcked {
			n++
		}
		if a.memberAcked {
			n++
		}
	}
	return n
}

// summary says what the acknowledged writes were.
func (l *crashLedger) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var renames, members int
	for _, a := range l.accounts {
		if a.renameAcked {
			renames++
		}
		if a.memberAcked {
			members++
		}
	}
	return fmt.Sprintf("%d service accounts, %d keys, %d memberships, %d account renames, %d project renames, %d access tokens",
		len(l.accounts), len(l.keys), members, renames, l.projectRenames, len(l.tokens))
}

// crashWorker writes until ctx ends: a service account, a key for it, its
// membership in the project, a rename of it; worker 0 also renames the
// project. Writes the server refuses (not a dropped connection) are bugs.
func crashWorker(ctx context.Context, api *crashAPI, l *crashLedger, projectID string, w int) {
	pause := func() {
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
	// outcome tells an acknowledged write from a lost one. A 4xx refusal is
	// recorded as a failure: after a crash it means an acknowledged account or
	// token is gone. 5xx answers are counted by the client (see the report).
	outcome := func(status int, err error) bool {
		if err == nil {
			return true
		}
		if status >= 400 && status < 500 && ctx.Err() == nil {
			l.refused(err)
		}
		pause()
		return false
	}
	tok := func() string { return *api.token.Load() }
	prefix := "/v2/projects/" + projectID + "/serviceaccounts"
	for n := 1; ctx.Err() == nil; n++ {
		if w == 0 {
			l.mu.Lock()
			l.projectRenameSent++
			seq := l.projectRenameSent
			l.mu.Unlock()
			var proj struct {
				DisplayName string `json:"displayName"`
			}
			name := fmt.Sprintf("Inventory %d", seq)
			if outcome(api.call(ctx, http.MethodPatch, "/v2/projects/"+projectID, tok(), map[string]string{"displayName": name}, &proj)) {
				l.mu.Lock()
				l.projectRenameAcked = seq
				l.projectRenames++
				l.mu.Unlock()
			}
		}

		var sa struct {
			Name        string `json:"name"`
			Email       string `json:"email"`
			DisplayName string `json:"displayName"`
		}
		name := fmt.Sprintf("crash w%d n%d", w, n)
		if !outcome(api.call(ctx, http.MethodPost, prefix, tok(), map[string]string{"displayName": name}, &sa)) {
			continue
		}
		id := sa.Name[strings.LastIndex(sa.Name, "/")+1:]
		acct := &crashAccount{email: sa.Email, name: sa.DisplayName}
		l.mu.Lock()
		l.accounts[id] = acct
		l.mu.Unlock()
		if sa.Name != "projects/"+projectID+"/serviceaccounts/"+id || sa.DisplayName != name {
			l.refused(fmt.Errorf("create answered %+v for %q", sa, name))
		}

		var key struct {
			Key struct {
				ID string `json:"id"`
			} `json:"key"`
			Secret string `json:"secret"`
		}
		if outcome(api.call(ctx, http.MethodPost, prefix+"/"+id+"/keys", tok(), nil, &key)) {
			l.mu.Lock()
			l.keys[key.Key.ID] = crashKey{accountID: id, secret: key.Secret}
			l.mu.Unlock()
		}

		var member struct {
			Name string `json:"name"`
		}
		body := map[string]any{"roles": []string{string(domain.RoleProjectUser)}, "email": sa.Email}
		status, err := api.call(ctx, http.MethodPost, "/v2/projects/"+projectID+"/members", tok(), body, &member)
		if outcome(status, err) {
			l.mu.Lock()
			acct.memberAcked = true
			l.mu.Unlock()
		}

		rename := name + " renamed"
		l.mu.Lock()
		acct.renameTo = rename
		l.mu.Unlock()
		if outcome(api.call(ctx, http.MethodPatch, prefix+"/"+id, tok(), map[string]string{"displayName": rename}, &sa)) {
			l.mu.Lock()
			acct.renameAcked = true
			l.mu.Unlock()
		}
	}
}

// crashVerify opens the crashed database and checks every acknowledged
// write and that nothing is half made. It returns how many writes it checked.
func crashVerify(t *testing.T, dir, dbPath, projectID string, l *crashLedger) int {
	ctx := context.Background()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.refusals {
		t.Errorf("the server refused a write of the load (not a crash effect): %s", r)
	}

	store, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatalf("open after the crashes: %v", err)
	}
	defer store.Close()
	raw, err := sql.Open("sqlite", "file:"+(&url.URL{Path: dbPath}).EscapedPath()+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	serverKey, err := readKeyFile(filepath.Join(dir, "studio.key"))
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := domain.NewSealer(app.KeysFrom(serverKey).Sealer)
	if err != nil {
		t.Fatal(err)
	}

	verified := 0
	for id, a := range l.accounts {
		sa, err := store.ServiceAccountByID(ctx, id)
		if err != nil {
			t.Errorf("acknowledged service account %s: %v", id, err)
			continue
		}
		want := domain.ServiceAccountEmail(id, projectID, "d21s.com")
		if sa.Email == "" || sa.Email != want || a.email != want || sa.ProjectID != projectID {
			t.Errorf("service account %s: email %q (answered %q), project %s; want %q in %s", id, sa.Email, a.email, sa.ProjectID, want, projectID)
		}
		verified++
		switch {
		case a.renameAcked && sa.DisplayName != a.renameTo:
			t.Errorf("service account %s: acknowledged rename to %q lost: name is %q", id, a.renameTo, sa.DisplayName)
		case a.renameTo == "" && sa.DisplayName != a.name,
			sa.DisplayName != a.name && sa.DisplayName != a.renameTo:
			t.Errorf("service account %s: name %q, neither %q nor %q", id, sa.DisplayName, a.name, a.renameTo)
		}
		if a.renameAcked {
			verified++
		}
		if a.memberAcked {
			m, err := store.ProjectMembership(ctx, projectID, domain.AccountRef{Type: domain.AccountServiceAccount, ID: id})
			if err != nil {
				t.Errorf("acknowledged membership of %s: %v", id, err)
			} else if m.Role != domain.RoleProjectUser || m.Status != domain.StatusAccepted {
				t.Errorf("membership of %s: role %s, status %s", id, m.Role, m.Status)
			} else {
				verified++
			}
		}
	}
	for id, k := range l.keys {
		key, err := store.KeyByID(ctx, id)
		if err != nil {
			t.Errorf("acknowledged key %s: %v", id, err)
			continue
		}
		if key.ServiceAccountID != k.accountID || len(key.Sealed) == 0 {
			t.Errorf("key %s: account %s (want %s), sealed secret of %d bytes", id, key.ServiceAccountID, k.accountID, len(key.Sealed))
			continue
		}
		if plain, err := sealer.Open(key.Sealed, []byte(id)); err != nil || string(plain) != k.secret {
			t.Errorf("key %s: the sealed secret does not open to the secret the client got (%v)", id, err)
			continue
		}
		verified++
	}
	for i, tok := range l.tokens {
		var n int
		if err := raw.QueryRowContext(ctx, "SELECT count(*) FROM access_tokens WHERE token_hash = ?", domain.HashToken(tok)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("acknowledged access token #%d is not stored", i+1)
			continue
		}
		verified++
	}
	// Renames of the project are sequential: the name is the last acknowledged
	// one or the one sent after it, whose answer the crash swallowed.
	proj, err := store.ProjectByID(ctx, projectID)
	if err != nil {
		t.Fatal(err)
	}
	seq := 0
	if s, ok := strings.CutPrefix(proj.DisplayName, "Inventory "); ok {
		seq, _ = strconv.Atoi(s)
	}
	if seq < l.projectRenameAcked || seq > l.projectRenameSent {
		t.Errorf("project name %q: the last acknowledged rename was %d, the last sent %d", proj.DisplayName, l.projectRenameAcked, l.projectRenameSent)
	} else {
		verified += l.projectRenames
	}

	// Nothing half made: every check below must count zero.
	for _, c := range []struct{ what, query string }{
		{"keys without their service account", `SELECT count(*) FROM keys k LEFT JOIN service_accounts s ON s.id = k.service_account_id WHERE s.id IS NULL`},
		{"keys without a sealed secret", `SELECT count(*) FROM keys WHERE secret_sealed IS NULL OR length(secret_sealed) = 0`},
		{"service accounts without an email", `SELECT count(*) FROM service_accounts WHERE email = ''`},
		{"service accounts whose email is not <id>@<project>.serviceaccount.d21s.com",
			`SELECT count(*) FROM service_accounts WHERE email <> id || '@' || project_id || '.serviceaccount.d21s.com'`},
		{"project memberships without their service account", `SELECT count(*) FROM project_members m
			LEFT JOIN service_accounts s ON s.id = m.service_account_id WHERE m.service_account_id IS NOT NULL AND s.id IS NULL`},
		{"access tokens without their key", `SELECT count(*) FROM access_tokens t LEFT JOIN keys k ON k.id = t.key_id WHERE k.id IS NULL`},
		{"foreign key violations", `SELECT count(*) FROM pragma_foreign_key_check`},
		// Each change commits with its audit entry in one transaction.
		{"service accounts minus serviceaccount.create audit entries",
			`SELECT (SELECT count(*) FROM service_accounts) - (SELECT count(*) FROM audit_log WHERE action = 'serviceaccount.create')`},
		{"keys minus serviceaccount.key.create audit entries",
			`SELECT (SELECT count(*) FROM keys) - (SELECT count(*) FROM audit_log WHERE action = 'serviceaccount.key.create')`},
		{"project memberships of service accounts minus their membership.create audit entries",
			`SELECT (SELECT count(*) FROM project_members WHERE service_account_id IS NOT NULL)
			      - (SELECT count(*) FROM audit_log WHERE action = 'membership.create' AND project_id <> '' AND target_name LIKE '%.serviceaccount.%')`},
		{"renamed service accounts minus serviceaccount.update audit entries",
			`SELECT (SELECT count(*) FROM service_accounts WHERE update_time <> create_time)
			      - (SELECT count(*) FROM audit_log WHERE action = 'serviceaccount.update')`},
		{"project whose name differs from its last project.update audit entry",
			`SELECT count(*) FROM projects p WHERE p.display_name <> coalesce((SELECT a.target_name FROM audit_log a
			 WHERE a.action = 'project.update' AND a.target_id = p.id ORDER BY a.id DESC LIMIT 1), p.display_name)`},
	} {
		var n int
		if err := raw.QueryRowContext(ctx, c.query).Scan(&n); err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		if n != 0 {
			t.Errorf("%s: %d, want 0", c.what, n)
		}
	}
	return verified
}
