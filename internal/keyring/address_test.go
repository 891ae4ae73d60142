package keyring_test

import (
	"context"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/keyring"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// rawRecipients reads a message's recipients' addresses and hashes as the
// database holds them, in seq order.
func rawRecipients(t *testing.T, st *sqlstore.Store, id string) (addrs, hashes []string) {
	t.Helper()
	rows, err := st.Writer().Query(`SELECT address, address_hash FROM recipients WHERE message_id = '` + id + `' ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var a, h string
		if err := rows.Scan(&a, &h); err != nil {
			t.Fatal(err)
		}
		addrs, hashes = append(addrs, a), append(hashes, h)
	}
	return addrs, hashes
}

var hexHash = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Recipients' addresses and inbound originators are sealed with the
// account's key and found through keyed hashes: by the message listing's
// recipient and originator filters, LastInbound, the access export and
// erasure; rows in clear (an earlier release) are found as before; the
// same number hashes differently in two accounts; after shredding, the
// addresses read as "[erased]" and the old hashes match nothing.
func TestAddressesAtRest(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		master := newMaster(t)
		st.UseKeyring(reopen(t, st, master))
		a, b := account(t, st), account(t, st)
		const number, email = "31612345678", "Ann@Example.com"
		ma := msg(a, "to two")
		ma.Recipients = append(ma.Recipients, ma.Recipients[0])
		ma.Recipients[0].Address, ma.Recipients[1].Address, ma.Recipients[1].Seq = number, email, 1
		mb := msg(b, "other account")
		mb.Recipients[0].Address = number
		in := msg(a, "hello from a person")
		in.Direction, in.Originator, in.Channel = message.MO, number, message.ChannelSMS
		in.Recipients[0].Address = "3197010000001"
		if err := st.AcceptMessages(ctx, []*message.Message{ma, mb, in}); err != nil {
			t.Fatal(err)
		}
		addrs, hashes := rawRecipients(t, st, ma.ID)
		for i := range addrs {
			if !keyring.Sealed(addrs[i]) || strings.Contains(addrs[i], "3161") || !hexHash.MatchString(hashes[i]) {
				t.Fatalf("recipient %d stored as %q, hash %q", i, addrs[i], hashes[i])
			}
		}
		_, hb := rawRecipients(t, st, mb.ID)
		if hb[0] == hashes[0] {
			t.Fatal("one number hashes alike in two accounts")
		}
		var orig, origHash string
		if err := st.Writer().QueryRow(`SELECT originator, originator_hash FROM messages WHERE id = '`+in.ID+`'`).Scan(&orig, &origHash); err != nil {
			t.Fatal(err)
		}
		if !keyring.Sealed(orig) || origHash != hashes[0] {
			t.Fatalf("inbound originator stored as %q, hash %q (recipient's %q)", orig, origHash, hashes[0])
		}
		// An outbound message's originator (the account's sender) stays clear.
		if err := st.Writer().QueryRow(`SELECT originator, originator_hash FROM messages WHERE id = '`+ma.ID+`'`).Scan(&orig, &origHash); err != nil ||
			orig != "omnigate" || origHash != "" {
			t.Fatalf("outbound originator stored as %q, %q, %v", orig, origHash, err)
		}

		// A message written in clear (an earlier release).
		st.MessagesInClear(true)
		mc := msg(a, "clear")
		mc.Recipients[0].Address = number
		if err := st.AcceptMessages(ctx, []*message.Message{mc}); err != nil {
			t.Fatal(err)
		}
		st.MessagesInClear(false)
		if addrs, hashes := rawRecipients(t, st, mc.ID); addrs[0] != number || hashes[0] != "" {
			t.Fatalf("written in clear as %q, %q", addrs[0], hashes[0])
		}

		got, err := st.GetMessage(ctx, a.ID, ma.ID)
		if err != nil || got.Recipients[0].Address != number || got.Recipients[1].Address != email {
			t.Fatalf("GetMessage = %+v, %v", got, err)
		}
		if got, err := st.GetMessage(ctx, a.ID, in.ID); err != nil || got.Originator != number {
			t.Fatalf("inbound GetMessage = %+v, %v", got, err)
		}
		search := func(accountID string, f store.MessageFilter) []string {
			t.Helper()
			f.Limit = 50
			list, total, err := st.ListMessages(ctx, accountID, f)
			if err != nil || total != len(list) {
				t.Fatalf("ListMessages(%+v) = %d of %d, %v", f, len(list), total, err)
			}
			var ids []string
			for _, m := range list {
				ids = append(ids, m.ID)
			}
			return ids
		}
		same := func(got []string, want ...string) bool {
			if len(got) != len(want) {
				return false
			}
			set := map[string]bool{}
			for _, id := range got {
				set[id] = true
			}
			for _, id := range want {
				if !set[id] {
					return false
				}
			}
			return true
		}
		if ids := search(a.ID, store.MessageFilter{Recipient: number}); !same(ids, ma.ID, mc.ID) {
			t.Fatalf("recipient %s finds %v; want %s and %s", number, ids, ma.ID, mc.ID)
		}
		if ids := search(a.ID, store.MessageFilter{Recipient: "ann@example.COM"}); !same(ids, ma.ID) {
			t.Fatalf("recipient email finds %v", ids)
		}
		if ids := search(b.ID, store.MessageFilter{Recipient: number}); !same(ids, mb.ID) {
			t.Fatalf("account b finds %v", ids)
		}
		if ids := search(a.ID, store.MessageFilter{Recipient: "31600000000"}); len(ids) != 0 {
			t.Fatalf("another number finds %v", ids)
		}
		if ids := search(a.ID, store.MessageFilter{Originator: number}); !same(ids, in.ID) {
			t.Fatalf("originator %s finds %v", number, ids)
		}
		if ids := search(a.ID, store.MessageFilter{Originator: "omnigate"}); !same(ids, ma.ID, mc.ID) {
			t.Fatalf("originator omnigate finds %v", ids)
		}
		last, err := st.LastInbound(ctx, a.ID, message.ChannelSMS, []string{number, "31600000000"})
		if err != nil || len(last) != 1 || last[number].IsZero() {
			t.Fatalf("LastInbound = %v, %v", last, err)
		}

		// The access export reads the addresses in clear.
		tables, err := st.SubjectData(ctx, a.ID, number)
		if err != nil {
			t.Fatal(err)
		}
		rows := map[string][][]string{}
		for _, tb := range tables {
			rows[tb.Name] = tb.Rows
			if tb.Name == "messages" || tb.Name == "inbound" {
				for _, r := range tb.Rows {
					if strings.Contains(strings.Join(r, " "), keyring.Prefix) {
						t.Fatalf("%s exported sealed: %v", tb.Name, r)
					}
				}
			}
		}
		if len(rows["messages"]) != 2 || len(rows["inbound"]) != 1 || !strings.Contains(strings.Join(rows["inbound"][0], " "), number) {
			t.Fatalf("export: messages %v, inbound %v", rows["messages"], rows["inbound"])
		}

		// Erasure finds sealed and clear rows alike.
		e, err := st.EraseSubject(ctx, a.ID, number, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if e.Erased["recipients"] != 2 || e.Erased["inbound"] != 1 {
			t.Fatalf("erasure: %+v", e)
		}
		if got, _ := st.GetMessage(ctx, a.ID, ma.ID); got.Recipients[0].Address != sqlstore.Erased || got.Recipients[1].Address != email {
			t.Fatalf("after erasure: %+v", got.Recipients)
		}
		if ids := search(a.ID, store.MessageFilter{Recipient: number}); len(ids) != 0 {
			t.Fatalf("after erasure the number finds %v", ids)
		}
		if got, _ := st.GetMessage(ctx, b.ID, mb.ID); got.Recipients[0].Address != number {
			t.Fatalf("erasure in a reached b: %+v", got.Recipients)
		}

		// Shredding b: its addresses read "[erased]", and searching
		// for the number (under b's new key) finds nothing.
		if _, err := st.ShredAccount(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		for _, s := range []*sqlstore.Store{st, withKeyring(t, st, master)} {
			got, err := s.GetMessage(ctx, b.ID, mb.ID)
			if err != nil || got.Recipients[0].Address != store.Erased {
				t.Fatalf("a shredded recipient reads %+v, %v", got, err)
			}
		}
		md := msg(b, "after")
		md.Recipients[0].Address = number
		if err := st.AcceptMessages(ctx, []*message.Message{md}); err != nil {
			t.Fatal(err)
		}
		if _, h := rawRecipients(t, st, md.ID); h[0] == hb[0] {
			t.Fatal("after shredding, the number hashes as before")
		}
		if ids := search(b.ID, store.MessageFilter{Recipient: number}); !same(ids, md.ID) {
			t.Fatalf("after shredding, the number finds %v; want only %s", ids, md.ID)
		}
	})
}

// The online pass seals what was stored in clear (bodies, contents,
// addresses, inbound originators) under the account's key, with hashes,
// leaves sealed and erased rows alone, and finds nothing on a second run;
// reads and searches answer as before.
func TestSealClearMessages(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		st.UseKeyring(reopen(t, st, newMaster(t)))
		a := account(t, st)
		const number = "31612345678"
		st.MessagesInClear(true)
		var clear []*message.Message
		for i := 0; i < 3; i++ {
			m := msg(a, "old body")
			m.Content = &message.Content{Media: []message.Media{{URL: "https://example.com/a.png"}}}
			m.Recipients[0].Address = number
			clear = append(clear, m)
		}
		in := msg(a, "old inbound")
		in.Direction, in.Originator = message.MO, number
		in.Recipients[0].Address = "3197010000001"
		clear = append(clear, in)
		if err := st.AcceptMessages(ctx, clear); err != nil {
			t.Fatal(err)
		}
		st.MessagesInClear(false)
		sealed := msg(a, "new body")
		if err := st.AcceptMessages(ctx, []*message.Message{sealed}); err != nil {
			t.Fatal(err)
		}
		sealedAddr, _ := rawRecipients(t, st, sealed.ID)
		// One old message erased for its number: its row stays as erasure left it.
		if _, err := st.Writer().Exec(`UPDATE recipients SET address = '` + sqlstore.Erased + `' WHERE message_id = '` + clear[2].ID + `'`); err != nil {
			t.Fatal(err)
		}
		done, err := st.SealClearMessages(ctx, 2) // two messages a pass
		if err != nil {
			t.Fatal(err)
		}
		total := map[string]int{}
		for k, v := range done {
			total[k] += v
		}
		for pass := 0; pass < 5 && len(done) > 0; pass++ {
			if done, err = st.SealClearMessages(ctx, 2); err != nil {
				t.Fatal(err)
			}
			for k, v := range done {
				total[k] += v
			}
		}
		if len(done) != 0 {
			t.Fatalf("the pass does not end: %v", done)
		}
		if total["recipients.address"] != 3 || total["messages.body"] != 3 || total["messages.originator"] != 1 {
			t.Fatalf("sealed %v; want 3 addresses, 3 bodies (the erased message's stays), 1 originator", total)
		}
		for _, m := range []*message.Message{clear[0], clear[1], clear[3]} {
			body, content := rawMessage(t, st, m.ID)
			addrs, hashes := rawRecipients(t, st, m.ID)
			if !keyring.Sealed(body) || (m.Content != nil) != keyring.Sealed(content) || !keyring.Sealed(addrs[0]) || !hexHash.MatchString(hashes[0]) {
				t.Fatalf("after the pass %s is %q %q %q %q", m.ID, body, content, addrs[0], hashes[0])
			}
			got, err := st.GetMessage(ctx, a.ID, m.ID)
			if err != nil || got.Body != m.Body || got.Recipients[0].Address != m.Recipients[0].Address || got.Originator != m.Originator ||
				(m.Content != nil && (got.Content == nil || len(got.Content.Media) != 1)) {
				t.Fatalf("after the pass reads %+v, %v", got, err)
			}
		}
		if addrs, _ := rawRecipients(t, st, clear[2].ID); addrs[0] != sqlstore.Erased {
			t.Fatalf("an erased address became %q", addrs[0])
		}
		if addrs, _ := rawRecipients(t, st, sealed.ID); addrs[0] != sealedAddr[0] {
			t.Fatal("a sealed address was sealed again")
		}
		list, total2, err := st.ListMessages(ctx, a.ID, store.MessageFilter{Recipient: number, Limit: 10})
		if err != nil || total2 != 2 || len(list) != 2 {
			t.Fatalf("searching after the pass: %d, %v", total2, err)
		}
		if last, err := st.LastInbound(ctx, a.ID, message.ChannelSMS, []string{number}); err != nil || last[number].IsZero() {
			t.Fatalf("LastInbound after the pass: %v, %v", last, err)
		}
	})
}

// BenchmarkAddressesAtRest accepts messages of 1 and 50 recipients into one
// store, alternately with everything in clear (as before encryption at
// rest) and with bodies and addresses sealed and hashed (random numbers,
// the first recipient's fixed), and reports the
// median accept time of each, and the cost of sealing as the median of the
// differences of each pair, so that a pause of the process (a machine
// shared with other work) skews neither side
// (bench/results/2026-12-04-address-encryption.md):
//
//	go test -run '^$' -bench BenchmarkAddressesAtRest -benchtime 2s ./internal/keyring/
func BenchmarkAddressesAtRest(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, n := range []int{1, 50} {
			b.Run(engine+"/recipients="+strconv.Itoa(n), func(b *testing.B) {
				ctx := context.Background()
				st := benchStore(b, engine)
				st.UseKeyring(benchKeyring(b, st))
				a := &store.Account{ID: ids.New(), Name: "bench", Currency: "EUR", SigningKey: ids.Secret(40), CreatedAt: time.Now().UTC()}
				if err := st.CreateAccount(ctx, a, nil); err != nil {
					b.Fatal(err)
				}
				const body = "Your code is 123456. Do not share it with anyone."
				var accept [2][]time.Duration // [clear, sealed]
				var diff []time.Duration      // sealed − clear, per pair
				k := 0
				for b.Loop() {
					for j := 0; j < 2; j++ {
						i := (k + j) % 2
						st.MessagesInClear(i == 0)
						m := msg(a, body)
						for r := 1; r < n; r++ {
							rc := m.Recipients[0]
							// Random numbers, as real recipients are: sequential
							// ones would favour the clear index.
							rc.Seq, rc.Address = r, "316"+strconv.Itoa(10000000+rand.IntN(90000000))
							m.Recipients = append(m.Recipients, rc)
						}
						start := time.Now()
						if err := st.AcceptMessages(ctx, []*message.Message{m}); err != nil {
							b.Fatal(err)
						}
						accept[i] = append(accept[i], time.Since(start))
					}
					diff = append(diff, accept[1][k]-accept[0][k])
					k++
				}
				clear, sealed, cost := median(accept[0]), median(accept[1]), median(diff)
				b.ReportMetric(float64(clear.Nanoseconds()), "ns/accept-clear")
				b.ReportMetric(float64(sealed.Nanoseconds()), "ns/accept-sealed")
				b.ReportMetric(float64(cost.Nanoseconds()), "ns/sealing")
				b.ReportMetric(100*float64(cost)/float64(clear), "%-cost")
			})
		}
	}
}

// A waiting part of a concatenated inbound SMS keeps its sender as a keyed
// hash; the parts still find each other, and erasing the number deletes
// the parts that wait.
func TestInboundPartSource(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		st.UseKeyring(reopen(t, st, newMaster(t)))
		a := account(t, st)
		const number = "31612345678"
		add := func(ref, n int) *message.Message {
			t.Helper()
			m, err := st.AddInboundPart(ctx, store.InboundPart{Connector: "c", Source: number, Destination: "3197010000001",
				Ref: ref, Total: 2, Part: n, Body: "part ", ReceivedAt: time.Now()}, func(bodies []string) (*message.Message, error) {
				m := msg(a, strings.Join(bodies, ""))
				m.Direction, m.Originator = message.MO, number
				return m, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		if m := add(1, 1); m != nil {
			t.Fatal("made whole from one part of two")
		}
		var src string
		if err := st.Writer().QueryRow(`SELECT source FROM inbound_parts`).Scan(&src); err != nil || !strings.HasPrefix(src, "h:") || strings.Contains(src, "3161") {
			t.Fatalf("a waiting part's sender is stored as %q, %v", src, err)
		}
		if m := add(1, 2); m == nil || m.Body != "part part " {
			t.Fatalf("the message was not made whole: %+v", m)
		}
		add(2, 1)
		e, err := st.EraseSubject(ctx, a.ID, number, time.Now())
		if err != nil || e.Erased["inbound_parts"] != 1 {
			t.Fatalf("erasure: %+v, %v", e, err)
		}
	})
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
