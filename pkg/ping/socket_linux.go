//go:build linux

package ping

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/netdiag/netdiag/pkg/failure"
)

// timestampKind is the receive timestamp a socket was able to turn on.
type timestampKind uint8

const (
	tsNone   timestampKind = iota
	tsNano64               // SO_TIMESTAMPNS_NEW: 64-bit seconds and nanoseconds on every architecture
	tsNano                 // SO_TIMESTAMPNS: the native struct timespec
	tsMicro                // SO_TIMESTAMP: the native struct timeval
)

// linuxConn is an ICMP socket (raw or datagram) used through the runtime
// poller: reads block in the poller, never in a loop of short deadlines.
type linuxConn struct {
	fam   int
	k     SocketKind
	id    uint16
	ts    timestampKind
	file  *os.File
	raw   syscall.RawConn
	now   func() time.Time
	addrs map[netip.Addr]unix.Sockaddr // sockaddr per destination (send side)

	// Reader side, used only by the socket's reader goroutine.
	buf, oob []byte
}

// listenSystem opens an ICMP socket of family fam with options o.
func listenSystem(fam int, o socketOptions) (conn, error) {
	domain, proto := unix.AF_INET, unix.IPPROTO_ICMP
	if fam == 6 {
		domain, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
	}
	typ := unix.SOCK_RAW
	if o.kind == SocketDatagram {
		typ = unix.SOCK_DGRAM
	}
	fd, err := unix.Socket(domain, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	c := &linuxConn{fam: fam, k: o.kind, id: o.ident, now: o.now, addrs: map[netip.Addr]unix.Sockaddr{},
		buf: make([]byte, 1<<16+512), oob: make([]byte, 512)}
	if err := c.setup(fd, o); err != nil {
		unix.Close(fd)
		return nil, err
	}
	c.file = os.NewFile(uintptr(fd), fmt.Sprintf("icmpv%d-%s", fam, o.kind))
	if c.raw, err = c.file.SyscallConn(); err != nil {
		c.file.Close()
		return nil, fmt.Errorf("ping: socket: %w", err)
	}
	return c, nil
}

// setup configures a fresh socket: filter, timestamps, TTL, DF, interface
// and source address. Failures to turn on optional features (timestamps,
// a larger buffer) are not errors: the run falls back.
func (c *linuxConn) setup(fd int, o socketOptions) error {
	v6 := c.fam == 6
	if c.k == SocketRaw {
		if err := attachFilter(fd, echoFilter(c.fam, o.ident)); err != nil {
			return err
		}
	}
	c.ts = enableTimestamps(fd)
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20)
	switch {
	case v6:
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVHOPLIMIT, 1); err != nil {
			return os.NewSyscallError("setsockopt IPV6_RECVHOPLIMIT", err)
		}
	case c.k == SocketDatagram:
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_RECVTTL, 1); err != nil {
			return os.NewSyscallError("setsockopt IP_RECVTTL", err)
		}
	}
	if c.k == SocketDatagram {
		// ICMP errors about a datagram socket's requests arrive on its
		// error queue; raw sockets get them as ordinary packets.
		level, opt := unix.IPPROTO_IP, unix.IP_RECVERR
		if v6 {
			level, opt = unix.IPPROTO_IPV6, unix.IPV6_RECVERR
		}
		if err := unix.SetsockoptInt(fd, level, opt, 1); err != nil {
			return os.NewSyscallError("setsockopt RECVERR", err)
		}
	}
	if o.ttl > 0 {
		level, opt := unix.IPPROTO_IP, unix.IP_TTL
		if v6 {
			level, opt = unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS
		}
		if err := unix.SetsockoptInt(fd, level, opt, o.ttl); err != nil {
			return failure.Localf(err, "ping: cannot set TTL %d: %v", o.ttl, err)
		}
	}
	if o.df {
		level, opt, val := unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DO
		if v6 {
			level, opt, val = unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_DO
		}
		if err := unix.SetsockoptInt(fd, level, opt, val); err != nil {
			return failure.Localf(err, "ping: cannot forbid fragmentation: %v", err)
		}
	}
	if o.iface != "" {
		if err := unix.BindToDevice(fd, o.iface); err != nil {
			if errors.Is(err, unix.ENODEV) {
				return failure.Localf(err, "ping: no such interface %q", o.iface)
			}
			return failure.Localf(err, "ping: cannot bind to interface %q: %v", o.iface, err)
		}
	}
	return c.bind(fd, o.source)
}

