package cli_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netdiag/netdiag/internal/netlab"
	"github.com/netdiag/netdiag/pkg/layers"
	"golang.org/x/sys/unix"
)

// synAnswer says how the SYN responder answers one SYN.
type synAnswer struct {
	flags layers.TCPFlags // SYN|ACK or RST|ACK; 0 answers nothing
	delay time.Duration
}

// synKey names one SYN as the responder counts them: a retransmission
// has the same key as the SYN it repeats.
type synKey struct {
	src  netip.AddrPort
	port uint16
	seq  uint32
}

// synResponder answers, from userspace, the SYNs that reach node's TCP
// ports lo to hi, while an input rule keeps the node's kernel from
// seeing them. It makes what netem would on another kernel: a path with
// a long round trip, and lost SYNs.
type synResponder struct {
	mu   sync.Mutex
	seen map[synKey]int
	// plan chooses the answer to the nth copy (from 1) of a SYN to port.
	plan func(port uint16, nth int) synAnswer
	// marks are the markers sync waits for, by token.
	marks map[uint64]chan struct{}
	// capture is the packet socket the SYNs are read from.
	capture syscall.RawConn
}

// markPort is where sync's marker datagrams go (the discard port; the
// node's kernel answers them with port unreachable, which is harmless).
const markPort = 9

// captureBuffer is the capture socket's receive buffer: room for every
// packet of a scan even while the responder is not scheduled.
const captureBuffer = 8 << 20

func startSYNResponder(t *testing.T, node *netlab.Node, lo, hi uint16, plan func(port uint16, nth int) synAnswer) *synResponder {
	t.Helper()
	node.Nft(t, fmt.Sprintf(`add table inet synresponder
add chain inet synresponder in { type filter hook input priority filter; policy accept; }
add rule inet synresponder in tcp dport %d-%d drop
`, lo, hi))
	var capture, raw4, raw6 int
	err := node.Do(func() error {
		var err error
		// A packet socket sees the SYN before the input rule drops it.
		if capture, err = unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL))); err != nil {
			return err
		}
		if err = unix.SetsockoptInt(capture, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, captureBuffer); err != nil {
			return err
		}
		if raw4, err = unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW); err != nil {
			return err
		}
		raw6, err = unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
		return err
	})
	if err != nil {
		t.Fatalf("SYN responder sockets in %s: %v", node, err)
	}
	f := os.NewFile(uintptr(capture), "synresponder")
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	r := &synResponder{seen: map[synKey]int{}, plan: plan, marks: map[uint64]chan struct{}{}, capture: rc}
	done := make(chan struct{})
	var timers sync.WaitGroup
	t.Cleanup(func() {
		f.Close()
		<-done
		timers.Wait()
		unix.Close(raw4)
		unix.Close(raw6)
	})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		var pkt layers.Packet
		for {
			var (
				n    int
				from unix.Sockaddr
				rerr error
			)
			err := rc.Read(func(fd uintptr) bool {
				n, from, rerr = unix.Recvfrom(int(fd), buf, 0)
				return rerr != unix.EAGAIN
			})
			if err != nil || rerr != nil {
				return
			}
			if ll, ok := from.(*unix.SockaddrLinklayer); !ok || ll.Pkttype != unix.PACKET_HOST {
				continue
			}
			if pkt.Decode(layers.LinkTypeRaw, buf[:n]) != nil {
				continue
			}
			if pkt.Has(layers.LayerUDP) && pkt.UDP.DstPort == markPort && len(pkt.Payload) == 8 {
				r.mu.Lock()
				ch := r.marks[binary.BigEndian.Uint64(pkt.Payload)]
				r.mu.Unlock()
				if ch != nil {
					close(ch)
				}
				continue
			}
			if !pkt.Has(layers.LayerTCP) {
				continue
			}
			tcp := pkt.TCP
			if tcp.Flags != layers.TCPFlagSYN || tcp.DstPort < lo || tcp.DstPort > hi {
				continue
			}
			src, dst := pkt.Src(), pkt.Dst()
			k := synKey{netip.AddrPortFrom(src, tcp.SrcPort), tcp.DstPort, tcp.Seq}
			r.mu.Lock()
			r.seen[k]++
			nth := r.seen[k]
			r.mu.Unlock()
			a := r.plan(tcp.DstPort, nth)
			if a.flags == 0 {
				continue
			}
			reply, err := buildReply(dst, src, tcp.DstPort, tcp.SrcPort, tcp.Seq+1, a.flags)
			if err != nil {
				t.Errorf("SYN responder: %v", err)
				continue
			}
			var (
				fd int
				sa unix.Sockaddr
			)
			if src.Is4() {
				fd, sa = raw4, &unix.SockaddrInet4{Addr: src.As4()}
			} else {
				fd, sa = raw6, &unix.SockaddrInet6{Addr: src.As16()}
			}
			timers.Add(1)
			time.AfterFunc(a.delay, func() {
				defer timers.Done()
				if err := unix.Sendto(fd, reply, 0, sa); err != nil && !errors.Is(err, syscall.EBADF) {
					t.Errorf("SYN responder: send: %v", err)
				}
			})
		}
	}()
	return r
}

