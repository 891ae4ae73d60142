package app

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/api/conversations"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/pgtest"
)

// fallbackTune lets POST /v1/send take a fallback.after of a second and
// looks for due fallbacks often.
func fallbackTune(c *Config) {
	c.FallbackMinAfter = time.Second
	c.FallbackEvery = 50 * time.Millisecond
}

// fallbackChannels gives the server's account a WhatsApp channel (the
// demo's simulator) and an SMS channel (the demo's SMSC).
func fallbackChannels(t *testing.T, s *server, accountID string) (wa, sms *store.ConvChannel) {
	t.Helper()
	ctx := context.Background()
	wa, err := conversations.AddChannel(ctx, s.app.store, accountID, "whatsapp", demoWhatsAppNumberID, "orders")
	if err != nil {
		t.Fatal(err)
	}
	// hsm sends are checked against the channel's template registry.
	if err := ensureDemoTemplate(ctx, s.app.store, accountID, wa.ID, s.app.demoTemplateID); err != nil {
		t.Fatal(err)
	}
	sms, err = conversations.AddChannel(ctx, s.app.store, accountID, "sms", "Shop", "texts")
	if err != nil {
		t.Fatal(err)
	}
	return wa, sms
}

// helloWorld is the demo simulator's approved template, as content.
var helloWorld = map[string]any{"hsm": map[string]any{"namespace": "demo", "templateName": "hello_world",
	"language": map[string]any{"policy": "deterministic", "code": "en_US"}}}

// optedIn records a recipient's opt-in (WhatsApp templates need it).
func optedIn(t *testing.T, s *server, accountID, number string) {
	t.Helper()
	if err := s.app.store.AddConsents(context.Background(), []*store.Consent{{AccountID: accountID, Recipient: number,
		Purpose: "transactional", Action: store.OptIn, Source: store.SourceImport, CreatedAt: time.Now()}}); err != nil {
		t.Fatal(err)
	}
}

