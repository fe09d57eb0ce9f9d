package ping

import (
	"context"
	"math"
	"net/netip"
	"testing"
	"time"
)

func manyTargets(n int) []Target {
	out := make([]Target, n)
	a := netip.MustParseAddr("198.18.128.1")
	for i := range out {
		out[i] = Target{Name: a.String(), Addr: a}
		a = a.Next()
	}
	return out
}

// TestRateStretchesTheRound: 3,000 targets at the default 1,000 requests
// per second do not fit into a 1 s round: the requests go exactly 1 ms
// apart, and the second round starts after the first, 3 s in.
func TestRateStretchesTheRound(t *testing.T) {
	w := newWorld(t, SocketRaw)
	w.respond(answer(ms1))
	cfg := cfgWith(2, time.Second)
	if got := cfg.Round(3000); got != 3*time.Second {
		t.Fatalf("Round(3000) = %v, want 3s", got)
	}
	rep := w.run(context.Background(), cfg, manyTargets(3000)...)
	sent := w.conns[0].sent
	if len(sent) != 6000 || !rep.Healthy() {
		t.Fatalf("%d requests, healthy %v", len(sent), rep.Healthy())
	}
	for i, r := range sent {
		if d := r.at.Sub(sent[0].at); d != time.Duration(i)*ms1 {
			t.Fatalf("request %d at %v, want %v", i, d, time.Duration(i)*ms1)
		}
	}
	if rep.Elapsed != 5999*ms1+ms1 {
		t.Fatalf("elapsed %v", rep.Elapsed)
	}
}

// TestRateKeepsFewTargetsOnTheirInterval: a round that fits into the
// interval at the rate keeps the classic spacing.
func TestRateKeepsFewTargetsOnTheirInterval(t *testing.T) {
	for _, c := range []struct {
		targets   int
		interval  time.Duration
		rate      float64
		gap, want time.Duration
	}{
		{1, time.Second, DefaultRate, maxGap, time.Second},
		{10, time.Second, DefaultRate, maxGap, time.Second},
		{1000, time.Second, DefaultRate, ms1, time.Second},
		{1000, time.Second, 10000, ms1, time.Second},        // the interval spreads them wider than the rate
		{65534, time.Second, DefaultRate, ms1, 65534 * ms1}, // a /16
		{65534, time.Second, 20000, 50 * time.Microsecond, 65534 * 50 * time.Microsecond},
		{4, 200 * ms1, 2, 500 * ms1, 2 * time.Second}, // two per second
		{10, time.Second, 1e-30, maxSpan, maxSpan},    // saturates, does not overflow
	} {
		s := newSchedule(c.interval, c.rate, c.targets)
		if s.gap != c.gap || s.round != c.want {
			t.Errorf("%d targets, %v, %g/s: gap %v round %v, want %v and %v", c.targets, c.interval, c.rate, s.gap, s.round, c.gap, c.want)
		}
	}
}

// TestRateLimitsTheCatchUp: after the local stack had no buffer for 50 ms,
// the overdue requests do not all go at once: two go together (the
// limiter's 1 ms of burst at 1,000 per second), then one per millisecond.
func TestRateLimitsTheCatchUp(t *testing.T) {
	w := newWorld(t, SocketRaw)
	refusals := 0
	w.conns[0].sendErr = func(netip.Addr) error {
		if len(w.conns[0].sent) == 1 && refusals < 5 {
			refusals++
			return errBusy
		}
		return nil
	}
	w.respond(answer(ms1))
	rep := w.run(context.Background(), cfgWith(1, 100*ms1), manyTargets(100)...)
	sent := w.conns[0].sent
	if len(sent) != 100 || !rep.Healthy() {
		t.Fatalf("%d requests, healthy %v", len(sent), rep.Healthy())
	}
	start := sent[0].at
	for i, r := range sent {
		want := time.Duration(49+i) * ms1
		switch i {
		case 0:
			want = 0
		case 1:
			want = 51 * ms1
		}
		if d := r.at.Sub(start); d != want {
			t.Fatalf("request %d at %v, want %v", i, d, want)
		}
	}
}

// TestSequenceNumbersNeverWrapOntoARememberedProbe sends faster than
// 65,536 requests per timeout plus linger. The 65,537th request needs
// the first one's sequence number and waits until that probe is
// forgotten (1 s timeout + 3 s linger), so that a slow reply to the first
// probe is late, not a corrupt reply to the new one. A reply slower still
// finds its number taken by a newer probe: its earlier send time shows it
// is late as well.
func TestSequenceNumbersNeverWrapOntoARememberedProbe(t *testing.T) {
	w := newWorld(t, SocketRaw)
	w.respond(func(c *fakeConn, r sentRequest) {
		switch len(c.sent) {
		case 1:
			c.reply(r, 3500*ms1, replyOpts{}) // within timeout + linger
		case 2:
			c.reply(r, 4500*ms1, replyOpts{}) // after its number came round
		}
	})
	cfg := cfgWith(70000, 10*time.Microsecond)
	cfg.Timeout, cfg.Rate = time.Second, 1e6
	rep := w.run(context.Background(), cfg, target("198.18.1.10"))
	sent := w.conns[0].sent
	if len(sent) != 70000 {
		t.Fatalf("%d requests", len(sent))
	}
	start := sent[0].at
	if sent[65535].seq != 0 || sent[65536].seq != 1 || sent[65537].seq != 2 {
		t.Fatalf("sequence numbers %d %d %d", sent[65535].seq, sent[65536].seq, sent[65537].seq)
	}
	if d := sent[65536].at.Sub(start); d != 4*time.Second {
		t.Fatalf("request 65537 went at %v, want 4s, when the first probe is forgotten", d)
	}
	if d := sent[65537].at.Sub(start); d != 4*time.Second+10*time.Microsecond {
		t.Fatalf("request 65538 went at %v", d)
	}
	var late []Event
	for _, e := range w.events {
		switch e.Kind {
		case EventLate:
			late = append(late, e)
		case EventCorrupt, EventReply, EventDuplicate:
			t.Fatalf("event %+v", e)
		}
	}
	if len(late) != 2 || late[0].Seq != 1 || late[0].RTT != 3500*ms1 || late[1].Seq != 0 || late[1].RTT != 4500*ms1 {
		t.Fatalf("late replies %+v", late)
	}
	if st := rep.Results[0].Stats; st.Late != 2 || st.Corrupt != 0 || st.Transmitted != 70000 {
		t.Fatalf("stats %+v", st)
	}
}

func TestInvalidRate(t *testing.T) {
	for _, r := range []float64{-1, math.NaN(), math.Inf(1)} {
		cfg := DefaultConfig()
		cfg.Rate = r
		if err := cfg.Validate([]Target{target("198.18.1.10")}); err == nil {
			t.Errorf("rate %g accepted", r)
		}
	}
}
