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
//	go run ./loadtest --routes api-sa-basic --hold 10m   # then wrk, pprof, go tool trace by hand
//
// By default (on 2 CPUs or more) the server and the baseline run on CPU 0
// and this program on CPU 1 (--pin). Each point is 3 rounds of 4 s, each
// the server then its baseline; server CPU per request is read from
// /proc/<pid>/stat.
//
// The program stops by itself: every load point lasts --duration, and the
// server is always stopped at the end (also on Ctrl-C).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"
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

func run(ctx context.Context, args []string) error {
	o, err := parseOptions(args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if o.baselineServe != "" {
		return serveBaseline(ctx, o.baselineServe)
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
	bin, build, err := studioBinary(ctx, o, tmp)
	if err != nil {
		return err
	}
	env := append(os.Environ(), "STUDIO_ADMIN_PASSWORD="+o.adminPassword, "STUDIO_ADMIN_EMAIL="+o.adminEmail)

	// 2. The database.
	meta := runMeta{Start: time.Now().UTC().Format(time.RFC3339), CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Machine: machine(),
		Duration: o.duration.String(), Concurrency: o.concurrency, Repeat: o.repeat, Build: build}
	dbPath, err := database(ctx, o, bin, env, tmp, &meta)
	if err != nil {
		return err
	}

	// 3. The server.
	port, err := freePort()
	if err != nil {
		return err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	srv, err := startServer(ctx, bin, env, dbPath, base, filepath.Join(tmp, "server.log"), o.serverCPUs)
	if err != nil {
		return err
	}
	defer srv.stop()
	meta.ServerLog = srv.logPath
	if err := pinSelf(o.clientCPUs); err != nil {
		return err
	}
	if len(o.serverCPUs) > 0 {
		meta.ServerCPUs, meta.ClientCPUs = allowedCPUs(srv.cmd.Process.Pid), allowedCPUs(os.Getpid())
	}
	logf("server pid %d on %s (log %s), CPUs %s; this program on CPUs %s", srv.cmd.Process.Pid, base, srv.logPath,
		allowedCPUs(srv.cmd.Process.Pid), allowedCPUs(os.Getpid()))
	idle, _ := readMemory(srv.cmd.Process.Pid)
	meta.IdleRSSMiB = idle.RSS

	// 4. Credentials and the pages under test.
	client, closeClient := newClient(o.concurrency)
	defer closeClient()
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

	if o.hold > 0 {
		return s.hold(srv)
	}

	// 5. Load.
	meta.LoadAvgStart = loadAverage()
	rep := report{Meta: meta}
	if err := measure(ctx, o, tmp, s, srv, client, &rep); err != nil {
		return err
	}
	rep.Meta.LoadAvgEnd = loadAverage()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	mem, err := readMemory(srv.cmd.Process.Pid)
	if err == nil {
		rep.PeakHWMMiB = max(rep.PeakHWMMiB, mem.HWM)
		rep.FinalRSSMiB = mem.RSS
	}

	// 6. Report.
	return writeReport(os.Stdout, o.jsonOut, &rep, prev)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}
