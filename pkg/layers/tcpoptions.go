package layers

import (
	"encoding/binary"
	"strconv"
)

// TCPOptionKind is the kind byte of a TCP option.
type TCPOptionKind uint8

// TCP option kinds (IANA registry).
const (
	TCPOptionEOL           TCPOptionKind = 0
	TCPOptionNOP           TCPOptionKind = 1
	TCPOptionMSS           TCPOptionKind = 2
	TCPOptionWindowScale   TCPOptionKind = 3
	TCPOptionSACKPermitted TCPOptionKind = 4
	TCPOptionSACK          TCPOptionKind = 5
	TCPOptionTimestamps    TCPOptionKind = 8
	TCPOptionMD5           TCPOptionKind = 19
	TCPOptionUserTimeout   TCPOptionKind = 28
	TCPOptionAO            TCPOptionKind = 29
	TCPOptionMPTCP         TCPOptionKind = 30
	TCPOptionFastOpen      TCPOptionKind = 34
)

// String names the kind as tcpdump does ("mss", "sackOK", "TS"), or gives
// its number.
func (k TCPOptionKind) String() string {
	switch k {
	case TCPOptionEOL:
		return "eol"
	case TCPOptionNOP:
		return "nop"
	case TCPOptionMSS:
		return "mss"
	case TCPOptionWindowScale:
		return "wscale"
	case TCPOptionSACKPermitted:
		return "sackOK"
	case TCPOptionSACK:
		return "sack"
	case TCPOptionTimestamps:
		return "TS"
	case TCPOptionMD5:
		return "md5"
	case TCPOptionUserTimeout:
		return "uto"
	case TCPOptionAO:
		return "tcp-ao"
	case TCPOptionMPTCP:
		return "mptcp"
	case TCPOptionFastOpen:
		return "tfo"
	}
	return "opt-" + strconv.Itoa(int(k))
}

// TCPOption is one TCP option. EOL and NOP are one byte (Length 1, no
// Data); the others carry a length byte counting kind and length, and
// Data aliases the rest. Unknown kinds are kept raw the same way.
type TCPOption struct {
	Kind   TCPOptionKind
	Length uint8
	Data   []byte
}

func decodeTCPOptions(opts []TCPOption, b []byte) ([]TCPOption, bool) {
	return decodeOptions(opts, b, TCPOptionEOL, TCPOptionNOP, func(k TCPOptionKind, l uint8, d []byte) TCPOption {
		return TCPOption{Kind: k, Length: l, Data: d}
	})
}

func tcpOptionsLen(opts []TCPOption) int {
	n := 0
	for _, o := range opts {
		if o.Kind == TCPOptionEOL || o.Kind == TCPOptionNOP {
			n++
		} else {
			n += 2 + len(o.Data)
		}
	}
	return n
}

func (o TCPOption) appendTo(b []byte) []byte {
	if o.Kind == TCPOptionEOL || o.Kind == TCPOptionNOP {
		return append(b, byte(o.Kind))
	}
	b = append(b, byte(o.Kind), byte(2+len(o.Data)))
	return append(b, o.Data...)
}

// AppendText appends the option as tcpdump prints it: "mss 1460",
// "wscale 7", "sackOK", "TS val 1 ecr 0", "sack 1 {100:200}", "nop", and
// "opt-N" with the data in hex for others.
func (o TCPOption) AppendText(b []byte) []byte {
	b = append(b, o.Kind.String()...)
	d := o.Data
	switch {
	case o.Kind == TCPOptionEOL || o.Kind == TCPOptionNOP || o.Kind == TCPOptionSACKPermitted && len(d) == 0:
		return b
	case o.Kind == TCPOptionMSS && len(d) == 2:
		return strconv.AppendUint(append(b, ' '), uint64(binary.BigEndian.Uint16(d)), 10)
	case o.Kind == TCPOptionWindowScale && len(d) == 1:
		return strconv.AppendUint(append(b, ' '), uint64(d[0]), 10)
	case o.Kind == TCPOptionTimestamps && len(d) == 8:
		b = strconv.AppendUint(append(b, " val "...), uint64(binary.BigEndian.Uint32(d)), 10)
		return strconv.AppendUint(append(b, " ecr "...), uint64(binary.BigEndian.Uint32(d[4:])), 10)
	case o.Kind == TCPOptionSACK && len(d)%8 == 0:
		b = strconv.AppendInt(append(b, ' '), int64(len(d)/8), 10)
		for ; len(d) >= 8; d = d[8:] {
			b = strconv.AppendUint(append(b, " {"...), uint64(binary.BigEndian.Uint32(d)), 10)
			b = strconv.AppendUint(append(b, ':'), uint64(binary.BigEndian.Uint32(d[4:])), 10)
			b = append(b, '}')
		}
		return b
	}
	if len(d) > 0 {
		b = append(b, " 0x"...)
		for _, x := range d {
			b = append(b, hexDigits[x>>4], hexDigits[x&15])
		}
	}
	return b
}

