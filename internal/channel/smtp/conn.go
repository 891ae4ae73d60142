package smtp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/email/rules"
)

// transactionTimeout bounds one message's MAIL … DATA on a connection
// (RFC 5321 §4.5.3.2 allows each step minutes; a whole message gets ten).
const transactionTimeout = 10 * time.Minute

// refusedBeforeSending fails a recipient for what the server said of
// itself in its EHLO answer, before any command of the transaction: the
// connection stays clean for the next message.
func refusedBeforeSending(code int, reason string) error {
	return &channel.PermanentError{Code: code, Reason: reason + " (refused before sending)"}
}

// errTLS is a failed STARTTLS handshake: opportunistic TLS falls back to
// plain text on a new connection.
type errTLS struct{ err error }

func (e errTLS) Error() string { return "STARTTLS: " + e.err.Error() }

// conn is one SMTP session with a destination host.
type conn struct {
	host       string
	raw        net.Conn
	cl         *smtp.Client
	pipelining bool
	size       bool  // the server takes SIZE=
	maxSize    int64 // its limit; 0 means none given
	smtputf8   bool  // the server takes SMTPUTF8 (RFC 6531)
	tls        bool
	sent       int
	reused     bool
	lastUsed   time.Time
}

// dial opens a connection to the first host of the queue that answers,
// in preference order, each of its addresses in turn.
func (c *Connector) dial(ctx context.Context, q *queue) (*conn, error) {
	var errs []string
	for _, host := range q.hosts {
		var addrs []string
		if c.set.Relay != "" {
			addrs = []string{host}
		} else {
			lctx, cancel := context.WithTimeout(ctx, time.Duration(c.set.ConnectTimeout))
			ips, err := c.resolver.LookupIPAddr(lctx, host)
			cancel()
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", host, err))
				continue
			}
			for _, ip := range ips {
				addrs = append(addrs, net.JoinHostPort(ip.IP.String(), strconv.Itoa(c.set.Port)))
			}
		}
		for _, addr := range addrs {
			cn, err := c.open(ctx, host, addr, c.set.TLS != TLSOff)
			var te errTLS
			if errors.As(err, &te) && c.set.TLS == TLSOpportunistic {
				c.log.Info("smtp: STARTTLS failed, sending in plain text", "host", host, "err", te.err)
				cn, err = c.open(ctx, host, addr, false)
			}
			if err == nil {
				return cn, nil
			}
			errs = append(errs, fmt.Sprintf("%s (%s): %v", host, addr, err))
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
			}
		}
	}
	if len(errs) == 0 {
		errs = append(errs, "no host to connect to")
	}
	return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
}

// open connects to addr, reads the greeting, says EHLO, starts TLS when
// offered (and wanted) and authenticates to a relay.
func (c *Connector) open(ctx context.Context, host, addr string, useTLS bool) (cn *conn, err error) {
	timeout := time.Duration(c.set.ConnectTimeout)
	d := net.Dialer{Timeout: timeout, Resolver: c.resolver}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	raw.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	cl, err := smtp.NewClient(raw, name)
	if err != nil {
		raw.Close()
		return nil, fmt.Errorf("greeting: %v", err)
	}
	defer func() {
		if err != nil {
			cl.Close()
		}
	}()
	if err := cl.Hello(c.helo); err != nil {
		return nil, fmt.Errorf("EHLO: %v", err)
	}
	cn = &conn{host: host, raw: raw, cl: cl}
	if ok, _ := cl.Extension("STARTTLS"); ok && useTLS {
		if err := cl.StartTLS(c.tlsConfig(host)); err != nil {
			var te *textproto.Error
			if errors.As(err, &te) {
				return nil, fmt.Errorf("STARTTLS: %v", err)
			}
			return nil, errTLS{err}
		}
		cn.tls = true
	}
	if c.set.TLS == TLSRequired && !cn.tls {
		return nil, errors.New("the server does not offer STARTTLS and tls is required")
	}
	if c.set.Username != "" {
		if !cn.tls {
			return nil, errors.New("the relay offers no TLS: the password is never sent in clear")
		}
		if err := cl.Auth(plainAuth{c.set.Username, c.set.Password}); err != nil {
			return nil, fmt.Errorf("AUTH: %v", err)
		}
	}
	cn.pipelining, _ = cl.Extension("PIPELINING")
	cn.smtputf8, _ = cl.Extension("SMTPUTF8")
	var sz string
	cn.size, sz = cl.Extension("SIZE")
	if n, err := strconv.ParseInt(strings.TrimSpace(sz), 10, 64); err == nil && n > 0 {
		cn.maxSize = n
	}
	raw.SetDeadline(time.Time{})
	return cn, nil
}

