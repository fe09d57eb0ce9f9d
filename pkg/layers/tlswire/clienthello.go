package tlswire

import (
	"golang.org/x/crypto/cryptobyte"
)

// ClientHello is the first message of a handshake (RFC 5246 section
// 7.4.1.2, with the extensions of RFC 6066, 7301, 7627, 5746, 5077, 7685,
// 8422 and 8446). The known extensions are fields; a zero field means the
// extension is absent. Other extensions are kept in Other.
type ClientHello struct {
	Version            Version
	Random             [32]byte
	SessionID          []byte
	CipherSuites       []CipherSuite
	CompressionMethods []uint8

	ServerName           string            // server_name (host_name entry)
	StatusRequest        bool              // status_request asking for OCSP
	SupportedGroups      []Group           // supported_groups
	ECPointFormats       []uint8           // ec_point_formats
	SignatureAlgorithms  []SignatureScheme // signature_algorithms
	ALPN                 []string          // application_layer_protocol_negotiation
	ExtendedMasterSecret bool              // extended_master_secret
	// TicketSupported sends session_ticket, carrying SessionTicket (empty
	// to ask for a new ticket).
	TicketSupported     bool
	SessionTicket       []byte
	SupportedVersions   []Version  // supported_versions
	KeyShares           []KeyShare // key_share
	PSKModes            []uint8    // psk_key_exchange_modes
	SecureRenegotiation bool       // renegotiation_info, carrying RenegotiationInfo
	RenegotiationInfo   []byte
	// Padded sends a padding extension of PaddingLen zero bytes (RFC 7685).
	Padded     bool
	PaddingLen int

	// Other holds the extensions not modelled above, in wire order; they
	// are marshalled after the known ones and before padding.
	Other []Extension
	// Order lists every extension type in the order it was parsed.
	Order []ExtensionType
}

// Type implements Message.
func (m *ClientHello) Type() HandshakeType { return TypeClientHello }

// ParseClientHello parses a whole ClientHello message, header included.
func ParseClientHello(msg []byte) (*ClientHello, error) {
	return parseAs[ClientHello](msg, Context{})
}

func (m *ClientHello) unmarshal(msg []byte, _ Context) error {
	*m = ClientHello{}
	const what = "ClientHello"
	s, err := readBody(msg, TypeClientHello)
	if err != nil {
		return err
	}
	var suites []uint16
	var ok bool
	if err := readHelloStart(&s, what, &m.Version, &m.Random, &m.SessionID); err != nil {
		return err
	}
	if suites, ok = readUint16List(&s, 2); !ok {
		return malformed(what, "bad cipher suite list")
	}
	m.CipherSuites = make([]CipherSuite, len(suites))
	for i, c := range suites {
		m.CipherSuites[i] = CipherSuite(c)
	}
	if m.CompressionMethods, ok = readUint8Vector(&s); !ok {
		return malformed(what, "bad compression methods")
	}
	m.Order, err = extensionBlock(&s, what, m.parseExtension)
	return err
}

func (m *ClientHello) parseExtension(t ExtensionType, data cryptobyte.String) error {
	bad := func(detail string) error { return malformedf("ClientHello extension "+t.String(), "%s", detail) }
	switch t {
	case ExtServerName:
		var list cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) || list.Empty() || !data.Empty() {
			return bad("bad server name list")
		}
		for !list.Empty() {
			var nameType uint8
			var name cryptobyte.String
			if !list.ReadUint8(&nameType) || !list.ReadUint16LengthPrefixed(&name) {
				return bad("truncated entry")
			}
			if nameType == 0 && m.ServerName == "" {
				if len(name) == 0 {
					return bad("empty host name")
				}
				m.ServerName = string(name)
			}
		}
	case ExtStatusRequest:
		var statusType uint8
		var responders, exts cryptobyte.String
		if !data.ReadUint8(&statusType) || !data.ReadUint16LengthPrefixed(&responders) ||
			!data.ReadUint16LengthPrefixed(&exts) || !data.Empty() {
			return bad("bad OCSP status request")
		}
		m.StatusRequest = statusType == StatusTypeOCSP
	case ExtSupportedGroups:
		list, ok := readUint16List(&data, 2)
		if !ok || !data.Empty() {
			return bad("bad group list")
		}
		m.SupportedGroups = make([]Group, len(list))
		for i, g := range list {
			m.SupportedGroups[i] = Group(g)
		}
	case ExtECPointFormats:
		var ok bool
		if m.ECPointFormats, ok = readUint8Vector(&data); !ok || !data.Empty() {
			return bad("bad point format list")
		}
	case ExtSignatureAlgorithms:
		list, ok := readUint16List(&data, 2)
		if !ok || !data.Empty() {
			return bad("bad algorithm list")
		}
		m.SignatureAlgorithms = make([]SignatureScheme, len(list))
		for i, a := range list {
			m.SignatureAlgorithms[i] = SignatureScheme(a)
		}
	case ExtALPN:
		var list cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) || list.Empty() || !data.Empty() {
			return bad("bad protocol list")
		}
		for !list.Empty() {
			var proto cryptobyte.String
			if !list.ReadUint8LengthPrefixed(&proto) || proto.Empty() {
				return bad("bad protocol name")
			}
			m.ALPN = append(m.ALPN, string(proto))
		}
	case ExtExtendedMasterSecret:
		if !data.Empty() {
			return bad("not empty")
		}
		m.ExtendedMasterSecret = true
	case ExtSessionTicket:
		m.TicketSupported = true
		m.SessionTicket = []byte(data)
	case ExtSupportedVersions:
		list, ok := readUint16List(&data, 1)
		if !ok || len(list) == 0 || !data.Empty() {
			return bad("bad version list")
		}
		m.SupportedVersions = make([]Version, len(list))
		for i, v := range list {
			m.SupportedVersions[i] = Version(v)
		}
	case ExtKeyShare:
		var list cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) || !data.Empty() {
			return bad("bad share list")
		}
		m.KeyShares = []KeyShare{}
		for !list.Empty() {
			var g uint16
			var key cryptobyte.String
			if !list.ReadUint16(&g) || !list.ReadUint16LengthPrefixed(&key) || key.Empty() {
				return bad("bad share")
			}
			m.KeyShares = append(m.KeyShares, KeyShare{Group: Group(g), Data: key})
		}
	case ExtPSKKeyExchangeModes:
		var ok bool
		if m.PSKModes, ok = readUint8Vector(&data); !ok || len(m.PSKModes) == 0 || !data.Empty() {
			return bad("bad mode list")
		}
	case ExtRenegotiationInfo:
		var ok bool
		if m.RenegotiationInfo, ok = readUint8Vector(&data); !ok || !data.Empty() {
			return bad("bad renegotiated connection")
		}
		m.SecureRenegotiation = true
	case ExtPadding:
		m.Padded, m.PaddingLen = true, len(data)
	default:
		m.Other = append(m.Other, Extension{Type: t, Data: data})
	}
	return nil
}

