package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

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
	// serverCPUs run the studio server and the baseline (one at a time),
	// clientCPUs this program; both empty: no pinning.
	serverCPUs, clientCPUs []int
	// hold keeps the server up this long after the setup, for wrk, pprof
	// or go tool trace by hand, and measures nothing.
	hold time.Duration
	// baselineServe makes this process a baseline server (see baseline.go).
	baselineServe string
}

func parseOptions(args []string) (options, error) {
	var o options
	var conc, routes, pin string
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
	fs.DurationVar(&o.duration, "duration", 4*time.Second, "how long each point (route × concurrency) runs in each round, for the server and again for the baseline")
	fs.DurationVar(&o.warmup, "warmup", 300*time.Millisecond, "unmeasured load before each measured run")
	fs.IntVar(&o.repeat, "repeat", 3, "rounds per point, each the server then its baseline (interleaved, so both see the same machine)")
	fs.BoolVar(&o.quick, "quick", false, "smoke run: 1 round of 1s per point, concurrency 1,16, no warmup (unless given explicitly)")
	fs.StringVar(&pin, "pin", defaultPin(), "SERVER:CLIENT CPU lists, e.g. 0:1 or 0-1:2-3: the studio server and the baseline run on SERVER, this program on CLIENT; empty for no pinning (default 0:1 on 2 or more CPUs)")
	fs.DurationVar(&o.hold, "hold", 0, "measure nothing: after the setup, print the requests (as wrk commands) and keep the server up this long, or until Ctrl-C, for profiling by hand")
	fs.StringVar(&o.baselineServe, "baseline-serve", "", "(internal) serve the baseline described by this file")
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
	if o.baselineServe != "" {
		return o, nil
	}
	if pin != "" {
		server, client, ok := strings.Cut(pin, ":")
		var err1, err2 error
		o.serverCPUs, err1 = parseCPUList(server)
		o.clientCPUs, err2 = parseCPUList(client)
		if !ok || err1 != nil || err2 != nil || len(o.serverCPUs) == 0 || len(o.clientCPUs) == 0 {
			return o, fmt.Errorf("--pin: %q is not SERVER:CLIENT CPU lists such as 0:1", pin)
		}
	}
	if o.hold < 0 || o.hold > time.Hour {
		return o, errors.New("--hold is at most 1h")
	}
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
		if !set["repeat"] {
			o.repeat = 1
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

// defaultPin is 0:1 where there are two CPUs or more: the server on the
// first, this program on the second.
func defaultPin() string {
	if runtime.NumCPU() >= 2 {
		return "0:1"
	}
	return ""
}

// parseCPUList reads a CPU list such as "0", "0,2" or "0-3".
func parseCPUList(s string) ([]int, error) {
	var cpus []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("%q is not a CPU number", part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("%q is not a CPU range", part)
			}
		}
		for c := a; c <= b; c++ {
			if c >= runtime.NumCPU() {
				return nil, fmt.Errorf("CPU %d: this machine has %d", c, runtime.NumCPU())
			}
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// apiPageSize is the API list's page size under test (the console shows 50).
const apiPageSize = 100
