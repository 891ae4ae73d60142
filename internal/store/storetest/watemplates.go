package storetest

import (
	"errors"
	"testing"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
)

var waTemplateBehaviours = []behaviour{
	{"WATemplates", testWATemplates},
}

func testWATemplates(t *testing.T, st store.Store) {
	a, b := newAccount(t, st), newAccount(t, st)
	variant := func(acct, ch, name, lang, provider string) *store.WATemplate {
		return &store.WATemplate{ID: ids.New(), AccountID: acct, ChannelID: ch, Connector: "wa", WABAID: "waba1", Name: name, Language: lang,
			Category: "UTILITY", Components: `[{"type":"BODY","text":"Hi {{1}}"}]`, Params: 1, Status: store.TemplatePending, ProviderID: provider}
	}
	en, de := variant(a.ID, "ch1", "hello", "en_US", "501"), variant(a.ID, "ch1", "hello", "de", "502")
	other := variant(b.ID, "ch9", "hello", "en_US", "503")
	for _, v := range []*store.WATemplate{en, de, other, variant(a.ID, "ch2", "hello", "en_US", "504")} {
		if err := st.CreateWATemplate(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CreateWATemplate(ctx, variant(a.ID, "ch1", "hello", "en_US", "")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a second en_US variant: %v", err)
	}
	got, err := st.GetWATemplate(ctx, a.ID, "ch1", "hello", "en_US")
	if err != nil || got.ID != en.ID || got.Params != 1 || got.Components != en.Components || got.CreatedAt.IsZero() {
		t.Fatalf("get %+v %v", got, err)
	}
	if _, err := st.GetWATemplate(ctx, b.ID, "ch1", "hello", "en_US"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account reads it: %v", err)
	}
	if list, total, err := st.ListWATemplates(ctx, a.ID, "ch1", "", 10, 0); err != nil || total != 2 || len(list) != 2 || list[0].Language != "de" {
		t.Fatalf("list %v %d %v", list, total, err)
	}
	if _, total, _ := st.ListWATemplates(ctx, a.ID, "", "hello", 1, 0); total != 3 {
		t.Fatalf("by name over channels: %d", total)
	}
	// A review by provider id changes that variant only; by name and
	// language, every channel's of the business account.
	if n, err := st.ReviewWATemplates(ctx, store.TemplateReview{WABAID: "waba1", ProviderID: "501", Status: store.TemplateApproved}); err != nil || n != 1 {
		t.Fatalf("review by id: %d %v", n, err)
	}
	if got, _ := st.GetWATemplate(ctx, a.ID, "ch1", "hello", "en_US"); got.Status != store.TemplateApproved {
		t.Fatalf("after review: %+v", got)
	}
	if n, _ := st.ReviewWATemplates(ctx, store.TemplateReview{WABAID: "waba1", ProviderID: "501", Status: store.TemplateApproved}); n != 0 {
		t.Fatalf("the same review again changed %d", n)
	}
	if n, _ := st.ReviewWATemplates(ctx, store.TemplateReview{WABAID: "waba2", ProviderID: "502", Status: store.TemplateApproved}); n != 0 {
		t.Fatalf("another business account's review changed %d", n)
	}
	if n, _ := st.ReviewWATemplates(ctx, store.TemplateReview{WABAID: "waba1", Name: "hello", Language: "de", Status: store.TemplateRejected, Reason: "INVALID_FORMAT"}); n != 1 {
		t.Fatalf("review by name: %d", n)
	}
	if got, _ := st.GetWATemplate(ctx, a.ID, "ch1", "hello", "de"); got.Status != store.TemplateRejected || got.RejectedReason != "INVALID_FORMAT" {
		t.Fatalf("rejected %+v", got)
	}
	if _, err := st.DeleteWATemplates(ctx, b.ID, "ch1", "hello", ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account deletes: %v", err)
	}
	if n, err := st.DeleteWATemplates(ctx, a.ID, "ch1", "hello", "de"); err != nil || n != 1 {
		t.Fatalf("delete a variant: %d %v", n, err)
	}
	if n, err := st.DeleteWATemplates(ctx, a.ID, "", "hello", ""); err != nil || n != 2 {
		t.Fatalf("delete the rest: %d %v", n, err)
	}
	if _, total, _ := st.ListWATemplates(ctx, b.ID, "", "", 10, 0); total != 1 {
		t.Fatalf("the other account's left: %d", total)
	}
	if ids, err := st.PartProviderIDs(ctx, a.ID, "no-such-message"); err != nil || len(ids) != 0 {
		t.Fatalf("provider ids of nothing: %v %v", ids, err)
	}
}
