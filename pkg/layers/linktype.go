package layers

import "strconv"

// LinkType is a pcap LINKTYPE_ value: the framing of every packet in a
// capture file (pcap header or pcapng interface block).
type LinkType uint16

// The link types this package decodes, with their numbers from the
// tcpdump.org LINKTYPE registry.
const (
	LinkTypeNull      LinkType = 0   // BSD loopback: 4-byte address family in the writer's byte order
	LinkTypeEthernet  LinkType = 1   // Ethernet II / IEEE 802.3
	LinkTypePPP       LinkType = 9   // PPP, with or without the FF 03 HDLC-like framing
	LinkTypePPPHDLC   LinkType = 50  // PPP in HDLC-like framing, or Cisco HDLC (first byte 0x0F/0x8F)
	LinkTypeRaw       LinkType = 101 // raw IP: IPv4 or IPv6 by the version nibble
	LinkTypeCHDLC     LinkType = 104 // Cisco HDLC
	LinkTypeLoop      LinkType = 108 // OpenBSD loopback: address family in network byte order
	LinkTypeLinuxSLL  LinkType = 113 // Linux cooked capture v1
	LinkTypeIPv4      LinkType = 228 // raw IPv4
	LinkTypeIPv6      LinkType = 229 // raw IPv6
	LinkTypeLinuxSLL2 LinkType = 276 // Linux cooked capture v2
)

// String names the link type as the LINKTYPE registry does, without the
// prefix ("ETHERNET", "LINUX_SLL2"), or "LINKTYPE_n" for others.
func (t LinkType) String() string {
	switch t {
	case LinkTypeNull:
		return "NULL"
	case LinkTypeEthernet:
		return "ETHERNET"
	case LinkTypePPP:
		return "PPP"
	case LinkTypePPPHDLC:
		return "PPP_HDLC"
	case LinkTypeRaw:
		return "RAW"
	case LinkTypeCHDLC:
		return "C_HDLC"
	case LinkTypeLoop:
		return "LOOP"
	case LinkTypeLinuxSLL:
		return "LINUX_SLL"
	case LinkTypeIPv4:
		return "IPV4"
	case LinkTypeIPv6:
		return "IPV6"
	case LinkTypeLinuxSLL2:
		return "LINUX_SLL2"
	}
	return "LINKTYPE_" + strconv.Itoa(int(t))
}

// Supported reports whether Packet.Decode understands the link type.
func (t LinkType) Supported() bool {
	switch t {
	case LinkTypeNull, LinkTypeEthernet, LinkTypePPP, LinkTypePPPHDLC, LinkTypeRaw, LinkTypeCHDLC,
		LinkTypeLoop, LinkTypeLinuxSLL, LinkTypeIPv4, LinkTypeIPv6, LinkTypeLinuxSLL2:
		return true
	}
	return false
}
