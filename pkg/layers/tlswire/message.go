package tlswire

import (
	"golang.org/x/crypto/cryptobyte"
)

// Message is a parsed handshake message.
type Message interface {
	// Type is the message's handshake type.
	Type() HandshakeType
	// Marshal returns the whole message, four-byte header included.
	Marshal() ([]byte, error)
}

// Context carries what a connection has negotiated so far. Some messages
// cannot be parsed without it: ServerKeyExchange and ClientKeyExchange
// depend on the cipher suite's key exchange, and CertificateRequest and the
// signature in ServerKeyExchange on the protocol version.
type Context struct {
	Version Version     // the negotiated version; 0 before ServerHello
	Suite   CipherSuite // the negotiated suite; 0 before ServerHello
}

// parseAs parses a whole message of type M, header included, for ctx.
func parseAs[M any, PM interface {
	*M
	unmarshal([]byte, Context) error
}](msg []byte, ctx Context) (*M, error) {
	m := PM(new(M))
	if err := m.unmarshal(msg, ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// ParseMessage parses a whole handshake message (header included), as
// returned by Reassembler.Next, into its struct. Types this package does not
// model come back as *OpaqueMessage. The returned message keeps references
// into msg.
func ParseMessage(msg []byte, ctx Context) (Message, error) {
	if len(msg) < HandshakeHeaderLen {
		return nil, malformed("handshake message", "shorter than its header")
	}
	t := HandshakeType(msg[0])
	var m interface {
		Message
		unmarshal([]byte, Context) error
	}
	switch t {
	case TypeHelloRequest:
		m = new(HelloRequest)
	case TypeClientHello:
		m = new(ClientHello)
	case TypeServerHello:
		m = new(ServerHello)
	case TypeNewSessionTicket:
		if ctx.Version == VersionTLS13 {
			m = new(OpaqueMessage)
		} else {
			m = new(NewSessionTicket)
		}
	case TypeCertificate:
		if ctx.Version == VersionTLS13 {
			m = new(OpaqueMessage)
		} else {
			m = new(Certificate)
		}
	case TypeServerKeyExchange:
		m = new(ServerKeyExchange)
	case TypeCertificateRequest:
		if ctx.Version == VersionTLS13 {
			m = new(OpaqueMessage)
		} else {
			m = new(CertificateRequest)
		}
	case TypeServerHelloDone:
		m = new(ServerHelloDone)
	case TypeClientKeyExchange:
		m = new(ClientKeyExchange)
	case TypeFinished:
		m = new(Finished)
	case TypeCertificateStatus:
		m = new(CertificateStatus)
	default:
		m = new(OpaqueMessage)
	}
	if err := m.unmarshal(msg, ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// OpaqueMessage is a handshake message kept as bytes: a type this package
// does not model, or one whose TLS 1.3 form differs from TLS 1.2's.
type OpaqueMessage struct {
	MsgType HandshakeType
	Body    []byte
}

// Type implements Message.
func (m *OpaqueMessage) Type() HandshakeType { return m.MsgType }

// Marshal implements Message.
func (m *OpaqueMessage) Marshal() ([]byte, error) {
	return marshalBody(m.MsgType, func(b *cryptobyte.Builder) { b.AddBytes(m.Body) })
}

func (m *OpaqueMessage) unmarshal(msg []byte, _ Context) error {
	body, err := readBody(msg, HandshakeType(msg[0]))
	if err != nil {
		return err
	}
	*m = OpaqueMessage{MsgType: HandshakeType(msg[0]), Body: body}
	return nil
}

// readBody checks the header of a whole message and returns its body.
func readBody(msg []byte, want HandshakeType) (cryptobyte.String, error) {
	s := cryptobyte.String(msg)
	var t uint8
	var body cryptobyte.String
	if !s.ReadUint8(&t) || !s.ReadUint24LengthPrefixed(&body) {
		return nil, malformed(want.String(), "truncated header or body")
	}
	if HandshakeType(t) != want {
		return nil, malformedf(want.String(), "message type is %v", HandshakeType(t))
	}
	if !s.Empty() {
		return nil, malformed(want.String(), "bytes after the message")
	}
	return body, nil
}

// marshalBody frames the body written by f as a handshake message of type t.
func marshalBody(t HandshakeType, f cryptobyte.BuilderContinuation) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddUint8(uint8(t))
	b.AddUint24LengthPrefixed(f)
	return b.Bytes()
}

// readUint16List reads a vector of 16-bit values with the given prefix
// length (1 or 2 bytes).
func readUint16List(s *cryptobyte.String, prefix int) ([]uint16, bool) {
	var list cryptobyte.String
	switch prefix {
	case 1:
		if !s.ReadUint8LengthPrefixed(&list) {
			return nil, false
		}
	default:
		if !s.ReadUint16LengthPrefixed(&list) {
			return nil, false
		}
	}
	if len(list)%2 != 0 {
		return nil, false
	}
	out := make([]uint16, 0, len(list)/2)
	for !list.Empty() {
		var v uint16
		list.ReadUint16(&v)
		out = append(out, v)
	}
	return out, true
}

// readHelloStart reads the fields both hellos begin with: the legacy
// version, the random and a session ID of at most 32 bytes.
func readHelloStart(s *cryptobyte.String, what string, version *Version, random *[32]byte, sessionID *[]byte) error {
	var v uint16
	if !s.ReadUint16(&v) || !s.CopyBytes(random[:]) {
		return malformed(what, "truncated version or random")
	}
	*version = Version(v)
	var ok bool
	if *sessionID, ok = readUint8Vector(s); !ok || len(*sessionID) > 32 {
		return malformed(what, "bad session ID")
	}
	return nil
}

func readUint8Vector(s *cryptobyte.String) ([]byte, bool) {
	var v cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&v) {
		return nil, false
	}
	return []byte(v), true
}

func readUint16Vector(s *cryptobyte.String) ([]byte, bool) {
	var v cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&v) {
		return nil, false
	}
	return []byte(v), true
}

func addUint8Vector(b *cryptobyte.Builder, v []byte) {
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(v) })
}

