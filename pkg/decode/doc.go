// Package decode reads packet captures and decodes them layer by layer for
// `netdiag decode`: what pkg/layers decodes per packet, plus what only a
// whole capture shows — which conversation a packet belongs to, TCP
// retransmissions, the TCP handshake and close, DNS messages, and TLS
// records and handshake messages reassembled across segments.
//
// # Reading
//
// Reader reads pcap and pcapng (and either gzip-compressed) from any
// io.Reader, one packet at a time, with github.com/gopacket/gopacket/pcapgo
// underneath; the format is recognised by its magic number. Only the
// current packet is held, in a buffer reused for the next, so memory does
// not grow with the file. A counting layer under the read-ahead buffer
// gives every record its byte offset, so damage is reported precisely
// (ReadError: packet number, offset, ErrTruncated or ErrCorrupt); packets
// before the damage are delivered normally. ParseHex reads frames written
// as hex: plain, od -Ax -tx1, tcpdump -xx/-XX, xxd, hexdump -C.
//
// # Decoding
//
// Decoder turns each Record into a Frame, reusing one Frame and one
// layers.Packet throughout: decoding the usual protocols allocates
// nothing per packet. The headers come from pkg/layers (Ethernet, 802.1Q,
// ARP, the Linux cooked and WAN framings, IPv4, IPv6, ICMP, ICMPv6 with
// the quoted datagram of errors, TCP, UDP); this package adds:
//
//   - Conversations: TCP connections and UDP flows numbered from 1 in
//     order of appearance (a new SYN on the ports of a finished connection
//     starts a new one; an ICMP error counts in the conversation of the
//     datagram it quotes). The table is bounded (Options.MaxConversations):
//     the least recently active are forgotten first.
//   - TCP analysis: retransmissions (sequence space already seen in that
//     direction, keep-alives excepted), and for Stats the handshake (SYN,
//     SYN-ACK acknowledging ISN+1, ACK acknowledging ISN+1; refused by a
//     reset, rejected by ICMP, unanswered) and the close (who sent the
//     first FIN, each FIN acknowledged with its sequence number + 1, or a
//     reset).
//   - TLS: a conversation whose first payload is a TLS handshake record
//     (or, in a capture that began after the TCP handshake, one of whose
//     first payloads begins with any TLS record) is followed per direction
//     in sequence order — retransmitted bytes
//     dropped, early segments held (at most MaxOutOfOrder bytes) until the
//     gap is filled — and fed to a tlswire.Conversation, which splits
//     records, reassembles handshake messages and marks what follows
//     ChangeCipherSpec as encrypted (keeping only the header of encrypted
//     records). A record or message is reported with the packet that
//     completes it, as tshark does. All TLS conversations together hold
//     at most MaxTLSHeld bytes; one that would take more is given up.
//   - DNS on ports 53, 5353 and 5355 (over UDP, and over TCP when a
//     segment holds a whole message), decoded with gopacket's DNS layer:
//     it is fuzzed upstream, follows compression pointers safely, and
//     decodes into reused structures, so writing our own parser would add
//     risk without adding anything decode needs.
//
// Filter selects frames after decoding (so numbering and reassembly never
// depend on it), and Stats collects per-protocol and per-conversation
// totals when Options.Stats is set.
//
// The model is checked against tshark packet by packet on the captures in
// testdata/decode (TestAgainstTshark), which testdata/decode/capture.sh
// records in network-namespace labs; TestLabCaptures makes the same
// traffic afresh on every run and compares again.
package decode
