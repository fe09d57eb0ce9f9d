package handshake

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/vishvananda/netlink"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// packetSocket is an AF_PACKET socket of type SOCK_DGRAM: it sees the IP
// packets crossing an interface in both directions, without the link
// header, each with the kernel's timestamp. Reads go through the runtime
// poller, so they honour deadlines.
type packetSocket struct {
	file *os.File
	rc   syscall.RawConn
	buf  []byte
	oob  []byte
}

// rawPacket is one packet read from a packet socket. Data is the
// packet's own copy of its first snapLen bytes: the headers.
type rawPacket struct {
	data    []byte
	t       time.Time
	pkttype uint8 // unix.PACKET_HOST, PACKET_OUTGOING, ...
	ifindex int
}

// errNeedRaw builds the exit-4 error of a raw mode run without the
// capability.
func errNeedRaw(mode string, err error) error {
	exe, xerr := os.Executable()
	if xerr != nil {
		exe = "netdiag"
	}
	return failure.Localf(err, "tcpprobe %s needs raw sockets (CAP_NET_RAW): run it as root, or grant the capability once with: sudo setcap cap_net_raw+ep %s", mode, exe)
}

func isPermission(err error) bool {
	return errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)
}

// openPacketSocket opens a packet socket on interface ifindex (0: every
// interface) that keeps only what prog accepts. The filter is in place
// before the socket is bound, so no unfiltered packet is ever queued.
func openPacketSocket(mode string, ifindex int, prog []bpf.Instruction) (*packetSocket, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		if isPermission(err) {
			return nil, errNeedRaw(mode, err)
		}
		return nil, failure.Localf(err, "tcpprobe %s: open a packet socket: %v", mode, err)
	}
	fail := func(what string, err error) (*packetSocket, error) {
		unix.Close(fd)
		return nil, failure.Localf(err, "tcpprobe %s: %s: %v", mode, what, err)
	}
	if err := attachFilter(fd, prog); err != nil {
		return fail("attach the socket filter", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return fail("enable timestamps", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20); err != nil {
		return fail("set the receive buffer", err)
	}
	proto := uint16(unix.ETH_P_ALL)
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(proto), Ifindex: ifindex}); err != nil {
		return fail("bind the packet socket", err)
	}
	f := os.NewFile(uintptr(fd), "packet")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, failure.Localf(err, "tcpprobe %s: %v", mode, err)
	}
	return &packetSocket{file: f, rc: rc, buf: make([]byte, snapLen), oob: make([]byte, 128)}, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func (s *packetSocket) Close() error { return s.file.Close() }

// read returns the next packet, waiting for it until the socket's read
// deadline (none unless set): setting a deadline in the past from another
// goroutine ends a wait with os.ErrDeadlineExceeded.
func (s *packetSocket) read() (rawPacket, error) {
	var (
		p    rawPacket
		got  bool
		rerr error
	)
	err := s.rc.Read(func(fd uintptr) bool {
		p, got, rerr = s.recv(int(fd))
		return got || rerr != nil
	})
	if err == nil {
		err = rerr
	}
	return p, err
}

// tryRead returns a packet already queued, without waiting.
func (s *packetSocket) tryRead() (p rawPacket, ok bool) {
	s.rc.Control(func(fd uintptr) {
		p, ok, _ = s.recv(int(fd))
	})
	return p, ok
}

// recv makes one non-blocking recvmsg; got is false when nothing is
// queued.
func (s *packetSocket) recv(fd int) (p rawPacket, got bool, err error) {
	n, oobn, _, from, err := unix.Recvmsg(fd, s.buf, s.oob, unix.MSG_DONTWAIT)
	if err == unix.EAGAIN || err == unix.EINTR {
		return p, false, nil
	}
	if err != nil {
		return p, false, err
	}
	p.data = append([]byte(nil), s.buf[:n]...)
	if ll, ok := from.(*unix.SockaddrLinklayer); ok {
		p.pkttype, p.ifindex = ll.Pkttype, ll.Ifindex
	}
	p.t = time.Now()
	if msgs, err := unix.ParseSocketControlMessage(s.oob[:oobn]); err == nil {
		for _, m := range msgs {
			if m.Header.Level != unix.SOL_SOCKET || m.Header.Type != unix.SCM_TIMESTAMPNS {
				continue
			}
			// A struct timespec: two longs.
			switch d := m.Data; len(d) {
			case 16:
				p.t = time.Unix(int64(binary.NativeEndian.Uint64(d)), int64(binary.NativeEndian.Uint64(d[8:])))
			case 8:
				p.t = time.Unix(int64(int32(binary.NativeEndian.Uint32(d))), int64(int32(binary.NativeEndian.Uint32(d[4:]))))
			}
		}
	}
	return p, true, nil
}

// recorder reads a packet socket in its own goroutine and keeps what it
// reads, up to a bound, until stopped.
type recorder struct {
	sock    *packetSocket
	mu      sync.Mutex
	packets []rawPacket
	dropped int
	changed chan struct{}
	done    chan struct{}
	err     error
}

// maxRecorded bounds the packets a trace keeps.
const maxRecorded = 4096

func startRecorder(sock *packetSocket) *recorder {
	r := &recorder{sock: sock, changed: make(chan struct{}, 1), done: make(chan struct{})}
	go r.run()
	return r
}

func (r *recorder) run() {
	defer close(r.done)
	for {
		p, err := r.sock.read()
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				r.err = err
			}
			r.drain()
			return
		}
		r.add(p)
	}
}

// drain takes what is still queued on the socket without waiting.
func (r *recorder) drain() {
	for {
		p, ok := r.sock.tryRead()
		if !ok {
			return
		}
		r.add(p)
	}
}

func (r *recorder) add(p rawPacket) {
	r.mu.Lock()
	if len(r.packets) < maxRecorded {
		r.packets = append(r.packets, p)
	} else {
		r.dropped++
	}
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// snapshot returns the packets recorded so far.
func (r *recorder) snapshot() []rawPacket {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]rawPacket(nil), r.packets...)
}

// stop ends the recording after taking every packet already queued, and
// returns them all.
func (r *recorder) stop() ([]rawPacket, int) {
	r.sock.file.SetReadDeadline(time.Unix(1, 0))
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.packets, r.dropped
}

// interfaceFor returns the index of the interface a packet to dst
// leaves by, as the routing table says (the loopback for one of this
// machine's own addresses; the zone's interface for a zoned address), or
// 0 (every interface) when it cannot tell. The interface that holds the
// source address is not always the one: an address kept on the loopback
// or a dummy interface is often the source of traffic that leaves by
// another.
func interfaceFor(dst netip.Addr) int {
	if z := dst.Zone(); z != "" {
		if n, err := strconv.Atoi(z); err == nil {
			return n
		}
		if ifi, err := net.InterfaceByName(z); err == nil {
			return ifi.Index
		}
	}
	routes, err := netlink.RouteGet(net.IP(dst.WithZone("").AsSlice()))
	if err != nil || len(routes) == 0 {
		return 0
	}
	return routes[0].LinkIndex
}
