package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
)

var contactBehaviours = []behaviour{
	{"Contacts", testContacts},
}

func testContacts(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st)
	mk := func(msisdn, first string) *store.Contact {
		t.Helper()
		c := &store.Contact{ID: ids.New(), AccountID: a.ID, MSISDN: msisdn, FirstName: first, Custom: [4]string{"c1", "", "", "c4"}}
		if err := st.CreateContact(ctx, c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	c1, c2, c3 := mk("31612345001", "Ann"), mk("31612345002", "Bob"), mk("31612345001", "Ann again") // numbers need not be unique
	got, err := st.GetContact(ctx, a.ID, c1.ID)
	if err != nil || got.MSISDN != "31612345001" || got.FirstName != "Ann" || got.Custom[3] != "c4" || got.Groups != 0 || got.CreatedAt.IsZero() {
		t.Fatalf("get %+v %v", got, err)
	}
	if _, err := st.GetContact(ctx, b.ID, c1.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account reads it: %v", err)
	}
	list, total, err := st.ListContacts(ctx, a.ID, "", 2, 0)
	if err != nil || total != 3 || len(list) != 2 || list[0].ID != c1.ID || list[1].ID != c2.ID {
		t.Fatalf("list %v %d %v", list, total, err)
	}
	if list, total, _ := st.ListContacts(ctx, a.ID, "31612345001", 10, 0); total != 2 || len(list) != 2 || list[1].ID != c3.ID {
		t.Fatalf("by number %v %d", list, total)
	}
	c2.LastName, c2.MSISDN = "Builder", "31612345009"
	if err := st.UpdateContact(ctx, c2); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetContact(ctx, a.ID, c2.ID); got.LastName != "Builder" || got.MSISDN != "31612345009" || got.UpdatedAt.Before(got.CreatedAt) {
		t.Fatalf("updated %+v", got)
	}
	if err := st.UpdateContact(ctx, &store.Contact{ID: c2.ID, AccountID: b.ID}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account updates it: %v", err)
	}

	g := &store.Group{ID: ids.New(), AccountID: a.ID, Name: "friends"}
	g2 := &store.Group{ID: ids.New(), AccountID: a.ID, Name: "family"}
	for _, x := range []*store.Group{g, g2} {
		if err := st.CreateGroup(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.AddGroupContacts(ctx, a.ID, g.ID, []string{c1.ID, c2.ID, c1.ID}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddGroupContacts(ctx, a.ID, g2.ID, []string{c2.ID, c3.ID}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddGroupContacts(ctx, a.ID, g.ID, []string{c3.ID, "nope"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown contact: %v", err)
	}
	if err := st.AddGroupContacts(ctx, b.ID, g.ID, []string{c3.ID}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account's group: %v", err)
	}
	if got, _ := st.GetGroup(ctx, a.ID, g.ID); got.Contacts != 2 || got.Name != "friends" {
		t.Fatalf("group %+v (c3 must not have been added)", got)
	}
	members, total, err := st.GroupContacts(ctx, a.ID, g.ID, 10, 0)
	if err != nil || total != 2 || len(members) != 2 {
		t.Fatalf("members %v %d %v", members, total, err)
	}
	groups, total, err := st.ContactGroups(ctx, a.ID, c2.ID, 10, 0)
	if err != nil || total != 2 || len(groups) != 2 || groups[0].ID != g.ID {
		t.Fatalf("contact's groups %v %d %v", groups, total, err)
	}
	nums, err := st.GroupNumbers(ctx, a.ID, []string{g.ID, g2.ID, g.ID}, 10)
	if err != nil || !slices.Equal(nums, []string{"31612345001", "31612345009"}) {
		t.Fatalf("numbers %v %v", nums, err)
	}
	if nums, _ := st.GroupNumbers(ctx, a.ID, []string{g.ID, g2.ID}, 1); len(nums) != 2 {
		t.Fatalf("max+1 numbers: %v", nums)
	}
	if _, err := st.GroupNumbers(ctx, b.ID, []string{g.ID}, 10); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account's group numbers: %v", err)
	}
	g.Name = "best friends"
	if err := st.UpdateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	if err := st.RemoveGroupContact(ctx, a.ID, g.ID, c1.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.RemoveGroupContact(ctx, a.ID, g.ID, c1.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("removed twice: %v", err)
	}
	if err := st.DeleteContact(ctx, a.ID, c2.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetGroup(ctx, a.ID, g.ID); got.Contacts != 0 || got.Name != "best friends" {
		t.Fatalf("after deletes %+v", got)
	}
	if err := st.DeleteGroup(ctx, a.ID, g2.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetContact(ctx, a.ID, c3.ID); got == nil || got.Groups != 0 {
		t.Fatalf("contact after its group was deleted: %+v", got)
	}
	if list, total, _ := st.ListGroups(ctx, a.ID, 10, 0); total != 1 || len(list) != 1 || list[0].ID != g.ID {
		t.Fatalf("groups %v %d", list, total)
	}
	if err := st.DeleteGroup(ctx, b.ID, g.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account deletes it: %v", err)
	}
}
