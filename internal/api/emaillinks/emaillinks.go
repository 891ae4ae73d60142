// Package emaillinks serves the public endpoints an email's links point
// at, without an access key: the one-click unsubscribe (RFC 8058), the
// open-tracking pixel and click-tracking redirects. Each link carries a
// token signed by internal/email/links naming the account, message and
// recipient; a token that does not verify changes nothing. What they do
// goes through the store: an opt-out in the consent ledger (which
// suppresses the address), and the recipient's event with its status
// report.
package emaillinks

import (
	"context"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/email/links"
	"github.com/omnigate/omnigate/internal/store"
)

// SourceOneClick is the consent ledger's source of a one-click
// unsubscribe.
const SourceOneClick = "email_one_click"

// maxForm bounds an unsubscribe POST body: RFC 8058's is 26 bytes.
const maxForm = 4 << 10

// Door serves the endpoints.
type Door struct {
	links    *links.Signer
	store    store.Store
	reported func() // wakes the webhook sender
	log      *slog.Logger
}

// New makes the door; signer verifies the tokens, reported is called when
// an event queued a status report.
func New(signer *links.Signer, st store.Store, reported func(), log *slog.Logger) *Door {
	return &Door{links: signer, store: st, reported: reported, log: log}
}

// Register adds the routes to mux.
func (d *Door) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+links.UnsubscribePath+"{token}", d.confirmPage)
	mux.HandleFunc("POST "+links.UnsubscribePath+"{token}", d.unsubscribe)
	mux.HandleFunc("GET "+links.OpenPath+"{token}", d.open)
	mux.HandleFunc("GET "+links.ClickPath+"{token}", d.click)
}

var pages = template.Must(template.New("").Parse(`
{{define "confirm"}}<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Unsubscribe</title></head><body><p>Unsubscribe {{.}} from these emails?</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>
</body></html>{{end}}
{{define "done"}}<!doctype html><html><head><meta charset="utf-8"><title>Unsubscribed</title></head>
<body><p>{{.}} is unsubscribed and will get no more of these emails.</p></body></html>{{end}}
{{define "invalid"}}<!doctype html><html><head><meta charset="utf-8"><title>Invalid link</title></head>
<body><p>This link is not valid. Copy the whole link from the email, or reply to the sender.</p></body></html>{{end}}
`))

func page(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	pages.ExecuteTemplate(w, name, data)
}

// recipient reads the address a verified token names; ok is false when
// the message or recipient is gone.
func (d *Door) recipient(ctx context.Context, t links.Target) (string, bool, error) {
	m, err := d.store.GetMessage(ctx, t.AccountID, t.MessageID)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if t.Seq >= len(m.Recipients) {
		return "", false, nil
	}
	return m.Recipients[t.Seq].Address, true, nil
}

// confirmPage answers GET on an unsubscribe link with a page whose button
// POSTs: link scanners that fetch every URL must not unsubscribe anyone.
func (d *Door) confirmPage(w http.ResponseWriter, r *http.Request) {
	t, err := d.links.Verify(links.Unsubscribe, r.PathValue("token"))
	if err != nil {
		page(w, http.StatusNotFound, "invalid", nil)
		return
	}
	addr, ok, err := d.recipient(r.Context(), t)
	if err != nil {
		d.fail(w, "reading an unsubscribe link's message", err)
		return
	}
	if !ok {
		page(w, http.StatusNotFound, "invalid", nil)
		return
	}
	page(w, http.StatusOK, "confirm", addr)
}

