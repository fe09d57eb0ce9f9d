package handshake

import (
	"math"
	"time"
)

// Stats sums up the probes of one target, ping-style: how many ended in
// each state and the round-trip times of the ones that opened.
type Stats struct {
	Sent, Open, Closed, Filtered, Unreachable int
	// RTT figures cover open probes only; zero when none opened.
	RTTMin, RTTAvg, RTTMax, RTTMDev time.Duration

	sum, sumSq float64
}

// Add counts r.
func (s *Stats) Add(r Result) {
	s.Sent++
	switch r.State {
	case Open:
		s.Open++
	case Closed:
		s.Closed++
	case Filtered:
		s.Filtered++
	case Unreachable:
		s.Unreachable++
	}
	if r.State != Open {
		return
	}
	if s.Open == 1 || r.RTT < s.RTTMin {
		s.RTTMin = r.RTT
	}
	s.RTTMax = max(s.RTTMax, r.RTT)
	x := float64(r.RTT)
	s.sum += x
	s.sumSq += x * x
	n := float64(s.Open)
	mean := s.sum / n
	s.RTTAvg = time.Duration(math.Round(mean))
	// The mean deviation as ping reports it: the standard deviation of
	// the samples.
	s.RTTMDev = time.Duration(math.Round(math.Sqrt(math.Max(0, s.sumSq/n-mean*mean))))
}
