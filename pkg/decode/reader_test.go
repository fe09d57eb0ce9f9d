package decode

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/netdiag/netdiag/pkg/layers"
)

// captureDir is where the committed captures live.
const captureDir = "../../testdata/decode"

func readCapture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(captureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pcapRecord is a record's place in a little-endian pcap file, found by
// walking the file independently of Reader.
type pcapRecord struct {
	offset int
	caplen int
}

func pcapRecords(t testing.TB, b []byte) []pcapRecord {
	t.Helper()
	var recs []pcapRecord
	for off := pcapFileHeaderLen; off < len(b); {
		caplen := int(binary.LittleEndian.Uint32(b[off+8:]))
		recs = append(recs, pcapRecord{off, caplen})
		off += 16 + caplen
	}
	return recs
}

// readAll reads every packet of b and returns their copies and the error
// that ended the reading (nil at a clean end).
func readAll(t testing.TB, b []byte) ([]Record, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	var out []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			if _, again := r.Next(); again != err {
				t.Errorf("Next after an error returned %v, want the same error %v", again, err)
			}
			return out, err
		}
		c := *rec
		c.Data = bytes.Clone(rec.Data)
		out = append(out, c)
	}
}

func TestReaderOffsetsAndFields(t *testing.T) {
	b := readCapture(t, "tcp.pcap")
	want := pcapRecords(t, b)
	got, err := readAll(t, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d packets, the file has %d", len(got), len(want))
	}
	for i, r := range got {
		if r.N != i+1 || r.Offset != int64(want[i].offset) || len(r.Data) != want[i].caplen {
			t.Errorf("packet %d: N %d offset %d caplen %d, want %d %d %d", i+1, r.N, r.Offset, len(r.Data), i+1, want[i].offset, want[i].caplen)
		}
		if r.LinkType != layers.LinkTypeEthernet || r.Cut() || r.Time.IsZero() {
			t.Errorf("packet %d: link %v cut %v time %v", i+1, r.LinkType, r.Cut(), r.Time)
		}
	}
}

func TestReaderFormats(t *testing.T) {
	pcap := readCapture(t, "icmp.pcap")
	ref, err := readAll(t, pcap)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(pcap)
	zw.Close()

	cases := []struct {
		name string
		data []byte
	}{
		{"big-endian pcap", pcapToBigEndian(t, pcap)},
		{"nanosecond pcap", pcapToNanoseconds(t, pcap)},
		{"gzip", gz.Bytes()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := readAll(t, c.data)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(ref) {
				t.Fatalf("%d packets, want %d", len(got), len(ref))
			}
			for i := range got {
				if !bytes.Equal(got[i].Data, ref[i].Data) || !got[i].Time.Equal(ref[i].Time) || got[i].Length != ref[i].Length {
					t.Fatalf("packet %d differs from the little-endian microsecond original", i+1)
				}
			}
		})
	}

	ng, err := readAll(t, readCapture(t, "dns.pcapng"))
	if err != nil || len(ng) == 0 {
		t.Fatalf("pcapng: %d packets, %v", len(ng), err)
	}
	if ng[0].Time.Nanosecond()%1000 == 0 && ng[1].Time.Nanosecond()%1000 == 0 {
		t.Errorf("dumpcap writes nanosecond pcapng; times lost their nanoseconds: %v %v", ng[0].Time, ng[1].Time)
	}
}

// pcapToBigEndian rewrites a little-endian pcap in big-endian byte order.
func pcapToBigEndian(t testing.TB, le []byte) []byte {
	be := bytes.Clone(le)
	swap32 := func(off int) { binary.BigEndian.PutUint32(be[off:], binary.LittleEndian.Uint32(le[off:])) }
	swap16 := func(off int) { binary.BigEndian.PutUint16(be[off:], binary.LittleEndian.Uint16(le[off:])) }
	swap32(0)
	swap16(4)
	swap16(6)
	for _, off := range []int{8, 12, 16, 20} {
		swap32(off)
	}
	for _, r := range pcapRecords(t, le) {
		for i := 0; i < 16; i += 4 {
			swap32(r.offset + i)
		}
	}
	return be
}

