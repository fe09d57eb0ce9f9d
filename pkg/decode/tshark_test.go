package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	glayers "github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/netdiag/netdiag/pkg/layers"
	"github.com/netdiag/netdiag/pkg/layers/tlswire"
)

// tsharkFields are the fields compared with tshark, packet by packet: the
// protocol stack, addresses, ports, TTLs, TCP sequence numbers (absolute)
// and flags, ICMP types and codes (the quoted datagram of an ICMP error
// included, as tshark lists every occurrence), TLS records and handshake
// messages with SNI and cipher suites, and DNS questions and answers.
var tsharkFields = []string{
	"frame.number", "frame.protocols",
	"eth.src", "eth.dst", "arp.opcode",
	"ip.src", "ip.dst", "ip.ttl", "ip.proto",
	"ipv6.src", "ipv6.dst", "ipv6.hlim",
	"tcp.srcport", "tcp.dstport", "tcp.seq", "tcp.ack", "tcp.flags",
	"udp.srcport", "udp.dstport",
	"icmp.type", "icmp.code", "icmpv6.type", "icmpv6.code",
	"tls.record.content_type", "tls.record.version", "tls.record.length",
	"tls.handshake.type", "tls.handshake.extensions_server_name", "tls.handshake.ciphersuite",
	"dns.id", "dns.flags.response", "dns.qry.name", "dns.qry.type", "dns.a", "dns.aaaa", "dns.flags.rcode",
}

// TestAgainstTshark compares every committed capture with tshark: decode's
// own, and pkg/layers' (raw IP, Linux cooked v1, VLAN tags, IPv4 options,
// IPv6 extension headers, MTU errors).
func TestAgainstTshark(t *testing.T) {
	requireTshark(t)
	var files []string
	for _, dir := range []string{captureDir, "../../testdata/layers"} {
		f, err := filepath.Glob(filepath.Join(dir, "*.pcap*"))
		if err != nil || len(f) == 0 {
			t.Fatalf("no captures in %s: %v", dir, err)
		}
		files = append(files, f...)
	}
	for _, f := range files {
		t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			compareWithTshark(t, f)
		})
	}
}

func requireTshark(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark is not installed (Debian package tshark)")
	}
}

// compareWithTshark decodes path with netdiag and with tshark and fails
// on the first fields that differ, packet by packet.
func compareWithTshark(t *testing.T, path string) {
	t.Helper()
	want := tsharkRows(t, path)
	got := ourRows(t, path)
	if len(got) != len(want) {
		t.Errorf("%s: netdiag decodes %d packets, tshark %d", path, len(got), len(want))
	}
	bad := 0
	for i := range min(len(got), len(want)) {
		g, w := strings.Split(got[i], "\t"), strings.Split(want[i], "\t")
		for j := range tsharkFields {
			if g[j] != w[j] {
				t.Errorf("%s packet %d: %s: netdiag %q, tshark %q", filepath.Base(path), i+1, tsharkFields[j], g[j], w[j])
				bad++
			}
		}
		if bad > 20 {
			t.Fatal("too many differences")
		}
	}
}

func tsharkRows(t *testing.T, path string) []string {
	t.Helper()
	// netdiag shows each IP fragment as it is (the transport header in
	// the first), so tshark must not reassemble them either.
	args := []string{"-r", path, "-n", "-o", "tcp.relative_sequence_numbers:FALSE",
		"-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
		"-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"}
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command("tshark", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %s: %v\n%s", path, err, stderr.String())
	}
	var rows []string
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		cols := strings.Split(l, "\t")
		cols[1] = normalizeProtocols(cols[1])
		if strings.Contains(cols[1], "icmp:ipv4:") || strings.Contains(cols[1], "icmpv6:ipv6:") {
			// netdiag decodes the headers an ICMP error quotes, not the
			// application data after them (tshark tries DNS there).
			cols[1] = strings.TrimSuffix(cols[1], ":dns")
			for i, f := range tsharkFields {
				if strings.HasPrefix(f, "dns.") {
					cols[i] = ""
				}
			}
		}
		rows = append(rows, strings.Join(cols, "\t"))
	}
	return rows
}

// normalizeProtocols maps tshark's frame.protocols to netdiag's layer
// names ("ip" is ipv4; an 802.1ad service tag is a vlan layer too), and
// drops what netdiag does not show as a layer of its own: the EtherType
// and raw-IP pseudo-layers, IPv6 extension headers (part of the ipv6
// layer), undecoded payload ("data", "echo") and the X.509 dissection
// inside a Certificate.
func normalizeProtocols(s string) string {
	var out []string
	for _, p := range strings.Split(s, ":") {
		switch {
		case p == "ethertype", p == "raw", p == "data", p == "echo", strings.HasPrefix(p, "x509"), strings.HasPrefix(p, "ipv6."):
			continue
		case p == "ip":
			p = "ipv4"
		case p == "ieee8021ad":
			p = "vlan"
		case p == "tls" && len(out) > 0 && out[len(out)-1] == "tls":
			continue
		}
		out = append(out, p)
	}
	return strings.Join(out, ":")
}

