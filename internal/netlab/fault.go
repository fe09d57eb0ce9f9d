package netlab

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Action is what a fault does to the packets it matches.
type Action int

// The actions. The ICMP rejects answer IPv4 and IPv6 alike (nftables
// "icmpx"): the ICMP type 3 / ICMPv6 type 1 code is listed with each.
const (
	// Drop discards the packet silently: the sender times out.
	Drop Action = iota + 1
	// RejectAdminProhibited answers ICMP code 13 (communication
	// administratively prohibited) / ICMPv6 code 1.
	RejectAdminProhibited
	// RejectHostUnreachable answers ICMP code 1 / ICMPv6 code 3 (address
	// unreachable).
	RejectHostUnreachable
	// RejectNetUnreachable answers ICMP code 0 / ICMPv6 code 0 (no route).
	RejectNetUnreachable
	// RejectPortUnreachable answers ICMP code 3 / ICMPv6 code 4.
	RejectPortUnreachable
	// RejectTCPReset answers a TCP segment with a RST that appears to come
	// from the destination. It only applies to TCP.
	RejectTCPReset
)

var actionNames = map[Action]string{
	Drop:                  "drop",
	RejectAdminProhibited: "reject with icmpx type admin-prohibited",
	RejectHostUnreachable: "reject with icmpx type host-unreachable",
	RejectNetUnreachable:  "reject with icmpx type no-route",
	RejectPortUnreachable: "reject with icmpx type port-unreachable",
	RejectTCPReset:        "reject with tcp reset",
}

