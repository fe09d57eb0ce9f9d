package diagnose

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/handshake"
	"github.com/netdiag/netdiag/pkg/ping"
	"github.com/netdiag/netdiag/pkg/route"
	"github.com/netdiag/netdiag/pkg/tlsprobe"
)

// pingInterval spaces diagnose's echo requests. They are ping's (count,
// size, timeout), but 0.2 s apart, the shortest interval iputils allows
// an unprivileged user, rather than 1 s: a host that never answers then
// costs 2.6 s, not 5 s, and one lost echo still does not decide.
const pingInterval = 200 * time.Millisecond

// familyRun diagnoses one address family, step by step.
type familyRun struct {
	o    *Options
	host string
	rep  *FamilyReport

	pingErr *ping.Event // the first ICMP error or local error of the echo step
	noPing  bool        // no echo could be sent: no ICMP socket, or this machine refused
}

func (r *familyRun) ctx() sentenceContext {
	return sentenceContext{host: r.host, addr: r.rep.Addr, port: r.o.Port, noPing: r.noPing, route: r.rep.Route, path: r.rep.Path}
}

// failAt records a failed step and ends the family's diagnosis there.
func (r *familyRun) failAt(s Step, f *failure.Failure) {
	s.OK, s.Failure = false, f
	r.rep.add(s)
	r.rep.fail(f, explain(f, r.ctx()))
}

// localPingError reports whether this machine refused to send the echo
// (its own firewall, a broadcast address): the packets never left.
func (r *familyRun) localPingError() bool {
	return r.pingErr != nil && r.pingErr.Kind == ping.EventLocalError
}

// run climbs the layers and stops at the first that fails. The error is
// for what prevents the diagnosis (a local error, ctx ending), not for
// the target's failures, which go into the report.
func (r *familyRun) run(ctx context.Context) error {
	rep := r.rep
	rep.Verdict = Healthy

	// Route and link.
	start := time.Now()
	rt, err := route.Lookup(rep.Addr)
	step := Step{Layer: failure.LayerNetwork, Check: "route", Elapsed: time.Since(start)}
	if err != nil {
		var f *failure.Failure
		if !errors.As(err, &f) {
			return err
		}
		step.Layer, step.Detail = f.Layer, f.Reason.Sentence()
		step.Evidence = []string{f.Detail}
		r.failAt(step, f)
		return nil
	}
	rep.Route = rt
	step.Detail, step.Evidence = routeDetail(rt), []string{"ip route get " + rep.Addr.String() + ": " + routeDetail(rt)}
	if !rt.LinkUp {
		step.Layer = failure.LayerLink
		r.failAt(step, failure.New(failure.LinkDown, "interface "+rt.Interface+" is down"))
		return nil
	}
	step.OK = true
	rep.add(step)

	// Network and transport: the echo and the TCP handshake go out
	// together, since each is judged in the light of the other. The echo
	// (or the SYN) makes the kernel resolve the next hop if it has not
	// yet, so the neighbour entry is read after the echo.
	tcp := r.startConnect(ctx)
	defer tcp.stop()
	pingStep, err := r.ping(ctx)
	if err != nil {
		return err
	}
	outcome := classifyPing(rep.Ping)
	if outcome == pingICMP && r.localPingError() {
		// The echo never left: it says nothing about the network, and
		// the handshake decides as if there were no ping.
		outcome, r.noPing = pingRefused, true
	}
	nstart := time.Now()
	neigh, err := route.LookupNeighbor(rt)
	if err != nil {
		return err
	}
	nElapsed := time.Since(nstart)
	rep.Neighbor = neigh
	if done := r.neighbor(neigh, nElapsed, outcome, pingStep); done {
		return nil
	}
	if pingStep != nil {
		rep.add(*pingStep)
	}
	if outcome == pingICMP || outcome == pingSilent {
		if err := r.path(ctx); err != nil {
			return err
		}
	}

	// Then TLS and the application.
	if err := r.connect(ctx, outcome, tcp); err != nil {
		return err
	}
	if rep.Verdict == Failed {
		r.silentNextHop()
		return nil
	}
	if r.o.TLS {
		r.tls(ctx)
	} else if r.o.HTTP {
		r.http(ctx)
	}
	switch {
	case rep.Verdict == Healthy:
		rep.Summary = r.healthySummary(outcome)
	case outcome == pingICMP || outcome == pingSilent:
		rep.Notes = append(rep.Notes, fmt.Sprintf("ICMP is filtered, not an outage: ping gets no answer, but port %d connects", r.o.Port))
	}
	return nil
}