// ledgerOf sums an account's ledger entries per kind and reference.
func ledgerOf(t *testing.T, s *server, accountID string) map[string]int64 {
	t.Helper()
	es, err := s.app.store.Ledger(context.Background(), accountID, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, e := range es {
		out[e.Kind+" "+e.Reference] += e.Amount
	}
	return out
}

// A WhatsApp message whose handset never confirms delivery falls back to
// SMS after fallback.after: the SMS goes out through the pipeline and the
// SMSC simulator delivers it; the WhatsApp message, already with the
// platform, stays sent and is not cancelled; both are charged. The first
// message's GET and report say which message and channel stood in.
func TestFallbackSendsSMSWhenWhatsAppIsNotDelivered(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, fallbackTune)
		wa, sms := fallbackChannels(t, s, s.accountID)
		const handset = "31611110001"
		handsetWrote(t, s, s.accountID, handset)
		s.app.DemoWhatsApp().Silence(handset, true)
		sink := newJSONSink(t, s.signingKey)
		r := s.sendEmail(s.key, map[string]any{"to": "+" + handset, "from": wa.ID, "type": "text",
			"content": map[string]any{"text": "Your order A-17 has shipped."}, "reportUrl": sink.srv.URL + "/r",
			"fallback": map[string]any{"from": sms.ID, "after": "1s"}})
		if r.status != http.StatusAccepted || r.json["status"] != "accepted" {
			t.Fatalf("POST /v1/send = %d %s", r.status, r.raw)
		}
		id := r.json["id"].(string)
		fb, _ := r.json["fallback"].(map[string]any)
		if fb == nil || fb["id"] == "" || fb["id"] == id {
			t.Fatalf("no fallback id in %s", r.raw)
		}
		fid := fb["id"].(string)
		accepted := time.Now()
		var sent map[string]any
		waitFor(t, "the SMS fallback delivered", 20*time.Second, func() bool {
			g := s.get("/v1/messages/" + fid)
			sent = g.json
			return g.status == 200 && g.json["status"] == "delivered"
		})
		t.Logf("fallback after 1s: the SMS delivered %v after POST /v1/send answered", time.Since(accepted).Round(time.Millisecond))
		if sent["platform"] != "sms" || sent["channelId"] != sms.ID || sent["fallbackOf"] != id || sent["to"] != handset ||
			sent["content"].(map[string]any)["text"] != "Your order A-17 has shipped." {
			t.Fatalf("fallback message %s", mustMarshal(sent))
		}
		g := s.get("/v1/messages/" + id)
		f, _ := g.json["fallback"].(map[string]any)
		rc := g.json["recipients"].([]any)[0].(map[string]any)
		if f == nil || f["status"] != "sent" || f["id"] != fid || f["from"] != sms.ID || f["after"] != "1s" || f["platform"] != "sms" ||
			f["cancelled"] == true || rc["status"] != "sent" || g.json["platform"] != "whatsapp" {
			t.Fatalf("first message %s", g.raw)
		}
		if ev := rc["events"].([]any); len(ev) != 1 || ev[0].(map[string]any)["event"] != "fallback" {
			t.Fatalf("events of the first message: %v", ev)
		}
		waitFor(t, "the reports", 10*time.Second, func() bool {
			return sink.has(handset+" sent fallback") && sink.has(handset+" delivered")
		})
		sink.mu.Lock()
		for _, m := range sink.got {
			msg := m["message"].(map[string]any)
			if rep := m["report"].(map[string]any); rep["event"] == "fallback" {
				if d := rep["detail"].(map[string]any); d["id"] != fid || d["channelId"] != sms.ID || d["status"] != "sent" || msg["id"] != id {
					t.Errorf("fallback report %s", mustMarshal(m))
				}
			}
			if msg["id"] == fid && msg["fallbackOf"] != id {
				t.Errorf("report of the fallback message %s", mustMarshal(m))
			}
		}
		sink.mu.Unlock()
		// Both were sent: the SMS is charged, the WhatsApp message stays
		// charged as it was (a free-form reply in the customer's window is
		// a free service conversation), nothing is refunded.
		l := ledgerOf(t, s, s.accountID)
		if l["charge "+fid] >= 0 || l["refund "+id] != 0 {
			t.Fatalf("ledger %v", l)
		}
		// The simulator got the WhatsApp message once; the fallback fired once.
		n := 0
		for _, m := range s.app.DemoWhatsApp().Sent() {
			if m.To == handset {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("the simulator got %d messages to the handset", n)
		}
	})
}

// A message delivered within fallback.after is not sent again: the
// fallback ends skipped and no fallback message exists or is charged.
func TestFallbackSkippedWhenDelivered(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, fallbackTune)
		wa, sms := fallbackChannels(t, s, s.accountID)
		const handset = "31611110002"
		handsetWrote(t, s, s.accountID, handset)
		r := s.sendEmail(s.key, map[string]any{"to": handset, "from": wa.ID, "type": "text",
			"content": map[string]any{"text": "Your order A-18 has shipped."}, "fallback": map[string]any{"from": sms.ID, "after": "3s"}})
		if r.status != http.StatusAccepted {
			t.Fatalf("POST /v1/send = %d %s", r.status, r.raw)
		}
		id, fid := r.json["id"].(string), r.json["fallback"].(map[string]any)["id"].(string)
		waitFor(t, "the fallback skipped", 20*time.Second, func() bool {
			g := s.get("/v1/messages/" + id)
			f, _ := g.json["fallback"].(map[string]any)
			return f != nil && f["status"] == "skipped"
		})
		g := s.get("/v1/messages/" + id)
		if st := g.json["status"]; st != "delivered" && st != "read" {
			t.Fatalf("first message %s", g.raw)
		}
		if g := s.get("/v1/messages/" + fid); g.status != http.StatusNotFound {
			t.Fatalf("GET the fallback that was not sent = %d %s", g.status, g.raw)
		}
		if l := ledgerOf(t, s, s.accountID); l["charge "+fid] != 0 {
			t.Fatalf("ledger %v", l)
		}
	})
}

