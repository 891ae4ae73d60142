package bounce

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseDSN(t *testing.T) {
	for _, tc := range []struct {
		file, rcpt, action, status string
		code                       int
		cat                        Category
		kind                       Kind
		msgID                      string
	}{
		{"dsn_user_unknown.eml", "nobody@receiver.test", "failed", "5.1.1", 550, BadMailbox, KindDSN, "0190aa01bc3d4e5f6a7b8c9d0e1f2a3b.0@shop.test"},
		{"dsn_delayed.eml", "slow@receiver.test", "delayed", "4.7.1", 451, Temporary, KindDSN, "0190aa01bc3d4e5f6a7b8c9d0e1f2a3b.1@shop.test"},
		{"dsn_full_base64.eml", "full@receiver.test", "failed", "5.2.2", 552, MailboxFull, KindDSN, ""},
		{"dsn_spam_block.eml", "someone@bigmail.test", "failed", "5.7.1", 554, SpamBlock, KindDSN, ""},
		{"dsn_dmarc.eml", "someone@bigmail.test", "failed", "5.7.26", 550, AuthFailure, KindDSN, ""},
		{"exim_plain.eml", "gone@receiver.test", "failed", "5.2.1", 550, BadMailbox, KindPlain, "m.4@shop.test"},
		{"exim_delay.eml", "later@receiver.test", "delayed", "4.2.2", 452, Temporary, KindPlain, ""},
		{"qmail_plain.eml", "ghost@receiver.test", "failed", "5.1.1", 0, BadMailbox, KindPlain, ""},
		{"postfix_plain.eml", "user@nowhere.test", "failed", "", 0, BadDomain, KindPlain, ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r, err := Parse(read(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != tc.kind || r.DSN == nil {
				t.Fatalf("kind %q, dsn %v", r.Kind, r.DSN)
			}
			if len(r.DSN.Recipients) != 1 {
				t.Fatalf("recipients %+v", r.DSN.Recipients)
			}
			got := r.DSN.Recipients[0]
			if got.FinalRecipient != tc.rcpt || got.Action != tc.action || got.Status != tc.status || got.Code != tc.code || got.Category != tc.cat {
				t.Errorf("got %+v", got)
			}
			if tc.kind == KindDSN && r.DSN.MessageID != tc.msgID {
				t.Errorf("message id %q, want %q", r.DSN.MessageID, tc.msgID)
			}
		})
	}
}

func TestParseDSNFields(t *testing.T) {
	d, err := ParseDSN(read(t, "dsn_user_unknown.eml"))
	if err != nil {
		t.Fatal(err)
	}
	r := d.Recipients[0]
	if d.ReportingMTA != "mx1.sender.test" || r.RemoteMTA != "mx.receiver.test" || r.OriginalRecipient != "nobody@receiver.test" {
		t.Errorf("%+v %+v", d, r)
	}
	want := "550 5.1.1 <nobody@receiver.test>: Recipient address rejected: User unknown in virtual mailbox table"
	if r.Diagnostic != want {
		t.Errorf("diagnostic %q", r.Diagnostic)
	}
	if d.Original.Get("Subject") != "Your order has shipped" {
		t.Errorf("original headers %v", d.Original)
	}
}

func TestParseARF(t *testing.T) {
	a, err := ParseARF(read(t, "arf_abuse.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if a.FeedbackType != "abuse" || a.UserAgent != "BigMail-FBL/1.0" || a.Version != "1" ||
		a.OriginalRcptTo != "reader@bigmail.test" || a.SourceIP != "192.0.2.1" ||
		a.OriginalMailFrom != "b-0190aa01bc3d4e5f6a7b8c9d0e1f2a3b-2-abcdefghijklmnop@bounces.shop.test" ||
		a.ArrivalDate != "Thu, 8 Mar 2024 14:00:00 EDT" || len(a.ReportedDomain) != 1 || a.ReportedDomain[0] != "shop.test" ||
		a.MessageID != "0190aa01bc3d4e5f6a7b8c9d0e1f2a3b.2@shop.test" {
		t.Errorf("%+v", a)
	}
	a, err = ParseARF(read(t, "arf_headers.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if a.MessageID != "abc.3@shop.test" || len(a.ReportedDomain) != 2 || a.OriginalRcptTo != "victim@isp.test" {
		t.Errorf("%+v", a)
	}
	if _, err := ParseARF(read(t, "dsn_user_unknown.eml")); !errors.Is(err, ErrNotReport) {
		t.Errorf("a DSN as ARF: %v", err)
	}
	if _, err := ParseDSN(read(t, "arf_abuse.eml")); !errors.Is(err, ErrNotReport) {
		t.Errorf("an ARF as DSN: %v", err)
	}
}

func TestNotReport(t *testing.T) {
	for _, in := range []string{
		string(read(t, "autoreply.eml")),
		"",
		"garbage",
		"Subject: hi\r\n\r\nhello there",
	} {
		if _, err := Parse([]byte(in)); !errors.Is(err, ErrNotReport) {
			t.Errorf("%q: %v", in, err)
		}
	}
}

func TestMalformed(t *testing.T) {
	for _, in := range []string{
		"Content-Type: multipart/report; report-type=delivery-status\r\n\r\nno boundary",
		"Content-Type: multipart/report; boundary=x\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\n\r\n--x--",
		"Content-Type: multipart/report; boundary=x\r\n\r\n--x\r\nContent-Type: message/feedback-report\r\n\r\nUser-Agent: x\r\n--x--",
	} {
		if r, err := Parse([]byte(in)); err == nil {
			t.Errorf("%q parsed: %+v", in, r)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		code     int
		enhanced string
		text     string
		want     Category
	}{
		{550, "5.1.1", "user unknown", BadMailbox},
		{550, "", "Requested action not taken: mailbox unavailable", BadMailbox},
		{550, "", "", BadMailbox},
		{0, "", "550 5.1.1 No such user here", BadMailbox},
		{553, "5.1.3", "bad address syntax", BadMailbox},
		{550, "5.1.2", "", BadDomain},
		{556, "5.1.10", "Recipient address has null MX", BadDomain},
		{0, "", "Host or domain name not found", BadDomain},
		{552, "5.2.2", "over quota", MailboxFull},
		{452, "4.2.2", "mailbox full", MailboxFull},
		{552, "5.3.4", "Message size exceeds fixed limit", MessageTooLarge},
		{552, "", "message too large", MessageTooLarge},
		{550, "5.7.1", "Relaying denied", Policy},
		{554, "5.7.1", "Message rejected as spam", SpamBlock},
		{550, "5.7.1", "blocked using bl.spamcop.net", SpamBlock},
		{550, "5.7.26", "", AuthFailure},
		{550, "5.7.1", "SPF check failed", AuthFailure},
		{550, "5.7.1", "Email rejected per DMARC policy", AuthFailure},
		{421, "4.7.0", "Try again later", Temporary},
		{451, "", "greylisted", Temporary},
		{554, "", "Transaction failed", Policy},
		{500, "", "", Unknown},
		{0, "", "it did not work", Unknown},
		{0, "", "", Unknown},
		{550, "9.9.9", "", BadMailbox},
	} {
		if got := Classify(tc.code, tc.enhanced, tc.text); got != tc.want {
			t.Errorf("Classify(%d, %q, %q) = %s, want %s", tc.code, tc.enhanced, tc.text, got, tc.want)
		}
	}
	for _, c := range Categories {
		if c.Hard() != (c == BadMailbox || c == BadDomain) {
			t.Errorf("%s hard", c)
		}
	}
}
