// Package storetest is the behaviour suite every store.Store implementation
// must pass. Engines call Run from their own tests with a function that opens
// a fresh, empty store for each test.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/auth"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// Opener returns a fresh, empty, migrated store; it registers its own cleanup.
type Opener func(t *testing.T) store.Store

// Run runs the suite: every table of behaviours, each test on a fresh store.
func Run(t *testing.T, open Opener) {
	// One suite a line: features add theirs at the end.
	suites := [][]behaviour{
		coreBehaviours,
		smppBehaviours,
		realtimeBehaviours,
		billingBehaviours,
		complianceBehaviours,
		suppressionBehaviours,
		templateBehaviours,
		emailDomainBehaviours,
		contactBehaviours,
		convChannelBehaviours,
		twilioServiceBehaviours,
		fallbackBehaviours,
		hlrBehaviours,
		verifyBehaviours,
		numberBehaviours,
		billedConversationBehaviours,
		waTemplateBehaviours,
		termsBehaviours,
		pushBehaviours,
		webhookAttemptBehaviours,
		subscriptionBehaviours,
		userTokenBehaviours,
		eventBehaviours,
		countBehaviours,
		statementBehaviours,
		operatorBehaviours,
		smppPartBehaviours,
	}
	for _, suite := range suites {
		for _, tc := range suite {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				tc.f(t, open(t))
			})
		}
	}
}

// behaviour is one named test of the suite.
type behaviour struct {
	name string
	f    func(*testing.T, store.Store)
}

// coreBehaviours cover accounts, messages and the queue.
var coreBehaviours = []behaviour{
	{"Accounts", testAccounts},
	{"AccountSettings", testAccountSettings},
	{"AccessKeys", testAccessKeys},
	{"AcceptAndGet", testAcceptAndGet},
	{"GetMessages", testGetMessages},
	{"GetMessagesSomeRecipients", testGetMessagesSomeRecipients},
	{"ScopedByAccount", testScopedByAccount},
	{"List", testList},
	{"CancelScheduled", testCancelScheduled},
	{"ReplaceScheduled", testReplaceScheduled},
	{"LeaseAndFinish", testLeaseAndFinish},
	{"LeaseExpiry", testLeaseExpiry},
	{"ReleaseLeases", testReleaseLeases},
	{"ExtendLeases", testExtendLeases},
	{"AcceptLeased", testAcceptLeased},
	{"StatusForwardOnly", testStatusForwardOnly},
	{"StatusBatch", testStatusBatch},
	{"ConcurrentLeases", testConcurrentLeases},
	{"QueueStats", testQueueStats},
	{"AwaitingReceipt", testAwaitingReceipt},
	{"Silent", testSilent},
	{"Heartbeat", testHeartbeat},
	{"BindLeases", testBindLeases},
}

var ctx = context.Background()

