package tlswire

import (
	"bytes"

	"golang.org/x/crypto/cryptobyte"
)

// helloRetryRandom is the Random value that turns a ServerHello into a
// HelloRetryRequest (RFC 8446 section 4.1.3): SHA-256 of
// "HelloRetryRequest".
var helloRetryRandom = [32]byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

// Downgrade sentinels a TLS 1.3 server writes at the end of its random when
// it negotiates an older version (RFC 8446 section 4.1.3).
var (
	downgradeTLS12 = []byte("DOWNGRD\x01")
	downgradeTLS11 = []byte("DOWNGRD\x00")
)

// ServerHello is the server's answer to ClientHello. With the
// HelloRetryRequest random it is a TLS 1.3 HelloRetryRequest, in which
// KeyShare carries only the group the server wants.
type ServerHello struct {
	Version           Version
	Random            [32]byte
	SessionID         []byte
	CipherSuite       CipherSuite
	CompressionMethod uint8

	ServerNameAck        bool     // empty server_name: the server used our SNI
	OCSPStapling         bool     // empty status_request: a CertificateStatus follows
	ECPointFormats       []uint8  // ec_point_formats
	ALPN                 string   // the selected protocol
	ExtendedMasterSecret bool     // extended_master_secret
	TicketSupported      bool     // empty session_ticket: a NewSessionTicket follows
	SupportedVersion     Version  // supported_versions; 0 when absent
	KeyShare             KeyShare // key_share (TLS 1.3)
	Cookie               []byte   // cookie (HelloRetryRequest)
	SecureRenegotiation  bool     // renegotiation_info, carrying RenegotiationInfo
	RenegotiationInfo    []byte
	EncryptThenMAC       bool // encrypt_then_mac (RFC 7366)

	// Other holds unmodelled extensions in wire order.
	Other []Extension
	// Order lists every extension type in the order it was parsed.
	Order []ExtensionType
}

// Type implements Message.
func (m *ServerHello) Type() HandshakeType { return TypeServerHello }

// IsHelloRetryRequest reports whether m is a TLS 1.3 HelloRetryRequest.
func (m *ServerHello) IsHelloRetryRequest() bool { return m.Random == helloRetryRandom }

// NegotiatedVersion is the version the server chose: supported_versions
// when present (TLS 1.3), the legacy version field otherwise.
func (m *ServerHello) NegotiatedVersion() Version {
	if m.SupportedVersion != 0 {
		return m.SupportedVersion
	}
	return m.Version
}

// DowngradeSentinel reports whether the random ends with the marker a TLS
// 1.3 capable server sets when it negotiates TLS 1.2 or older.
func (m *ServerHello) DowngradeSentinel() bool {
	tail := m.Random[24:]
	return bytes.Equal(tail, downgradeTLS12) || bytes.Equal(tail, downgradeTLS11)
}

// ParseServerHello parses a whole ServerHello message, header included.
func ParseServerHello(msg []byte) (*ServerHello, error) {
	return parseAs[ServerHello](msg, Context{})
}

func (m *ServerHello) unmarshal(msg []byte, _ Context) error {
	*m = ServerHello{}
	const what = "ServerHello"
	s, err := readBody(msg, TypeServerHello)
	if err != nil {
		return err
	}
	var suite uint16
	if err := readHelloStart(&s, what, &m.Version, &m.Random, &m.SessionID); err != nil {
		return err
	}
	if !s.ReadUint16(&suite) || !s.ReadUint8(&m.CompressionMethod) {
		return malformed(what, "truncated cipher suite or compression")
	}
	m.CipherSuite = CipherSuite(suite)
	m.Order, err = extensionBlock(&s, what, m.parseExtension)
	return err
}

