package handshake

import (
	"context"
	"errors"
	"math"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
)

// fakeClock advances only when slept on, so schedules are tested without
// waiting.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

// scriptedProber answers from a function and records what it was asked.
type scriptedProber struct {
	clock    *fakeClock
	answer   func(t Target, seq int) (Result, error)
	mu       sync.Mutex
	starts   []time.Time
	inFlight atomic.Int32
	maxSeen  atomic.Int32
	delay    time.Duration
}

func (p *scriptedProber) Probe(ctx context.Context, t Target, seq int) (Result, error) {
	n := p.inFlight.Add(1)
	defer p.inFlight.Add(-1)
	for {
		m := p.maxSeen.Load()
		if n <= m || p.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	if p.clock != nil {
		p.mu.Lock()
		p.starts = append(p.starts, p.clock.Now())
		p.mu.Unlock()
	}
	if p.delay > 0 {
		select {
		case <-time.After(p.delay):
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
	}
	return p.answer(t, seq)
}

func (p *scriptedProber) Close() error { return nil }

func targetsOn(ports ...int) []Target {
	var out []Target
	for _, port := range ports {
		out = append(out, Target{Name: "198.18.1.10", Addr: netip.MustParseAddr("198.18.1.10"), Port: port})
	}
	return out
}

func openOrClosed(t Target, seq int) (Result, error) {
	r := Result{Target: t, Seq: seq, State: Open, RTT: time.Duration(t.Port) * time.Microsecond}
	if t.Port%2 == 1 {
		r.failed(failure.Reset, "")
	}
	return r, nil
}

func TestScanEmitsInOrderWithParallelism(t *testing.T) {
	p := &scriptedProber{answer: openOrClosed, delay: time.Millisecond}
	targets := targetsOn(10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21)
	var got []Result
	err := Scan(context.Background(), p, targets, Schedule{Count: 2, Parallel: 4, Clock: newFakeClock()}, func(r Result) { got = append(got, r) })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2*len(targets) {
		t.Fatalf("%d results, want %d", len(got), 2*len(targets))
	}
	for i, r := range got {
		round, idx := i/len(targets), i%len(targets)
		if r.Seq != round || r.Target != targets[idx] {
			t.Fatalf("result %d is seq %d %v, want seq %d %v", i, r.Seq, r.Target, round, targets[idx])
		}
	}
	if m := p.maxSeen.Load(); m > 4 || m < 2 {
		t.Errorf("max probes in flight %d, want 2..4", m)
	}
}

func TestScanIntervalAndRate(t *testing.T) {
	clock := newFakeClock()
	start := clock.Now()
	p := &scriptedProber{clock: clock, answer: openOrClosed}
	err := Scan(context.Background(), p, targetsOn(1, 2), Schedule{Count: 3, Interval: time.Second, Parallel: 1, Rate: 10, Clock: clock}, func(Result) {})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.starts) != 6 {
		t.Fatalf("%d probes", len(p.starts))
	}
	// Rounds start a second apart; within a round the rate spaces the
	// second probe 100 ms after the first (at 10/s an event is longer
	// than the 10 ms burst allowance, so there is no burst).
	want := []time.Duration{0, 100 * time.Millisecond, time.Second, 1100 * time.Millisecond, 2 * time.Second, 2100 * time.Millisecond}
	for i, s := range p.starts {
		if d := s.Sub(start); d != want[i] {
			t.Errorf("probe %d started at +%v, want +%v", i, d, want[i])
		}
	}
}

func TestPacer(t *testing.T) {
	for _, rate := range []float64{0, -1, math.NaN(), math.Inf(1), math.Inf(-1)} {
		if NewPacer(rate, nil) != nil {
			t.Fatalf("rate %v must give no pacer", rate)
		}
	}
	// A rate so low that one over it overflows a Duration paces at one a
	// day instead of waiting a negative or wrapped time.
	slow := newFakeClock()
	sp := NewPacer(1e-300, slow)
	for range 3 {
		sp.Wait(context.Background())
	}
	if d := slow.Now().Sub(time.Unix(1000, 0)); d != 2*maxPace {
		t.Errorf("three events at 1e-300/s took %v, want %v", d, 2*maxPace)
	}
	var nilPacer *Pacer
	if err := nilPacer.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	start := clock.Now()
	p := NewPacer(1000, clock) // 1 ms apart, 10 events of burst
	for range 100 {
		if err := p.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// 100 events at 1000/s: the first 10 (10 ms worth) go at once, the
	// other 90 one millisecond apart.
	if d := clock.Now().Sub(start); d != 90*time.Millisecond {
		t.Errorf("100 events took %v, want 90ms", d)
	}
	clock.Sleep(context.Background(), time.Second)
	before := clock.Now()
	for range 10 {
		p.Wait(context.Background())
	}
	if d := clock.Now().Sub(before); d != 0 {
		t.Errorf("after idle time, a burst of 10 waited %v", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait on a cancelled context: %v", err)
	}
}

func TestScanStopsOnProbeError(t *testing.T) {
	boom := failure.Localf(errors.New("EMFILE"), "no sockets left")
	p := &scriptedProber{answer: func(t Target, seq int) (Result, error) {
		if t.Port == 3 {
			return Result{}, boom
		}
		return openOrClosed(t, seq)
	}}
	var got []int
	err := Scan(context.Background(), p, targetsOn(1, 2, 3, 4, 5), Schedule{Count: 3, Parallel: 1}, func(r Result) { got = append(got, r.Target.Port) })
	if !errors.Is(err, boom) {
		t.Fatalf("err %v, want the probe's error", err)
	}
	if len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Errorf("emitted %v before the error, want [1 2]", got)
	}
}

func TestScanCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := &scriptedProber{answer: openOrClosed, delay: time.Hour}
	done := make(chan error)
	go func() { done <- Scan(ctx, p, targetsOn(1, 2, 3), Schedule{Parallel: 2}, func(Result) {}) }()
	time.Sleep(10 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Scan did not return after cancel")
	}
}

func TestStats(t *testing.T) {
	var s Stats
	for _, ms := range []int{1, 2, 3, 4} {
		s.Add(Result{State: Open, RTT: time.Duration(ms) * time.Millisecond})
	}
	var closed Result
	closed.failed(failure.Reset, "")
	s.Add(closed)
	var filtered Result
	filtered.failed(failure.Timeout, "")
	s.Add(filtered)
	var unreach Result
	unreach.failed(failure.HostUnreachable, "")
	s.Add(unreach)
	if s.Sent != 7 || s.Open != 4 || s.Closed != 1 || s.Filtered != 1 || s.Unreachable != 1 {
		t.Fatalf("counts %+v", s)
	}
	if s.RTTMin != time.Millisecond || s.RTTMax != 4*time.Millisecond || s.RTTAvg != 2500*time.Microsecond {
		t.Errorf("min/avg/max %v/%v/%v", s.RTTMin, s.RTTAvg, s.RTTMax)
	}
	// The population standard deviation of 1,2,3,4 ms is sqrt(1.25) ms.
	if s.RTTMDev != 1118034*time.Nanosecond {
		t.Errorf("mdev %v", s.RTTMDev)
	}
}
