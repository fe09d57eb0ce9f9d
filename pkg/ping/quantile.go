package ping

import (
	"math"
	"math/bits"
	"slices"
	"time"
)

// exactSamples is how many round-trip times a target keeps verbatim.
// Below it percentiles are exact; above it they come from the histogram,
// so a run of any length holds at most this many samples per target.
const exactSamples = 1024

// Histogram geometry: values are nanoseconds; each power of two from
// 2^minExp ns (about 1 µs) to 2^maxExp ns (about 137 s) is split into
// 2^subBits equal buckets, so a bucket is at most 1/128 of its value wide
// and a percentile read from it is within 0.8 % of the true one. Values
// outside the range land in the first or last bucket.
const (
	subBits    = 7
	subBuckets = 1 << subBits
	minExp     = 10
	maxExp     = 37
	numBuckets = (maxExp - minExp + 1) * subBuckets
)

// quantiles estimates percentiles of a stream of durations in bounded
// memory: exact while the stream is short, a log-linear histogram after.
type quantiles struct {
	samples []time.Duration // the first exactSamples values
	hist    []uint64        // allocated once samples overflow
	n       uint64
}

func (q *quantiles) add(d time.Duration) {
	q.n++
	if q.hist == nil {
		if len(q.samples) < exactSamples {
			q.samples = append(q.samples, d)
			return
		}
		q.hist = make([]uint64, numBuckets)
		for _, s := range q.samples {
			q.hist[bucketOf(s)]++
		}
		q.samples = nil
	}
	q.hist[bucketOf(d)]++
}

// percentile returns the p-th percentile (0 < p <= 100). Exact values are
// interpolated linearly between the two nearest ranks; histogram values
// are the middle of the bucket holding the rank.
func (q *quantiles) percentile(p float64) time.Duration {
	if q.n == 0 {
		return 0
	}
	if q.hist == nil {
		s := slices.Clone(q.samples)
		slices.Sort(s)
		pos := p / 100 * float64(len(s)-1)
		lo := int(math.Floor(pos))
		hi := min(lo+1, len(s)-1)
		frac := pos - float64(lo)
		return s[lo] + time.Duration(frac*float64(s[hi]-s[lo]))
	}
	rank := uint64(math.Ceil(p / 100 * float64(q.n)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range q.hist {
		seen += c
		if seen >= rank {
			return bucketMid(i)
		}
	}
	return bucketMid(numBuckets - 1)
}

// bucketOf maps a duration to its histogram bucket.
func bucketOf(d time.Duration) int {
	v := uint64(max(d, 0))
	if v < 1<<minExp {
		return 0
	}
	exp := bits.Len64(v) - 1
	if exp > maxExp {
		return numBuckets - 1
	}
	sub := int(v>>(exp-subBits)) & (subBuckets - 1)
	return (exp-minExp)*subBuckets + sub
}

// bucketMid is the middle of bucket i's value range.
func bucketMid(i int) time.Duration {
	exp := minExp + i/subBuckets
	sub := uint64(i % subBuckets)
	width := uint64(1) << (exp - subBits)
	lo := uint64(1)<<exp + sub*width
	return time.Duration(lo + width/2)
}
