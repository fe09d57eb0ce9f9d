package tlswire

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// ServerKeyExchange carries the server's ephemeral key-exchange parameters
// and its signature over them. Its layout depends on the negotiated suite's
// key exchange, so parsing needs the Context.
type ServerKeyExchange struct {
	// KX is the key exchange the parameters are for: KXECDHE, KXDHE, KXRSA
	// (export suites' temporary RSA key) or KXPSK (identity hint only).
	KX KeyExchange

	PSKIdentityHint []byte // PSK suites: the hint that precedes the parameters

	Group     Group  // ECDHE: the named curve
	PublicKey []byte // ECDHE: the point; DHE: Ys
	P, G      []byte // DHE: prime and generator, big-endian
	Modulus   []byte // export RSA: the temporary key's modulus
	Exponent  []byte // export RSA: its exponent

	// Params is the exact byte string the signature covers (after the
	// client and server randoms): the parameters as they appeared.
	Params []byte
	// Signed is false for anonymous and PSK suites, which send no signature.
	Signed bool
	// Algorithm is the TLS 1.2 signature algorithm; zero before TLS 1.2,
	// where RSA signs an MD5+SHA1 hash and ECDSA/DSA a SHA-1 hash.
	Algorithm SignatureScheme
	Signature []byte

	// tls12: parsed as TLS 1.2, whose signature carries an algorithm even
	// when it is 0 (none, anonymous).
	tls12 bool
}

// Type implements Message.
func (m *ServerKeyExchange) Type() HandshakeType { return TypeServerKeyExchange }

// ParseServerKeyExchange parses a whole ServerKeyExchange message for the
// negotiated suite and version.
func ParseServerKeyExchange(msg []byte, ctx Context) (*ServerKeyExchange, error) {
	return parseAs[ServerKeyExchange](msg, ctx)
}

func (m *ServerKeyExchange) unmarshal(msg []byte, ctx Context) error {
	*m = ServerKeyExchange{}
	const what = "ServerKeyExchange"
	s, err := readBody(msg, TypeServerKeyExchange)
	if err != nil {
		return err
	}
	info := ctx.Suite.Info()
	if info == nil {
		return malformedf(what, "cannot parse for unknown cipher suite %v", ctx.Suite)
	}
	m.KX = info.KX
	var ok bool
	if info.Auth == AuthPSK {
		if m.PSKIdentityHint, ok = readUint16Vector(&s); !ok {
			return malformed(what, "bad PSK identity hint")
		}
	}
	params := s
	switch {
	case info.KX == KXECDHE:
		var curveType uint8
		var g uint16
		if !s.ReadUint8(&curveType) {
			return malformed(what, "truncated curve type")
		}
		if curveType != CurveTypeNamed {
			return malformedf(what, "curve type %d is not named_curve", curveType)
		}
		if !s.ReadUint16(&g) {
			return malformed(what, "truncated group")
		}
		m.Group = Group(g)
		if m.PublicKey, ok = readUint8Vector(&s); !ok || len(m.PublicKey) == 0 {
			return malformed(what, "bad EC point")
		}
	case info.KX == KXDHE:
		if m.P, ok = readUint16Vector(&s); !ok || len(m.P) == 0 {
			return malformed(what, "bad DH prime")
		}
		if m.G, ok = readUint16Vector(&s); !ok || len(m.G) == 0 {
			return malformed(what, "bad DH generator")
		}
		if m.PublicKey, ok = readUint16Vector(&s); !ok || len(m.PublicKey) == 0 {
			return malformed(what, "bad DH public value")
		}
	case info.KX == KXRSA && info.Auth == AuthRSA:
		if m.Modulus, ok = readUint16Vector(&s); !ok || len(m.Modulus) == 0 {
			return malformed(what, "bad RSA modulus")
		}
		if m.Exponent, ok = readUint16Vector(&s); !ok || len(m.Exponent) == 0 {
			return malformed(what, "bad RSA exponent")
		}
	case info.Auth == AuthPSK && info.KX == KXPSK, info.Auth == AuthPSK && info.KX == KXRSA:
	default:
		return malformedf(what, "key exchange %s of %v not supported", info.KX, ctx.Suite)
	}
	m.Params = params[:len(params)-len(s)]
	if info.Auth == AuthAnon || info.Auth == AuthPSK {
		if !s.Empty() {
			return malformed(what, "bytes after unsigned parameters")
		}
		return nil
	}
	m.Signed = true
	if ctx.Version >= VersionTLS12 {
		m.tls12 = true
		var alg uint16
		if !s.ReadUint16(&alg) {
			return malformed(what, "truncated signature algorithm")
		}
		m.Algorithm = SignatureScheme(alg)
	}
	if m.Signature, ok = readUint16Vector(&s); !ok || len(m.Signature) == 0 || !s.Empty() {
		return malformed(what, "bad signature")
	}
	return nil
}

