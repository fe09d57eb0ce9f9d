// Package diagnose finds where, layer by layer, connectivity to a service
// breaks, and says it with evidence.
//
// Diagnose climbs the layers the way a person at a terminal would, and stops
// at the first one that fails:
//
//  1. DNS: A and AAAA records from the configured resolvers, timed, with the
//     response codes kept (LookupDNS). An IP address skips this step.
//  2. Route and link: the route the kernel would use and the next hop's
//     neighbour entry (pkg/route).
//  3. Network: ICMP echo (pkg/ping) with ping's count, size and timeout but
//     0.2 s apart, ending at the first reply; when no reply comes, a
//     TTL-limited path probe (ProbePath) that says at which hop the packets
//     stop and which router answered with which ICMP error.
//  4. Transport: one TCP handshake to the port (pkg/handshake, connect mode),
//     classified as open, closed, filtered or unreachable. It runs beside
//     the echo, since each is judged in the light of the other: a host
//     that answers nothing costs about 2.6 s plus the path probe's 2 s
//     with the default timeout, not 9 s.
//  5. TLS, when asked: one handshake and the certificate checks (pkg/tlsprobe
//     in quick mode).
//  6. Application, when asked: an HTTP HEAD request and its status
//     (pkg/httpprobe) — through tlsprobe's connection when TLS is on,
//     otherwise over a plain TCP connection that httpprobe makes. An answer
//     in another protocol is not-http, with its first line shown.
//
// The sockets are the probes': this package opens none of its own beyond
// DNS queries and netlink route lookups.
//
// The evidence is weighed rather than read in order: a ping that gets no
// answer while TCP connects means ICMP is filtered, not an outage, and the
// verdict stays healthy; a TCP reset proves the host is up whatever ping
// said. When a name has both A and AAAA records each family is diagnosed on
// its own, and one broken family beside a working one is the verdict
// Degraded.
//
// Every failure is a *failure.Failure from the shared vocabulary. The
// package prints nothing: rendering is internal/cli's job.
package diagnose
