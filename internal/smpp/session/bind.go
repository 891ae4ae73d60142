package session

import (
	"context"
	"fmt"
	"net"

	"github.com/omnigate/omnigate/internal/smpp"
)

// BindError is a bind the peer refused.
type BindError struct{ Status smpp.Status }

func (e *BindError) Error() string { return "smpp bind refused: " + e.Status.String() }

// Dial connects to an SMSC and binds. h receives the SMSC's requests
// (deliver_sm …); it may be nil for a transmitter.
func Dial(ctx context.Context, addr string, bind *smpp.Bind, cfg Config, h Handler) (*Session, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", addr, err)
	}
	s := newSession(conn, cfg, h)
	resp, err := s.Send(ctx, bind)
	if err != nil {
		s.fail(ErrClosed)
		return nil, fmt.Errorf("binding to %s: %w", addr, err)
	}
	if st := resp.Hdr().Status; st != smpp.ESME_ROK {
		s.fail(ErrClosed)
		return nil, &BindError{Status: st}
	}
	if _, ok := resp.(*smpp.BindResp); !ok {
		s.fail(ErrClosed)
		return nil, fmt.Errorf("binding to %s: answered with %s", addr, resp.CommandID())
	}
	s.SetBound(bind.Kind)
	return s, nil
}

// Accept runs a session on a connection an ESME opened. Its binds go to
// auth; once bound, its other requests go to h. Before a bind every other
// request is answered ESME_RINVBNDSTS; a second bind ESME_RALYBND.
func Accept(conn net.Conn, cfg Config, systemID string, auth Authenticator, h Handler) *Session {
	return newSession(conn, cfg, &bindGuard{systemID: systemID, auth: auth, next: h})
}

// Authenticator decides a bind: ESME_ROK to accept, or the status to refuse
// with (ESME_RINVPASWD, ESME_RINVSYSID, ESME_RBINDFAIL …).
type Authenticator func(s *Session, b *smpp.Bind) smpp.Status

type bindGuard struct {
	systemID string
	auth     Authenticator
	next     Handler
}

func (g *bindGuard) Handle(ctx context.Context, s *Session, req smpp.PDU) smpp.PDU {
	_, bound := s.Bound()
	if b, ok := req.(*smpp.Bind); ok {
		if bound {
			return smpp.NewErrorResponse(b.CommandID(), b.Seq, smpp.ESME_RALYBND)
		}
		st := g.auth(s, b)
		if st != smpp.ESME_ROK {
			s.log.Warn("smpp: bind refused", "system_id", b.SystemID, "status", st.String())
			return smpp.NewErrorResponse(b.CommandID(), b.Seq, st)
		}
		s.SetBound(b.Kind)
		resp := smpp.NewResponse(b).(*smpp.BindResp)
		resp.SystemID = g.systemID
		return resp
	}
	if !bound {
		if req.CommandID().HasResponse() {
			return smpp.NewErrorResponse(req.CommandID(), req.Hdr().Seq, smpp.ESME_RINVBNDSTS)
		}
		return nil
	}
	if g.next == nil {
		return smpp.NewErrorResponse(req.CommandID(), req.Hdr().Seq, smpp.ESME_RINVCMDID)
	}
	return g.next.Handle(ctx, s, req)
}
