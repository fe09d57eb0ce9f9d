package ping

import (
	"context"
	"errors"
	"math"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
)

const ms1 = time.Millisecond

func cfgWith(count int, interval time.Duration) Config {
	c := DefaultConfig()
	c.Count, c.Interval = count, interval
	return c
}

// answer replies to every request after delay.
func answer(delay time.Duration) func(*fakeConn, sentRequest) {
	return func(c *fakeConn, r sentRequest) { c.reply(r, delay, replyOpts{}) }
}

func wantKinds(t *testing.T, w *world, want ...string) {
	t.Helper()
	if got := w.kinds(); !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
}

func TestHealthyHost(t *testing.T) {
	w := newWorld(t, SocketRaw)
	w.respond(answer(ms1))
	rep := w.run(context.Background(), DefaultConfig(), target("198.18.1.10"))
	wantKinds(t, w, "reply 1", "reply 2", "reply 3", "reply 4")
	res := rep.Results[0]
	st := res.Stats
	if !res.Healthy || res.Failure != nil || res.Diagnosis != "" || !rep.Healthy() {
		t.Fatalf("not healthy: %+v", res)
	}
	if st.Transmitted != 4 || st.Received != 4 || st.LossPct() != 0 {
		t.Fatalf("stats %+v", st)
	}
	if st.Min != ms1 || st.Max != ms1 || st.Avg != ms1 || st.Mdev != 0 || st.P50 != ms1 || st.P95 != ms1 {
		t.Fatalf("rtt stats %+v", st)
	}
	if rep.Elapsed != 3*time.Second+ms1 {
		t.Fatalf("elapsed %v, want 3.001s: the run ends with the last reply", rep.Elapsed)
	}
	for _, e := range w.events {
		if e.TTL != 64 || e.Bytes != 64 || e.From != netip.MustParseAddr("198.18.1.10") || e.RTT != ms1 {
			t.Fatalf("event %+v", e)
		}
	}
	if rep.Sockets != [2]SocketKind{SocketRaw, SocketAuto} {
		t.Fatalf("sockets %v", rep.Sockets)
	}
	// Four requests, one identifier, sequence 1..4, 1 s apart.
	sent := w.conns[0].sent
	for i, r := range sent {
		if r.seq != uint16(i+1) || r.id != sent[0].id || r.at != sent[0].at.Add(time.Duration(i)*time.Second) || len(r.payload) != 56 {
			t.Fatalf("request %d: %+v", i, r)
		}
	}
}

func TestDroppedProbesEndAfterTheLastTimeout(t *testing.T) {
	w := newWorld(t, SocketRaw)
	rep := w.run(context.Background(), cfgWith(3, 200*ms1), target("198.18.1.10"))
	wantKinds(t, w, "timeout 1", "timeout 2", "timeout 3")
	if rep.Elapsed != 2400*ms1 {
		t.Fatalf("elapsed %v, want 2.4s (last probe at 0.4s + 2s timeout)", rep.Elapsed)
	}
	res := rep.Results[0]
	if res.Healthy || res.Failure.Reason != failure.Timeout || res.Stats.LossPct() != 100 {
		t.Fatalf("result %+v", res)
	}
	if !strings.Contains(res.Diagnosis, "no replies and no ICMP errors") || !strings.Contains(res.Diagnosis, "netdiag tcpprobe") {
		t.Fatalf("diagnosis %q", res.Diagnosis)
	}
}

