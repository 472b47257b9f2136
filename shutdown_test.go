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

	"studio/db/sqlite"
	"studio/domain"
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

// Issue 12, item 8: a stop ends while the mail server hangs: the outbox
// sender gives up after the SMTP timeout, is waited for, and only then is
// the database closed. Before, the sender waited for the server for ever,
// and the stop with it.
func TestShutdownWithAHangingMailServer(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "studio.db")
	store, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	msg := domain.OutboxMessage{To: "someone@example.com", Subject: "Hello", Body: "A note.\n", CreateTime: time.Now()}
	if err := store.Update(context.Background(), func(tx domain.Tx) error { return tx.AddOutbox(context.Background(), msg) }); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	silent := startSilentSMTP(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg, err := parseConfig([]string{"--addr", addr, "--db", dbPath, "--smtp-addr", silent.ln.Addr().String()},
		envFrom(map[string]string{"STUDIO_ADMIN_PASSWORD": "correct horse battery"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.smtp.Timeout = 500 * time.Millisecond
	var logs syncWriter
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(&logs, nil)), io.Discard) }()
	// The sender is on the hanging server.
	for i := 0; silent.connections() == 0; i++ {
		if i == 200 {
			t.Fatalf("the outbox sender never connected\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the server did not stop while the mail server hangs\n%s", logs.String())
	}
	out := logs.String()
	failed := strings.Index(out, "sending an email failed")
	stopped := strings.Index(out, "stopped; every write finished")
	if failed < 0 || stopped < failed {
		t.Errorf("want the failed send logged before the database closed:\n%s", out)
	}
	store, err = sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if left, err := store.UnsentOutbox(context.Background(), 10); err != nil || len(left) != 1 || left[0].To != "someone@example.com" {
		t.Fatalf("outbox after the stop: %+v, %v; want the message still queued", left, err)
	}
}
