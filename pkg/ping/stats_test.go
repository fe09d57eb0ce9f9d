package ping

import (
	"math"
	"testing"
	"time"
)

func TestWelfordMatchesTheTwoPassFormulas(t *testing.T) {
	xs := []time.Duration{41 * time.Microsecond, 52 * time.Microsecond, 66 * time.Microsecond, 48 * time.Microsecond, 1200 * time.Microsecond}
	var r rttStats
	var sum float64
	for _, x := range xs {
		r.add(x)
		sum += float64(x)
	}
	mean := sum / float64(len(xs))
	var sq float64
	for _, x := range xs {
		sq += (float64(x) - mean) * (float64(x) - mean)
	}
	var s Stats
	r.fill(&s)
	if s.Avg != time.Duration(math.Round(mean)) || s.Mdev != time.Duration(math.Round(math.Sqrt(sq/float64(len(xs))))) {
		t.Fatalf("avg %v mdev %v, want %v %v", s.Avg, s.Mdev, mean, math.Sqrt(sq/float64(len(xs))))
	}
	if s.Min != 41*time.Microsecond || s.Max != 1200*time.Microsecond || s.P50 != 52*time.Microsecond {
		t.Fatalf("%+v", s)
	}
}

func TestExactPercentiles(t *testing.T) {
	cases := []struct {
		in       []time.Duration
		p50, p95 time.Duration
	}{
		{[]time.Duration{10}, 10, 10},
		{[]time.Duration{40, 10, 30, 20}, 25, 38},
		{[]time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21}, 11, 20},
	}
	for _, c := range cases {
		var q quantiles
		for _, d := range c.in {
			q.add(d)
		}
		if got50, got95 := q.percentile(50), q.percentile(95); got50 != c.p50 || got95 != c.p95 {
			t.Errorf("%v: p50 %v p95 %v, want %v %v", c.in, got50, got95, c.p50, c.p95)
		}
	}
	var empty quantiles
	if empty.percentile(50) != 0 {
		t.Error("empty quantiles must give 0")
	}
}

func TestHistogramPercentilesAreClose(t *testing.T) {
	var q quantiles
	// 1 µs .. 100 ms, uniformly: far beyond the exact samples.
	const n = 100000
	for i := 1; i <= n; i++ {
		q.add(time.Duration(i) * time.Microsecond)
	}
	if q.samples != nil || len(q.hist) != numBuckets {
		t.Fatal("did not move to the histogram")
	}
	for _, p := range []float64{50, 95, 99} {
		want := p / 100 * n * float64(time.Microsecond)
		got := float64(q.percentile(p))
		if math.Abs(got-want)/want > 0.008 {
			t.Errorf("p%g = %v, want %v within 0.8%%", p, time.Duration(got), time.Duration(want))
		}
	}
}

func TestBucketsCoverTheirValues(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 1023, 1024, 1025, 4096, 50 * time.Microsecond, 2 * time.Second, 137 * time.Second, 1 << 40, -5} {
		b := bucketOf(d)
		if b < 0 || b >= numBuckets {
			t.Fatalf("%v: bucket %d", d, b)
		}
		if d >= 1<<minExp && d < 1<<(maxExp+1) {
			mid := bucketMid(b)
			if rel := math.Abs(float64(mid-d)) / float64(d); rel > 1.0/subBuckets {
				t.Errorf("%v: bucket middle %v off by %.4f", d, mid, rel)
			}
		}
	}
}

func TestLossPct(t *testing.T) {
	if (Stats{}).LossPct() != 0 || (Stats{Transmitted: 3, Received: 2}).LossPct() != 100.0/3 {
		t.Fatal("loss")
	}
}