// newAccount stores an account with one live key and returns it.
func newAccount(t *testing.T, st store.Store) *store.Account {
	t.Helper()
	a := &store.Account{ID: ids.New(), Name: "acme", Currency: "EUR", Balance: 5_000_000, SigningKey: ids.Secret(40), CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	_, k := auth.NewKey(a.ID, false)
	if err := st.CreateAccount(ctx, a, []*store.AccessKey{k}); err != nil {
		t.Fatal(err)
	}
	return a
}

// newMessage builds a message like the pipeline does.
func newMessage(a *store.Account, recipients int, mutate ...func(*message.Message)) *message.Message {
	now := time.Now().UTC().Truncate(time.Microsecond)
	m := &message.Message{
		ID: ids.New(), AccountID: a.ID, Channel: message.ChannelSMS, Direction: message.MT, Type: message.TypeSMS,
		Originator: "omnigate", Body: "hello", Reference: "ref-1", ReportURL: "http://127.0.0.1:1/report", Validity: 3600,
		Details:   message.Details{SMS: &message.SMS{Gateway: 10, TypeDetails: map[string]any{"udh": "050003"}, DataCoding: "plain", MClass: 1}},
		CreatedAt: now, Purpose: "transactional",
	}
	for _, f := range mutate {
		f(m)
	}
	status, at := message.Sent, now
	if !m.ScheduledAt.IsZero() {
		status, at = message.Scheduled, time.Time{}
	}
	for i := 0; i < recipients; i++ {
		m.Recipients = append(m.Recipients, message.Recipient{
			Seq: i, Address: fmt.Sprintf("3161234%04d", i), Country: "NL", CountryPrefix: 31,
			Status: status, StatusAt: at, PartCount: 1, Length: 5, Price: 75_000, PriceCurrency: "EUR",
		})
	}
	return m
}

func accept(t *testing.T, st store.Store, msgs ...*message.Message) {
	t.Helper()
	if err := st.AcceptMessages(ctx, msgs); err != nil {
		t.Fatal(err)
	}
}

// Keys are listed per account, revoked once (a second revocation changes
// nothing), and every revocation moves the generation nodes watch.
func testAccessKeys(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st)
	keys, err := st.AccessKeys(ctx, a.ID) // the one newAccount made
	if err != nil || len(keys) != 1 {
		t.Fatalf("AccessKeys = %v, %v", keys, err)
	}
	for _, test := range []bool{true, false} {
		_, k := auth.NewKey(a.ID, test)
		if err := st.CreateAccessKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	list, err := st.AccessKeys(ctx, a.ID)
	if err != nil || len(list) != 3 {
		t.Fatalf("AccessKeys = %v, %v", list, err)
	}
	for i, k := range list {
		if k.ID != keys[i].ID || k.Test != keys[i].Test || k.Hint != keys[i].Hint || k.Revoked() || !k.LastUsedAt.IsZero() {
			t.Fatalf("key %d = %+v, want %+v", i, k, keys[i])
		}
	}
	if other, err := st.AccessKeys(ctx, b.ID); err != nil || len(other) != 1 || other[0].AccountID != b.ID {
		t.Fatalf("another account's keys = %v, %v", other, err)
	}
	gen, err := st.KeyRevocations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RevokeAccessKey(ctx, b.ID, keys[0].ID, "cli", time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoking another account's key = %v, want ErrNotFound", err)
	}
	at := time.Now().UTC().Truncate(time.Microsecond)
	k, err := st.RevokeAccessKey(ctx, a.ID, keys[1].ID, "api key x", at)
	if err != nil || !k.RevokedAt.Equal(at) || k.RevokedBy != "api key x" {
		t.Fatalf("RevokeAccessKey = %+v, %v", k, err)
	}
	if g, _ := st.KeyRevocations(ctx); g == gen {
		t.Fatalf("revocation generation still %d after a revocation", g)
	} else {
		gen = g
	}
	again, err := st.RevokeAccessKey(ctx, a.ID, keys[1].ID, "cli", at.Add(time.Hour))
	if err != nil || !again.RevokedAt.Equal(at) || again.RevokedBy != "api key x" {
		t.Fatalf("revoking twice = %+v, %v; want the first revocation kept", again, err)
	}
	if g, _ := st.KeyRevocations(ctx); g != gen {
		t.Fatalf("revocation generation moved on revoking a revoked key")
	}
	if found, err := st.AccessKeyByHash(ctx, keys[1].Hash); err != nil || !found.Revoked() {
		t.Fatalf("revoked key by hash = %+v, %v", found, err)
	}
	if found, err := st.AccessKeyByHash(ctx, keys[0].Hash); err != nil || found.Revoked() {
		t.Fatalf("other key by hash = %+v, %v", found, err)
	}
	used := at.Add(time.Minute)
	if err := st.TouchAccessKeys(ctx, []string{keys[0].ID, keys[2].ID}, used); err != nil {
		t.Fatal(err)
	}
	if err := st.TouchAccessKeys(ctx, []string{keys[0].ID}, at); err != nil { // older: ignored
		t.Fatal(err)
	}
	list, _ = st.AccessKeys(ctx, a.ID)
	if !list[0].LastUsedAt.Equal(used) || !list[1].LastUsedAt.IsZero() || !list[2].LastUsedAt.Equal(used) {
		t.Fatalf("last used: %v %v %v", list[0].LastUsedAt, list[1].LastUsedAt, list[2].LastUsedAt)
	}
}

func testAccounts(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	got, err := st.GetAccount(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, a) {
		t.Fatalf("GetAccount = %+v, want %+v", got, a)
	}
	if _, err := st.GetAccount(ctx, ids.New()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetAccount(unknown) = %v, want ErrNotFound", err)
	}
	text, k := auth.NewKey(a.ID, true)
	if err := st.CreateAccessKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	found, err := st.AccessKeyByHash(ctx, auth.Hash(text))
	if err != nil || found.AccountID != a.ID || !found.Test || found.ID != k.ID {
		t.Fatalf("AccessKeyByHash = %+v, %v", found, err)
	}
	if _, err := st.AccessKeyByHash(ctx, auth.Hash("live_nope")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AccessKeyByHash(unknown) = %v, want ErrNotFound", err)
	}
	_, orphan := auth.NewKey(ids.New(), false)
	if err := st.CreateAccessKey(ctx, orphan); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CreateAccessKey(unknown account) = %v, want ErrNotFound", err)
	}
	if err := st.SetReportURL(ctx, a.ID, "https://example.com/dlr"); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetAccount(ctx, a.ID); got.ReportURL != "https://example.com/dlr" {
		t.Fatalf("report URL %q after SetReportURL", got.ReportURL)
	}
	if err := st.SetReportURL(ctx, ids.New(), "https://x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetReportURL(unknown) = %v, want ErrNotFound", err)
	}
	b := newAccount(t, st)
	list, err := st.ListAccounts(ctx)
	if err != nil || len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Fatalf("ListAccounts = %v, %v", list, err)
	}
	// A failing key insert leaves no account behind.
	dup := &store.Account{ID: ids.New(), Name: "dup", Currency: "EUR", SigningKey: "x", CreatedAt: time.Now()}
	_, k2 := auth.NewKey(dup.ID, false)
	k2.Hash = k.Hash // collides with an existing key
	if err := st.CreateAccount(ctx, dup, []*store.AccessKey{k2}); err == nil {
		t.Fatal("CreateAccount with a duplicate key hash succeeded")
	}
	if _, err := st.GetAccount(ctx, dup.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("account of a failed CreateAccount exists: %v", err)
	}
}

// testGetMessages reads a batch larger than one IN list, with keys that
// name nothing, another account's message and the same message twice.
func testGetMessages(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st)
	var want []*message.Message
	var keys []store.MessageKey
	for i := range 150 {
		m := newMessage(a, 1+i%3)
		want = append(want, m)
		keys = append(keys, store.MessageKey{AccountID: a.ID, ID: m.ID})
	}
	accept(t, st, want...)
	other := newMessage(b, 2)
	accept(t, st, other)
	keys = append(keys,
		store.MessageKey{AccountID: a.ID, ID: other.ID}, // b's message asked as a's
		store.MessageKey{AccountID: a.ID, ID: "nosuchmessage"},
		keys[7])
	got, err := st.GetMessages(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("GetMessages returned %d messages, want %d", len(got), len(want))
	}
	for _, m := range want {
		g := got[m.ID]
		if g == nil {
			t.Fatalf("message %s missing", m.ID)
		}
		compareMessages(t, g, m)
	}
	if got, err := st.GetMessages(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("GetMessages(nil) = %v, %v", got, err)
	}
}

