package diagnose

import (
	"fmt"
	"net/netip"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/handshake"
	"github.com/netdiag/netdiag/pkg/ping"
	"github.com/netdiag/netdiag/pkg/route"
)

// sentenceContext is what a verdict sentence may mention.
type sentenceContext struct {
	host string
	// addr is the family's address; invalid for a name that did not
	// resolve.
	addr netip.Addr
	port int
	// rtype is "A" or "AAAA" when only that query of a name failed.
	rtype string
	// noPing is set when no echo could be sent, so that a silent
	// handshake cannot be told from a host that is down.
	noPing bool
	route  *route.Route
	path   *Path
}

// target names the host diagnosed: the address given, or the name with
// the family's address, so that the sentences of two families differ.
func (c sentenceContext) target() string {
	if c.addr.IsValid() && c.host != c.addr.String() {
		return c.host + " (" + c.addr.String() + ")"
	}
	return c.host
}

// local reports whether from, a failure's sender, is this machine.
func (c sentenceContext) local(from string) bool {
	return from == thisMachine || isLocal(from, c.route)
}

// thisMachine is what pkg/ping puts in a failure's From when the kernel
// refused to send.
const thisMachine = "this machine"

// explain turns a failure into the verdict sentence, with the names of
// the devices involved.
func explain(f *failure.Failure, c sentenceContext) string {
	from := f.From
	switch f.Reason {
	case failure.NXDomain, failure.ServFail, failure.DNSRefused, failure.DNSTimeout, failure.NoAddress:
		s := f.Reason.Sentence()
		if f.Reason == failure.NoAddress && f.Detail != "" {
			s = f.Detail
		}
		if c.rtype != "" {
			return fmt.Sprintf("the %s query for %s fails: %s", c.rtype, c.host, s)
		}
		return fmt.Sprintf("%s does not resolve: %s", c.host, s)
	case failure.NoRoute:
		return "this machine has no route to " + c.target()
	case failure.LinkDown:
		if c.route != nil && c.route.Interface != "" {
			return "the interface " + c.route.Interface + " is down"
		}
		return f.Reason.Sentence()
	case failure.NeighborUnresolved:
		return neighborSentence(c)
	case failure.TTLExceeded:
		s := "routing loop near " + orSomeRouter(from)
		if c.path != nil {
			if loop := c.path.Loop(); loop != nil {
				s += ": packets go round " + joinAddrs(append(loop, loop[0]), " → ")
			}
		}
		return s
	case failure.HostUnreachable:
		return hostUnreachableSentence(from, c)
	case failure.NetUnreachable:
		return fmt.Sprintf("router %s has no route to the network of %s", orSomeRouter(from), c.target())
	case failure.AdminProhibited:
		switch {
		case c.local(from) && f.Layer == failure.LayerTransport:
			return fmt.Sprintf("this machine's own firewall rejects connections to port %d (administratively prohibited)", c.port)
		case c.local(from):
			return "this machine refuses to send to " + c.target() + ": its own firewall rules reject the packets"
		case f.Layer == failure.LayerTransport:
			return fmt.Sprintf("firewall %s rejects connections to port %d (administratively prohibited)", orSomeRouter(from), c.port)
		}
		return fmt.Sprintf("firewall %s rejects the traffic to %s (administratively prohibited)", orSomeRouter(from), c.target())
	case failure.PortUnreachable:
		return fmt.Sprintf("%s rejects connections to port %d with ICMP port unreachable: a firewall's reject", orSomeRouter(from), c.port)
	case failure.FragNeeded:
		return fmt.Sprintf("%s says the packets are too big for its next link (%s)", orSomeRouter(from), f.Detail)
	case failure.Reset, failure.Refused:
		return handshake.NothingListens(c.port)
	case failure.Timeout:
		if f.Layer == failure.LayerTLS {
			return fmt.Sprintf("port %d accepts connections but does not go through with TLS: %s (is TLS served on this port?)", c.port, f.Detail)
		}
		if f.Layer == failure.LayerTransport {
			s := fmt.Sprintf("dropped silently: a firewall between you and %s drops connections to port %d", c.target(), c.port)
			if c.noPing {
				s += ", or the host is down (without ping there is no telling)"
			}
			return s
		}
		s := "dropped silently: a firewall between you and " + c.target()
		if c.path != nil {
			s += "; " + c.path.Describe()
		}
		return s
	case failure.HTTPError:
		return "the application answers with an error: " + f.Detail
	case failure.NoResponse:
		return "the application accepts the connection but does not answer: " + f.Detail
	case failure.NotHTTP:
		return fmt.Sprintf("port %d does not speak HTTP: %s", c.port, f.Detail)
	}
	// TLS and whatever else: the reason's sentence says it; the verdict
	// line names the layer.
	s := f.Reason.Sentence()
	if f.Detail != "" {
		s += ": " + f.Detail
	}
	if from != "" {
		s += ", reported by " + from
	}
	return s
}