// pendingConnect is the TCP handshake, made while the echo step runs.
type pendingConnect struct {
	cancel  context.CancelFunc
	done    chan struct{}
	res     handshake.Result
	elapsed time.Duration
	err     error
}

// startConnect starts the TCP handshake to the family's address.
func (r *familyRun) startConnect(ctx context.Context) *pendingConnect {
	ctx, cancel := context.WithCancel(ctx)
	pc := &pendingConnect{cancel: cancel, done: make(chan struct{})}
	target := handshake.Target{Name: r.host, Addr: r.rep.Addr, Port: r.o.Port}
	timeout := r.o.Timeout
	go func() {
		defer close(pc.done)
		prober := handshake.NewConnectProber(handshake.ConnectOptions{Timeout: timeout})
		defer prober.Close()
		start := time.Now()
		pc.res, pc.err = prober.Probe(ctx, target, 0)
		pc.elapsed = time.Since(start)
	}()
	return pc
}

// wait returns the handshake's outcome once it is known.
func (pc *pendingConnect) wait() (handshake.Result, time.Duration, error) {
	<-pc.done
	return pc.res, pc.elapsed, pc.err
}

// stop abandons the handshake, if it still runs, and waits for its end.
func (pc *pendingConnect) stop() {
	pc.cancel()
	<-pc.done
}

func routeDetail(r *route.Route) string {
	var b strings.Builder
	switch {
	case r.Local:
		b.WriteString("local address")
	case r.Gateway.IsValid():
		b.WriteString("via " + r.Gateway.String())
	default:
		b.WriteString("on-link")
	}
	if r.Interface != "" {
		b.WriteString(" dev " + r.Interface)
	}
	if r.Src.IsValid() {
		b.WriteString(" src " + r.Src.String())
	}
	return b.String()
}

// neighbor adds the neighbour step and reports whether it ended the
// diagnosis: the next hop's entry failed, or the kernel reported a failed
// resolution to the echo.
func (r *familyRun) neighbor(st route.NeighborState, elapsed time.Duration, outcome pingOutcome, pingStep *Step) bool {
	rep := r.rep
	hop := rep.Route.NextHop()
	proto := neighborProto(hop)
	step := Step{Layer: failure.LayerLink, Check: "neighbor", Elapsed: elapsed,
		Evidence: []string{fmt.Sprintf("%s entry of %s: %s", proto, hop, st)}}
	// This machine reports its own failed ARP or neighbour discovery as
	// host unreachable from its own address; ping calls that
	// neighbor-unresolved.
	localErr := r.pingErr != nil && r.pingErr.Failure != nil &&
		(r.pingErr.Failure.Reason == failure.NeighborUnresolved || r.pingErr.Failure.Reason == failure.HostUnreachable) &&
		isLocal(r.pingErr.Failure.From, rep.Route)
	unresolved := st.Unresolved()
	// A failed entry counts only as fresh evidence, after an echo that
	// got no reply; without the echo the handshake tells.
	if (outcome == pingICMP || outcome == pingSilent) && (unresolved || localErr) {
		if localErr {
			step.Evidence = append(step.Evidence, "this machine reported "+hop.String()+" unreachable ("+r.pingErr.Message+") to its own echo request")
		}
		step.Detail = fmt.Sprintf("%s gets no %s answer", hop, proto)
		f := failure.New(failure.NeighborUnresolved, fmt.Sprintf("%s %s on %s", proto, st, rep.Route.Interface))
		r.failAt(step, f)
		if pingStep != nil {
			rep.add(*pingStep)
		}
		return true
	}
	step.OK = true
	switch {
	case rep.Route.Local:
		step.Detail = "local address: no link-layer resolution"
	case st.Resolved():
		step.Detail = fmt.Sprintf("%s %s", hop, st)
	default:
		step.Detail = fmt.Sprintf("%s: no entry yet", hop)
	}
	rep.add(step)
	return false
}