// String is AppendText's form.
func (o TCPOption) String() string { return string(o.AppendText(nil)) }

// TCPOptionMSSOf returns a maximum segment size option.
func TCPOptionMSSOf(mss uint16) TCPOption {
	return TCPOption{Kind: TCPOptionMSS, Length: 4, Data: binary.BigEndian.AppendUint16(nil, mss)}
}

// TCPOptionWindowScaleOf returns a window scale option (shift 0-14).
func TCPOptionWindowScaleOf(shift uint8) TCPOption {
	return TCPOption{Kind: TCPOptionWindowScale, Length: 3, Data: []byte{shift}}
}

// TCPOptionSACKPermittedOf returns a SACK-permitted option.
func TCPOptionSACKPermittedOf() TCPOption {
	return TCPOption{Kind: TCPOptionSACKPermitted, Length: 2}
}

// TCPOptionTimestampsOf returns a timestamps option.
func TCPOptionTimestampsOf(val, ecr uint32) TCPOption {
	d := binary.BigEndian.AppendUint32(make([]byte, 0, 8), val)
	return TCPOption{Kind: TCPOptionTimestamps, Length: 10, Data: binary.BigEndian.AppendUint32(d, ecr)}
}

// TCPOptionSACKOf returns a SACK option with the given blocks (at most 4).
func TCPOptionSACKOf(blocks ...SACKBlock) TCPOption {
	d := make([]byte, 0, 8*len(blocks))
	for _, s := range blocks {
		d = binary.BigEndian.AppendUint32(d, s.Left)
		d = binary.BigEndian.AppendUint32(d, s.Right)
	}
	return TCPOption{Kind: TCPOptionSACK, Length: uint8(2 + len(d)), Data: d}
}

// TCPOptionNOPOf returns a no-operation option (one byte of padding).
func TCPOptionNOPOf() TCPOption { return TCPOption{Kind: TCPOptionNOP, Length: 1} }

// SACKBlock is one selectively acknowledged range [Left, Right).
type SACKBlock struct{ Left, Right uint32 }

func (t *TCP) option(k TCPOptionKind, n int) ([]byte, bool) {
	for _, o := range t.Options {
		if o.Kind == k && len(o.Data) == n {
			return o.Data, true
		}
	}
	return nil, false
}

// MSS returns the maximum segment size option.
func (t *TCP) MSS() (uint16, bool) {
	d, ok := t.option(TCPOptionMSS, 2)
	if !ok {
		return 0, false
	}
	return binary.BigEndian.Uint16(d), true
}

// WindowScale returns the window scale shift count.
func (t *TCP) WindowScale() (uint8, bool) {
	d, ok := t.option(TCPOptionWindowScale, 1)
	if !ok {
		return 0, false
	}
	return d[0], true
}

// SACKPermitted reports the SACK-permitted option.
func (t *TCP) SACKPermitted() bool {
	_, ok := t.option(TCPOptionSACKPermitted, 0)
	return ok
}

// Timestamps returns the timestamp value and echo reply.
func (t *TCP) Timestamps() (val, ecr uint32, ok bool) {
	d, ok := t.option(TCPOptionTimestamps, 8)
	if !ok {
		return 0, 0, false
	}
	return binary.BigEndian.Uint32(d), binary.BigEndian.Uint32(d[4:]), true
}

// AppendSACKBlocks appends the blocks of the SACK option to dst.
func (t *TCP) AppendSACKBlocks(dst []SACKBlock) []SACKBlock {
	for _, o := range t.Options {
		if o.Kind != TCPOptionSACK {
			continue
		}
		for d := o.Data; len(d) >= 8; d = d[8:] {
			dst = append(dst, SACKBlock{binary.BigEndian.Uint32(d), binary.BigEndian.Uint32(d[4:])})
		}
	}
	return dst
}
