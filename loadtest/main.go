// Command loadtest measures the studio server under load on loopback.
//
// It builds the studio binary, seeds a fresh database (or uses one given
// with --db), starts the server as a child process, signs in to the console
// and creates an API caller, then drives each route at several concurrency
// levels for a fixed time. Every figure comes with a baseline measured in
// the same run by the same client: a bare Echo handler on loopback that
// writes the same response bytes from memory, with no auth and no database.
// The result is a Markdown table on stdout; progress goes to stderr.
//
//	go run ./loadtest --seed-accounts 1000
//	go run ./loadtest --seed-accounts 1000000
//	go run ./loadtest --seed-accounts 1000000 --project-accounts 100000
//	go run ./loadtest --seed-accounts 100000 --quick
//	go run ./loadtest --db ./studio.db --org "Seeded 000" --project "Project 0000"
//
// The program stops by itself: every load point lasts --duration, and the
// server is always stopped at the end (also on Ctrl-C).
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"studio/domain"
	"studio/internal/jwtbearer"

	"github.com/labstack/echo/v4"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// options are the command-line settings.
type options struct {
	db              string
	seedAccounts    int
	projects        int
	projectAccounts int
	seedKeys        int
	org             string
	project         string
	adminEmail      string
	adminPassword   string
	concurrency     []int
	duration        time.Duration
	warmup          time.Duration
	repeat          int
	quick           bool
	routes          map[string]bool
	bin             string
	keep            bool
	jsonOut         string
	compare         string
	render          string
}