func (m *ServerHello) parseExtension(t ExtensionType, data cryptobyte.String) error {
	bad := func(detail string) error { return malformedf("ServerHello extension "+t.String(), "%s", detail) }
	switch t {
	case ExtServerName:
		if !data.Empty() {
			return bad("not empty")
		}
		m.ServerNameAck = true
	case ExtStatusRequest:
		if !data.Empty() {
			return bad("not empty")
		}
		m.OCSPStapling = true
	case ExtECPointFormats:
		var ok bool
		if m.ECPointFormats, ok = readUint8Vector(&data); !ok || !data.Empty() {
			return bad("bad point format list")
		}
	case ExtALPN:
		var list, proto cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) || !list.ReadUint8LengthPrefixed(&proto) ||
			proto.Empty() || !list.Empty() || !data.Empty() {
			return bad("want exactly one protocol")
		}
		m.ALPN = string(proto)
	case ExtExtendedMasterSecret:
		if !data.Empty() {
			return bad("not empty")
		}
		m.ExtendedMasterSecret = true
	case ExtSessionTicket:
		if !data.Empty() {
			return bad("not empty")
		}
		m.TicketSupported = true
	case ExtSupportedVersions:
		// Zero stands for "absent" in the struct; no version is numbered 0.
		var v uint16
		if !data.ReadUint16(&v) || !data.Empty() || v == 0 {
			return bad("want one version")
		}
		m.SupportedVersion = Version(v)
	case ExtKeyShare:
		var g uint16
		if !data.ReadUint16(&g) {
			return bad("truncated")
		}
		if g == 0 {
			// Group 0 is reserved (RFC 8446, 4.2.7); zero also stands
			// for "absent" in the struct.
			return bad("reserved group 0")
		}
		m.KeyShare.Group = Group(g)
		if !m.IsHelloRetryRequest() {
			var key cryptobyte.String
			if !data.ReadUint16LengthPrefixed(&key) || key.Empty() {
				return bad("bad key exchange value")
			}
			m.KeyShare.Data = key
		}
		if !data.Empty() {
			return bad("trailing bytes")
		}
	case ExtCookie:
		var ok bool
		if m.Cookie, ok = readUint16Vector(&data); !ok || len(m.Cookie) == 0 || !data.Empty() {
			return bad("bad cookie")
		}
	case ExtRenegotiationInfo:
		var ok bool
		if m.RenegotiationInfo, ok = readUint8Vector(&data); !ok || !data.Empty() {
			return bad("bad renegotiated connection")
		}
		m.SecureRenegotiation = true
	case ExtEncryptThenMAC:
		if !data.Empty() {
			return bad("not empty")
		}
		m.EncryptThenMAC = true
	default:
		m.Other = append(m.Other, Extension{Type: t, Data: data})
	}
	return nil
}

// Marshal implements Message.
func (m *ServerHello) Marshal() ([]byte, error) {
	var w extWriter
	empty := func(*cryptobyte.Builder) {}
	steps := []struct {
		on bool
		t  ExtensionType
		f  cryptobyte.BuilderContinuation
	}{
		{m.ServerNameAck, ExtServerName, empty},
		{m.SecureRenegotiation, ExtRenegotiationInfo, func(b *cryptobyte.Builder) { addUint8Vector(b, m.RenegotiationInfo) }},
		{m.ExtendedMasterSecret, ExtExtendedMasterSecret, empty},
		{m.EncryptThenMAC, ExtEncryptThenMAC, empty},
		{m.ECPointFormats != nil, ExtECPointFormats, func(b *cryptobyte.Builder) { addUint8Vector(b, m.ECPointFormats) }},
		{m.TicketSupported, ExtSessionTicket, empty},
		{m.OCSPStapling, ExtStatusRequest, empty},
		{m.ALPN != "", ExtALPN, func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { addUint8Vector(b, []byte(m.ALPN)) })
		}},
		{m.SupportedVersion != 0, ExtSupportedVersions, func(b *cryptobyte.Builder) { b.AddUint16(uint16(m.SupportedVersion)) }},
		{m.KeyShare.Group != 0, ExtKeyShare, func(b *cryptobyte.Builder) {
			b.AddUint16(uint16(m.KeyShare.Group))
			if !m.IsHelloRetryRequest() {
				addUint16Vector(b, m.KeyShare.Data)
			}
		}},
		{m.Cookie != nil, ExtCookie, func(b *cryptobyte.Builder) { addUint16Vector(b, m.Cookie) }},
	}
	for _, s := range steps {
		if s.on {
			if err := w.add(s.t, s.f); err != nil {
				return nil, err
			}
		}
	}
	for _, e := range m.Other {
		w.raw(e.Type, e.Data)
	}
	return marshalBody(TypeServerHello, func(b *cryptobyte.Builder) {
		b.AddUint16(uint16(m.Version))
		b.AddBytes(m.Random[:])
		addUint8Vector(b, m.SessionID)
		b.AddUint16(uint16(m.CipherSuite))
		b.AddUint8(m.CompressionMethod)
		if len(w.list) > 0 {
			w.build(b)
		}
	})
}
