package hlrsim

import (
	"context"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/hlr"
	"github.com/omnigate/omnigate/internal/store"
)

func TestRules(t *testing.T) {
	sim := New(Config{Delay: -1})
	for _, c := range []struct {
		msisdn, status         string
		network, ported, roams int
		location               string
	}{
		{"31612345670", store.HLRAbsent, 20408, 0, 0, ""},
		{"31612345671", store.HLRUnknown, 0, 0, 0, ""},
		{"31612345672", store.HLRActive, 20416, 1, 0, "NL"},
		{"31612345673", store.HLRActive, 20408, 0, 1, "DE"},
		{"31612345674", store.HLRFailed, 0, 0, 0, ""},
		{"31612345678", store.HLRActive, 20408, 0, 0, "NL"},
		{"4915112345673", store.HLRActive, 26201, 0, 1, "NL"},
		{"81901234569", store.HLRActive, 0, 0, 0, "JP"},
	} {
		res, err := sim.Query(context.Background(), hlr.Query{MSISDN: c.msisdn})
		if err != nil {
			t.Fatal(err)
		}
		d := res.Details
		if res.Status != c.status || res.Network != c.network || d.Ported != c.ported || d.Roaming != c.roams || d.LocationISO != c.location {
			t.Errorf("%s: %+v", c.msisdn, res)
		}
		if res.Status == store.HLRActive && c.network != 0 && len(d.IMSI) != 15 {
			t.Errorf("%s: IMSI %q", c.msisdn, d.IMSI)
		}
	}
}

func TestDelayHonoursContext(t *testing.T) {
	sim := New(Config{Delay: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := sim.Query(ctx, hlr.Query{MSISDN: "31612345678"}); err == nil {
		t.Fatal("answered past the deadline")
	}
	sim = New(Config{Delay: 40 * time.Millisecond})
	start := time.Now()
	if _, err := sim.Query(context.Background(), hlr.Query{MSISDN: "31612345678"}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 20*time.Millisecond {
		t.Fatalf("answered in %v, want at least half the delay", took)
	}
}