// bind fixes the source address, and for datagram sockets makes the
// kernel choose the identifier now, so ident can report it.
func (c *linuxConn) bind(fd int, src netip.Addr) error {
	if !src.IsValid() && c.k == SocketRaw {
		return nil
	}
	var sa unix.Sockaddr
	if c.fam == 4 {
		a := &unix.SockaddrInet4{}
		if src.IsValid() {
			a.Addr = src.As4()
		}
		sa = a
	} else {
		a := &unix.SockaddrInet6{}
		if src.IsValid() {
			a.Addr = src.As16()
			a.ZoneId = zoneIndex(src.Zone())
		}
		sa = a
	}
	if err := unix.Bind(fd, sa); err != nil {
		if errors.Is(err, unix.EADDRNOTAVAIL) {
			return failure.Localf(err, "ping: %s is not an address of this machine", src)
		}
		return failure.Localf(err, "ping: cannot bind to %s: %v", src, err)
	}
	if c.k == SocketDatagram {
		got, err := unix.Getsockname(fd)
		if err != nil {
			return os.NewSyscallError("getsockname", err)
		}
		switch a := got.(type) {
		case *unix.SockaddrInet4:
			c.id = uint16(a.Port)
		case *unix.SockaddrInet6:
			c.id = uint16(a.Port)
		}
	}
	return nil
}

func attachFilter(fd int, prog []bpf.Instruction) error {
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return fmt.Errorf("ping: assemble socket filter: %w", err)
	}
	filter := make([]unix.SockFilter, len(raw))
	for i, ins := range raw {
		filter[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
		return os.NewSyscallError("setsockopt SO_ATTACH_FILTER", err)
	}
	return nil
}

// enableTimestamps asks for kernel receive timestamps, the most precise
// kind the kernel offers first.
func enableTimestamps(fd int) timestampKind {
	switch {
	case unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS_NEW, 1) == nil:
		return tsNano64
	case unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1) == nil:
		return tsNano
	case unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMP, 1) == nil:
		return tsMicro
	}
	return tsNone
}

func (c *linuxConn) kind() SocketKind { return c.k }
func (c *linuxConn) ident() uint16    { return c.id }
func (c *linuxConn) close() error     { return c.file.Close() }

// send writes msg to dst. A datagram socket with IP_RECVERR reports an
// ICMP error that arrived since the last read as the result of the next
// send, which then did not happen; such a send is repeated once.
func (c *linuxConn) send(msg []byte, dst netip.Addr) (time.Time, error) {
	sa := c.sockaddr(dst)
	var at time.Time
	var serr error
	for attempt := 0; ; attempt++ {
		err := c.raw.Write(func(fd uintptr) bool {
			at = c.now()
			serr = unix.Sendto(int(fd), msg, 0, sa)
			return serr != unix.EAGAIN
		})
		if err != nil {
			return at, err
		}
		if serr == nil || c.k != SocketDatagram || attempt > 0 || !asyncError(serr) {
			break
		}
	}
	if serr == unix.ENOBUFS || serr == unix.ENOMEM {
		return at, errBusy
	}
	if serr != nil {
		if f := sendFailure(serr); f != nil {
			return at, f
		}
		return at, os.NewSyscallError("sendto", serr)
	}
	return at, nil
}

// sendFailure places a send the local stack refused in the failure
// vocabulary; nil for errors that mean the socket itself is broken.
func sendFailure(err error) *failure.Failure {
	switch err {
	case unix.ENETUNREACH, unix.EHOSTUNREACH:
		return failure.New(failure.NoRoute, "the send failed: "+err.Error())
	case unix.EMSGSIZE:
		return failure.New(failure.FragNeeded, "refused by this machine: larger than the path MTU it knows, and fragmenting is forbidden")
	case unix.EPERM, unix.EACCES:
		f := failure.New(failure.AdminProhibited, "refused by this machine: its own firewall rules, or a broadcast address")
		f.From = "this machine"
		return f
	case unix.ENETDOWN:
		return failure.New(failure.LinkDown, "the send failed: "+err.Error())
	}
	return nil
}

// asyncError reports whether errno can be a pending ICMP error rather than
// a failure of the send that returned it.
func asyncError(err error) bool {
	switch err {
	case unix.EHOSTUNREACH, unix.ENETUNREACH, unix.ECONNREFUSED, unix.EACCES, unix.EMSGSIZE, unix.EPROTO, unix.ETIMEDOUT:
		return true
	}
	return false
}

func (c *linuxConn) sockaddr(dst netip.Addr) unix.Sockaddr {
	if sa, ok := c.addrs[dst]; ok {
		return sa
	}
	var sa unix.Sockaddr
	if dst.Is4() {
		sa = &unix.SockaddrInet4{Addr: dst.As4()}
	} else {
		sa = &unix.SockaddrInet6{Addr: dst.As16(), ZoneId: zoneIndex(dst.Zone())}
	}
	c.addrs[dst] = sa
	return sa
}

// zoneIndex turns an IPv6 zone (an interface name or index) into the
// interface index a sockaddr carries; 0 when there is none.
func zoneIndex(zone string) uint32 {
	if zone == "" {
		return 0
	}
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n)
	}
	if ifi, err := net.InterfaceByName(zone); err == nil {
		return uint32(ifi.Index)
	}
	return 0
}

