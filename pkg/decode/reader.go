package decode

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/netdiag/netdiag/pkg/layers"
)

// Format is the container format of a capture file.
type Format uint8

// The formats Reader understands.
const (
	FormatPcap Format = iota + 1
	FormatPcapNG
)

func (f Format) String() string {
	switch f {
	case FormatPcap:
		return "pcap"
	case FormatPcapNG:
		return "pcapng"
	}
	return "unknown"
}

// Record is one packet as stored in a capture file.
type Record struct {
	// N numbers the packets of the file from 1, as tcpdump and Wireshark do.
	N int
	// Offset is where the packet's record (pcap) or block (pcapng) starts
	// in the file. A gzip-compressed file is counted in uncompressed bytes.
	Offset int64
	// Time is the capture timestamp, in UTC.
	Time time.Time
	// Length is the packet's length on the wire; len(Data) is what was
	// captured, less when the capture's snap length cut the packet.
	Length int
	// LinkType says how the packet is framed (Ethernet, Linux cooked, ...).
	LinkType layers.LinkType
	// FCS says Ethernet frames end in a 4-byte frame check sequence (the
	// pcap header's FCS bits, or the pcapng interface's if_fcslen, say so).
	FCS bool
	// Data holds the captured bytes. It is valid until the next call to
	// Reader.Next, which reuses the buffer.
	Data []byte
}

// Cut reports whether the snap length kept only part of the packet.
func (r *Record) Cut() bool { return len(r.Data) < r.Length }

// Reader reads packets one at a time from a pcap or pcapng stream. It
// reads the stream as it goes and keeps only the current packet, so its
// memory does not depend on the size of the capture.
type Reader struct {
	count  *countingReader
	buf    *bufio.Reader
	format Format
	pcap   *pcapgo.Reader
	ng     *pcapgo.NgReader
	// check checks pcapng blocks before NgReader reads them.
	check *ngChecker
	// pcapFCS comes from the pcap header's link-type field, whose upper
	// bits pcapgo drops.
	pcapFCS   bool
	pcapOrder binary.ByteOrder
	n         int
	rec       Record
	err       error
}

// readBufferSize is the read-ahead buffer: large enough that reading a
// capture costs few system calls, small enough to allocate per file.
const readBufferSize = 64 << 10

// File-format magic numbers, as the first four bytes appear in the file.
var (
	magicPcapMicroLE = [4]byte{0xd4, 0xc3, 0xb2, 0xa1}
	magicPcapMicroBE = [4]byte{0xa1, 0xb2, 0xc3, 0xd4}
	magicPcapNanoLE  = [4]byte{0x4d, 0x3c, 0xb2, 0xa1}
	magicPcapNanoBE  = [4]byte{0xa1, 0xb2, 0x3c, 0x4d}
	magicPcapNG      = [4]byte{0x0a, 0x0d, 0x0d, 0x0a}
	// A variant with a longer record header written by old patched
	// libpcaps; recognised only to be refused by name.
	magicPcapModifiedLE = [4]byte{0x34, 0xcd, 0xb2, 0xa1}
	magicPcapModifiedBE = [4]byte{0xa1, 0xb2, 0xcd, 0x34}
)

const pcapFileHeaderLen = 24

// NewReader reads the file header from src and returns a Reader positioned
// at the first packet. The format is recognised by its magic number; a
// gzip-compressed capture is uncompressed on the fly. A stream that is not
// a capture gives a *ReadError wrapping ErrNotCapture.
func NewReader(src io.Reader) (*Reader, error) {
	r := &Reader{count: &countingReader{r: src}}
	r.buf = bufio.NewReaderSize(r.count, readBufferSize)

	magic, err := r.buf.Peek(4)
	if len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, zerr := gzip.NewReader(r.buf)
		if zerr != nil {
			return nil, &ReadError{Err: ErrNotCapture, Detail: "gzip data that does not uncompress: " + zerr.Error()}
		}
		// From here on offsets count uncompressed bytes.
		r.count = &countingReader{r: zr}
		r.buf = bufio.NewReaderSize(r.count, readBufferSize)
		magic, err = r.buf.Peek(4)
	}
	if len(magic) < 4 {
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, &ReadError{Err: err, Detail: "reading the file header"}
		}
		detail := "the file is empty"
		if len(magic) > 0 {
			detail = fmt.Sprintf("the file holds only %d bytes", len(magic))
		}
		return nil, &ReadError{Err: ErrNotCapture, Detail: detail}
	}
	switch [4]byte(magic) {
	case magicPcapMicroLE, magicPcapMicroBE, magicPcapNanoLE, magicPcapNanoBE:
		return r, r.openPcap()
	case magicPcapNG:
		return r, r.openPcapNG()
	case magicPcapModifiedLE, magicPcapModifiedBE:
		return nil, &ReadError{Err: ErrNotCapture, Detail: "a modified (Kuznetzov) pcap file, which is not supported"}
	}
	return nil, &ReadError{Err: ErrNotCapture, Detail: fmt.Sprintf("it starts with % x", magic)}
}