// ourRows decodes path and renders the tsharkFields for each packet.
func ourRows(t *testing.T, path string) []string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r, err := NewReader(fh)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	d := NewDecoder(Options{})
	var rows []string
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rows = append(rows, fieldRow(d.Decode(rec)))
	}
	return rows
}

// fieldRow renders one frame as tshark -T fields would, in tsharkFields
// order.
func fieldRow(f *Frame) string {
	cols := make(map[string][]string)
	add := func(k, v string) { cols[k] = append(cols[k], v) }
	p := &f.Packet
	var protos []string
	for _, sp := range p.Layers {
		name := sp.Type.String()
		switch name {
		case "sll2":
			name = "sll"
		}
		protos = append(protos, name)
	}
	if f.DNS != nil {
		protos = append(protos, "dns")
	}
	if f.TLS != nil && (len(f.TLS.Records) > 0 || f.TLS.Partial > 0) {
		// Like tshark, a TLS layer where a record begins or completes.
		protos = append(protos, "tls")
	}
	add("frame.protocols", strings.Join(protos, ":"))
	add("frame.number", strconv.Itoa(f.N))
	if p.Has(layers.LayerEthernet) {
		add("eth.src", p.Ethernet.Src.String())
		add("eth.dst", p.Ethernet.Dst.String())
	}
	if p.Has(layers.LayerARP) {
		add("arp.opcode", strconv.Itoa(int(p.ARP.Operation)))
	}
	ipv4 := func(ip *layers.IPv4) {
		add("ip.src", ip.Src.String())
		add("ip.dst", ip.Dst.String())
		add("ip.ttl", strconv.Itoa(int(ip.TTL)))
		add("ip.proto", strconv.Itoa(int(ip.Protocol)))
	}
	ipv6 := func(ip *layers.IPv6) {
		add("ipv6.src", ip.Src.String())
		add("ipv6.dst", ip.Dst.String())
		add("ipv6.hlim", strconv.Itoa(int(ip.HopLimit)))
	}
	tcp := func(sp, dp uint16, seq, ack uint32, flags layers.TCPFlags, hasAck bool) {
		add("tcp.srcport", strconv.Itoa(int(sp)))
		add("tcp.dstport", strconv.Itoa(int(dp)))
		add("tcp.seq", strconv.FormatUint(uint64(seq), 10))
		if hasAck {
			add("tcp.ack", strconv.FormatUint(uint64(ack), 10))
			add("tcp.flags", fmt.Sprintf("0x%04x", uint16(flags)))
		}
	}
	udp := func(sp, dp uint16) {
		add("udp.srcport", strconv.Itoa(int(sp)))
		add("udp.dstport", strconv.Itoa(int(dp)))
	}
	if p.Has(layers.LayerIPv4) {
		ipv4(&p.IPv4)
	}
	if p.Has(layers.LayerIPv6) {
		ipv6(&p.IPv6)
	}
	if p.Has(layers.LayerTCP) {
		tcp(p.TCP.SrcPort, p.TCP.DstPort, p.TCP.Seq, p.TCP.Ack, p.TCP.Flags, true)
	}
	if p.Has(layers.LayerUDP) {
		udp(p.UDP.SrcPort, p.UDP.DstPort)
	}
	var q *layers.Quote
	if p.Has(layers.LayerICMPv4) {
		add("icmp.type", strconv.Itoa(int(p.ICMPv4.Type)))
		add("icmp.code", strconv.Itoa(int(p.ICMPv4.Code)))
		if p.ICMPv4.IsError() {
			q = &p.ICMPv4.Quote
		}
	}
	if p.Has(layers.LayerICMPv6) {
		add("icmpv6.type", strconv.Itoa(int(p.ICMPv6.Type)))
		add("icmpv6.code", strconv.Itoa(int(p.ICMPv6.Code)))
		if p.ICMPv6.IsError() {
			q = &p.ICMPv6.Quote
		}
	}
	if q != nil {
		switch q.Version {
		case 4:
			ipv4(&q.IPv4)
		case 6:
			ipv6(&q.IPv6)
		}
		switch {
		case q.Protocol == layers.IPProtocolTCP && q.HasSeq:
			tcp(q.SrcPort, q.DstPort, q.Seq, q.Ack, q.Flags, q.HasAck)
		case q.Protocol == layers.IPProtocolUDP && q.HasPorts:
			udp(q.SrcPort, q.DstPort)
		case q.Protocol == layers.IPProtocolICMPv4 && q.HasICMP:
			add("icmp.type", strconv.Itoa(int(q.ICMPType)))
			add("icmp.code", strconv.Itoa(int(q.ICMPCode)))
		case q.Protocol == layers.IPProtocolICMPv6 && q.HasICMP:
			add("icmpv6.type", strconv.Itoa(int(q.ICMPType)))
			add("icmpv6.code", strconv.Itoa(int(q.ICMPCode)))
		}
	}
	if f.TLS != nil {
		for _, r := range f.TLS.Records {
			add("tls.record.content_type", strconv.Itoa(int(r.Type)))
			add("tls.record.version", fmt.Sprintf("0x%04x", uint16(r.Version)))
			add("tls.record.length", strconv.Itoa(r.Length))
		}
		for _, m := range f.TLS.Messages {
			add("tls.handshake.type", strconv.Itoa(int(m.Type)))
			switch x := m.Msg.(type) {
			case *tlswire.ClientHello:
				if x.ServerName != "" {
					add("tls.handshake.extensions_server_name", x.ServerName)
				}
				for _, cs := range x.CipherSuites {
					add("tls.handshake.ciphersuite", fmt.Sprintf("0x%04x", uint16(cs)))
				}
			case *tlswire.ServerHello:
				add("tls.handshake.ciphersuite", fmt.Sprintf("0x%04x", uint16(x.CipherSuite)))
			}
		}
	}
	if m := f.DNS; m != nil {
		add("dns.id", fmt.Sprintf("0x%04x", m.ID))
		add("dns.flags.response", map[bool]string{false: "0", true: "1"}[m.Response])
		for _, q := range m.Questions {
			add("dns.qry.name", string(q.Name))
			add("dns.qry.type", strconv.Itoa(int(q.Type)))
		}
		for i := range m.Answers {
			a := &m.Answers[i]
			switch a.Type {
			case 1:
				add("dns.a", string(a.AppendData(nil)))
			case 28:
				add("dns.aaaa", string(a.AppendData(nil)))
			}
		}
		if m.Response {
			add("dns.flags.rcode", strconv.Itoa(int(m.Rcode)))
		}
	}
	row := make([]string, len(tsharkFields))
	for i, k := range tsharkFields {
		row[i] = strings.Join(cols[k], ",")
	}
	return strings.Join(row, "\t")
}