// sync returns once the responder has read every packet that reached its
// node before the call. netdiag's exit does not say that: the responder
// is a goroutine of the test, and on a loaded machine it may not have
// read the last SYNs of a scan (the silent port's retransmission, sent a
// retransmission timeout before netdiag ends) when the counts are looked
// at. So the client sends a marker datagram to addr, which the capture
// socket queues behind them, and sync waits until the responder has read
// it. A capture socket that ran out of room would leave the counts
// incomplete: the test fails saying so.
func (r *synResponder) sync(t *testing.T, from *netlab.Node, addr netip.Addr) {
	t.Helper()
	token := rand.Uint64()
	seen := make(chan struct{})
	r.mu.Lock()
	r.marks[token] = seen
	r.mu.Unlock()
	err := from.Do(func() error {
		c, err := net.Dial("udp", netip.AddrPortFrom(addr, markPort).String())
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write(binary.BigEndian.AppendUint64(nil, token))
		return err
	})
	if err != nil {
		t.Fatalf("SYN responder marker: %v", err)
	}
	select {
	case <-seen:
	case <-time.After(30 * time.Second):
		t.Fatal("the SYN responder did not read its marker within 30 s")
	}
	var (
		stats *unix.TpacketStats
		serr  error
	)
	if err := r.capture.Control(func(fd uintptr) {
		stats, serr = unix.GetsockoptTpacketStats(int(fd), unix.SOL_PACKET, unix.PACKET_STATISTICS)
	}); err != nil || serr != nil {
		t.Fatalf("SYN responder capture statistics: %v %v", err, serr)
	}
	if stats.Drops > 0 {
		t.Fatalf("the SYN responder's capture socket dropped %d packets: its counts are incomplete", stats.Drops)
	}
}

// copies returns how many copies of SYNs to port the responder saw, per
// SYN (one entry per distinct SYN), from any address when from is the
// zero Addr.
func (r *synResponder) copies(from netip.Addr, port uint16) []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for k, n := range r.seen {
		if k.port == port && (!from.IsValid() || k.src.Addr() == from) {
			out = append(out, n)
		}
	}
	return out
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// buildReply builds a SYN-ACK or a reset acknowledging ack.
func buildReply(src, dst netip.Addr, sport, dport uint16, ack uint32, flags layers.TCPFlags) ([]byte, error) {
	tcp := layers.TCP{SrcPort: sport, DstPort: dport, Ack: ack, Flags: flags}
	if flags&layers.TCPFlagSYN != 0 {
		tcp.Seq, tcp.Window = rand.Uint32(), 64240
		tcp.Options = []layers.TCPOption{layers.TCPOptionMSSOf(1460)}
	}
	var (
		b   []byte
		err error
	)
	if src.Is4() {
		ip := layers.IPv4{TTL: 64, Protocol: layers.IPProtocolTCP, Src: src, Dst: dst, Flags: layers.IPv4DontFragment}
		b, err = ip.AppendTo(nil, tcp.Len())
	} else {
		ip := layers.IPv6{HopLimit: 64, Protocol: layers.IPProtocolTCP, Src: src, Dst: dst}
		b, err = ip.AppendTo(nil, tcp.Len())
	}
	if err != nil {
		return nil, err
	}
	return tcp.AppendTo(b, src, dst, nil)
}

