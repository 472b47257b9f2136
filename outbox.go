package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"studio/domain"

	"github.com/wneessen/go-mail"
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
	// Timeout bounds connecting and each exchange with the server
	// (0: defaultSMTPTimeout): a server that stops answering fails the
	// message, which stays queued, instead of holding the outbox.
	Timeout time.Duration
}

// defaultSMTPTimeout is long enough for a slow mail server, short enough
// that a stop waits little for one that hangs.
const defaultSMTPTimeout = 10 * time.Second

// markGrace is how long, after ctx ends, the sender may still record the
// message it was sending (its own SMTP timeout is added to it).
const markGrace = 5 * time.Second

// sendOutbox sends the outbox's waiting messages every interval until ctx
// ends. The members service builds each invitation email (with a newly
// minted link) only for the moment of sending, and drops the body once
// sent. A message that fails stays queued and is tried again next time.
//
// Once ctx ends no new message is sent, but the one being sent when it
// ended is finished and marked sent: marked with ctx, the mark would fail
// and the message would go out again after the restart. That last round
// is bounded by the SMTP timeout and markGrace, so a stop still ends.
func sendOutbox(ctx context.Context, members *domain.Members, cfg smtpConfig, interval time.Duration, logger *slog.Logger) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultSMTPTimeout
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		round, cancel := outlive(ctx, cfg.Timeout+markGrace)
		_, err := members.DeliverOutbox(round, 50, func(m domain.OutboxMessage) error {
			if ctx.Err() != nil {
				return errStopping
			}
			if err := sendMail(round, cfg, m.To, m.Subject, m.Body); err != nil {
				// The body holds an invite link: log who and why, never what.
				logger.Warn("sending an email failed; it stays in the outbox", "to", m.To, "err", err)
				return errSendFailed
			}
			return nil
		})
		cancel()
		if err != nil && !errors.Is(err, errSendFailed) && !errors.Is(err, errStopping) && ctx.Err() == nil {
			logger.Error("sending the outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// outlive returns a context that ends grace after ctx ends, or at cancel.
func outlive(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-c.Done():
		}
	})
	return c, func() { stop(); cancel() }
}

var (
	// errSendFailed stops a round of sending; the failure is logged already.
	errSendFailed = errors.New("sending failed")
	// errStopping stops a round once the server is stopping.
	errStopping = errors.New("stopping")
)

// sendMail sends one plain-text email. go-mail rather than net/smtp:
// net/smtp has no timeouts (a server that accepts and never answers held
// the outbox, and the shutdown waiting for it, for ever), and go-mail also
// encodes non-ASCII text as MIME requires. Like net/smtp.SendMail it uses
// STARTTLS when the server offers it and sends credentials only over TLS
// or to localhost.
func sendMail(ctx context.Context, cfg smtpConfig, to, subject, body string) error {
	for _, s := range []string{to, subject, cfg.From} {
		if strings.ContainsAny(s, "\r\n") {
			return fmt.Errorf("header value with a line break")
		}
	}
	host, portText, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return fmt.Errorf("SMTP address %q: %w", cfg.Addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return fmt.Errorf("SMTP address %q: the port is not a number", cfg.Addr)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = defaultSMTPTimeout
	}
	opts := []mail.Option{mail.WithPort(port), mail.WithTimeout(timeout), mail.WithTLSPolicy(mail.TLSOpportunistic)}
	if cfg.User != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(cfg.User), mail.WithPassword(cfg.Password))
	}
	client, err := mail.NewClient(host, opts...)
	if err != nil {
		return err
	}
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := msg.From(cfg.From); err != nil {
		return fmt.Errorf("sender %q: %w", cfg.From, err)
	}
	if err := msg.To(to); err != nil {
		return fmt.Errorf("recipient: %w", err)
	}
	msg.Subject(subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(mail.TypeTextPlain, body)
	return client.DialAndSendWithContext(ctx, msg)
}