// ping sends echo requests as ping does by default (4 of 56 bytes, each
// awaited for the timeout), pingInterval apart, and stops at the first
// reply, or at the first ICMP error, which says all there is to say. A
// missing ICMP socket permission skips the step with a note. The step is
// returned, not added, because the neighbour step goes before it.
func (r *familyRun) ping(ctx context.Context) (*Step, error) {
	rep := r.rep
	cfg := ping.DefaultConfig()
	cfg.Timeout = r.o.Timeout
	cfg.Interval = pingInterval
	cfg.UntilUp = true
	cfg.Socket = r.o.PingSocket
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cfg.OnEvent = func(e ping.Event) {
		if (e.Kind == ping.EventICMPError || e.Kind == ping.EventLocalError) && r.pingErr == nil {
			ev := e
			r.pingErr = &ev
			cancel()
		}
	}
	start := time.Now()
	report, err := ping.Run(pctx, []ping.Target{{Name: r.host, Addr: rep.Addr}}, cfg)
	elapsed := time.Since(start)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		var fe *failure.Error
		if errors.As(err, &fe) && fe.Kind == failure.KindLocal {
			r.noPing = true
			rep.Notes = append(rep.Notes, "ping skipped: "+strings.TrimPrefix(fe.Msg, "ping: "))
			return nil, nil
		}
		return nil, err
	}
	res := report.Results[0]
	rep.Ping = &res
	st := res.Stats
	step := Step{Layer: failure.LayerNetwork, Check: "ping", Elapsed: elapsed,
		Evidence: []string{fmt.Sprintf("%d sent, %d received, %s", st.Transmitted, st.Received, plural(st.Errors, "ICMP error"))}}
	switch classifyPing(&res) {
	case pingOK:
		step.OK = true
		step.Detail = fmt.Sprintf("reply from %s in %s", rep.Addr, fmtMs(st.Min))
		if lost := st.Transmitted - st.Received; lost > 0 {
			step.Detail += fmt.Sprintf(" (%d of %d lost first)", lost, st.Transmitted)
		}
	case pingICMP:
		step.Failure = res.Failure
		step.Detail = "no reply: " + errorText(r.pingErr, res.Failure)
	default:
		step.Failure = res.Failure
		step.Detail = fmt.Sprintf("no reply to %s, and no ICMP error", plural(st.Transmitted, "echo request"))
	}
	if e := r.pingErr; e != nil && e.Failure != nil {
		step.Evidence = append(step.Evidence, icmpEvidence(e))
	}
	return &step, nil
}

// plural says "1 echo request", "4 echo requests".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

func errorText(e *ping.Event, f *failure.Failure) string {
	if e != nil && e.Kind == ping.EventLocalError && e.Failure != nil {
		return e.Failure.Detail
	}
	if e != nil && e.Message != "" {
		if e.From.IsValid() {
			return e.From.String() + " answers " + e.Message
		}
		return e.Message
	}
	if f != nil {
		return f.Reason.Sentence()
	}
	return "no answer"
}

func icmpEvidence(e *ping.Event) string {
	if e.Kind == ping.EventLocalError {
		return "echo request " + e.Failure.Detail
	}
	v := ""
	if e.Target.Addr.Is6() {
		v = "v6"
	}
	s := fmt.Sprintf("ICMP%s type %d code %d", v, e.ICMPType, e.ICMPCode)
	if e.From.IsValid() {
		s += " from " + e.From.String()
	}
	s += ": " + e.Message
	if e.MTU > 0 {
		s += fmt.Sprintf(", next-hop MTU %d", e.MTU)
	}
	return s
}

