// Command dgramping sends one ICMP echo request on an unprivileged ICMP
// datagram socket and waits two seconds for the reply. netlab's tests
// build it with Build and run it as an unprivileged user to check
// CommandAs and the net.ipv4.ping_group_range sysctl. Exit status: 0 a
// reply came, 1 none did, 2 bad arguments, 4 the socket was refused.
package main

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: dgramping ADDRESS")
		os.Exit(2)
	}
	dst, err := netip.ParseAddr(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "dgramping:", err)
		os.Exit(2)
	}
	network, proto, typ := "udp4", 1, icmp.Type(ipv4.ICMPTypeEcho)
	if dst.Is6() {
		network, proto, typ = "udp6", 58, ipv6.ICMPTypeEchoRequest
	}
	c, err := icmp.ListenPacket(network, "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "dgramping: open ICMP datagram socket:", err)
		os.Exit(4)
	}
	defer c.Close()
	req := icmp.Message{Type: typ, Body: &icmp.Echo{Seq: 1, Data: []byte("netlab")}}
	b, err := req.Marshal(nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dgramping:", err)
		os.Exit(1)
	}
	if _, err := c.WriteTo(b, &net.UDPAddr{IP: dst.AsSlice()}); err != nil {
		fmt.Fprintln(os.Stderr, "dgramping: send:", err)
		os.Exit(1)
	}
	if err := c.SetReadDeadline(time.Now().Add(2 * time.Second)); err != nil {
		fmt.Fprintln(os.Stderr, "dgramping:", err)
		os.Exit(1)
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			fmt.Fprintln(os.Stderr, "dgramping: no reply:", err)
			os.Exit(1)
		}
		m, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil {
			continue
		}
		if e, ok := m.Body.(*icmp.Echo); ok && (m.Type == ipv4.ICMPTypeEchoReply || m.Type == ipv6.ICMPTypeEchoReply) {
			fmt.Printf("reply from %s seq %d uid %d\n", from.(*net.UDPAddr).IP, e.Seq, os.Getuid())
			return
		}
	}
}