// testGetMessagesSomeRecipients reads only the recipients keys ask for
// (store.MessageKey.Seqs): in seq order, the union over a message's keys,
// every one once a key asks for all, and every one of a message whose
// reports carry it whole. The batch is larger than one IN list, and the
// seqs span more than one list.
func testGetMessagesSomeRecipients(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	group := newMessage(a, 300)  // asked for 299, 3, 130 and 3 again
	groupAll := newMessage(a, 5) // asked for 2, then for all
	conv := newMessage(a, 4)     // asked for 1, but its reports show it whole
	conv.Details.Report = message.ReportConversations
	var singles []*message.Message // asked for seq 0 each
	for range 140 {
		singles = append(singles, newMessage(a, 1))
	}
	accept(t, st, append([]*message.Message{group, groupAll, conv}, singles...)...)
	keys := []store.MessageKey{
		{AccountID: a.ID, ID: group.ID, Seqs: []int{299, 3}},
		{AccountID: a.ID, ID: groupAll.ID, Seqs: []int{2}},
		{AccountID: a.ID, ID: conv.ID, Seqs: []int{1}},
		{AccountID: a.ID, ID: group.ID, Seqs: []int{130, 3}},
		{AccountID: a.ID, ID: groupAll.ID},
	}
	for _, m := range singles {
		keys = append(keys, store.MessageKey{AccountID: a.ID, ID: m.ID, Seqs: []int{0}})
	}
	// Seqs beyond one IN list, asked for out of order.
	var many []int
	for i := 299; i >= 100; i-- {
		many = append(many, i)
	}
	got, err := st.GetMessages(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	seqsOf := func(m *message.Message) []int {
		var out []int
		for _, r := range m.Recipients {
			out = append(out, r.Seq)
		}
		return out
	}
	if g := got[group.ID]; g == nil || !slices.Equal(seqsOf(g), []int{3, 130, 299}) {
		t.Fatalf("group message: recipients %v, want 3, 130, 299", seqsOf(g))
	} else if r := g.Recipient(130); r == nil || r.Address != group.Recipients[130].Address || r.Seq != 130 {
		t.Fatalf("group message: Recipient(130) = %+v, want %+v", r, group.Recipients[130])
	} else if g.Recipient(4) != nil {
		t.Fatal("group message: Recipient(4) found, but it was not read")
	}
	if g := got[groupAll.ID]; g == nil || len(g.Recipients) != 5 {
		t.Fatalf("message asked for all by one key: %v", seqsOf(g))
	}
	if g := got[conv.ID]; g == nil || len(g.Recipients) != 4 {
		t.Fatalf("message whose reports show it whole: %v", seqsOf(g))
	}
	for _, m := range singles {
		if g := got[m.ID]; g == nil || len(g.Recipients) != 1 || g.Recipients[0].Address != m.Recipients[0].Address {
			t.Fatalf("one-recipient message %s: %+v", m.ID, g)
		}
	}
	// The span: 200 seqs in two IN lists, in order.
	got, err = st.GetMessages(ctx, []store.MessageKey{{AccountID: a.ID, ID: group.ID, Seqs: many}})
	if err != nil {
		t.Fatal(err)
	}
	if g := got[group.ID]; g == nil || len(g.Recipients) != len(many) || !slices.IsSorted(seqsOf(g)) || g.Recipients[0].Seq != 100 {
		t.Fatalf("200 of 300 recipients: %v", seqsOf(g))
	}
	for _, r := range got[group.ID].Recipients {
		if r.Address != group.Recipients[r.Seq].Address || r.Status != group.Recipients[r.Seq].Status {
			t.Fatalf("recipient %d read as %+v, stored %+v", r.Seq, r, group.Recipients[r.Seq])
		}
	}
}

func testAcceptAndGet(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	m := newMessage(a, 3)
	sched := newMessage(a, 1, func(m *message.Message) { m.ScheduledAt = m.CreatedAt.Add(time.Hour) })
	// A message of another channel, with content beyond text and no SMS
	// details, keeps all of it.
	email := newMessage(a, 1, func(m *message.Message) {
		m.Channel, m.Type, m.Details, m.Originator = "email", "email", message.Details{}, "news@example.com"
		m.Content = &message.Content{
			Email: &message.Email{Subject: "Your order", HTML: "<p>shipped</p>", ReplyTo: "help@example.com",
				Headers:     map[string]string{"X-Campaign": "7"},
				Attachments: []message.Attachment{{Name: "invoice.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.7")}}},
			Media:    []message.Media{{Kind: "image", URL: "https://example.com/a.png", Caption: "a"}},
			Template: &message.Template{Name: "order_shipped", Language: "en", Params: []string{"7"}},
		}
	})
	email.Recipients[0].Address, email.Recipients[0].Country, email.Recipients[0].CountryPrefix = "ann@example.com", "", 0
	accept(t, st, m, sched, email)
	got, err := st.GetMessage(ctx, a.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	compareMessages(t, got, m)
	got, err = st.GetMessage(ctx, a.ID, email.ID)
	if err != nil {
		t.Fatal(err)
	}
	compareMessages(t, got, email)
	got, err = st.GetMessage(ctx, a.ID, sched.ID)
	if err != nil {
		t.Fatal(err)
	}
	compareMessages(t, got, sched)
	// Accepting is all or nothing: a batch with a duplicate id stores nothing.
	fresh := newMessage(a, 2)
	if err := st.AcceptMessages(ctx, []*message.Message{fresh, m}); err == nil {
		t.Fatal("accepting a duplicate id succeeded")
	}
	if _, err := st.GetMessage(ctx, a.ID, fresh.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("half of a failed batch was stored: %v", err)
	}
	// Large batches are split below the engine's placeholder limit.
	var many []*message.Message
	for i := 0; i < 300; i++ {
		many = append(many, newMessage(a, 50))
	}
	accept(t, st, many...)
	_, total, err := st.ListMessages(ctx, a.ID, store.MessageFilter{Limit: 1})
	if err != nil || total != 303 {
		t.Fatalf("after a 15000-recipient batch: total %d, %v; want 303", total, err)
	}
}

func compareMessages(t *testing.T, got, want *message.Message) {
	t.Helper()
	g, w := *got, *want
	g.Recipients, w.Recipients = nil, nil
	if len(g.Categories) == 0 && len(w.Categories) == 0 {
		g.Categories, w.Categories = nil, nil
	}
	// As JSON, so that the channel details and content compare by value.
	gj, _ := json.Marshal(g)
	wj, _ := json.Marshal(w)
	if string(gj) != string(wj) {
		t.Fatalf("message differs:\n got %s\nwant %s", gj, wj)
	}
	if len(got.Recipients) != len(want.Recipients) {
		t.Fatalf("%d recipients, want %d", len(got.Recipients), len(want.Recipients))
	}
	for i := range got.Recipients {
		if got.Recipients[i] != want.Recipients[i] {
			t.Fatalf("recipient %d:\n got %+v\nwant %+v", i, got.Recipients[i], want.Recipients[i])
		}
	}
}

func testScopedByAccount(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st)
	m := newMessage(a, 1, func(m *message.Message) { m.ScheduledAt = m.CreatedAt.Add(time.Hour) })
	accept(t, st, m)
	if _, err := st.GetMessage(ctx, b.ID, m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account read the message: %v", err)
	}
	if list, total, err := st.ListMessages(ctx, b.ID, store.MessageFilter{Limit: 20}); err != nil || total != 0 || len(list) != 0 {
		t.Fatalf("another account listed %d (%d) messages, %v", len(list), total, err)
	}
	if err := st.CancelScheduled(ctx, b.ID, m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account cancelled the message: %v", err)
	}
	o := &store.Outcome{Updates: []store.StatusUpdate{{AccountID: b.ID, MessageID: m.ID, Seq: 0, Status: message.Delivered, At: time.Now()}}}
	if err := st.Finish(ctx, []*store.Outcome{o}); err != nil || o.Updates[0].Applied {
		t.Fatalf("another account changed a status: applied=%v, %v", o.Updates[0].Applied, err)
	}
	if _, err := st.GetMessage(ctx, a.ID, m.ID); err != nil {
		t.Fatalf("the owner lost the message: %v", err)
	}
}