// path runs the TTL-limited path probe after a failed echo.
func (r *familyRun) path(ctx context.Context) error {
	p, err := ProbePath(ctx, r.rep.Addr, PathOptions{MaxHops: r.o.MaxHops, Timeout: r.o.Timeout, Socket: r.o.PingSocket})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var fe *failure.Error
		if errors.As(err, &fe) && fe.Kind == failure.KindLocal {
			r.rep.Notes = append(r.rep.Notes, "path probe skipped: "+strings.TrimPrefix(fe.Msg, "ping: "))
			return nil
		}
		return err
	}
	r.rep.Path = p
	step := Step{Layer: failure.LayerNetwork, Check: "path", OK: p.Reached(), Elapsed: p.Elapsed, Detail: p.Describe()}
	for _, h := range p.Hops {
		step.Evidence = append(step.Evidence, h.String())
	}
	if !step.OK {
		end, ended := p.End()
		loop := p.Loop()
		switch {
		case ended:
			step.Failure = end.Failure
		case loop != nil:
			step.Failure = &failure.Failure{Layer: failure.LayerNetwork, Reason: failure.TTLExceeded, Detail: p.Describe(), From: loop[0].String()}
		default:
			step.Failure = failure.New(failure.Timeout, p.Describe()).At(failure.LayerNetwork)
		}
	}
	// Routers limit their ICMP errors: one that has just answered the
	// echo may have nothing left for the path probe.
	if e := r.pingErr; e != nil && e.From.IsValid() && !p.Answered() {
		step.Detail = fmt.Sprintf("no hop answers, although %s answered the echo request just before: it limits its ICMP errors", e.From)
	}
	r.rep.add(step)
	return nil
}

// connect takes the TCP handshake's outcome and, when the port did not
// open, decides the family's failure from it and the echo.
func (r *familyRun) connect(ctx context.Context, outcome pingOutcome, tcp *pendingConnect) error {
	rep := r.rep
	res, elapsed, err := tcp.wait()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	rep.TCP = &res
	step := Step{Layer: failure.LayerTransport, Check: "connect", Elapsed: elapsed, Detail: fmt.Sprintf("port %d %s", r.o.Port, res.State)}
	step.Evidence = tcpEvidence(&res, r.o.Timeout)
	if res.State == handshake.Open {
		step.OK = true
		step.Detail += " in " + fmtMs(res.RTT)
		rep.add(step)
		return nil
	}
	if res.Reason() == failure.Timeout {
		// Not handshake's "or the host is down": the echo may have
		// shown it is up.
		step.Detail += ": the SYN gets no answer"
	} else {
		step.Detail += ": " + res.Explain()
	}
	step.Failure = res.Failure
	if res.State == handshake.Closed && (outcome == pingICMP || outcome == pingSilent) {
		rep.Notes = append(rep.Notes, "ping gets no answer although the host is up: ICMP is filtered")
	}
	// Without the echo, the handshake is what made the kernel resolve
	// the next hop: its failure is the link layer's, and the neighbour
	// step is judged again.
	if (outcome == pingSkipped || outcome == pingRefused) && res.Reason() == failure.NeighborUnresolved {
		f := res.Failure.At(failure.LayerLink)
		r.neighborFailedLate(f)
		rep.add(step)
		rep.fail(f, explain(f, r.ctx()))
		return nil
	}
	f := chooseFailure(outcome, pingFailure(rep.Ping), &res)
	rep.add(step)
	rep.fail(f, explain(f, r.ctx()))
	return nil
}

// neighborFailedLate marks the neighbour step failed with f, after the
// TCP handshake found the next hop unresolved, and records the entry's
// state as it is now.
func (r *familyRun) neighborFailedLate(f *failure.Failure) {
	rep := r.rep
	for i := range rep.Steps {
		s := &rep.Steps[i]
		if s.Check != "neighbor" {
			continue
		}
		hop := rep.Route.NextHop()
		s.OK, s.Failure = false, f
		s.Detail = fmt.Sprintf("%s gets no %s answer", hop, neighborProto(hop))
		if st, err := route.LookupNeighbor(rep.Route); err == nil {
			rep.Neighbor = st
			s.Evidence = append(s.Evidence, fmt.Sprintf("after the TCP handshake: %s", st))
		}
		s.Evidence = append(s.Evidence, "this machine reported "+hop.String()+" unreachable to its own SYN")
	}
}