func parseOptions(args []string) (options, error) {
	var o options
	var conc, routes string
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: go run ./loadtest [flags]

Builds studio, seeds a database (or uses --db), starts the server on loopback
and measures each route against an in-memory Echo baseline. Routes: %s.

Flags:
`, strings.Join(routeNames(), ", "))
		fs.PrintDefaults()
	}
	fs.StringVar(&o.db, "db", "", "use this existing database (its studio.key must sit beside it, or set STUDIO_KEY_FILE); the run adds a service account \"load-caller\", deleted at the end, and access tokens")
	fs.IntVar(&o.seedAccounts, "seed-accounts", 0, "seed a fresh database in a temporary directory with this many service accounts in total (default 1000 when --db is not given)")
	fs.IntVar(&o.projects, "projects", 1, "projects to spread --seed-accounts over (each gets seed-accounts/projects accounts and as many memberships); the first is measured")
	fs.IntVar(&o.projectAccounts, "project-accounts", 0, "accounts per seeded project: sets --projects to seed-accounts/project-accounts")
	fs.IntVar(&o.seedKeys, "seed-keys", 0, "keys per seeded service account")
	fs.StringVar(&o.org, "org", "Seeded 000", "organization (id or name) of the project under test")
	fs.StringVar(&o.project, "project", "Project 0000", "project (id or name) under test; the seeder names them \"Project 0000\", \"Project 0001\", ...")
	fs.StringVar(&o.adminEmail, "admin-email", envOr("STUDIO_ADMIN_EMAIL", "admin@example.com"), "console administrator to sign in as")
	fs.StringVar(&o.adminPassword, "admin-password", envOr("STUDIO_ADMIN_PASSWORD", "load-test-password-1"), "its password (set as STUDIO_ADMIN_PASSWORD when seeding)")
	fs.StringVar(&conc, "concurrency", "1,16,64", "comma list of concurrent clients per point")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "how long each point (route × concurrency) runs, for the server and again for the baseline")
	fs.DurationVar(&o.warmup, "warmup", 300*time.Millisecond, "unmeasured load before each point")
	fs.IntVar(&o.repeat, "repeat", 1, "measure each point this many times and keep the best round (server and baseline each): for a machine that is not idle")
	fs.BoolVar(&o.quick, "quick", false, "smoke run: 1s per point, concurrency 1,16, no warmup (unless given explicitly)")
	fs.StringVar(&routes, "routes", "", "comma list of routes to run (default all)")
	fs.StringVar(&o.bin, "bin", "", "use this studio binary instead of building one")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (database, server log)")
	fs.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	fs.StringVar(&o.render, "render", "", "measure nothing: print the Markdown of this JSON results file (with --compare, against another)")
	fs.StringVar(&o.compare, "compare", "", "JSON results of an earlier run (e.g. at 1,000 accounts): print how much each point costs here relative to there")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.quick {
		if !set["duration"] {
			o.duration = time.Second
		}
		if !set["concurrency"] {
			conc = "1,16"
		}
		if !set["warmup"] {
			o.warmup = 0
		}
	}
	for _, s := range strings.Split(conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 10000 {
			return o, fmt.Errorf("--concurrency: %q is not a whole number from 1 to 10000", s)
		}
		o.concurrency = append(o.concurrency, n)
	}
	if o.duration <= 0 || o.duration > time.Hour || o.warmup < 0 || o.repeat < 1 || o.repeat > 100 {
		return o, errors.New("--duration must be positive and at most 1h; --warmup cannot be negative; --repeat is 1 to 100")
	}
	if routes != "" {
		o.routes = map[string]bool{}
		known := map[string]bool{}
		for _, n := range routeNames() {
			known[n] = true
		}
		for _, r := range strings.Split(routes, ",") {
			r = strings.TrimSpace(r)
			if !known[r] {
				return o, fmt.Errorf("--routes: unknown route %q (known: %s)", r, strings.Join(routeNames(), ", "))
			}
			o.routes[r] = true
		}
	}
	if o.db != "" && set["seed-accounts"] {
		return o, errors.New("give either --db or --seed-accounts, not both")
	}
	if o.db == "" {
		if o.seedAccounts == 0 {
			o.seedAccounts = 1000
		}
		if o.projectAccounts > 0 {
			o.projects = max(1, o.seedAccounts/o.projectAccounts)
		}
		if o.seedAccounts < 1 || o.projects < 1 || o.seedAccounts < o.projects || o.seedKeys < 0 {
			return o, errors.New("--seed-accounts must be at least --projects (and at least 1); --seed-keys cannot be negative")
		}
	}
	return o, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// apiPageSize is the API list's page size under test (the console shows 50).
const apiPageSize = 100

func run(ctx context.Context, args []string) error {
	o, err := parseOptions(args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	var prev *report
	if o.compare != "" {
		if prev, err = readReport(o.compare); err != nil {
			return fmt.Errorf("--compare: %w", err)
		}
	}
	if o.render != "" {
		rep, err := readReport(o.render)
		if err != nil {
			return fmt.Errorf("--render: %w", err)
		}
		writeMarkdown(os.Stdout, rep, prev)
		return nil
	}
	tmp, err := os.MkdirTemp("", "studio-loadtest-")
	if err != nil {
		return err
	}
	if o.keep {
		logf("keeping %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	// 1. The binary.
	bin, build := o.bin, "prebuilt "+o.bin
	if bin == "" {
		bin = filepath.Join(tmp, "studio")
		root, err := moduleRoot(ctx)
		if err != nil {
			return err
		}
		logf("building %s from %s", bin, root)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build: %w", err)
		}
		out, _ := exec.CommandContext(ctx, "git", "-C", root, "describe", "--always", "--dirty").Output()
		build = "built from " + root + " at " + strings.TrimSpace(string(out))
	}
	env := append(os.Environ(), "STUDIO_ADMIN_PASSWORD="+o.adminPassword, "STUDIO_ADMIN_EMAIL="+o.adminEmail)

	// 2. The database.
	meta := runMeta{Start: time.Now().UTC().Format(time.RFC3339), CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), LoadAvg: loadAverage(),
		Duration: o.duration.String(), Concurrency: o.concurrency, Repeat: o.repeat, Build: build}
	dbPath := o.db
	if dbPath == "" {
		dbPath = filepath.Join(tmp, "studio.db")
		per := o.seedAccounts / o.projects
		logf("seeding %d accounts: 1 organization, %d project(s) of %d accounts and %d memberships, %d keys each",
			per*o.projects, o.projects, per, per, o.seedKeys)
		start := time.Now()
		cmd := exec.CommandContext(ctx, bin, "seed", "--db", dbPath, "--orgs", "1", "--projects", strconv.Itoa(o.projects),
			"--accounts", strconv.Itoa(per), "--members", strconv.Itoa(per), "--keys", strconv.Itoa(o.seedKeys))
		cmd.Env, cmd.Stdout, cmd.Stderr = env, os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		meta.Seeded = fmt.Sprintf("%d accounts in %d project(s) of %d (and %d memberships each), seeded in %s",
			per*o.projects, o.projects, per, per, time.Since(start).Round(100*time.Millisecond))
	} else {
		if dbPath, err = filepath.Abs(dbPath); err != nil {
			return err
		}
		if _, err := os.Stat(dbPath); err != nil {
			return fmt.Errorf("--db: %w", err)
		}
		meta.Seeded = "existing database " + dbPath
	}
	if info, err := os.Stat(dbPath); err == nil {
		meta.DBSizeMiB = float64(info.Size()) / (1 << 20)
	}

	// 3. The server.
	port, err := freePort()
	if err != nil {
		return err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	srv, err := startServer(ctx, bin, env, dbPath, base, filepath.Join(tmp, "server.log"))
	if err != nil {
		return err
	}
	defer srv.stop()
	meta.ServerLog = srv.logPath
	logf("server pid %d on %s (log %s)", srv.cmd.Process.Pid, base, srv.logPath)
	idle, _ := readMemory(srv.cmd.Process.Pid)
	meta.IdleRSSMiB = idle.RSS

	// 4. Credentials and the pages under test.
	maxConc := 1
	for _, c := range o.concurrency {
		maxConc = max(maxConc, c)
	}
	transport := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        0, // no overall limit
		MaxIdleConnsPerHost: maxConc + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{
		Transport:     transport,
		Timeout:       60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	s := &setup{ctx: ctx, o: o, bin: bin, env: env, db: dbPath, base: base, client: client}
	if o.db != "" {
		defer s.deleteCaller() // before the server stops: deferred calls run last first
	}
	if err := s.prepare(); err != nil {
		return fmt.Errorf("%w (server log: %s)", err, srv.logPath)
	}
	meta.Project = s.projectID
	meta.ProjectAccounts = s.accountCount
	meta.ProjectMembers = s.memberCount
	meta.Notes = s.notes

	// 5. Load.
	rep := report{Meta: meta}
	for _, t := range s.targets() {
		if o.routes != nil && !o.routes[t.name] {
			continue
		}
		if t.skip != "" {
			rep.Meta.Notes = append(rep.Meta.Notes, fmt.Sprintf("%s (%s) skipped: %s", t.name, t.title, t.skip))
			logf("skip %s: %s", t.name, t.skip)
			continue
		}
		captured, err := s.capture(t)
		if err != nil {
			rep.Meta.Notes = append(rep.Meta.Notes, fmt.Sprintf("%s (%s) skipped: %v", t.name, t.title, err))
			logf("skip %s: %v", t.name, err)
			continue
		}
		bl, err := startBaseline(t, captured)
		if err != nil {
			return err
		}
		rep.Routes = append(rep.Routes, routeInfo{Name: t.name, Title: t.title, Method: t.method, Path: t.path, Bytes: len(captured.body)})
		for _, c := range o.concurrency {
			if ctx.Err() != nil {
				bl.close()
				return ctx.Err()
			}
			// Best of --repeat rounds, each the server then its baseline:
			// interference from other processes only ever slows a round down.
			var sv, b stats
			var mem memory
			other := -1.0
			for round := 0; round < o.repeat; round++ {
				before := sampleCPU(srv.cmd.Process.Pid)
				x := drive(ctx, client, base, t, c, o.warmup, o.duration)
				m, _ := readMemory(srv.cmd.Process.Pid)
				y := drive(ctx, client, bl.url, t, c, o.warmup, o.duration)
				oc := otherCPU(before, sampleCPU(srv.cmd.Process.Pid))
				if round == 0 || x.ReqPerSec > sv.ReqPerSec {
					sv, other = x, oc
				}
				if round == 0 || y.ReqPerSec > b.ReqPerSec {
					b = y
				}
				mem.RSS, mem.HWM = max(mem.RSS, m.RSS), max(mem.HWM, m.HWM)
			}
			p := point{Route: t.name, Concurrency: c, Server: sv, Baseline: b, RSSMiB: mem.RSS, HWMMiB: mem.HWM, OtherCPU: other}
			if b.ReqPerSec > 0 {
				p.Ratio = sv.ReqPerSec / b.ReqPerSec
			}
			rep.Points = append(rep.Points, p)
			rep.PeakHWMMiB = max(rep.PeakHWMMiB, mem.HWM)
			logf("%-14s c=%-4d %8.0f req/s p50 %6.2f ms p99 %7.2f ms errors %d | baseline %8.0f req/s | ratio %5.1f%% | RSS %.0f MiB | other CPU %.0f%%",
				t.name, c, sv.ReqPerSec, sv.P50ms, sv.P99ms, sv.Errors, b.ReqPerSec, 100*p.Ratio, mem.RSS, other)
			if sv.FirstError != "" {
				logf("  first server error: %s", sv.FirstError)
			}
		}
		bl.close()
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	mem, err := readMemory(srv.cmd.Process.Pid)
	if err == nil {
		rep.PeakHWMMiB = max(rep.PeakHWMMiB, mem.HWM)
		rep.FinalRSSMiB = mem.RSS
	}

	// 6. Report.
	writeMarkdown(os.Stdout, &rep, prev)
	if o.jsonOut != "" {
		raw, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(o.jsonOut, append(raw, '\n'), 0o644); err != nil {
			return err
		}
		logf("results written to %s", o.jsonOut)
	}
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run from inside the studio module (go run ./loadtest), or give --bin")
	}
	return filepath.Dir(gomod), nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// server is the studio child process.
type server struct {
	cmd     *exec.Cmd
	logPath string
	logFile *os.File
	done    chan struct{}
	once    sync.Once
}

func startServer(ctx context.Context, bin string, env []string, dbPath, base, logPath string) (*server, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	addr := strings.TrimPrefix(base, "http://")
	cmd := exec.Command(bin, "--addr", addr, "--db", dbPath, "--base-url", base, "--rate-limit", "1000000000")
	cmd.Env, cmd.Stdout, cmd.Stderr = env, logFile, logFile
	setChildAttrs(cmd)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	s := &server{cmd: cmd, logPath: logPath, logFile: logFile, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-s.done:
			s.stop()
			return nil, fmt.Errorf("the server exited at start: %s", tail(logPath))
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := hc.Get(base + "/healthz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("the server did not answer /healthz within 60s: %s", tail(logPath))
		}
	}
}

// stop ends the server: SIGTERM, then SIGKILL after 10 s.
func (s *server) stop() {
	s.once.Do(func() {
		select {
		case <-s.done:
		default:
			s.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-s.done:
			case <-time.After(10 * time.Second):
				s.cmd.Process.Kill()
				<-s.done
			}
		}
		s.logFile.Close()
	})
}

func tail(path string) string {
	raw, _ := os.ReadFile(path)
	if len(raw) > 2000 {
		raw = raw[len(raw)-2000:]
	}
	return strings.TrimSpace(string(raw))
}

// memory is a process's resident memory, in MiB.
type memory struct{ RSS, HWM float64 }

// readMemory reads VmRSS and VmHWM (peak resident) from /proc/<pid>/status.
func readMemory(pid int) (memory, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	var m memory
	for _, line := range strings.Split(string(raw), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[0], 64)
		if name == "VmRSS" {
			m.RSS = kb / 1024
		} else {
			m.HWM = kb / 1024
		}
	}
	return m, nil
}

// setup holds the credentials and the discovered pages under test.
type setup struct {
	ctx    context.Context
	o      options
	bin    string
	env    []string
	db     string
	base   string
	client *http.Client

	cookie    string // console session and CSRF cookies
	basic     string // Authorization header values
	bearer    string
	keyID     string
	secret    string
	email     string
	callerID  string
	projectID string

	accountCount int    // seeded accounts in the project (-1 when unknown)
	memberCount  int    // memberships in the project, from the id range (-1 when unknown)
	saDeepToken  string // page token of a page deep in the account list
	accountID    string // an account on that page
	memDeepToken string // page token of a page deep in the members list
	notes        []string
}

func (s *setup) prepare() error {
	// The API caller, made by the command line beside the running server.
	logf("creating the API caller with %s serviceaccount create", filepath.Base(s.bin))
	args := []string{"serviceaccount", "create", "--db", s.db, "--base-url", s.base, "--project", s.o.project,
		"--name", "load-caller", "--project-role", "admin"}
	if s.o.org != "" {
		args = append(args, "--org", s.o.org)
	}
	cmd := exec.CommandContext(s.ctx, s.bin, args...)
	cmd.Env, cmd.Stderr = s.env, os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("serviceaccount create: %w", err)
	}
	var cf struct {
		ServiceAccount struct{ KeyID, Secret, Email string } `json:"serviceAccount"`
	}
	if err := json.Unmarshal(out, &cf); err != nil || cf.ServiceAccount.KeyID == "" {
		return fmt.Errorf("serviceaccount create printed no credentials: %v", err)
	}
	s.keyID, s.secret, s.email = cf.ServiceAccount.KeyID, cf.ServiceAccount.Secret, cf.ServiceAccount.Email
	// The email is <saId>@<projectId>.serviceaccount.<domain>.
	local, domainPart, _ := strings.Cut(s.email, "@")
	s.callerID, _, _ = strings.Cut(domainPart, ".")
	s.projectID, s.callerID = s.callerID, local
	if s.projectID == "" || s.callerID == "" {
		return fmt.Errorf("cannot read the project from the caller's email %q", s.email)
	}

	// Bearer, then Basic Auth switched on through the API.
	token, err := s.exchange()
	if err != nil {
		return err
	}
	s.bearer = "Bearer " + token
	if _, err := s.apiJSON(http.MethodPatch, "/v2/projects/"+s.projectID+"/serviceaccounts/"+s.callerID,
		s.bearer, `{"enableBasicAuth":true}`, nil); err != nil {
		return fmt.Errorf("enable Basic Auth: %w", err)
	}
	s.basic = "Basic " + base64.StdEncoding.EncodeToString([]byte(s.keyID+":"+s.secret))

	if err := s.signIn(); err != nil {
		return err
	}
	s.accountCount, s.memberCount = -1, -1
	if s.o.routes == nil || s.o.routes["sa-list-deep"] || s.o.routes["api-sa-deep"] || s.o.routes["sa-page"] {
		if err := s.findDeepAccountPage(); err != nil {
			return err
		}
	}
	if s.o.routes == nil || s.o.routes["members-deep"] {
		return s.findDeepMembersPage()
	}
	return nil
}

func (s *setup) tokenForm() string {
	assertion := jwtbearer.Assertion(s.keyID, s.secret, s.email, s.base+"/oauth2/token", time.Now())
	return url.Values{"grant_type": {jwtbearer.GrantType}, "assertion": {assertion}}.Encode()
}

func (s *setup) exchange() (string, error) {
	resp, err := s.client.Post(s.base+"/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(s.tokenForm()))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &tok) != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("token exchange: status %d: %s", resp.StatusCode, raw)
	}
	return tok.AccessToken, nil
}

// apiJSON makes one API call and decodes a 200 answer into out.
func (s *setup) apiJSON(method, path, auth, body string, out any) (int, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(s.ctx, method, s.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", auth)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

var csrfField = regexp.MustCompile(`name="_csrf"\s+value="([^"]*)"`)

