package loadgen

import (
	"fmt"
	"math"
	"math/bits"
	"time"
)

// DefaultSubBits is the precision of NewHistogram(0): 2^7 = 128 buckets per
// power of two, so a recorded value is known to within 1/128 (0.8 %).
const DefaultSubBits = 7

// Histogram counts durations in log-linear buckets, as HdrHistogram does:
// every power of two is split into 2^subBits equal buckets, so the relative
// error of any value read back (a percentile, the maximum) is at most
// 2^-subBits, from a nanosecond to days, in a fixed amount of memory. Values
// below 2^subBits nanoseconds are counted exactly.
//
// A Histogram is not safe for concurrent use; Recorder wraps one with a lock.
type Histogram struct {
	subBits  uint
	counts   []uint64
	total    uint64
	min, max int64
	sum      float64
}

// maxExponent bounds the values a histogram holds: up to 2^maxExponent ns,
// about 9 hours; larger values are counted as that.
const maxExponent = 45

// NewHistogram makes an empty histogram with 2^subBits buckets per power
// of two; subBits 0 means DefaultSubBits, and it is capped at 12.
func NewHistogram(subBits uint) *Histogram {
	if subBits == 0 {
		subBits = DefaultSubBits
	}
	subBits = min(subBits, 12)
	n := (maxExponent - int(subBits) + 2) << subBits
	return &Histogram{subBits: subBits, counts: make([]uint64, n), min: math.MaxInt64}
}

// index is the bucket of v (v ≥ 0, already capped).
func (h *Histogram) index(v int64) int {
	u := uint64(v)
	if u < 1<<h.subBits {
		return int(u)
	}
	shift := uint(bits.Len64(u)) - 1 - h.subBits
	return int(shift+1)<<h.subBits + int(u>>shift) - 1<<h.subBits
}

// bounds are the smallest and largest values counted in bucket i.
func (h *Histogram) bounds(i int) (lo, hi int64) {
	sub := int64(1) << h.subBits
	if int64(i) < sub {
		return int64(i), int64(i)
	}
	shift := uint(int64(i)>>h.subBits) - 1
	lo = (sub + int64(i)&(sub-1)) << shift
	return lo, lo + 1<<shift - 1
}

// Record counts one value; negative values count as 0.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	v = min(v, int64(1)<<maxExponent)
	h.counts[h.index(v)]++
	h.total++
	h.sum += float64(v)
	h.min = min(h.min, v)
	h.max = max(h.max, v)
}

// Merge adds every value of o to h. Both must have the same precision.
func (h *Histogram) Merge(o *Histogram) error {
	if o.subBits != h.subBits {
		return fmt.Errorf("merging histograms: precision %d into %d", o.subBits, h.subBits)
	}
	if o.total == 0 {
		return nil
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
	return nil
}

// Count is the number of values recorded.
func (h *Histogram) Count() uint64 { return h.total }

// Max is the largest value recorded, exactly; 0 when empty.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Min is the smallest value recorded, exactly; 0 when empty.
func (h *Histogram) Min() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.min)
}

// Mean is the average of the values recorded, exactly; 0 when empty.
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.total))
}

// Percentile is the value below or at which p percent of the recorded
// values lie (the nearest-rank definition: the value of rank ⌈p·n/100⌉ in
// sorted order), read back as the largest value of its bucket and so never
// an underestimate by more than rounding, nor above Max. 0 when empty.
func (h *Histogram) Percentile(p float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	p = min(max(p, 0), 100)
	rank := uint64(math.Ceil(p / 100 * float64(h.total)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := h.bounds(i)
			return time.Duration(min(max(hi, h.min), h.max))
		}
	}
	return time.Duration(h.max)
}

// Summary is a histogram's figures in milliseconds, as results show them.
type Summary struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p99_9_ms"`
	Max   float64 `json:"max_ms"`
	Min   float64 `json:"min_ms"`
	Mean  float64 `json:"mean_ms"`
}

// Summary reads the usual percentiles.
func (h *Histogram) Summary() Summary {
	return Summary{
		Count: h.total,
		P50:   ms(h.Percentile(50)),
		P90:   ms(h.Percentile(90)),
		P99:   ms(h.Percentile(99)),
		P999:  ms(h.Percentile(99.9)),
		Max:   ms(h.Max()),
		Min:   ms(h.Min()),
		Mean:  ms(h.Mean()),
	}
}

// ms is d in milliseconds, rounded to the microsecond.
func ms(d time.Duration) float64 {
	return math.Round(float64(d)/1e3) / 1e3
}
