package decode

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// MaxHexFrame bounds a frame read from a hex dump: the largest packet
// libpcap captures.
const MaxHexFrame = 262144

// ErrHex: the text is not a hex dump ParseHex understands.
var ErrHex = errors.New("not a hex dump")

// ParseHex reads packet bytes written out as text and returns the frames in
// it. It understands:
//
//   - plain hex, with or without spaces, colons or line breaks
//     ("4500 0054", "45:00:00:54", "0x45000054"): one frame;
//   - od -Ax -tx1 output, including its "*" lines for repeated rows: one frame;
//   - tcpdump -x, -xx, -X and -XX output: one frame per packet, a packet
//     starting at every summary line or every offset 0;
//   - the same offset-and-bytes layout written by xxd, hexdump -C and
//     Wireshark's "Copy as Hex Dump".
//
// Errors wrap ErrHex and name the line at fault.
func ParseHex(text []byte) ([][]byte, error) {
	lines := bytes.Split(text, []byte("\n"))
	if offsetDump(lines) {
		return parseOffsetDump(lines)
	}
	frame, err := parsePlainHex(text)
	if err != nil {
		return nil, err
	}
	return [][]byte{frame}, nil
}

// offsetDump reports whether the first line that starts with an offset
// column starts at offset 0, which is how every dump with offsets begins.
// Lines before it may be tcpdump's packet summaries.
func offsetDump(lines [][]byte) bool {
	for _, l := range lines {
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		if off, _, ok := splitOffset(l); ok {
			return off == 0
		}
	}
	return false
}

func hexErr(line int, format string, args ...any) error {
	return fmt.Errorf("%w: line %d: %s", ErrHex, line, fmt.Sprintf(format, args...))
}

// parseOffsetDump reads dumps whose lines start with the offset of their
// first byte. A line without an offset (tcpdump's summary) or an offset of
// 0 after some bytes ends the frame being read.
func parseOffsetDump(lines [][]byte) ([][]byte, error) {
	var (
		frames [][]byte
		cur    []byte
		prev   []byte // the last row, for od's "*"
		repeat bool   // a "*" line: rows equal to prev were left out
	)
	flush := func() {
		if len(cur) > 0 {
			frames = append(frames, cur)
		}
		cur, prev, repeat = nil, nil, false
	}
	for i, l := range lines {
		lineNo := i + 1
		t := bytes.TrimSpace(l)
		if len(t) == 0 {
			continue
		}
		if string(t) == "*" {
			repeat = true
			continue
		}
		off, rest, ok := splitOffset(t)
		if !ok {
			flush()
			continue
		}
		if off == 0 && len(cur) > 0 {
			flush()
		}
		switch {
		case off < len(cur):
			return nil, hexErr(lineNo, "offset %#x goes back (already %d bytes)", off, len(cur))
		case off > MaxHexFrame:
			return nil, hexErr(lineNo, "offset %#x is beyond the largest frame (%d bytes)", off, MaxHexFrame)
		case off > len(cur) && repeat && len(prev) > 0:
			for len(cur) < off {
				n := min(len(prev), off-len(cur))
				cur = append(cur, prev[:n]...)
			}
		case off > len(cur):
			return nil, hexErr(lineNo, "offset %#x leaves a gap after %d bytes", off, len(cur))
		}
		repeat = false
		row, err := rowBytes(rest)
		if err != nil {
			return nil, hexErr(lineNo, "%v", err)
		}
		if len(cur)+len(row) > MaxHexFrame {
			return nil, hexErr(lineNo, "the frame is larger than %d bytes", MaxHexFrame)
		}
		cur = append(cur, row...)
		if len(row) > 0 {
			prev = row
		}
	}
	flush()
	if len(frames) == 0 {
		return nil, fmt.Errorf("%w: no bytes in it", ErrHex)
	}
	return frames, nil
}

// splitOffset splits a dump line into its offset and the rest. The offset
// column is written "0x0010:" (tcpdump), "00000010:" (xxd), "000010" (od
// -Ax, six digits or more) or "0010" followed by two-digit bytes
// (Wireshark, hexdump -C with eight digits).
func splitOffset(t []byte) (int, []byte, bool) {
	end := bytes.IndexAny(t, " \t")
	tok, rest := t, []byte(nil)
	if end >= 0 {
		tok, rest = t[:end], bytes.TrimLeft(t[end:], " \t")
	}
	colon := bytes.HasSuffix(tok, []byte(":"))
	tok = bytes.TrimSuffix(tok, []byte(":"))
	prefixed := bytes.HasPrefix(tok, []byte("0x"))
	tok = bytes.TrimPrefix(tok, []byte("0x"))
	if len(tok) < 4 || len(tok) > 10 || !isHex(tok) {
		return 0, nil, false
	}
	if !colon && !prefixed && len(tok) < 6 {
		// Four digits alone could be plain hex ("4500 0054"); as an offset
		// they must be followed by bytes written as two digits.
		first := rest
		if i := bytes.IndexAny(first, " \t"); i >= 0 {
			first = first[:i]
		}
		if len(first) != 2 || !isHex(first) {
			return 0, nil, false
		}
	}
	off, err := strconv.ParseUint(string(tok), 16, 32)
	if err != nil {
		return 0, nil, false
	}
	return int(off), rest, true
}

// rowBytes reads the bytes of one dump row, written as groups of two or
// four hex digits, up to the ASCII column if there is one: "  |...|"
// (hexdump -C), or after two spaces (tcpdump -X, xxd, Wireshark).
func rowBytes(rest []byte) ([]byte, error) {
	if i := bytes.Index(rest, []byte("  |")); i >= 0 && bytes.HasSuffix(rest, []byte("|")) {
		rest = rest[:i] // hexdump -C: two spaces inside the hex, ASCII in bars
	} else if i := bytes.Index(rest, []byte("  ")); i >= 0 {
		rest = rest[:i]
	}
	var row []byte
	for _, tok := range bytes.Fields(rest) {
		if len(tok)%2 != 0 || !isHex(tok) {
			return nil, fmt.Errorf("%q is not hex bytes", tok)
		}
		for j := 0; j < len(tok); j += 2 {
			row = append(row, unhex(tok[j])<<4|unhex(tok[j+1]))
		}
	}
	return row, nil
}

// parsePlainHex reads hex digits in pairs, ignoring white space, colons,
// dashes and "0x" prefixes.
func parsePlainHex(text []byte) ([]byte, error) {
	var (
		out  []byte
		half byte
		odd  bool
	)
	line := 1
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '\n':
			line++
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == ':' || c == '-' || c == ',':
			continue
		case c == '0' && i+1 < len(text) && (text[i+1] == 'x' || text[i+1] == 'X') && !odd:
			i++
			continue
		case !isHexDigit(c):
			return nil, hexErr(line, "%q is not a hex digit", c)
		}
		if odd {
			out = append(out, half<<4|unhex(c))
			if len(out) > MaxHexFrame {
				return nil, hexErr(line, "the frame is larger than %d bytes", MaxHexFrame)
			}
		} else {
			half = unhex(c)
		}
		odd = !odd
	}
	if odd {
		return nil, fmt.Errorf("%w: an odd number of hex digits", ErrHex)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no bytes in it", ErrHex)
	}
	return out, nil
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !isHexDigit(c) {
			return false
		}
	}
	return len(b) > 0
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
