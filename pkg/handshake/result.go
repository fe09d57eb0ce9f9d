package handshake

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
)

// Target is one port on one address to probe. Name is the host as the
// user wrote it (a name or an address literal), kept for display.
type Target struct {
	Name string
	Addr netip.Addr
	Port int
}

// String renders the target as addr:port, with brackets for IPv6.
func (t Target) String() string {
	return netip.AddrPortFrom(t.Addr, uint16(t.Port)).String()
}

// State is what a probe concluded about a port. The strings are part of
// netdiag's JSON contract.
type State string

// The states.
const (
	// Open: the host answered the SYN with a SYN-ACK.
	Open State = "open"
	// Closed: the host answered with a reset; it is up, nothing listens.
	Closed State = "closed"
	// Filtered: no answer in time, or a firewall rejected the SYN with
	// ICMP (admin-prohibited, port-unreachable).
	Filtered State = "filtered"
	// Unreachable: a router or this machine could not deliver the SYN
	// (no route, host or network unreachable, neighbour unresolved).
	Unreachable State = "unreachable"
)

// ICMPError is the ICMP message that ended a probe.
type ICMPError struct {
	// V6 says whether the message is ICMPv6 (Type and Code are then
	// ICMPv6 numbers).
	V6   bool
	Type uint8
	Code uint8
	// From is the source of the ICMP message: the router or firewall
	// that rejected the SYN, or this machine for errors it reports to
	// itself (a failed neighbour lookup, a local firewall rule).
	From netip.Addr
}

// TCPInfo is what the kernel negotiated for a connection that opened, read
// from TCP_INFO right after connect.
type TCPInfo struct {
	// MSS is the kernel's send MSS (tcpi_snd_mss): the payload of a full
	// segment on this connection. It is the peer's MSS option less the
	// options every segment carries (12 bytes when timestamps are on,
	// so 1448 for an MSS option of 1460), capped by the path MTU and by
	// half the largest window the peer has offered.
	MSS int
	// WScale is the peer's window scale shift; -1 when window scaling
	// was not negotiated.
	WScale int
	// SACK and Timestamps say whether those options were negotiated.
	SACK, Timestamps bool
	// RTT is the kernel's smoothed round-trip estimate, from the SYN-ACK.
	RTT time.Duration
}

// Result is the outcome of one probe.
type Result struct {
	Target Target
	// Seq numbers the probes of one target from 0 (see Schedule.Count).
	Seq   int
	State State
	// Failure says why a port is not open (nil when it is): its Reason
	// is from the shared vocabulary (reset, timeout, admin-prohibited,
	// host-unreachable, ...) and From the address of the device that
	// reported it, when an ICMP error named one.
	Failure *failure.Failure
	// RTT is the time from sending the SYN to the answer that decided
	// the state (SYN-ACK, reset or ICMP error); zero after a timeout.
	RTT time.Duration
	// Waited is how long a probe that got no answer waited before
	// calling the port filtered; zero when an answer came.
	Waited time.Duration
	// TTL is the TTL (IPv4) or hop limit (IPv6) with which the SYN-ACK
	// or reset that decided the state arrived, in SYN and trace mode;
	// zero otherwise. See ResetOrigins.
	TTL int
	// ICMP is the ICMP error behind a filtered or unreachable state.
	ICMP *ICMPError
	// Info is set for open ports in connect and trace mode.
	Info *TCPInfo
	// Trace is the packet timeline in trace mode.
	Trace *Trace
}

// Reason is the failure reason, or "" for an open port.
func (r *Result) Reason() failure.Reason {
	if r.Failure == nil {
		return ""
	}
	return r.Failure.Reason
}

// NothingListens is the plain-words meaning of a port that answers the
// SYN with a reset, the one phrasing tcpprobe and diagnose share.
func NothingListens(port int) string {
	return fmt.Sprintf("host is up; nothing listens on port %d", port)
}

// Explain says in plain words what the state means for this target, e.g.
// "host is up; nothing listens on port 81" or "firewall 198.18.0.1
// rejects the connection (administratively prohibited)".
func (r *Result) Explain() string {
	if r.Failure == nil {
		return "a service listens on port " + fmt.Sprint(r.Target.Port)
	}
	from := ""
	if r.Failure.From != "" {
		from = " " + r.Failure.From
	}
	switch r.Failure.Reason {
	case failure.Reset:
		return NothingListens(r.Target.Port)
	case failure.Timeout:
		return "dropped silently: a firewall between you and the host, or the host is down"
	case failure.AdminProhibited:
		if r.Failure.Detail == detailLocal {
			return "this machine's firewall rejects the connection"
		}
		return "firewall" + from + " rejects the connection (administratively prohibited)"
	case failure.PortUnreachable:
		return "firewall" + from + " rejects the connection (ICMP port unreachable; a TCP stack would reset)"
	case failure.HostUnreachable:
		return "router" + from + " cannot reach the host (host unreachable)"
	case failure.NetUnreachable:
		return "router" + from + " has no route to the network (net unreachable)"
	case failure.NeighborUnresolved:
		return "no answer to ARP or neighbour discovery for the next hop: the host or next hop is down"
	case failure.NoRoute:
		return "this machine has no route to " + r.Target.Addr.String()
	}
	s := r.Failure.Reason.Sentence()
	if from != "" {
		s += ", reported by" + from
	}
	return s
}