// TestLabTCPProbeSYNSlowPath scans a host 150 ms away whose answers are
// steady, so that SYN mode learns a short retransmission timeout from
// them, while some ports lose their first SYN and one never answers. A
// port whose first SYN is lost must still be found by the second SYN:
// the learnt timeout is given to each SYN, never shared by the two, and
// never shrinks below the round trip plus a margin.
func TestLabTCPProbeSYNSlowPath(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	const (
		lo, hi  = 7000, 7099
		silent  = 7099
		delay   = 150 * time.Millisecond
		timeout = 4 // seconds
	)
	lost := func(port uint16) bool { return port >= 7050 && port < 7060 }
	resp := startSYNResponder(t, srv, lo, hi, func(port uint16, nth int) synAnswer {
		switch {
		case port == silent, lost(port) && nth == 1:
			return synAnswer{}
		case port <= 7002:
			return synAnswer{flags: layers.TCPFlagSYN | layers.TCPFlagACK, delay: delay}
		}
		return synAnswer{flags: layers.TCPFlagRST | layers.TCPFlagACK, delay: delay}
	})
	for _, addr := range []netip.Addr{srv.Addr4, srv.Addr6} {
		client := netlab.Client4
		if addr.Is6() {
			client = netlab.Client6
		}
		out, errOut, code := runNetdiag(t, lab.Client, nil, "tcpprobe", "--syn", "--json", "--timeout", strconv.Itoa(timeout),
			"-p", fmt.Sprintf("%d-%d", lo, hi), addr.String())
		if code != 1 {
			t.Fatalf("%s: exit %d\n%s%s", addr, code, out, errOut)
		}
		resp.sync(t, lab.Client, addr)
		probes := probesByPort(t, jsonLines(t, out))
		for port := lo; port <= hi; port++ {
			p := probes[port]
			if p == nil {
				t.Fatalf("%s: no probe of port %d", addr, port)
			}
			want := "closed"
			switch {
			case port == silent:
				want = "filtered"
			case port <= 7002:
				want = "open"
			}
			if p["state"] != want {
				t.Errorf("%s port %d: %v (%v), want %s", addr, port, p["state"], p["explain"], want)
			}
			// The round trip counts from the last SYN sent: only a SYN
			// sent once is sure to have waited for the whole path.
			once := slices.Equal(resp.copies(client, uint16(port)), []int{1})
			if rtt, ok := p["rtt_ms"].(float64); once && want != "filtered" && (!ok || rtt < float64(delay.Milliseconds())) {
				t.Errorf("%s port %d: rtt %v ms, want at least the path's %v", addr, port, p["rtt_ms"], delay)
			}
		}
		if wait, _ := probes[silent]["wait_ms"].(float64); wait <= 0 || wait > timeout*1000 {
			t.Errorf("%s: the silent port waited %v ms, want at most the %d s timeout", addr, wait, timeout)
		}
	}
	for port := uint16(lo); port <= hi; port++ {
		for _, n := range resp.copies(netip.Addr{}, port) {
			switch {
			case (port == silent || lost(port)) && n != 2:
				t.Errorf("port %d: %d copies of a SYN, want 2 (one retransmission)", port, n)
			case n > 2:
				t.Errorf("port %d: %d copies of a SYN, want at most 2", port, n)
			}
		}
		if n := len(resp.copies(netip.Addr{}, port)); n != 2 {
			t.Errorf("port %d: %d distinct SYNs, want one per family", port, n)
		}
	}
}
