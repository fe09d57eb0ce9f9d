package decode

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
)

// pcapng blocks, as far as ngChecker needs them.
const (
	ngSectionHeader   = 0x0A0D0D0A
	ngInterface       = 1
	ngObsoletePacket  = 2
	ngSimplePacket    = 3
	ngEnhancedPacket  = 6
	ngByteOrderMagic  = 0x1A2B3C4D
	ngOptionFCSLength = 13 // if_fcslen, in an interface description

	// ngMaxBlock bounds a block, as libpcap does (16 MiB): nothing real
	// comes near it, and pcapgo would skip or read that much.
	ngMaxBlock = 16 << 20
	// ngMaxInterfaceBlock bounds the interface descriptions whose options
	// are read (for if_fcslen); larger ones are passed on unread.
	ngMaxInterfaceBlock = 64 << 10
)

// MaxCaptureLength is the largest packet a capture record may hold:
// libpcap's MAXIMUM_SNAPLEN. Readers refuse larger records, as libpcap
// does, rather than allocate what a damaged length field claims.
const MaxCaptureLength = 262144

// ngChecker sits between a pcapng stream and pcapgo's NgReader and checks
// the framing of every block before any of its bytes pass: NgReader trusts
// the lengths inside blocks, so a packet block whose captured length runs
// past its end would make it read the following blocks as packet data, and
// a block claiming 2 GB would make it skip or hold that much. A block that
// fails a check is not passed on; NgReader then fails on reading it, and
// the checker's error says what was wrong and where.
//
// On the way the checker notes each interface's if_fcslen (which NgReader
// does not read) and the offset of each packet block, in order, so Reader
// can give every packet its block's offset and FCS flag.
type ngChecker struct {
	r      io.Reader
	passed int64 // bytes passed on: the file offset of the next one
	big    bool  // the current section is big-endian

	head    []byte // the checked start of the current block
	pending []byte // the part of head not yet passed on
	direct  int64  // bytes of the block to pass straight from r, after head
	trailer bool   // the block's trailing length is still to be checked
	start   int64  // offset of the current block
	length  uint32 // its length

	ifaces []ngIface // the interfaces of the current section
	// packets lists the packet blocks passed on; those from next on are
	// not yet taken by Reader. The checker is ahead of NgReader only by
	// Reader's read-ahead buffer, so the list stays short.
	packets []ngPacket
	next    int
	err     error
}

type ngIface struct {
	snap uint32
	fcs  bool // frames end in a 4-byte FCS (if_fcslen 4)
}

// ngPacket is where a packet block starts and whether its frame ends in an
// FCS.
type ngPacket struct {
	offset int64
	fcs    bool
}

// ngBlockError is a block that fails the checks.
type ngBlockError struct {
	offset int64
	detail string
}

func (e *ngBlockError) Error() string {
	return fmt.Sprintf("block at byte offset %d: %s", e.offset, e.detail)
}

