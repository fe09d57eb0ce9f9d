// Command mkcapture writes a large pcap for the decode benchmarks out of
// the real lab captures: their Ethernet packets over and over, in order,
// with rising timestamps, and the client's ports moved on each round so
// that every round's connections are new conversations, as in a long
// capture. Checksums stay as they were: right ones are updated for the new
// port (RFC 1624), offloaded ones (which do not cover ports) are kept.
//
//	go run ./bench/mkcapture -n 300000 -o /tmp/decode-bench.pcap testdata/decode/*.pcap
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/netdiag/netdiag/pkg/decode"
	"github.com/netdiag/netdiag/pkg/layers"
)

func main() {
	n := flag.Int("n", 300000, "packets to write")
	out := flag.String("o", "", "output file")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: mkcapture -n PACKETS -o FILE CAPTURE.pcap...")
		os.Exit(2)
	}
	if err := run(*n, *out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "mkcapture:", err)
		os.Exit(1)
	}
}

type packet struct {
	data []byte
	gap  time.Duration // since the previous packet of the same file
}

func load(files []string) ([]packet, error) {
	var pkts []packet
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		r, err := decode.NewReader(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		var last time.Time
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if rec.LinkType != layers.LinkTypeEthernet || rec.Cut() {
				break
			}
			gap := time.Duration(0)
			if !last.IsZero() {
				gap = rec.Time.Sub(last)
			}
			last = rec.Time
			pkts = append(pkts, packet{data: append([]byte(nil), rec.Data...), gap: min(gap, 10*time.Millisecond)})
		}
		f.Close()
	}
	if len(pkts) == 0 {
		return nil, errors.New("no Ethernet packets in the inputs")
	}
	return pkts, nil
}

func run(n int, out string, files []string) error {
	pkts, err := load(files)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 262144)
	binary.LittleEndian.PutUint32(hdr[20:], uint32(layers.LinkTypeEthernet))
	w.Write(hdr)

	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var p layers.Packet
	buf := make([]byte, 0, 65536)
	rec := make([]byte, 16)
	for i := 0; i < n; i++ {
		round := i / len(pkts)
		pk := pkts[i%len(pkts)]
		ts = ts.Add(pk.gap + time.Microsecond)
		buf = append(buf[:0], pk.data...)
		movePorts(&p, buf, uint16(round))
		binary.LittleEndian.PutUint32(rec[0:], uint32(ts.Unix()))
		binary.LittleEndian.PutUint32(rec[4:], uint32(ts.Nanosecond()/1000))
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(buf)))
		binary.LittleEndian.PutUint32(rec[12:], uint32(len(buf)))
		w.Write(rec)
		w.Write(buf)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// movePorts shifts the ephemeral (client) port of a TCP or UDP packet,
// and of the datagram an ICMP error quotes, by round, keeping it above
// 32768.
func movePorts(p *layers.Packet, b []byte, round uint16) {
	if round == 0 {
		return
	}
	p.Decode(layers.LinkTypeEthernet, b)
	shift := func(port uint16) uint16 {
		if port < 32768 {
			return port
		}
		return 32768 + (port-32768+round*7)%32768
	}
	icmpCsum, icmpOK := -1, false
	for _, sp := range p.Layers {
		if !sp.Quoted && (sp.Type == layers.LayerICMPv4 || sp.Type == layers.LayerICMPv6) {
			icmpCsum, icmpOK = sp.Start+2, p.Checksum(sp.Type) == layers.ChecksumGood
		}
	}
	for _, sp := range p.Layers {
		if sp.Type != layers.LayerTCP && sp.Type != layers.LayerUDP || sp.Start+4 > len(b) {
			continue
		}
		// The field whose checksum covers the ports: the segment's own, or
		// for a datagram quoted in an ICMP error, the ICMP message's.
		csumOff, fix := sp.Start+16, p.Checksum(sp.Type) == layers.ChecksumGood
		if sp.Type == layers.LayerUDP {
			csumOff = sp.Start + 6
		}
		if sp.Quoted {
			csumOff, fix = icmpCsum, icmpOK
		}
		for _, off := range []int{sp.Start, sp.Start + 2} {
			old := binary.BigEndian.Uint16(b[off:])
			nw := shift(old)
			binary.BigEndian.PutUint16(b[off:], nw)
			if fix && csumOff >= 0 && csumOff+2 <= len(b) {
				c := binary.BigEndian.Uint16(b[csumOff:])
				binary.BigEndian.PutUint16(b[csumOff:], adjust(c, old, nw))
			}
		}
	}
}

// adjust updates an Internet checksum for a 16-bit field changed from old
// to nw (RFC 1624, equation 3).
func adjust(csum, old, nw uint16) uint16 {
	s := uint32(^csum) + uint32(^old) + uint32(nw)
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}
