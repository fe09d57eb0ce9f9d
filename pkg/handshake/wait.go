package handshake

import (
	"sync"
	"time"
)

// minSilentWait is the shortest time SYN mode waits before calling a
// port filtered, however fast the host answers its other ports: it
// absorbs scheduling delays on a busy machine and a host that is slow
// to answer a burst.
const minSilentWait = 250 * time.Millisecond

// silentWait learns, from the answers one host gives (SYN-ACKs and
// resets), how long a SYN to it may go unanswered before the port is
// called filtered: the retransmission timeout of RFC 6298 (smoothed RTT
// plus four deviations), at least minSilentWait and at most the
// configured timeout, which is also the wait before any answer came.
// Probes waiting on a port learn through Changed when the wait shrinks,
// so a scan of many ports does not hold its silent ones for the full
// timeout once the host has shown how fast it answers.
type silentWait struct {
	max time.Duration

	mu        sync.Mutex
	samples   int
	srtt      time.Duration
	rttvar    time.Duration
	wait      time.Duration
	announced time.Duration // the wait when changed was last closed
	changed   chan struct{}
}

func newSilentWait(max time.Duration) *silentWait {
	return &silentWait{max: max, wait: max, announced: max, changed: make(chan struct{})}
}

// Current returns the wait and a channel closed when it next shrinks
// by a fifth or more.
func (w *silentWait) Current() (time.Duration, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.wait, w.changed
}

// Sample adds one measured round trip.
func (w *silentWait) Sample(rtt time.Duration) {
	if rtt <= 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.samples++
	if w.samples == 1 {
		w.srtt, w.rttvar = rtt, rtt/2
	} else {
		d := w.srtt - rtt
		if d < 0 {
			d = -d
		}
		w.rttvar = (3*w.rttvar + d) / 4
		w.srtt = (7*w.srtt + rtt) / 8
	}
	w.wait = min(max(w.srtt+4*w.rttvar, minSilentWait), w.max)
	if w.wait*5 <= w.announced*4 {
		w.announced = w.wait
		close(w.changed)
		w.changed = make(chan struct{})
	}
}