func testList(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	var all []*message.Message
	base := time.Now().UTC().Truncate(time.Microsecond)
	for i := 0; i < 25; i++ {
		m := newMessage(a, 2, func(m *message.Message) {
			m.CreatedAt = base.Add(time.Duration(i) * time.Second)
			if i%5 == 0 {
				m.Originator = "Other"
				m.Type = message.TypeFlash
				m.Reference = "special"
			}
		})
		if i == 7 {
			m.Recipients[1].Address = "447400123456"
		}
		all = append(all, m)
	}
	accept(t, st, all...)
	page, total, err := st.ListMessages(ctx, a.ID, store.MessageFilter{Limit: 10, Offset: 10})
	if err != nil || total != 25 || len(page) != 10 {
		t.Fatalf("page: %d items, total %d, %v", len(page), total, err)
	}
	if page[0].ID != all[14].ID || page[9].ID != all[5].ID {
		t.Fatalf("page not newest first: first %s want %s", page[0].ID, all[14].ID)
	}
	if len(page[0].Recipients) != 2 {
		t.Fatalf("listed message has %d recipients, want 2", len(page[0].Recipients))
	}
	for _, tc := range []struct {
		f    store.MessageFilter
		want int
	}{
		{store.MessageFilter{Originator: "Other"}, 5},
		{store.MessageFilter{Type: message.TypeFlash}, 5},
		{store.MessageFilter{Reference: "special"}, 5},
		{store.MessageFilter{Direction: message.MO}, 0},
		{store.MessageFilter{Direction: message.MT}, 25},
		{store.MessageFilter{Recipient: "447400123456"}, 1},
		{store.MessageFilter{Status: message.Sent}, 25},
		{store.MessageFilter{Status: message.Delivered}, 0},
		{store.MessageFilter{From: base.Add(20 * time.Second)}, 5},
		{store.MessageFilter{Until: base.Add(3 * time.Second)}, 3},
	} {
		tc.f.Limit = 100
		list, total, err := st.ListMessages(ctx, a.ID, tc.f)
		if err != nil || total != tc.want || len(list) != tc.want {
			t.Errorf("filter %+v: %d listed, total %d, %v; want %d", tc.f, len(list), total, err, tc.want)
		}
	}
}

func testCancelScheduled(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	sched := newMessage(a, 2, func(m *message.Message) { m.ScheduledAt = m.CreatedAt.Add(time.Hour) })
	now := newMessage(a, 1)
	accept(t, st, sched, now)
	if err := st.CancelScheduled(ctx, a.ID, now.ID); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("cancelling a sent message = %v, want ErrConflict", err)
	}
	if err := st.CancelScheduled(ctx, a.ID, sched.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetMessage(ctx, a.ID, sched.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cancelled message still readable: %v", err)
	}
	if err := st.CancelScheduled(ctx, a.ID, sched.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cancelling twice = %v, want ErrNotFound", err)
	}
	st2, _ := st.QueueStats(ctx)
	if st2.Depth[store.JobSend] != 1 {
		t.Fatalf("%d send jobs left, want 1 (the cancelled message's job must go)", st2.Depth[store.JobSend])
	}
}