// A WhatsApp message that has not left yet when its fallback is due (the
// Cloud API answered an error and the send waits to be tried again) is
// cancelled and refunded; the SMS goes instead, and the account pays for
// the SMS only.
func TestFallbackCancelsWhatWaits(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, fallbackTune)
		wa, sms := fallbackChannels(t, s, s.accountID)
		const handset = "31611110003"
		optedIn(t, s, s.accountID, handset)
		// A utility conversation (this template's) costs 0.03 EUR here, so
		// that the refund shows.
		if err := s.app.store.UpsertPrices(context.Background(), []store.Price{{Channel: "whatsapp", Unit: "utility", Currency: "EUR", Price: 30_000,
			UpdatedAt: time.Now().UTC()}}); err != nil {
			t.Fatal(err)
		}
		s.app.billing.Pricer().Invalidate()
		s.app.DemoWhatsApp().FailNext(1, 131000, "") // a 500: tried again 10 s later
		// The fallback is due 5 s after the send: by then the first attempt
		// has usually failed and its job waits; if it is still running (a
		// loaded machine), the message is cancelled once it fails.
		r := s.sendEmail(s.key, map[string]any{"to": handset, "from": wa.ID, "type": "hsm", "content": helloWorld,
			"fallback": map[string]any{"from": sms.ID, "after": "5s", "text": "Hello World"}})
		if r.status != http.StatusAccepted {
			t.Fatalf("POST /v1/send = %d %s", r.status, r.raw)
		}
		id, fid := r.json["id"].(string), r.json["fallback"].(map[string]any)["id"].(string)
		waitFor(t, "the SMS fallback delivered", 20*time.Second, func() bool {
			g := s.get("/v1/messages/" + fid)
			return g.status == 200 && g.json["status"] == "delivered"
		})
		// Cancelled at once if its failed attempt was over when the fallback
		// went, else when that attempt fails (a loaded machine).
		var g response
		waitFor(t, "the first message cancelled", 20*time.Second, func() bool {
			g = s.get("/v1/messages/" + id)
			f, _ := g.json["fallback"].(map[string]any)
			return f != nil && f["cancelled"] == true
		})
		f, _ := g.json["fallback"].(map[string]any)
		rc := g.json["recipients"].([]any)[0].(map[string]any)
		if f == nil || f["status"] != "sent" || f["cancelled"] != true || rc["status"] != "failed" ||
			!strings.Contains(rc["statusReason"].(string), "cancelled") {
			t.Fatalf("first message %s", g.raw)
		}
		l := ledgerOf(t, s, s.accountID)
		if l["charge "+fid] >= 0 || l["charge "+id] >= 0 || l["charge "+id]+l["refund "+id] != 0 {
			t.Fatalf("ledger %v", l)
		}
		// The cancelled send is never tried again: its job is gone.
		if q, err := s.app.store.QueueStats(context.Background()); err != nil || q.Depth[store.JobSend] != 0 {
			t.Fatalf("send jobs left: %+v %v", q, err)
		}
		for _, m := range s.app.DemoWhatsApp().Sent() {
			if m.To == handset {
				t.Fatalf("the cancelled message reached the simulator: %+v", m)
			}
		}
	})
}

