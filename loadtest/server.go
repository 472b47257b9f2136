package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// studioBinary is --bin, or a studio binary built in tmp from the module
// this program runs in; build says which, for the report.
func studioBinary(ctx context.Context, o options, tmp string) (bin, build string, err error) {
	if o.bin != "" {
		return o.bin, "prebuilt " + o.bin, nil
	}
	bin = filepath.Join(tmp, "studio")
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", "", err
	}
	logf("building %s from %s", bin, root)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", "", fmt.Errorf("go build: %w", err)
	}
	out, _ := exec.CommandContext(ctx, "git", "-C", root, "describe", "--always", "--dirty").Output()
	return bin, "built from " + root + " at " + strings.TrimSpace(string(out)), nil
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

// startServer starts the studio server on cpus (none: unpinned).
func startServer(ctx context.Context, bin string, env []string, dbPath, base, logPath string, cpus []int) (*server, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	addr := strings.TrimPrefix(base, "http://")
	cmd := exec.Command(bin, "--addr", addr, "--db", dbPath, "--base-url", base, "--rate-limit", "1000000000")
	cmd.Env, cmd.Stdout, cmd.Stderr = env, logFile, logFile
	setChildAttrs(cmd)
	if err := startPinned(cmd, cpus); err != nil {
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
