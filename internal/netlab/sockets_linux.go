package netlab

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawIPv6 is an AF_INET6 IPPROTO_RAW socket: on Linux that implies
// IPV6_HDRINCL, so the kernel sends the IPv6 header and payload exactly as
// given, checksums untouched. The zero value is a closed socket.
type rawIPv6 struct {
	fd   int
	open bool
}

// openRawIPv6 opens the socket in the calling thread's namespace.
func openRawIPv6() (rawIPv6, error) {
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
	if err != nil {
		return rawIPv6{}, fmt.Errorf("IPPROTO_RAW socket: %w", err)
	}
	return rawIPv6{fd: fd, open: true}, nil
}

// send writes an IPv6 header (no extension headers, next header ICMPv6)
// followed by payload.
func (r rawIPv6) send(src, dst netip.Addr, hopLimit int, payload []byte) error {
	if !r.open {
		return fmt.Errorf("IPPROTO_RAW socket not open")
	}
	pkt := make([]byte, 40+len(payload))
	pkt[0] = 6 << 4
	binary.BigEndian.PutUint16(pkt[4:6], uint16(len(payload)))
	pkt[6] = 58
	pkt[7] = byte(hopLimit)
	s, d := src.As16(), dst.As16()
	copy(pkt[8:24], s[:])
	copy(pkt[24:40], d[:])
	copy(pkt[40:], payload)
	if err := unix.Sendto(r.fd, pkt, 0, &unix.SockaddrInet6{Addr: d}); err != nil {
		return fmt.Errorf("send on IPPROTO_RAW socket: %w", err)
	}
	return nil
}

func (r *rawIPv6) close() {
	if r.open {
		unix.Close(r.fd)
		r.open = false
	}
}

// setFreebind sets IP_FREEBIND or IPV6_FREEBIND on c.
func setFreebind(c *net.IPConn, six bool) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	level, opt := unix.SOL_IP, unix.IP_FREEBIND
	if six {
		level, opt = unix.SOL_IPV6, unix.IPV6_FREEBIND
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), level, opt, 1)
	}); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("set free binding: %w", serr)
	}
	return nil
}

// lastArrival returns the kernel's receive time of the packet read last
// from c (SIOCGSTAMPNS); zero when the kernel has none. The first call
// turns the kernel's receive timestamps on for the socket, so make one
// before the first read.
func lastArrival(c *net.IPConn) time.Time {
	rc, err := c.SyscallConn()
	if err != nil {
		return time.Time{}
	}
	var ts unix.Timespec
	var errno unix.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = unix.Syscall(unix.SYS_IOCTL, fd, unix.SIOCGSTAMPNS, uintptr(unsafe.Pointer(&ts)))
	}); err != nil || errno != 0 {
		return time.Time{}
	}
	return time.Unix(ts.Unix())
}