// silentNextHop looks again at the next hop when nothing at all came
// back: no echo reply, no ICMP error, not even the first hop's answer to
// the path probe, and no answer to the SYN. The kernel has been trying
// the next hop's link-layer address all along; if it has given up, the
// next hop is down (link layer); if it is still unconfirmed, the verdict
// says so, since a dead gateway behind a stale ARP entry looks exactly
// like a firewall that drops everything.
func (r *familyRun) silentNextHop() {
	rep := r.rep
	f := rep.Failure
	if f == nil || f.Reason != failure.Timeout || f.Layer != failure.LayerNetwork ||
		rep.Path == nil || rep.Path.Answered() || rep.Route.Local {
		return
	}
	st, err := route.LookupNeighbor(rep.Route)
	if err != nil {
		return
	}
	rep.Neighbor = st
	hop := rep.Route.NextHop()
	if st.Unresolved() {
		nf := failure.New(failure.NeighborUnresolved, fmt.Sprintf("%s %s on %s", neighborProto(hop), st, rep.Route.Interface))
		for i := range rep.Steps {
			if s := &rep.Steps[i]; s.Check == "neighbor" {
				s.OK, s.Failure = false, nf
				s.Detail = fmt.Sprintf("%s gets no %s answer", hop, neighborProto(hop))
				s.Evidence = append(s.Evidence, fmt.Sprintf("after the echo, the path probe and the SYN: %s", st))
			}
		}
		rep.fail(nf, explain(nf, r.ctx()))
		return
	}
	if !rep.Route.Gateway.IsValid() {
		return
	}
	s := fmt.Sprintf("nothing comes back, not even from the gateway %s (the path probe's first hop): it is down, or it drops everything", hop)
	switch st {
	case "DELAY", "PROBE", "STALE":
		s += fmt.Sprintf("; its %s entry is %s, unconfirmed", neighborProto(hop), st)
	}
	rep.Summary = s
}

func neighborProto(hop netip.Addr) string {
	if hop.Is6() {
		return "ND"
	}
	return "ARP"
}

func pingFailure(p *ping.Result) *failure.Failure {
	if p == nil {
		return nil
	}
	return p.Failure
}

func tcpEvidence(res *handshake.Result, timeout time.Duration) []string {
	var ev []string
	switch res.State {
	case handshake.Open:
		s := "SYN answered by SYN-ACK in " + fmtMs(res.RTT)
		if in := res.Info; in != nil {
			s += fmt.Sprintf(" (mss %d", in.MSS)
			if in.WScale >= 0 {
				s += fmt.Sprintf(", wscale %d", in.WScale)
			}
			if in.SACK {
				s += ", sack"
			}
			if in.Timestamps {
				s += ", ts"
			}
			s += ")"
		}
		ev = append(ev, s)
	case handshake.Closed:
		ev = append(ev, "SYN answered by RST in "+fmtMs(res.RTT))
	}
	if e := res.ICMP; e != nil {
		v := ""
		if e.V6 {
			v = "v6"
		}
		s := fmt.Sprintf("ICMP%s type %d code %d", v, e.Type, e.Code)
		if e.From.IsValid() {
			s += " from " + e.From.String()
		}
		ev = append(ev, s+" in answer to the SYN")
	} else if res.Reason() == failure.Timeout {
		ev = append(ev, "no SYN-ACK, no RST and no ICMP error within "+timeout.String())
	}
	if res.Failure != nil && res.ICMP == nil && res.Failure.Detail != "" && res.State != handshake.Closed && res.Reason() != failure.Timeout {
		ev = append(ev, res.Failure.Detail)
	}
	return ev
}

