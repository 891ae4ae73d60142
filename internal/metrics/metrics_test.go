package metrics

import (
	"fmt"
	"strings"
	"testing"
)

// unknownSeries reads the unknown-parameter counters: value by parameter.
func unknownSeries(t *testing.T, m *Metrics) map[string]float64 {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "omnigate_api_unknown_parameters_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range s.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["door"] != "messagebird" {
				t.Fatalf("door %q", labels["door"])
			}
			out[labels["parameter"]] = s.GetCounter().GetValue()
		}
	}
	return out
}

// Unknown parameter names are chosen by clients: the label set stays
// bounded whatever they send.
func TestUnknownParamLabelsBounded(t *testing.T) {
	m := New()
	m.UnknownParam("messagebird", "shortenUrls")
	m.UnknownParam("messagebird", "shortenUrls")
	for i := range 3 * MaxUnknownParamNames {
		m.UnknownParam("messagebird", fmt.Sprintf("field%d", i))
	}
	m.UnknownParam("messagebird", "shortenUrls") // named before the cap: its own series
	m.UnknownParam("messagebird", "late")        // after the cap: _other
	m.UnknownParam("messagebird", strings.Repeat("x", 65))
	m.UnknownParam("messagebird", "a b<script>")
	got := unknownSeries(t, m)
	if len(got) != MaxUnknownParamNames+1 {
		t.Fatalf("%d series, want %d names and _other", len(got), MaxUnknownParamNames+1)
	}
	if got["shortenUrls"] != 3 || got["field0"] != 1 {
		t.Fatalf("shortenUrls %v, field0 %v; want 3, 1", got["shortenUrls"], got["field0"])
	}
	if want := float64(3*MaxUnknownParamNames - (MaxUnknownParamNames - 1) + 3); got[OtherParam] != want {
		t.Fatalf("_other counted %v times, want %v", got[OtherParam], want)
	}
}
