package keyring_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/auth"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/keyring"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// Per-account data keys: made on first use, wrapped by the master key,
// rewrapped by a master key rotation; shredding them erases what they
// sealed, for this keyring and for every one opened later.
func TestScopedKeys(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		m1, m2 := newMaster(t), newMaster(t)
		k, err := keyring.Open(ctx, st, m1)
		if err != nil {
			t.Fatal(err)
		}
		if k.HasScope("acct1") {
			t.Fatal("a scope has a key before its first use")
		}
		if _, err := k.SealExisting(ctx, "acct1", "x", []byte("no")); !errors.Is(err, keyring.ErrNoScopeKey) {
			t.Fatalf("SealExisting without a key: %v", err)
		}
		v1, err := k.SealFor(ctx, "acct1", "x", []byte("one"))
		if err != nil {
			t.Fatal(err)
		}
		v2, _ := k.SealFor(ctx, "acct1", "y", []byte("two"))
		w, _ := k.SealFor(ctx, "acct2", "x", []byte("other"))
		p, _ := k.Seal(ctx, "x", []byte("platform"))
		if keyring.KeyID(v1) != keyring.KeyID(v2) || keyring.KeyID(v1) == keyring.KeyID(w) || keyring.KeyID(v1) == keyring.KeyID(p) {
			t.Fatalf("key ids: acct1 %s %s, acct2 %s, platform %s", keyring.KeyID(v1), keyring.KeyID(v2), keyring.KeyID(w), keyring.KeyID(p))
		}
		stored, _ := st.DataKeys(ctx)
		scopes := map[string]int{}
		for _, sk := range stored {
			scopes[sk.Scope]++
		}
		if scopes["acct1"] != 1 || scopes["acct2"] != 1 || scopes[""] != 1 {
			t.Fatalf("stored keys per scope: %v", scopes)
		}

		// A master key rotation rewraps the accounts' keys too.
		if n, err := k.AddMaster(ctx, m2); err != nil || n != 3 {
			t.Fatalf("AddMaster = %d, %v; want 3 keys", n, err)
		}
		if _, err := k.RetireMaster(ctx, m1.ID()); err == nil {
			t.Fatal("retired the master key in use")
		}
		k2, err := keyring.Open(ctx, st, m2)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := k2.RetireMaster(ctx, m1.ID()); err != nil || n != 3 {
			t.Fatalf("RetireMaster = %d, %v", n, err)
		}
		if got, err := k2.Open(ctx, "x", v1); err != nil || string(got) != "one" {
			t.Fatalf("after rotation, acct1's value opens as %q, %v", got, err)
		}

		// Shredding acct1 erases its values, not acct2's nor the platform's.
		if _, err := k2.Shred(ctx, ""); err == nil {
			t.Fatal("shredded the platform's keys")
		}
		if n, err := k2.Shred(ctx, "acct1"); err != nil || n != 1 {
			t.Fatalf("Shred = %d, %v", n, err)
		}
		for _, kr := range []*keyring.Keyring{k2, reopen(t, st, m2)} {
			if _, err := kr.Open(ctx, "x", v1); !errors.Is(err, keyring.ErrErased) {
				t.Errorf("a shredded value opens: %v", err)
			}
			if got, err := kr.Open(ctx, "x", w); err != nil || string(got) != "other" {
				t.Errorf("another account's value: %q, %v", got, err)
			}
			if got, err := kr.Open(ctx, "x", p); err != nil || string(got) != "platform" {
				t.Errorf("the platform's value: %q, %v", got, err)
			}
		}
		// The retired master key opens nothing any more.
		var wrong *keyring.WrongMasterError
		if _, err := keyring.Open(ctx, st, m1); !errors.As(err, &wrong) {
			t.Errorf("the retired master key opens the database: %v", err)
		}
		// Values sealed for acct1 later get a new key.
		v3, err := k2.SealFor(ctx, "acct1", "x", []byte("three"))
		if err != nil || keyring.KeyID(v3) == keyring.KeyID(v1) {
			t.Fatalf("after shredding, sealed with %s (was %s): %v", keyring.KeyID(v3), keyring.KeyID(v1), err)
		}
	})
}