func addUint16Vector(b *cryptobyte.Builder, v []byte) {
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(v) })
}

// extensionBlock reads the optional extensions block that ends a hello,
// calling f for each extension and rejecting duplicates, which RFC 5246
// forbids.
func extensionBlock(s *cryptobyte.String, what string, f func(ExtensionType, cryptobyte.String) error) ([]ExtensionType, error) {
	if s.Empty() {
		return nil, nil
	}
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) || !s.Empty() {
		return nil, malformed(what, "bad extensions block")
	}
	var order []ExtensionType
	var seen [1 << 16 / 64]uint64
	for !exts.Empty() {
		var t uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&t) || !exts.ReadUint16LengthPrefixed(&data) {
			return nil, malformed(what, "truncated extension")
		}
		if seen[t/64]&(1<<(t%64)) != 0 {
			return nil, malformedf(what, "extension %v appears twice", ExtensionType(t))
		}
		seen[t/64] |= 1 << (t % 64)
		order = append(order, ExtensionType(t))
		if err := f(ExtensionType(t), data); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// extWriter collects extensions while a hello is marshalled.
type extWriter struct{ list []Extension }

func (w *extWriter) add(t ExtensionType, f cryptobyte.BuilderContinuation) error {
	var b cryptobyte.Builder
	f(&b)
	data, err := b.Bytes()
	if err != nil {
		return err
	}
	w.list = append(w.list, Extension{Type: t, Data: data})
	return nil
}

func (w *extWriter) raw(t ExtensionType, data []byte) {
	w.list = append(w.list, Extension{Type: t, Data: data})
}

// build writes the extensions block. Some servers fail when the last
// extension is empty, so an empty last extension trades places with the
// last non-empty one (order carries no meaning in TLS 1.2).
func (w *extWriter) build(b *cryptobyte.Builder) {
	if n := len(w.list); n > 1 && len(w.list[n-1].Data) == 0 {
		for i := n - 2; i >= 0; i-- {
			if len(w.list[i].Data) > 0 {
				w.list[i], w.list[n-1] = w.list[n-1], w.list[i]
				break
			}
		}
	}
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, e := range w.list {
			b.AddUint16(uint16(e.Type))
			addUint16Vector(b, e.Data)
		}
	})
}
