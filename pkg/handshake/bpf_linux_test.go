package handshake

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

// Packets captured in a netns lab (client 198.18.0.2 / 2001:db8::2,
// server 198.18.1.10 / 2001:db8:1::10 behind router 198.18.0.1) with
// `tcpdump -i c0 -nn -S -x 'tcp port 80 or icmp or icmp6'`, while socat
// connected to port 80 and to port 82, which the router rejects with
// admin-prohibited.
var (
	// 198.18.0.2.49472 > 198.18.1.10.80: Flags [S], seq 563120475
	syn4 = hexPacket(`4500 003c 2e26 4000 4006 7f65 c612 0002 c612 010a c140 0050 2190 895b 0000 0000
		a002 faf0 8d5f 0000 0204 05b4 0402 080a 178d 0000 0000 0000 0103 030a`)
	// 198.18.1.10.80 > 198.18.0.2.49472: Flags [S.], seq 2895405602, ack 563120476
	synAck4 = hexPacket(`4500 003c 0000 4000 3f06 ae8b c612 010a c612 0002 0050 c140 ac94 6222 2190 895c
		a012 fe88 8d5f 0000 0204 05b4 0402 080a 764a c382 178d 0000 0103 030a`)
	// 198.18.0.1 > 198.18.0.2: ICMP host 198.18.1.10 unreachable - admin prohibited filter,
	// quoting 198.18.0.2.40168 > 198.18.1.10.82 [S] seq 63682993
	adminProhibited4 = hexPacket(`45c0 0058 d1a6 0000 4001 1c17 c612 0001 c612 0002 030d e132 0000 0000 4500 003c
		14b8 4000 3f06 99d3 c612 0002 c612 010a 9ce8 0052 03cb b9b1 0000 0000 a002 faf0
		8d5f 0000 0204 05b4 0402 080a ae70 d273 0000 0000 0103 030a`)
	// 2001:db8::2.57052 > 2001:db8:1::10.80: Flags [S], seq 598157705
	syn6 = hexPacket(`600b 66e8 0028 0640 2001 0db8 0000 0000 0000 0000 0000 0002 2001 0db8 0001 0000
		0000 0000 0000 0010 dedc 0050 23a7 2989 0000 0000 a002 fd20 5bb3 0000 0204 05a0
		0402 080a e9da 0be2 0000 0000 0103 030a`)
	// 2001:db8:1::10.80 > 2001:db8::2.57052: Flags [S.], seq 2422083957, ack 598157706
	synAck6 = hexPacket(`600d bd88 0028 063f 2001 0db8 0001 0000 0000 0000 0000 0010 2001 0db8 0000 0000
		0000 0000 0000 0002 0050 dedc 905e 1175 23a7 298a a012 fb04 5bb3 0000 0204 05a0
		0402 080a 6a6b 8490 e9da 0be2 0103 030a`)
)

func hexPacket(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

func runFilter(t *testing.T, prog []bpf.Instruction, pkt []byte) bool {
	t.Helper()
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	n, err := vm.Run(pkt)
	if err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func TestTupleFilter(t *testing.T) {
	local4 := netip.MustParseAddrPort("198.18.0.2:49472")
	remote4 := netip.MustParseAddrPort("198.18.1.10:80")
	f4 := tupleFilter(local4, remote4)
	for name, c := range map[string]struct {
		pkt  []byte
		want bool
	}{
		"SYN":                      {syn4, true},
		"SYN-ACK":                  {synAck4, true},
		"ICMP to us":               {adminProhibited4, true},
		"IPv6 SYN":                 {syn6, false},
		"other port":               {withByte(syn4, 21, 0x51), false},
		"other source port":        {withByte(syn4, 20, 0xc2), false},
		"other server":             {withByte(syn4, 19, 0x0b), false},
		"UDP":                      {withByte(syn4, 9, 17), false},
		"later fragment":           {withByte(syn4, 7, 0x10), false},
		"IPv4 options shift ports": {withOptions(syn4), true},
		"truncated":                {syn4[:14], false},
	} {
		if got := runFilter(t, f4, c.pkt); got != c.want {
			t.Errorf("IPv4 %s: accepted %v, want %v", name, got, c.want)
		}
	}

	local6 := netip.MustParseAddrPort("[2001:db8::2]:57052")
	remote6 := netip.MustParseAddrPort("[2001:db8:1::10]:80")
	f6 := tupleFilter(local6, remote6)
	for name, c := range map[string]struct {
		pkt  []byte
		want bool
	}{
		"SYN":               {syn6, true},
		"SYN-ACK":           {synAck6, true},
		"IPv4 SYN":          {syn4, false},
		"other port":        {withByte(syn6, 43, 0x51), false},
		"other server":      {withByte(syn6, 39, 0x11), false},
		"ICMPv6 to us":      {icmp6To(local6.Addr()), true},
		"ICMPv6 to another": {icmp6To(netip.MustParseAddr("2001:db8::3")), false},
	} {
		if got := runFilter(t, f6, c.pkt); got != c.want {
			t.Errorf("IPv6 %s: accepted %v, want %v", name, got, c.want)
		}
	}
}

func TestPortFilter(t *testing.T) {
	f := portFilter(49472)
	for name, c := range map[string]struct {
		pkt  []byte
		want bool
	}{
		"SYN-ACK to the port":      {synAck4, true},
		"our own SYN":              {syn4, false},
		"ICMP error":               {adminProhibited4, true},
		"SYN-ACK to another port":  {withByte(synAck4, 23, 0x41), false},
		"IPv6 SYN-ACK, other port": {synAck6, false},
		"ICMPv6 error":             {icmp6To(netip.MustParseAddr("2001:db8::2")), true},
		"ICMPv6 echo reply":        {withByte(icmp6To(netip.MustParseAddr("2001:db8::2")), 40, 129), false},
	} {
		if got := runFilter(t, f, c.pkt); got != c.want {
			t.Errorf("%s: accepted %v, want %v", name, got, c.want)
		}
	}
	if !runFilter(t, portFilter(57052), withByte(synAck6, 40, 0x00)) {
		t.Error("IPv6 SYN-ACK to the port refused")
	}
}

func withByte(b []byte, i int, v byte) []byte {
	c := append([]byte(nil), b...)
	c[i] = v
	return c
}

// withOptions inserts four bytes of IPv4 options (an NOP and an end of
// list, padded) so the TCP header starts at offset 24.
func withOptions(b []byte) []byte {
	c := append([]byte(nil), b[:20]...)
	c[0] = 0x46
	c = append(c, 1, 0, 0, 0)
	return append(c, b[20:]...)
}

// icmp6To is an ICMPv6 destination unreachable (type 1) sent to dst; the
// filter looks only at the headers.
func icmp6To(dst netip.Addr) []byte {
	b := make([]byte, 48)
	b[0] = 0x60
	b[6] = 58
	copy(b[8:], netip.MustParseAddr("2001:db8::1").AsSlice())
	copy(b[24:], dst.AsSlice())
	b[40] = 1
	return b
}
