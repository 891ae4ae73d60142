package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// statementBehaviours cover the statements' roll-up (migration 059): a
// statement of whole days read from it equals the one summed from the
// recipients, before and after folds, through status and price changes,
// deletions and folds on several nodes at once.
var statementBehaviours = []behaviour{
	{"StatementRollUpEqualsRecipients", testStatementRollUp},
}

// rawStatements is what the SQL store offers besides store.Store: the
// statement summed from the recipients, as it was before the roll-up.
type rawStatements interface {
	StatementFromRecipients(ctx context.Context, accountID string, from, until time.Time) ([]store.StatementLine, int64, error)
}

func testStatementRollUp(t *testing.T, st store.Store) {
	raw, ok := st.(rawStatements)
	if !ok {
		t.Fatalf("%T does not sum statements from recipients", st)
	}
	a, b := newAccount(t, st), newAccount(t, st)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	from, until := today.AddDate(0, 0, -40), today.AddDate(0, 0, 1)
	same := func(when string, wantLines int) {
		t.Helper()
		want, wantN, err := raw.StatementFromRecipients(ctx, a.ID, from, until)
		if err != nil {
			t.Fatal(err)
		}
		got, gotN, err := st.Statement(ctx, a.ID, from, until)
		if err != nil {
			t.Fatal(err)
		}
		if gotN != wantN || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: roll-up %d messages %+v\nrecipients %d messages %+v", when, gotN, got, wantN, want)
		}
		if len(want) != wantLines {
			t.Errorf("%s: %d lines, want %d: %+v", when, len(want), wantLines, want)
		}
	}
	fold := func() {
		t.Helper()
		if _, err := st.FoldMessageCounts(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Three NL recipients; NL and BE, one of them not charged (no
	// currency); two FR recipients yesterday with two parts each; an
	// email; an inbound message and another account's, left out.
	m1 := newMessage(a, 3)
	m2 := newMessage(a, 0)
	for i, c := range []string{"NL", "BE", "BE"} {
		r := message.Recipient{Seq: i, Address: "3247000000" + string(rune('0'+i)), Country: c, CountryPrefix: 32, Status: message.Sent, StatusAt: m2.CreatedAt,
			PartCount: 1, Length: 5, Price: 60_000, PriceCurrency: "EUR"}
		if i == 2 {
			r.Price, r.PriceCurrency = 0, ""
		}
		m2.Recipients = append(m2.Recipients, r)
	}
	yesterday := today.Add(-time.Hour)
	m3 := newMessage(a, 2, func(m *message.Message) { m.CreatedAt = yesterday })
	for i := range m3.Recipients {
		m3.Recipients[i].Country, m3.Recipients[i].PartCount = "FR", 2
	}
	mail := newMessage(a, 1, func(m *message.Message) {
		m.Channel = message.ChannelEmail
	})
	mo := newMessage(a, 1, func(m *message.Message) { m.Direction = message.MO })
	accept(t, st, m1, m2, m3, mail, mo, newMessage(b, 4))
	// Lines: yesterday sms FR; today email NL, sms BE, sms NL.
	same("accepted, nothing folded", 4)
	fold()
	same("folded", 4)
	m4 := newMessage(a, 2)
	acceptWithFallback(t, st, m4, time.Now().Add(time.Hour))
	same("accepted in the seconds before a fold", 4)

	o := &store.Outcome{Updates: []store.StatusUpdate{
		{AccountID: a.ID, MessageID: m1.ID, Seq: 0, Status: message.Delivered, At: time.Now().UTC()},
		{AccountID: a.ID, MessageID: m1.ID, Seq: 1, Status: message.DeliveryFailed, At: time.Now().UTC()},
	}}
	if err := st.Finish(ctx, []*store.Outcome{o}); err != nil {
		t.Fatal(err)
	}
	same("after receipts", 4)
	// Cancelled for a fallback: the recipients not sent yet cost nothing.
	if _, err := st.CancelForFallback(ctx, a.ID, m4.ID, "fallback", time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	same("after a refund", 4)
	fold()
	same("refund folded", 4)
	o = &store.Outcome{Updates: []store.StatusUpdate{
		{AccountID: a.ID, MessageID: m3.ID, Seq: 0, Status: message.Delivered, At: time.Now().UTC()},
		{AccountID: a.ID, MessageID: m3.ID, Seq: 1, Status: message.Delivered, At: time.Now().UTC()},
	}}
	if err := st.Finish(ctx, []*store.Outcome{o}); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMessage(ctx, a.ID, m3.ID); err != nil {
		t.Fatal(err)
	}
	same("after a deletion", 3)
	fold()
	same("deletion folded", 3)

	// Folds on several nodes at once count every change once.
	var msgs []*message.Message
	for i := 0; i < 200; i++ {
		msgs = append(msgs, newMessage(a, 2))
	}
	accept(t, st, msgs...)
	foldConcurrently(t, st, 4)
	same("after concurrent folds", 3)
	lines, n, err := st.Statement(ctx, a.ID, from, until)
	if err != nil || n != 204 {
		t.Fatalf("statement: %d messages, %v", n, err)
	}
	for _, l := range lines {
		if l.Channel == "sms" && l.Country == "NL" && (l.Messages != 203 || l.Recipients != 406) {
			t.Errorf("sms NL: %+v, want 203 messages, 406 recipients", l)
		}
		if l.Country == "BE" && (l.Messages != 1 || l.Recipients != 2 || l.Amount != 60_000 || l.Currency != "EUR") {
			t.Errorf("BE: %+v", l)
		}
	}
}
