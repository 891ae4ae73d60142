package loadgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// reference is the nearest-rank percentile of sorted values.
func reference(sorted []int64, p float64) int64 {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = max(rank, 1)
	return sorted[rank-1]
}

func TestHistogramPercentilesMatchSortedReference(t *testing.T) {
	dists := map[string]func(r *rand.Rand) int64{
		// Loopback HTTP: tens of microseconds to a few milliseconds.
		"lognormal": func(r *rand.Rand) int64 { return int64(math.Exp(r.NormFloat64()*1.2 + 13)) },
		// A saturated system: seconds, with a long tail.
		"exponential": func(r *rand.Rand) int64 { return int64(r.ExpFloat64() * 2e9) },
		"uniform":     func(r *rand.Rand) int64 { return r.Int64N(5e6) },
		// Tiny values are counted exactly.
		"small": func(r *rand.Rand) int64 { return r.Int64N(200) },
	}
	percentiles := []float64{0, 1, 10, 50, 90, 99, 99.9, 99.99, 100}
	for _, subBits := range []uint{5, 7, 10} {
		for name, gen := range dists {
			r := rand.New(rand.NewPCG(uint64(subBits), 42))
			h := NewHistogram(subBits)
			values := make([]int64, 20000)
			for i := range values {
				values[i] = gen(r)
				h.Record(time.Duration(values[i]))
			}
			slices.Sort(values)
			tolerance := 1 / float64(int(1)<<subBits)
			for _, p := range percentiles {
				want := reference(values, p)
				got := int64(h.Percentile(p))
				// The bucket's largest value: never below the true value,
				// above it by at most one bucket width.
				if got < want || float64(got-want) > tolerance*float64(want) {
					t.Errorf("subBits=%d %s p%v = %d, sorted reference %d (tolerance %.2f %%)",
						subBits, name, p, got, want, tolerance*100)
				}
			}
			if h.Max() != time.Duration(values[len(values)-1]) || h.Min() != time.Duration(values[0]) {
				t.Errorf("%s: min/max %v/%v, want %d/%d", name, h.Min(), h.Max(), values[0], values[len(values)-1])
			}
			if h.Count() != uint64(len(values)) {
				t.Errorf("%s: count %d", name, h.Count())
			}
		}
	}
}

func TestHistogramBucketsCoverEveryValueOnce(t *testing.T) {
	h := NewHistogram(4)
	prevHi := int64(-1)
	for i := range h.counts {
		lo, hi := h.bounds(i)
		if lo != prevHi+1 || hi < lo {
			t.Fatalf("bucket %d is [%d, %d] after one ending at %d", i, lo, hi, prevHi)
		}
		for _, v := range []int64{lo, hi} {
			if got := h.index(v); got != i {
				t.Fatalf("index(%d) = %d, want %d", v, got, i)
			}
		}
		prevHi = hi
	}
	if prevHi < 1<<maxExponent {
		t.Fatalf("buckets end at %d, below the cap %d", prevHi, int64(1)<<maxExponent)
	}
}

func TestHistogramEdges(t *testing.T) {
	h := NewHistogram(0)
	if h.Percentile(99) != 0 || h.Max() != 0 || h.Mean() != 0 || h.Min() != 0 {
		t.Fatal("an empty histogram must read 0")
	}
	h.Record(-time.Second)     // counts as 0
	h.Record(1000 * time.Hour) // capped
	if h.Min() != 0 {
		t.Errorf("min %v", h.Min())
	}
	if want := time.Duration(1) << maxExponent; h.Max() != want || h.Percentile(100) != want {
		t.Errorf("max %v / p100 %v, want %v", h.Max(), h.Percentile(100), want)
	}
	one := NewHistogram(0)
	one.Record(1234567 * time.Nanosecond)
	for _, p := range []float64{0, 50, 100} {
		if got := one.Percentile(p); got != 1234567 {
			t.Errorf("single value: p%v = %d, want it exactly", p, got)
		}
	}
}

func TestHistogramMerge(t *testing.T) {
	a, b, all := NewHistogram(0), NewHistogram(0), NewHistogram(0)
	for i := 1; i <= 1000; i++ {
		d := time.Duration(i) * time.Microsecond
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	if err := a.Merge(b); err != nil {
		t.Fatal(err)
	}
	if a.Summary() != all.Summary() {
		t.Errorf("merged %+v, want %+v", a.Summary(), all.Summary())
	}
	if err := a.Merge(NewHistogram(3)); err == nil {
		t.Error("merging histograms of different precision must fail")
	}
}
