package ping

import (
	"encoding/binary"
	"time"
)

// The echo payload netdiag sends, `size` bytes of this layout cut to fit:
//
//	0..8    the run's token: 8 random bytes, the same for every probe
//	8..16   the send time, nanoseconds since the run began, big-endian
//	16..    the pattern: byte i holds i mod 256 (as iputils fills it)
//
// The token tells this run's replies from those of another run that drew
// the same ICMP identifier; the send time lets a reply that comes after its
// probe was forgotten still be timed; the pattern shows a changed payload.
const (
	tokenLen     = 8
	stampEnd     = 16
	payloadFixed = stampEnd
)

type token [tokenLen]byte

// fillPayload writes the payload for a probe sent at stamp into b.
func fillPayload(b []byte, tok token, stamp time.Duration) {
	var head [payloadFixed]byte
	copy(head[:], tok[:])
	binary.BigEndian.PutUint64(head[tokenLen:], uint64(stamp))
	n := copy(b, head[:])
	for i := n; i < len(b); i++ {
		b[i] = byte(i)
	}
}

// payloadVerdict is what comparing a reply's payload with ours found.
type payloadVerdict uint8

const (
	payloadOK      payloadVerdict = iota
	payloadForeign                // another run's payload: ignore the reply
	payloadChanged                // ours, altered on the way: corrupt
	payloadLength                 // ours, but of another length: corrupt
)

// checkPayload compares a reply's payload with what a probe of size bytes
// sent at stamp carried. A payload whose token is unrelated to ours (most
// token bytes differ) but which is otherwise laid out as ours belongs to
// another netdiag run; any other difference is damage on the way.
func checkPayload(got []byte, size int, tok token, stamp time.Duration) payloadVerdict {
	if len(got) != size {
		return payloadLength
	}
	var want [payloadFixed]byte
	fillPayload(want[:], tok, stamp)
	head := min(size, payloadFixed)
	tokenDiff := 0
	for i := range min(size, tokenLen) {
		if got[i] != want[i] {
			tokenDiff++
		}
	}
	patternOK := true
	for i := payloadFixed; i < size; i++ {
		if got[i] != byte(i) {
			patternOK = false
			break
		}
	}
	tokenBytes := min(size, tokenLen)
	if tokenBytes > 0 && 2*tokenDiff >= tokenBytes+1 && patternOK {
		return payloadForeign
	}
	if tokenDiff > 0 || !patternOK {
		return payloadChanged
	}
	for i := tokenLen; i < head; i++ {
		if got[i] != want[i] {
			return payloadChanged
		}
	}
	return payloadOK
}

// payloadStamp reads the send time from a reply whose token is ours, for
// replies to probes already forgotten. ok is false when the payload is too
// short to hold one, carries another token or breaks the pattern.
func payloadStamp(got []byte, size int, tok token) (stamp time.Duration, ok bool) {
	if size < payloadFixed || len(got) != size || [tokenLen]byte(got[:tokenLen]) != tok {
		return 0, false
	}
	for i := payloadFixed; i < size; i++ {
		if got[i] != byte(i) {
			return 0, false
		}
	}
	return time.Duration(binary.BigEndian.Uint64(got[tokenLen:])), true
}
