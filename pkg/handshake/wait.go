package handshake

import (
	"sync"
	"time"
)

// SYN mode gives each of its two SYNs to a port one retransmission
// timeout (RTO) before it sends the next or calls the port filtered.
const (
	// minRTO is the shortest RTO, however fast the host answers its
	// other ports: it absorbs scheduling delays on a busy machine and a
	// host slow to answer a burst. A silent port is thus given 250 ms at
	// least.
	minRTO = 125 * time.Millisecond
	// minRTTMargin is the least an RTO adds to the smoothed round trip,
	// so that a steady path, whose deviation tends to zero, still leaves
	// room for a late answer (Linux keeps 200 ms; a scan can afford less).
	minRTTMargin = 100 * time.Millisecond
)

// silentWait learns, from the answers one host gives (SYN-ACKs and
// resets), how long a SYN to it may go unanswered before it is sent
// again or the port is called filtered: the retransmission timeout of
// RFC 6298 (smoothed RTT plus four deviations, but at least minRTTMargin
// more than the smoothed RTT), between minRTO and half the configured
// timeout, which is also the RTO before any answer came. Probes waiting
// on a port learn through Current's channel when the RTO shrinks, so a
// scan of many ports does not hold its silent ones for the full timeout
// once the host has shown how fast it answers.
//
// Only answers to a SYN sent once are samples (Karn's rule): after a
// retransmission, an answer may belong to either SYN.
type silentWait struct {
	max time.Duration

	mu        sync.Mutex
	samples   int
	srtt      time.Duration
	rttvar    time.Duration
	rto       time.Duration
	announced time.Duration // the RTO when changed was last closed
	changed   chan struct{}
}

// newSilentWait starts with half of timeout for each SYN, so that two
// SYNs to a silent port take timeout in all.
func newSilentWait(timeout time.Duration) *silentWait {
	rto := timeout / 2
	return &silentWait{max: rto, rto: rto, announced: rto, changed: make(chan struct{})}
}

// Current returns the RTO and a channel closed when it next shrinks by
// a fifth or more.
func (w *silentWait) Current() (time.Duration, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rto, w.changed
}

// Answered says whether the host has answered any probe: then its next
// hop is resolved, and silence is a drop.
func (w *silentWait) Answered() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.samples > 0
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
	w.rto = min(max(w.srtt+max(4*w.rttvar, minRTTMargin), minRTO), w.max)
	if w.rto*5 <= w.announced*4 {
		w.announced = w.rto
		close(w.changed)
		w.changed = make(chan struct{})
	}
}