// pcapToNanoseconds rewrites a microsecond pcap with the nanosecond magic.
func pcapToNanoseconds(t testing.TB, us []byte) []byte {
	ns := bytes.Clone(us)
	copy(ns, magicPcapNanoLE[:])
	for _, r := range pcapRecords(t, us) {
		v := binary.LittleEndian.Uint32(us[r.offset+4:])
		binary.LittleEndian.PutUint32(ns[r.offset+4:], v*1000)
	}
	return ns
}

func TestReaderBadInput(t *testing.T) {
	pcap := readCapture(t, "tcp.pcap")
	recs := pcapRecords(t, pcap)
	corrupt := func(rec int, field int, v uint32) []byte {
		b := bytes.Clone(pcap)
		binary.LittleEndian.PutUint32(b[recs[rec].offset+field:], v)
		return b
	}
	ng := readCapture(t, "dns.pcapng")

	cases := []struct {
		name    string
		data    []byte
		packets int   // read before the error
		cause   error // nil: a clean end
		offset  int64 // of the damaged record
	}{
		{"empty", nil, 0, ErrNotCapture, 0},
		{"text", []byte("GET / HTTP/1.1\r\n\r\n"), 0, ErrNotCapture, 0},
		{"three bytes", []byte{0xd4, 0xc3, 0xb2}, 0, ErrNotCapture, 0},
		{"modified pcap", append(bytes.Clone(magicPcapModifiedLE[:]), pcap[4:]...), 0, ErrNotCapture, 0},
		{"file header cut", pcap[:20], 0, ErrTruncated, 0},
		{"bad version", append(append(bytes.Clone(pcap[:4]), 9, 0), pcap[6:]...), 0, ErrCorrupt, 0},
		{"header only", pcap[:pcapFileHeaderLen], 0, nil, 0},
		{"cut at a record boundary", pcap[:recs[5].offset], 5, nil, 0},
		{"cut in a record header", pcap[:recs[5].offset+7], 5, ErrTruncated, int64(recs[5].offset)},
		{"cut in a record's data", pcap[:recs[5].offset+16+10], 5, ErrTruncated, int64(recs[5].offset)},
		{"record longer than any snap length", corrupt(3, 8, 0x7fffffff), 3, ErrCorrupt, int64(recs[3].offset)},
		{"captured more than the wire length", corrupt(3, 12, 10), 3, ErrCorrupt, int64(recs[3].offset)},
		{"pcapng cut", ng[:len(ng)/2], -1, ErrTruncated, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := readAll(t, c.data)
			if c.packets >= 0 && len(got) != c.packets {
				t.Errorf("read %d packets before the end, want %d", len(got), c.packets)
			}
			if c.cause == nil {
				if err != nil {
					t.Fatalf("want a clean end, got %v", err)
				}
				return
			}
			var re *ReadError
			if !errors.As(err, &re) || !errors.Is(err, c.cause) {
				t.Fatalf("error %v (%T), want a ReadError wrapping %v", err, err, c.cause)
			}
			if re.Packet != 0 && re.Packet != len(got)+1 {
				t.Errorf("error names packet %d, want %d", re.Packet, len(got)+1)
			}
			if c.offset >= 0 && re.Offset != c.offset {
				t.Errorf("error at offset %d, want %d", re.Offset, c.offset)
			}
			if errors.Is(c.cause, ErrNotCapture) && !bytes.Contains([]byte(err.Error()), []byte("not a pcap or pcapng file")) {
				t.Errorf("message %q lacks the standard wording", err)
			}
			t.Log(err)
		})
	}
}