func reopen(t *testing.T, st *sqlstore.Store, m keyring.Wrapper) *keyring.Keyring {
	t.Helper()
	k, err := keyring.Open(context.Background(), st, m)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// rawMessage reads a message's body and content as the database holds
// them.
func rawMessage(t *testing.T, st *sqlstore.Store, id string) (body, content string) {
	t.Helper()
	q := `SELECT body, content FROM messages WHERE id = '` + id + `'`
	if err := st.Writer().QueryRow(q).Scan(&body, &content); err != nil {
		t.Fatal(err)
	}
	return body, content
}

// Message bodies and contents are stored sealed with their account's key
// and read back in clear; rows in clear stay readable; inbound parts are
// sealed too; shredding an account erases its messages (body "[erased]")
// and nothing else, also for a store reopened later.
func TestMessagesAtRest(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		master := newMaster(t)
		st.UseKeyring(reopen(t, st, master))
		a, b := account(t, st), account(t, st)
		ma := msg(a, "secret body A")
		ma.Content = &message.Content{Media: []message.Media{{URL: "https://example.com/a.png"}}}
		mb := msg(b, "secret body B")
		if err := st.AcceptMessages(ctx, []*message.Message{ma, mb}); err != nil {
			t.Fatal(err)
		}
		body, content := rawMessage(t, st, ma.ID)
		if !keyring.Sealed(body) || !keyring.Sealed(content) || strings.Contains(body+content, "secret") || strings.Contains(content, "example.com") {
			t.Fatalf("stored as %q, %q", body, content)
		}
		// A row written in clear (an earlier release) reads as it is.
		st.MessagesInClear(true)
		mc := msg(a, "clear body")
		if err := st.AcceptMessages(ctx, []*message.Message{mc}); err != nil {
			t.Fatal(err)
		}
		st.MessagesInClear(false)
		if body, _ := rawMessage(t, st, mc.ID); body != "clear body" {
			t.Fatalf("written in clear as %q", body)
		}
		check := func(m *message.Message, want string) {
			t.Helper()
			got, err := st.GetMessage(ctx, m.AccountID, m.ID)
			if err != nil || got.Body != want {
				t.Fatalf("GetMessage body %q, %v; want %q", got.Body, err, want)
			}
			list, _, err := st.ListMessages(ctx, m.AccountID, store.MessageFilter{Limit: 10})
			found := false
			for _, l := range list {
				found = found || (l.ID == m.ID && l.Body == want)
			}
			if err != nil || !found {
				t.Fatalf("ListMessages: %v, found %v", err, found)
			}
			many, err := st.GetMessages(ctx, []store.MessageKey{{AccountID: m.AccountID, ID: m.ID}})
			if err != nil || many[m.ID] == nil || many[m.ID].Body != want {
				t.Fatalf("GetMessages: %v", err)
			}
		}
		check(ma, "secret body A")
		check(mb, "secret body B")
		check(mc, "clear body")
		if got, _ := st.GetMessage(ctx, a.ID, ma.ID); got.Content == nil || len(got.Content.Media) != 1 {
			t.Fatalf("content read back as %+v", got.Content)
		}
		// A ciphertext moved to another row does not open there.
		if _, err := st.Writer().Exec(`UPDATE messages SET body = '` + body + `' WHERE id = '` + mc.ID + `'`); err == nil {
			if _, err := st.GetMessage(ctx, a.ID, mc.ID); err == nil {
				t.Fatal("a body copied from another message opens")
			}
		}

		// Inbound: the first part waits sealed; the message, of an account
		// with no key yet, is made whole and sealed with a new key.
		c := account(t, st)
		var inbound *message.Message
		for _, n := range []int{1, 2} {
			got, err := st.AddInboundPart(ctx, store.InboundPart{Connector: "c", Source: "31612345678", Destination: "3197010000001",
				Ref: 9, Total: 2, Part: n, Body: fmt.Sprintf("part-%d ", n), ReceivedAt: time.Now()}, func(bodies []string) (*message.Message, error) {
				m := msg(c, strings.Join(bodies, ""))
				m.Direction = message.MO
				return m, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n == 1 {
				var raw string
				if err := st.Writer().QueryRow(`SELECT body FROM inbound_parts`).Scan(&raw); err != nil || !keyring.Sealed(raw) {
					t.Fatalf("a waiting part is stored as %q, %v", raw, err)
				}
			}
			inbound = got
		}
		if inbound == nil {
			t.Fatal("the inbound message was not made whole")
		}
		check(inbound, "part-1 part-2 ")
		if body, _ := rawMessage(t, st, inbound.ID); !keyring.Sealed(body) {
			t.Fatalf("inbound body stored as %q", body)
		}

		// Shredding a.
		if n, err := st.ShredAccount(ctx, a.ID); err != nil || n.DataKeys != 1 {
			t.Fatalf("ShredAccount = %d, %v", n, err)
		}
		for _, s := range []*sqlstore.Store{st, withKeyring(t, st, master)} {
			got, err := s.GetMessage(ctx, a.ID, ma.ID)
			if err != nil || got.Body != store.Erased || got.Content != nil {
				t.Fatalf("a shredded message reads %+v, %v", got, err)
			}
		}
		check(ma, store.Erased)
		check(mb, "secret body B")
		check(inbound, "part-1 part-2 ")
		// The account's new messages are readable.
		md := msg(a, "after")
		if err := st.AcceptMessages(ctx, []*message.Message{md}); err != nil {
			t.Fatal(err)
		}
		check(md, "after")
	})
}

// withKeyring is st with a keyring opened anew (another node, a restart).
func withKeyring(t *testing.T, st *sqlstore.Store, m keyring.Wrapper) *sqlstore.Store {
	t.Helper()
	st.UseKeyring(reopen(t, st, m))
	return st
}

func account(t *testing.T, st *sqlstore.Store) *store.Account {
	t.Helper()
	a := &store.Account{ID: ids.New(), Name: "acme", Currency: "EUR", Balance: 5_000_000, SigningKey: ids.Secret(40),
		CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	_, k := auth.NewKey(a.ID, false)
	if err := st.CreateAccount(context.Background(), a, []*store.AccessKey{k}); err != nil {
		t.Fatal(err)
	}
	return a
}

func msg(a *store.Account, body string) *message.Message {
	now := time.Now().UTC().Truncate(time.Microsecond)
	return &message.Message{ID: ids.New(), AccountID: a.ID, Channel: message.ChannelSMS, Direction: message.MT, Type: message.TypeSMS,
		Originator: "omnigate", Body: body, CreatedAt: now, Purpose: "transactional",
		Recipients: []message.Recipient{{Seq: 0, Address: "31612340000", Country: "NL", CountryPrefix: 31, Status: message.Sent, StatusAt: now,
			PartCount: 1, Length: len(body), Price: 1, PriceCurrency: "EUR"}}}
}

// The wrong master key is refused at start, never left to write what
// could not be read: an account's key another master key alone wraps, or
// an account's key whose row was damaged, stops Open with an error naming
// it.
func TestScopedKeysRefused(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		m1, m2 := newMaster(t), newMaster(t)
		k := reopen(t, st, m1)
		if _, err := k.AddMaster(ctx, m2); err != nil {
			t.Fatal(err)
		}
		// acct1's key is made after m2 was added: only m1 wraps it.
		v, err := k.SealFor(ctx, "acct1", "x", []byte("one"))
		if err != nil {
			t.Fatal(err)
		}
		id := keyring.KeyID(v)
		if _, err := keyring.Open(ctx, st, m2); err == nil || !strings.Contains(err.Error(), id) {
			t.Fatalf("opening with a master key that does not wrap acct1's key: %v", err)
		}
		if _, err := k.AddMaster(ctx, m2); err != nil {
			t.Fatal(err)
		}
		reopen(t, st, m2)
		// A damaged wrapped key.
		if _, err := st.Writer().Exec(`UPDATE data_keys SET wrapped = ` + hexBlob(st) + ` WHERE id = '` + id + `'`); err != nil {
			t.Fatal(err)
		}
		if _, err := keyring.Open(ctx, st, m1); err == nil || !strings.Contains(err.Error(), "cannot unwrap data key "+id) {
			t.Fatalf("opening with a damaged account key: %v", err)
		}
	})
}

