package decode

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/netdiag/netdiag/pkg/layers"
)

// Filter selects packets by simple conditions, all of which must hold. The
// zero Filter selects every packet. Filtering happens after decoding, so
// conversation numbers and TLS reassembly do not depend on it.
type Filter struct {
	// Protos: the packet carries at least one of these protocols, named as
	// in the JSON output ("tcp", "dns", "icmpv6"; "ip" for either IP).
	Protos []string
	// Hosts: an IP address of the packet (source or destination, or an
	// ARP sender or target) lies in one of these prefixes.
	Hosts []netip.Prefix
	// Ports: the TCP or UDP source or destination port is one of these.
	Ports []uint16
	// Conversation: the packet belongs to this conversation.
	Conversation int
	// IPVersion, 4 or 6, keeps only packets whose (outer) network layer
	// is that version of IP, as -4 and -6 ask; 0 keeps every packet.
	IPVersion int
}

// protoNames are the names Filter.Protos accepts.
var protoNames = []string{"eth", "vlan", "arp", "sll", "sll2", "null", "ppp", "chdlc", "ip", "ipv4", "ipv6",
	"icmp", "icmpv6", "tcp", "udp", "dns", "tls"}

// ParseProtos reads a comma-separated list of protocol names for
// Filter.Protos.
func ParseProtos(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		known := false
		for _, n := range protoNames {
			known = known || n == p
		}
		if !known {
			return nil, fmt.Errorf("unknown protocol %q (known: %s)", p, strings.Join(protoNames, ", "))
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no protocol given")
	}
	return out, nil
}

// ParseHost reads an IP address or a CIDR prefix for Filter.Hosts.
func ParseHost(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or prefix", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// ParsePort reads a port number for Filter.Ports.
func ParsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("%q is not a port number (0-65535)", s)
	}
	return uint16(n), nil
}

// Match reports whether f passes the filter.
func (ft *Filter) Match(f *Frame) bool {
	if ft.Conversation != 0 && f.Conversation != ft.Conversation {
		return false
	}
	p := &f.Packet
	switch {
	case ft.IPVersion == 4 && p.NetworkLayer() != layers.LayerIPv4,
		ft.IPVersion == 6 && p.NetworkLayer() != layers.LayerIPv6:
		return false
	}
	if len(ft.Protos) > 0 && !ft.matchProto(f) {
		return false
	}
	if len(ft.Hosts) > 0 {
		src, dst := p.Src(), p.Dst()
		if p.Has(layers.LayerARP) {
			src, dst = p.ARP.SenderIP(), p.ARP.TargetIP()
		}
		if !ft.matchHost(src) && !ft.matchHost(dst) {
			return false
		}
	}
	if len(ft.Ports) > 0 {
		var sp, dp uint16
		switch {
		case p.Has(layers.LayerTCP):
			sp, dp = p.TCP.SrcPort, p.TCP.DstPort
		case p.Has(layers.LayerUDP):
			sp, dp = p.UDP.SrcPort, p.UDP.DstPort
		default:
			return false
		}
		ok := false
		for _, port := range ft.Ports {
			ok = ok || port == sp || port == dp
		}
		if !ok {
			return false
		}
	}
	return true
}

func (ft *Filter) matchHost(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, h := range ft.Hosts {
		if h.Contains(a) {
			return true
		}
	}
	return false
}

func (ft *Filter) matchProto(f *Frame) bool {
	for _, name := range ft.Protos {
		switch name {
		case "dns":
			if f.DNS != nil {
				return true
			}
		case "tls":
			if f.TLS != nil {
				return true
			}
		case "ip":
			if f.Packet.NetworkLayer() != layers.LayerNone {
				return true
			}
		default:
			for _, sp := range f.Packet.Layers {
				if !sp.Quoted && sp.Type.String() == name {
					return true
				}
			}
		}
	}
	return false
}