func testLeaseAndFinish(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	m1, m2 := newMessage(a, 2), newMessage(a, 1)
	later := newMessage(a, 1, func(m *message.Message) { m.ScheduledAt = m.CreatedAt.Add(time.Hour) })
	accept(t, st, m1, m2, later)
	jobs, err := st.LeaseJobs(ctx, store.Lease{Kind: store.JobSend, N: 10, For: time.Minute, Owner: "node-a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 2 {
		t.Fatalf("leased %d jobs, want the 2 due ones", len(jobs))
	}
	if again, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobSend, N: 10, For: time.Minute, Owner: "node-a"}); len(again) != 0 {
		t.Fatalf("leased %d jobs that are already leased", len(again))
	}
	byMsg := map[string]*store.Job{}
	for _, j := range jobs {
		if j.Attempts != 1 || j.AccountID != a.ID {
			t.Fatalf("job %+v: want attempts 1 and the account", j)
		}
		byMsg[j.MessageID] = j
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	done := &store.Outcome{JobID: byMsg[m1.ID].ID, Updates: []store.StatusUpdate{
		{AccountID: a.ID, MessageID: m1.ID, Seq: 0, Status: message.Delivered, At: now, Connector: "c1", Notify: true},
		{AccountID: a.ID, MessageID: m1.ID, Seq: 1, Status: message.DeliveryFailed, ErrorCode: 11, Reason: "unknown subscriber", At: now, Connector: "c1", Notify: true},
	}}
	retry := &store.Outcome{JobID: byMsg[m2.ID].ID, RetryAt: now.Add(-time.Second), LastError: "throttled"}
	if err := st.Finish(ctx, []*store.Outcome{done, retry}); err != nil {
		t.Fatal(err)
	}
	if !done.Updates[0].Applied || !done.Updates[1].Applied {
		t.Fatal("updates not applied")
	}
	got, _ := st.GetMessage(ctx, a.ID, m1.ID)
	r0, r1 := got.Recipients[0], got.Recipients[1]
	if r0.Status != message.Delivered || r0.Connector != "c1" || !r0.StatusAt.Equal(now) || r0.StatusReason != "successfully delivered" {
		t.Fatalf("recipient 0 = %+v", r0)
	}
	if r1.Status != message.DeliveryFailed || r1.StatusErrorCode != 11 || r1.StatusReason != "unknown subscriber" {
		t.Fatalf("recipient 1 = %+v", r1)
	}
	// The retried job is due again (its time is in the past); the done one is gone.
	jobs, _ = st.LeaseJobs(ctx, store.Lease{Kind: store.JobSend, N: 10, For: time.Minute, Owner: "node-a"})
	if len(jobs) != 1 || jobs[0].MessageID != m2.ID || jobs[0].Attempts != 2 {
		t.Fatalf("after finish, leased %+v; want m2's job at attempt 2", jobs)
	}
	// Handed back (another node holds the binds): the lease was no
	// attempt, so the next lease is attempt 2 again.
	if err := st.Finish(ctx, []*store.Outcome{{JobID: jobs[0].ID, RetryAt: now.Add(-time.Second), LastError: "elsewhere", HandedBack: true}}); err != nil {
		t.Fatal(err)
	}
	if jobs, _ = st.LeaseJobs(ctx, store.Lease{Kind: store.JobSend, N: 10, For: time.Minute, Owner: "node-a"}); len(jobs) != 1 || jobs[0].Attempts != 2 {
		t.Fatalf("after a hand-back, leased %+v; want m2's job at attempt 2", jobs)
	}
	// Both applied updates asked for reports.
	reports, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobReport, N: 10, For: time.Minute, Owner: "node-a"})
	if len(reports) != 2 {
		t.Fatalf("%d report jobs, want 2", len(reports))
	}
	seqs := []int{}
	for _, r := range reports {
		var rep store.Report
		if err := jsonUnmarshal(r.Payload, &rep); err != nil || r.MessageID != m1.ID {
			t.Fatalf("report job %+v: %v", r, err)
		}
		seqs = append(seqs, rep.Seq)
	}
	sort.Ints(seqs)
	if fmt.Sprint(seqs) != "[0 1]" {
		t.Fatalf("reports for recipients %v, want [0 1]", seqs)
	}
	// EnqueueJob adds a due job.
	if err := st.EnqueueJob(ctx, &store.Job{Kind: "custom", AccountID: a.ID, RunAt: now.Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	if custom, _ := st.LeaseJobs(ctx, store.Lease{Kind: "custom", N: 5, For: time.Minute, Owner: "node-a"}); len(custom) != 1 {
		t.Fatalf("leased %d custom jobs, want 1", len(custom))
	}
}

func testReleaseLeases(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	accept(t, st, newMessage(a, 1), newMessage(a, 1))
	mine, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobSend, N: 1, For: time.Hour, Owner: "node-a"})
	theirs, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobSend, N: 1, For: time.Hour, Owner: "node-b"})
	if len(mine) != 1 || len(theirs) != 1 {
		t.Fatalf("leased %d and %d jobs", len(mine), len(theirs))
	}
	// node-a restarts: its own lease is released at once, node-b's stays.
	n, err := st.ReleaseLeases(ctx, "node-a")
	if err != nil || n != 1 {
		t.Fatalf("ReleaseLeases = %d, %v; want 1", n, err)
	}
	again, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobSend, N: 5, For: time.Hour, Owner: "node-a"})
	if len(again) != 1 || again[0].ID != mine[0].ID {
		t.Fatalf("after release leased %+v, want only node-a's old job", again)
	}
	// Finishing clears the owner: a later release does not revive the job.
	if err := st.Finish(ctx, []*store.Outcome{{JobID: again[0].ID, RetryAt: time.Now().Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.ReleaseLeases(ctx, "node-a"); n != 0 {
		t.Fatalf("released %d rescheduled jobs", n)
	}
}

// testExtendLeases: a worker extends only the leases it still holds, its
// own and not another node's; an extended job stays hidden past the end of
// its first lease.
func testExtendLeases(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	until := time.Now().Add(time.Hour)
	// node-a's own lease is extended, node-b's is not (an expired lease,
	// and one taken again since, are in testLeaseExpiry).
	accept(t, st, newMessage(a, 1), newMessage(a, 1))
	lease := time.Second
	mine, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobSend, N: 1, For: lease, Owner: "node-a"})
	theirs, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobSend, N: 1, For: lease, Owner: "node-b"})
	if len(mine) != 1 || len(theirs) != 1 {
		t.Fatalf("leased %d and %d jobs", len(mine), len(theirs))
	}
	got, err := st.ExtendLeases(ctx, "node-a", []*store.Job{mine[0], theirs[0]}, until)
	if time.Now().After(mine[0].RunAt) {
		t.Skip("the machine is too slow to extend a lease within a second")
	}
	if err != nil || len(got) != 1 || got[0] != mine[0].ID {
		t.Fatalf("ExtendLeases = %v, %v; want only node-a's own lease, job %d", got, err, mine[0].ID)
	}
	if got, err := st.ExtendLeases(ctx, "node-a", nil, until); err != nil || len(got) != 0 {
		t.Fatalf("ExtendLeases of no jobs = %v, %v", got, err)
	}
	// Past the first lease's end only node-b's job is due again.
	time.Sleep(time.Until(theirs[0].RunAt.Add(10 * time.Millisecond)))
	due, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobSend, N: 10, For: time.Hour, Owner: "node-c"})
	if len(due) != 1 || due[0].ID != theirs[0].ID {
		t.Fatalf("after the first lease ended, leased %+v; want only node-b's job %d", due, theirs[0].ID)
	}
}

