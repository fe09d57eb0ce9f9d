package netlab

import (
	"net"
	"testing"
)

// Listen opens a listener inside the node's namespace (through Do) and
// closes it in t's cleanup. The test serves it from its own goroutines:
// the socket stays in the namespace wherever it is used from. Example:
//
//	ln := lab.Servers[0].Listen(t, "tcp", "198.18.1.10:8080")
//	go func() { c, _ := ln.Accept(); ...; c.Close() }()
func (n *Node) Listen(t testing.TB, network, address string) net.Listener {
	t.Helper()
	var ln net.Listener
	err := n.Do(func() error {
		var err error
		ln, err = net.Listen(network, address)
		return err
	})
	if err != nil {
		t.Fatalf("netlab: %s: listen %s %s: %v", n.Name, network, address, err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// ListenPacket is Listen for packet sockets ("udp", "ip4:icmp", ...).
func (n *Node) ListenPacket(t testing.TB, network, address string) net.PacketConn {
	t.Helper()
	var pc net.PacketConn
	err := n.Do(func() error {
		var err error
		pc, err = net.ListenPacket(network, address)
		return err
	})
	if err != nil {
		t.Fatalf("netlab: %s: listen %s %s: %v", n.Name, network, address, err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}
