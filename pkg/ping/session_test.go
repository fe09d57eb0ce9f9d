package ping

import (
	"net/netip"
	"testing"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
)

// drive runs a session by hand in the world until stop says so: the loop
// of Run without goroutines, for tests that inspect the session itself.
func drive(t *testing.T, w *world, s *session, stop func() bool) {
	t.Helper()
	for !stop() {
		now := w.Now()
		s.step(now)
		if s.finished(now) {
			return
		}
		w.runUntil(s.wake(now))
		for _, c := range w.conns {
			for len(c.rx) > 0 {
				p := <-c.rx
				p.readAt = w.Now()
				s.handle(p)
			}
		}
	}
}

func TestLongRunKeepsMemoryFlat(t *testing.T) {
	w := newWorld(t, SocketRaw)
	w.respond(func(c *fakeConn, r sentRequest) {
		c.reply(r, ms1, replyOpts{})
		c.sent = c.sent[:0] // the fake's own log is not the session's memory
	})
	w.conns[0].id = 77
	cfg := cfgWith(0, 10*ms1) // -c 0: forever
	cfg.Timeout = 100 * ms1
	cfg.clock = w.sim
	targets := []Target{target("198.18.1.10")}
	if err := cfg.prepare(targets); err != nil {
		t.Fatal(err)
	}
	s := newSession(cfg, targets, [2]conn{w.conns[0], nil}, w.Now(), token{1, 2, 3})
	const probes = 70000 // beyond 65536: the wire sequence numbers wrap
	tg := &s.targets[0]
	peak := 0
	drive(t, w, s, func() bool {
		peak = max(peak, len(s.pending[0]), s.waiting.len()+s.kept.len(), cap(s.waiting.items), cap(s.kept.items))
		return tg.stats.Transmitted >= probes
	})
	t.Logf("peak %d records, %+v", peak, tg.stats)
	// Probes live for timeout + linger (3.1 s) at 100 per second.
	if limit := 2 * 320; peak > limit {
		t.Fatalf("%d probe records held at the peak, want at most %d", peak, limit)
	}
	if tg.rtt.q.samples != nil || len(tg.rtt.q.hist) != numBuckets {
		t.Fatalf("percentiles must move to the bounded histogram: %d samples", len(tg.rtt.q.samples))
	}
	if tg.stats.Received < probes-1 || tg.stats.Duplicates != 0 || tg.stats.Late != 0 || tg.stats.Corrupt != 0 {
		t.Fatalf("stats after the wrap %+v", tg.stats)
	}
	st := s.result(tg).Stats
	if st.Avg != ms1 || st.P50 < ms1*99/100 || st.P50 > ms1*101/100 {
		t.Fatalf("rtt stats %+v", st)
	}
}

func TestErrorTallyIsBounded(t *testing.T) {
	var tally errorTally
	for i := range 100 {
		f := failureFrom(i)
		tally.add(f)
		tally.add(f)
	}
	if len(tally) != maxTally {
		t.Fatalf("%d entries", len(tally))
	}
	tally.add(failureFrom(5))
	if tally.top().From != failureFrom(5).From {
		t.Fatalf("top %+v", tally.top())
	}
}

func TestNextSendIsDriftFree(t *testing.T) {
	cfg := cfgWith(0, 200*ms1)
	s := newSession(cfg, []Target{target("198.18.1.10")}, [2]conn{}, time.Unix(0, 0), token{})
	s.round = 1_000_000
	if got := s.nextSend().Sub(time.Unix(0, 0)); got != 200_000*time.Second {
		t.Fatalf("round 1e6 at %v", got)
	}
}

func failureFrom(i int) *failure.Failure {
	f := failure.New(failure.HostUnreachable, "")
	f.From = netip.AddrFrom4([4]byte{198, 18, 0, byte(i)}).String()
	return f
}