// Marshal implements Message. The parameters are written from Params when
// it is set, else from the fields for KX. The signature algorithm is
// written when it is not zero, or when the message was parsed as TLS 1.2.
func (m *ServerKeyExchange) Marshal() ([]byte, error) {
	params := m.Params
	if params == nil {
		var err error
		if params, err = m.marshalParams(); err != nil {
			return nil, err
		}
	}
	return marshalBody(TypeServerKeyExchange, func(b *cryptobyte.Builder) {
		b.AddBytes(params)
		if !m.Signed {
			return
		}
		if m.Algorithm != 0 || m.tls12 {
			b.AddUint16(uint16(m.Algorithm))
		}
		addUint16Vector(b, m.Signature)
	})
}

func (m *ServerKeyExchange) marshalParams() ([]byte, error) {
	var b cryptobyte.Builder
	if m.PSKIdentityHint != nil {
		addUint16Vector(&b, m.PSKIdentityHint)
	}
	switch m.KX {
	case KXECDHE:
		b.AddUint8(CurveTypeNamed)
		b.AddUint16(uint16(m.Group))
		addUint8Vector(&b, m.PublicKey)
	case KXDHE:
		addUint16Vector(&b, m.P)
		addUint16Vector(&b, m.G)
		addUint16Vector(&b, m.PublicKey)
	case KXRSA:
		if m.Modulus != nil {
			addUint16Vector(&b, m.Modulus)
			addUint16Vector(&b, m.Exponent)
		}
	case KXPSK:
	default:
		return nil, fmt.Errorf("tlswire: cannot marshal ServerKeyExchange for key exchange %q", m.KX)
	}
	return b.Bytes()
}

// ClientKeyExchange carries the client's half of the key exchange: its
// ephemeral public value, or for RSA key exchange the pre-master secret
// encrypted under the server's key.
type ClientKeyExchange struct {
	KX KeyExchange
	// Data is the public value or the encrypted pre-master secret, without
	// its length prefix.
	Data []byte
	// Version decides the RSA form: SSL 3.0 sends the encrypted secret
	// without a length prefix.
	Version Version
}

// Type implements Message.
func (m *ClientKeyExchange) Type() HandshakeType { return TypeClientKeyExchange }

// ParseClientKeyExchange parses a whole ClientKeyExchange for the
// negotiated suite and version.
func ParseClientKeyExchange(msg []byte, ctx Context) (*ClientKeyExchange, error) {
	return parseAs[ClientKeyExchange](msg, ctx)
}

func (m *ClientKeyExchange) unmarshal(msg []byte, ctx Context) error {
	*m = ClientKeyExchange{Version: ctx.Version}
	const what = "ClientKeyExchange"
	s, err := readBody(msg, TypeClientKeyExchange)
	if err != nil {
		return err
	}
	info := ctx.Suite.Info()
	if info == nil || info.Auth == AuthPSK {
		m.Data = s
		return nil
	}
	m.KX = info.KX
	var ok bool
	switch {
	case info.KX == KXRSA && ctx.Version == VersionSSL30:
		m.Data = s
		return nil
	case info.KX == KXRSA, info.KX == KXDHE, info.KX == KXDH:
		m.Data, ok = readUint16Vector(&s)
	case info.KX == KXECDHE, info.KX == KXECDH:
		m.Data, ok = readUint8Vector(&s)
	default:
		m.Data = s
		return nil
	}
	if !ok || !s.Empty() {
		return malformedf(what, "bad %s exchange value", info.KX)
	}
	return nil
}

// Marshal implements Message.
func (m *ClientKeyExchange) Marshal() ([]byte, error) {
	return marshalBody(TypeClientKeyExchange, func(b *cryptobyte.Builder) {
		switch {
		case m.KX == KXRSA && m.Version == VersionSSL30:
			b.AddBytes(m.Data)
		case m.KX == KXRSA, m.KX == KXDHE, m.KX == KXDH:
			addUint16Vector(b, m.Data)
		case m.KX == KXECDHE, m.KX == KXECDH:
			addUint8Vector(b, m.Data)
		default:
			b.AddBytes(m.Data)
		}
	})
}
