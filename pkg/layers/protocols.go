package layers

import "strconv"

// EtherType is the 16-bit protocol number of Ethernet II, 802.1Q tags,
// Linux cooked captures and Cisco HDLC. Values up to 1500 in an Ethernet
// header are an IEEE 802.3 length, not a type.
type EtherType uint16

// Common EtherTypes.
const (
	EtherTypeIPv4       EtherType = 0x0800
	EtherTypeARP        EtherType = 0x0806
	EtherTypeRARP       EtherType = 0x8035 // also Cisco SLARP inside Cisco HDLC
	EtherTypeVLAN       EtherType = 0x8100 // IEEE 802.1Q customer tag
	EtherTypeIPv6       EtherType = 0x86DD
	EtherTypePPP        EtherType = 0x880B
	EtherTypeMPLS       EtherType = 0x8847
	EtherTypePPPoEDisc  EtherType = 0x8863
	EtherTypePPPoESess  EtherType = 0x8864
	EtherTypeEAPOL      EtherType = 0x888E
	EtherTypeQinQ       EtherType = 0x88A8 // IEEE 802.1ad service tag
	EtherTypeLLDP       EtherType = 0x88CC
	EtherTypeMACsec     EtherType = 0x88E5
	EtherTypeQinQLegacy EtherType = 0x9100 // pre-standard double tagging
	EtherTypeLoopback   EtherType = 0x9000
)

// IsVLANTag reports whether e introduces an 802.1Q or 802.1ad tag.
func (e EtherType) IsVLANTag() bool {
	return e == EtherTypeVLAN || e == EtherTypeQinQ || e == EtherTypeQinQLegacy
}

// String names the EtherType ("IPv4", "802.1Q"), or gives it in hex.
func (e EtherType) String() string {
	switch e {
	case EtherTypeIPv4:
		return "IPv4"
	case EtherTypeARP:
		return "ARP"
	case EtherTypeRARP:
		return "RARP"
	case EtherTypeVLAN:
		return "802.1Q"
	case EtherTypeIPv6:
		return "IPv6"
	case EtherTypePPP:
		return "PPP"
	case EtherTypeMPLS:
		return "MPLS"
	case EtherTypePPPoEDisc:
		return "PPPoE-discovery"
	case EtherTypePPPoESess:
		return "PPPoE-session"
	case EtherTypeEAPOL:
		return "EAPOL"
	case EtherTypeQinQ:
		return "802.1ad"
	case EtherTypeLLDP:
		return "LLDP"
	case EtherTypeMACsec:
		return "MACsec"
	case EtherTypeQinQLegacy:
		return "QinQ"
	case EtherTypeLoopback:
		return "loopback"
	}
	return "0x" + hex4(uint16(e))
}

// IPProtocol is the IPv4 protocol / IPv6 next-header number.
type IPProtocol uint8

// IP protocol numbers, including the IPv6 extension headers.
const (
	IPProtocolHopByHop IPProtocol = 0
	IPProtocolICMPv4   IPProtocol = 1
	IPProtocolIGMP     IPProtocol = 2
	IPProtocolIPIP     IPProtocol = 4
	IPProtocolTCP      IPProtocol = 6
	IPProtocolUDP      IPProtocol = 17
	IPProtocolIPv6     IPProtocol = 41
	IPProtocolRouting  IPProtocol = 43
	IPProtocolFragment IPProtocol = 44
	IPProtocolGRE      IPProtocol = 47
	IPProtocolESP      IPProtocol = 50
	IPProtocolAH       IPProtocol = 51
	IPProtocolICMPv6   IPProtocol = 58
	IPProtocolNoNext   IPProtocol = 59
	IPProtocolDstOpts  IPProtocol = 60
	IPProtocolOSPF     IPProtocol = 89
	IPProtocolSCTP     IPProtocol = 132
	IPProtocolUDPLite  IPProtocol = 136
	IPProtocolMobility IPProtocol = 135
	IPProtocolHIP      IPProtocol = 139
	IPProtocolShim6    IPProtocol = 140
)

// String names the protocol ("TCP", "ICMPv6", "Fragment"), or gives its number.
func (p IPProtocol) String() string {
	switch p {
	case IPProtocolHopByHop:
		return "HopByHop"
	case IPProtocolICMPv4:
		return "ICMP"
	case IPProtocolIGMP:
		return "IGMP"
	case IPProtocolIPIP:
		return "IPIP"
	case IPProtocolTCP:
		return "TCP"
	case IPProtocolUDP:
		return "UDP"
	case IPProtocolIPv6:
		return "IPv6"
	case IPProtocolRouting:
		return "Routing"
	case IPProtocolFragment:
		return "Fragment"
	case IPProtocolGRE:
		return "GRE"
	case IPProtocolESP:
		return "ESP"
	case IPProtocolAH:
		return "AH"
	case IPProtocolICMPv6:
		return "ICMPv6"
	case IPProtocolNoNext:
		return "NoNext"
	case IPProtocolDstOpts:
		return "DestOpts"
	case IPProtocolOSPF:
		return "OSPF"
	case IPProtocolSCTP:
		return "SCTP"
	case IPProtocolUDPLite:
		return "UDPLite"
	case IPProtocolMobility:
		return "Mobility"
	case IPProtocolHIP:
		return "HIP"
	case IPProtocolShim6:
		return "Shim6"
	}
	return strconv.Itoa(int(p))
}

const hexDigits = "0123456789abcdef"

func hex4(v uint16) string {
	return string([]byte{hexDigits[v>>12], hexDigits[v>>8&15], hexDigits[v>>4&15], hexDigits[v&15]})
}
