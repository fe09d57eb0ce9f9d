package ping

import "time"

// A run sends in rounds, one probe to each target in the order given.
// Within a round the probes are spread out: at most maxGap apart, evenly
// over the interval when there are many targets, and never closer than
// the rate allows. When the interval cannot hold a round at the rate (a
// /16 at 1,000 requests per second needs 65.5 s), the round takes longer
// and each target is probed once per round.

// maxGap is the longest pause between probes to different targets in one
// round (as fping's default); with many targets the round is spread evenly
// over the interval instead.
const maxGap = 10 * time.Millisecond

// maxSpan bounds the schedule's durations: a rate so low that its pace
// or a round would overflow a time.Duration waits this long instead
// (about 73 years).
const maxSpan = time.Duration(1<<63-1) / 4

// burstWindow is how much sending the limiter lets a run catch up at once
// after a pause: the requests of 1 ms at the rate, and at least two.
const burstWindow = time.Millisecond

// paceOf is the time between two requests at rate per second.
func paceOf(rate float64) time.Duration {
	if !(rate > 0) {
		rate = DefaultRate
	}
	d := float64(time.Second) / rate
	if d >= float64(maxSpan) {
		return maxSpan
	}
	return time.Duration(d)
}

// schedule is when a run's probes are due.
type schedule struct {
	gap   time.Duration // between two targets' probes within a round
	round time.Duration // from the start of one round to the next
}

func newSchedule(interval time.Duration, rate float64, targets int) schedule {
	n := time.Duration(max(targets, 1))
	gap := max(min(maxGap, interval/n), paceOf(rate))
	round := maxSpan
	if gap == 0 || n <= maxSpan/gap {
		round = max(interval, gap*n)
	}
	return schedule{gap: gap, round: round}
}

// Round is how long one round of probes, one to each of n targets,
// lasts: the interval, or longer when n requests at the rate do not fit
// into it. Each target is probed once per round.
func (cfg Config) Round(n int) time.Duration {
	interval, rate := cfg.Interval, cfg.Rate
	if interval == 0 {
		interval = DefaultInterval
	}
	return newSchedule(interval, rate, n).round
}

// limiter holds requests to the rate whatever the schedule asks for: when
// sending has fallen behind (the local stack had no buffer, a sequence
// number was still in use, the process was not scheduled), the schedule
// would send everything overdue at once; the limiter lets only a small
// burst go (burstWindow's worth) and the rest at the rate. It is the
// generic cell rate algorithm: tat is when the next request would be due
// if every request so far had gone at exactly the rate.
type limiter struct {
	pace, tolerance time.Duration
	tat             time.Time
}

func newLimiter(rate float64) limiter {
	p := paceOf(rate)
	return limiter{pace: p, tolerance: max(p, burstWindow)}
}

// allowed is the earliest time the next request may go.
func (l *limiter) allowed() time.Time {
	if l.tat.IsZero() {
		return l.tat
	}
	return l.tat.Add(-l.tolerance)
}

// sent records a request that went to the kernel at now.
func (l *limiter) sent(now time.Time) {
	l.tat = latest(l.tat, now).Add(l.pace)
}
