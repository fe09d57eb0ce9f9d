package netlab

import (
	"net"
	"testing"
	"time"
)

// Listen opens a listener inside the node's namespace (through Do) and
// closes it in t's cleanup. The test serves it from its own goroutines:
// the socket stays in the namespace wherever it is used from. Example:
//
//	ln := lab.Servers[0].Listen(t, "tcp", "198.18.1.10:8080")
//	netlab.Serve(ln, func(c net.Conn) { ... })
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

// ServeDeadline bounds each connection Serve hands out.
const ServeDeadline = 10 * time.Second

// Serve hands every connection ln accepts to handle, each on a goroutine
// of its own with a deadline of ServeDeadline, and closes it when handle
// returns. It returns at once; the serving stops when ln is closed.
func Serve(ln net.Listener, handle func(net.Conn)) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(ServeDeadline))
				handle(c)
			}()
		}
	}()
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
