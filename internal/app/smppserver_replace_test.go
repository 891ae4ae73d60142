package app

import (
	"context"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/smpp"
	"github.com/omnigate/omnigate/internal/smpp/session"
	"github.com/omnigate/omnigate/internal/smppserver"
	"github.com/omnigate/omnigate/internal/store"
)

// replace_sm changes a scheduled message's text, schedule and receipts
// through the pipeline: the price follows the parts (the difference is
// charged, or given back), compliance refuses a text it would refuse at
// submit and leaves the message as it was, a message that is sent, unknown
// or another account's cannot be replaced. Binary data_coding becomes a
// binary message that is delivered.
func TestSMPPServerReplace(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) { c.SMPPListen = "127.0.0.1:0" })
		ctx := context.Background()
		bind := func(accountID string) *session.Session {
			t.Helper()
			cred, err := smppserver.Issue(ctx, s.app.store, accountID, smppserver.IssueOptions{Iterations: testIterations})
			if err != nil {
				t.Fatal(err)
			}
			sess, err := session.Dial(ctx, s.app.SMPPAddr(), &smpp.Bind{Kind: smpp.BindTransceiver, SystemID: cred.SystemID, Password: cred.Password}, slowBind, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sess.Close(ctx) })
			return sess
		}
		balance := func() int64 {
			t.Helper()
			a, err := s.app.store.GetAccount(ctx, s.accountID)
			if err != nil {
				t.Fatal(err)
			}
			return a.Balance
		}
		submit := func(sess *session.Session, p *smpp.SubmitSM) string {
			t.Helper()
			resp, err := sess.Send(ctx, p)
			if err != nil || resp.Hdr().Status != smpp.ESME_ROK {
				t.Fatalf("submit: %v %v", resp, err)
			}
			return resp.(*smpp.SubmitSMResp).MessageID
		}
		replace := func(sess *session.Session, p *smpp.ReplaceSM, want smpp.Status) {
			t.Helper()
			resp, err := sess.Send(ctx, p)
			if err != nil || resp.Hdr().Status != want {
				t.Fatalf("replace_sm: %v %v, want %v", resp, err, want)
			}
		}
		sess := bind(s.accountID)

		b0 := balance()
		id := submit(sess, &smpp.SubmitSM{SourceAddr: "Shop", DestAddr: "31612345678", ScheduleDeliveryTime: "000001000000000R",
			ShortMessage: []byte("See you at ten")})
		b1 := balance()
		price := b0 - b1
		if price <= 0 {
			t.Fatalf("the demo account was not charged for a message (balance %d → %d)", b0, b1)
		}

		// Two parts now: the second part's price is charged.
		long := strings.Repeat("Longer text. ", 15)
		replace(sess, &smpp.ReplaceSM{MessageID: id, SourceAddr: "Shop", RegisteredDelivery: 1, ShortMessage: smstextGSM(long)}, smpp.ESME_ROK)
		m, err := s.app.store.GetMessage(ctx, s.accountID, id)
		if err != nil {
			t.Fatal(err)
		}
		if m.Body != long || m.Recipients[0].PartCount != 2 || m.Recipients[0].Status != message.Scheduled || m.ReportURL != smppserver.ReceiptsAll {
			t.Fatalf("replaced: body %q parts %d status %s report %q", m.Body, m.Recipients[0].PartCount, m.Recipients[0].Status, m.ReportURL)
		}
		if got := balance(); got != b1-price {
			t.Fatalf("balance after the longer text %d, want %d", got, b1-price)
		}
		// A card number is refused as at submit; nothing changes.
		replace(sess, &smpp.ReplaceSM{MessageID: id, SourceAddr: "Shop", ShortMessage: []byte("Card 4111 1111 1111 1111")}, smpp.ESME_RX_R_APPN)
		if m2, _ := s.app.store.GetMessage(ctx, s.accountID, id); m2.Body != long {
			t.Fatalf("a refused replace changed the body to %q", m2.Body)
		}
		// A text compliance holds: replaced, and then held for review (no
		// more replacing until an operator decided).
		held := submit(sess, &smpp.SubmitSM{SourceAddr: "Shop", DestAddr: "31612345678", ScheduleDeliveryTime: "000001000000000R", ShortMessage: []byte("Plain")})
		replace(sess, &smpp.ReplaceSM{MessageID: held, SourceAddr: "Shop", ShortMessage: []byte("Read https://bit.ly/abc123 now")}, smpp.ESME_ROK)
		reviews, err := s.app.store.Reviews(ctx, store.ReviewPending, 100)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(reviews, func(r store.Review) bool { return r.MessageID == held }) {
			t.Fatalf("the replaced text with a shortened link is not held: %+v", reviews)
		}
		replace(sess, &smpp.ReplaceSM{MessageID: held, SourceAddr: "Shop", ShortMessage: []byte("Again")}, smpp.ESME_RREPLACEFAIL)

		// Back to one part: the difference is given back.
		replace(sess, &smpp.ReplaceSM{MessageID: id, SourceAddr: "Shop", ShortMessage: []byte("Short again")}, smpp.ESME_ROK)
		if got := balance(); got != b1-price { // the held message's one part aside
			t.Fatalf("balance after the shorter text %d, want %d", got, b1-price)
		}
		// A wrong source address, an unknown id.
		replace(sess, &smpp.ReplaceSM{MessageID: id, SourceAddr: "Other", ShortMessage: []byte("x")}, smpp.ESME_RREPLACEFAIL)
		replace(sess, &smpp.ReplaceSM{MessageID: "nosuchmessage", SourceAddr: "Shop", ShortMessage: []byte("x")}, smpp.ESME_RINVMSGID)
		// Another account's scheduled message.
		otherID, _, _, _ := s.newAccount("other")
		other := submit(bind(otherID), &smpp.SubmitSM{SourceAddr: "Shop", DestAddr: "31612345678", ScheduleDeliveryTime: "000001000000000R", ShortMessage: []byte("theirs")})
		replace(sess, &smpp.ReplaceSM{MessageID: other, SourceAddr: "Shop", ShortMessage: []byte("mine")}, smpp.ESME_RINVMSGID)

		// Due now: the new schedule sends it, with the new text.
		replace(sess, &smpp.ReplaceSM{MessageID: id, SourceAddr: "Shop", ScheduleDeliveryTime: "000000000000001R", ShortMessage: []byte("Now")}, smpp.ESME_ROK)
		waitMessageStatus(t, s, id, message.Delivered)
		if m, _ := s.app.store.GetMessage(ctx, s.accountID, id); m.Body != "Now" {
			t.Fatalf("sent body %q", m.Body)
		}
		// Sent: too late.
		replace(sess, &smpp.ReplaceSM{MessageID: id, SourceAddr: "Shop", ShortMessage: []byte("Later")}, smpp.ESME_RREPLACEFAIL)

		// 8-bit data: a binary message, its port header kept.
		octets := []byte{0x06, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0xDE, 0xAD, 0xBE, 0xEF}
		bin := submit(sess, &smpp.SubmitSM{SourceAddr: "Shop", DestAddr: "31612345678", ESMClass: smpp.ESMClassUDHI, DataCoding: smpp.DataCodingBinary, ShortMessage: octets})
		mb, err := s.app.store.GetMessage(ctx, s.accountID, bin)
		if err != nil {
			t.Fatal(err)
		}
		if mb.Type != message.TypeBinary || mb.Body != "deadbeef" || mb.Details.SMS.TypeDetails["udh"] != hex.EncodeToString(octets[:7]) {
			t.Fatalf("binary stored as type %s body %q details %+v", mb.Type, mb.Body, mb.Details.SMS)
		}
		waitMessageStatus(t, s, bin, message.Delivered)
	})
}

func smstextGSM(s string) []byte { return []byte(s) } // ASCII letters, digits and punctuation are GSM 03.38 as they are

// slowBind is the SMPP client sessions' configuration in these tests: a
// bind's password check is deliberately slow (PBKDF2, 600,000 iterations),
// and under the race detector on a busy machine it can take longer than
// the session's default 10 s response timeout.
var slowBind = session.Config{RespTimeout: time.Minute}

// testIterations is the PBKDF2 work factor of the SMPP passwords these
// tests issue: the production one costs 2.4 s of CPU per bind under the
// race detector.
const testIterations = 1000
