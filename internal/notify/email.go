package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"time"
	"unicode"

	mail "github.com/wneessen/go-mail"
)

// EmailName is the destination name of email in logs and errors.
const EmailName = "email"

// TLS modes of an SMTP connection (SMTP_TLS).
const (
	// SMTPStartTLS connects in clear and must upgrade with STARTTLS before
	// anything else is said (usually port 587); a server without STARTTLS is
	// an error, never a fallback to clear text.
	SMTPStartTLS = "starttls"
	// SMTPImplicitTLS speaks TLS from the first byte (usually port 465).
	SMTPImplicitTLS = "tls"
	// SMTPNoTLS sends everything, password included, in clear: config only
	// allows it to a loopback relay or with SMTP_ALLOW_PLAINTEXT.
	SMTPNoTLS = "none"
)

// SMTPSettings say how to reach the mail server.
type SMTPSettings struct {
	Host     string
	Port     int
	TLS      string // SMTPStartTLS, SMTPImplicitTLS or SMTPNoTLS
	From     string
	Username string // empty: no AUTH
	Password string
	// RootCAs verify the server's certificate; nil means the system pool.
	RootCAs *x509.CertPool
}

// Email sends one message per recipient over SMTP, so that a recipient the
// server refuses, or that is greylisted, fails or is retried alone. The
// password never appears in its errors.
type Email struct {
	s       SMTPSettings
	secrets []string // the password and the encodings AUTH sends it in
}

// EmailMessage is the rendered report: both parts of a multipart/alternative.
type EmailMessage struct {
	Subject string
	Text    string
	HTML    string
}

// NewEmail checks s and returns an Email.
func NewEmail(s SMTPSettings) (*Email, error) {
	switch {
	case s.Host == "":
		return nil, errors.New("smtp host is empty")
	case s.Port <= 0 || s.Port > 65535:
		return nil, fmt.Errorf("smtp port %d is out of range", s.Port)
	case s.TLS != SMTPStartTLS && s.TLS != SMTPImplicitTLS && s.TLS != SMTPNoTLS:
		return nil, fmt.Errorf("smtp tls mode %q: want starttls, tls or none", s.TLS)
	case s.From == "":
		return nil, errors.New("smtp sender address is empty")
	}
	var secrets []string
	if s.Password != "" {
		secrets = append(secrets, s.Password,
			base64.StdEncoding.EncodeToString([]byte(s.Password)),
			base64.StdEncoding.EncodeToString([]byte("\x00"+s.Username+"\x00"+s.Password)))
	}
	return &Email{s: s, secrets: secrets}, nil
}

// Name is the destination name.
func (e *Email) Name() string { return EmailName }

// Send makes one attempt to deliver m to one address. retry reports whether
// another attempt may succeed: a 4xx reply (greylisting, a full queue) or a
// connection that failed; a 5xx reply (bad password, unknown recipient,
// refused sender) or a certificate that does not verify is permanent. The
// error is an *SMTPError.
func (e *Email) Send(ctx context.Context, to string, m EmailMessage) (retry bool, err error) {
	msg := mail.NewMsg()
	if err := msg.From(e.s.From); err != nil {
		return false, &SMTPError{To: to, Stage: "message", err: fmt.Errorf("sender address %q: %w", e.s.From, errors.Unwrap(err))}
	}
	if err := msg.To(to); err != nil {
		return false, &SMTPError{To: to, Stage: "message", err: errors.New("not a valid address")}
	}
	// go-mail encodes the subject (RFC 2047); the renderer has already made
	// it one line, this is the last guard against header injection.
	msg.Subject(strings.NewReplacer("\r", " ", "\n", " ").Replace(m.Subject))
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	msg.SetMessageID()
	msg.SetDate()

	c, err := mail.NewClient(e.s.Host, e.options(ctx)...)
	if err != nil {
		return false, &SMTPError{To: to, Stage: "setup", err: e.scrub(err)}
	}
	err = c.DialAndSendWithContext(ctx, msg)
	if err == nil {
		return false, nil
	}
	se := classifySMTP(to, e.scrub(err))
	return se.Temporary, se
}

