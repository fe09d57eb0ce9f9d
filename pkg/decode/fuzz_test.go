package decode

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/netdiag/netdiag/pkg/layers"
)

// FuzzReader feeds arbitrary files to Reader and decodes what it returns:
// no input may panic, loop, or make the reader allocate without bound.
func FuzzReader(f *testing.F) {
	for _, name := range []string{"icmp.pcap", "tcp.pcap", "dns.pcapng", "any-sll2.pcap"} {
		b := readCapture(f, name)
		f.Add(b[:min(len(b), 4096)])
	}
	frame, withFCS := arpFrame()
	f.Add((&ngBuilder{}).section(binary.LittleEndian).iface(layers.LinkTypeEthernet, 0, 4).
		block(0x0BAD, []byte("odd")).epb(0, withFCS, uint32(len(withFCS))).spb(42, frame).
		section(binary.BigEndian).iface(layers.LinkTypeRaw, 64, 0).epb(0, frame[14:], 28).b)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		d := NewDecoder(Options{Stats: true})
		for range 10000 {
			rec, err := r.Next()
			if err != nil {
				if err != io.EOF {
					_ = err.Error()
				}
				break
			}
			if len(rec.Data) > MaxCaptureLength {
				t.Fatalf("packet %d holds %d bytes", rec.N, len(rec.Data))
			}
			d.Decode(rec)
		}
		d.Stats()
	})
}

// FuzzDecode decodes arbitrary frames of any link type as the packets of
// one capture, so that the conversation, TLS and DNS state sees hostile
// sequences too: the input is split into frames at the lengths its
// second argument lists. Seeds are consecutive packets of the lab
// captures, TLS and DNS included.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"tls-openssl.pcap", "dns.pcapng", "icmp.pcap", "ipv6.pcap"} {
		recs, err := readAll(f, readCapture(f, name))
		if err != nil {
			f.Fatal(err)
		}
		for i := 0; i+4 <= len(recs); i += 4 {
			var data, lens []byte
			for _, r := range recs[i : i+4] {
				data = append(data, r.Data...)
				lens = append(lens, byte(len(r.Data)>>8), byte(len(r.Data)))
			}
			f.Add(uint16(recs[i].LinkType), data, lens)
		}
	}
	f.Fuzz(func(t *testing.T, lt uint16, data, lens []byte) {
		d := NewDecoder(Options{Stats: true, MaxConversations: 4})
		for n := 1; len(lens) >= 2 && len(data) > 0; n++ {
			size := min(int(lens[0])<<8|int(lens[1]), len(data))
			lens = lens[2:]
			fr := d.Decode(&Record{N: n, Length: size, LinkType: layers.LinkType(lt), Data: data[:size]})
			if fr.DNS != nil {
				for i := range fr.DNS.Answers {
					fr.DNS.Answers[i].AppendData(nil)
				}
			}
			data = data[size:]
		}
		d.Stats()
	})
}

// FuzzTLSStream feeds a TLS stream in segments of fuzzer-chosen sizes and
// order (with repeats), as TCP delivers them out of order and
// retransmitted; it must never panic and never hold more than
// MaxOutOfOrder bytes.
func FuzzTLSStream(f *testing.F) {
	recs, err := readAll(f, readCapture(f, "tls-openssl.pcap"))
	if err != nil {
		f.Fatal(err)
	}
	var stream []byte
	for _, r := range recs {
		var p layers.Packet
		p.Decode(r.LinkType, r.Data)
		if p.Has(layers.LayerTCP) && p.TCP.SrcPort == 4433 {
			stream = append(stream, p.TCP.Payload...)
		}
	}
	f.Add(stream[:min(len(stream), 6000)], []byte{0, 200, 5, 100, 1, 50})
	f.Fuzz(func(t *testing.T, data, plan []byte) {
		var s tlsStream
		var out TLSData
		const isn = 1000
		s.dirs[0].started, s.dirs[0].next = true, isn
		for i := 0; i+1 < len(plan); i += 2 {
			off := int(plan[i]) * 64 % max(len(data), 1)
			size := int(plan[i+1])*16 + 1
			end := min(off+size, len(data))
			s.segment(0, i/2+1, uint32(isn+off), data[off:end], end-off, &out)
			if s.dirs[0].held > MaxOutOfOrder {
				t.Fatalf("holding %d bytes", s.dirs[0].held)
			}
		}
	})
}
