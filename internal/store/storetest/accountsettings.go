package storetest

import (
	"errors"
	"testing"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
)

// testAccountSettings: an account's switches start off, change with
// SetAccountSettings, and are kept for that account only.
func testAccountSettings(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st)
	got, err := st.GetAccount(ctx, a.ID)
	if err != nil || got.StrictNumbers || got.LegacySignature != "node" {
		t.Fatalf("new account: %+v, %v; want strict numbers off, legacy signature node", got, err)
	}
	got.StrictNumbers, got.LegacySignature = true, "php"
	if err := st.SetAccountSettings(ctx, got); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetAccount(ctx, a.ID); !got.StrictNumbers || got.LegacySignature != "php" {
		t.Fatalf("after SetAccountSettings: %+v", got)
	}
	if other, _ := st.GetAccount(ctx, b.ID); other.StrictNumbers || other.LegacySignature != "node" {
		t.Fatalf("another account changed: %+v", other)
	}
	list, err := st.ListAccounts(ctx)
	if err != nil || len(list) != 2 || !list[0].StrictNumbers || list[1].StrictNumbers {
		t.Fatalf("ListAccounts = %+v, %v", list, err)
	}
	if err := st.SetAccountSettings(ctx, &store.Account{ID: ids.New()}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetAccountSettings(unknown) = %v, want ErrNotFound", err)
	}
}
