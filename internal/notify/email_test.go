//go:build unix

package notify_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syncreport/syncreport/internal/mailpittest"
	"github.com/syncreport/syncreport/internal/notify"
)

const canaryPassword = "CANARY-smtp-pa55word"

var testMessage = notify.EmailMessage{
	Subject: "Failed: web 0123456",
	Text:    "✗ web sync failed\n  app  argocd/web\n",
	HTML:    "<!DOCTYPE html><html><body><h1>✗ web sync failed</h1></body></html>",
}

func caPool(t *testing.T, file string) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		t.Fatal("no CA")
	}
	return p
}

func quickRetrier() notify.Retrier {
	return notify.Retrier{InitialInterval: 50 * time.Millisecond, MaxInterval: 200 * time.Millisecond, AttemptTimeout: 10 * time.Second}
}

// TestEmailAgainstMailpit sends through a real SMTP server: STARTTLS (test
// CA) and implicit TLS, AUTH; the message arrives with the recipients, the
// subject and both parts; a wrong password, a refused recipient and an
// unknown CA are permanent and named; the password never shows (issue 18).
func TestEmailAgainstMailpit(t *testing.T) {
	dir := t.TempDir()
	caFile, cert, key := mailpittest.NewCA(t, dir)
	cas := caPool(t, caFile)
	starttls := mailpittest.Start(t, mailpittest.Options{CertFile: cert, KeyFile: key, RequireSTARTTLS: true,
		Users: []string{"hook:" + canaryPassword}, AllowedRecipients: `@example\.com$`})
	implicit := mailpittest.Start(t, mailpittest.Options{CertFile: cert, KeyFile: key, RequireTLS: true,
		Users: []string{"hook:" + canaryPassword}})

	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var allErrs []string
	settings := func(s *mailpittest.Server, mode string) notify.SMTPSettings {
		return notify.SMTPSettings{Host: s.Host, Port: s.Port, TLS: mode, From: "Deploys <deploys@example.com>",
			Username: "hook", Password: canaryPassword, RootCAs: cas}
	}
	deliver := func(t *testing.T, s notify.SMTPSettings, to ...string) error {
		t.Helper()
		e, err := notify.NewEmail(s)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		err = notify.DeliverEmail(ctx, quickRetrier(), e, to, testMessage, log)
		if err != nil {
			allErrs = append(allErrs, err.Error())
		}
		return err
	}

	t.Run("starttls", func(t *testing.T) {
		if err := deliver(t, settings(starttls, notify.SMTPStartTLS), "alice@example.com", "bob@example.com"); err != nil {
			t.Fatal(err)
		}
		msgs := starttls.Messages(t)
		if len(msgs) != 2 {
			t.Fatalf("%d messages, want 2", len(msgs))
		}
		got := map[string]bool{}
		for _, m := range msgs {
			if len(m.To) != 1 {
				t.Errorf("message to %v: want one recipient each", m.To)
				continue
			}
			got[m.To[0].Address] = true
			if m.Subject != testMessage.Subject {
				t.Errorf("subject %q", m.Subject)
			}
			if m.From.Address != "deploys@example.com" {
				t.Errorf("from %+v", m.From)
			}
			if !strings.Contains(m.Text, "web sync failed") || !strings.Contains(m.HTML, "<h1>✗ web sync failed</h1>") {
				t.Errorf("parts: text %q html %q", m.Text, m.HTML)
			}
			if raw := starttls.Raw(t, m.ID); !strings.Contains(raw, "multipart/alternative") {
				t.Errorf("not multipart/alternative:\n%s", raw)
			}
		}
		if !got["alice@example.com"] || !got["bob@example.com"] {
			t.Errorf("recipients %v", got)
		}
	})
	t.Run("implicit tls", func(t *testing.T) {
		if err := deliver(t, settings(implicit, notify.SMTPImplicitTLS), "carol@example.com"); err != nil {
			t.Fatal(err)
		}
		if n := len(implicit.Messages(t)); n != 1 {
			t.Fatalf("%d messages, want 1", n)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		s := settings(starttls, notify.SMTPStartTLS)
		s.Password = canaryPassword + "-wrong"
		err := deliver(t, s, "alice@example.com")
		var de *notify.DeliveryError
		if !errors.As(err, &de) || !de.Permanent || de.Attempts != 1 {
			t.Fatalf("want a permanent failure after 1 attempt, got %v", err)
		}
		var se *notify.SMTPError
		if !errors.As(err, &se) || se.Code != 535 || !strings.Contains(err.Error(), "authentication failed") {
			t.Errorf("error does not name the authentication failure: %v", err)
		}
	})
	t.Run("refused recipient does not stop the others", func(t *testing.T) {
		before := len(starttls.Messages(t))
		err := deliver(t, settings(starttls, notify.SMTPStartTLS), "mallory@evil.test", "dave@example.com")
		if err == nil || !strings.Contains(err.Error(), "mallory@evil.test") || !strings.Contains(err.Error(), "SMTP 550 (permanent)") {
			t.Fatalf("want mallory refused with 550, got %v", err)
		}
		if strings.Contains(err.Error(), "dave@") {
			t.Errorf("dave failed too: %v", err)
		}
		msgs := starttls.Messages(t)
		if len(msgs) != before+1 || msgs[len(msgs)-1].To[0].Address != "dave@example.com" {
			t.Errorf("dave's message did not arrive: %d messages", len(msgs)-before)
		}
	})
	t.Run("unknown CA", func(t *testing.T) {
		s := settings(starttls, notify.SMTPStartTLS)
		s.RootCAs = x509.NewCertPool()
		err := deliver(t, s, "alice@example.com")
		var de *notify.DeliveryError
		if !errors.As(err, &de) || !de.Permanent || !strings.Contains(err.Error(), "SMTP_CA_FILE") {
			t.Fatalf("want a permanent TLS failure naming SMTP_CA_FILE, got %v", err)
		}
	})
	t.Run("no starttls offered", func(t *testing.T) {
		plain := mailpittest.Start(t, mailpittest.Options{})
		err := deliver(t, notify.SMTPSettings{Host: plain.Host, Port: plain.Port, TLS: notify.SMTPStartTLS, From: "d@example.com"}, "alice@example.com")
		var de *notify.DeliveryError
		if !errors.As(err, &de) || !de.Permanent {
			t.Fatalf("STARTTLS required but not offered: want a permanent failure, got %v", err)
		}
		if n := len(plain.Messages(t)); n != 0 {
			t.Errorf("%d messages went out in clear", n)
		}
	})
	t.Logf("errors:\n%s", strings.Join(allErrs, "\n"))
	for _, s := range append(allErrs, logs.String()) {
		for _, secret := range []string{canaryPassword, "CANARY"} {
			if strings.Contains(s, secret) {
				t.Errorf("the password shows: %s", s)
			}
		}
	}
}

// TestEmailGreylisted: a 4xx at RCPT (greylisting) is retried on a new
// connection and the message arrives.
func TestEmailGreylisted(t *testing.T) {
	mp := mailpittest.Start(t, mailpittest.Options{})
	front := mailpittest.Greylist(t, net.JoinHostPort(mp.Host, strconv.Itoa(mp.Port)), 1)
	e, err := notify.NewEmail(notify.SMTPSettings{Host: "127.0.0.1", Port: front.Port, TLS: notify.SMTPNoTLS, From: "deploys@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := notify.DeliverEmail(ctx, quickRetrier(), e, []string{"alice@example.com"}, testMessage, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
		t.Fatalf("not delivered after greylisting: %v\n%s", err, logs.String())
	}
	if front.Greylisted() != 1 {
		t.Errorf("greylisted %d times, want 1", front.Greylisted())
	}
	if !strings.Contains(logs.String(), "SMTP 451 (temporary)") || !strings.Contains(logs.String(), "attempts=2") {
		t.Errorf("the log does not show the retry:\n%s", logs.String())
	}
	if n := len(mp.Messages(t)); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}

// TestEmailPasswordNeverShows: a server that quotes the AUTH exchange back
// in its refusal (base64 of the password) does not get it into the error.
func TestEmailPasswordNeverShows(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				io.WriteString(c, "220 echo ESMTP\r\n")
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					switch f := strings.Fields(line + " x"); strings.ToUpper(f[0]) {
					case "EHLO":
						io.WriteString(c, "250-echo\r\n250 AUTH PLAIN LOGIN\r\n")
					case "AUTH":
						io.WriteString(c, "535 5.7.8 rejected "+strings.TrimSpace(line)+" password "+canaryPassword+"\r\n")
					default:
						io.WriteString(c, "221 bye\r\n")
						return
					}
				}
			}()
		}
	}()
	e, err := notify.NewEmail(notify.SMTPSettings{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, TLS: notify.SMTPNoTLS,
		From: "d@example.com", Username: "hook", Password: canaryPassword})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = notify.DeliverEmail(ctx, quickRetrier(), e, []string{"alice@example.com"}, testMessage, slog.New(slog.NewTextHandler(&logs, nil)))
	if err == nil || !strings.Contains(err.Error(), "535") {
		t.Fatalf("want the 535 refusal, got %v", err)
	}
	t.Log(err)
	if !strings.Contains(err.Error(), "REDACTED") {
		t.Errorf("the echo was not redacted (did the server see AUTH?): %v", err)
	}
	for _, s := range []string{err.Error(), logs.String()} {
		if strings.Contains(s, "CANARY") || strings.Contains(s, "Q0FOQVJZ") /* base64 of CANARY */ {
			t.Errorf("the password shows: %s", s)
		}
	}
}
