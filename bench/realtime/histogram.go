package main

import (
	"math"
	"time"
)

// histogram records durations in buckets 5 % apart from 1 µs to about 100 s,
// so percentiles are within 5 % of the truth at any scale, in fixed memory.
type histogram struct {
	Counts []uint64 `json:"counts"`
	N      uint64   `json:"n"`
	Max    int64    `json:"max_ns"`
}

const (
	histGrowth  = 1.05
	histBuckets = 380 // 1.05^380 µs ≈ 115 s
)

var histLogGrowth = math.Log(histGrowth)

func newHistogram() *histogram { return &histogram{Counts: make([]uint64, histBuckets)} }

func bucketOf(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us <= 1 {
		return 0
	}
	i := int(math.Log(us)/histLogGrowth) + 1
	return min(i, histBuckets-1)
}

// upper is the largest duration a bucket holds.
func upper(i int) time.Duration {
	return time.Duration(math.Pow(histGrowth, float64(i)) * float64(time.Microsecond))
}

func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.Counts[bucketOf(d)]++
	h.N++
	if int64(d) > h.Max {
		h.Max = int64(d)
	}
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.Counts {
		h.Counts[i] += c
	}
	h.N += o.N
	h.Max = max(h.Max, o.Max)
}

// quantile is the upper bound of the bucket holding the q-th value.
func (h *histogram) quantile(q float64) time.Duration {
	if h.N == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.N)))
	var seen uint64
	for i, c := range h.Counts {
		seen += c
		if seen >= rank {
			return min(upper(i), time.Duration(h.Max))
		}
	}
	return time.Duration(h.Max)
}