func (c *ngChecker) u32(b []byte) uint32 {
	if c.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (c *ngChecker) u16(b []byte) uint16 {
	if c.big {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (c *ngChecker) Read(p []byte) (int, error) {
	for {
		switch {
		case len(c.pending) > 0:
			n := copy(p, c.pending)
			c.pending = c.pending[n:]
			c.passed += int64(n)
			return n, nil
		case c.direct > 0:
			n, err := c.r.Read(p[:min(int64(len(p)), c.direct)])
			c.direct -= int64(n)
			c.passed += int64(n)
			if err == nil && n == 0 {
				continue
			}
			return n, err
		case c.err != nil:
			return 0, c.err
		case c.trailer:
			c.trailer = false
			c.checkTrailer()
		default:
			c.nextBlock()
		}
	}
}

// fail stops the stream at the current block: what was read of it stays
// unpassed, so NgReader fails there.
func (c *ngChecker) fail(format string, args ...any) {
	c.pending, c.direct = nil, 0
	c.err = &ngBlockError{offset: c.start, detail: fmt.Sprintf(format, args...)}
}

// readHead reads n bytes of the current block into head. At the end of
// the stream it passes on what there is and then io.EOF (io.EOF alone at a
// block boundary), so that NgReader sees the file end where it does.
func (c *ngChecker) readHead(n int) bool {
	have := len(c.head)
	c.head = slices.Grow(c.head, n)[:have+n]
	m, err := io.ReadFull(c.r, c.head[have:])
	c.head = c.head[:have+m]
	if err == nil {
		return true
	}
	c.pending = c.head
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		c.err = io.EOF
	} else {
		c.err = err
	}
	return false
}

// nextBlock reads and checks the start of the next block.
func (c *ngChecker) nextBlock() {
	c.start = c.passed
	c.head = c.head[:0]
	if !c.readHead(8) {
		return
	}
	typ := binary.LittleEndian.Uint32(c.head) // the section header's type reads the same both ways
	if typ == ngSectionHeader {
		if !c.readHead(4) {
			return
		}
		switch binary.LittleEndian.Uint32(c.head[8:]) {
		case ngByteOrderMagic:
			c.big = false
		case 0x4D3C2B1A:
			c.big = true
		default:
			c.fail("section header with an unknown byte-order magic % x", c.head[8:12])
			return
		}
		c.ifaces = c.ifaces[:0]
	} else {
		typ = c.u32(c.head)
	}
	c.length = c.u32(c.head[4:])
	minLen, headLen := uint32(12), 8
	switch typ {
	case ngSectionHeader:
		minLen, headLen = 28, 12
	case ngInterface:
		minLen, headLen = 20, 16
		if c.length <= ngMaxInterfaceBlock {
			headLen = int(c.length)
		}
	case ngEnhancedPacket, ngObsoletePacket:
		minLen, headLen = 32, 28
	case ngSimplePacket:
		minLen, headLen = 16, 12
	}
	switch {
	case c.length < minLen:
		c.fail("%s is %d bytes long, shorter than its %d-byte minimum", ngBlockName(typ), c.length, minLen)
		return
	case c.length > ngMaxBlock:
		c.fail("%s claims %d bytes, more than any real block (%d)", ngBlockName(typ), c.length, ngMaxBlock)
		return
	}
	if headLen > len(c.head) && !c.readHead(headLen-len(c.head)) {
		return
	}
	switch typ {
	case ngInterface:
		c.iface()
	case ngEnhancedPacket, ngObsoletePacket, ngSimplePacket:
		if !c.packet(typ) {
			return
		}
	}
	c.pending = c.head
	c.direct = int64(c.length) - int64(len(c.head)) - 4
	c.trailer = c.direct >= 0
	if !c.trailer {
		// The head took the whole block, trailing length included.
		c.direct = 0
		c.checkLength(c.head[len(c.head)-4:])
	}
}

// iface notes an interface description: its snap length and, when the
// whole block was read, its if_fcslen option.
func (c *ngChecker) iface() {
	ifc := ngIface{snap: c.u32(c.head[12:])}
	if len(c.head) == int(c.length) {
		opts := c.head[16 : len(c.head)-4]
		for len(opts) >= 4 {
			code, n := c.u16(opts), int(c.u16(opts[2:]))
			if code == 0 || 4+n > len(opts) {
				break
			}
			if code == ngOptionFCSLength && n >= 1 {
				ifc.fcs = opts[4] == 4
			}
			opts = opts[min(4+(n+3)&^3, len(opts)):]
		}
	}
	c.ifaces = append(c.ifaces, ifc)
}

// packet checks that a packet block holds the bytes it says it captured,
// and notes it for Reader.
func (c *ngChecker) packet(typ uint32) bool {
	var caplen, room uint32
	var ifc ngIface
	switch typ {
	case ngSimplePacket:
		caplen, room = c.u32(c.head[8:]), c.length-16
		if len(c.ifaces) > 0 {
			ifc = c.ifaces[0]
			if ifc.snap != 0 {
				caplen = min(caplen, ifc.snap)
			}
		}
	default:
		id := c.u32(c.head[8:])
		if typ == ngObsoletePacket {
			id = uint32(c.u16(c.head[8:]))
		}
		if int64(id) >= int64(len(c.ifaces)) {
			c.fail("%s names interface %d, but the section describes %d", ngBlockName(typ), id, len(c.ifaces))
			return false
		}
		ifc = c.ifaces[id]
		caplen, room = c.u32(c.head[20:]), c.length-32
	}
	switch {
	case caplen > MaxCaptureLength:
		c.fail("%s claims %d captured bytes, more than any capture holds (%d)", ngBlockName(typ), caplen, MaxCaptureLength)
		return false
	case caplen > room:
		c.fail("%s of %d bytes claims %d captured bytes, more than it has room for", ngBlockName(typ), c.length, caplen)
		return false
	}
	if c.next > 0 && len(c.packets) == cap(c.packets) {
		n := copy(c.packets, c.packets[c.next:])
		c.packets, c.next = c.packets[:n], 0
	}
	c.packets = append(c.packets, ngPacket{offset: c.start, fcs: ifc.fcs})
	return true
}

// checkTrailer reads the block's trailing length and checks it.
func (c *ngChecker) checkTrailer() {
	c.head = c.head[:0]
	if !c.readHead(4) {
		return
	}
	c.pending = c.head
	c.checkLength(c.head)
}

func (c *ngChecker) checkLength(b []byte) {
	if n := c.u32(b); n != c.length {
		c.fail("block of %d bytes ends with the length %d", c.length, n)
	}
}

// ngBlockName names a block type for error messages.
func ngBlockName(typ uint32) string {
	switch typ {
	case ngSectionHeader:
		return "section header block"
	case ngInterface:
		return "interface description block"
	case ngObsoletePacket:
		return "packet block"
	case ngSimplePacket:
		return "simple packet block"
	case 4:
		return "name resolution block"
	case 5:
		return "interface statistics block"
	case ngEnhancedPacket:
		return "enhanced packet block"
	}
	return fmt.Sprintf("block of type %#x", typ)
}

// takePacket returns the oldest packet block passed on and not yet taken.
func (c *ngChecker) takePacket() (ngPacket, bool) {
	if c.next == len(c.packets) {
		return ngPacket{}, false
	}
	p := c.packets[c.next]
	c.next++
	if c.next == len(c.packets) {
		c.packets, c.next = c.packets[:0], 0
	}
	return p, true
}
