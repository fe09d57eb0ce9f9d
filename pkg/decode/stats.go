package decode

import (
	"net/netip"
	"slices"
	"time"

	"github.com/netdiag/netdiag/pkg/layers"
	"github.com/netdiag/netdiag/pkg/layers/tlswire"
)

// Stats are the totals of a capture: packets and bytes per protocol, as a
// hierarchy (eth, eth/ipv4, eth/ipv4/tcp, ...), and a summary of every TCP
// and UDP conversation.
type Stats struct {
	Packets  int
	Bytes    int64 // on the wire
	Captured int64
	// First and Last are the first and last packet times.
	First, Last time.Time
	// Protocols lists every protocol path seen, parents before children,
	// siblings in order of first appearance.
	Protocols []ProtocolCount
	// Conversations in order of their numbers: every conversation, or
	// with Options.Filter those with packets that pass it.
	Conversations []*Conversation

	paths map[protoPath]*pathCount
	order []protoPath
	all   []*Conversation
	// current is the conversation entry of the frame being decoded.
	current *Conversation
}

// ProtocolCount is the packets and bytes of one protocol path: the
// packets whose headers begin with Path.
type ProtocolCount struct {
	// Path names the protocols from the outermost: ["eth", "ipv4", "tcp", "tls"].
	Path    []string
	Packets int
	Bytes   int64
}

// Conversation summarises one TCP connection or UDP flow.
type Conversation struct {
	N int
	// Proto is "tcp" or "udp".
	Proto string
	// Client sent the SYN (or the first packet); Server is its peer.
	Client, Server netip.AddrPort
	// FirstFrame and LastFrame are packet numbers.
	FirstFrame, LastFrame int
	First, Last           time.Time
	// Packets and Bytes (on the wire) from the client ([0]) and from the
	// server ([1]); Payload counts the transport payload bytes.
	Packets [2]int
	Bytes   [2]int64
	Payload [2]int64
	// ICMPErrors counts ICMP errors about the conversation's packets.
	ICMPErrors int
	// TCP is the handshake and close of a TCP connection; nil for UDP.
	TCP *TCPSummary
	// TLS is set for a conversation that carries TLS.
	TLS *TLSSummary

	selected bool // a packet of it passed Options.Filter
}

// Handshake says how a TCP connection's opening went.
type Handshake string

// The handshake outcomes.
const (
	HandshakeComplete   Handshake = "complete"   // SYN, SYN-ACK, ACK
	HandshakeRefused    Handshake = "refused"    // the server answered the SYN with a reset
	HandshakeRejected   Handshake = "rejected"   // an ICMP error came back for the SYN
	HandshakeUnanswered Handshake = "unanswered" // SYNs without any answer in the capture
	HandshakeIncomplete Handshake = "incomplete" // a SYN-ACK, but no ACK from the client
	HandshakeNotSeen    Handshake = "not-seen"   // the capture starts after the handshake
)

// Teardown says how a TCP connection ended.
type Teardown string

// The teardown outcomes.
const (
	TeardownClientFirst  Teardown = "client-first" // the client sent the first FIN
	TeardownServerFirst  Teardown = "server-first" // the server sent the first FIN
	TeardownResetClient  Teardown = "reset-by-client"
	TeardownResetServer  Teardown = "reset-by-server"
	TeardownOpen         Teardown = "open" // no FIN or RST in the capture
	TeardownNotConnected Teardown = "none" // the connection never opened
)

// TCPSummary is what the capture shows of a TCP connection's life.
type TCPSummary struct {
	Handshake Handshake
	// SYNs counts the client's SYNs (more than one: retransmitted),
	// SYNACKs the server's.
	SYNs, SYNACKs int
	// SYNACKAckOK: the SYN-ACK acknowledged the client's ISN + 1 (valid
	// when SYNACKs > 0 and the SYN was seen). ACKOK: the client's first
	// ACK acknowledged the server's ISN + 1 (valid when complete).
	SYNACKAckOK, ACKOK bool
	// ClientISN and ServerISN are the initial sequence numbers of the SYN
	// and the SYN-ACK (valid when seen); SYNACKAck and ACKAck the
	// acknowledgement numbers checked against them.
	ClientISN, ServerISN         uint32
	ClientISNSeen, ServerISNSeen bool
	SYNACKAck, ACKAck            uint32
	// HandshakeFrame is the packet that decided the handshake (the ACK,
	// the reset or the ICMP error).
	HandshakeFrame int
	// ICMP describes the error that rejected the SYN.
	ICMPType, ICMPCode uint8
	ICMPv6             bool
	ICMPFrom           netip.Addr

	Teardown Teardown
	// FIN[0] is the client's FIN, FIN[1] the server's.
	FIN [2]FINSummary
	// CloseFrame is the packet that ended the connection: the last ACK of
	// the close, or the reset.
	CloseFrame int
	// Retransmissions per direction.
	Retransmissions [2]int
}