// TestSilenceWithAnUnresolvedNextHop: a target that got no answer at all
// while the kernel was still resolving its next hop (ARP at the kernel's
// default pace outlasts the 2 s timeout) is neighbor-unresolved at the
// link layer, not a silent drop. Only targets without any answer are
// looked at.
func TestSilenceWithAnUnresolvedNextHop(t *testing.T) {
	onLink, behindGW, gw := netip.MustParseAddr("198.18.0.99"), netip.MustParseAddr("2001:db8:7::1"), netip.MustParseAddr("2001:db8::98")
	answered, dropped, refused := netip.MustParseAddr("198.18.1.10"), netip.MustParseAddr("198.18.1.11"), netip.MustParseAddr("198.18.1.12")
	w := newWorld(t, SocketRaw)
	w.unresolvedHops = map[netip.Addr]netip.Addr{onLink: onLink, behindGW: gw}
	w.respond(func(c *fakeConn, r sentRequest) {
		switch r.dst {
		case answered:
			c.reply(r, ms1, replyOpts{})
		case refused:
			c.icmpError(r, ms1, netip.MustParseAddr("198.18.0.1"), 3, 13)
		}
	})
	targets := []Target{target(onLink.String()), target(behindGW.String()), target(answered.String()), target(dropped.String()), target(refused.String())}
	rep := w.run(context.Background(), cfgWith(1, time.Second), targets...)
	if !slices.Equal(w.asked, []netip.Addr{onLink, behindGW, dropped}) {
		t.Fatalf("asked about %v, want only the silent targets", w.asked)
	}
	for i, want := range []struct {
		layer  failure.Layer
		reason failure.Reason
		text   string
	}{
		{failure.LayerLink, failure.NeighborUnresolved, "no replies: the requests never left this machine: the next hop does not answer ARP or neighbour discovery (no ARP answer from 198.18.0.99 within the 2s timeout)"},
		{failure.LayerLink, failure.NeighborUnresolved, "(no neighbour discovery answer from 2001:db8::98 within the 2s timeout)"},
		{"", "", ""},
		{failure.LayerNetwork, failure.Timeout, "no replies and no ICMP errors: packets are dropped silently"},
		{failure.LayerNetwork, failure.AdminProhibited, "no replies: a firewall rejects"},
	} {
		res := rep.Results[i]
		if want.reason == "" {
			if !res.Healthy {
				t.Errorf("%s: %+v", res.Target.Addr, res)
			}
			continue
		}
		if res.Healthy || res.Failure.Reason != want.reason || res.Failure.Layer != want.layer || !strings.Contains(res.Diagnosis, want.text) {
			t.Errorf("%s: failure %+v, diagnosis %q; want %s and %q", res.Target.Addr, res.Failure, res.Diagnosis, want.reason, want.text)
		}
	}
	// The timeouts themselves are reported as they happen, as before.
	if n := strings.Count(strings.Join(w.kinds(), ","), "timeout"); n != 3 {
		t.Fatalf("events %q", w.kinds())
	}
}

func TestKernelTimestampIsTheReceiveTime(t *testing.T) {
	w := newWorld(t, SocketRaw)
	// The reply is read 50 ms after the send, but the kernel stamped it
	// 3 ms before the read: the round trip is 47 ms.
	w.respond(func(c *fakeConn, r sentRequest) { c.reply(r, 50*ms1, replyOpts{queued: 3 * ms1}) })
	rep := w.run(context.Background(), cfgWith(1, time.Second), target("198.18.1.10"))
	if got := rep.Results[0].Stats.Avg; got != 47*ms1 {
		t.Fatalf("rtt %v, want 47ms", got)
	}
}

func TestRTTIgnoresImpossibleKernelStamp(t *testing.T) {
	sent := time.Unix(100, 0)
	p := &inbound{readAt: sent.Add(10 * ms1), kernelTS: sent.Add(-time.Hour)}
	if got := rttOf(sent, p); got != 10*ms1 {
		t.Fatalf("a stamp before the send (clock step) must be ignored: %v", got)
	}
	p.kernelTS = sent.Add(20 * ms1)
	if got := rttOf(sent, p); got != 10*ms1 {
		t.Fatalf("a stamp after the read must be ignored: %v", got)
	}
}

