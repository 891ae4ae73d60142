package storetest

import (
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// operatorBehaviours cover the reads of the console's operator pages.
var operatorBehaviours = []behaviour{
	{"SendersWithStatus", testSendersWithStatus},
	{"BindSlots", testBindSlots},
}

// The approval queue lists pending senders of every account, oldest first,
// and no decided one.
func testSendersWithStatus(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st)
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, s := range []*store.Sender{
		{AccountID: b.ID, Originator: "BRAVO", Status: store.SenderPending, RequestedBy: "api", CreatedAt: now},
		{AccountID: a.ID, Originator: "ALPHA", Status: store.SenderPending, RequestedBy: "api", CreatedAt: now.Add(-time.Minute)},
		{AccountID: a.ID, Originator: "DONE", Status: store.SenderApproved, DecidedBy: "operator", CreatedAt: now.Add(-time.Hour), DecidedAt: now},
	} {
		if err := st.SaveSender(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	list, err := st.SendersWithStatus(ctx, store.SenderPending, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Originator != "ALPHA" || list[0].AccountID != a.ID || list[1].Originator != "BRAVO" || list[1].AccountID != b.ID {
		t.Fatalf("pending: %+v, want ALPHA of a then BRAVO of b", list)
	}
	if list, _ := st.SendersWithStatus(ctx, store.SenderPending, 1); len(list) != 1 {
		t.Errorf("limit 1: %d senders", len(list))
	}
}

// Every slot a claim made is listed with its holder and lease end.
func testBindSlots(t *testing.T, st store.Store) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, c := range []store.BindClaim{
		{Connector: "carrier", Node: "n1", Total: 2, Want: 1, Now: now, Until: now.Add(time.Minute)},
		{Connector: "carrier", Node: "n2", Total: 2, Want: 1, Now: now, Until: now.Add(time.Minute)},
		{Connector: "other", Node: "n1", Total: 1, Want: 1, Now: now, Until: now.Add(time.Minute)},
	} {
		if _, err := st.ClaimBinds(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	slots, err := st.BindSlots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	holders := map[string]string{}
	for _, s := range slots {
		if !s.ExpiresAt.Equal(now.Add(time.Minute)) {
			t.Errorf("%s/%d expires %s", s.Connector, s.Slot, s.ExpiresAt)
		}
		holders[s.Connector+"/"+string(rune('0'+s.Slot))] = s.Holder
	}
	if len(slots) != 3 || holders["other/0"] != "n1" || holders["carrier/0"] == holders["carrier/1"] || holders["carrier/0"] == "" || holders["carrier/1"] == "" {
		t.Fatalf("slots %+v", slots)
	}
}
