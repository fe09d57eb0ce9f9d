package netlab

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
)

// Loop is a routing loop between the lab's router and a second router.
type Loop struct {
	// Router2 is the second router, linked to the first over TransitNet
	// (198.18.2.2 and 2001:db8:2::2) with its default route back to it.
	Router2 *Node
	// Target4 and Target6 are addresses in LoopNet4 and LoopNet6: the
	// router sends them to Router2, whose default route sends them back,
	// until the TTL (hop limit) runs out. With an even initial TTL, such as
	// ping's 64, Router2 sees the packet at TTL 1 and sends ICMP time
	// exceeded from 198.18.2.2 (2001:db8:2::2); with an odd one the router
	// sends it from 198.18.0.1 (2001:db8::1).
	Target4, Target6 netip.Addr
}

// AddRoutingLoop adds the second router and the looping routes for
// LoopNet4 and LoopNet6. Calling it again returns the same Loop.
func (l *Lab) AddRoutingLoop(t testing.TB) *Loop {
	t.Helper()
	l.buildMu.Lock()
	defer l.buildMu.Unlock()
	l.mu.Lock()
	loop := l.loop
	l.mu.Unlock()
	if loop != nil {
		return loop
	}
	r2, err := l.newNode("r2", true, Router2Transit4, Router2Transit6)
	if err != nil {
		t.Fatalf("netlab: add routing loop: %v", err)
	}
	if err := l.buildLoop(r2); err != nil {
		t.Fatalf("netlab: add routing loop: %v", err)
	}
	loop = &Loop{
		Router2: r2,
		Target4: LoopNet4.Addr().Next(),
		Target6: LoopNet6.Addr().Next(),
	}
	l.mu.Lock()
	l.loop = loop
	l.mu.Unlock()
	return loop
}

func (l *Lab) buildLoop(r2 *Node) error {
	r1 := l.Router
	err := ipBatch("", []string{
		"netns add " + r2.Name,
		fmt.Sprintf("link add name r2 address %s netns %s type veth peer name r1 address %s netns %s",
			macOf(RouterTransit4), r1.Name, macOf(Router2Transit4), r2.Name),
	})
	if err != nil {
		return err
	}
	sys1 := append(noDAD("r2"), fastNeighbours("r2")...)
	if err := r1.setSysctls(sys1); err != nil {
		return err
	}
	err = ipBatch(r1.Name, []string{
		"link set r2 up",
		"addr add " + withLen(RouterTransit4, TransitNet4) + " dev r2",
		"addr add " + withLen(RouterTransit6, TransitNet6) + " dev r2 nodad",
		"route add " + LoopNet4.String() + " via " + Router2Transit4.String(),
		"route add " + LoopNet6.String() + " via " + Router2Transit6.String(),
	})
	if err != nil {
		return err
	}
	sys2 := [][2]string{
		{"net.ipv4.conf.all.forwarding", "1"},
		{"net.ipv6.conf.all.forwarding", "1"},
	}
	sys2 = append(sys2, routerSysctls()...)
	sys2 = append(sys2, noDAD("lo", "r1")...)
	sys2 = append(sys2, fastNeighbours("r1")...)
	if err := r2.setSysctls(sys2); err != nil {
		return err
	}
	err = ipBatch(r2.Name, []string{
		"link set lo up",
		"link set r1 up",
		"addr add " + withLen(Router2Transit4, TransitNet4) + " dev r1",
		"addr add " + withLen(Router2Transit6, TransitNet6) + " dev r1 nodad",
		"route add default via " + RouterTransit4.String(),
		"route add default via " + RouterTransit6.String(),
	})
	if err != nil {
		return err
	}
	return errors.Join(
		r1.pinNeighbours("r2", macOf(Router2Transit4), Router2Transit4, Router2Transit6),
		r2.pinNeighbours("r1", macOf(RouterTransit4), RouterTransit4, RouterTransit6))
}