func TestDuplicates(t *testing.T) {
	w := newWorld(t, SocketRaw)
	w.respond(func(c *fakeConn, r sentRequest) {
		c.reply(r, ms1, replyOpts{})
		c.reply(r, 2*ms1, replyOpts{})
	})
	rep := w.run(context.Background(), cfgWith(3, time.Second), target("198.18.1.10"))
	// The run ends with the last probe's reply: it waits for no duplicate.
	wantKinds(t, w, "reply 1", "duplicate 1", "reply 2", "duplicate 2", "reply 3")
	st := rep.Results[0].Stats
	if st.Received != 3 || st.Duplicates != 2 || !rep.Results[0].Healthy || w.events[1].RTT != 2*ms1 {
		t.Fatalf("stats %+v, dup %+v", st, w.events[1])
	}
}

func TestCorruptReplies(t *testing.T) {
	cases := []struct {
		name string
		opts func(r sentRequest) replyOpts
		why  string
	}{
		{"checksum", func(sentRequest) replyOpts { return replyOpts{badSum: true} }, "bad checksum"},
		{"last byte", func(r sentRequest) replyOpts {
			p := slices.Clone(r.payload)
			p[len(p)-1] ^= 1
			return replyOpts{payload: p}
		}, "payload changed"},
		{"token byte", func(r sentRequest) replyOpts {
			p := slices.Clone(r.payload)
			p[0] ^= 0x80
			return replyOpts{payload: p}
		}, "payload changed"},
		{"send time", func(r sentRequest) replyOpts {
			p := slices.Clone(r.payload)
			p[12]++
			return replyOpts{payload: p}
		}, "payload changed"},
		{"zeroed", func(r sentRequest) replyOpts { return replyOpts{payload: make([]byte, len(r.payload))} }, "payload changed"},
		{"shortened", func(r sentRequest) replyOpts { return replyOpts{payload: r.payload[:20]} }, "payload of 20 bytes, 56 sent"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, SocketRaw)
			w.respond(func(fc *fakeConn, r sentRequest) { fc.reply(r, ms1, c.opts(r)) })
			rep := w.run(context.Background(), cfgWith(2, time.Second), target("198.18.1.10"))
			wantKinds(t, w, "corrupt 1", "corrupt 2", "timeout 1", "timeout 2")
			if w.events[0].Why != c.why {
				t.Fatalf("why %q, want %q", w.events[0].Why, c.why)
			}
			res := rep.Results[0]
			if res.Stats.Corrupt != 2 || res.Stats.Received != 0 || res.Healthy || res.Failure.Reason != failure.Corrupt {
				t.Fatalf("result %+v", res)
			}
			if !strings.Contains(res.Diagnosis, "damaged") {
				t.Fatalf("diagnosis %q", res.Diagnosis)
			}
		})
	}
}

