// Package handshake probes TCP ports and reports what happened: the port
// is open (a SYN-ACK came back), closed (a reset came back), filtered (no
// answer, or a firewall's ICMP reject) or unreachable (a router or this
// machine could not deliver the SYN), with the reason in netdiag's failure
// vocabulary and, for ICMP errors, the address of the device that sent
// them.
//
// Three probers share one Result type and one scheduler (Scan):
//
//   - Connect mode (NewConnectProber) uses the kernel's connect() and needs
//     no privilege. IP_RECVERR on the socket delivers the ICMP error that
//     aborted a connection attempt, so a firewall's admin-prohibited reject
//     is told apart from the host's own reset, with the firewall's address.
//     After a successful connect, TCP_INFO gives the negotiated options and
//     the kernel's RTT estimate.
//   - Trace mode (NewTraceProber) is connect mode plus a packet socket
//     filtered on the connection's 4-tuple: it records the three-way
//     handshake and the four-way close as they crossed the interface and
//     checks their sequence arithmetic.
//   - SYN mode (NewSYNProber) sends SYNs it builds itself on a raw socket
//     and never completes a handshake, like nmap -sS.
//
// The trace and SYN modes need CAP_NET_RAW and Linux; without the
// capability they fail with a failure.KindLocal error saying how to get it.
package handshake
