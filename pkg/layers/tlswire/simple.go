package tlswire

import "golang.org/x/crypto/cryptobyte"

// HelloRequest asks the client to start a new handshake; it has no body.
type HelloRequest struct{}

// Type implements Message.
func (m *HelloRequest) Type() HandshakeType { return TypeHelloRequest }

// Marshal implements Message.
func (m *HelloRequest) Marshal() ([]byte, error) { return emptyMessage(TypeHelloRequest), nil }

func (m *HelloRequest) unmarshal(msg []byte, _ Context) error {
	return parseEmpty(msg, TypeHelloRequest)
}

// ServerHelloDone ends the server's first flight; it has no body.
type ServerHelloDone struct{}

// Type implements Message.
func (m *ServerHelloDone) Type() HandshakeType { return TypeServerHelloDone }

// Marshal implements Message.
func (m *ServerHelloDone) Marshal() ([]byte, error) { return emptyMessage(TypeServerHelloDone), nil }

func (m *ServerHelloDone) unmarshal(msg []byte, _ Context) error {
	return parseEmpty(msg, TypeServerHelloDone)
}

func emptyMessage(t HandshakeType) []byte { return []byte{byte(t), 0, 0, 0} }

func parseEmpty(msg []byte, t HandshakeType) error {
	body, err := readBody(msg, t)
	if err != nil {
		return err
	}
	if !body.Empty() {
		return malformed(t.String(), "body not empty")
	}
	return nil
}

// Finished carries verify_data, the PRF over the handshake transcript
// (12 bytes in TLS 1.0-1.2, 36 in SSL 3.0).
type Finished struct {
	VerifyData []byte
}

// Type implements Message.
func (m *Finished) Type() HandshakeType { return TypeFinished }

// Marshal implements Message.
func (m *Finished) Marshal() ([]byte, error) {
	return marshalBody(TypeFinished, func(b *cryptobyte.Builder) { b.AddBytes(m.VerifyData) })
}

func (m *Finished) unmarshal(msg []byte, _ Context) error {
	body, err := readBody(msg, TypeFinished)
	if err != nil {
		return err
	}
	if body.Empty() {
		return malformed("Finished", "empty verify_data")
	}
	m.VerifyData = body
	return nil
}

// NewSessionTicket hands the client a session ticket (RFC 5077, TLS 1.2
// form). LifetimeHint is in seconds; 0 means unspecified.
type NewSessionTicket struct {
	LifetimeHint uint32
	Ticket       []byte
}

// Type implements Message.
func (m *NewSessionTicket) Type() HandshakeType { return TypeNewSessionTicket }

// ParseNewSessionTicket parses a whole TLS 1.2 NewSessionTicket.
func ParseNewSessionTicket(msg []byte) (*NewSessionTicket, error) {
	return parseAs[NewSessionTicket](msg, Context{})
}

// Marshal implements Message.
func (m *NewSessionTicket) Marshal() ([]byte, error) {
	return marshalBody(TypeNewSessionTicket, func(b *cryptobyte.Builder) {
		b.AddUint32(m.LifetimeHint)
		addUint16Vector(b, m.Ticket)
	})
}

func (m *NewSessionTicket) unmarshal(msg []byte, _ Context) error {
	*m = NewSessionTicket{}
	s, err := readBody(msg, TypeNewSessionTicket)
	if err != nil {
		return err
	}
	var ok bool
	if !s.ReadUint32(&m.LifetimeHint) {
		return malformed("NewSessionTicket", "truncated lifetime hint")
	}
	if m.Ticket, ok = readUint16Vector(&s); !ok || !s.Empty() {
		return malformed("NewSessionTicket", "bad ticket")
	}
	return nil
}

// CertificateStatus carries a stapled OCSP response (RFC 6066 section 8).
type CertificateStatus struct {
	StatusType uint8 // StatusTypeOCSP
	Response   []byte
}

// Type implements Message.
func (m *CertificateStatus) Type() HandshakeType { return TypeCertificateStatus }

// ParseCertificateStatus parses a whole CertificateStatus message.
func ParseCertificateStatus(msg []byte) (*CertificateStatus, error) {
	return parseAs[CertificateStatus](msg, Context{})
}

// Marshal implements Message.
func (m *CertificateStatus) Marshal() ([]byte, error) {
	return marshalBody(TypeCertificateStatus, func(b *cryptobyte.Builder) {
		b.AddUint8(m.StatusType)
		b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(m.Response) })
	})
}

func (m *CertificateStatus) unmarshal(msg []byte, _ Context) error {
	*m = CertificateStatus{}
	s, err := readBody(msg, TypeCertificateStatus)
	if err != nil {
		return err
	}
	var resp cryptobyte.String
	if !s.ReadUint8(&m.StatusType) || !s.ReadUint24LengthPrefixed(&resp) || resp.Empty() || !s.Empty() {
		return malformed("CertificateStatus", "bad OCSP response")
	}
	m.Response = resp
	return nil
}

// ParseHelloRequest parses a whole HelloRequest message.
func ParseHelloRequest(msg []byte) (*HelloRequest, error) {
	return parseAs[HelloRequest](msg, Context{})
}

// ParseServerHelloDone parses a whole ServerHelloDone message.
func ParseServerHelloDone(msg []byte) (*ServerHelloDone, error) {
	return parseAs[ServerHelloDone](msg, Context{})
}

// ParseFinished parses a whole Finished message.
func ParseFinished(msg []byte) (*Finished, error) {
	return parseAs[Finished](msg, Context{})
}