// String returns the nftables verdict of the action.
func (a Action) String() string {
	if s, ok := actionNames[a]; ok {
		return s
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Proto selects the traffic a fault applies to.
type Proto string

// The protocols. ICMP matches echo requests only (ICMP and ICMPv6), so
// that ARP's IPv6 counterpart, neighbour discovery, and ICMP errors keep
// flowing.
const (
	AnyProto Proto = ""
	ICMP     Proto = "icmp"
	TCP      Proto = "tcp"
	UDP      Proto = "udp"
)

// Fault describes one nftables rule. Zero fields match everything: a Fault
// with only Action set applies to all traffic.
type Fault struct {
	Action Action
	// Dst or DstNet restricts the rule to one destination address or a
	// block; set at most one. They also fix the address family; without
	// them the rule covers IPv4 and IPv6.
	Dst    netip.Addr
	DstNet netip.Prefix
	// Proto restricts the rule to a protocol.
	Proto Proto
	// Port restricts a TCP or UDP rule to one destination port.
	Port uint16
}

// nftTable and nftChain name the nftables objects the lab owns in every
// namespace it adds faults to.
const (
	nftTable = "inet netlab"
	nftChain = "faults"
)

// rules translates the fault into nftables rule bodies: one, or two when
// an ICMP fault covers both families.
func (f Fault) rules() ([]string, error) {
	verdict, ok := actionNames[f.Action]
	if !ok {
		return nil, fmt.Errorf("fault: unknown action %d", int(f.Action))
	}
	if f.Dst.IsValid() && f.DstNet.IsValid() {
		return nil, errors.New("fault: set Dst or DstNet, not both")
	}
	dst := f.DstNet.Masked()
	if f.Dst.IsValid() {
		dst = netip.PrefixFrom(f.Dst.Unmap(), f.Dst.Unmap().BitLen())
	}
	proto := f.Proto
	switch proto {
	case AnyProto, ICMP, TCP, UDP:
	default:
		return nil, fmt.Errorf("fault: unknown protocol %q", proto)
	}
	if f.Action == RejectTCPReset {
		if proto == AnyProto {
			proto = TCP
		} else if proto != TCP {
			return nil, fmt.Errorf("fault: a TCP reset cannot answer %s", proto)
		}
	}
	if f.Port != 0 && proto != TCP && proto != UDP {
		return nil, errors.New("fault: a port needs protocol tcp or udp")
	}

	families := []string{""}
	switch {
	case dst.IsValid() && dst.Addr().Is4():
		families = []string{"ip"}
	case dst.IsValid():
		families = []string{"ip6"}
	case proto == ICMP:
		families = []string{"ip", "ip6"}
	}
	var out []string
	for _, fam := range families {
		var m []string
		if dst.IsValid() {
			d := dst.String()
			if dst.IsSingleIP() {
				d = dst.Addr().String()
			}
			m = append(m, fam+" daddr "+d)
		}
		switch {
		case proto == ICMP && fam == "ip":
			m = append(m, "icmp type echo-request")
		case proto == ICMP:
			m = append(m, "icmpv6 type echo-request")
		case proto != AnyProto && f.Port != 0:
			m = append(m, fmt.Sprintf("%s dport %d", proto, f.Port))
		case proto != AnyProto:
			m = append(m, "meta l4proto "+string(proto))
		}
		out = append(out, strings.Join(append(m, verdict), " "))
	}
	return out, nil
}

// Rule is an installed fault. It is removed by the cleanup of the test
// that added it, or earlier with Remove.
type Rule struct {
	node    *Node
	handles []int
	removed bool
}

// AddFault installs f on the node with nftables, in a table the lab owns
// (inet netlab). On a router the rule filters forwarded traffic; on a host
// it filters traffic addressed to the host. The rule is removed in t's
// cleanup, so a fault added in a subtest ends with the subtest.
func (n *Node) AddFault(t testing.TB, f Fault) *Rule {
	t.Helper()
	r, err := n.addFault(f)
	if err != nil {
		t.Fatalf("netlab: %s: %v", n.Name, err)
	}
	t.Cleanup(func() {
		if err := r.remove(); err != nil {
			t.Errorf("netlab: %s: remove fault: %v", n.Name, err)
		}
	})
	return r
}

var handleRE = regexp.MustCompile(`# handle (\d+)\s*$`)

func (n *Node) addFault(f Fault) (*Rule, error) {
	bodies, err := f.rules()
	if err != nil {
		return nil, err
	}
	n.faultMu.Lock()
	defer n.faultMu.Unlock()
	var script strings.Builder
	if !n.faultTable {
		hook := "input"
		if n.router {
			hook = "forward"
		}
		fmt.Fprintf(&script, "add table %s\n", nftTable)
		fmt.Fprintf(&script, "add chain %s %s { type filter hook %s priority filter; policy accept; }\n", nftTable, nftChain, hook)
	}
	for _, b := range bodies {
		fmt.Fprintf(&script, "add rule %s %s %s\n", nftTable, nftChain, b)
	}
	out, err := n.nft(script.String(), "--echo", "--handle")
	if err != nil {
		return nil, err
	}
	n.faultTable = true
	r := &Rule{node: n}
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "add rule ") {
			continue
		}
		m := handleRE.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("nft printed no handle in %q", line)
		}
		h, _ := strconv.Atoi(m[1])
		r.handles = append(r.handles, h)
	}
	if len(r.handles) != len(bodies) {
		return nil, fmt.Errorf("nft added %d rules, want %d:\n%s", len(r.handles), len(bodies), out)
	}
	n.faults = append(n.faults, r)
	return r, nil
}

// Remove deletes the rule now; later calls and the cleanup do nothing.
func (r *Rule) Remove(t testing.TB) {
	t.Helper()
	if err := r.remove(); err != nil {
		t.Fatalf("netlab: %s: remove fault: %v", r.node.Name, err)
	}
}

func (r *Rule) remove() error {
	n := r.node
	n.faultMu.Lock()
	defer n.faultMu.Unlock()
	if r.removed || n.lab.isDestroyed() {
		return nil
	}
	var script strings.Builder
	for _, h := range r.handles {
		fmt.Fprintf(&script, "delete rule %s %s handle %d\n", nftTable, nftChain, h)
	}
	if _, err := n.nft(script.String()); err != nil {
		return err
	}
	r.removed = true
	return nil
}

// ClearFaults removes every fault of the node at once.
func (n *Node) ClearFaults(t testing.TB) {
	t.Helper()
	n.faultMu.Lock()
	defer n.faultMu.Unlock()
	if !n.faultTable {
		return
	}
	if _, err := n.nft(fmt.Sprintf("flush chain %s %s\n", nftTable, nftChain)); err != nil {
		t.Fatalf("netlab: %s: clear faults: %v", n.Name, err)
	}
	for _, r := range n.faults {
		r.removed = true
	}
	n.faults = nil
}
