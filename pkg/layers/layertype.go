package layers

import "github.com/netdiag/netdiag/pkg/failure"

// LayerType identifies a header this package decodes. Its String form
// ("eth", "ipv4", "tcp", ...) is a stable identifier: decode's JSON uses it.
type LayerType uint8

// The decoded header types.
const (
	LayerNone     LayerType = iota
	LayerEthernet           // Ethernet II
	LayerVLAN               // one IEEE 802.1Q (or 802.1ad) tag
	LayerARP
	LayerSLL  // Linux cooked capture v1
	LayerSLL2 // Linux cooked capture v2
	LayerNull // BSD loopback / null
	LayerPPP
	LayerCHDLC // Cisco HDLC
	LayerIPv4
	LayerIPv6
	LayerICMPv4
	LayerICMPv6
	LayerTCP
	LayerUDP
	numLayerTypes
)

var layerInfo = [numLayerTypes]struct {
	name  string
	tcpip failure.Layer
	pdu   PDU
}{
	LayerNone:     {"none", "", ""},
	LayerEthernet: {"eth", failure.LayerLink, PDUFrame},
	LayerVLAN:     {"vlan", failure.LayerLink, PDUFrame},
	LayerARP:      {"arp", failure.LayerLink, PDUPacket},
	LayerSLL:      {"sll", failure.LayerLink, PDUFrame},
	LayerSLL2:     {"sll2", failure.LayerLink, PDUFrame},
	LayerNull:     {"null", failure.LayerLink, PDUFrame},
	LayerPPP:      {"ppp", failure.LayerLink, PDUFrame},
	LayerCHDLC:    {"chdlc", failure.LayerLink, PDUFrame},
	LayerIPv4:     {"ipv4", failure.LayerNetwork, PDUPacket},
	LayerIPv6:     {"ipv6", failure.LayerNetwork, PDUPacket},
	LayerICMPv4:   {"icmp", failure.LayerNetwork, PDUMessage},
	LayerICMPv6:   {"icmpv6", failure.LayerNetwork, PDUMessage},
	LayerTCP:      {"tcp", failure.LayerTransport, PDUSegment},
	LayerUDP:      {"udp", failure.LayerTransport, PDUDatagram},
}

// String returns the stable short name ("eth", "vlan", "ipv4", "icmpv6", ...).
func (t LayerType) String() string {
	if t < numLayerTypes {
		return layerInfo[t].name
	}
	return "unknown"
}

// TCPIPLayer is the layer of the TCP/IP model the header belongs to: link
// for the framings and ARP, network for IP and ICMP (ICMP travels inside IP
// but reports on the network layer), transport for TCP and UDP.
func (t LayerType) TCPIPLayer() failure.Layer {
	if t < numLayerTypes {
		return layerInfo[t].tcpip
	}
	return ""
}

// PDU is the name of the protocol data unit the header starts.
func (t LayerType) PDU() PDU {
	if t < numLayerTypes {
		return layerInfo[t].pdu
	}
	return ""
}

// PDU names a protocol data unit as textbooks name them per layer.
type PDU string

// The PDU names. The application's bytes above the transport are PDUData.
const (
	PDUFrame    PDU = "frame"
	PDUPacket   PDU = "packet"
	PDUSegment  PDU = "segment"
	PDUDatagram PDU = "datagram"
	PDUMessage  PDU = "message"
	PDUData     PDU = "data"
)

// LayerSet is a set of layer types, used by Packet to say what it holds.
type LayerSet uint32

// Has reports whether t is in the set.
func (s LayerSet) Has(t LayerType) bool { return s&(1<<t) != 0 }

func (s *LayerSet) add(t LayerType) { *s |= 1 << t }