// signIn signs in to the console as the administrator and keeps the
// session and CSRF cookies for the console routes.
func (s *setup) signIn() error {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Transport: s.client.Transport, Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(s.base + "/signin")
	if err != nil {
		return err
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(raw)
	if resp.StatusCode != http.StatusOK || m == nil {
		return fmt.Errorf("GET /signin: status %d, no _csrf field", resp.StatusCode)
	}
	form := url.Values{"email": {s.o.adminEmail}, "password": {s.o.adminPassword}, "_csrf": {html.UnescapeString(string(m[1]))}}
	resp, err = c.PostForm(s.base+"/signin", form)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		return fmt.Errorf("sign-in as %s: status %d (is --admin-password right? a database keeps the password of its first start)", s.o.adminEmail, resp.StatusCode)
	}
	u, _ := url.Parse(s.base)
	var parts []string
	session := false
	for _, ck := range jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
		session = session || ck.Name == "studio_session"
	}
	if !session {
		return errors.New("sign-in set no studio_session cookie")
	}
	s.cookie = strings.Join(parts, "; ")
	logf("signed in to the console as %s", s.o.adminEmail)
	return nil
}

type saList struct {
	ServiceAccounts []struct {
		Name        string `json:"name"`
		DisplayName string `json:"displayName"`
	} `json:"serviceAccounts"`
	NextPageToken string `json:"nextPageToken"`
}