// testAcceptLeased: messages accepted with a lease get their send job
// stored leased to that owner (ids returned), held and refused ones get
// none, and the leased jobs behave like any lease: hidden from other
// leases, released when their node starts again, finished by id.
func testAcceptLeased(t *testing.T, st store.Store) {
	a := newAccount(t, st) // 5 EUR
	lease := &store.Lease{Kind: store.JobSend, Owner: "node-a", For: time.Hour}
	items := []*store.Accept{
		charged(newMessage(a, 2), 1_000_000), charged(newMessage(a, 1), 1_000_000),
		charged(newMessage(a, 9), 1_000_000),                                       // more than the balance: refused
		charged(newMessage(a, 1), 1_000_000), charged(newMessage(a, 1), 1_000_000), // held; not leased
	}
	for _, it := range items[:4] {
		it.Lease = lease
	}
	items[4].Hold = &store.Review{Rule: "test", Reason: "held"}
	items[4].Lease = lease
	start := time.Now()
	if err := st.AcceptCharged(ctx, items); err != nil {
		t.Fatal(err)
	}
	if items[2].Err == nil || items[2].Job != nil || items[4].Job != nil {
		t.Fatalf("refused %v job %+v; held job %+v", items[2].Err, items[2].Job, items[4].Job)
	}
	ids := map[int64]bool{}
	for _, it := range []*store.Accept{items[0], items[1], items[3]} {
		j := it.Job
		if it.Err != nil || j == nil || j.ID == 0 || j.Kind != store.JobSend || j.MessageID != it.Message.ID ||
			j.AccountID != a.ID || j.Attempts != 1 || j.Message != it.Message || j.RunAt.Before(start.Add(59*time.Minute)) || ids[j.ID] {
			t.Fatalf("accepted %v with job %+v", it.Err, j)
		}
		ids[j.ID] = true
	}
	// Leased: no one else takes them; the held message's job is not due.
	if got, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobSend, N: 10, For: time.Hour, Owner: "node-b"}); len(got) != 0 {
		t.Fatalf("node-b leased %d jobs", len(got))
	}
	// node-a starts again: its jobs are due at once.
	if n, err := st.ReleaseLeases(ctx, "node-a"); err != nil || n != 3 {
		t.Fatalf("ReleaseLeases = %d, %v; want 3", n, err)
	}
	again, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobSend, N: 10, For: time.Hour, Owner: "node-b"})
	if len(again) != 3 {
		t.Fatalf("after release leased %d jobs, want 3", len(again))
	}
	for _, j := range again {
		if !ids[j.ID] {
			t.Fatalf("leased job %d, not one of %v", j.ID, ids)
		}
	}
	// Finished by the id the accept returned.
	if err := st.Finish(ctx, []*store.Outcome{{JobID: items[0].Job.ID}}); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.ReleaseLeases(ctx, "node-b"); n != 2 {
		t.Fatalf("released %d jobs after finishing one of 3", n)
	}
}