// tls runs tlsprobe's quick mode (and the HTTP request through it).
func (r *familyRun) tls(ctx context.Context) {
	rep := r.rep
	serverName := ""
	if _, err := netip.ParseAddr(r.host); err != nil {
		serverName = strings.TrimSuffix(r.host, ".")
	}
	start := time.Now()
	res := tlsprobe.Probe(ctx, r.host, netip.AddrPortFrom(rep.Addr, uint16(r.o.Port)), tlsprobe.Options{
		ServerName:  serverName,
		Roots:       r.o.Roots,
		StepTimeout: r.o.Timeout,
		Timeout:     10 * r.o.Timeout,
		Quick:       true,
		HTTP:        r.o.HTTP,
		HTTPPath:    r.o.HTTPPath,
	})
	elapsed := time.Since(start)
	rep.TLS = res
	step := Step{Layer: failure.LayerTLS, Check: "handshake", Elapsed: elapsed}
	if res.HTTP != nil {
		step.Elapsed -= res.HTTP.Elapsed
	}
	f := res.Failure
	if f != nil && f.Layer == failure.LayerApplication {
		// The HTTP verdict is the application step's to give.
		f = nil
	}
	if f == nil && (res.Chain == nil || !res.Chain.Verified) {
		f = failure.New(failure.CertUntrusted, "the certificate chain could not be verified")
		if res.Chain != nil && res.Chain.Failure != nil {
			f = res.Chain.Failure
		}
	}
	step.Evidence = tlsEvidence(res)
	if f != nil && f.Layer == failure.LayerTLS && f.Reason == failure.Timeout {
		// Say where the handshake stalled, in place of the socket's
		// error text.
		stall := tlsStall(res, r.o.Timeout)
		f = &failure.Failure{Layer: failure.LayerTLS, Reason: failure.Timeout, Detail: stall}
		step.Evidence = append(step.Evidence[:len(step.Evidence)-1], stall)
		step.Detail = stall
		r.failAt(step, f)
		return
	}
	if f != nil && f.Reason == failure.TLSAlert {
		// Say the alert by name, and why the server may have sent it,
		// in place of the reader's error text.
		f = &failure.Failure{Layer: f.Layer, Reason: f.Reason, Detail: alertDetail(res), From: f.From}
		step.Evidence = step.Evidence[:len(step.Evidence)-1]
	}
	if f != nil {
		step.Detail = f.Reason.Sentence()
		if f.Detail != "" {
			step.Detail += ": " + f.Detail
		}
		r.failAt(step, f)
		return
	}
	step.OK = true
	step.Detail = tlsDetail(res)
	rep.add(step)
	if r.o.HTTP {
		r.httpStep(httpFromTLS(res.HTTP))
	}
}

// tlsStall says where a TLS handshake that ran out of time stopped: the
// last message the server sent, or none at all.
func tlsStall(res *tlsprobe.Result, timeout time.Duration) string {
	last := ""
	for _, m := range res.Messages {
		if m.Dir == tlsprobe.Received {
			last = m.Type
		}
	}
	if last == "" {
		return "the ClientHello gets no answer within " + timeout.String()
	}
	return fmt.Sprintf("the handshake stops after the server's %s: nothing more within %s", last, timeout)
}

// alertDetail names the alert that ended a handshake and, when the server
// had asked for a client certificate, says that none was sent.
func alertDetail(res *tlsprobe.Result) string {
	s := "no alert name was read"
	for _, m := range res.Messages {
		if m.Alert != nil && m.Dir == tlsprobe.Received {
			s = m.Alert.String()
		}
	}
	if res.ClientCertRequested {
		s += ", after asking for a client certificate (diagnose sends none: the server requires one)"
	}
	return s
}

