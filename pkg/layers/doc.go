// Package layers is netdiag's packet core: it decodes and builds the
// headers that ping, tcpprobe and decode work with, computes and verifies
// their checksums, and places each header in the TCP/IP model.
//
// # What it covers
//
//   - Link: Ethernet II (with an optional FCS, CRC-32 helpers), 802.1Q and
//     802.1ad tags (stacked), ARP, Linux cooked captures (SLL, SLL2), BSD
//     loopback (NULL and LOOP), raw IP, PPP (with or without HDLC-like
//     framing) and Cisco HDLC. LinkType holds the pcap LINKTYPE numbers.
//   - Network: IPv4 with options, flags and fragments; IPv6 with the
//     extension-header walk (hop-by-hop, routing, fragment, destination
//     options, AH, ...) to the upper layer; ICMPv4 and ICMPv6 with a name
//     for every type and code in common use, and the datagram quoted in an
//     error parsed into a Quote, so that an error can be matched to the
//     ICMP echo, TCP SYN or UDP probe that caused it.
//   - Transport: TCP with every flag and option (unknown kinds kept raw),
//     UDP; checksums over the IPv4 and IPv6 pseudo-headers.
//
// TLS records live in the subpackage tlswire; DNS is left to its users.
//
// # Decoding
//
// Each header type has DecodeFromBytes, which fills a struct the caller
// owns and reuses; byte slices in it alias the input. Packet.Decode runs
// the chain for a whole captured frame of a given link type, records each
// header's Span (its byte range, TCP/IP layer and PDU name: the
// encapsulation view) and stops at the first header it cannot decode,
// saying why in Packet.Err; a capture cut short decodes as far as its bytes
// go. Decoding a packet allocates nothing once a Packet has been used, and
// errors are preallocated values, so broken input costs no allocations
// either. Checksums are verified on request (Packet.Checksum, or each
// type's VerifyChecksum), which also tells a checksum left for the network
// card to fill (ChecksumOffloaded) from a bad one.
//
// For ping: DecodeICMPv4Read decodes a read from an IPv4 ICMP socket, raw
// (with IP header) or datagram (without); ICMPv6 sockets never include the
// IPv6 header, so ICMPv6.DecodeFromBytes is the whole job. For errors,
// ICMPv4.Quote and ICMPv6.Quote hold the quoted echo ID and sequence or
// the quoted TCP/UDP 4-tuple and TCP sequence number.
//
// For tcpprobe: what a SOCK_DGRAM packet socket or an IPv4 raw socket
// reads starts at the IP header, so Packet.Decode(LinkTypeRaw, b) decodes
// it whole; an IPv6 raw socket delivers the TCP segment alone, for
// TCP.DecodeFromBytes, with VerifyChecksum given the addresses from the
// socket.
//
// # Building
//
// Each header type has AppendTo, which appends its wire form to a
// caller-supplied buffer (no allocation when the buffer has room), and
// computes lengths and checksums from the fields, writing them back into
// the struct. Build outer headers first, giving each the length of what
// follows, e.g. an IPv4 TCP SYN:
//
//	b, _ = ip.AppendTo(b, tcp.Len()+len(payload))
//	b, _ = tcp.AppendTo(b, ip.Src, ip.Dst, payload)
//
// To send a deliberately wrong checksum, build and then change the bytes.
//
// # Why our own code and not gopacket's layers
//
// DESIGN.md asks for github.com/gopacket/gopacket/layers where it serves.
// For the core it does not, for four reasons. It has no parser for the
// datagram quoted in an ICMP error (its ICMP layers hand the quote on as an
// opaque payload), and matching errors to probes is what ping and tcpprobe
// need most. It does not record where each header lies in the frame, which
// decode's hex view and encapsulation tree are built on, nor which TCP/IP
// layer and PDU each header is. Its SerializeLayers needs a SerializeBuffer
// and a gopacket.Layer interface per header, where tcpprobe wants to append
// a SYN with a pseudo-header checksum into its own buffer. And reaching zero
// allocations per packet, which decode's speed targets need, would mean
// wrapping its DecodingLayerParser with our own dispatch anyway, and it has
// no decoder for Cisco HDLC. So the headers here are small hand-written
// parsers, which is also what keeps them fast.
//
// gopacket serves as the independent oracle: the tests decode every
// captured packet under testdata/layers with gopacket's layers as well and
// require the same fields, and they read the captures with gopacket's
// pcapgo, which decode uses to read pcap and pcapng files too.
package layers
