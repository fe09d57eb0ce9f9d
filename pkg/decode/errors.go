package decode

import (
	"errors"
	"fmt"
)

// The causes a ReadError wraps; test with errors.Is.
var (
	// ErrNotCapture: the stream is neither pcap nor pcapng.
	ErrNotCapture = errors.New("not a pcap or pcapng file")
	// ErrTruncated: the file ends in the middle of a header or record.
	ErrTruncated = errors.New("truncated file")
	// ErrCorrupt: a header or record holds impossible values, such as a
	// record length larger than any snap length.
	ErrCorrupt = errors.New("corrupt capture")
)

// ReadError is damage in a capture file, at a known place. Packets before
// it were read normally; reading cannot continue past it.
type ReadError struct {
	// Packet is the number of the packet being read (from 1); 0 when the
	// file header itself is at fault.
	Packet int
	// Offset is the byte offset of the damaged record or block.
	Offset int64
	// Err is ErrNotCapture, ErrTruncated, ErrCorrupt, or the error of the
	// underlying stream.
	Err    error
	Detail string
}

func (e *ReadError) Error() string {
	var s string
	if e.Packet > 0 {
		s = fmt.Sprintf("packet %d at byte offset %d: ", e.Packet, e.Offset)
	} else if !errors.Is(e.Err, ErrNotCapture) {
		s = "file header: "
	}
	s += e.Err.Error()
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

func (e *ReadError) Unwrap() error { return e.Err }
