package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"strings"
	"time"

	"studio/db"
)

// smtpConfig says where invitation emails go; an empty Addr keeps them in
// the outbox table only.
type smtpConfig struct {
	Addr     string // host:port
	From     string
	User     string
	Password string
}

// sendOutbox sends the outbox's unsent messages every interval until ctx ends.
// A message that fails stays unsent and is tried again next time.
func sendOutbox(ctx context.Context, store *db.DB, cfg smtpConfig, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		msgs, err := store.UnsentOutbox(ctx, 50)
		if err != nil && ctx.Err() == nil {
			logger.Error("reading the outbox", "err", err)
		}
		for _, m := range msgs {
			if err := sendMail(cfg, m.To, m.Subject, m.Body); err != nil {
				// The body holds an invite link: log who and why, never what.
				logger.Warn("sending an email failed; it stays in the outbox", "to", m.To, "err", err)
				break
			}
			if err := store.MarkOutboxSent(ctx, m.ID, time.Now().UTC()); err != nil {
				logger.Error("marking an email sent", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func sendMail(cfg smtpConfig, to, subject, body string) error {
	for _, s := range []string{to, subject, cfg.From} {
		if strings.ContainsAny(s, "\r\n") {
			return fmt.Errorf("header value with a line break")
		}
	}
	msg := "From: " + cfg.From + "\r\nTo: " + to + "\r\nSubject: " + subject +
		"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		strings.ReplaceAll(body, "\n", "\r\n")
	var auth smtp.Auth
	if cfg.User != "" {
		host, _, _ := net.SplitHostPort(cfg.Addr)
		auth = smtp.PlainAuth("", cfg.User, cfg.Password, host)
	}
	return smtp.SendMail(cfg.Addr, auth, cfg.From, []string{to}, []byte(msg))
}