func TestReaderFCSFlag(t *testing.T) {
	b := bytes.Clone(readCapture(t, "tcp.pcap"))
	binary.LittleEndian.PutUint32(b[20:], uint32(layers.LinkTypeEthernet)|0x10000000|2<<29)
	got, err := readAll(t, b)
	if err != nil || len(got) == 0 {
		t.Fatalf("%d packets, %v", len(got), err)
	}
	if !got[0].FCS || got[0].LinkType != layers.LinkTypeEthernet {
		t.Errorf("FCS %v link %v, want the FCS flag and Ethernet", got[0].FCS, got[0].LinkType)
	}
}

// endlessPcap is an io.Reader that writes a pcap header and then the
// records of a real capture over and over, with rising timestamps, up to
// n records: a capture of any size without a file.
type endlessPcap struct {
	header  []byte
	records [][]byte
	n, i    int
	buf     []byte
	pending []byte
}

func newEndlessPcap(t testing.TB, name string, n int) *endlessPcap {
	b := readCapture(t, name)
	e := &endlessPcap{header: b[:pcapFileHeaderLen], n: n}
	for _, r := range pcapRecords(t, b) {
		e.records = append(e.records, b[r.offset:r.offset+16+r.caplen])
	}
	e.pending = e.header
	return e
}

func (e *endlessPcap) Read(p []byte) (int, error) {
	if len(e.pending) == 0 {
		if e.i == e.n {
			return 0, io.EOF
		}
		rec := e.records[e.i%len(e.records)]
		e.buf = append(e.buf[:0], rec...)
		binary.LittleEndian.PutUint32(e.buf, uint32(1_700_000_000+e.i/1000))
		e.pending = e.buf
		e.i++
	}
	n := copy(p, e.pending)
	e.pending = e.pending[n:]
	return n, nil
}

// TestMemoryFlat reads and decodes a capture of 300,000 packets that is
// generated as it is read, and checks that the heap stays small: the
// reader and decoder keep only the current packet and a bounded state.
func TestMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 300,000 packets")
	}
	const packets = 300_000
	r, err := NewReader(newEndlessPcap(t, "tls-openssl.pcap", packets))
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(Options{})
	var ms runtime.MemStats
	peak := uint64(0)
	n := 0
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		d.Decode(rec)
		n++
		if n%50_000 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	if n != packets {
		t.Fatalf("decoded %d packets, want %d", n, packets)
	}
	if peak > 32<<20 {
		t.Errorf("heap reached %d MiB while streaming; it should stay flat", peak>>20)
	}
	t.Logf("peak heap after GC: %.1f MiB", float64(peak)/(1<<20))
}

// TestDecodeAllocations checks that reading and decoding ordinary packets
// (TCP without TLS, ICMP, ARP, UDP) allocates nothing per packet once the
// reused buffers have grown.
func TestDecodeAllocations(t *testing.T) {
	// Captures whose conversations go on for ever when repeated: a new
	// conversation costs its table entry, a packet nothing.
	for _, name := range []string{"icmp.pcap", "bulk-mss.pcap"} {
		t.Run(name, func(t *testing.T) {
			r, err := NewReader(newEndlessPcap(t, name, 1<<30))
			if err != nil {
				t.Fatal(err)
			}
			d := NewDecoder(Options{})
			step := func() {
				rec, err := r.Next()
				if err != nil {
					t.Fatal(err)
				}
				d.Decode(rec)
			}
			for range 5000 {
				step()
			}
			if a := testing.AllocsPerRun(20000, step); a > 0.05 {
				t.Errorf("%.3f allocations per packet, want none", a)
			}
		})
	}
}

// BenchmarkDecode reads and decodes a generated capture of the lab
// traffic (TLS, DNS, bulk TCP, ICMP), one packet per iteration.
func BenchmarkDecode(b *testing.B) {
	r, err := NewReader(newEndlessPcap(b, "tls-openssl.pcap", 1<<40))
	if err != nil {
		b.Fatal(err)
	}
	d := NewDecoder(Options{})
	b.ReportAllocs()
	for b.Loop() {
		rec, err := r.Next()
		if err != nil {
			b.Fatal(err)
		}
		d.Decode(rec)
	}
}
