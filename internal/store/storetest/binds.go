package storetest

import (
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// testBindLeases: nodes share a connector's bind slots through leases:
// never two holders of one slot, a node takes up to what it wants, frees
// what it holds beyond its maximum, renews its own, takes over expired
// leases, and takes an orphaned slot beyond its want; a released slot is
// free at once.
func testBindLeases(t *testing.T, st store.Store) {
	const lease = 10 * time.Second
	now := time.Now().UTC()
	claim := func(node string, total, want, max int, at time.Time) store.BindState {
		t.Helper()
		s, err := st.ClaimBinds(ctx, store.BindClaim{Connector: "carrier", Node: node, Total: total, Want: want, Max: max,
			Orphan: lease / 2, Now: at, Until: at.Add(lease)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := claim("a", 3, 2, 2, now); s.Held != 2 || len(s.Holders) != 0 {
		t.Fatalf("a: %+v, want 2 held and no other holder", s)
	}
	if s := claim("b", 3, 2, 2, now); s.Held != 1 || s.Holders["a"] != 2 {
		t.Fatalf("b: %+v, want the one slot left and a holding 2", s)
	}
	if s := claim("c", 3, 1, 1, now); s.Held != 0 || s.Holders["a"] != 2 || s.Holders["b"] != 1 {
		t.Fatalf("c: %+v, want nothing free", s)
	}
	// a renews; its maximum fell to 1: it frees one, which c takes.
	later := now.Add(lease / 3)
	if s := claim("a", 3, 1, 1, later); s.Held != 1 {
		t.Fatalf("a at its new maximum: %+v", s)
	}
	if s := claim("c", 3, 1, 1, later); s.Held != 1 {
		t.Fatalf("c after a freed a slot: %+v", s)
	}
	// b dies: its lease runs out; c at its want leaves the slot until it
	// is orphaned, then takes it.
	expired := now.Add(lease + time.Second)
	claim("a", 3, 1, 1, now.Add(lease-time.Second)) // a and c renew in time
	claim("c", 3, 1, 1, now.Add(lease-time.Second))
	if s := claim("c", 3, 1, 0, expired); s.Held != 1 {
		t.Fatalf("c before the orphan time: %+v, want 1", s)
	}
	if s := claim("c", 3, 1, 0, now.Add(lease+lease/2+time.Second)); s.Held != 2 {
		t.Fatalf("c after the slot was orphaned: %+v, want 2", s)
	}
	// The connector shrinks to one bind: slots beyond it go.
	if s := claim("a", 1, 1, 1, now.Add(lease+lease/2+time.Second)); s.Held+s.Holders["c"] != 1 {
		t.Fatalf("one bind: %+v", s)
	}
	// Released slots are free at once, for anyone under its want.
	if err := st.ReleaseBinds(ctx, "c", ""); err != nil {
		t.Fatal(err)
	}
	if err := st.ReleaseBinds(ctx, "a", "carrier"); err != nil {
		t.Fatal(err)
	}
	if s := claim("d", 1, 1, 1, now.Add(lease+lease/2+2*time.Second)); s.Held != 1 {
		t.Fatalf("d after the release: %+v, want 1", s)
	}
	// Live nodes are counted by heartbeat; a forgotten node is not.
	for _, n := range []string{"a", "b"} {
		if err := st.Heartbeat(ctx, n, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.ForgetNode(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if n, err := st.LiveNodes(ctx, now.Add(-time.Second)); err != nil || n != 1 {
		t.Fatalf("live nodes = %d, %v; want 1", n, err)
	}
}
