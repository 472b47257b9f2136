package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"studio/db/sqlite"
	"studio/domain"
)

// fakeSMTP accepts mail on loopback and keeps what it received.
type fakeSMTP struct {
	ln   net.Listener
	mu   sync.Mutex
	mail []string
	// onData, when set, runs after a message is received and before the
	// server says it is accepted.
	onData func()
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
			f.mail = append(f.mail, decodeMail(msg.String()))
			onData := f.onData
			f.mu.Unlock()
			if onData != nil {
				onData()
			}
			say("250 queued")
		case strings.HasPrefix(cmd, "QUIT"):
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

// decodeMail is a received message as a reader sees it: the recipient's
// address and the subject, then the body decoded (quoted-printable).
func decodeMail(raw string) string {
	m, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		return "unreadable message: " + err.Error()
	}
	var body io.Reader = m.Body
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(m.Body)
	}
	text, err := io.ReadAll(body)
	if err != nil {
		return "unreadable body: " + err.Error()
	}
	to, err := mail.ParseAddress(m.Header.Get("To"))
	if err != nil {
		return "unreadable recipient: " + err.Error()
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	return "To: " + to.Address + "\r\nSubject: " + subject + "\r\n\r\n" + string(text)
}

func (f *fakeSMTP) received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.mail...)
}

// outboxEnv is a database with a first administrator and the members service.
type outboxEnv struct {
	ctx     context.Context
	path    string
	store   *sqlite.DB
	members *domain.Members
	admin   domain.Principal
	org     domain.Organization
}

