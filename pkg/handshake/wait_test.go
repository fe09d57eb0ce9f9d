package handshake

import (
	"testing"
	"time"
)

func TestSilentWait(t *testing.T) {
	w := newSilentWait(2 * time.Second)
	wait, changed := w.Current()
	if wait != 2*time.Second {
		t.Fatalf("before any answer the wait is the timeout, got %v", wait)
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
	wait, changed = w.Current()
	if wait != minSilentWait {
		t.Errorf("a LAN host: wait %v, want the floor %v", wait, minSilentWait)
	}
	for range 20 {
		w.Sample(120 * time.Microsecond)
	}
	select {
	case <-changed:
		t.Fatal("a wait that stays at the floor must not wake anyone")
	default:
	}

	slow := newSilentWait(2 * time.Second)
	slow.Sample(300 * time.Millisecond) // srtt 300ms, rttvar 150ms: 900ms
	if wait, _ := slow.Current(); wait != 900*time.Millisecond {
		t.Errorf("one 300 ms sample: wait %v, want 900ms", wait)
	}
	far := newSilentWait(2 * time.Second)
	far.Sample(time.Second)
	if wait, _ := far.Current(); wait != 2*time.Second {
		t.Errorf("the wait never exceeds the timeout: %v", wait)
	}
}