// A fallback stored before a restart fires after it: the accept commit
// holds it, and the node that comes back finds it due.
func TestFallbackSurvivesRestart(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		cfg := Config{HTTPAddr: "127.0.0.1:0", DataDir: t.TempDir(), Demo: true, SQLiteSync: "NORMAL", ShutdownTimeout: 10 * time.Second,
			DemoReceiptDelay: 20 * time.Millisecond}
		if engine == "postgres" {
			cfg.DatabaseURL = pgtest.URL(t)
		}
		cfg.Dispatch.Pool.Poll, cfg.Webhook.Pool.Poll = 20*time.Millisecond, 20*time.Millisecond
		fallbackTune(&cfg)
		s, stop := serveUntil(t, cfg, nil)
		s.accountID, s.key, s.testKey, s.signingKey = s.newAccount("acme")
		wa, sms := fallbackChannels(t, s, s.accountID)
		const handset = "31611110004"
		handsetWrote(t, s, s.accountID, handset)
		s.app.DemoWhatsApp().Silence(handset, true)
		r := s.sendEmail(s.key, map[string]any{"to": handset, "from": wa.ID, "type": "text",
			"content": map[string]any{"text": "Your order A-20 has shipped."}, "fallback": map[string]any{"from": sms.ID, "after": "3s"}})
		if r.status != http.StatusAccepted {
			t.Fatalf("POST /v1/send = %d %s", r.status, r.raw)
		}
		id, fid := r.json["id"].(string), r.json["fallback"].(map[string]any)["id"].(string)
		stop()
		s2 := serve(t, cfg)
		s2.accountID, s2.key = s.accountID, s.key
		waitFor(t, "the SMS fallback delivered after the restart", 30*time.Second, func() bool {
			g := s2.get("/v1/messages/" + fid)
			return g.status == 200 && g.json["status"] == "delivered"
		})
		if g := s2.get("/v1/messages/" + id); g.json["fallback"].(map[string]any)["status"] != "sent" {
			t.Fatalf("first message %s", g.raw)
		}
	})
}

// Runners racing for the same due fallback (several nodes, or a runner
// whose claim ran out) send it once.
func TestFallbackFiresOnce(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) {
			c.FallbackMinAfter = time.Second
			c.FallbackEvery = time.Hour // only the racers below fire it
		})
		wa, sms := fallbackChannels(t, s, s.accountID)
		const handset = "31611110005"
		handsetWrote(t, s, s.accountID, handset)
		s.app.DemoWhatsApp().Silence(handset, true)
		r := s.sendEmail(s.key, map[string]any{"to": handset, "from": wa.ID, "type": "text",
			"content": map[string]any{"text": "Your order A-21 has shipped."}, "fallback": map[string]any{"from": sms.ID, "after": "1s"}})
		if r.status != http.StatusAccepted {
			t.Fatalf("POST /v1/send = %d %s", r.status, r.raw)
		}
		fid := r.json["fallback"].(map[string]any)["id"].(string)
		at := time.Now().Add(2 * time.Second)
		var mu sync.Mutex
		sent := 0
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := s.app.pipeline.FireFallbacks(context.Background(), "racer-"+string(rune('a'+i)), at)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				sent += out.Sent
				mu.Unlock()
			}()
		}
		wg.Wait()
		if sent != 1 {
			t.Fatalf("%d runners sent the fallback", sent)
		}
		out, err := s.app.pipeline.FireFallbacks(context.Background(), "late", at.Add(time.Hour))
		if err != nil || out != (pipeline.FallbackOutcome{}) {
			t.Fatalf("a later pass: %+v %v", out, err)
		}
		waitFor(t, "the SMS fallback delivered", 20*time.Second, func() bool {
			g := s.get("/v1/messages/" + fid)
			return g.status == 200 && g.json["status"] == "delivered"
		})
		if l := ledgerOf(t, s, s.accountID); l["charge "+fid] >= 0 {
			t.Fatalf("ledger %v", l)
		}
	})
}

