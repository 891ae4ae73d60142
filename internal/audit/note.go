package audit

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
)

// A Note is what a handler knows of the change it made, for the change
// its door records when the request succeeds (the doors' handler
// wrappers: internal/api/admin, internal/api/rest, internal/api/twilio).
// Without one, the door records the request body (masked) as After.
type Note struct {
	mu     sync.Mutex
	before any
	after  any
	set    bool
	object string
	acct   string
	skip   bool
}

type noteKey struct{}

// WithNote gives ctx a note for the handler to fill.
func WithNote(ctx context.Context) (context.Context, *Note) {
	n := &Note{}
	return context.WithValue(ctx, noteKey{}, n), n
}

// Noted is ctx's note, or nil (whose methods do nothing).
func Noted(ctx context.Context) *Note {
	n, _ := ctx.Value(noteKey{}).(*Note)
	return n
}

// Changed says what the object was and became.
func (n *Note) Changed(before, after any) {
	if n == nil {
		return
	}
	n.mu.Lock()
	n.before, n.after, n.set = before, after, true
	n.mu.Unlock()
}

// Object names what was changed, when the path does not (e.g. the id of a
// created object).
func (n *Note) Object(o string) {
	if n == nil {
		return
	}
	n.mu.Lock()
	n.object = o
	n.mu.Unlock()
}

// Account names the account concerned, when the path does not.
func (n *Note) Account(id string) {
	if n == nil {
		return
	}
	n.mu.Lock()
	n.acct = id
	n.mu.Unlock()
}

// Skip says nothing changed (e.g. a preview that only renders).
func (n *Note) Skip() {
	if n == nil {
		return
	}
	n.mu.Lock()
	n.skip = true
	n.mu.Unlock()
}

// Fill completes c with what the note says; body is the request body
// the door kept (After when the handler said nothing). It reports false
// when the handler said nothing changed.
func (n *Note) Fill(c *Change, body []byte) bool {
	if n == nil {
		c.After = body
		return true
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.skip {
		return false
	}
	if n.set {
		c.Before, c.After = n.before, n.after
	} else if len(body) > 0 {
		c.After = body
	}
	if n.object != "" {
		c.Object = n.object
	}
	if n.acct != "" {
		c.Account = n.acct
	}
	return true
}

// MaxKeptBody bounds the request body a door keeps for the log.
const MaxKeptBody = 64 << 10

// KeepBody makes r's body keep a copy of what the handler reads (up to
// MaxKeptBody); the returned func gives the copy, or nil when the body
// was larger (then only its size is worth recording).
func KeepBody(r *http.Request) func() []byte {
	if r.Body == nil || r.Body == http.NoBody {
		return func() []byte { return nil }
	}
	k := &keptBody{rc: r.Body}
	r.Body = k
	return func() []byte {
		if k.over {
			return nil
		}
		return k.buf.Bytes()
	}
}

type keptBody struct {
	rc   io.ReadCloser
	buf  bytes.Buffer
	over bool
}

func (k *keptBody) Read(p []byte) (int, error) {
	n, err := k.rc.Read(p)
	if n > 0 && !k.over {
		if k.buf.Len()+n > MaxKeptBody {
			k.over = true
			k.buf = bytes.Buffer{}
		} else {
			k.buf.Write(p[:n])
		}
	}
	return n, err
}

func (k *keptBody) Close() error { return k.rc.Close() }

// Changes reports whether a request of this method, answered with status,
// changed something worth recording: a write method that succeeded.
func Changes(method string, status int) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return status < 400
}