// Marshal implements Message. Known extensions are written in a fixed
// order, then Other, then padding; an SSL 3.0 style hello without any
// extension gets no extensions block at all.
func (m *ClientHello) Marshal() ([]byte, error) {
	var w extWriter
	if err := m.appendExtensions(&w); err != nil {
		return nil, err
	}
	return marshalBody(TypeClientHello, func(b *cryptobyte.Builder) {
		b.AddUint16(uint16(m.Version))
		b.AddBytes(m.Random[:])
		addUint8Vector(b, m.SessionID)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, c := range m.CipherSuites {
				b.AddUint16(uint16(c))
			}
		})
		addUint8Vector(b, m.CompressionMethods)
		if len(w.list) > 0 {
			w.build(b)
		}
	})
}

func (m *ClientHello) appendExtensions(w *extWriter) error {
	steps := []struct {
		on bool
		t  ExtensionType
		f  cryptobyte.BuilderContinuation
	}{
		{m.ServerName != "", ExtServerName, func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddUint8(0)
				addUint16Vector(b, []byte(m.ServerName))
			})
		}},
		{m.ExtendedMasterSecret, ExtExtendedMasterSecret, func(*cryptobyte.Builder) {}},
		{m.SecureRenegotiation, ExtRenegotiationInfo, func(b *cryptobyte.Builder) { addUint8Vector(b, m.RenegotiationInfo) }},
		{m.SupportedGroups != nil, ExtSupportedGroups, func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				for _, g := range m.SupportedGroups {
					b.AddUint16(uint16(g))
				}
			})
		}},
		{m.ECPointFormats != nil, ExtECPointFormats, func(b *cryptobyte.Builder) { addUint8Vector(b, m.ECPointFormats) }},
		{m.TicketSupported, ExtSessionTicket, func(b *cryptobyte.Builder) { b.AddBytes(m.SessionTicket) }},
		{m.StatusRequest, ExtStatusRequest, func(b *cryptobyte.Builder) {
			b.AddUint8(StatusTypeOCSP)
			b.AddUint16(0) // no responder IDs
			b.AddUint16(0) // no request extensions
		}},
		{m.ALPN != nil, ExtALPN, func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				for _, p := range m.ALPN {
					addUint8Vector(b, []byte(p))
				}
			})
		}},
		{m.SignatureAlgorithms != nil, ExtSignatureAlgorithms, func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				for _, a := range m.SignatureAlgorithms {
					b.AddUint16(uint16(a))
				}
			})
		}},
		{m.KeyShares != nil, ExtKeyShare, func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				for _, k := range m.KeyShares {
					b.AddUint16(uint16(k.Group))
					addUint16Vector(b, k.Data)
				}
			})
		}},
		{m.PSKModes != nil, ExtPSKKeyExchangeModes, func(b *cryptobyte.Builder) { addUint8Vector(b, m.PSKModes) }},
		{m.SupportedVersions != nil, ExtSupportedVersions, func(b *cryptobyte.Builder) {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
				for _, v := range m.SupportedVersions {
					b.AddUint16(uint16(v))
				}
			})
		}},
	}
	for _, s := range steps {
		if s.on {
			if err := w.add(s.t, s.f); err != nil {
				return err
			}
		}
	}
	for _, e := range m.Other {
		w.raw(e.Type, e.Data)
	}
	if m.Padded {
		w.raw(ExtPadding, make([]byte, m.PaddingLen))
	}
	return nil
}
