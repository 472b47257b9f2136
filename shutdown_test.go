package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Issue 20, item 4: when the graceful shutdown runs out of time, the
// server says how many connections were still open and closed them, and
// ends without an error (exit 0): every write finished. Before, it ended
// with "studio: context deadline exceeded".
func TestShutdownOutOfTimeClosesConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg, err := parseConfig([]string{"--addr", addr, "--db", filepath.Join(t.TempDir(), "studio.db"), "--shutdown-timeout", "300ms"},
		envFrom(map[string]string{"STUDIO_ADMIN_PASSWORD": "correct horse battery"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var logs syncWriter
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(&logs, nil)), io.Discard) }()
	for i := 0; ; i++ {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i == 100 {
			t.Fatalf("server did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Two clients in the middle of sending a request: the shutdown waits for them.
	var conns []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: studio\r\n"); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve ended with %v after closing the open connections, want no error\n%s", err, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop")
	}
	if !strings.Contains(logs.String(), "2 connection(s) were still open after 300ms and were closed") {
		t.Errorf("the log does not say how many connections were closed:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "deadline exceeded") {
		t.Errorf("the log shows a bare timeout error:\n%s", logs.String())
	}
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Error("a connection is still open after the stop")
		}
	}
}
