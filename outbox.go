package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"strings"
	"time"

	"studio/domain"
)

// smtpConfig says where invitation emails go. With an empty Addr nothing
// is sent: the outbox table keeps, for each invitation email, only the
// recipient and the invitation it is about (never a link; no emailed link
// is ever minted), and invitees accept through the shareable link their
// inviter passes on.
type smtpConfig struct {
	Addr     string // host:port
	From     string
	User     string
	Password string
}

// sendOutbox sends the outbox's waiting messages every interval until ctx
// ends. The members service builds each invitation email (with a newly
// minted link) only for the moment of sending, and drops the body once
// sent. A message that fails stays queued and is tried again next time.
func sendOutbox(ctx context.Context, members *domain.Members, cfg smtpConfig, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		_, err := members.DeliverOutbox(ctx, 50, func(m domain.OutboxMessage) error {
			if err := sendMail(cfg, m.To, m.Subject, m.Body); err != nil {
				// The body holds an invite link: log who and why, never what.
				logger.Warn("sending an email failed; it stays in the outbox", "to", m.To, "err", err)
				return errSendFailed
			}
			return nil
		})
		if err != nil && !errors.Is(err, errSendFailed) && ctx.Err() == nil {
			logger.Error("sending the outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// errSendFailed stops a round of sending; the failure is logged already.
var errSendFailed = errors.New("sending failed")

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