// unsubscribe is the one-click POST (RFC 8058): body
// List-Unsubscribe=One-Click, form-encoded, no cookies or login. The
// opt-out is in the ledger before the answer.
func (d *Door) unsubscribe(w http.ResponseWriter, r *http.Request) {
	t, err := d.links.Verify(links.Unsubscribe, r.PathValue("token"))
	if err != nil {
		page(w, http.StatusNotFound, "invalid", nil)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxForm))
	if err != nil {
		http.Error(w, "the body is too large: send List-Unsubscribe=One-Click", http.StatusRequestEntityTooLarge)
		return
	}
	if !oneClick(string(body)) {
		http.Error(w, "send the form body List-Unsubscribe=One-Click (RFC 8058)", http.StatusBadRequest)
		return
	}
	addr, ok, err := d.recipient(r.Context(), t)
	if err != nil {
		d.fail(w, "reading an unsubscribe link's message", err)
		return
	}
	if !ok {
		page(w, http.StatusNotFound, "invalid", nil)
		return
	}
	now := time.Now().UTC()
	ua := userAgent(r)
	ctx := r.Context()
	latest, err := d.store.LatestConsents(ctx, t.AccountID, "marketing", []string{addr})
	if err != nil {
		d.fail(w, "reading consent", err)
		return
	}
	// A second click (or a client that posts twice) adds nothing.
	if c, ok := latest[addr]; !ok || c.Action != store.OptOut || c.Source != SourceOneClick {
		err = d.store.AddConsents(ctx, []*store.Consent{{AccountID: t.AccountID, Recipient: addr, Purpose: "marketing",
			Action: store.OptOut, Source: SourceOneClick, Actor: "recipient", CreatedAt: now,
			Evidence: map[string]string{"messageId": t.MessageID, "userAgent": ua, "time": now.Format(time.RFC3339)}}})
		if err != nil {
			d.fail(w, "recording an opt-out", err)
			return
		}
	}
	// The opt-out holds whatever happens to the event and its report.
	d.record(r, t, store.EventUnsubscribed, map[string]string{"method": "one-click", "userAgent": ua})
	page(w, http.StatusOK, "done", addr)
}

// oneClick reports whether a form body holds List-Unsubscribe=One-Click.
func oneClick(body string) bool {
	for _, kv := range strings.Split(body, "&") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		if strings.EqualFold(k, "List-Unsubscribe") && strings.EqualFold(v, "One-Click") {
			return true
		}
	}
	return false
}

// pixel is a transparent 1×1 GIF.
var pixel = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// open serves the tracking pixel and records the open; the image is
// served whatever happens, so that the mail renders.
func (d *Door) open(w http.ResponseWriter, r *http.Request) {
	if t, err := d.links.Verify(links.Open, r.PathValue("token")); err == nil {
		d.record(r, t, store.EventOpened, map[string]string{"userAgent": userAgent(r)})
	}
	w.Header().Set("Content-Type", "image/gif")
	w.Header().Set("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0")
	w.Write(pixel)
}

// click records a click and redirects to the link's original URL, which
// the signed token holds (so the endpoint is no open redirect).
func (d *Door) click(w http.ResponseWriter, r *http.Request) {
	t, err := d.links.Verify(links.Click, r.PathValue("token"))
	if err != nil {
		page(w, http.StatusNotFound, "invalid", nil)
		return
	}
	d.record(r, t, store.EventClicked, map[string]string{"url": t.URL, "userAgent": userAgent(r)})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, t.URL, http.StatusFound)
}

func (d *Door) record(r *http.Request, t links.Target, event string, detail map[string]string) {
	out, err := d.store.RecordEvents(r.Context(), []store.Event{{AccountID: t.AccountID, MessageID: t.MessageID, Seq: t.Seq,
		Event: event, Detail: detail, At: time.Now().UTC()}})
	if err != nil {
		d.log.Error("email: recording an event", "event", event, "message", t.MessageID, "err", err)
		return
	}
	if out[0].Reported && d.reported != nil {
		d.reported()
	}
}

func (d *Door) fail(w http.ResponseWriter, what string, err error) {
	d.log.Error("email: "+what, "err", err)
	http.Error(w, "the server could not do this now; try again later", http.StatusServiceUnavailable)
}

// userAgent is the request's User-Agent as evidence: printable, bounded.
func userAgent(r *http.Request) string {
	ua := strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f {
			return -1
		}
		return c
	}, r.UserAgent())
	if len(ua) > 256 {
		ua = ua[:256]
	}
	return strings.ToValidUTF8(ua, "")
}
