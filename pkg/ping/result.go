package ping

import (
	"fmt"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
)

// result judges one target: healthy when a good reply came and every
// limit held; otherwise a Failure in the shared vocabulary and a
// diagnosis in plain words.
func (s *session) result(t *targetState) Result {
	st := t.stats
	t.rtt.fill(&st)
	r := Result{Target: t.Target, Stats: st}
	lim := s.cfg.Limits
	switch {
	case st.Received == 0:
		r.Failure, r.Diagnosis = s.silence(t, st)
	case lim.LimitLoss && st.LossPct() > lim.MaxLoss:
		r.Failure = failure.New(failure.PacketLoss, fmt.Sprintf("%s loss, more than the %g%% allowed", pct(st.LossPct()), lim.MaxLoss))
		r.Diagnosis = fmt.Sprintf("%d of %d probes lost (%s), more than the %g%% allowed: %s",
			st.Transmitted-st.Received, st.Transmitted, pct(st.LossPct()), lim.MaxLoss, failure.PacketLoss.Sentence())
		if top := t.errs.top(); top != nil {
			r.Diagnosis += "; the errors say: " + top.Explain()
		}
	case lim.MaxAvgRTT > 0 && st.Avg > lim.MaxAvgRTT:
		r.Failure = failure.New(failure.Threshold, fmt.Sprintf("average round-trip time %s, more than the %s allowed", ms(st.Avg), ms(lim.MaxAvgRTT))).At(failure.LayerNetwork)
		r.Diagnosis = fmt.Sprintf("the average round-trip time of %s is above the %s allowed: a slow or congested path, or a busy host",
			ms(st.Avg), ms(lim.MaxAvgRTT))
	default:
		r.Healthy = true
	}
	return r
}

// silence explains a target that sent no good reply, from what did come.
func (s *session) silence(t *targetState, st Stats) (*failure.Failure, string) {
	switch {
	case st.Transmitted == 0:
		f := failure.New(failure.Timeout, "no probe was sent before the run ended").At(failure.LayerNetwork)
		return f, "no probe was sent before the run ended"
	case st.Errors > 0:
		f := t.errs.top()
		return f, "no replies: " + f.Explain()
	case st.Corrupt > 0:
		f := failure.New(failure.Corrupt, fmt.Sprintf("%d corrupt replies", st.Corrupt))
		return f, "every reply arrived damaged: " + failure.Corrupt.Sentence() + "; likely at fault: " + failure.Corrupt.Device()
	case st.Late > 0:
		f := failure.New(failure.Timeout, fmt.Sprintf("replies come only after the %s timeout", s.cfg.Timeout)).At(failure.LayerNetwork)
		return f, fmt.Sprintf("replies come, but only after the %s timeout (the slowest after %s): a very slow path or host; raise -W to count them",
			s.cfg.Timeout, ms(st.SlowestLate))
	}
	if f := s.neighborUnresolved(t); f != nil {
		return f, "no replies: the requests never left this machine: " + f.Explain()
	}
	f := failure.New(failure.Timeout, "no replies and no ICMP errors").At(failure.LayerNetwork)
	return f, "no replies and no ICMP errors: packets are dropped silently on the way — a firewall or filtering router, or the host is down; if `netdiag tcpprobe` connects, only ICMP is blocked"
}

// neighborUnresolved looks, for a target that got no answer at all, at
// the next hop's neighbour entry. With the kernel's default timers, ARP
// and neighbour discovery give up after 3 s, later than the default
// timeout, and only then report "host unreachable" from this machine: a
// short run ends first, and without this look its silence would read as
// a firewall's drop. nil when the next hop is resolved or cannot be asked
// about.
func (s *session) neighborUnresolved(t *targetState) *failure.Failure {
	if s.cfg.unresolved == nil {
		return nil
	}
	hop, ok, err := s.cfg.unresolved(t.Addr)
	if err != nil || !ok {
		return nil
	}
	proto := "ARP"
	if hop.Is6() {
		proto = "neighbour discovery"
	}
	return failure.New(failure.NeighborUnresolved, fmt.Sprintf("no %s answer from %s within the %s timeout", proto, hop, s.cfg.Timeout))
}

func pct(v float64) string { return fmt.Sprintf("%.3g%%", v) }

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/1e6) }