func newOutboxEnv(t *testing.T) *outboxEnv {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "studio.db")
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	now := func() time.Time { return time.Now().UTC() }
	boot, err := domain.NewAccounts(store, domain.NewHasher(1), now).Bootstrap(ctx,
		domain.BootstrapInput{AdminEmail: "admin@example.com", AdminPassword: "a long first password", OrgName: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	return &outboxEnv{ctx: ctx, path: path, store: store, org: boot.Organization,
		members: domain.NewMembers(store, domain.NewHasher(1), now, "http://studio.test", domain.DefaultInviteTTL),
		admin:   domain.UserPrincipal(boot.Admin, "192.0.2.1")}
}

// fileBytes returns the bytes of the database and its WAL and SHM files,
// after a checkpoint, so what was written is in the main file too.
func (e *outboxEnv) fileBytes(t *testing.T) string {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+e.path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	files, _ := filepath.Glob(e.path + "*")
	var all strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	if all.Len() == 0 {
		t.Fatal("no database bytes read")
	}
	return all.String()
}

// outboxRows reads the outbox table: recipient, body, invitation, sent.
func (e *outboxEnv) outboxRows(t *testing.T) []string {
	t.Helper()
	rows, err := e.store.UnsentOutbox(e.ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range rows {
		out = append(out, fmt.Sprintf("%s|%s|%t", m.To, m.Body, m.InvitationID != 0))
	}
	return out
}

var inviteLinkPattern = regexp.MustCompile(`http://studio\.test/invite/([0-9a-f]{64})`)

// TestOutboxKeepsNoUsableLinkAtRest: an invitation email in the outbox holds
// no link, before sending (queued) and after (sent, body dropped); the
// emailed link exists only in the email that was sent, and works; the
// shareable link handed to the inviter is not in the database files either.
func TestOutboxKeepsNoUsableLinkAtRest(t *testing.T) {
	e := newOutboxEnv(t)
	projects, err := e.store.ListProjects(e.ctx, domain.ProjectFilter{OrganizationID: e.org.ID}, domain.Cursor{}, 1)
	if err != nil || len(projects) != 1 {
		t.Fatal(projects, err)
	}
	inv, err := e.members.InviteToProject(e.ctx, e.admin, projects[0].ID, "new@example.com", domain.RoleProjectAdmin)
	if err != nil {
		t.Fatal(err)
	}
	shareable := inviteLinkPattern.FindStringSubmatch(inv.InviteURL)
	if shareable == nil {
		t.Fatalf("invite URL %q", inv.InviteURL)
	}
	// Queued, not sent (as without an SMTP server): the recipient and the
	// invitation only.
	if got := e.outboxRows(t); len(got) != 1 || got[0] != "new@example.com||true" {
		t.Fatalf("queued outbox = %q, want one invitation email without a body", got)
	}
	stored := e.fileBytes(t)
	if strings.Contains(stored, shareable[1]) || strings.Contains(stored, "/invite/") {
		t.Fatal("an invite link is in the database files while the email waits")
	}

	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	// With the SMTP server down, the message stays queued, still without a body.
	down, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := down.Addr().String()
	down.Close()
	runCtx, cancel := context.WithTimeout(e.ctx, 300*time.Millisecond)
	sendOutbox(runCtx, e.members, smtpConfig{Addr: addr, From: "studio@example.com"}, 50*time.Millisecond, logger)
	cancel()
	if got := e.outboxRows(t); len(got) != 1 || got[0] != "new@example.com||true" {
		t.Fatalf("outbox after a failed send = %q", got)
	}

	f := startFakeSMTP(t)
	runCtx, cancel = context.WithTimeout(e.ctx, 300*time.Millisecond)
	sendOutbox(runCtx, e.members, smtpConfig{Addr: f.ln.Addr().String(), From: "studio@example.com"}, 50*time.Millisecond, logger)
	cancel()
	mail := f.received()
	if len(mail) != 1 || !strings.Contains(mail[0], "To: new@example.com") {
		t.Fatalf("received %q", mail)
	}
	emailed := inviteLinkPattern.FindStringSubmatch(mail[0])
	if emailed == nil || emailed[1] == shareable[1] {
		t.Fatalf("the email holds no link of its own: %q", mail[0])
	}
	if left := e.outboxRows(t); len(left) != 0 {
		t.Fatalf("unsent after sending: %q (sent twice?)", left)
	}
	var body string
	var sent int64
	raw, err := sql.Open("sqlite", "file:"+e.path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := raw.QueryRow("SELECT body, sent_time FROM outbox").Scan(&body, &sent); err != nil || body != "" || sent == 0 {
		t.Fatalf("sent message: body %q sent %d (%v), want no body and a send time", body, sent, err)
	}
	stored = e.fileBytes(t)
	for what, tok := range map[string]string{"shareable": shareable[1], "emailed": emailed[1]} {
		if strings.Contains(stored, tok) || strings.Contains(logs.String(), tok) {
			t.Errorf("the %s link's token is in the database files or the logs", what)
		}
	}
	// The emailed link works (and is the emailed kind).
	link, err := e.members.OpenInvitation(e.ctx, emailed[1])
	if err != nil || link.Kind != domain.InviteEmailed || link.User.Email != "new@example.com" {
		t.Fatalf("OpenInvitation(emailed link) = %+v, %v", link, err)
	}
	// A new email (after a re-issue) ends the previous emailed link.
	u, _ := e.store.UserByEmail(e.ctx, "new@example.com")
	if _, err := e.members.ProjectInviteURL(e.ctx, e.admin, projects[0].ID, strconv.FormatInt(u.ID, 10)); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel = context.WithTimeout(e.ctx, 300*time.Millisecond)
	sendOutbox(runCtx, e.members, smtpConfig{Addr: f.ln.Addr().String(), From: "studio@example.com"}, 50*time.Millisecond, logger)
	cancel()
	if mail = f.received(); len(mail) != 2 {
		t.Fatalf("%d emails after a re-issue, want 2", len(mail))
	}
	second := inviteLinkPattern.FindStringSubmatch(mail[1])
	if second == nil || second[1] == emailed[1] {
		t.Fatalf("second email: %q", mail[1])
	}
	if _, err := e.members.OpenInvitation(e.ctx, emailed[1]); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("first emailed link after a second email: %v, want not found", err)
	}
	if _, err := e.members.OpenInvitation(e.ctx, second[1]); err != nil {
		t.Fatalf("second emailed link: %v", err)
	}
}

// TestOutboxDropsBodyOnceSent: an email that is not an invitation keeps its
// body only until it is sent; one that fails stays queued.
func TestOutboxDropsBodyOnceSent(t *testing.T) {
	e := newOutboxEnv(t)
	msg := domain.OutboxMessage{To: "someone@example.com", Subject: "Hello", Body: "A note.\n", CreateTime: time.Now()}
	if err := e.store.Update(e.ctx, func(tx domain.Tx) error { return tx.AddOutbox(e.ctx, msg) }); err != nil {
		t.Fatal(err)
	}
	f := startFakeSMTP(t)
	runCtx, cancel := context.WithTimeout(e.ctx, 300*time.Millisecond)
	sendOutbox(runCtx, e.members, smtpConfig{Addr: f.ln.Addr().String(), From: "studio@example.com"}, 50*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
	cancel()
	if got := f.received(); len(got) != 1 || !strings.Contains(got[0], "A note.") {
		t.Fatalf("received %q", got)
	}
	// Checked on the row: SQLite may leave a rewritten row's old bytes in
	// free page space (invite links never reach the table at all).
	raw, err := sql.Open("sqlite", "file:"+e.path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var body string
	var sent int64
	if err := raw.QueryRow("SELECT body, sent_time FROM outbox").Scan(&body, &sent); err != nil || body != "" || sent == 0 {
		t.Fatalf("sent message: body %q sent %d (%v), want no body and a send time", body, sent, err)
	}
}

// silentSMTP accepts connections and never says a word, like a mail server
// that hangs. It counts the connections.
type silentSMTP struct {
	ln    net.Listener
	mu    sync.Mutex
	conns int
}

func startSilentSMTP(t *testing.T) *silentSMTP {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &silentSMTP{ln: ln}
	var open []net.Conn
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range open {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns++
			open = append(open, c)
			s.mu.Unlock()
		}
	}()
	return s
}

func (s *silentSMTP) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

func (e *outboxEnv) queueNote(t *testing.T, to string) {
	t.Helper()
	msg := domain.OutboxMessage{To: to, Subject: "Hello", Body: "A note.\n", CreateTime: time.Now()}
	if err := e.store.Update(e.ctx, func(tx domain.Tx) error { return tx.AddOutbox(e.ctx, msg) }); err != nil {
		t.Fatal(err)
	}
}

// Issue 12, item 8: a mail server that accepts the connection and never
// answers fails the message after the SMTP timeout; the sender goes on
// (tries again next round) and stops when asked. With net/smtp it waited
// for the greeting for ever, and a stop with it.
func TestOutboxGivesUpOnASilentServer(t *testing.T) {
	e := newOutboxEnv(t)
	e.queueNote(t, "someone@example.com")
	silent := startSilentSMTP(t)
	var logs syncWriter
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		sendOutbox(ctx, e.members, smtpConfig{Addr: silent.ln.Addr().String(), From: "studio@example.com", Timeout: 200 * time.Millisecond},
			50*time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)))
	}()
	// A second connection means the first attempt was given up.
	for i := 0; silent.connections() < 2; i++ {
		if i == 200 {
			t.Fatalf("the sender is stuck on the silent server (%d connection(s))\n%s", silent.connections(), logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the sender did not stop")
	}
	if !strings.Contains(logs.String(), "sending an email failed; it stays in the outbox") || !strings.Contains(logs.String(), "someone@example.com") {
		t.Errorf("the failure is not logged:\n%s", logs.String())
	}
	if got := e.outboxRows(t); len(got) != 1 || got[0] != "someone@example.com|A note.\n|false" {
		t.Fatalf("outbox after the failures = %q, want the message still queued", got)
	}
}

// Issue 12, item 8: an email whose sending is under way when the server is
// asked to stop is finished and marked sent, so it is not sent again after
// the restart. Before, the mark used the cancelled context and failed.
func TestOutboxMarksMailSentDuringShutdown(t *testing.T) {
	e := newOutboxEnv(t)
	e.queueNote(t, "first@example.com")
	e.queueNote(t, "second@example.com")
	f := startFakeSMTP(t)
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	// The stop comes while the server receives the first message.
	f.mu.Lock()
	f.onData = cancel
	f.mu.Unlock()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := smtpConfig{Addr: f.ln.Addr().String(), From: "studio@example.com", Timeout: 5 * time.Second}
	sendOutbox(ctx, e.members, cfg, 50*time.Millisecond, logger)
	if got := f.received(); len(got) != 1 || !strings.Contains(got[0], "To: first@example.com") {
		t.Fatalf("received %q, want the first message only (no new message once stopping)", got)
	}
	if got := e.outboxRows(t); len(got) != 1 || !strings.HasPrefix(got[0], "second@example.com|") {
		t.Fatalf("unsent after the stop = %q, want only the second message", got)
	}

	// The restart sends the second message, and the first not again.
	f.mu.Lock()
	f.onData = nil
	f.mu.Unlock()
	runCtx, stop := context.WithTimeout(e.ctx, 300*time.Millisecond)
	defer stop()
	sendOutbox(runCtx, e.members, cfg, 50*time.Millisecond, logger)
	got := f.received()
	if len(got) != 2 || !strings.Contains(got[1], "To: second@example.com") {
		t.Fatalf("received after the restart %q, want first then second, once each", got)
	}
	if left := e.outboxRows(t); len(left) != 0 {
		t.Fatalf("unsent after the restart: %q", left)
	}
}
