package decode

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"

	"github.com/gopacket/gopacket"
	glayers "github.com/gopacket/gopacket/layers"
	"github.com/netdiag/netdiag/pkg/layers"
)

// DNS ports: DNS, multicast DNS and LLMNR share the message format.
func isDNSPort(a, b uint16) bool {
	dns := func(p uint16) bool { return p == 53 || p == 5353 || p == 5355 }
	return dns(a) || dns(b)
}

// DNSMessage is a decoded DNS query or response: the header, the
// questions and the records of the answer section; the authority and
// additional sections are counted. Names alias the decoder's buffers and
// are valid as long as the Frame.
type DNSMessage struct {
	ID       uint16
	Response bool
	Opcode   uint8
	Rcode    uint8
	// The header flags: authoritative answer, truncated, recursion desired
	// and available.
	AA, TC, RD, RA bool
	Questions      []DNSQuestion
	Answers        []DNSRecord
	// AnswerCount is the header's count of answers; Answers holds fewer
	// when the message ends early (Err).
	AnswerCount int
	// Authorities and Additionals count the records of those sections.
	Authorities, Additionals int
	// Err is set when the message could not be decoded to its end; what
	// was decoded before the problem is kept.
	Err error
}

// DNSQuestion is one entry of the question section.
type DNSQuestion struct {
	Name  []byte
	Type  uint16
	Class uint16
}

// DNSRecord is one resource record of the answer section.
type DNSRecord struct {
	Name  []byte
	Type  uint16
	Class uint16
	TTL   uint32
	// rdata is the decoded data, rendered by AppendData.
	addr   netip.Addr
	target []byte   // CNAME, NS, PTR, MX, SRV, SOA name
	pref   uint16   // MX preference
	port   uint16   // SRV port
	txt    [][]byte // TXT strings
	raw    []byte
}

// TypeName names a DNS record type ("A", "AAAA", "CNAME").
func TypeName(t uint16) string { return glayers.DNSType(t).String() }

// ClassName names a DNS class ("IN").
func ClassName(c uint16) string { return glayers.DNSClass(c).String() }

// RcodeName names a DNS response code ("No Error", "Non-Existent Domain").
func RcodeName(r uint8) string { return glayers.DNSResponseCode(r).String() }

// AppendData appends the record's data as text: an address, a name,
// "10 mail.example." for MX, "host:port" for SRV, quoted strings for TXT,
// and the length for types it does not render.
func (r *DNSRecord) AppendData(b []byte) []byte {
	switch {
	case r.addr.IsValid():
		return r.addr.AppendTo(b)
	case glayers.DNSType(r.Type) == glayers.DNSTypeMX:
		b = strconv.AppendUint(b, uint64(r.pref), 10)
		return append(append(b, ' '), r.target...)
	case glayers.DNSType(r.Type) == glayers.DNSTypeSRV:
		b = append(b, r.target...)
		return strconv.AppendUint(append(b, ':'), uint64(r.port), 10)
	case r.target != nil:
		return append(b, r.target...)
	case r.txt != nil:
		for i, s := range r.txt {
			if i > 0 {
				b = append(b, ' ')
			}
			b = strconv.AppendQuote(b, string(s))
		}
		return b
	}
	b = append(b, "<"...)
	b = strconv.AppendInt(b, int64(len(r.raw)), 10)
	return append(b, " bytes>"...)
}

// dnsParser decodes DNS with gopacket's decoder into a reused message.
type dnsParser struct {
	g glayers.DNS
}

// ErrDNSFragmented: a DNS message over UDP continues in IP fragments that
// decode does not reassemble.
var ErrDNSFragmented = errors.New("the message continues in the next IP fragment, which is not reassembled")

func (d *Decoder) dnsUDP(f *Frame, payload []byte) {
	if len(payload) == 0 {
		return
	}
	d.dnsp.decode(&f.dns, payload)
	f.DNS = &f.dns
	if f.dns.Err != nil && moreFragments(&f.Packet) {
		f.dns.Err = ErrDNSFragmented
	}
}

// moreFragments reports whether the packet is the first fragment of a
// larger IP packet.
func moreFragments(p *layers.Packet) bool {
	switch p.NetworkLayer() {
	case layers.LayerIPv4:
		return p.IPv4.MoreFragments()
	case layers.LayerIPv6:
		return p.IPv6.HasFragment && p.IPv6.MoreFragments
	}
	return false
}

// dnsTCP decodes a DNS message over TCP when the segment holds one whole,
// after its two-byte length; messages spread over segments are left as
// data.
func (d *Decoder) dnsTCP(f *Frame, payload []byte) {
	n := int(binary.BigEndian.Uint16(payload))
	if n == 0 || len(payload) != n+2 {
		return
	}
	d.dnsp.decode(&f.dns, payload[2:])
	f.DNS = &f.dns
}

func (p *dnsParser) decode(m *DNSMessage, b []byte) {
	err := p.g.DecodeFromBytes(b, gopacket.NilDecodeFeedback)
	g := &p.g
	if len(b) < 12 {
		// gopacket stops before the header; show what there is of it.
		*m = DNSMessage{Questions: m.Questions[:0], Answers: m.Answers[:0], Err: err}
		if len(b) >= 2 {
			m.ID = binary.BigEndian.Uint16(b)
		}
		if len(b) >= 3 {
			m.Response, m.Opcode = b[2]&0x80 != 0, b[2]>>3&0xf
			m.AA, m.TC, m.RD = b[2]&4 != 0, b[2]&2 != 0, b[2]&1 != 0
		}
		if len(b) >= 4 {
			m.RA, m.Rcode = b[3]&0x80 != 0, b[3]&0xf
		}
		return
	}
	*m = DNSMessage{
		Questions: m.Questions[:0], Answers: m.Answers[:0],
		ID: g.ID, Response: g.QR, Opcode: uint8(g.OpCode), Rcode: uint8(g.ResponseCode),
		AA: g.AA, TC: g.TC, RD: g.RD, RA: g.RA,
		AnswerCount: int(g.ANCount), Authorities: int(g.NSCount), Additionals: int(g.ARCount),
		Err: err,
	}
	for i := range g.Questions {
		q := &g.Questions[i]
		m.Questions = append(m.Questions, DNSQuestion{Name: q.Name, Type: uint16(q.Type), Class: uint16(q.Class)})
	}
	for i := range g.Answers {
		a := &g.Answers[i]
		r := DNSRecord{Name: a.Name, Type: uint16(a.Type), Class: uint16(a.Class), TTL: a.TTL, raw: a.Data}
		switch a.Type {
		case glayers.DNSTypeA:
			r.addr, _ = netip.AddrFromSlice(a.IP)
			r.addr = r.addr.Unmap()
		case glayers.DNSTypeAAAA:
			r.addr, _ = netip.AddrFromSlice(a.IP)
		case glayers.DNSTypeCNAME:
			r.target = a.CNAME
		case glayers.DNSTypeNS:
			r.target = a.NS
		case glayers.DNSTypePTR:
			r.target = a.PTR
		case glayers.DNSTypeMX:
			r.target, r.pref = a.MX.Name, a.MX.Preference
		case glayers.DNSTypeSRV:
			r.target, r.port = a.SRV.Name, a.SRV.Port
		case glayers.DNSTypeSOA:
			r.target = a.SOA.MName
		case glayers.DNSTypeTXT:
			r.txt = a.TXTs
		}
		m.Answers = append(m.Answers, r)
	}
}
