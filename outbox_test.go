package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"studio/db"
	"studio/domain"
)

// fakeSMTP accepts mail on loopback and keeps what it received.
type fakeSMTP struct {
	ln   net.Listener
	mu   sync.Mutex
	mail []string
}

func startFakeSMTP(t *testing.T) *fakeSMTP {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSMTP{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(conn)
		}
	}()
	return f
}

func (f *fakeSMTP) serve(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	say := func(s string) { io.WriteString(conn, s+"\r\n") }
	say("220 fake")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 fake")
		case strings.HasPrefix(cmd, "DATA"):
			say("354 go on")
			var msg strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil || l == ".\r\n" {
					break
				}
				msg.WriteString(l)
			}
			f.mu.Lock()
			f.mail = append(f.mail, msg.String())
			f.mu.Unlock()
			say("250 queued")
		case strings.HasPrefix(cmd, "QUIT"):
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

func (f *fakeSMTP) received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.mail...)
}

func TestOutboxIsSentBySMTP(t *testing.T) {
	ctx := context.Background()
	store, err := db.Open(ctx, filepath.Join(t.TempDir(), "studio.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	link := "http://studio.test/invite/" + strings.Repeat("cd", 32)
	msg := domain.OutboxMessage{To: "new@example.com", Subject: "You are invited to Studio", Body: "Set your password:\n" + link + "\n", CreateTime: time.Now()}
	if err := store.Update(ctx, func(tx domain.Tx) error { return tx.AddOutbox(ctx, msg) }); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, nil))

	// With the server down, the message stays in the outbox.
	down, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := down.Addr().String()
	down.Close()
	runCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	sendOutbox(runCtx, store, smtpConfig{Addr: addr, From: "studio@example.com"}, 50*time.Millisecond, logger)
	cancel()
	if left, err := store.UnsentOutbox(ctx, 10); err != nil || len(left) != 1 {
		t.Fatalf("%d unsent after a failed send, want 1 (%v)", len(left), err)
	}

	f := startFakeSMTP(t)
	runCtx, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
	sendOutbox(runCtx, store, smtpConfig{Addr: f.ln.Addr().String(), From: "studio@example.com"}, 50*time.Millisecond, logger)
	cancel()
	got := f.received()
	if len(got) != 1 || !strings.Contains(got[0], "To: new@example.com") || !strings.Contains(got[0], link) {
		t.Fatalf("received %q", got)
	}
	if left, err := store.UnsentOutbox(ctx, 10); err != nil || len(left) != 0 {
		t.Fatalf("%d unsent after sending, want 0 (sent twice?) (%v)", len(left), err)
	}
	if strings.Contains(logs.String(), link) {
		t.Fatal("an invite link reached the logs")
	}
}