func TestCorruptThenGoodReply(t *testing.T) {
	w := newWorld(t, SocketRaw)
	w.respond(func(c *fakeConn, r sentRequest) {
		c.reply(r, ms1, replyOpts{badSum: true})
		c.reply(r, 2*ms1, replyOpts{})
	})
	rep := w.run(context.Background(), cfgWith(1, time.Second), target("198.18.1.10"))
	wantKinds(t, w, "corrupt 1", "reply 1")
	if st := rep.Results[0].Stats; st.Received != 1 || st.Corrupt != 1 || st.Avg != 2*ms1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestOtherRunsRepliesAreIgnored(t *testing.T) {
	w := newWorld(t, SocketRaw)
	w.respond(func(c *fakeConn, r sentRequest) {
		// Another netdiag run that drew the same identifier: its own token.
		other := slices.Clone(r.payload)
		for i := range tokenLen {
			other[i] ^= 0x5a
		}
		c.reply(r, ms1, replyOpts{payload: other})
		// Another program's identifier (the raw socket's filter would
		// drop it; userspace checks again).
		c.reply(r, 2*ms1, replyOpts{id: r.id + 1})
		// A reply from a host we never probed, for a probe we never sent.
		c.reply(sentRequest{at: r.at, dst: netip.MustParseAddr("198.18.9.9"), id: r.id, seq: 999, payload: r.payload}, 3*ms1, replyOpts{})
	})
	rep := w.run(context.Background(), cfgWith(2, time.Second), target("198.18.1.10"))
	wantKinds(t, w, "timeout 1", "timeout 2")
	if st := rep.Results[0].Stats; st.Received != 0 || st.Corrupt != 0 || st.Duplicates != 0 || st.Late != 0 {
		t.Fatalf("crosstalk counted: %+v", st)
	}
}

func TestLateReplyLeavesTheProbeLost(t *testing.T) {
	w := newWorld(t, SocketRaw)
	w.respond(func(c *fakeConn, r sentRequest) {
		delay := ms1
		if r.seq == 1 {
			delay = 2500 * ms1
		}
		c.reply(r, delay, replyOpts{})
	})
	rep := w.run(context.Background(), cfgWith(4, time.Second), target("198.18.1.10"))
	wantKinds(t, w, "reply 2", "timeout 1", "reply 3", "late 1", "reply 4")
	st := rep.Results[0].Stats
	if st.Received != 3 || st.Late != 1 || st.LossPct() != 25 || st.SlowestLate != 2500*ms1 || w.events[3].RTT != 2500*ms1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRunDoesNotWaitForLateReplies(t *testing.T) {
	w := newWorld(t, SocketRaw)
	w.respond(answer(2500 * ms1))
	rep := w.run(context.Background(), cfgWith(1, time.Second), target("198.18.1.10"))
	wantKinds(t, w, "timeout 1")
	if rep.Elapsed != 2*time.Second {
		t.Fatalf("elapsed %v, want the 2s timeout", rep.Elapsed)
	}
	res := rep.Results[0]
	if res.Failure.Reason != failure.Timeout {
		t.Fatalf("result %+v", res)
	}
}

func TestOnlyLateRepliesAreDiagnosed(t *testing.T) {
	w := newWorld(t, SocketRaw)
	w.respond(answer(1500 * ms1))
	cfg := cfgWith(3, time.Second)
	cfg.Timeout = time.Second
	rep := w.run(context.Background(), cfg, target("198.18.1.10"))
	wantKinds(t, w, "timeout 1", "late 1", "timeout 2", "late 2", "timeout 3")
	if d := rep.Results[0].Diagnosis; !strings.Contains(d, "only after the 1s timeout") || !strings.Contains(d, "1500.000 ms") {
		t.Fatalf("diagnosis %q", d)
	}
}

func TestLateReplyToAForgottenProbe(t *testing.T) {
	w := newWorld(t, SocketRaw)
	w.respond(func(c *fakeConn, r sentRequest) {
		if r.seq == 1 {
			c.reply(r, 5*time.Second, replyOpts{})
		}
	})
	cfg := cfgWith(7, time.Second)
	cfg.Timeout = time.Second // forgotten at 1 s + 3 s linger
	w.run(context.Background(), cfg, target("198.18.1.10"))
	var late []Event
	for _, e := range w.events {
		if e.Kind == EventLate {
			late = append(late, e)
		}
	}
	if len(late) != 1 || late[0].Seq != 0 || late[0].RTT != 5*time.Second {
		t.Fatalf("late events %+v", late)
	}
}

func TestICMPErrors(t *testing.T) {
	router := netip.MustParseAddr("198.18.0.1")
	router6 := netip.MustParseAddr("2001:db8::1")
	cases := []struct {
		target    string
		router    netip.Addr
		typ, code uint8
		reason    failure.Reason
		text      string
		mtu       int
	}{
		{"198.18.1.10", router, 3, 13, failure.AdminProhibited, "destination unreachable (communication administratively prohibited)", 0},
		{"198.18.1.10", router, 3, 1, failure.HostUnreachable, "destination unreachable (host unreachable)", 0},
		{"198.18.1.10", router, 3, 0, failure.NetUnreachable, "destination unreachable (net unreachable)", 0},
		{"198.18.1.10", router, 3, 4, failure.FragNeeded, "destination unreachable (fragmentation needed and DF set)", 1400},
		{"198.18.1.10", router, 11, 0, failure.TTLExceeded, "time exceeded (TTL exceeded in transit)", 0},
		{"2001:db8:1::10", router6, 1, 1, failure.AdminProhibited, "", 0},
		{"2001:db8:1::10", router6, 1, 3, failure.HostUnreachable, "", 0},
		{"2001:db8:1::10", router6, 2, 0, failure.FragNeeded, "", 1400},
		{"2001:db8:1::10", router6, 3, 0, failure.TTLExceeded, "", 0},
		// From this machine, "host unreachable" is its own failed ARP or
		// neighbour discovery; its own firewall's reject stays one.
		{"198.18.0.9", netip.MustParseAddr("198.18.0.2"), 3, 1, failure.NeighborUnresolved, "destination unreachable (host unreachable)", 0},
		{"2001:db8::9", netip.MustParseAddr("2001:db8::2"), 1, 3, failure.NeighborUnresolved, "", 0},
		{"198.18.1.10", netip.MustParseAddr("198.18.0.2"), 3, 13, failure.AdminProhibited, "", 0},
	}
	for _, c := range cases {
		t.Run(c.target+"/"+string(c.reason), func(t *testing.T) {
			w := newWorld(t, SocketRaw)
			w.respond(func(fc *fakeConn, r sentRequest) { fc.icmpError(r, ms1, c.router, c.typ, c.code) })
			rep := w.run(context.Background(), cfgWith(3, 200*ms1), target(c.target))
			wantKinds(t, w, "icmp_error 1", "icmp_error 2", "icmp_error 3")
			e := w.events[0]
			if e.Failure.Reason != c.reason || e.Failure.Layer != c.reason.Layer() || e.Failure.From != c.router.String() || e.From != c.router ||
				e.ICMPType != c.typ || e.ICMPCode != c.code || e.MTU != c.mtu || (c.text != "" && e.Message != c.text) || e.RTT != ms1 {
				t.Fatalf("event %+v failure %+v", e, e.Failure)
			}
			res := rep.Results[0]
			if res.Stats.Errors != 3 || res.Healthy || res.Failure.Reason != c.reason {
				t.Fatalf("result %+v", res)
			}
			if !strings.Contains(res.Diagnosis, "reported by "+c.router.String()) {
				t.Fatalf("diagnosis %q", res.Diagnosis)
			}
			if rep.Elapsed != 400*ms1+ms1 {
				t.Fatalf("elapsed %v: an error settles its probe, nothing is left to wait for", rep.Elapsed)
			}
		})
	}
}

func TestErrorAboutAnotherDestinationIsIgnored(t *testing.T) {
	w := newWorld(t, SocketRaw)
	w.respond(func(c *fakeConn, r sentRequest) {
		r.dst = netip.MustParseAddr("198.18.7.7")
		c.icmpError(r, ms1, netip.MustParseAddr("198.18.0.1"), 3, 13)
	})
	w.run(context.Background(), cfgWith(1, time.Second), target("198.18.1.10"))
	wantKinds(t, w, "timeout 1")
}

func TestLocalSendErrors(t *testing.T) {
	w := newWorld(t, SocketRaw)
	w.conns[0].sendErr = func(netip.Addr) error {
		return failure.New(failure.NoRoute, "")
	}
	rep := w.run(context.Background(), cfgWith(2, 200*ms1), target("198.18.1.10"))
	wantKinds(t, w, "local_error 1", "local_error 2")
	res := rep.Results[0]
	if res.Stats.Transmitted != 2 || res.Stats.Errors != 2 || res.Failure.Reason != failure.NoRoute || rep.Elapsed != 200*ms1 {
		t.Fatalf("result %+v elapsed %v", res, rep.Elapsed)
	}

	w = newWorld(t, SocketRaw)
	w.conns[0].sendErr = func(netip.Addr) error { return errors.New("the socket broke") }
	cfg := cfgWith(2, 200*ms1)
	cfg.clock, cfg.listen = w.sim, w.listen
	_, err := Run(context.Background(), []Target{target("198.18.1.10")}, cfg)
	var fe *failure.Error
	if !errors.As(err, &fe) || fe.Kind != failure.KindLocal || err.Error() != "ping: cannot send to 198.18.1.10: the socket broke" {
		t.Fatalf("an unexpected send error must end the run with a local error: %v", err)
	}
}

// TestNoBufferDelaysTheProbe: when the local stack has no buffer for a
// request, sending pauses and the same probe goes out a little later,
// counted once; the schedule then catches up.
func TestNoBufferDelaysTheProbe(t *testing.T) {
	w := newWorld(t, SocketRaw)
	refusals := 0
	w.conns[0].sendErr = func(netip.Addr) error {
		if len(w.conns[0].sent) == 1 && refusals < 3 {
			refusals++
			return errBusy
		}
		return nil
	}
	w.respond(answer(ms1))
	rep := w.run(context.Background(), cfgWith(3, 5*ms1), target("198.18.1.10"))
	wantKinds(t, w, "reply 1", "reply 2", "reply 3")
	sent := w.conns[0].sent
	start := sent[0].at
	if st := rep.Results[0].Stats; st.Transmitted != 3 || st.Received != 3 || st.Errors != 0 || len(sent) != 3 {
		t.Fatalf("stats %+v, %d requests", st, len(sent))
	}
	// Probe 2 was due at 5 ms and refused three times, 10 ms apart;
	// probe 3 (due at 10 ms) follows it at once.
	if sent[1].at.Sub(start) != 5*ms1+3*sendRetry || sent[2].at != sent[1].at || sent[1].seq != 2 || sent[2].seq != 3 {
		t.Fatalf("requests %+v", sent)
	}
}

func TestNoBufferForAWholeTimeoutEndsTheRun(t *testing.T) {
	w := newWorld(t, SocketRaw)
	w.conns[0].sendErr = func(netip.Addr) error { return errBusy }
	cfg := cfgWith(3, 200*ms1)
	cfg.clock, cfg.listen = w.sim, w.listen
	_, err := Run(context.Background(), []Target{target("198.18.1.10")}, cfg)
	var fe *failure.Error
	if !errors.As(err, &fe) || fe.Kind != failure.KindLocal ||
		err.Error() != "ping: cannot send to 198.18.1.10: this machine has had no buffer for a request for 2s (no buffer space available)" {
		t.Fatalf("got %v, want a local error", err)
	}
	if now := w.Now(); now.Sub(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) != 2*time.Second {
		t.Fatalf("gave up after %v, want the 2 s timeout", now.Sub(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	}
}

func TestUntilUp(t *testing.T) {
	w := newWorld(t, SocketRaw)
	w.respond(func(c *fakeConn, r sentRequest) {
		if r.seq >= 3 {
			c.reply(r, ms1, replyOpts{})
		}
	})
	cfg := cfgWith(0, time.Second)
	cfg.UntilUp = true
	rep := w.run(context.Background(), cfg, target("198.18.1.10"))
	wantKinds(t, w, "timeout 1", "reply 3")
	if rep.Elapsed != 2*time.Second+ms1 || !rep.Healthy() || rep.Results[0].Stats.Transmitted != 3 {
		t.Fatalf("elapsed %v, result %+v", rep.Elapsed, rep.Results[0])
	}
}

func TestDeadline(t *testing.T) {
	w := newWorld(t, SocketRaw)
	w.respond(answer(ms1))
	cfg := cfgWith(0, time.Second)
	cfg.Deadline = 3500 * ms1
	rep := w.run(context.Background(), cfg, target("198.18.1.10"))
	if !rep.DeadlineReached || rep.Elapsed != 3500*ms1 || rep.Results[0].Stats.Transmitted != 4 || !rep.Healthy() {
		t.Fatalf("report %+v", rep)
	}
}

func TestInterruptEndsWithTheSummarySoFar(t *testing.T) {
	w := newWorld(t, SocketRaw)
	w.respond(answer(ms1))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.at(w.Now().Add(2500*ms1), cancel)
	rep := w.run(ctx, cfgWith(0, time.Second), target("198.18.1.10"))
	if !rep.Interrupted || rep.Elapsed != 2500*ms1 || rep.Results[0].Stats.Received != 3 {
		t.Fatalf("report %+v %+v", rep, rep.Results[0].Stats)
	}
}

func TestDatagramSocketUsesTheKernelsIdentifier(t *testing.T) {
	w := newWorld(t, SocketDatagram)
	w.respond(answer(ms1))
	rep := w.run(context.Background(), cfgWith(2, time.Second), target("198.18.1.10"), target("2001:db8:1::10"))
	if !rep.Healthy() || rep.Sockets != [2]SocketKind{SocketDatagram, SocketDatagram} {
		t.Fatalf("report %+v", rep)
	}
}

func TestManyTargetsShareOneSocketPerFamily(t *testing.T) {
	w := newWorld(t, SocketRaw)
	w.respond(func(c *fakeConn, r sentRequest) {
		if r.dst != netip.MustParseAddr("198.18.1.12") {
			c.reply(r, ms1, replyOpts{})
		}
	})
	targets := []Target{target("198.18.1.10"), target("198.18.1.11"), target("198.18.1.12"), target("2001:db8:1::10")}
	rep := w.run(context.Background(), cfgWith(3, time.Second), targets...)
	v4, v6 := w.conns[0].sent, w.conns[1].sent
	if len(v4) != 9 || len(v6) != 3 {
		t.Fatalf("%d IPv4 and %d IPv6 requests", len(v4), len(v6))
	}
	// Round r: target k at r*1s + k*10ms; wire sequence numbers unique per socket.
	seen := map[uint16]bool{}
	for i, r := range v4 {
		round, k := i/3, i%3
		if want := w.conns[0].sent[0].at.Add(time.Duration(round)*time.Second + time.Duration(k)*10*ms1); r.at != want || r.dst != targets[k].Addr {
			t.Fatalf("request %d at %v to %v", i, r.at, r.dst)
		}
		if seen[r.seq] {
			t.Fatalf("wire sequence %d reused", r.seq)
		}
		seen[r.seq] = true
	}
	for i, res := range rep.Results {
		if want := i != 2; res.Healthy != want || res.Stats.Transmitted != 3 {
			t.Fatalf("target %d: %+v", i, res)
		}
	}
	for _, e := range w.events {
		if e.Seq < 1 || e.Seq > 3 || e.Target != targets[e.Index] {
			t.Fatalf("event %+v", e)
		}
	}
	if rep.Healthy() {
		t.Fatal("a silent target must make the run unhealthy")
	}
}

func TestRoundSpreadsOverTheInterval(t *testing.T) {
	w := newWorld(t, SocketRaw)
	w.respond(answer(ms1))
	var targets []Target
	a := netip.MustParseAddr("198.18.1.1")
	for range 1000 {
		targets = append(targets, Target{Name: a.String(), Addr: a})
		a = a.Next()
	}
	rep := w.run(context.Background(), cfgWith(1, time.Second), targets...)
	sent := w.conns[0].sent
	if len(sent) != 1000 || sent[999].at.Sub(sent[0].at) != 999*ms1 || !rep.Healthy() {
		t.Fatalf("%d requests over %v", len(sent), sent[len(sent)-1].at.Sub(sent[0].at))
	}
}

func TestLimits(t *testing.T) {
	w := newWorld(t, SocketRaw)
	w.respond(func(c *fakeConn, r sentRequest) {
		if r.seq != 2 {
			c.reply(r, 30*ms1, replyOpts{})
		}
	})
	cfg := cfgWith(4, time.Second)
	cfg.Limits = Limits{MaxLoss: 10, LimitLoss: true}
	rep := w.run(context.Background(), cfg, target("198.18.1.10"))
	res := rep.Results[0]
	if res.Healthy || res.Failure.Reason != failure.PacketLoss || !strings.Contains(res.Diagnosis, "1 of 4 probes lost (25%)") {
		t.Fatalf("result %+v", res)
	}

	w = newWorld(t, SocketRaw)
	w.respond(answer(30 * ms1))
	cfg.Limits = Limits{MaxAvgRTT: 20 * ms1, MaxLoss: 0, LimitLoss: true}
	rep = w.run(context.Background(), cfg, target("198.18.1.10"))
	res = rep.Results[0]
	if res.Healthy || res.Failure.Reason != failure.Threshold || !strings.Contains(res.Diagnosis, "30.000 ms") {
		t.Fatalf("result %+v", res)
	}

	w = newWorld(t, SocketRaw)
	w.respond(answer(10 * ms1))
	rep = w.run(context.Background(), cfg, target("198.18.1.10"))
	if !rep.Healthy() {
		t.Fatalf("within limits: %+v", rep.Results[0])
	}
}

func TestInvalidConfig(t *testing.T) {
	w := newWorld(t, SocketRaw)
	tg := []Target{target("198.18.1.10")}
	cases := []struct {
		mod     func(*Config)
		targets []Target
		want    string
	}{
		{func(c *Config) {}, nil, "no target"},
		{func(c *Config) { c.Count = -1 }, tg, "count"},
		{func(c *Config) { c.Size = MaxSize4 + 1 }, tg, "too large for IPv4"},
		{func(c *Config) { c.Size = -1 }, tg, "size"},
		{func(c *Config) { c.TTL = 256 }, tg, "TTL"},
		{func(c *Config) { c.Limits = Limits{MaxLoss: 101, LimitLoss: true} }, tg, "loss"},
		{func(c *Config) { c.Limits = Limits{MaxLoss: math.NaN(), LimitLoss: true} }, tg, "loss"},
		{func(c *Config) { c.Source = netip.MustParseAddr("2001:db8::2") }, tg, "the source address 2001:db8::2 is IPv6, and no target is"},
		{func(c *Config) {}, []Target{{Name: "x"}}, "no address"},
	}
	for _, c := range cases {
		cfg := DefaultConfig()
		cfg.clock, cfg.listen = w.sim, w.listen
		c.mod(&cfg)
		_, err := Run(context.Background(), c.targets, cfg)
		var fe *failure.Error
		if !errors.As(err, &fe) || fe.Kind != failure.KindInput || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v", c.want, err)
		}
	}
}

func TestUnknownZoneIsALocalError(t *testing.T) {
	w := newWorld(t, SocketRaw)
	for _, addr := range []string{"fe80::1%nosuch0", "fe80::1%999999"} {
		cfg := DefaultConfig()
		cfg.clock, cfg.listen = w.sim, w.listen
		_, err := Run(context.Background(), []Target{{Name: addr, Addr: netip.MustParseAddr(addr)}}, cfg)
		var fe *failure.Error
		if !errors.As(err, &fe) || fe.Kind != failure.KindLocal || !strings.Contains(err.Error(), "no such interface") {
			t.Errorf("%s: got %v, want a local error (exit 4) naming the interface", addr, err)
		}
	}
	if len(w.conns[0].sent)+len(w.conns[1].sent) != 0 {
		t.Fatal("a probe was sent")
	}
}

func TestCancelledBeforeTheFirstProbe(t *testing.T) {
	w := newWorld(t, SocketRaw)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep := w.run(ctx, DefaultConfig(), target("198.18.1.10"))
	if !rep.Interrupted || rep.Results[0].Stats.Transmitted != 0 || len(w.conns[0].sent) != 0 {
		t.Fatalf("report %+v", rep.Results[0])
	}
	if d := rep.Results[0].Diagnosis; d != "no probe was sent before the run ended" {
		t.Fatalf("diagnosis %q", d)
	}
}
