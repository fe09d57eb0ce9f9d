package ping

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
)

// SocketKind is the kind of ICMP socket a run uses.
type SocketKind uint8

// The socket kinds. Raw sockets need root or CAP_NET_RAW and see every
// ICMP packet the host receives, so netdiag picks its own identifier and
// attaches a filter for it. Datagram ("ping") sockets need the process's
// group to be inside net.ipv4.ping_group_range; the kernel then chooses
// the identifier and hands each socket only its own replies and errors.
const (
	SocketAuto     SocketKind = iota // raw when permitted, otherwise datagram
	SocketRaw                        // raw only (--privileged)
	SocketDatagram                   // datagram only (--unprivileged)
)

func (k SocketKind) String() string {
	switch k {
	case SocketRaw:
		return "raw"
	case SocketDatagram:
		return "datagram"
	}
	return "auto"
}

// The remedies for a missing permission, named in the one-line error.
const (
	remedyRaw   = "grant raw sockets with `sudo setcap cap_net_raw+ep <path to netdiag>` (or run as root)"
	remedyDgram = "allow unprivileged ICMP sockets with `sudo sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"`"
)

// inboundKind says what a packet read from an ICMP socket is.
type inboundKind uint8

const (
	inReply inboundKind = iota + 1 // an echo reply
	inError                        // an ICMP error quoting an echo request
)

// inbound is one packet of interest read from an ICMP socket, decoded.
// For replies, id, seq and payload are the reply's; for errors they are
// the quoted request's, and dst is the quoted destination.
type inbound struct {
	kind    inboundKind
	fam     int        // 4 or 6
	from    netip.Addr // the packet's source: the target, or the router reporting an error
	dst     netip.Addr // errors: the destination of the request that failed
	id, seq uint16
	payload []byte // replies: the echo payload (owned by the inbound)
	bytes   int    // length of the ICMP message
	ttl     int    // TTL or hop limit of the reply; -1 when unknown
	badSum  bool   // the checksum was verified and is wrong

	icmpType, icmpCode uint8
	mtu                int // next-hop MTU of "fragmentation needed" / "packet too big"

	// kernelTS is the kernel's receive time (wall clock), zero when the
	// socket gave none; readAt is the run's clock when the read returned.
	kernelTS time.Time
	readAt   time.Time
}

// conn is one ICMP socket of one address family. send is only called from
// the run's goroutine, recv only from that socket's reader goroutine.
type conn interface {
	kind() SocketKind
	// ident is the echo identifier this socket's requests carry on the wire.
	ident() uint16
	// send writes one ICMP message to dst and returns the clock's time
	// read just before the system call.
	send(msg []byte, dst netip.Addr) (time.Time, error)
	// recv blocks until a packet of interest arrives and decodes it into
	// p. It returns an error once the socket is closed.
	recv(p *inbound) error
	close() error
}

// errBusy is what conn.send returns when the local stack has no buffer
// for the request right now (a full output queue, or no memory): nothing
// was sent, and the request may be tried again a little later.
var errBusy = errors.New("no buffer space available")

// errText is an error's own words without the system call's name that
// the os package puts in front ("sendto: ...").
func errText(err error) string {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err.Error()
	}
	return err.Error()
}

// socketOptions configure one socket.
type socketOptions struct {
	kind   SocketKind // SocketRaw or SocketDatagram
	ident  uint16     // raw: the identifier to filter on
	ttl    int
	df     bool
	iface  string
	source netip.Addr
	now    func() time.Time
}

// listenFunc opens a socket of family fam (4 or 6).
type listenFunc func(fam int, o socketOptions) (conn, error)

// openSocket opens the socket for family fam, raw first when allowed, and
// turns a permission failure into the one message that names the remedies.
func openSocket(listen listenFunc, fam int, want SocketKind, o socketOptions) (conn, error) {
	try := []SocketKind{want}
	if want == SocketAuto {
		try = []SocketKind{SocketRaw, SocketDatagram}
	}
	var errs []error
	for _, k := range try {
		o.kind = k
		c, err := listen(fam, o)
		if err == nil {
			return c, nil
		}
		var kinded *failure.Error
		if errors.As(err, &kinded) {
			return nil, err
		}
		if !errors.Is(err, fs.ErrPermission) {
			return nil, failure.Localf(err, "ping: open %s ICMPv%d socket: %v", k, fam, err)
		}
		errs = append(errs, err)
	}
	cause := errors.Join(errs...)
	switch want {
	case SocketRaw:
		return nil, failure.Localf(cause, "ping: no permission for a raw ICMP socket: %s", remedyRaw)
	case SocketDatagram:
		return nil, failure.Localf(cause, "ping: no permission for an unprivileged ICMP socket: %s", remedyDgram)
	}
	return nil, failure.Localf(cause, "ping: no permission to send ICMP: %s, or %s", remedyRaw, remedyDgram)
}

// famIndex maps an address to 0 (IPv4) or 1 (IPv6).
func famIndex(a netip.Addr) int {
	if a.Is4() {
		return 0
	}
	return 1
}

// famOf is the inverse of famIndex: 4 or 6.
func famOf(i int) int {
	if i == 0 {
		return 4
	}
	return 6
}
