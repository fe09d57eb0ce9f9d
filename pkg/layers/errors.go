package layers

import "errors"

// The causes a Error wraps; test with errors.Is.
var (
	// ErrTruncated: the bytes end before the header (or a length field) says
	// they should.
	ErrTruncated = errors.New("truncated")
	// ErrMalformed: a field holds a value the protocol does not allow.
	ErrMalformed = errors.New("malformed")
	// ErrUnsupported: the link type or protocol is one this package does
	// not decode.
	ErrUnsupported = errors.New("unsupported")
	// ErrInvalid: a builder was given a field value it cannot encode.
	ErrInvalid = errors.New("invalid field value")
)

// Error says which layer could not be decoded or built, and why. The errors
// a decoder returns are package-level values, so decoding never allocates,
// even for broken input; Packet records the byte offset separately.
type Error struct {
	Layer  LayerType
	Err    error // ErrTruncated, ErrMalformed, ErrUnsupported or ErrInvalid
	Detail string
}

func (e *Error) Error() string {
	return e.Layer.String() + ": " + e.Err.Error() + ": " + e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

func truncated(l LayerType, detail string) *Error {
	return &Error{Layer: l, Err: ErrTruncated, Detail: detail}
}

func malformed(l LayerType, detail string) *Error {
	return &Error{Layer: l, Err: ErrMalformed, Detail: detail}
}

func invalid(l LayerType, detail string) *Error {
	return &Error{Layer: l, Err: ErrInvalid, Detail: detail}
}