func (r *Reader) openPcap() error {
	r.format = FormatPcap
	hdr, _ := r.buf.Peek(pcapFileHeaderLen)
	if len(hdr) < pcapFileHeaderLen {
		return &ReadError{Err: ErrTruncated, Detail: fmt.Sprintf("the pcap file header needs %d bytes, the file holds %d", pcapFileHeaderLen, len(hdr))}
	}
	var order binary.ByteOrder = binary.LittleEndian
	if hdr[0] == 0xa1 {
		order = binary.BigEndian
	}
	r.pcapOrder = order
	// The link-type field's upper bits carry the FCS length in 16-bit
	// words when bit 28 is set (the tcpdump.org pcap format draft).
	linkField := order.Uint32(hdr[20:24])
	r.pcapFCS = linkField&0x10000000 != 0 && (linkField>>29)&7 == 2
	pr, err := pcapgo.NewReader(r.buf)
	if err != nil {
		return &ReadError{Err: ErrCorrupt, Detail: "pcap file header: " + err.Error()}
	}
	r.pcap = pr
	return nil
}

func (r *Reader) openPcapNG() error {
	r.format = FormatPcapNG
	// NgReader reads through the checker; the reader's buffer moves above
	// it, so that offsets count what the checker passed.
	r.check = &ngChecker{r: r.buf}
	r.buf = bufio.NewReaderSize(r.check, readBufferSize)
	ng, err := pcapgo.NewNgReader(r.buf, pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		if be, ok := r.check.err.(*ngBlockError); ok {
			return &ReadError{Err: ErrCorrupt, Detail: "pcapng section header: " + be.detail}
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return &ReadError{Err: ErrTruncated, Detail: "the file ends inside the pcapng section header"}
		}
		return &ReadError{Err: ErrCorrupt, Detail: "pcapng section header: " + err.Error()}
	}
	r.ng = ng
	return nil
}

// Format returns the file's format.
func (r *Reader) Format() Format { return r.format }

// Next returns the next packet. It returns io.EOF after the last one, or a
// *ReadError when the file is damaged; after an error every later call
// returns the same error, since the position of the next record is no
// longer known. The Record and its Data are reused by the next call.
func (r *Reader) Next() (*Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	off := r.offset()
	n := r.n + 1
	var (
		data []byte
		err  error
		lt   layers.LinkType
		fcs  bool
	)
	if r.pcap != nil {
		if err := r.checkPcapRecord(n, off); err != nil {
			r.err = err
			return nil, err
		}
		var ci gopacket.CaptureInfo
		data, ci, err = r.pcap.ZeroCopyReadPacketData()
		r.rec.Time, r.rec.Length = ci.Timestamp, ci.Length
		lt, fcs = layers.LinkType(r.pcap.LinkType()), r.pcapFCS
	} else {
		var ci gopacket.CaptureInfo
		data, ci, err = r.ng.ZeroCopyReadPacketData()
		if err == nil {
			var iface pcapgo.NgInterface
			iface, err = r.ng.Interface(ci.InterfaceIndex)
			lt = layers.LinkType(iface.LinkType)
		}
		if err == nil {
			if pb, ok := r.check.takePacket(); ok {
				off, fcs = pb.offset, pb.fcs
			}
		}
		r.rec.Time, r.rec.Length = ci.Timestamp, ci.Length
	}
	if err != nil {
		r.err = r.classify(n, off, err)
		return nil, r.err
	}
	r.n = n
	r.rec.N, r.rec.Offset, r.rec.Data = n, off, data
	r.rec.LinkType, r.rec.FCS = lt, fcs
	return &r.rec, nil
}

// checkPcapRecord refuses a pcap record that claims more than
// MaxCaptureLength captured bytes before pcapgo reads it: pcapgo takes any
// length up to the file header's snap length, which a damaged or hostile
// header can set to 4 GiB.
func (r *Reader) checkPcapRecord(n int, off int64) error {
	h, _ := r.buf.Peek(16)
	if len(h) < 16 {
		return nil // pcapgo says whether the file ends cleanly
	}
	if caplen := r.pcapOrder.Uint32(h[8:]); caplen > MaxCaptureLength {
		return &ReadError{Packet: n, Offset: off, Err: ErrCorrupt,
			Detail: fmt.Sprintf("the record claims %d captured bytes, more than any capture holds (%d)", caplen, MaxCaptureLength)}
	}
	return nil
}

// classify turns a reader error into a ReadError at packet n, offset off.
func (r *Reader) classify(n int, off int64, err error) error {
	if r.check != nil {
		if be, ok := r.check.err.(*ngBlockError); ok {
			// The checker stopped the stream at a bad block; whatever
			// NgReader made of that, the block is the cause.
			return &ReadError{Packet: n, Offset: be.offset, Err: ErrCorrupt, Detail: be.detail}
		}
	}
	switch {
	case err == io.EOF:
		// Both readers return a bare io.EOF only when the file ends
		// exactly between records or blocks.
		return io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &ReadError{Packet: n, Offset: off, Err: ErrTruncated,
			Detail: fmt.Sprintf("the file ends %d bytes into the record", r.offset()-off)}
	}
	var rf *readFailure
	if errors.As(err, &rf) {
		return &ReadError{Packet: n, Offset: off, Err: rf.err, Detail: "reading the file"}
	}
	return &ReadError{Packet: n, Offset: off, Err: ErrCorrupt, Detail: err.Error()}
}

// offset is the number of bytes the format reader has consumed.
func (r *Reader) offset() int64 {
	n := r.count.n
	if r.check != nil {
		n = r.check.passed
	}
	return n - int64(r.buf.Buffered())
}

// countingReader counts the bytes read through it, so that Reader knows
// the file offset of every record below its read-ahead buffer. A read
// error of the underlying stream (a disk error, not the end) is marked so
// that it is not mistaken for damage in the file.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF {
		err = &readFailure{err}
	}
	return n, err
}

type readFailure struct{ err error }

func (e *readFailure) Error() string { return e.err.Error() }
func (e *readFailure) Unwrap() error { return e.err }