func tlsDetail(res *tlsprobe.Result) string {
	var parts []string
	switch {
	case res.ViaTLS13:
		parts = append(parts, "TLS 1.3 (the server refuses TLS 1.2)")
	case res.Version != 0:
		parts = append(parts, res.Version.String())
	}
	if c := res.Chain; c != nil && len(c.Certificates) > 0 {
		leaf := c.Certificates[0]
		s := "certificate verified"
		if c.Name != "" {
			s += " for " + c.Name
		}
		s += fmt.Sprintf(", %d days left", leaf.DaysLeft)
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func tlsEvidence(res *tlsprobe.Result) []string {
	var ev []string
	if res.Version != 0 {
		s := fmt.Sprintf("%s %s", res.Version, res.CipherSuite)
		if res.Handshake > 0 {
			s += ", handshake " + fmtMs(res.Handshake)
		}
		ev = append(ev, s)
	}
	if res.ClientCertRequested {
		s := "the server asks for a client certificate"
		if n := len(res.ClientCertCAs); n > 0 {
			s += " issued by " + strings.Join(res.ClientCertCAs[:min(n, 3)], "; ")
			if n > 3 {
				s += fmt.Sprintf(" (and %d more)", n-3)
			}
		}
		ev = append(ev, s)
	}
	for _, m := range res.Messages {
		if m.Alert != nil {
			ev = append(ev, fmt.Sprintf("alert %s (%s)", m.Alert, m.Dir))
		}
	}
	if c := res.Chain; c != nil {
		for i, ci := range c.Certificates {
			ev = append(ev, fmt.Sprintf("certificate %d: %s, issued by %s, valid %s to %s",
				i, ci.Subject, ci.Issuer, ci.NotBefore.UTC().Format(time.DateOnly), ci.NotAfter.UTC().Format(time.DateOnly)))
		}
		if c.MissingIssuer != "" {
			ev = append(ev, "missing issuer: "+c.MissingIssuer)
		}
	}
	if f := res.Failure; f != nil && f.Layer != failure.LayerApplication {
		ev = append(ev, string(f.Reason)+": "+f.Detail)
	}
	return ev
}

// http makes the plain-HTTP application check.
func (r *familyRun) http(ctx context.Context) {
	r.httpStep(plainHTTP(ctx, r.host, netip.AddrPortFrom(r.rep.Addr, uint16(r.o.Port)), r.o.HTTPPath, r.o.Timeout))
}

func (r *familyRun) httpStep(h *HTTPResult) {
	r.rep.HTTP = h
	step := Step{Layer: failure.LayerApplication, Check: "http", Elapsed: h.Elapsed}
	req := "HEAD " + r.o.HTTPPath
	if h.StatusLine != "" {
		step.Evidence = []string{req + " → " + h.StatusLine}
		if h.Server != "" {
			step.Evidence = append(step.Evidence, "Server: "+h.Server)
		}
	} else {
		step.Evidence = []string{req + " → " + h.Error}
	}
	if f := h.Failure(); f != nil {
		step.Detail = f.Reason.Sentence()
		switch {
		case f.Reason == failure.NotHTTP:
			step.Detail = "not HTTP: " + f.Detail
		case h.StatusLine != "":
			step.Detail = h.StatusLine
		}
		r.failAt(step, f)
		return
	}
	step.OK = true
	step.Detail = h.StatusLine
	r.rep.add(step)
}

// healthySummary says what works, in one sentence.
func (r *familyRun) healthySummary(outcome pingOutcome) string {
	rep := r.rep
	var works []string
	if rep.TCP != nil {
		works = append(works, fmt.Sprintf("port %d connects in %s", r.o.Port, fmtMs(rep.TCP.RTT)))
	}
	if rep.TLS != nil {
		works = append(works, "TLS works with a valid certificate")
	}
	if h := rep.HTTP; h != nil {
		_, status, _ := strings.Cut(h.StatusLine, " ")
		works = append(works, "HEAD "+r.o.HTTPPath+" answers "+status)
	}
	s := strings.Join(works, ", ")
	switch {
	case outcome == pingRefused:
		return "this machine's own firewall refuses to send ICMP echo, but " + s
	case outcome == pingICMP || outcome == pingSilent:
		return "ICMP is filtered, not an outage: ping gets no answer, but " + s
	case outcome == pingSkipped:
		return s + " (ping not possible here)"
	}
	return s
}

func fmtMs(d time.Duration) string {
	ms := float64(d) / 1e6
	switch {
	case ms < 10:
		return fmt.Sprintf("%.3f ms", ms)
	case ms < 100:
		return fmt.Sprintf("%.2f ms", ms)
	}
	return fmt.Sprintf("%.1f ms", ms)
}
