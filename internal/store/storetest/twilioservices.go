package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// twilioServiceBehaviours cover the Twilio door's number settings and
// Messaging Services.
var twilioServiceBehaviours = []behaviour{
	{"TwilioNumbers", testTwilioNumbers},
	{"TwilioServices", testTwilioServices},
}

func testTwilioNumbers(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st)
	now := time.Now().UTC().Truncate(time.Microsecond)
	if _, err := st.TwilioNumber(ctx, "3197010000001"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown number: %v", err)
	}
	n := &store.TwilioNumber{Number: "3197010000001", AccountID: a.ID, SID: "PN" + hex32(1), FriendlyName: "Support",
		SMSURL: "https://example.com/sms", SMSMethod: "POST", CreatedAt: now, UpdatedAt: now}
	if err := st.PutTwilioNumber(ctx, n); err != nil {
		t.Fatal(err)
	}
	n.SMSMethod, n.UpdatedAt = "GET", now.Add(time.Second)
	if err := st.PutTwilioNumber(ctx, n); err != nil {
		t.Fatal(err)
	}
	got, err := st.TwilioNumber(ctx, n.Number)
	if err != nil || *got != *n {
		t.Fatalf("got %+v %v, want %+v", got, err, n)
	}
	// Reassigned to another account: the row is replaced.
	m := *n
	m.AccountID, m.SID = b.ID, "PN"+hex32(2)
	if err := st.PutTwilioNumber(ctx, &m); err != nil {
		t.Fatal(err)
	}
	if list, err := st.ListTwilioNumbers(ctx, a.ID); err != nil || len(list) != 0 {
		t.Fatalf("first account's numbers: %v %v", list, err)
	}
	if list, err := st.ListTwilioNumbers(ctx, b.ID); err != nil || len(list) != 1 || list[0] != m {
		t.Fatalf("second account's numbers: %v %v", list, err)
	}
}

func testTwilioServices(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st)
	now := time.Now().UTC().Truncate(time.Microsecond)
	v := &store.TwilioService{SID: "MG" + hex32(1), AccountID: a.ID, FriendlyName: "Shop", InboundMethod: "POST", StickySender: true, CreatedAt: now, UpdatedAt: now}
	if err := st.PutTwilioService(ctx, v); err != nil {
		t.Fatal(err)
	}
	if err := st.PutTwilioService(ctx, &store.TwilioService{SID: "MG" + hex32(2), AccountID: "nobody", CreatedAt: now, UpdatedAt: now}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("service of no account: %v", err)
	}
	v.StickySender, v.InboundURL = false, "https://example.com/in"
	if err := st.PutTwilioService(ctx, v); err != nil {
		t.Fatal(err)
	}
	if got, err := st.TwilioService(ctx, a.ID, v.SID); err != nil || *got != *v {
		t.Fatalf("got %+v %v, want %+v", got, err, v)
	}
	if _, err := st.TwilioService(ctx, b.ID, v.SID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account's service: %v", err)
	}
	if list, err := st.ListTwilioServices(ctx, a.ID); err != nil || len(list) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	num := &store.TwilioSender{ServiceSID: v.SID, SID: "PN" + hex32(3), AccountID: a.ID, Kind: store.SenderNumber, Sender: "3197010000001", CreatedAt: now}
	alpha := &store.TwilioSender{ServiceSID: v.SID, SID: "AI" + hex32(4), AccountID: a.ID, Kind: store.SenderAlpha, Sender: "Shop", CreatedAt: now.Add(time.Second)}
	for _, s := range []*store.TwilioSender{num, alpha} {
		if err := st.AddTwilioSender(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.AddTwilioSender(ctx, num); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("sender twice: %v", err)
	}
	other := *num
	other.AccountID = b.ID
	if err := st.AddTwilioSender(ctx, &other); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("sender in another account's service: %v", err)
	}
	if all, err := st.ListTwilioSenders(ctx, a.ID, v.SID, ""); err != nil || len(all) != 2 || all[0] != *num || all[1] != *alpha {
		t.Fatalf("senders: %v %v", all, err)
	}
	if nums, err := st.ListTwilioSenders(ctx, a.ID, v.SID, store.SenderNumber); err != nil || len(nums) != 1 || nums[0] != *num {
		t.Fatalf("number senders: %v %v", nums, err)
	}
	if err := st.RemoveTwilioSender(ctx, b.ID, v.SID, num.SID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account removes: %v", err)
	}
	if err := st.RemoveTwilioSender(ctx, a.ID, v.SID, num.SID); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteTwilioService(ctx, b.ID, v.SID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account deletes: %v", err)
	}
	if err := st.DeleteTwilioService(ctx, a.ID, v.SID); err != nil {
		t.Fatal(err)
	}
	if all, err := st.ListTwilioSenders(ctx, a.ID, v.SID, ""); err != nil || len(all) != 0 {
		t.Fatalf("senders of a deleted service: %v %v", all, err)
	}
	if err := st.DeleteTwilioService(ctx, a.ID, v.SID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

// hex32 is a fixed 32-hex-digit SID tail.
func hex32(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 32)
	for i := range b {
		b[i] = digits[(n+i)%16]
	}
	return string(b)
}
