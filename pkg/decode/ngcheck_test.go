package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"testing"

	"github.com/netdiag/netdiag/pkg/layers"
)

// ngBuilder writes pcapng files block by block, for the checks of
// ngChecker; offsets notes where each block starts.
type ngBuilder struct {
	b       []byte
	order   binary.AppendByteOrder
	offsets []int
}

func (w *ngBuilder) block(typ uint32, body []byte) *ngBuilder {
	w.offsets = append(w.offsets, len(w.b))
	body = append(body, make([]byte, (4-len(body)%4)%4)...)
	n := uint32(12 + len(body))
	w.b = w.order.AppendUint32(w.b, typ)
	w.b = w.order.AppendUint32(w.b, n)
	w.b = append(w.b, body...)
	w.b = w.order.AppendUint32(w.b, n)
	return w
}

func (w *ngBuilder) section(order binary.AppendByteOrder) *ngBuilder {
	w.order = order
	body := order.AppendUint32(nil, ngByteOrderMagic)
	body = order.AppendUint16(body, 1)
	body = order.AppendUint16(body, 0)
	body = order.AppendUint64(body, ^uint64(0))
	return w.block(ngSectionHeader, body)
}

// iface adds an interface description; fcslen > 0 adds if_fcslen.
func (w *ngBuilder) iface(lt layers.LinkType, snap uint32, fcslen byte) *ngBuilder {
	body := w.order.AppendUint16(nil, uint16(lt))
	body = w.order.AppendUint16(body, 0)
	body = w.order.AppendUint32(body, snap)
	if fcslen > 0 {
		body = w.order.AppendUint16(body, ngOptionFCSLength)
		body = w.order.AppendUint16(body, 1)
		body = append(body, fcslen, 0, 0, 0)
		body = append(body, 0, 0, 0, 0) // opt_endofopt
	}
	return w.block(ngInterface, body)
}

// epb adds an enhanced packet block claiming caplen captured bytes.
func (w *ngBuilder) epb(ifid uint32, data []byte, caplen uint32) *ngBuilder {
	body := w.order.AppendUint32(nil, ifid)
	body = w.order.AppendUint32(body, 0)
	body = w.order.AppendUint32(body, 1_000_000)
	body = w.order.AppendUint32(body, caplen)
	body = w.order.AppendUint32(body, max(caplen, uint32(len(data))))
	return w.block(ngEnhancedPacket, append(body, data...))
}

func (w *ngBuilder) spb(origlen uint32, data []byte) *ngBuilder {
	return w.block(ngSimplePacket, append(w.order.AppendUint32(nil, origlen), data...))
}

// arpFrame is an ARP request in an Ethernet frame, and the same frame
// followed by its frame check sequence.
func arpFrame() (frame, withFCS []byte) {
	frame = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x06,
		0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 198, 18, 0, 2, 0, 0, 0, 0, 0, 0, 198, 18, 0, 1}
	return frame, layers.AppendFCS(bytes.Clone(frame))
}

