package handshake

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"github.com/netdiag/netdiag/pkg/failure"
	"golang.org/x/sys/unix"
)

type connectProber struct {
	timeout time.Duration
}

func newConnectProber(o ConnectOptions) *connectProber {
	return &connectProber{timeout: o.Timeout}
}

func (c *connectProber) Close() error { return nil }

func (c *connectProber) Probe(ctx context.Context, t Target, seq int) (Result, error) {
	r := Result{Target: t, Seq: seq}
	s, err := newTCPSocket(t.Addr)
	if err != nil {
		return r, err
	}
	defer s.close()
	if err := s.connect(ctx, t, c.timeout, &r); err != nil {
		return r, err
	}
	return r, nil
}

// tcpSocket is a non-blocking TCP socket with IP_RECVERR set, so that the
// ICMP error that aborts a connection attempt is queued on the socket
// with its type, code and sender.
type tcpSocket struct {
	fd   int
	v6   bool
	file *os.File // set once connect has started; owns fd from then on
}

func newTCPSocket(dst netip.Addr) (*tcpSocket, error) {
	s := &tcpSocket{v6: dst.Is6()}
	family, level, opt := unix.AF_INET, unix.IPPROTO_IP, unix.IP_RECVERR
	if s.v6 {
		family, level, opt = unix.AF_INET6, unix.IPPROTO_IPV6, unix.IPV6_RECVERR
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return nil, failure.Localf(err, "tcpprobe: cannot open a TCP socket: %v", err)
	}
	s.fd = fd
	if err := unix.SetsockoptInt(fd, level, opt, 1); err != nil {
		unix.Close(fd)
		return nil, failure.Localf(err, "tcpprobe: set IP_RECVERR: %v", err)
	}
	return s, nil
}

// close closes the socket; closing again does nothing.
func (s *tcpSocket) close() {
	switch {
	case s.file != nil:
		s.file.Close()
	case s.fd >= 0:
		unix.Close(s.fd)
	}
	s.fd = -1
}

// bind binds the socket to src and an ephemeral port and returns the
// port, so that a capture can be filtered on the 4-tuple before the SYN
// leaves.
func (s *tcpSocket) bind(src netip.Addr) (int, error) {
	sa, err := sockaddr(src, 0)
	if err != nil {
		return 0, err
	}
	if err := unix.Bind(s.fd, sa); err != nil {
		return 0, failure.Localf(err, "tcpprobe: bind to %s: %v", src, err)
	}
	got, err := unix.Getsockname(s.fd)
	if err != nil {
		return 0, failure.Localf(err, "tcpprobe: getsockname: %v", err)
	}
	switch a := got.(type) {
	case *unix.SockaddrInet4:
		return a.Port, nil
	case *unix.SockaddrInet6:
		return a.Port, nil
	}
	return 0, failure.Localf(nil, "tcpprobe: getsockname returned %T", got)
}

