package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// The baseline is a bare Echo server answering the route under test with
// the bytes the studio server gave, from memory: no auth, no database. It
// runs as a child process (this program with --baseline-serve) on the
// server's CPUs, so it has what the server has: its own core, the same
// client on the other.

// baselineSpec is what a baseline serves.
type baselineSpec struct {
	Method string      `json:"method"`
	Path   string      `json:"path"`
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
}

// baseline is a running baseline server.
type baseline struct {
	url   string
	cmd   *exec.Cmd
	stdin io.WriteCloser // kept open while the baseline runs
	done  chan struct{}
}

func startBaseline(ctx context.Context, o options, tmp string, t target, c captured) (*baseline, error) {
	path, _, _ := strings.Cut(t.path, "?")
	raw, _ := json.Marshal(baselineSpec{Method: t.method, Path: path, Header: c.header, Body: c.body})
	specFile := filepath.Join(tmp, "baseline-"+t.name+".json")
	if err := os.WriteFile(specFile, raw, 0o600); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "--baseline-serve", specFile)
	cmd.Stderr = os.Stderr
	setChildAttrs(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	// Its stdin closes when this program ends, however it ends: the
	// baseline stops then.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := startPinned(cmd, o.serverCPUs); err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	b := &baseline{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		addr <- strings.TrimSpace(line)
		io.Copy(io.Discard, out)
	}()
	go func() { cmd.Wait(); close(b.done) }()
	select {
	case a := <-addr:
		if a == "" {
			b.close()
			return nil, fmt.Errorf("baseline: the server did not start")
		}
		b.url = "http://" + a
		return b, nil
	case <-ctx.Done():
		b.close()
		return nil, ctx.Err()
	case <-time.After(10 * time.Second):
		b.close()
		return nil, fmt.Errorf("baseline: no address within 10s")
	}
}

func (b *baseline) pid() int { return b.cmd.Process.Pid }

func (b *baseline) close() {
	b.stdin.Close()
	b.cmd.Process.Signal(os.Interrupt)
	select {
	case <-b.done:
	case <-time.After(5 * time.Second):
		b.cmd.Process.Kill()
		<-b.done
	}
}

// serveBaseline is the child's side: it serves the spec in specFile on a
// loopback port, prints the address, and ends when stdin closes or on
// SIGINT.
func serveBaseline(ctx context.Context, specFile string) error {
	raw, err := os.ReadFile(specFile)
	if err != nil {
		return err
	}
	var spec baselineSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("%s: %w", specFile, err)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	ctype := spec.Header.Get("Content-Type")
	e.Add(spec.Method, spec.Path, func(ec echo.Context) error {
		h := ec.Response().Header()
		for k, v := range spec.Header {
			h[k] = v
		}
		return ec.Blob(http.StatusOK, ctype, spec.Body)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go srv.Serve(ln)
	fmt.Println(ln.Addr().String())
	stdinClosed := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(stdinClosed) }()
	select {
	case <-ctx.Done():
	case <-stdinClosed:
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
