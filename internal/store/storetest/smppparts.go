package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
)

// smppPartBehaviours cover the parts of long messages submitted to the
// SMPP server (store.SMPPParts).
var smppPartBehaviours = []behaviour{
	{"SMPPPartsStage", testSMPPPartsStage},
	{"SMPPPartsConcurrent", testSMPPPartsConcurrent},
	{"SMPPPartsExpiryAndCap", testSMPPPartsExpiryAndCap},
}

func smppPart(k store.SMPPPartKey, seq int, text string, at time.Time) store.SMPPPart {
	return store.SMPPPart{SMPPPartKey: k, Seq: seq, MessageID: ids.New(), Text: text, Receipts: 1, CreatedAt: at, ExpiresAt: at.Add(time.Minute)}
}

// The first part fixes the set's id; a part sent again replaces its copy
// (and counts once); the set reads back in order, its text opened; it is
// dropped by key and id, or by id (cancel_sm).
func testSMPPPartsStage(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	now := time.Now().UTC().Truncate(time.Millisecond)
	k := store.SMPPPartKey{AccountID: a.ID, Source: "Shop", Dest: "31612345678", Ref: 7, Total: 3}
	stage := func(p store.SMPPPart) (string, int) {
		t.Helper()
		id, have, err := st.StagePart(ctx, p, 100)
		if err != nil {
			t.Fatal(err)
		}
		return id, have
	}
	p2 := smppPart(k, 2, "two, ", now)
	id, have := stage(p2)
	if id != p2.MessageID || have != 1 {
		t.Fatalf("first part staged: %s %d, want %s 1", id, have, p2.MessageID)
	}
	again := smppPart(k, 2, "TWO, ", now.Add(time.Second))
	again.Unicode, again.UDH, again.ScheduledAt, again.Validity = true, "0605040b8423f0", now.Add(time.Hour), 3600
	if got, have := stage(again); got != id || have != 1 {
		t.Fatalf("part sent again: %s %d, want %s 1", got, have, id)
	}
	// The same reference with another count is another set.
	other := k
	other.Total = 2
	if got, have := stage(smppPart(other, 1, "x", now)); got == id || have != 1 {
		t.Fatalf("another set: %s %d", got, have)
	}
	if got, have := stage(smppPart(k, 3, "three.", now)); got != id || have != 2 {
		t.Fatalf("third part: %s %d", got, have)
	}
	if got, have := stage(smppPart(k, 1, "One, ", now)); got != id || have != 3 {
		t.Fatalf("last part: %s %d", got, have)
	}
	set, err := st.SMPPPartSet(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if len(set) != 3 {
		t.Fatalf("set %+v", set)
	}
	text := ""
	for i, p := range set {
		if p.Seq != i+1 || p.MessageID != id || p.SMPPPartKey != k || p.Receipts != 1 || !p.ExpiresAt.Equal(p2.ExpiresAt) {
			t.Fatalf("part %d: %+v", i, p)
		}
		text += p.Text
	}
	if text != "One, TWO, three." || !set[1].Unicode || set[0].Unicode || set[1].UDH != again.UDH || !set[1].ScheduledAt.Equal(again.ScheduledAt) ||
		set[1].Validity != 3600 || set[0].UDH != "" || !set[0].ScheduledAt.IsZero() || set[0].Validity != 0 {
		t.Fatalf("set text %q, %+v", text, set)
	}
	if n, err := st.DeleteSMPPParts(ctx, k, "another id"); err != nil || n != 0 {
		t.Fatalf("dropping under another id: %d %v", n, err)
	}
	if n, err := st.DeleteSMPPParts(ctx, k, id); err != nil || n != 3 {
		t.Fatalf("dropping the set: %d %v", n, err)
	}
	if set, err := st.SMPPPartSet(ctx, k); err != nil || len(set) != 0 {
		t.Fatalf("set after dropping: %+v %v", set, err)
	}
	otherID, _ := stage(smppPart(other, 2, "y", now))
	if w, err := st.SMPPPartsWaiting(ctx, a.ID, otherID); err != nil || !w {
		t.Fatalf("waiting: %v %v", w, err)
	}
	if w, err := st.SMPPPartsWaiting(ctx, "another account", otherID); err != nil || w {
		t.Fatalf("another account's set waiting: %v %v", w, err)
	}
	if n, err := st.DeleteSMPPPartsByID(ctx, "another account", otherID); err != nil || n != 0 {
		t.Fatalf("another account's cancel: %d %v", n, err)
	}
	if n, err := st.DeleteSMPPPartsByID(ctx, a.ID, otherID); err != nil || n != 2 {
		t.Fatalf("cancel: %d %v", n, err)
	}
	if w, err := st.SMPPPartsWaiting(ctx, a.ID, otherID); err != nil || w {
		t.Fatalf("waiting after cancel: %v %v", w, err)
	}
}

// Parts of one set staged at once all get the same id, and one of them
// sees the whole count.
func testSMPPPartsConcurrent(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	const total = 12
	now := time.Now().UTC()
	k := store.SMPPPartKey{AccountID: a.ID, Source: "Shop", Dest: "31612345678", Ref: 9, Total: total}
	var wg sync.WaitGroup
	var mu sync.Mutex
	idSeen, whole := map[string]bool{}, 0
	for seq := 1; seq <= total; seq++ {
		wg.Go(func() {
			id, have, err := st.StagePart(ctx, smppPart(k, seq, fmt.Sprint(seq), now), 100)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			idSeen[id] = true
			if have == total {
				whole++
			}
		})
	}
	wg.Wait()
	if len(idSeen) != 1 || whole != 1 {
		t.Fatalf("ids %v, %d parts saw the set whole; want one id and one", idSeen, whole)
	}
}

// Sets past their expiry are listed whole (and stay until dropped); an
// account holding its limit of parts cannot start another set, but its
// started sets take their parts.
func testSMPPPartsExpiryAndCap(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	now := time.Now().UTC()
	old := store.SMPPPartKey{AccountID: a.ID, Source: "Shop", Dest: "31612345678", Ref: 1, Total: 3}
	fresh := store.SMPPPartKey{AccountID: a.ID, Source: "Shop", Dest: "31612345678", Ref: 2, Total: 3}
	for _, seq := range []int{1, 3} {
		if _, _, err := st.StagePart(ctx, smppPart(old, seq, "old", now.Add(-2*time.Minute)), 4); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := st.StagePart(ctx, smppPart(fresh, 1, "fresh", now), 4); err != nil {
		t.Fatal(err)
	}
	sets, err := st.ExpiredSMPPParts(ctx, now, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 1 || len(sets[0]) != 2 || sets[0][0].SMPPPartKey != old || sets[0][0].Seq != 1 || sets[0][1].Seq != 3 {
		t.Fatalf("expired sets %+v", sets)
	}
	// 3 parts held, limit 4: one more part of a started set, then no new set.
	if _, have, err := st.StagePart(ctx, smppPart(fresh, 2, "fresh", now), 4); err != nil || have != 2 {
		t.Fatalf("part of a started set: %d %v", have, err)
	}
	third := store.SMPPPartKey{AccountID: a.ID, Source: "Shop", Dest: "31612345678", Ref: 3, Total: 2}
	if _, _, err := st.StagePart(ctx, smppPart(third, 1, "new", now), 4); !errors.Is(err, store.ErrPartsFull) {
		t.Fatalf("a new set beyond the limit: %v, want ErrPartsFull", err)
	}
	if _, have, err := st.StagePart(ctx, smppPart(fresh, 3, "fresh", now), 4); err != nil || have != 3 {
		t.Fatalf("last part of a started set at the limit: %d %v", have, err)
	}
	if sets, err := st.ExpiredSMPPParts(ctx, now, 10); err != nil || len(sets) != 1 {
		t.Fatalf("expired sets stay until dropped: %+v %v", sets, err)
	}
}
