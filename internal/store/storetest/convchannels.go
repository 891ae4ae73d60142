package storetest

import (
	"errors"
	"testing"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
)

var convChannelBehaviours = []behaviour{
	{"ConvChannels", testConvChannels},
}

func testConvChannels(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st)
	c1 := &store.ConvChannel{ID: ids.New(), AccountID: a.ID, Name: "texts", Kind: "sms", Sender: "Shop"}
	c2 := &store.ConvChannel{ID: ids.New(), AccountID: a.ID, Name: "mail", Kind: "email", Sender: "news@shop.example"}
	c3 := &store.ConvChannel{ID: ids.New(), AccountID: b.ID, Name: "wa", Kind: "whatsapp", Sender: "1234567890"}
	for _, c := range []*store.ConvChannel{c1, c2, c3} {
		if err := st.CreateConvChannel(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CreateConvChannel(ctx, &store.ConvChannel{ID: ids.New(), AccountID: "nope", Kind: "sms", Sender: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("channel of no account: %v", err)
	}
	got, err := st.GetConvChannel(ctx, a.ID, c1.ID)
	if err != nil || got.Kind != "sms" || got.Sender != "Shop" || got.Name != "texts" || got.Status != store.ChannelActive || got.CreatedAt.IsZero() {
		t.Fatalf("get %+v %v", got, err)
	}
	if _, err := st.GetConvChannel(ctx, b.ID, c1.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account reads it: %v", err)
	}
	list, total, err := st.ListConvChannels(ctx, a.ID, 1, 1)
	if err != nil || total != 2 || len(list) != 1 || list[0].ID != c2.ID {
		t.Fatalf("list %v %d %v", list, total, err)
	}
	if _, total, _ := st.ListConvChannels(ctx, "", 10, 0); total != 3 {
		t.Fatalf("all accounts: %d", total)
	}
}
