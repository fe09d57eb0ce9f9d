package cli

import (
	"github.com/netdiag/netdiag/pkg/decode"
	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/layers"
)

// dumpLabelWidth is the width of the label column of the hex dump.
const dumpLabelWidth = 12

// appendDump writes the packet's bytes in hex and ASCII, 16 to a line, with
// each layer's header starting a line of its own and named in the left
// column, so that the encapsulation shows: the Ethernet header, then the
// IP header, then TCP, then the data. Headers quoted inside an ICMP error
// are named "quoted ipv4" and so on; bytes after the IP packet inside an
// Ethernet frame are the "trailer" (padding or frame check sequence).
func appendDump(b []byte, f *decode.Frame, indent string) []byte {
	p := &f.Packet
	data := p.Data
	cursor := 0
	region := func(label string, start, end int) {
		start, end = max(start, cursor), min(end, len(data))
		if start > cursor {
			b = appendDumpRegion(b, indent, "data", data, cursor, start)
		}
		if end > start {
			b = appendDumpRegion(b, indent, label, data, start, end)
			cursor = end
		}
	}
	for _, sp := range p.Layers {
		label := sp.Type.String()
		if sp.Quoted {
			label = "quoted " + label
		}
		region(label, sp.Start, sp.HeaderEnd)
	}
	if len(p.Payload) > 0 {
		label := "data"
		switch {
		case f.DNS != nil:
			label = "dns"
		case f.TLS != nil:
			label = "tls"
		}
		region(label, p.PayloadOffset, p.PayloadOffset+len(p.Payload))
	}
	// What is left inside each layer, innermost first: the body of an
	// ICMP message, an IP payload not decoded, and after the IP packet
	// the link layer's trailer (Ethernet padding or frame check sequence).
	for i := len(p.Layers) - 1; i >= 0; i-- {
		sp := p.Layers[i]
		if sp.Quoted || sp.End <= cursor {
			continue
		}
		label := "data"
		if sp.Type.TCPIPLayer() == failure.LayerLink {
			label = "trailer"
		}
		region(label, cursor, sp.End)
	}
	if cursor < len(data) {
		b = appendDumpRegion(b, indent, "data", data, cursor, len(data))
	}
	return b
}

func appendDumpRegion(b []byte, indent, label string, data []byte, start, end int) []byte {
	for off := start; off < end; off += 16 {
		n := min(16, end-off)
		b = append(b, indent...)
		if off == start {
			b = append(b, label...)
			for i := len(label); i < dumpLabelWidth; i++ {
				b = append(b, ' ')
			}
		} else {
			for range dumpLabelWidth {
				b = append(b, ' ')
			}
		}
		b = appendHex(b, uint64(off), 4)
		b = append(b, "  "...)
		for i := range 16 {
			if i < n {
				b = appendHex(b, uint64(data[off+i]), 2)
				b = append(b, ' ')
			} else {
				b = append(b, "   "...)
			}
		}
		b = append(b, ' ')
		for _, c := range data[off : off+n] {
			if c < 0x20 || c > 0x7e {
				c = '.'
			}
			b = append(b, c)
		}
		b = append(b, '\n')
	}
	return b
}

// decodeErrText says why decoding stopped: the layers error, or for a
// link type pkg/layers does not decode, which one.
func decodeErrText(p *layers.Packet) string {
	if len(p.Layers) == 0 && !p.LinkType.Supported() {
		return "link type " + p.LinkType.String() + " is not decoded"
	}
	return p.Err.Error()
}
