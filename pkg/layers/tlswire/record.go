package tlswire

import (
	"errors"
	"fmt"
)

// ContentType is the type byte of a TLS record.
type ContentType uint8

// The content types of the IANA "TLS ContentType" registry.
const (
	ContentChangeCipherSpec ContentType = 20
	ContentAlert            ContentType = 21
	ContentHandshake        ContentType = 22
	ContentApplicationData  ContentType = 23
	ContentHeartbeat        ContentType = 24
	ContentTLS12CID         ContentType = 25
	ContentACK              ContentType = 26
)

var contentTypeNames = map[ContentType]string{
	ContentChangeCipherSpec: "change_cipher_spec",
	ContentAlert:            "alert",
	ContentHandshake:        "handshake",
	ContentApplicationData:  "application_data",
	ContentHeartbeat:        "heartbeat",
	ContentTLS12CID:         "tls12_cid",
	ContentACK:              "ack",
}

// String returns the registry name ("handshake") or the number.
func (t ContentType) String() string {
	if n, ok := contentTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("content_type(%d)", uint8(t))
}

// Known reports whether t is in the registry.
func (t ContentType) Known() bool { _, ok := contentTypeNames[t]; return ok }

// Record size limits (RFC 5246 section 6.2).
const (
	// RecordHeaderLen is the size of a record header: type, version, length.
	RecordHeaderLen = 5
	// MaxPlaintext is the largest plaintext fragment, 2^14.
	MaxPlaintext = 1 << 14
	// MaxRecordLen is the largest record body allowed on the wire: a
	// TLSCiphertext may exceed the plaintext limit by 2048 bytes of
	// expansion. Anything longer is rejected as soon as the header is read.
	MaxRecordLen = MaxPlaintext + 2048
)

// RecordHeader is the five-byte header in front of every TLS record.
type RecordHeader struct {
	Type    ContentType `json:"content_type"`
	Version Version     `json:"version"`
	Length  int         `json:"length"`
}

// Errors a record header can carry; a *RecordHeaderError wraps one of them.
var (
	ErrUnknownContentType = errors.New("unknown content type")
	ErrBadRecordVersion   = errors.New("record version is not 3.x")
	ErrRecordOverflow     = errors.New("record longer than 2^14+2048 bytes")
)

// RecordHeaderError reports five bytes that cannot start a TLS record. The
// bytes are kept so that a caller can say what the peer sent instead of
// TLS (an HTTP status line, an SSH banner).
type RecordHeaderError struct {
	Header [RecordHeaderLen]byte
	Err    error // ErrUnknownContentType, ErrBadRecordVersion or ErrRecordOverflow
}

func (e *RecordHeaderError) Error() string {
	return fmt.Sprintf("tls record header % x: %v", e.Header[:], e.Err)
}

func (e *RecordHeaderError) Unwrap() error { return e.Err }

// ParseRecordHeader checks and decodes the first RecordHeaderLen bytes of
// b. It rejects an unknown content type, a version whose major number is
// not 3, and a length above MaxRecordLen, so that a caller never waits for
// or buffers the body of a record that cannot be valid.
func ParseRecordHeader(b []byte) (RecordHeader, error) {
	if len(b) < RecordHeaderLen {
		return RecordHeader{}, fmt.Errorf("tls record header: %w", errShort)
	}
	h := RecordHeader{
		Type:    ContentType(b[0]),
		Version: Version(uint16(b[1])<<8 | uint16(b[2])),
		Length:  int(b[3])<<8 | int(b[4]),
	}
	var cause error
	switch {
	case !h.Type.Known():
		cause = ErrUnknownContentType
	case b[1] != 3:
		cause = ErrBadRecordVersion
	case h.Length > MaxRecordLen:
		cause = ErrRecordOverflow
	}
	if cause != nil {
		e := &RecordHeaderError{Err: cause}
		copy(e.Header[:], b)
		return RecordHeader{}, e
	}
	return h, nil
}

// AppendRecord appends a record of type t carrying fragment to dst. It
// returns an error when fragment does not fit in one record.
func AppendRecord(dst []byte, t ContentType, v Version, fragment []byte) ([]byte, error) {
	if len(fragment) > MaxRecordLen {
		return dst, fmt.Errorf("tlswire: record fragment of %d bytes exceeds %d", len(fragment), MaxRecordLen)
	}
	dst = append(dst, byte(t), byte(v>>8), byte(v), byte(len(fragment)>>8), byte(len(fragment)))
	return append(dst, fragment...), nil
}

// AppendRecords splits data into records of at most MaxPlaintext bytes
// each and appends them to dst.
func AppendRecords(dst []byte, t ContentType, v Version, data []byte) []byte {
	for {
		n := min(len(data), MaxPlaintext)
		dst = append(dst, byte(t), byte(v>>8), byte(v), byte(n>>8), byte(n))
		dst = append(dst, data[:n]...)
		data = data[n:]
		if len(data) == 0 {
			return dst
		}
	}
}