func (s *setup) listAccounts(token string, size int) (saList, error) {
	var l saList
	_, err := s.apiJSON(http.MethodGet, fmt.Sprintf("/v2/projects/%s/serviceaccounts?pageSize=%d&pageToken=%s",
		s.projectID, size, url.QueryEscape(token)), s.bearer, "", &l)
	return l, err
}

func lastSegment(name string) string { return name[strings.LastIndex(name, "/")+1:] }

// deepIndex is the position of the deep page in a list of n rows: 90 %
// down, with a full API page (and so a full console page) after it and
// at least one before. -1 when the list is too short.
func deepIndex(n int) int {
	if n < 2*apiPageSize {
		return -1
	}
	return min(max(n*9/10, apiPageSize), n-apiPageSize)
}

// findDeepAccountPage counts the project's seeded accounts and makes the
// token of a page 90 % down the list, the token the console's next-page
// link would carry there. The seeder names accounts "Account 0000000",
// ..., so the count is a binary search over made-up cursors (about 40
// requests even at 1,000,000); other databases are walked page by page.
func (s *setup) findDeepAccountPage() error {
	name := func(i int) string { return fmt.Sprintf("account %07d", i) }
	// at returns the account at position i of the seeded naming, if any.
	at := func(i int) (id string, ok bool, err error) {
		l, err := s.listAccounts(domain.EncodeCursor(domain.Cursor{Key: name(i)}), 1)
		if err != nil || len(l.ServiceAccounts) == 0 {
			return "", false, err
		}
		sa := l.ServiceAccounts[0]
		return lastSegment(sa.Name), strings.ToLower(sa.DisplayName) == name(i), nil
	}
	_, ok, err := at(0)
	if err != nil {
		return err
	}
	if ok {
		lo, hi := 0, 1 // at(lo) exists; find hi that does not
		for {
			_, ok, err := at(hi)
			if err != nil {
				return err
			}
			if !ok || hi >= 9_999_999 {
				break
			}
			lo, hi = hi, min(hi*2, 9_999_999)
		}
		for hi-lo > 1 {
			mid := (lo + hi) / 2
			_, ok, err := at(mid)
			if err != nil {
				return err
			}
			if ok {
				lo = mid
			} else {
				hi = mid
			}
		}
		s.accountCount = hi
		if s.accountID, _, err = at(hi / 2); err != nil { // the account page's account, unless a deep page gives one
			return err
		}
		d := deepIndex(hi)
		if d < 0 {
			s.notes = append(s.notes, fmt.Sprintf("the project has %d accounts: too few for a deep page (needs %d)", hi, 2*apiPageSize))
			return nil
		}
		prevID, _, err := at(d - 1)
		if err != nil {
			return err
		}
		s.saDeepToken = domain.EncodeCursor(domain.Cursor{Key: name(d - 1), ID: prevID})
		s.accountID, _, err = at(d)
		logf("project %s: %d seeded accounts; deep page starts at %q (position %d)", s.projectID, hi, name(d), d)
		return err
	}

	// Not the seeder's naming: walk the list, 1,000 a page.
	logf("account names do not follow the seeder's pattern: walking the list")
	var tokens []string
	var firsts []string
	total, token := 0, ""
	for i := 0; i < 5000; i++ {
		l, err := s.listAccounts(token, 1000)
		if err != nil {
			return err
		}
		if len(l.ServiceAccounts) > 0 {
			tokens = append(tokens, token)
			firsts = append(firsts, lastSegment(l.ServiceAccounts[0].Name))
		}
		total += len(l.ServiceAccounts)
		if token = l.NextPageToken; token == "" {
			break
		}
	}
	s.accountCount = total
	if len(tokens) < 3 {
		s.notes = append(s.notes, fmt.Sprintf("the project has %d accounts: too few for a deep page with this walk", total))
		if len(firsts) > 0 {
			s.accountID = firsts[0]
		}
		return nil
	}
	k := min(len(tokens)*9/10, len(tokens)-2)
	s.saDeepToken, s.accountID = tokens[k], firsts[k]
	return nil
}