// FINSummary is one direction's FIN and its acknowledgement.
type FINSummary struct {
	Sent  bool
	Seq   uint32
	Acked bool
	// Ack is the peer's acknowledgement number that acknowledged the FIN;
	// AckOK: it was exactly the FIN's sequence number + 1.
	Ack   uint32
	AckOK bool
}

// TLSSummary is what a conversation's TLS handshake negotiated, as far as
// the capture shows it.
type TLSSummary struct {
	ServerName  string
	Version     tlswire.Version
	CipherSuite tlswire.CipherSuite
	// Resumed: the server accepted a session (the abbreviated handshake).
	Resumed bool
	// Alerts lists the plaintext alerts; encrypted ones are counted.
	Alerts          []tlswire.Alert
	EncryptedAlerts int
	Err             string

	clientSession []byte
}

// protoPath is a protocol path as small numbers: layer types, then the
// application protocols below.
type protoPath [10]uint8

const (
	protoDNS  = 250
	protoTLS  = 251
	protoData = 252
)

type pathCount struct {
	packets int
	bytes   int64
}

func newStats() *Stats { return &Stats{paths: make(map[protoPath]*pathCount)} }

// add counts a frame in the capture's totals and, when it passes the
// filter, in the protocol totals and its conversation's selection.
func (s *Stats) add(f *Frame, selected bool) {
	if s.Packets == 0 {
		s.First = f.Time
	}
	s.Packets++
	s.Bytes += int64(f.Length)
	s.Captured += int64(f.Captured())
	s.Last = f.Time
	if !selected {
		return
	}
	if c := s.current; c != nil {
		c.selected = true
	}

	var path protoPath
	n := 0
	push := func(v uint8) {
		if n < len(path) {
			path[n] = v
			n++
		}
	}
	for _, sp := range f.Packet.Layers {
		if !sp.Quoted {
			push(uint8(sp.Type))
		}
	}
	switch {
	case f.DNS != nil:
		push(protoDNS)
	case f.TLS != nil && (len(f.TLS.Records) > 0 || f.TLS.Partial > 0):
		push(protoTLS)
	case len(f.Packet.Payload) > 0:
		push(protoData)
	}
	pc := s.paths[path]
	if pc == nil {
		pc = &pathCount{}
		s.paths[path] = pc
		s.order = append(s.order, path)
	}
	pc.packets++
	pc.bytes += int64(f.Length)
}

func pathName(v uint8) string {
	switch v {
	case protoDNS:
		return "dns"
	case protoTLS:
		return "tls"
	case protoData:
		return "data"
	}
	return layers.LayerType(v).String()
}

// conversation adds a packet to c's summary; dir is -1 for an ICMP error
// about the conversation.
func (s *Stats) conversation(c *conversation, f *Frame, dir int) {
	cs := c.stats
	if cs == nil {
		cs = &Conversation{N: c.n, Proto: "udp", Client: c.client, Server: c.server, FirstFrame: f.N, First: f.Time}
		if c.proto == layers.IPProtocolTCP {
			cs.Proto = "tcp"
		}
		c.stats = cs
		s.all = append(s.all, cs)
	}
	s.current = cs
	cs.LastFrame, cs.Last = f.N, f.Time
	if dir < 0 {
		cs.ICMPErrors++
		return
	}
	cs.Packets[dir]++
	cs.Bytes[dir] += int64(f.Length)
	switch c.proto {
	case layers.IPProtocolTCP:
		cs.Payload[dir] += int64(tcpPayloadLen(&f.Packet))
	default:
		cs.Payload[dir] += int64(len(f.Packet.UDP.Payload))
	}
}

// tlsSeen adds what a packet's TLS data says to the conversation summary.
func (s *Stats) tlsSeen(c *conversation, f *Frame) {
	cs := c.stats
	if cs == nil || f.TLS == nil {
		return
	}
	if cs.TLS == nil {
		cs.TLS = &TLSSummary{}
	}
	t := cs.TLS
	for i := range f.TLS.Records {
		r := &f.TLS.Records[i]
		if r.Type == tlswire.ContentAlert {
			if r.Alert != nil {
				t.Alerts = append(t.Alerts, *r.Alert)
			} else {
				t.EncryptedAlerts++
			}
		}
	}
	for i := range f.TLS.Messages {
		switch m := f.TLS.Messages[i].Msg.(type) {
		case *tlswire.ClientHello:
			t.ServerName = m.ServerName
			t.clientSession = append(t.clientSession[:0], m.SessionID...)
		case *tlswire.ServerHello:
			t.Version, t.CipherSuite = m.NegotiatedVersion(), m.CipherSuite
			t.Resumed = len(m.SessionID) > 0 && string(m.SessionID) == string(t.clientSession)
		}
	}
	if f.TLS.Err != nil && t.Err == "" {
		t.Err = f.TLS.Err.Error()
	}
}