func orSomeRouter(from string) string {
	if from == "" {
		return "(unknown)"
	}
	return from
}

// resolutionWords names the link-layer address resolution of a family.
func resolutionWords(a netip.Addr) string {
	if a.Is6() {
		return "neighbour discovery"
	}
	return "ARP"
}

func neighborSentence(c sentenceContext) string {
	proto := "ARP"
	hop, iface := netip.Addr{}, ""
	if c.route != nil {
		hop, iface = c.route.NextHop(), c.route.Interface
		proto = resolutionWords(hop)
	}
	if !hop.IsValid() {
		return "the next hop does not answer " + proto
	}
	who := "the next hop " + hop.String()
	if c.route.Gateway.IsValid() {
		who = "the gateway " + hop.String()
	} else if hop == c.route.Dst {
		who = c.host
		if c.host != hop.String() {
			who += " (" + hop.String() + ")"
		}
		who += ", on this machine's own link,"
	}
	s := who + " does not answer " + proto
	if iface != "" {
		s += " on " + iface
	}
	return s + ": it is down, or not on this link"
}

// hostUnreachableSentence tells the two usual causes apart with the path
// probe's help. A router that answers "unreachable" for a TTL at which it
// is first seen rejected the packet when it looked up the route (an
// unreachable route). One that first passed packets on (time exceeded)
// and answers "unreachable" one hop later tried to deliver them to the
// host on its own network, and its ARP or neighbour discovery got no
// answer.
func hostUnreachableSentence(from string, c sentenceContext) string {
	if from == "" {
		return c.target() + " is unreachable"
	}
	if c.path != nil {
		if end, ok := c.path.End(); ok && !end.Reply && end.From.String() == from {
			if c.path.FirstSeen(end.From) == end.TTL {
				return fmt.Sprintf("router %s has no usable route to %s: it rejects the packets at once (an unreachable route)", from, c.target())
			}
			return fmt.Sprintf("router %s cannot deliver to %s: no answer to its %s, so the host is down or not on that network",
				from, c.target(), resolutionWords(c.path.Dst))
		}
	}
	return fmt.Sprintf("router %s reports %s unreachable", from, c.target())
}

// isLocal reports whether addr (a failure's From) is this machine's own
// address on the route.
func isLocal(from string, r *route.Route) bool {
	return r != nil && from != "" && r.Src.IsValid() && from == r.Src.String()
}

// pingOutcome sorts the echo step into what the reasoning needs.
type pingOutcome int

const (
	pingSkipped pingOutcome = iota // no ICMP socket could be opened
	pingOK                         // a reply came
	pingICMP                       // no reply, an ICMP error came
	pingSilent                     // no reply and no error
	pingRefused                    // this machine refused to send (its own firewall): no evidence either way
)

func classifyPing(p *ping.Result) pingOutcome {
	switch {
	case p == nil:
		return pingSkipped
	case p.Stats.Received > 0:
		return pingOK
	case p.Stats.Errors > 0:
		return pingICMP
	}
	return pingSilent
}

// chooseFailure decides, from the echo and the TCP handshake, where a
// connection that did not open fails. It follows the evidence: a reset
// proves the host is up; a working ping proves the network layer and puts
// any TCP failure at the transport layer; a ping that met an ICMP error
// is the network layer's failure; a silent ping leaves the TCP handshake
// to tell a firewall's reject (transport) or a delivery failure (network)
// from plain silence (network, dropped silently).
func chooseFailure(p pingOutcome, pingFailure *failure.Failure, tcp *handshake.Result) *failure.Failure {
	tf := tcp.Failure
	if tf == nil {
		tf = failure.New(failure.Timeout, "").At(failure.LayerTransport)
	}
	switch {
	case tcp.State == handshake.Closed:
		return tf.At(failure.LayerTransport)
	case p == pingOK:
		return tf.At(failure.LayerTransport)
	case p == pingICMP:
		return pingFailure.At(pingFailure.Reason.Layer())
	case tcp.State == handshake.Unreachable:
		return tf.At(tf.Reason.Layer())
	case tcp.State == handshake.Filtered && tf.Reason != failure.Timeout:
		return tf.At(failure.LayerTransport)
	case p == pingSilent:
		f := tf.At(failure.LayerNetwork)
		f.Detail = "no answer to ping and none to the TCP handshake"
		return f
	}
	return tf.At(failure.LayerTransport)
}