// recv reads until a packet of interest arrives. A datagram socket's error
// queue is read first, so an ICMP error is seen as soon as it is queued.
func (c *linuxConn) recv(p *inbound) error {
	for {
		var (
			n, oobn int
			from    unix.Sockaddr
			rerr    error
			errq    bool
		)
		err := c.raw.Read(func(fd uintptr) bool {
			if c.k == SocketDatagram {
				n, oobn, _, from, rerr = unix.Recvmsg(int(fd), c.buf, c.oob, unix.MSG_ERRQUEUE)
				if rerr == nil {
					errq = true
					return true
				}
			}
			n, oobn, _, from, rerr = unix.Recvmsg(int(fd), c.buf, c.oob, 0)
			return rerr != unix.EAGAIN
		})
		readAt := c.now()
		if err != nil {
			return err
		}
		if rerr != nil {
			// A pending socket error: the ICMP error it stands for is on
			// the error queue, which the next round reads.
			continue
		}
		*p = inbound{fam: c.fam, ttl: -1, readAt: readAt}
		ok := c.decode(p, c.buf[:n], c.oob[:oobn], from, errq)
		if ok {
			return nil
		}
	}
}

// decode fills p from one read: the control messages (timestamp, TTL,
// extended error) and the packet itself.
func (c *linuxConn) decode(p *inbound, b, oob []byte, from unix.Sockaddr, errq bool) bool {
	var ee *unix.SockExtendedErr
	var offender netip.Addr
	for len(oob) > 0 {
		h, data, rest, err := unix.ParseOneSocketControlMessage(oob)
		if err != nil {
			break
		}
		oob = rest
		switch {
		case h.Level == unix.SOL_SOCKET:
			if ts, ok := c.timestamp(int(h.Type), data); ok {
				p.kernelTS = ts
			}
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_TTL && len(data) >= 4,
			h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_HOPLIMIT && len(data) >= 4:
			p.ttl = int(int32(binary.NativeEndian.Uint32(data)))
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_RECVERR,
			h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_RECVERR:
			ee, offender = extendedError(data)
		}
	}
	src := sockaddrAddr(from)
	switch {
	case errq:
		if ee == nil || (ee.Origin != unix.SO_EE_ORIGIN_ICMP && ee.Origin != unix.SO_EE_ORIGIN_ICMP6) {
			return false
		}
		return decodeQueuedError(p, c.fam, b, src, offender, ee.Type, ee.Code, ee.Info)
	case c.fam == 4 && c.k == SocketRaw:
		return decodeIPv4Packet(p, b)
	default:
		p.from = src
		return decodeMessage(p, c.fam, b)
	}
}

// timestamp reads a receive timestamp control message of the kind turned on.
func (c *linuxConn) timestamp(typ int, data []byte) (time.Time, bool) {
	word := func(i, size int) int64 {
		if size == 8 {
			return int64(binary.NativeEndian.Uint64(data[i*8:]))
		}
		return int64(int32(binary.NativeEndian.Uint32(data[i*4:])))
	}
	size := len(data) / 2
	if size != 4 && size != 8 {
		return time.Time{}, false
	}
	switch {
	case c.ts == tsNano64 && typ == unix.SO_TIMESTAMPNS_NEW, c.ts == tsNano && typ == unix.SO_TIMESTAMPNS:
		return time.Unix(word(0, size), word(1, size)), true
	case c.ts == tsMicro && typ == unix.SO_TIMESTAMP:
		return time.Unix(word(0, size), word(1, size)*1000), true
	}
	return time.Time{}, false
}

// extendedError reads a struct sock_extended_err and the offender's
// address that follows it (the router that sent the ICMP error).
func extendedError(data []byte) (*unix.SockExtendedErr, netip.Addr) {
	const eeLen = 16
	if len(data) < eeLen {
		return nil, netip.Addr{}
	}
	ee := &unix.SockExtendedErr{
		Errno:  binary.NativeEndian.Uint32(data[0:]),
		Origin: data[4], Type: data[5], Code: data[6], Pad: data[7],
		Info: binary.NativeEndian.Uint32(data[8:]),
		Data: binary.NativeEndian.Uint32(data[12:]),
	}
	sa := data[eeLen:]
	if len(sa) < 2 {
		return ee, netip.Addr{}
	}
	switch binary.NativeEndian.Uint16(sa) {
	case unix.AF_INET:
		if len(sa) >= 8 {
			return ee, netip.AddrFrom4([4]byte(sa[4:8]))
		}
	case unix.AF_INET6:
		if len(sa) >= 24 {
			return ee, netip.AddrFrom16([16]byte(sa[8:24]))
		}
	}
	return ee, netip.Addr{}
}

func sockaddrAddr(sa unix.Sockaddr) netip.Addr {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrFrom4(a.Addr)
	case *unix.SockaddrInet6:
		return netip.AddrFrom16(a.Addr)
	}
	return netip.Addr{}
}

var defaultListen listenFunc = listenSystem