// findDeepMembersPage walks the project's members list through the API,
// 1,000 a page, to count it, then makes the token of a page 90 % down: the
// token the console's next-page link would carry there. (The list's sort
// key is the membership's row id, which need not be contiguous in a project.)
func (s *setup) findDeepMembersPage() error {
	type memList struct {
		Members       []json.RawMessage `json:"members"`
		NextPageToken string            `json:"nextPageToken"`
	}
	list := func(token string, size int) (memList, error) {
		var l memList
		_, err := s.apiJSON(http.MethodGet, fmt.Sprintf("/v2/projects/%s/members?pageSize=%d&pageToken=%s",
			s.projectID, size, url.QueryEscape(token)), s.bearer, "", &l)
		return l, err
	}
	const walkPage = 1000
	start := time.Now()
	var starts []string // starts[k] is the token of the page holding positions k*walkPage...
	total, token := 0, ""
	for len(starts) < 5000 {
		l, err := list(token, walkPage)
		if err != nil {
			return err
		}
		starts = append(starts, token)
		total += len(l.Members)
		if token = l.NextPageToken; token == "" {
			break
		}
	}
	s.memberCount = total
	d := deepIndex(total)
	if d < 0 {
		s.notes = append(s.notes, fmt.Sprintf("the project has %d members: too few for a deep members page (needs %d)", total, 2*apiPageSize))
		return nil
	}
	k, rest := d/walkPage, d%walkPage
	s.memDeepToken = starts[k]
	if rest > 0 {
		l, err := list(starts[k], rest)
		if err != nil {
			return err
		}
		s.memDeepToken = l.NextPageToken
	}
	logf("project %s: %d members (counted in %s); deep members page starts at position %d",
		s.projectID, total, time.Since(start).Round(time.Millisecond), d)
	return nil
}