// Bad fallbacks are refused in the door's format, naming the parameter,
// and nothing is stored.
func TestFallbackBadInput(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, fallbackTune)
		wa, sms := fallbackChannels(t, s, s.accountID)
		other, _, _, _ := s.newAccount("other")
		theirs, err := conversations.AddChannel(context.Background(), s.app.store, other, "sms", "Other", "")
		if err != nil {
			t.Fatal(err)
		}
		mail, err := conversations.AddChannel(context.Background(), s.app.store, s.accountID, "email", "news@shop.example", "")
		if err != nil {
			t.Fatal(err)
		}
		text := map[string]any{"text": "Your order has shipped."}
		hsm := helloWorld
		optedIn(t, s, s.accountID, "31611110009")
		for _, c := range []struct {
			typ      string
			content  map[string]any
			fallback any
			param    string
		}{
			{"text", text, map[string]any{"after": "1m"}, "fallback.from"},
			{"text", text, map[string]any{"from": "sms"}, "fallback.from"},
			{"text", text, map[string]any{"from": theirs.ID}, "fallback.from"},
			{"text", text, map[string]any{"from": wa.ID}, "fallback.from"},
			{"text", text, map[string]any{"from": mail.ID}, "fallback.from"},
			{"text", text, map[string]any{"from": sms.ID, "after": "500ms"}, "fallback.after"},
			{"text", text, map[string]any{"from": sms.ID, "after": "0s"}, "fallback.after"},
			{"text", text, map[string]any{"from": sms.ID, "after": "49h"}, "fallback.after"},
			{"text", text, map[string]any{"from": sms.ID, "after": "1d"}, "fallback.after"},
			{"text", text, map[string]any{"from": sms.ID, "after": "-1m"}, "fallback.after"},
			{"text", text, map[string]any{"from": sms.ID, "after": 60}, "fallback.after"},
			{"text", text, map[string]any{"from": sms.ID, "text": ""}, "fallback.text"},
			{"text", text, map[string]any{"from": sms.ID, "colour": "red"}, "colour"},
			{"text", text, "sms", "fallback"},
			{"text", map[string]any{"text": strings.Repeat("x", 3000)}, map[string]any{"from": sms.ID}, "fallback"},
			{"hsm", hsm, map[string]any{"from": sms.ID}, "fallback.text"},
		} {
			r := s.sendEmail(s.key, map[string]any{"to": "31611110009", "from": wa.ID, "type": c.typ, "content": c.content, "fallback": c.fallback})
			code, param, desc := errorOf(t, r)
			if r.status != http.StatusUnprocessableEntity || param != c.param || desc == "" || (code != 9 && code != 10) {
				t.Errorf("fallback %v: %d %s, want 422 naming %s", c.fallback, r.status, r.raw, c.param)
			}
		}
		// An email send has no fallback.
		r := s.sendEmail(s.key, map[string]any{"to": "a@example.com", "from": mail.ID, "type": "email",
			"content":  map[string]any{"email": map[string]any{"subject": "Hi", "content": map[string]any{"text": "Hi"}}},
			"fallback": map[string]any{"from": sms.ID}})
		if _, param, _ := errorOf(t, r); r.status != 422 || param != "fallback" {
			t.Errorf("email with a fallback: %d %s", r.status, r.raw)
		}
		// A template falls back to SMS with fallback.text; a test key
		// checks it all and stores nothing.
		r = s.sendEmail(s.testKey, map[string]any{"to": "31611110009", "from": wa.ID, "type": "hsm", "content": hsm,
			"fallback": map[string]any{"from": sms.ID, "text": "Your order has shipped."}})
		if r.status != http.StatusAccepted || r.json["fallback"] == nil {
			t.Fatalf("hsm with fallback.text (test key): %d %s", r.status, r.raw)
		}
		if due, err := s.app.store.DueFallbacks(context.Background(), time.Now().Add(72*time.Hour), 10); err != nil || len(due) != 0 {
			t.Fatalf("stored fallbacks: %v %v", due, err)
		}
		if msgs, n, err := s.app.store.ListMessages(context.Background(), s.accountID, store.MessageFilter{Limit: 10}); err != nil || n != 0 {
			t.Fatalf("stored messages: %d %v %v", n, msgs, err)
		}
	})
}

