package handshake

import (
	"context"
	"math"
	"sync"
	"time"
)

// Prober makes one probe. Probe blocks until the outcome is known or ctx
// ends. An error means the probe could not be made at all (no socket, no
// permission, ctx cancelled): it stops the scan. An answer that says the
// port is not open is a Result, not an error.
type Prober interface {
	Probe(ctx context.Context, t Target, seq int) (Result, error)
	Close() error
}

// Schedule says how many probes Scan makes and how fast.
type Schedule struct {
	// Count is the number of probes per target (at least 1).
	Count int
	// Interval separates the starts of two rounds: round n starts
	// Interval after round n-1 started, or when it ended if that is
	// later.
	Interval time.Duration
	// Parallel caps the probes in flight; 0 or less means one.
	Parallel int
	// Rate caps probe starts per second; 0 means no cap.
	Rate float64
	// Clock is the time source; nil means real time.
	Clock Clock
}

// Clock is the time source of Scan and Pacer, replaceable in tests.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx ends, returning ctx's error then.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Scan probes every target Count times. A round probes all targets, at
// most Parallel at a time; emit is called from Scan's goroutine with each
// result in a stable order — round by round, targets in the order given —
// as soon as the results before it are in. Scan returns the first error
// a probe returns, or ctx's error, after its probes have stopped.
func Scan(ctx context.Context, p Prober, targets []Target, s Schedule, emit func(Result)) error {
	clock := s.Clock
	if clock == nil {
		clock = realClock{}
	}
	count := max(s.Count, 1)
	parallel := min(max(s.Parallel, 1), max(len(targets), 1))
	pacer := NewPacer(s.Rate, clock)
	var roundStart time.Time
	for round := range count {
		if round > 0 {
			if wait := roundStart.Add(s.Interval).Sub(clock.Now()); wait > 0 {
				if err := clock.Sleep(ctx, wait); err != nil {
					return err
				}
			}
		}
		roundStart = clock.Now()
		if err := scanRound(ctx, p, targets, round, parallel, pacer, emit); err != nil {
			return err
		}
	}
	return nil
}

type indexed struct {
	i   int
	r   Result
	err error
}

func scanRound(ctx context.Context, p Prober, targets []Target, round, parallel int, pacer *Pacer, emit func(Result)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	out := make(chan indexed, parallel)
	var wg sync.WaitGroup
	for range parallel {
		wg.Go(func() {
			for i := range jobs {
				if err := pacer.Wait(ctx); err != nil {
					out <- indexed{i: i, err: err}
					continue
				}
				r, err := p.Probe(ctx, targets[i], round)
				out <- indexed{i, r, err}
			}
		})
	}
	go func() {
		defer close(jobs)
		for i := range targets {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(out)
	}()

	pending := make(map[int]Result)
	next := 0
	var firstErr error
	for x := range out {
		if x.err != nil {
			if firstErr == nil {
				firstErr = x.err
				cancel()
			}
			continue
		}
		if firstErr != nil {
			continue
		}
		pending[x.i] = x.r
		for {
			r, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			emit(r)
			next++
		}
	}
	if firstErr == nil && next < len(targets) {
		firstErr = ctx.Err()
	}
	return firstErr
}

// Pacer spaces events to a rate, allowing a burst of 10 ms worth of
// events (at least one) to absorb timer granularity. A nil Pacer or a
// rate of 0 never waits. It is safe for concurrent use.
type Pacer struct {
	clock Clock
	every time.Duration
	burst time.Duration
	mu    sync.Mutex
	next  time.Time
}

// maxPace is the longest gap a Pacer puts between two events, however
// low the rate: it keeps the arithmetic on times far from overflowing.
const maxPace = 24 * time.Hour

// NewPacer returns a Pacer for rate events per second on clock (nil
// means real time), or nil when rate is not a positive number or is
// infinite (no cap). A rate below one event a day paces at one a day.
func NewPacer(rate float64, clock Clock) *Pacer {
	if !(rate > 0) || math.IsInf(rate, 1) {
		return nil
	}
	if clock == nil {
		clock = realClock{}
	}
	every := maxPace
	if secs := 1 / rate; secs < maxPace.Seconds() {
		every = time.Duration(secs * float64(time.Second))
	}
	return &Pacer{clock: clock, every: every, burst: max(10*time.Millisecond, every) - every}
}

// Wait blocks until the next event may happen.
func (p *Pacer) Wait(ctx context.Context) error {
	if p == nil {
		return ctx.Err()
	}
	p.mu.Lock()
	now := p.clock.Now()
	slot := p.next
	if earliest := now.Add(-p.burst); slot.Before(earliest) {
		slot = earliest
	}
	p.next = slot.Add(p.every)
	p.mu.Unlock()
	if d := slot.Sub(now); d > 0 {
		return p.clock.Sleep(ctx, d)
	}
	return ctx.Err()
}