// finish fills in the TCP summaries from the live conversations and the
// protocol hierarchy.
func (s *Stats) finish(t *conversations) {
	t.all(func(c *conversation) { c.summarize() })
	s.Conversations = s.Conversations[:0]
	for _, c := range s.all {
		if c.selected {
			s.Conversations = append(s.Conversations, c)
		}
	}
	s.Protocols = s.Protocols[:0]
	type node struct {
		pc    ProtocolCount
		first int
	}
	agg := make(map[string]*node)
	var keys []string
	for i, p := range s.order {
		pc := s.paths[p]
		var names []string
		for _, v := range p {
			if v == 0 {
				break
			}
			names = append(names, pathName(v))
			k := joinPath(names)
			nd := agg[k]
			if nd == nil {
				nd = &node{pc: ProtocolCount{Path: slices.Clone(names)}, first: i}
				agg[k] = nd
				keys = append(keys, k)
			}
			nd.pc.Packets += pc.packets
			nd.pc.Bytes += pc.bytes
		}
	}
	// Depth-first order: a parent, then its children in order of first
	// appearance.
	var walk func(prefix []string)
	walk = func(prefix []string) {
		for _, k := range keys {
			nd := agg[k]
			if len(nd.pc.Path) == len(prefix)+1 && slices.Equal(nd.pc.Path[:len(prefix)], prefix) {
				s.Protocols = append(s.Protocols, nd.pc)
				walk(nd.pc.Path)
			}
		}
	}
	walk(nil)
}

func joinPath(names []string) string {
	var b []byte
	for i, n := range names {
		if i > 0 {
			b = append(b, '/')
		}
		b = append(b, n...)
	}
	return string(b)
}

// summarize copies the TCP tracking of c into its Stats entry.
func (c *conversation) summarize() {
	cs := c.stats
	if cs == nil || c.proto != layers.IPProtocolTCP {
		return
	}
	tr := &c.tcp
	sum := &TCPSummary{
		SYNs: tr.syns, SYNACKs: tr.synAcks, SYNACKAckOK: tr.synAckOK, ACKOK: tr.ackOK,
		ClientISN: tr.dirs[0].isn, ClientISNSeen: tr.dirs[0].isnSeen,
		ServerISN: tr.dirs[1].isn, ServerISNSeen: tr.dirs[1].isnSeen,
		SYNACKAck: tr.synAckAck, ACKAck: tr.ackAck,
		HandshakeFrame: tr.handshakeEnd, CloseFrame: tr.closeFrame,
		ICMPType: tr.icmpType, ICMPCode: tr.icmpCode, ICMPv6: tr.icmpV6, ICMPFrom: tr.icmpFrom,
	}
	switch {
	case tr.established && tr.syns > 0:
		sum.Handshake = HandshakeComplete
	case tr.refused:
		sum.Handshake = HandshakeRefused
	case tr.rejected:
		sum.Handshake = HandshakeRejected
	case tr.synAcks > 0 && tr.syns > 0:
		sum.Handshake = HandshakeIncomplete
	case tr.syns > 0:
		sum.Handshake = HandshakeUnanswered
	default:
		sum.Handshake = HandshakeNotSeen
	}
	for i := range 2 {
		d := &tr.dirs[i]
		sum.FIN[i] = FINSummary{Sent: d.fin, Seq: d.finSeq, Acked: d.finAcked, Ack: d.finAck, AckOK: d.finAckOK}
		sum.Retransmissions[i] = d.retrans
	}
	switch {
	case tr.resetBy == 0:
		sum.Teardown = TeardownResetClient
	case tr.resetBy == 1:
		sum.Teardown = TeardownResetServer
	case tr.firstFIN == 0:
		sum.Teardown = TeardownClientFirst
	case tr.firstFIN == 1:
		sum.Teardown = TeardownServerFirst
	case sum.Handshake == HandshakeComplete || sum.Handshake == HandshakeNotSeen:
		sum.Teardown = TeardownOpen
	default:
		sum.Teardown = TeardownNotConnected
	}
	cs.TCP = sum
}