// send runs MAIL, RCPT and DATA for one recipient; on a reused connection
// RSET goes first, pipelined with MAIL when the server allows it. A server
// refusal is an *answer, a refusal before sending (what the server's EHLO
// answer rules out) a *channel.PermanentError; anything else means the
// connection is broken.
func (cn *conn) send(ctx context.Context, from, to string, data []byte) error {
	if cn.maxSize > 0 && int64(len(data)) > cn.maxSize {
		return refusedBeforeSending(CodeTooLarge, fmt.Sprintf("552 5.3.4 message larger than the server accepts (SIZE): %d octets, the server takes %d", len(data), cn.maxSize))
	}
	// A non-ASCII address, in the envelope or in the header (RFC 6532),
	// needs a server that takes SMTPUTF8; RFC 6531 §3.2 forbids sending
	// it to one that does not.
	utf8 := !rules.ASCII(from) || !rules.ASCII(to) || !rules.ASCII(header(data))
	if utf8 && !cn.smtputf8 {
		return refusedBeforeSending(CodeNoSMTPUTF8, "553 5.6.7 the address is not ASCII and the receiving server does not offer SMTPUTF8")
	}
	if strings.ContainsAny(from+to, "\r\n<>") {
		return &answer{Code: 501, Msg: "5.1.3 bad address syntax (refused before sending)"}
	}
	deadline := time.Now().Add(transactionTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	cn.raw.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { cn.raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	defer cn.raw.SetDeadline(time.Time{})
	mail := "MAIL FROM:<" + from + ">"
	if cn.size {
		mail += " SIZE=" + strconv.Itoa(len(data))
	}
	if utf8 {
		mail += " SMTPUTF8"
	}
	text := cn.cl.Text
	if cn.reused && cn.pipelining {
		rset, err := text.Cmd("RSET")
		if err != nil {
			return err
		}
		mailID, err := text.Cmd("%s", mail)
		if err != nil {
			return err
		}
		if err := readReply(text, rset, 250); err != nil {
			return err
		}
		if err := readReply(text, mailID, 250); err != nil {
			return asAnswer(err)
		}
	} else {
		if cn.reused {
			if err := cn.cl.Reset(); err != nil {
				return err
			}
		}
		id, err := text.Cmd("%s", mail)
		if err != nil {
			return err
		}
		if err := readReply(text, id, 250); err != nil {
			return asAnswer(err)
		}
	}
	if err := cn.cl.Rcpt(to); err != nil {
		return asAnswer(err)
	}
	w, err := cn.cl.Data()
	if err != nil {
		return asAnswer(err)
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return asAnswer(err)
	}
	return nil
}

// header is a message's header section (all of it when it has no body).
func header(data []byte) []byte {
	if i := bytes.Index(data, []byte("\r\n\r\n")); i >= 0 {
		return data[:i]
	}
	return data
}

func readReply(text *textproto.Conn, id uint, code int) error {
	text.StartResponse(id)
	defer text.EndResponse(id)
	_, _, err := text.ReadResponse(code)
	return err
}

// quit says QUIT (briefly) and closes.
func (cn *conn) quit() {
	cn.raw.SetDeadline(time.Now().Add(2 * time.Second))
	if err := cn.cl.Quit(); err != nil {
		cn.cl.Close()
	}
}

// plainAuth is AUTH PLAIN (RFC 4616); the connector only uses it over TLS.
type plainAuth struct{ user, pass string }

func (a plainAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.pass), nil
}

func (a plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected server challenge")
	}
	return nil, nil
}