func testLeaseExpiry(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	accept(t, st, newMessage(a, 1))
	jobs, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobSend, N: 1, For: 50 * time.Millisecond, Owner: "node-a"})
	if len(jobs) != 1 {
		t.Fatalf("leased %d, want 1", len(jobs))
	}
	// An expired lease is not extended (store.Queue.ExtendLeases) …
	time.Sleep(60 * time.Millisecond)
	if got, err := st.ExtendLeases(ctx, "node-a", jobs, time.Now().Add(time.Hour)); err != nil || len(got) != 0 {
		t.Fatalf("extended an expired lease: %v, %v", got, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		again, err := st.LeaseJobs(ctx, store.Lease{Kind: store.JobSend, N: 1, For: time.Minute, Owner: "node-a"})
		if err != nil {
			t.Fatal(err)
		}
		if len(again) == 1 {
			if again[0].ID != jobs[0].ID || again[0].Attempts != 2 {
				t.Fatalf("re-leased %+v, want job %d at attempt 2", again[0], jobs[0].ID)
			}
			// … nor one taken again since (it has fewer attempts).
			if got, err := st.ExtendLeases(ctx, "node-a", jobs, time.Now().Add(time.Hour)); err != nil || len(got) != 0 {
				t.Fatalf("extended a lease taken again since: %v, %v", got, err)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("an expired lease never became due again")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testStatusForwardOnly(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	m := newMessage(a, 1)
	accept(t, st, m)
	apply := func(s message.Status, connector string) bool {
		t.Helper()
		o := &store.Outcome{Updates: []store.StatusUpdate{{AccountID: a.ID, MessageID: m.ID, Status: s, At: time.Now(), Connector: connector, Notify: true}}}
		if err := st.Finish(ctx, []*store.Outcome{o}); err != nil {
			t.Fatal(err)
		}
		return o.Updates[0].Applied
	}
	if apply(message.Sent, "smpp-1") {
		t.Fatal("sent→sent counted as a change")
	}
	got, _ := st.GetMessage(ctx, a.ID, m.ID)
	if got.Recipients[0].Connector != "smpp-1" {
		t.Fatalf("connector %q, want smpp-1 recorded on sent→sent", got.Recipients[0].Connector)
	}
	if !apply(message.Buffered, "") || !apply(message.Delivered, "") {
		t.Fatal("forward moves not applied")
	}
	if apply(message.Buffered, "") || apply(message.DeliveryFailed, "") || apply(message.Sent, "") {
		t.Fatal("a final status changed")
	}
	got, _ = st.GetMessage(ctx, a.ID, m.ID)
	if got.Recipients[0].Status != message.Delivered || got.Recipients[0].Connector != "smpp-1" {
		t.Fatalf("recipient %+v, want delivered via smpp-1", got.Recipients[0])
	}
	reports, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobReport, N: 10, For: time.Minute, Owner: "node-a"})
	if len(reports) != 2 {
		t.Fatalf("%d reports, want 2 (buffered, delivered)", len(reports))
	}
	bad := &store.Outcome{Updates: []store.StatusUpdate{{AccountID: a.ID, MessageID: m.ID, Status: "bogus", At: time.Now()}}}
	if err := st.Finish(ctx, []*store.Outcome{bad}); err == nil {
		t.Fatal("an invalid status was accepted")
	}
}

// testStatusBatch finishes one batch whose updates are applied in groups:
// more recipients than one statement takes, two statuses, a recipient
// named twice (applied in order) and one a final status protects.
func testStatusBatch(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	var many []*message.Message
	for range 140 {
		many = append(many, newMessage(a, 1))
	}
	twice, final, failing := newMessage(a, 2), newMessage(a, 1), newMessage(a, 1)
	accept(t, st, append(many, twice, final, failing)...)
	done := &store.Outcome{Updates: []store.StatusUpdate{{AccountID: a.ID, MessageID: final.ID, Status: message.Delivered, At: time.Now()}}}
	if err := st.Finish(ctx, []*store.Outcome{done}); err != nil || !done.Updates[0].Applied {
		t.Fatalf("delivering the final one: %v, applied %v", err, done.Updates[0].Applied)
	}
	start := time.Now().Add(-time.Second).Truncate(time.Millisecond)
	var o store.Outcome
	for i, m := range many {
		o.Updates = append(o.Updates, store.StatusUpdate{AccountID: a.ID, MessageID: m.ID, Status: message.Buffered,
			At: start.Add(time.Duration(i) * time.Millisecond), Connector: "c1", Notify: true})
	}
	o.Updates = append(o.Updates,
		store.StatusUpdate{AccountID: a.ID, MessageID: twice.ID, Seq: 1, Status: message.Buffered, At: start, Notify: true},
		store.StatusUpdate{AccountID: a.ID, MessageID: final.ID, Status: message.Buffered, At: start, Connector: "c1", Notify: true},
		store.StatusUpdate{AccountID: a.ID, MessageID: twice.ID, Seq: 1, Status: message.Delivered, At: start, Notify: true},
		store.StatusUpdate{AccountID: a.ID, MessageID: failing.ID, Status: message.DeliveryFailed, ErrorCode: 5, At: start, Notify: true},
		// Another account's recipient is not touched.
		store.StatusUpdate{AccountID: "someone-else", MessageID: failing.ID, Status: message.Delivered, At: start, Notify: true})
	if err := st.Finish(ctx, []*store.Outcome{&o}); err != nil {
		t.Fatal(err)
	}
	n := len(many)
	wantApplied := func(i int, want bool) {
		t.Helper()
		if u := o.Updates[i]; u.Applied != want {
			t.Fatalf("update %d (%s of %s/%d): applied %v, want %v", i, u.Status, u.MessageID, u.Seq, u.Applied, want)
		}
	}
	for i := range many {
		wantApplied(i, true)
	}
	wantApplied(n, true)
	wantApplied(n+1, false)
	wantApplied(n+2, true)
	wantApplied(n+3, true)
	wantApplied(n+4, false)
	for i, m := range many {
		got, err := st.GetMessage(ctx, a.ID, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		r := got.Recipients[0]
		if r.Status != message.Buffered || r.Connector != "c1" || !r.StatusAt.Equal(o.Updates[i].At) {
			t.Fatalf("recipient %d: %s via %q at %v; the update says %v", i, r.Status, r.Connector, r.StatusAt, o.Updates[i].At)
		}
	}
	check := func(m *message.Message, seq int, want message.Status, code int) {
		t.Helper()
		got, err := st.GetMessage(ctx, a.ID, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r := got.Recipients[seq]; r.Status != want || r.StatusErrorCode != code {
			t.Fatalf("recipient %s/%d: %s (%d), want %s (%d)", m.ID, seq, r.Status, r.StatusErrorCode, want, code)
		}
	}
	check(twice, 0, message.Sent, 0)
	check(twice, 1, message.Delivered, 0)
	check(final, 0, message.Delivered, 0)
	check(failing, 0, message.DeliveryFailed, 5)
	reports, err := st.LeaseJobs(ctx, store.Lease{Kind: store.JobReport, N: 1000, For: time.Minute, Owner: "node-a"})
	if err != nil || len(reports) != n+3 {
		t.Fatalf("%d reports (%v), want %d", len(reports), err, n+3)
	}
}

func testConcurrentLeases(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	var msgs []*message.Message
	for i := 0; i < 200; i++ {
		msgs = append(msgs, newMessage(a, 1))
	}
	accept(t, st, msgs...)
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				jobs, err := st.LeaseJobs(ctx, store.Lease{Kind: store.JobSend, N: 7, For: time.Minute, Owner: "node-a"})
				if err != nil {
					t.Error(err)
					return
				}
				if len(jobs) == 0 {
					return
				}
				mu.Lock()
				for _, j := range jobs {
					seen[j.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 200 {
		t.Fatalf("leased %d distinct jobs, want 200", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("job %d leased %d times", id, n)
		}
	}
}

func testQueueStats(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	m := newMessage(a, 1, func(m *message.Message) { m.CreatedAt = m.CreatedAt.Add(-3 * time.Second) })
	accept(t, st, m, newMessage(a, 1, func(m *message.Message) { m.ScheduledAt = m.CreatedAt.Add(time.Hour) }))
	qs, err := st.QueueStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if qs.Depth[store.JobSend] != 2 {
		t.Fatalf("depth %d, want 2", qs.Depth[store.JobSend])
	}
	if age := qs.OldestDue[store.JobSend]; age < 2*time.Second || age > time.Minute {
		t.Fatalf("oldest due job is %v old, want about 3s", age)
	}
	// Counted up to a limit: the depth stops there, the oldest is the same.
	for limit, want := range map[int64]int64{1: 1, 2: 2, 5: 2, 0: 2} {
		up, err := st.QueueStatsUpTo(ctx, limit)
		if err != nil {
			t.Fatal(err)
		}
		if up.Depth[store.JobSend] != want || up.OldestDue[store.JobSend] < qs.OldestDue[store.JobSend] {
			t.Fatalf("QueueStatsUpTo(%d): depth %d, oldest %v; want %d and at least %v", limit, up.Depth[store.JobSend],
				up.OldestDue[store.JobSend], want, qs.OldestDue[store.JobSend])
		}
	}
	if err := st.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// testAwaitingReceipt: only recipients a connector took, still sent or
// buffered, past their deadline (validity, or 48 hours without one, from
// the send time) are listed, earliest first; final or unsent ones are not.
func testAwaitingReceipt(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	hourAgo := time.Now().UTC().Add(-time.Hour).Truncate(time.Microsecond)
	past := newMessage(a, 2, func(m *message.Message) { m.Validity, m.CreatedAt = 60, hourAgo })
	noValidity := newMessage(a, 1, func(m *message.Message) { m.Validity, m.CreatedAt, m.ReportURL = 0, hourAgo, "" })
	unsent := newMessage(a, 1, func(m *message.Message) { m.Validity, m.CreatedAt = 60, hourAgo })
	done := newMessage(a, 1, func(m *message.Message) { m.Validity, m.CreatedAt = 60, hourAgo.Add(-time.Minute) })
	accept(t, st, past, noValidity, unsent, done)
	var ups []store.StatusUpdate
	for _, m := range []*message.Message{past, noValidity, done} {
		for _, r := range m.Recipients {
			ups = append(ups, store.StatusUpdate{AccountID: a.ID, MessageID: m.ID, Seq: r.Seq, Status: message.Sent, At: time.Now(), Connector: "smpp-1"})
		}
	}
	ups = append(ups, store.StatusUpdate{AccountID: a.ID, MessageID: past.ID, Seq: 1, Status: message.Buffered, At: time.Now()},
		store.StatusUpdate{AccountID: a.ID, MessageID: done.ID, Seq: 0, Status: message.Delivered, At: time.Now()})
	if err := st.Finish(ctx, []*store.Outcome{{Updates: ups}}); err != nil {
		t.Fatal(err)
	}
	list, err := st.AwaitingReceipt(ctx, time.Now(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].MessageID != past.ID || list[1].MessageID != past.ID || list[0].Connector != "smpp-1" ||
		!list[0].Notify || list[0].Channel != message.ChannelSMS || !list[0].Deadline.Equal(hourAgo.Add(time.Minute)) {
		t.Fatalf("awaiting %+v, want both recipients of %s", list, past.ID)
	}
	if list, _ := st.AwaitingReceipt(ctx, time.Now(), 1); len(list) != 1 {
		t.Fatalf("limit 1 listed %d", len(list))
	}
	list, _ = st.AwaitingReceipt(ctx, time.Now().Add(48*time.Hour), 10)
	if len(list) != 3 || list[2].MessageID != noValidity.ID || list[2].Notify {
		t.Fatalf("two days on: %+v, want the message without validity last, without reports", list)
	}
}

// testSilent: recipients of the channel a connector took, still sent and
// unchanged since the time, are listed by their sent time; other channels,
// final and unsent recipients are not.
func testSilent(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	mail := newMessage(a, 3, func(m *message.Message) { m.Channel = message.ChannelEmail })
	sms := newMessage(a, 1)
	accept(t, st, mail, sms)
	sentAt := time.Now().UTC().Add(time.Millisecond).Truncate(time.Microsecond)
	ups := []store.StatusUpdate{
		{AccountID: a.ID, MessageID: mail.ID, Seq: 0, Status: message.Sent, At: sentAt, Connector: "mta", Parts: []string{mail.ID + ".0"}},
		{AccountID: a.ID, MessageID: mail.ID, Seq: 1, Status: message.Sent, At: sentAt, Connector: "mta", Parts: []string{mail.ID + ".1"}},
		{AccountID: a.ID, MessageID: sms.ID, Seq: 0, Status: message.Sent, At: sentAt, Connector: "smpp-1", Parts: []string{"s1"}},
	}
	if err := st.Finish(ctx, []*store.Outcome{{Updates: ups}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Finish(ctx, []*store.Outcome{{Updates: []store.StatusUpdate{
		{AccountID: a.ID, MessageID: mail.ID, Seq: 1, Status: message.DeliveryFailed, At: sentAt.Add(time.Second), Connector: "mta"}}}}); err != nil {
		t.Fatal(err)
	}
	later := sentAt.Add(time.Minute)
	list, err := st.Silent(ctx, message.ChannelEmail, later, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].MessageID != mail.ID || list[0].Seq != 0 || list[0].Connector != "mta" ||
		list[0].Channel != message.ChannelEmail || !list[0].Deadline.Equal(sentAt) {
		t.Fatalf("silent %+v, want recipient 0 of %s sent at %v", list, mail.ID, sentAt)
	}
	if list, _ := st.Silent(ctx, message.ChannelEmail, sentAt, 10); len(list) != 0 {
		t.Fatalf("silent before they were sent: %+v", list)
	}
	if list, _ := st.Silent(ctx, message.ChannelSMS, later, 10); len(list) != 1 || list[0].MessageID != sms.ID {
		t.Fatalf("silent SMS: %+v", list)
	}
}

// testHeartbeat: a node's heartbeat is one row, written again and again.
func testHeartbeat(t *testing.T, st store.Store) {
	for range 3 {
		if err := st.Heartbeat(ctx, "node-a", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Heartbeat(ctx, "node-b", time.Now()); err != nil {
		t.Fatal(err)
	}
}