// linkFramings wrap an Ethernet frame's payload in the other link types
// netdiag reads; a framing returns nil for a packet it cannot carry (ARP
// over a link that carries only IP).
var linkFramings = []struct {
	lt    layers.LinkType
	frame func(eth []byte) []byte
}{
	{layers.LinkTypeNull, ipOnly(func(v6 bool) []byte { return le32(map[bool]uint32{false: 2, true: 30}[v6]) })},
	{layers.LinkTypeLoop, ipOnly(func(v6 bool) []byte { return be32(map[bool]uint32{false: 2, true: 24}[v6]) })},
	{layers.LinkTypePPP, ipOnly(func(v6 bool) []byte { return []byte{0xff, 0x03, 0x00, map[bool]byte{false: 0x21, true: 0x57}[v6]} })},
	{layers.LinkTypePPPHDLC, ipOnly(func(v6 bool) []byte { return []byte{0xff, 0x03, 0x00, map[bool]byte{false: 0x21, true: 0x57}[v6]} })},
	{layers.LinkTypeCHDLC, ipOnly(func(v6 bool) []byte { return []byte{0x0f, 0x00, 0x86, 0xdd}[:2:2] })},
	{layers.LinkTypeRaw, ipOnly(func(bool) []byte { return nil })},
	{layers.LinkTypeIPv4, func(eth []byte) []byte {
		if binary.BigEndian.Uint16(eth[12:]) != 0x0800 {
			return nil
		}
		return bytes.Clone(eth[14:])
	}},
	{layers.LinkTypeIPv6, func(eth []byte) []byte {
		if binary.BigEndian.Uint16(eth[12:]) != 0x86dd {
			return nil
		}
		return bytes.Clone(eth[14:])
	}},
	{layers.LinkTypeLinuxSLL, func(eth []byte) []byte {
		// Received, ARPHRD_ETHER, the source MAC, the EtherType.
		h := []byte{0, 0, 0, 1, 0, 6}
		h = append(append(h, eth[6:12]...), 0, 0)
		return append(append(h, eth[12:14]...), eth[14:]...)
	}},
	{layers.LinkTypeLinuxSLL2, func(eth []byte) []byte {
		// The EtherType, interface 3, ARPHRD_ETHER, sent by us, the MAC.
		h := append(bytes.Clone(eth[12:14]), 0, 0, 0, 0, 0, 3, 0, 1, 4, 6)
		h = append(append(h, eth[6:12]...), 0, 0)
		return append(h, eth[14:]...)
	}},
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// ipOnly frames the IP packets of Ethernet frames behind the header that
// head returns for IPv4 or IPv6 (Cisco HDLC's header ends in the
// EtherType, added here).
func ipOnly(head func(v6 bool) []byte) func([]byte) []byte {
	return func(eth []byte) []byte {
		et := binary.BigEndian.Uint16(eth[12:])
		if et != 0x0800 && et != 0x86dd {
			return nil
		}
		h := head(et == 0x86dd)
		if len(h) == 2 { // Cisco HDLC: address, control, then the EtherType
			h = append(h, eth[12:14]...)
		}
		return append(h, eth[14:]...)
	}
}

// TestLinkTypesAgainstTshark reframes the lab's Ethernet captures in every
// other link type netdiag reads (BSD loopback in both byte orders, PPP,
// PPP in HDLC framing, Cisco HDLC, the raw IP types, Linux cooked v1 and
// v2) and compares each with tshark, packet by packet: the same IP, TCP,
// TLS and DNS must come out whatever carries them.
func TestLinkTypesAgainstTshark(t *testing.T) {
	requireTshark(t)
	var frames [][]byte
	for _, name := range []string{"tcp.pcap", "ipv6.pcap", "tls-openssl.pcap"} {
		recs, err := readAll(t, readCapture(t, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			frames = append(frames, r.Data)
		}
	}
	dir := t.TempDir()
	for _, lf := range linkFramings {
		t.Run(lf.lt.String(), func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			w := pcapgo.NewWriter(&buf)
			if err := w.WriteFileHeader(65535, glayers.LinkType(lf.lt)); err != nil {
				t.Fatal(err)
			}
			n := 0
			for i, eth := range frames {
				b := lf.frame(eth)
				if b == nil {
					continue
				}
				ci := gopacket.CaptureInfo{Timestamp: time.Unix(1_700_000_000, int64(i)*1000), CaptureLength: len(b), Length: len(b)}
				if err := w.WritePacket(ci, b); err != nil {
					t.Fatal(err)
				}
				n++
			}
			path := filepath.Join(dir, lf.lt.String()+".pcap")
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			recs, err := readAll(t, buf.Bytes())
			if err != nil || len(recs) != n {
				t.Fatalf("read %d of %d packets: %v", len(recs), n, err)
			}
			compareWithTshark(t, path)
		})
	}
}

// midStream writes the packets of a lab capture from packet from on into
// dir, as if the capture had begun there, and returns the file's path.
func midStream(t *testing.T, dir, name string, from int) string {
	t.Helper()
	recs, err := readAll(t, readCapture(t, name))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, glayers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs[from-1:] {
		ci := gopacket.CaptureInfo{Timestamp: r.Time, CaptureLength: len(r.Data), Length: r.Length}
		if err := w.WritePacket(ci, r.Data); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%d.pcap", name, from))
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMidStreamAgainstTshark cuts the TLS captures so that they begin
// after the handshakes and compares them with tshark: a capture that
// starts in the middle of a TLS session still shows its records.
func TestMidStreamAgainstTshark(t *testing.T) {
	requireTshark(t)
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		from int // the first packet kept
	}{{"tls-openssl.pcap", 14}, {"tls-openssl.pcap", 37}, {"tls-gnutls.pcap", 20}} {
		t.Run(fmt.Sprintf("%s/from-%d", c.name, c.from), func(t *testing.T) {
			compareWithTshark(t, midStream(t, dir, c.name, c.from))
		})
	}
}

// TestMidStreamRecords checks cuts where tshark does not follow TLS as
// far: one that begins in the middle of the server's answer (tshark then
// shows no TLS at all; the alerts that end the session are still
// records), and one that begins before the server's NewSessionTicket,
// which TLS 1.2 sends in the clear before ChangeCipherSpec (tshark calls
// it encrypted).
func TestMidStreamRecords(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		from int
		want []string
	}{
		{"tls-openssl.pcap", 16, []string{"8: r21/26", "9: r21/26"}},
		{"tls-gnutls.pcap", 12, []string{"2: r22/7 r22/37 r20/1 r22/40 m11 m16", "3: r22/416 r20/1 r22/40 m4",
			"4: r23/42", "5: r23/924", "6: r21/26", "8: r21/26"}},
	} {
		b, err := os.ReadFile(midStream(t, dir, c.name, c.from))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := readAll(t, b)
		if err != nil {
			t.Fatal(err)
		}
		// The first session of the cut; the later ones are whole.
		got := tlsEvents(recs)
		if got = got[:min(len(got), len(c.want))]; fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s from packet %d:\n got %q\nwant %q", c.name, c.from, got, c.want)
		}
	}
}
