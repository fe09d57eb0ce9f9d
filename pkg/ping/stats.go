package ping

import (
	"math"
	"time"
)

// Stats are one target's counts and round-trip statistics. Loss is
// counted over Transmitted: a probe is lost unless a good reply came
// within the timeout, so late, corrupt and errored probes are all lost.
type Stats struct {
	// Transmitted counts the echo requests sent (or attempted: a request
	// the local stack refused is counted, and lost).
	Transmitted int
	// Received counts probes answered in time by a good reply.
	Received int
	// Duplicates counts second and later replies to one request.
	Duplicates int
	// Corrupt counts replies with a bad checksum or a changed payload.
	Corrupt int
	// Late counts replies that came after their probe's timeout.
	Late int
	// Errors counts ICMP error messages about our probes and requests the
	// local stack refused to send.
	Errors int
	// Min, Avg, Max and Mdev (the standard deviation, as ping calls it)
	// summarise the round-trip times of received replies; P50 and P95 are
	// their median and 95th percentile. All are zero without replies.
	Min, Avg, Max, Mdev time.Duration
	P50, P95            time.Duration
	// SlowestLate is the longest round-trip time among late replies.
	SlowestLate time.Duration
}

// LossPct is the share of transmitted probes that got no good reply in
// time, in percent.
func (s Stats) LossPct() float64 {
	if s.Transmitted == 0 {
		return 0
	}
	return float64(s.Transmitted-s.Received) * 100 / float64(s.Transmitted)
}

// rttStats accumulates round-trip times in constant memory: mean and
// variance by Welford's method, percentiles from a bounded structure.
type rttStats struct {
	n        int
	mean, m2 float64 // nanoseconds
	min, max time.Duration
	q        quantiles
}

func (r *rttStats) add(d time.Duration) {
	r.n++
	if r.n == 1 || d < r.min {
		r.min = d
	}
	if d > r.max {
		r.max = d
	}
	x := float64(d)
	delta := x - r.mean
	r.mean += delta / float64(r.n)
	r.m2 += delta * (x - r.mean)
	r.q.add(d)
}

// fill writes the round-trip figures into s.
func (r *rttStats) fill(s *Stats) {
	if r.n == 0 {
		return
	}
	s.Min, s.Max = r.min, r.max
	s.Avg = time.Duration(math.Round(r.mean))
	s.Mdev = time.Duration(math.Round(math.Sqrt(r.m2 / float64(r.n))))
	s.P50 = r.q.percentile(50)
	s.P95 = r.q.percentile(95)
}
