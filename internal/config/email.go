package config

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/mail"
	"strings"

	"github.com/syncreport/syncreport/internal/notify"
)

// validateEmailValues checks the email variables each on its own.
func (c *Config) validateEmailValues() error {
	if c.SMTPPort < 0 || c.SMTPPort > 65535 {
		return fmt.Errorf("SMTP_PORT=%d: want 1 to 65535 (0: the TLS mode's usual port)", c.SMTPPort)
	}
	if strings.ContainsAny(c.SMTPHost, " \t\r\n/:@") {
		return fmt.Errorf("SMTP_HOST=%q: want a host name or IP address, without port or scheme (SMTP_PORT sets the port)", c.SMTPHost)
	}
	if c.SMTPFrom != "" {
		if _, err := mail.ParseAddress(c.SMTPFrom); err != nil {
			return fmt.Errorf("SMTP_FROM=%q: not an email address", c.SMTPFrom)
		}
	}
	for _, a := range c.EmailAddresses() {
		if _, err := mail.ParseAddress(a); err != nil || strings.ContainsAny(a, "\r\n") {
			return fmt.Errorf("EMAIL_TO: %q is not an email address", a)
		}
	}
	if strings.ContainsAny(c.SMTPPassword, "\r\n") {
		return errors.New("SMTP_PASSWORD: contains a line break (value not shown: it is a secret)")
	}
	return nil
}

// validateEmailCombination checks what needs several email variables.
func (c *Config) validateEmailCombination() error {
	if c.SMTPHost == "" {
		if c.SMTPFrom != "" || c.SMTPUsername != "" || c.SMTPPassword != "" || c.EmailTo != "" || c.SMTPCAFile != "" {
			return errors.New("SMTP_FROM, SMTP_USERNAME, SMTP_PASSWORD, SMTP_CA_FILE and EMAIL_TO need SMTP_HOST")
		}
		return nil
	}
	if c.SMTPFrom == "" {
		return errors.New("SMTP_FROM: required with SMTP_HOST (the sender address)")
	}
	if c.SMTPUsername != "" && c.SMTPPassword == "" {
		return errors.New("SMTP_USERNAME needs SMTP_PASSWORD or SMTP_PASSWORD_FILE")
	}
	if c.SMTPPassword != "" && c.SMTPUsername == "" {
		return errors.New("SMTP_PASSWORD needs SMTP_USERNAME")
	}
	if c.SMTPTLS == notify.SMTPNoTLS && !c.SMTPAllowPlaintext && !loopbackHost(c.SMTPHost) {
		return fmt.Errorf("SMTP_TLS=none: %s is not a loopback address, and the mail (and password) would travel in clear; use starttls or tls, or set SMTP_ALLOW_PLAINTEXT=true for a relay you trust", c.SMTPHost)
	}
	if c.SMTPTLS == notify.SMTPNoTLS && c.SMTPCAFile != "" {
		return errors.New("SMTP_CA_FILE is set but SMTP_TLS=none uses no TLS")
	}
	if c.EmailTo == "" && !c.EmailRecipients {
		return errors.New("SMTP_HOST is set but no one would get email: set EMAIL_TO, or EMAIL_RECIPIENTS=true")
	}
	return nil
}

// loopbackHost: localhost or a loopback IP; names are not resolved (a
// resolver could answer anything).
func loopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback()
}

// EmailAddresses splits EMAIL_TO.
func (c *Config) EmailAddresses() []string {
	var out []string
	for _, a := range strings.Split(c.EmailTo, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// SMTP returns the settings of the email destination; ok is false when
// SMTP_HOST is not set.
func (c *Config) SMTP() (s notify.SMTPSettings, ok bool) {
	if c.SMTPHost == "" {
		return s, false
	}
	port := c.SMTPPort
	if port == 0 {
		port = notify.SMTPPort(c.SMTPTLS)
	}
	return notify.SMTPSettings{Host: c.SMTPHost, Port: port, TLS: c.SMTPTLS, From: c.SMTPFrom,
		Username: c.SMTPUsername, Password: c.SMTPPassword, RootCAs: c.smtpRootCAs}, true
}

// SMTPRootCAs is the pool read from SMTP_CA_FILE, nil without one.
func (c *Config) SMTPRootCAs() *x509.CertPool { return c.smtpRootCAs }

// WebhookHeaders are the extra headers read from WEBHOOK_HEADERS_FILE.
func (c *Config) WebhookHeaders() http.Header { return c.webhookHeaders }

// Destinations lists where the report goes, in the order they are logged:
// the Slack side (Transport: "slack", "webhook" or "stdout"), "email" with
// SMTP_HOST, "json-webhook" with WEBHOOK_URL, "commit-status" with a GitHub
// or GitLab token. NOTIFIER=auto prints to stdout
// only when no other destination is configured.
func (c *Config) Destinations() []string {
	var out []string
	t := c.Transport()
	if t != "stdout" || c.Notifier == "stdout" || (c.SMTPHost == "" && c.WebhookURL == "" && !c.commitStatus()) {
		out = append(out, t)
	}
	if c.SMTPHost != "" {
		out = append(out, notify.EmailName)
	}
	if c.WebhookURL != "" {
		out = append(out, notify.JSONWebhookName)
	}
	if c.commitStatus() {
		out = append(out, notify.CommitStatusName)
	}
	return out
}