func (e *Email) options(ctx context.Context) []mail.Option {
	tc := &tls.Config{ServerName: e.s.Host, RootCAs: e.s.RootCAs, MinVersion: tls.VersionTLS12}
	opts := []mail.Option{mail.WithPort(e.s.Port), mail.WithTLSConfig(tc)}
	switch e.s.TLS {
	case SMTPImplicitTLS:
		opts = append(opts, mail.WithSSL())
	case SMTPStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	// go-mail bounds each command by its timeout, not by a context: give it
	// what is left of the attempt.
	if dl, ok := ctx.Deadline(); ok {
		opts = append(opts, mail.WithTimeout(max(time.Until(dl), time.Millisecond)))
	}
	if e.s.Username != "" {
		// PLAIN, else LOGIN (else the strongest the server offers). go-mail
		// sends them only over TLS or to localhost; SMTP_TLS=none to another
		// host was allowed explicitly (SMTP_ALLOW_PLAINTEXT), so say so here.
		mechs := []mail.SMTPAuthType{mail.SMTPAuthPlain, mail.SMTPAuthLogin}
		if e.s.TLS == SMTPNoTLS {
			mechs = []mail.SMTPAuthType{mail.SMTPAuthPlainNoEnc, mail.SMTPAuthLoginNoEnc}
		}
		opts = append(opts, mail.WithUsername(e.s.Username), mail.WithPassword(e.s.Password),
			mail.WithOpportunisticSMTPAuth(mechs...))
	}
	return opts
}

// scrub blanks the password, in every form AUTH sends it, out of an error
// that might quote the conversation.
func (e *Email) scrub(err error) error {
	s := err.Error()
	clean := s
	for _, sec := range e.secrets {
		clean = strings.ReplaceAll(clean, sec, "REDACTED")
	}
	if clean == s {
		return err
	}
	return scrubbed{msg: clean, err: err}
}

// scrubbed is an error with secrets blanked out of its text; errors.As and
// errors.Is still see the original chain (reply codes, timeouts).
type scrubbed struct {
	msg string
	err error
}

func (s scrubbed) Error() string { return s.msg }
func (s scrubbed) Unwrap() error { return s.err }

// SMTPError is one failed SMTP attempt to one recipient, classified.
type SMTPError struct {
	// To is the recipient's address.
	To string
	// Stage is where it failed: "connect", "tls", "setup" (no STARTTLS or
	// AUTH offered), "authentication failed", "sender refused", "recipient
	// refused", "message refused", "refused" (any other reply), "message"
	// (an address go-mail will not send to).
	Stage string
	// Code is the server's reply code (451, 535, 550), 0 when none came.
	Code int
	// Temporary reports whether another attempt may succeed.
	Temporary bool

	hint string // what to change, appended in parentheses
	err  error
}

// Error names the recipient, the stage, the reply code and whether it is
// temporary, then the server's reply (one line) or the transport error.
func (e *SMTPError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "email to %q: %s", oneLine(e.To), e.Stage)
	if e.Code != 0 {
		kind := "permanent"
		if e.Temporary {
			kind = "temporary"
		}
		fmt.Fprintf(&b, ": SMTP %d (%s)", e.Code, kind)
	}
	if e.err != nil {
		// The server's reply, on one line and cut, without go-mail's
		// "dial failed: " and "send failed: " prefixes.
		msg := strings.TrimPrefix(strings.TrimPrefix(e.err.Error(), "dial failed: "), "send failed: ")
		msg = strings.Map(func(r rune) rune {
			if unicode.IsPrint(r) {
				return r
			}
			return ' '
		}, msg)
		if r := []rune(msg); len(r) > 300 {
			msg = string(r[:300]) + "…"
		}
		b.WriteString(": " + msg)
	}
	if e.hint != "" {
		b.WriteString(" (" + e.hint + ")")
	}
	return b.String()
}

// Unwrap returns the transport error, for errors.Is(err, context.DeadlineExceeded).
func (e *SMTPError) Unwrap() error { return e.err }

// classifySMTP decides what a failed attempt means. SMTP reply codes say it
// themselves: 4xx is transient, 5xx permanent (RFC 5321 section 4.2.1).
// Without a reply, a network failure is transient and anything else (no
// STARTTLS, no AUTH, a certificate that does not verify) is permanent.
func classifySMTP(to string, err error) *SMTPError {
	se := &SMTPError{To: to, Stage: "connect", err: err}
	var tp *textproto.Error
	var send *mail.SendError
	switch {
	case errors.As(err, &send):
		se.Code = send.ErrorCode()
		switch send.Reason {
		case mail.ErrSMTPMailFrom:
			se.Stage = "sender refused"
		case mail.ErrSMTPRcptTo:
			se.Stage = "recipient refused"
		case mail.ErrSMTPData, mail.ErrSMTPDataClose, mail.ErrWriteContent:
			se.Stage = "message refused"
		default:
			se.Stage = "sending"
		}
		if se.Code == 0 {
			se.Temporary = send.IsTemp()
		}
	case errors.As(err, &tp):
		se.Code = tp.Code
		se.Stage = "refused"
		if strings.Contains(err.Error(), "SMTP AUTH failed") {
			se.Stage = "authentication failed"
			se.hint = "check SMTP_USERNAME and SMTP_PASSWORD"
		}
	case strings.Contains(err.Error(), "STARTTLS"):
		se.Stage = "setup"
		se.hint = "SMTP_TLS=starttls needs a server that offers STARTTLS; tls is implicit TLS (port 465)"
	case strings.Contains(err.Error(), "AUTH"):
		se.Stage = "setup"
	default:
		se.Temporary = networkFailure(err)
		if isTLSVerify(err) {
			se.Stage = "tls"
			se.hint = "SMTP_CA_FILE names the CA that signs the server's certificate"
		}
	}
	if se.Code != 0 {
		se.Temporary = se.Code >= 400 && se.Code < 500
	}
	return se
}

// networkFailure: refused, reset, EOF, DNS, timeouts; not a certificate
// problem, nor a cancelled context.
func networkFailure(err error) bool {
	if isTLSVerify(err) || errors.Is(err, context.Canceled) {
		return false
	}
	var ne net.Error
	var op *net.OpError
	return errors.As(err, &ne) || errors.As(err, &op) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded)
}

func isTLSVerify(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid)
}

// SMTPPort is the default port for a TLS mode: 465 for implicit TLS, 587
// (submission) otherwise.
func SMTPPort(mode string) int {
	if mode == SMTPImplicitTLS {
		return 465
	}
	return 587
}

// DeliverEmail sends m to each address with its own retries under r, all at
// once, so that a greylisted or refused address neither delays nor stops
// the others. It logs one line per address and returns the failures joined
// (nil when every address got it).
func DeliverEmail(ctx context.Context, r Retrier, e *Email, to []string, m EmailMessage, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	errs := make([]error, len(to))
	var wg sync.WaitGroup
	for i, addr := range to {
		wg.Go(func() {
			attempts, err := r.Do(ctx, EmailName, func(ctx context.Context) (bool, error) { return e.Send(ctx, addr, m) }, log)
			if err != nil {
				log.Error("report not delivered", "destination", EmailName, "to", addr, "attempts", attempts, "error", err.Error())
				errs[i] = err
				return
			}
			log.Info("report delivered", "destination", EmailName, "to", addr, "attempts", attempts)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