// hexBlob is a 60-byte blob literal of the store's dialect.
func hexBlob(st *sqlstore.Store) string {
	h := strings.Repeat("ab", 60)
	var one int
	if err := st.Writer().QueryRow(`SELECT 1 FROM pg_catalog.pg_class LIMIT 1`).Scan(&one); err == nil {
		return `'\x` + h + `'::bytea`
	}
	return `X'` + h + `'`
}

// Consent evidence is sealed with the account's key, read back in clear,
// and erased by shredding; the entry itself (who, what, when) stays.
func TestConsentEvidenceAtRest(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		st.UseKeyring(reopen(t, st, newMaster(t)))
		a := account(t, st)
		c := &store.Consent{AccountID: a.ID, Recipient: "31612345678", Purpose: "marketing", Action: store.OptIn, Source: store.SourceImport,
			Evidence: map[string]string{"ip": "192.0.2.7", "text": "yes please"}, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
		if err := st.AddConsents(ctx, []*store.Consent{c}); err != nil {
			t.Fatal(err)
		}
		var raw string
		if err := st.Writer().QueryRow(`SELECT evidence FROM consents`).Scan(&raw); err != nil || !keyring.Sealed(raw) || strings.Contains(raw, "192.0.2.7") {
			t.Fatalf("evidence stored as %q, %v", raw, err)
		}
		got, err := st.Consents(ctx, a.ID, c.Recipient)
		if err != nil || len(got) != 1 || got[0].Evidence["ip"] != "192.0.2.7" {
			t.Fatalf("Consents = %+v, %v", got, err)
		}
		latest, err := st.LatestConsents(ctx, a.ID, "marketing", []string{c.Recipient})
		if err != nil || latest[c.Recipient].Evidence["text"] != "yes please" {
			t.Fatalf("LatestConsents = %+v, %v", latest, err)
		}
		if _, err := st.ShredAccount(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		got, err = st.Consents(ctx, a.ID, c.Recipient)
		if err != nil || len(got) != 1 || got[0].Action != store.OptIn || got[0].Evidence["erased"] != store.Erased || got[0].Evidence["ip"] != "" {
			t.Fatalf("after shredding, Consents = %+v, %v", got, err)
		}
	})
}

