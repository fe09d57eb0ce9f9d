package tlswire

import (
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every *ParseError, so callers can test for any
// malformed message or extension with errors.Is.
var ErrMalformed = errors.New("malformed")

var errShort = errors.New("too short")

// ParseError reports a handshake message, alert or extension whose bytes
// do not follow the protocol's grammar.
type ParseError struct {
	// What is the structure being parsed: "ClientHello",
	// "ServerHello extension supported_versions", "alert".
	What string
	// Detail says what was wrong, when known ("trailing bytes").
	Detail string
}

func (e *ParseError) Error() string {
	if e.Detail == "" {
		return "tls: malformed " + e.What
	}
	return "tls: malformed " + e.What + ": " + e.Detail
}

// Is makes errors.Is(err, ErrMalformed) true for every ParseError.
func (e *ParseError) Is(target error) bool { return target == ErrMalformed }

func malformed(what, detail string) error { return &ParseError{What: what, Detail: detail} }

func malformedf(what, format string, args ...any) error {
	return &ParseError{What: what, Detail: fmt.Sprintf(format, args...)}
}

// MessageTooLargeError reports a handshake message header claiming more
// bytes than the reassembler accepts. It is returned as soon as the four
// header bytes arrive; the body is never buffered.
type MessageTooLargeError struct {
	Type   HandshakeType
	Length int // bytes claimed by the header
	Limit  int
}

func (e *MessageTooLargeError) Error() string {
	return fmt.Sprintf("tls: %v message claims %d bytes, more than the limit of %d", e.Type, e.Length, e.Limit)
}
