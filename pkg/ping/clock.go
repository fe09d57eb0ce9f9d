package ping

import "time"

// clock is where a run reads the time and gets its one timer. The real
// clock is the system's; tests substitute a simulated one so that timing
// logic runs without sleeping.
type clock interface {
	Now() time.Time
	NewTimer(d time.Duration) timer
}

// timer is the part of *time.Timer a run uses.
type timer interface {
	C() <-chan time.Time
	// Reset makes the timer fire d from now, discarding any earlier
	// expiry that was not received.
	Reset(d time.Duration)
	Stop()
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) NewTimer(d time.Duration) timer { return systemTimer{time.NewTimer(d)} }

type systemTimer struct{ t *time.Timer }

func (t systemTimer) C() <-chan time.Time { return t.t.C }

// Reset relies on Go 1.23 timer semantics: a reset timer never delivers
// a stale value.
func (t systemTimer) Reset(d time.Duration) { t.t.Reset(d) }

func (t systemTimer) Stop() { t.t.Stop() }