// BenchmarkMessagesAtRest accepts and reads back one-recipient messages
// through the store, in clear and encrypted in turn (each iteration does
// both, starting in turn, so that the machine's load weighs on both
// alike): what sealing the body costs the accept's write, and opening it
// the read (bench/results/2026-12-04-encryption.md).
//
//	go test -run '^$' -bench BenchmarkMessagesAtRest -count 3 ./internal/keyring/
func BenchmarkMessagesAtRest(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			ctx := context.Background()
			st := benchStore(b, engine)
			st.UseKeyring(benchKeyring(b, st))
			a := &store.Account{ID: ids.New(), Name: "bench", Currency: "EUR", SigningKey: ids.Secret(40), CreatedAt: time.Now().UTC()}
			if err := st.CreateAccount(ctx, a, nil); err != nil {
				b.Fatal(err)
			}
			const body = "Your code is 123456. Do not share it with anyone."
			var accept, read [2]time.Duration // [clear, sealed]
			n := 0
			for b.Loop() {
				for j := 0; j < 2; j++ {
					i := (n + j) % 2
					st.MessagesInClear(i == 0)
					m := msg(a, body)
					start := time.Now()
					if err := st.AcceptMessages(ctx, []*message.Message{m}); err != nil {
						b.Fatal(err)
					}
					mid := time.Now()
					got, err := st.GetMessage(ctx, a.ID, m.ID)
					read[i] += time.Since(mid)
					accept[i] += mid.Sub(start)
					if err != nil || got.Body != body {
						b.Fatalf("%v %v", got, err)
					}
				}
				n++
			}
			b.ReportMetric(float64(accept[0].Nanoseconds())/float64(n), "ns/accept-clear")
			b.ReportMetric(float64(accept[1].Nanoseconds())/float64(n), "ns/accept-sealed")
			b.ReportMetric(float64(read[0].Nanoseconds())/float64(n), "ns/read-clear")
			b.ReportMetric(float64(read[1].Nanoseconds())/float64(n), "ns/read-sealed")
		})
	}
}

// A Conversations webhook's settings (which may hold a basic auth
// password) are a secret: sealed in the database, clear when read.
func TestConvWebhookSettingsAtRest(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		st.UseKeyring(reopen(t, st, newMaster(t)))
		a := account(t, st)
		const settings = `{"basic_auth":{"username":"u","password":"hunter2"}}`
		w := &store.ConvWebhook{ID: ids.New(), AccountID: a.ID, URL: "https://example.com/hook", Events: []string{"message.created"}, Settings: settings}
		if err := st.CreateConvWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
		raw := func() string {
			var v string
			if err := st.Writer().QueryRow(`SELECT settings FROM conversation_webhooks`).Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		if v := raw(); !keyring.Sealed(v) || strings.Contains(v, "hunter2") {
			t.Fatalf("settings stored as %q", v)
		}
		w.Settings = strings.Replace(settings, "hunter2", "swordfish", 1)
		if err := st.UpdateConvWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
		if v := raw(); !keyring.Sealed(v) || strings.Contains(v, "swordfish") {
			t.Fatalf("updated settings stored as %q", v)
		}
		got, err := st.GetConvWebhook(ctx, a.ID, w.ID)
		if err != nil || got.Settings != w.Settings {
			t.Fatalf("GetConvWebhook = %+v, %v", got, err)
		}
		list, _, err := st.ListConvWebhooks(ctx, a.ID, 10, 0)
		if err != nil || len(list) != 1 || list[0].Settings != w.Settings {
			t.Fatalf("ListConvWebhooks = %+v, %v", list, err)
		}
	})
}
