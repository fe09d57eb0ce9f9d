//go:build linux

package netlab_test

import (
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netdiag/netdiag/internal/netlab"
)

var seqRTTRE = regexp.MustCompile(`icmp_seq=([0-9]+) .*time=([0-9.]+) ms`)

// TestResponder checks each behaviour of the userspace echo responder
// against iputils ping, and where ping cannot see it, against the test's
// own raw-socket prober or tcpdump.
func TestResponder(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	requireTool(t, "ping")
	ping := func(args ...string) string {
		out, _ := lab.Client.Exec("ping", args...)
		return out
	}
	// pingAll waits up to 5 s for the replies to n requests 0.2 s apart.
	// Without -w, iputils ping stops waiting one interval after its last
	// request once it has seen a reply, so a reply held up by a busy
	// machine would look lost.
	pingAll := func(n int, a netip.Addr) string {
		return ping("-c", strconv.Itoa(n), "-i", "0.2", "-w", "5", a.String())
	}
	// Each subtest has a server and a responder of its own, so that they
	// can run side by side.
	start := func(t *testing.T, plan netlab.Plan) (*netlab.Node, *netlab.Responder) {
		t.Parallel()
		srv := lab.AddServer(t)
		r := srv.StartResponder(t, plan)
		t.Cleanup(func() {
			if err := r.Err(); err != nil {
				t.Errorf("the responder failed to send: %v", err)
			}
		})
		return srv, r
	}

	t.Run("plain", func(t *testing.T) {
		srv, r := start(t, nil)
		for _, k := range []string{"net.ipv4.icmp_echo_ignore_all", "net.ipv6.icmp.echo_ignore_all"} {
			if v := srv.ReadSysctl(t, k); v != "1" {
				t.Fatalf("%s = %s: the kernel still answers pings", k, v)
			}
		}
		before := r.Count()
		for _, a := range []netip.Addr{srv.Addr4, srv.Addr6} {
			out := pingAll(3, a)
			if !strings.Contains(out, "3 packets transmitted, 3 received, 0% packet loss") {
				t.Errorf("ping %s:\n%s", a, out)
			}
		}
		got := r.Received()[before:]
		if len(got) != 6 {
			t.Fatalf("the responder recorded %d requests, want 6", len(got))
		}
		for i, e := range got {
			from, to := lab.Client.Addr4, srv.Addr4
			if i >= 3 {
				from, to = lab.Client.Addr6, srv.Addr6
			}
			if e.From != from || e.To != to || e.Seq != i%3+1 || len(e.Payload) != 56 || e.Index != before+i || e.Reply != (netlab.Reply{}) {
				t.Errorf("request %d: %+v", i, e)
			}
		}
	})

	t.Run("delay", func(t *testing.T) {
		srv, r := start(t, netlab.Always(netlab.Reply{Delay: 50 * time.Millisecond}))
		for _, a := range []netip.Addr{srv.Addr4, srv.Addr6} {
			before := r.Count()
			out := pingAll(5, a)
			rtts := seqRTTRE.FindAllStringSubmatch(out, -1)
			if len(rtts) != 5 {
				t.Fatalf("ping %s: want 5 replies:\n%s", a, out)
			}
			held := map[int]time.Duration{}
			for _, e := range r.Received()[before:] {
				if e.Arrived.IsZero() || e.Arrived.After(e.Time) || e.Replied.IsZero() {
					t.Fatalf("request %+v: want the kernel's arrival time before the read, and the reply time", e)
				}
				held[e.Seq] = e.Replied.Sub(e.Arrived)
			}
			var seen []string
			quickest := time.Hour
			for _, m := range rtts {
				seen = append(seen, m[2])
				seq, _ := strconv.Atoi(m[1])
				ms, _ := strconv.ParseFloat(m[2], 64)
				rtt := time.Duration(ms * float64(time.Millisecond))
				// The responder holds each request at least 50 ms from its
				// arrival (longer when a busy machine runs its timer late);
				// the hold lies within ping's RTT, printed to 0.1 ms.
				h := held[seq]
				if h < 50*time.Millisecond || rtt < h-100*time.Microsecond {
					t.Errorf("ping %s seq %d: RTT %v, the responder held the request %v:\n%s", a, seq, rtt, h, out)
				}
				quickest = min(quickest, h)
			}
			t.Logf("ping %s RTTs with a 50 ms delay: %s ms", a, strings.Join(seen, ", "))
			// However busy the machine, not every timer runs 50 ms late:
			// the delay is applied once.
			if quickest >= 100*time.Millisecond {
				t.Errorf("ping %s: the responder held every request at least %v", a, quickest)
			}
		}
	})

	t.Run("duplicates", func(t *testing.T) {
		srv, _ := start(t, netlab.Always(netlab.Reply{Copies: 3}))
		for _, a := range []netip.Addr{srv.Addr4, srv.Addr6} {
			// ping stops at the last reply it waits for, so only the
			// duplicates of the first request are seen.
			out := pingAll(2, a)
			if strings.Count(out, "icmp_seq=1 ") != 3 || strings.Count(out, "(DUP!)") != 2 || !strings.Contains(out, "2 received, +2 duplicates") {
				t.Errorf("ping %s: want the first reply three times:\n%s", a, out)
			}
		}
	})

	// iputils ping computes the checksum of a reply but no longer reports
	// a bad one: it counts the reply as received. tcpdump on the client
	// is the witness instead.
	t.Run("bad checksum", func(t *testing.T) {
		requireTool(t, "tcpdump")
		srv, _ := start(t, netlab.Always(netlab.Reply{BadChecksum: true}))
		for _, c := range []struct {
			a               netip.Addr
			filter, tcpdump string
			wait            string // ping's -w: long enough for a reply that comes
			pingSays        string
		}{
			{srv.Addr4, "icmp[0] == 0", "wrong icmp cksum", "5", "1 received"},
			// The client's kernel checks ICMPv6 checksums before any
			// socket sees the reply, so ping never gets it.
			{srv.Addr6, "icmp6 and ip6[40] == 129", "bad icmp6 cksum", "1", "0 received"},
		} {
			dump := lab.Client.Start(t, "tcpdump", "-i", "eth0", "-n", "-vv", "-l", "-c", "1", c.filter)
			dump.WaitReady(t, func() error {
				if !strings.Contains(dump.Output(), "listening on") {
					return errNotYet
				}
				return nil
			})
			out := ping("-c", "1", "-w", c.wait, c.a.String())
			if !strings.Contains(out, c.pingSays) {
				t.Errorf("ping %s: want %q:\n%s", c.a, c.pingSays, out)
			}
			select {
			case <-dump.Done():
			case <-time.After(2 * time.Second):
				t.Fatalf("tcpdump saw no echo reply from %s:\n%s", c.a, dump.Output())
			}
			if !strings.Contains(dump.Output(), c.tcpdump) {
				t.Errorf("tcpdump does not see a bad checksum from %s:\n%s", c.a, dump.Output())
			}
		}
	})

	t.Run("foreign identifier", func(t *testing.T) {
		srv, r := start(t, netlab.Always(netlab.Reply{ForeignID: true}))
		for _, a := range []netip.Addr{srv.Addr4, srv.Addr6} {
			if out := ping("-c", "1", "-W", "1", a.String()); !strings.Contains(out, "0 received") {
				t.Errorf("ping %s took a reply with a foreign identifier:\n%s", a, out)
			}
			got, err := echo(t, lab.Client, a, 0, 3*time.Second)
			if err != nil || got.ID == 0 {
				t.Fatalf("%s: %v %v", a, got, err)
			}
			req := r.Received()[r.Count()-1]
			if got.ID != ^req.ID&0xffff || got.Seq != req.Seq {
				t.Errorf("%s: reply id %#x seq %d to request id %#x seq %d", a, got.ID, got.Seq, req.ID, req.Seq)
			}
		}
	})

	t.Run("changed payload", func(t *testing.T) {
		srv, _ := start(t, netlab.Always(netlab.Reply{ChangePayload: true}))
		for _, a := range []netip.Addr{srv.Addr4, srv.Addr6} {
			out := pingAll(1, a)
			if !strings.Contains(out, "wrong data byte #55") {
				t.Errorf("ping %s does not see the changed byte:\n%s", a, out)
			}
		}
	})

	t.Run("late", func(t *testing.T) {
		srv, _ := start(t, netlab.Always(netlab.Reply{Delay: 1500 * time.Millisecond}))
		if out := ping("-c", "1", "-W", "1", srv.Addr4.String()); !strings.Contains(out, "0 received") {
			t.Errorf("ping with a 1 s timeout got the 1.5 s reply:\n%s", out)
		}
		got, err := echo(t, lab.Client, srv.Addr6, 0, 3*time.Second)
		if err != nil || got.After < 1500*time.Millisecond {
			t.Errorf("late reply: %v %v, want one after 1.5 s", got, err)
		}
	})

	t.Run("drop", func(t *testing.T) {
		// With -w, ping sends until it has as many replies as -c asks
		// for, so the lost requests show as gaps in the sequence
		// whatever the timing.
		srv, r := start(t, netlab.DropSeqs(netlab.Reply{}, 2))
		before := r.Count()
		out := ping("-c", "2", "-i", "0.2", "-w", "5", srv.Addr4.String())
		if got := replySeqs(out); !slices.Equal(got, []string{"1", "3"}) {
			t.Errorf("ping with sequence 2 lost: replies to %v:\n%s", got, out)
		}
		got := r.Received()[before:]
		if len(got) < 3 || !got[1].Reply.Drop || got[0].Reply.Drop || got[2].Reply.Drop {
			t.Errorf("recorded %+v", got)
		}
		r.SetPlan(netlab.DropEvery(2, netlab.Reply{}))
		before = r.Count()
		out = ping("-c", "2", "-i", "0.2", "-w", "5", srv.Addr6.String())
		// The responder numbers requests from 0 and loses the odd ones.
		want := []string{"1", "3"}
		if before%2 == 1 {
			want = []string{"2", "4"}
		}
		if got := replySeqs(out); !slices.Equal(got, want) {
			t.Errorf("ping with every other request lost: replies to %v, want %v:\n%s", got, want, out)
		}
	})
}

var seqRE = regexp.MustCompile(`icmp_seq=([0-9]+) `)

// replySeqs lists the sequence numbers of the replies iputils ping printed.
func replySeqs(out string) []string {
	var seqs []string
	for _, m := range seqRE.FindAllStringSubmatch(out, -1) {
		seqs = append(seqs, m[1])
	}
	return seqs
}