func TestReaderPcapNGBlocks(t *testing.T) {
	frame, withFCS := arpFrame()
	w := (&ngBuilder{}).section(binary.LittleEndian).
		iface(layers.LinkTypeEthernet, 0, 0).
		iface(layers.LinkTypeEthernet, 0, 4).
		block(0x0BAD, []byte("a block of a type nobody knows")).
		epb(0, frame, uint32(len(frame))).
		epb(1, withFCS, uint32(len(withFCS))).
		block(5, make([]byte, 12)). // interface statistics
		spb(uint32(len(frame)), frame).
		section(binary.BigEndian).
		iface(layers.LinkTypeEthernet, 0, 4).
		epb(0, withFCS, uint32(len(withFCS)))
	packetBlocks := []int{4, 5, 7, 10}
	got, err := readAll(t, w.b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(packetBlocks) {
		t.Fatalf("%d packets, want %d", len(got), len(packetBlocks))
	}
	wantFCS := []bool{false, true, false, true}
	for i, r := range got {
		if r.Offset != int64(w.offsets[packetBlocks[i]]) {
			t.Errorf("packet %d at offset %d, its block starts at %d", i+1, r.Offset, w.offsets[packetBlocks[i]])
		}
		if r.FCS != wantFCS[i] {
			t.Errorf("packet %d: FCS %v, want %v (if_fcslen of its interface)", i+1, r.FCS, wantFCS[i])
		}
		if !bytes.HasPrefix(r.Data, frame) {
			t.Errorf("packet %d: data % x", i+1, r.Data)
		}
	}
	var p layers.Packet
	p.EthernetFCS = got[1].FCS
	p.Decode(got[1].LinkType, got[1].Data)
	if !p.Ethernet.HasFCS || !p.Has(layers.LayerARP) || !layers.CheckFCS(got[1].Data) {
		t.Errorf("the frame with an FCS did not decode with it: %+v", p.Ethernet)
	}
}

func TestReaderPcapNGDumpcapOffsets(t *testing.T) {
	b := readCapture(t, "dns.pcapng")
	var epbs []int64
	for off := 0; off+8 <= len(b); {
		typ, n := binary.LittleEndian.Uint32(b[off:]), binary.LittleEndian.Uint32(b[off+4:])
		if typ == ngEnhancedPacket {
			epbs = append(epbs, int64(off))
		}
		off += int(n)
	}
	got, err := readAll(t, b)
	if err != nil || len(got) != len(epbs) {
		t.Fatalf("%d packets (%v), the file has %d enhanced packet blocks", len(got), err, len(epbs))
	}
	for i, r := range got {
		if r.Offset != epbs[i] {
			t.Fatalf("packet %d at offset %d, its block starts at %d", i+1, r.Offset, epbs[i])
		}
	}
}

func TestReaderPcapNGDamage(t *testing.T) {
	frame, _ := arpFrame()
	good := func() *ngBuilder {
		return (&ngBuilder{}).section(binary.LittleEndian).iface(layers.LinkTypeEthernet, 0, 0).epb(0, frame, uint32(len(frame)))
	}
	setU32 := func(w *ngBuilder, block, field int, v uint32) []byte {
		binary.LittleEndian.PutUint32(w.b[w.offsets[block]+field:], v)
		return w.b
	}
	cases := []struct {
		name    string
		data    []byte
		packets int
		block   int // index of the damaged block, -1 for the file header
		detail  string
	}{
		{"captured length past the block", good().epb(0, frame, 200).epb(0, frame, uint32(len(frame))).b, 1, 3,
			"enhanced packet block of 76 bytes claims 200 captured bytes"},
		{"captured length of 2 GB", setU32(good().epb(0, frame, 42), 3, 20, 1<<31), 1, 3,
			"claims 2147483648 captured bytes, more than any capture holds"},
		{"block length of 2 GB", append(setU32(good().epb(0, frame, 42), 3, 4, 1<<31), make([]byte, 1<<16)...), 1, 3,
			"claims 2147483648 bytes, more than any real block"},
		{"block shorter than its fields", setU32(good().epb(0, frame, 42), 3, 4, 20), 1, 3,
			"enhanced packet block is 20 bytes long, shorter than its 32-byte minimum"},
		{"trailing length differs", func() []byte {
			w := good().epb(0, frame, 42)
			binary.LittleEndian.PutUint32(w.b[len(w.b)-4:], 12)
			return w.b
		}(), 1, 3, "ends with the length 12"},
		{"unknown interface", good().epb(3, frame, 42).b, 1, 3, "names interface 3, but the section describes 1"},
		{"simple packet past its block", good().spb(500, frame).b, 1, 3, "simple packet block of 60 bytes claims 500 captured bytes"},
		{"interface block too short", setU32(good(), 1, 4, 16), 0, 1, "interface description block is 16 bytes long"},
		{"bad byte-order magic", setU32(good(), 0, 8, 0x01020304), 0, -1, "unknown byte-order magic"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			got, err := readAll(t, c.data)
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			if a := after.TotalAlloc - before.TotalAlloc; a > 8<<20 {
				t.Errorf("reading allocated %d MiB", a>>20)
			}
			if len(got) != c.packets {
				t.Errorf("%d packets before the damage, want %d", len(got), c.packets)
			}
			var re *ReadError
			if !errors.As(err, &re) || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v, want a ReadError wrapping ErrCorrupt", err)
			}
			if !bytes.Contains([]byte(re.Detail), []byte(c.detail)) {
				t.Errorf("detail %q lacks %q", re.Detail, c.detail)
			}
			if c.block < 0 {
				if re.Packet != 0 {
					t.Errorf("a damaged section header is reported at packet %d", re.Packet)
				}
				return
			}
			if re.Packet != c.packets+1 {
				t.Errorf("error at packet %d, want %d", re.Packet, c.packets+1)
			}
			if want := blockOffset(c.data, c.block); re.Offset != want {
				t.Errorf("error at offset %d, the damaged block starts at %d", re.Offset, want)
			}
		})
	}
}

// blockOffset walks the little-endian blocks of b to the offset of block i.
func blockOffset(b []byte, i int) int64 {
	off := 0
	for range i {
		off += int(binary.LittleEndian.Uint32(b[off+4:]))
	}
	return int64(off)
}

// TestReaderPcapHugeSnapLength: a pcap header may claim a snap length of
// 4 GiB; a record claiming 2 GiB is still refused, before any allocation.
func TestReaderPcapHugeSnapLength(t *testing.T) {
	b := bytes.Clone(readCapture(t, "tcp.pcap"))
	recs := pcapRecords(t, b)
	binary.LittleEndian.PutUint32(b[16:], 0xffffffff)
	binary.LittleEndian.PutUint32(b[recs[2].offset+8:], 1<<31)
	binary.LittleEndian.PutUint32(b[recs[2].offset+12:], 1<<31)
	b = append(b, make([]byte, 4<<20)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got, err := readAll(t, b)
	runtime.ReadMemStats(&after)
	if a := after.TotalAlloc - before.TotalAlloc; a > 8<<20 {
		t.Errorf("reading allocated %d MiB", a>>20)
	}
	var re *ReadError
	if len(got) != 2 || !errors.As(err, &re) || !errors.Is(err, ErrCorrupt) || re.Offset != int64(recs[2].offset) {
		t.Fatalf("%d packets, error %v; want 2 and a corrupt record at offset %d", len(got), err, recs[2].offset)
	}
}