// connect runs the handshake and fills r with the outcome. It returns an
// error only when the probe could not be made.
func (s *tcpSocket) connect(ctx context.Context, t Target, timeout time.Duration, r *Result) error {
	sa, err := sockaddr(t.Addr, t.Port)
	if err != nil {
		return err
	}
	start := time.Now()
	err = unix.Connect(s.fd, sa)
	if err != nil && err != unix.EINPROGRESS {
		r.RTT = time.Since(start)
		return s.classify(err, r)
	}
	s.file = os.NewFile(uintptr(s.fd), "tcp "+t.String())
	rc, err := s.file.SyscallConn()
	if err != nil {
		return failure.Localf(err, "tcpprobe: %v", err)
	}
	if err := s.file.SetWriteDeadline(start.Add(timeout)); err != nil {
		return failure.Localf(err, "tcpprobe: set deadline: %v", err)
	}
	stop := context.AfterFunc(ctx, func() { s.file.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()

	var (
		soErr error
		icmp  *ICMPError
	)
	werr := rc.Write(func(fd uintptr) bool {
		e, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
		switch {
		case err != nil:
			soErr = err
			return true
		case e != 0:
			soErr = syscall.Errno(e)
			return true
		}
		if _, err := unix.Getpeername(int(fd)); err == nil {
			return true
		}
		// An ICMP error that arrives while connect() still holds the
		// socket (on a fast path it comes back before the syscall
		// returns) is queued without failing the connection, and the
		// kernel retransmits the SYN a second later. The queued error
		// wakes us (EPOLLERR) and decides the probe now.
		icmp = s.queuedICMP()
		return icmp != nil
	})
	r.RTT = time.Since(start)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case icmp != nil:
		r.fromICMP(icmp, isLocalAddr(icmp.From, localAddrs()))
		return nil
	case errors.Is(werr, os.ErrDeadlineExceeded):
		r.RTT, r.Waited = 0, timeout
		return s.classify(unix.ETIMEDOUT, r)
	case werr != nil:
		return failure.Localf(werr, "tcpprobe: wait for %s: %v", t, werr)
	case soErr != nil:
		return s.classify(soErr, r)
	}
	r.State = Open
	r.Info = s.tcpInfo()
	return nil
}

// classify turns the errno of a failed connect, and the ICMP error
// queued on the socket if any, into a state and reason. An ICMP error
// decides: ECONNREFUSED is both the host's reset and a router's port
// unreachable, and only the queued message tells them apart.
func (s *tcpSocket) classify(err error, r *Result) error {
	if e := s.queuedICMP(); e != nil {
		r.fromICMP(e, isLocalAddr(e.From, localAddrs()))
		return nil
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return failure.Localf(err, "tcpprobe: connect to %s: %v", r.Target, err)
	}
	switch errno {
	case unix.ECONNREFUSED:
		r.failed(failure.Reset, "")
	case unix.ETIMEDOUT:
		r.timedOut("")
	case unix.ENETUNREACH, unix.EHOSTUNREACH:
		r.failed(failure.NoRoute, "connect: "+errno.Error())
	case unix.EACCES, unix.EPERM:
		r.failed(failure.AdminProhibited, detailLocal)
	case unix.ENETDOWN:
		r.failed(failure.LinkDown, "")
	case unix.EHOSTDOWN:
		r.failed(failure.HostUnreachable, "connect: "+errno.Error())
	case unix.ECONNRESET:
		r.failed(failure.Reset, "reset after the handshake")
	default:
		return failure.Localf(err, "tcpprobe: connect to %s: %v", r.Target, err)
	}
	return nil
}

// queuedICMP reads the socket's error queue and returns the first ICMP
// error on it, or nil.
func (s *tcpSocket) queuedICMP() *ICMPError {
	var buf [64]byte
	var oob [256]byte
	for range 8 {
		_, oobn, _, _, err := unix.Recvmsg(s.fd, buf[:], oob[:], unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
		if err != nil {
			return nil
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			continue
		}
		for _, m := range msgs {
			if e := parseExtendedErr(m); e != nil {
				return e
			}
		}
	}
	return nil
}

// sizeofSockExtendedErr is the size of struct sock_extended_err.
const sizeofSockExtendedErr = 16

// parseExtendedErr decodes an IP_RECVERR or IPV6_RECVERR control message:
// a struct sock_extended_err followed by the sender's sockaddr
// (SO_EE_OFFENDER). Errors that did not come from ICMP are ignored.
func parseExtendedErr(m unix.SocketControlMessage) *ICMPError {
	v4 := m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_RECVERR
	v6 := m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_RECVERR
	d := m.Data
	if !v4 && !v6 || len(d) < sizeofSockExtendedErr {
		return nil
	}
	e := &ICMPError{Type: d[5], Code: d[6]}
	switch d[4] {
	case unix.SO_EE_ORIGIN_ICMP:
	case unix.SO_EE_ORIGIN_ICMP6:
		e.V6 = true
	default:
		return nil
	}
	off := d[sizeofSockExtendedErr:]
	if len(off) < 2 {
		return e
	}
	switch binary.NativeEndian.Uint16(off) {
	case unix.AF_INET:
		if len(off) >= 8 {
			e.From = netip.AddrFrom4([4]byte(off[4:8]))
		}
	case unix.AF_INET6:
		if len(off) >= 24 {
			e.From = netip.AddrFrom16([16]byte(off[8:24])).Unmap()
		}
	}
	return e
}

// The parts of struct tcp_info (linux/tcp.h) read here, by byte offset.
// x/sys/unix's TCPInfo drops the window-scale bit fields, so the struct
// is read as bytes.
const (
	tcpiOptions = 5
	tcpiWScale  = 6 // snd_wscale:4, rcv_wscale:4
	tcpiSndMSS  = 16
	tcpiRTT     = 68 // microseconds
	tcpiMinLen  = 72

	tcpiOptTimestamps = 1
	tcpiOptSACK       = 2
	tcpiOptWScale     = 4
)

// tcpInfo reads TCP_INFO; nil if the kernel refuses.
func (s *tcpSocket) tcpInfo() *TCPInfo {
	var b [256]byte
	n := uint32(len(b))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(s.fd), unix.IPPROTO_TCP, unix.TCP_INFO,
		uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&n)), 0)
	if e != 0 || n < tcpiMinLen {
		return nil
	}
	return decodeTCPInfo(b[:n], binary.NativeEndian)
}

// decodeTCPInfo reads the fields of a struct tcp_info in the machine's
// byte order. The window-scale bit fields are allocated from the low bits
// on little-endian machines and from the high bits on big-endian ones.
func decodeTCPInfo(b []byte, order binary.ByteOrder) *TCPInfo {
	opts := b[tcpiOptions]
	info := &TCPInfo{
		MSS:        int(order.Uint32(b[tcpiSndMSS:])),
		SACK:       opts&tcpiOptSACK != 0,
		Timestamps: opts&tcpiOptTimestamps != 0,
		RTT:        time.Duration(order.Uint32(b[tcpiRTT:])) * time.Microsecond,
		WScale:     -1,
	}
	if opts&tcpiOptWScale != 0 {
		snd := b[tcpiWScale] & 0x0f
		if order.Uint16([]byte{1, 0}) != 1 {
			snd = b[tcpiWScale] >> 4
		}
		info.WScale = int(snd)
	}
	return info
}

// sockaddr converts an address and port, resolving an IPv6 zone name.
func sockaddr(a netip.Addr, port int) (unix.Sockaddr, error) {
	if a.Is4() || a.Is4In6() {
		return &unix.SockaddrInet4{Addr: a.Unmap().As4(), Port: port}, nil
	}
	sa := &unix.SockaddrInet6{Addr: a.As16(), Port: port}
	if z := a.Zone(); z != "" {
		if n, err := strconv.Atoi(z); err == nil {
			sa.ZoneId = uint32(n)
		} else {
			ifi, err := net.InterfaceByName(z)
			if err != nil {
				return nil, failure.Inputf("%s: no interface %q for the zone", a, z)
			}
			sa.ZoneId = uint32(ifi.Index)
		}
	}
	return sa, nil
}
