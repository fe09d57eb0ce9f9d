package handshake

import (
	"testing"
	"time"
)

func TestSilentWait(t *testing.T) {
	w := newSilentWait(2 * time.Second)
	rto, changed := w.Current()
	if rto != time.Second {
		t.Fatalf("before any answer each SYN gets half the timeout, got %v", rto)
	}
	w.Sample(0) // no measurement: ignored
	select {
	case <-changed:
		t.Fatal("changed without a sample")
	default:
	}
	w.Sample(100 * time.Microsecond)
	select {
	case <-changed:
	default:
		t.Fatal("the first answer must wake the waiting probes")
	}
	rto, changed = w.Current()
	if rto != minRTO {
		t.Errorf("a LAN host: RTO %v, want the floor %v", rto, minRTO)
	}
	for range 20 {
		w.Sample(120 * time.Microsecond)
	}
	select {
	case <-changed:
		t.Fatal("an RTO that stays at the floor must not wake anyone")
	default:
	}

	slow := newSilentWait(2 * time.Second)
	slow.Sample(200 * time.Millisecond) // srtt 200ms, rttvar 100ms: 600ms
	if rto, _ := slow.Current(); rto != 600*time.Millisecond {
		t.Errorf("one 200 ms sample: RTO %v, want 600ms", rto)
	}
	// A steady 200 ms path: the deviation tends to zero, the RTO to the
	// smoothed RTT plus the margin, never to the RTT itself, so that an
	// answer a little late is not taken for silence.
	for range 50 {
		slow.Sample(200 * time.Millisecond)
	}
	if rto, _ := slow.Current(); rto != 200*time.Millisecond+minRTTMargin {
		t.Errorf("a steady 200 ms path: RTO %v, want %v", rto, 200*time.Millisecond+minRTTMargin)
	}

	far := newSilentWait(2 * time.Second)
	far.Sample(time.Second)
	if rto, _ := far.Current(); rto != time.Second {
		t.Errorf("the RTO never exceeds half the timeout: %v", rto)
	}
}