// A fallback the fallback channel's billing refuses (the account cannot
// pay for the SMS) is not sent; the first message says why, and its report
// (event "fallback", status refused) tells the customer.
func TestFallbackRefusedIsReported(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, fallbackTune)
		wa, sms := fallbackChannels(t, s, s.accountID)
		const handset = "31611110006"
		handsetWrote(t, s, s.accountID, handset)
		s.app.DemoWhatsApp().Silence(handset, true)
		// Nothing left to pay with: the free-form WhatsApp reply is free,
		// the SMS is not.
		if err := s.app.store.AddLedgerEntry(context.Background(), &store.LedgerEntry{AccountID: s.accountID, Kind: store.LedgerAdjustment,
			Amount: -1_000_000_000, Reason: "test", Actor: "test"}); err != nil {
			t.Fatal(err)
		}
		sink := newJSONSink(t, s.signingKey)
		r := s.sendEmail(s.key, map[string]any{"to": handset, "from": wa.ID, "type": "text", "reportUrl": sink.srv.URL + "/r",
			"content": map[string]any{"text": "Your order A-22 has shipped."}, "fallback": map[string]any{"from": sms.ID, "after": "1s"}})
		if r.status != http.StatusAccepted {
			t.Fatalf("POST /v1/send = %d %s", r.status, r.raw)
		}
		id, fid := r.json["id"].(string), r.json["fallback"].(map[string]any)["id"].(string)
		var f map[string]any
		waitFor(t, "the fallback refused", 20*time.Second, func() bool {
			g := s.get("/v1/messages/" + id)
			f, _ = g.json["fallback"].(map[string]any)
			return f != nil && f["status"] == "refused"
		})
		if !strings.Contains(f["reason"].(string), "balance") {
			t.Fatalf("fallback %v", f)
		}
		waitFor(t, "the refusal reported", 10*time.Second, func() bool { return sink.has(handset + " sent fallback") })
		sink.mu.Lock()
		for _, m := range sink.got {
			if rep := m["report"].(map[string]any); rep["event"] == "fallback" {
				if d := rep["detail"].(map[string]any); d["status"] != "refused" || !strings.Contains(d["reason"].(string), "balance") {
					t.Errorf("report %s", mustMarshal(m))
				}
			}
		}
		sink.mu.Unlock()
		if g := s.get("/v1/messages/" + fid); g.status != http.StatusNotFound {
			t.Fatalf("GET the refused fallback = %d %s", g.status, g.raw)
		}
		if l := ledgerOf(t, s, s.accountID); l["charge "+fid] != 0 {
			t.Fatalf("ledger %v", l)
		}
	})
}

// Two nodes on one PostgreSQL database, both looking for due fallbacks
// every few milliseconds: each fallback is sent once, and charged once.
func TestFallbackTwoNodes(t *testing.T) {
	if !pgtest.Available() {
		t.Skip(pgtest.EnvVar + " is not set")
	}
	race := func(c *Config) {
		c.FallbackMinAfter = time.Second
		c.FallbackEvery = 5 * time.Millisecond
	}
	a := start(t, "postgres", race)
	cfg := a.app.cfg
	cfg.DataDir, cfg.MasterKeyFile = t.TempDir(), filepath.Join(a.app.cfg.DataDir, "master.key")
	cfg.HTTPAddr = "127.0.0.1:0"
	b := serve(t, cfg)
	wa, sms := fallbackChannels(t, a, a.accountID)
	const n = 10
	var fids []string
	for i := range n {
		handset := fmt.Sprintf("3161111%04d", 100+i)
		handsetWrote(t, a, a.accountID, handset)
		a.app.DemoWhatsApp().Silence(handset, true)
		b.app.DemoWhatsApp().Silence(handset, true)
		r := a.sendEmail(a.key, map[string]any{"to": handset, "from": wa.ID, "type": "text",
			"content": map[string]any{"text": "Your order has shipped."}, "fallback": map[string]any{"from": sms.ID, "after": "1s"}})
		if r.status != http.StatusAccepted {
			t.Fatalf("POST /v1/send = %d %s", r.status, r.raw)
		}
		fids = append(fids, r.json["fallback"].(map[string]any)["id"].(string))
	}
	for _, fid := range fids {
		waitFor(t, "the SMS fallback delivered", 30*time.Second, func() bool {
			g := a.get("/v1/messages/" + fid)
			return g.status == 200 && g.json["status"] == "delivered"
		})
	}
	es, err := a.app.store.Ledger(context.Background(), a.accountID, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	charges := map[string]int{}
	for _, e := range es {
		if e.Kind == store.LedgerCharge {
			charges[e.Reference]++
		}
	}
	for _, fid := range fids {
		if charges[fid] != 1 {
			t.Fatalf("fallback %s charged %d times", fid, charges[fid])
		}
	}
}