// deleteCaller removes the load-caller account from a --db database.
func (s *setup) deleteCaller() {
	if s.callerID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	auth := s.bearer
	if auth == "" {
		logf("the load-caller account %s stays in the database: no token was made for it", s.callerID)
		return
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, s.base+"/v2/projects/"+s.projectID+"/serviceaccounts/"+s.callerID, nil)
	req.Header.Set("Authorization", auth)
	resp, err := s.client.Do(req)
	if err != nil {
		logf("could not delete the load-caller account %s: %v", s.callerID, err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		logf("could not delete the load-caller account %s: status %d", s.callerID, resp.StatusCode)
		return
	}
	logf("deleted the load-caller account %s", s.callerID)
}

// target is one route under test.
type target struct {
	name, title string
	method      string
	path        string // path and query
	header      http.Header
	body        func() string // a fresh body per request, or nil
	contentType string
	console     bool   // a console page: a 404 means the page is not there yet
	skip        string // why the route cannot run
}

func routeNames() []string {
	return []string{"sa-list", "sa-list-deep", "sa-page", "members", "members-deep",
		"api-projects", "api-sa-basic", "api-sa-bearer", "api-sa-deep", "token"}
}

func (s *setup) targets() []target {
	p := s.projectID
	console := http.Header{"Cookie": {s.cookie}}
	bearer := http.Header{"Authorization": {s.bearer}}
	basic := http.Header{"Authorization": {s.basic}}
	deepConsole := func(name, title, first, token string) target {
		t := target{name: name, title: title, method: http.MethodGet, header: console, console: true}
		if token == "" {
			t.skip = "no deep page in this list (see the notes)"
			return t
		}
		u, err := s.nextPageLink(first)
		if err != nil {
			t.skip = err.Error()
			return t
		}
		q := u.Query()
		q.Set("page", token)
		u.RawQuery = q.Encode()
		t.path = u.String()
		return t
	}
	accountPage := target{name: "sa-page", title: "console: an account's page", method: http.MethodGet,
		path: "/projects/" + p + "/serviceaccounts/" + s.accountID, header: console, console: true}
	if s.accountID == "" {
		accountPage.skip = "no account found in the project"
	}
	apiDeep := target{name: "api-sa-deep", title: "API: account list, deep page (Bearer)", method: http.MethodGet,
		path: fmt.Sprintf("/v2/projects/%s/serviceaccounts?pageSize=%d&pageToken=%s", p, apiPageSize, s.saDeepToken), header: bearer}
	if s.saDeepToken == "" {
		apiDeep.skip = "no deep page in this list (see the notes)"
	}
	return []target{
		{name: "sa-list", title: "console: account list", method: http.MethodGet,
			path: "/projects/" + p + "/serviceaccounts", header: console, console: true},
		deepConsole("sa-list-deep", "console: account list, deep page", "/projects/"+p+"/serviceaccounts", s.saDeepToken),
		accountPage,
		{name: "members", title: "console: members", method: http.MethodGet,
			path: "/projects/" + p + "/members", header: console, console: true},
		deepConsole("members-deep", "console: members, deep page", "/projects/"+p+"/members", s.memDeepToken),
		{name: "api-projects", title: "API: GET /v2/projects (Bearer)", method: http.MethodGet,
			path: "/v2/projects", header: bearer},
		{name: "api-sa-basic", title: "API: account list (Basic)", method: http.MethodGet,
			path: fmt.Sprintf("/v2/projects/%s/serviceaccounts?pageSize=%d", p, apiPageSize), header: basic},
		{name: "api-sa-bearer", title: "API: account list (Bearer)", method: http.MethodGet,
			path: fmt.Sprintf("/v2/projects/%s/serviceaccounts?pageSize=%d", p, apiPageSize), header: bearer},
		apiDeep,
		{name: "token", title: "POST /oauth2/token", method: http.MethodPost, path: "/oauth2/token",
			header: http.Header{}, body: s.tokenForm, contentType: "application/x-www-form-urlencoded"},
	}
}

var nextPageHref = regexp.MustCompile(`<a\s[^>]*href="([^"]*)"[^>]*data-testid="next-page"|<a\s[^>]*data-testid="next-page"[^>]*href="([^"]*)"`)

// nextPageLink reads the next-page link of a console list's first page, so
// the deep page's URL has the form the console itself makes.
func (s *setup) nextPageLink(path string) (*url.URL, error) {
	req, _ := http.NewRequestWithContext(s.ctx, http.MethodGet, s.base+path, nil)
	req.Header.Set("Cookie", s.cookie)
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("GET %s answers 404: the page is not there (yet)", path)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	m := nextPageHref.FindSubmatch(raw)
	if m == nil {
		return nil, fmt.Errorf("GET %s: no data-testid=\"next-page\" link on the first page", path)
	}
	href := string(m[1])
	if href == "" {
		href = string(m[2])
	}
	return url.Parse(html.UnescapeString(href))
}

// captured is one real response, replayed by the baseline.
type captured struct {
	header http.Header
	body   []byte
}

// capture makes the request once against the real server and keeps the answer.
func (s *setup) capture(t target) (captured, error) {
	req, err := t.request(s.ctx, s.base)
	if err != nil {
		return captured{}, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return captured{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return captured{}, err
	}
	if resp.StatusCode == http.StatusNotFound && t.console {
		return captured{}, errors.New("the page answers 404: not there (yet)")
	}
	if resp.StatusCode != http.StatusOK {
		return captured{}, fmt.Errorf("status %d: %.300s", resp.StatusCode, body)
	}
	h := resp.Header.Clone()
	for _, k := range []string{"Date", "Content-Length", "Set-Cookie", "X-Request-Id", "Connection", "Keep-Alive", "Transfer-Encoding"} {
		h.Del(k)
	}
	return captured{header: h, body: body}, nil
}

func (t target) request(ctx context.Context, base string) (*http.Request, error) {
	var body io.Reader
	if t.body != nil {
		body = strings.NewReader(t.body())
	}
	req, err := http.NewRequestWithContext(ctx, t.method, base+t.path, body)
	if err != nil {
		return nil, err
	}
	for k, v := range t.header {
		req.Header[k] = v
	}
	if t.contentType != "" {
		req.Header.Set("Content-Type", t.contentType)
	}
	return req, nil
}

// baseline is a bare Echo server answering one route with fixed bytes.
type baseline struct {
	url string
	srv *http.Server
}

func startBaseline(t target, c captured) (*baseline, error) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	path, _, _ := strings.Cut(t.path, "?")
	ctype := c.header.Get("Content-Type")
	e.Add(t.method, path, func(ec echo.Context) error {
		h := ec.Response().Header()
		for k, v := range c.header {
			h[k] = v
		}
		return ec.Blob(http.StatusOK, ctype, c.body)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go srv.Serve(ln)
	return &baseline{url: "http://" + ln.Addr().String(), srv: srv}, nil
}

func (b *baseline) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b.srv.Shutdown(ctx)
}

// stats is one measured point.
type stats struct {
	Requests   int     `json:"requests"`
	Errors     int     `json:"errors"`
	ReqPerSec  float64 `json:"reqPerSec"`
	P50ms      float64 `json:"p50ms"`
	P99ms      float64 `json:"p99ms"`
	FirstError string  `json:"firstError,omitempty"`
}

// drive runs c clients in closed loops against base+t.path for d (after an
// unmeasured warmup) and returns throughput (200 answers per second) and
// the latency percentiles of the 200 answers. Anything else is an error.
func drive(ctx context.Context, client *http.Client, base string, t target, c int, warmup, d time.Duration) stats {
	if warmup > 0 {
		load(ctx, client, base, t, c, warmup)
	}
	return load(ctx, client, base, t, c, d)
}

func load(ctx context.Context, client *http.Client, base string, t target, c int, d time.Duration) stats {
	type result struct {
		lat      []time.Duration
		errors   int
		firstErr string
	}
	results := make([]result, c)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func(r *result) {
			defer wg.Done()
			r.lat = make([]time.Duration, 0, 4096)
			fail := func(msg string) {
				r.errors++
				if r.firstErr == "" {
					r.firstErr = msg
				}
			}
			for time.Now().Before(deadline) && ctx.Err() == nil {
				req, err := t.request(ctx, base)
				if err != nil {
					fail(err.Error())
					return
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						fail(err.Error())
						time.Sleep(time.Millisecond) // no hot loop on a dead server
					}
					continue
				}
				var snippet []byte
				if resp.StatusCode != http.StatusOK {
					snippet, _ = io.ReadAll(io.LimitReader(resp.Body, 200))
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				el := time.Since(t0)
				switch {
				case err != nil:
					fail("reading the body: " + err.Error())
				case resp.StatusCode != http.StatusOK:
					fail(fmt.Sprintf("status %d: %s", resp.StatusCode, bytes.TrimSpace(snippet)))
				default:
					r.lat = append(r.lat, el)
				}
			}
		}(&results[w])
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	var st stats
	for _, r := range results {
		all = append(all, r.lat...)
		st.Errors += r.errors
		if st.FirstError == "" {
			st.FirstError = r.firstErr
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	st.Requests = len(all)
	st.ReqPerSec = float64(len(all)) / elapsed.Seconds()
	st.P50ms, st.P99ms = percentile(all, 0.50), percentile(all, 0.99)
	return st
}

// percentile is the nearest-rank percentile of sorted durations, in ms.
func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	i = min(max(i, 0), len(sorted)-1)
	return float64(sorted[i]) / float64(time.Millisecond)
}
