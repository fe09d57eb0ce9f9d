// Package netlab builds throw-away networks out of Linux network namespaces
// for netdiag's integration tests: a client, a router with a bridge, server
// hosts, and the faults, name service and misbehaving ICMP responder that
// the probes must explain. It is test-only code in a normal package, so the
// tests of every other package can import it.
//
// # Topology
//
// New builds this, in about 30 ms:
//
//	nd-client-X            nd-router-X                        nd-srv0-X
//	+-------------+        +----------------------------+     +----------------+
//	| eth0        |  veth  | c0              br0        |     | eth0           |
//	| 198.18.0.2  |--------| 198.18.0.1      198.18.1.1 |-s0--| 198.18.1.10    |
//	| 2001:db8::2 |        | 2001:db8::1  2001:db8:1::1 |     | 2001:db8:1::10 |
//	+-------------+        |                  (bridge)  |     +----------------+
//	default via .1, ::1    |                            |-s1-- nd-srv1-X .11, ::11
//	                       |                            |-s2-- nd-dns-X  .53 .54 .55
//	                       | r2                         |      (StartDNS)
//	                       | 198.18.2.1  2001:db8:2::1  |  servers: default via
//	                       +-------------|--------------+  198.18.1.1, 2001:db8:1::1
//	                                     | veth (AddRoutingLoop)
//	                       +-------------|--------------+
//	                       | r1                         |  nd-r2-X
//	                       | 198.18.2.2  2001:db8:2::2  |  default via 198.18.2.1
//	                       +----------------------------+
//
// X is the lab's Suffix, eight random hex digits, so parallel tests never
// share a name. The veth pairs are created with both ends directly inside
// their namespaces, so nothing ever appears in the initial namespace. Each
// namespace is removed in t.Cleanup, even when the test fails or panics,
// with the processes still running in it and its /etc/netns directory; if
// the test process is killed outright, the next lab's SweepStale removes
// the remains.
//
// # Address plan
//
// Only 198.18.0.0/15 and 2001:db8::/32 are used; see the variables in
// addr.go:
//
//	198.18.0.0/24   2001:db8::/64     client net: router .1, client .2; NoNeighbor .99
//	198.18.1.0/24   2001:db8:1::/64   server net: router .1, servers .10, .11, ...,
//	                                  DNS .53 (dnsmasq) .54 (answer codes) .55 (silent),
//	                                  NoHost .99 (no host: ARP fails on the router)
//	198.18.2.0/24   2001:db8:2::/64   router <-> second router
//	198.18.3.0/24   2001:db8:3::/64   LoopNet: routed in a circle after AddRoutingLoop
//	198.18.4.0/24   2001:db8:4::/64   UnreachableNet: "unreachable" route on the router
//	198.18.5.0/24   2001:db8:5::/64   ProhibitNet: "prohibit" route on the router
//	198.19.0.0/16   2001:db8:ff00::/40  NoRouteNet: the router has no route (net unreachable)
//	198.18.128.0/17 2001:db8:8000::/34  FreeNet: for the test's own use (AddLocalPrefix)
//
// IPv6 duplicate address detection is off in every namespace, so addresses
// work the moment they are added. The router forwards both families, has no
// default route, no reverse-path filter, and no ICMP rate limit
// (net.ipv4.icmp_ratelimit=0, net.ipv6.icmp.ratelimit=0), so that every
// probe gets its ICMP error. Every lab interface retries ARP and neighbour
// discovery three times 100 ms apart (retrans_time_ms, mcast_solicit): an
// address nobody answers for fails after about 0.3 s, not the kernel's 3 s.
//
// # Kernel behaviours worth knowing
//
//   - A packet to NoHost4 comes back as ICMP host unreachable (type 3 code
//     1) from 198.18.0.1 about 0.3 s after it was sent; for NoHost6, ICMPv6
//     address unreachable (type 1 code 3) from 2001:db8::1 after the same
//     time. Each new packet starts a new resolution.
//   - A packet to NoNeighbor4/6 never leaves the client: its own ARP or
//     neighbour discovery fails and the client's kernel reports host
//     (address) unreachable from the client's own address, 198.18.0.2 or
//     2001:db8::2.
//   - The "unreachable" route answers IPv4 with host unreachable (code 1)
//     but IPv6 with no route (code 0); "prohibit" answers code 13 and
//     ICMPv6 code 1; no route at all answers net unreachable (code 0) and
//     ICMPv6 no route (code 0).
//   - IPv4 errors for the router's routes (unreachable, prohibit, no route)
//     come from the kernel's ip_error, which has a limiter of its own: one
//     error per second per client, in bursts of up to five, set by
//     net.ipv4.route.error_cost and error_burst, which exist only in the
//     initial namespace (the lab does not touch them). Its tokens are
//     shared with the ordinary ICMP limiter, and with icmp_ratelimit=0
//     every other ICMP error to the client empties them. So a fresh
//     client gets five route errors at once and then one per second;
//     after any other ICMP error, the next route error waits up to a
//     second. For many probes, use a Fault (RejectHostUnreachable,
//     RejectNetUnreachable, RejectAdminProhibited), which is not limited.
//     IPv6 route errors are not limited.
//   - An echo reply with a bad ICMPv4 checksum reaches raw sockets, and
//     iputils ping (Debian 12) counts it as received without a word; one
//     with a bad ICMPv6 checksum is dropped by the client's kernel before
//     any socket sees it, so it is simply lost. tcpdump -vv shows both.
//   - A new namespace has net.ipv4.ping_group_range "1 0": nobody, root
//     included, may open ICMP datagram sockets until a test opens it.
//   - ip netns del returns before the kernel has dismantled the namespace;
//     the namespace's name is gone at once, its interfaces shortly after.
//
// # Running code inside
//
// Command, Exec and Run run programs in a namespace with `ip netns exec`
// (as root; CommandAs and ExecAs as an unprivileged User such as Nobody,
// via setpriv). Start runs a server in the background (openssl s_server,
// gnutls-serv, socat, ...), WaitListening waits until its port is bound,
// and the test's cleanup stops it. Do runs a Go function on a thread inside
// the namespace: sockets opened there stay in the namespace, goroutines
// started there do not run there. Listen and ListenPacket open Go listeners
// inside through Do for the test to serve. Sysctl sets kernel parameters
// of one namespace. Build and Netdiag compile a binary once per test
// process for end-to-end tests.
//
// # Faults, DNS, ICMP responder
//
// AddFault installs nftables rules (table inet netlab) on the router's
// forward path or a host's input: drop, or reject with ICMP
// admin-prohibited, host-unreachable, net-unreachable, port-unreachable, or
// a TCP reset, by destination, protocol and port. AddRoutingLoop adds the
// second router and the loop. StartDNS runs dnsmasq with the test's
// records, an answer-code responder for SERVFAIL and friends and a silent
// resolver address, and writes the client's resolv.conf. StartResponder
// replaces a host's kernel echo with a userspace responder that can delay,
// duplicate, corrupt, misaddress, change, drop and answer late.
//
// # Requirements
//
// Linux, root, iproute2 and nftables; dnsmasq (dnsmasq-base) for StartDNS
// and setpriv (util-linux) for CommandAs. Tests skip with a message saying
// which is missing. The package's init locks the main goroutine to the
// main thread, so that Do never moves the main thread into a namespace.
//
// # Example
//
//	func TestPingThroughTheLab(t *testing.T) {
//		t.Parallel()
//		lab := netlab.New(t, netlab.Config{})
//		srv := lab.Servers[0]
//		lab.StartDNS(t, netlab.DNSConfig{Records: map[string][]netip.Addr{
//			"web": {srv.Addr4, srv.Addr6},
//		}})
//		lab.Router.AddFault(t, netlab.Fault{
//			Action: netlab.RejectAdminProhibited, Dst: srv.Addr6, Proto: netlab.ICMP,
//		})
//		out, err := lab.Client.Exec("ping", "-c", "1", "-W", "2", "-4", "web")
//		if err != nil {
//			t.Fatalf("IPv4 should work: %v\n%s", err, out)
//		}
//		out, _ = lab.Client.Exec("ping", "-c", "1", "-W", "2", "-6", "web")
//		if !strings.Contains(out, "Administratively prohibited") {
//			t.Errorf("IPv6 should be rejected by the router:\n%s", out)
//		}
//	}
//
// That test is example_test.go, so it runs with the others.
package netlab
