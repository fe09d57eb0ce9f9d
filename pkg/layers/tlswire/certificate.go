package tlswire

import "golang.org/x/crypto/cryptobyte"

// Certificate carries the server's (or client's) certificate chain as DER,
// leaf first (TLS 1.2 form; TLS 1.3 adds a context and per-certificate
// extensions and is always encrypted).
type Certificate struct {
	Certificates [][]byte
}

// Type implements Message.
func (m *Certificate) Type() HandshakeType { return TypeCertificate }

// ParseCertificate parses a whole TLS 1.2 Certificate message.
func ParseCertificate(msg []byte) (*Certificate, error) {
	return parseAs[Certificate](msg, Context{})
}

func (m *Certificate) unmarshal(msg []byte, _ Context) error {
	*m = Certificate{}
	s, err := readBody(msg, TypeCertificate)
	if err != nil {
		return err
	}
	var list cryptobyte.String
	if !s.ReadUint24LengthPrefixed(&list) || !s.Empty() {
		return malformed("Certificate", "bad certificate list")
	}
	for !list.Empty() {
		var der cryptobyte.String
		if !list.ReadUint24LengthPrefixed(&der) || der.Empty() {
			return malformed("Certificate", "bad certificate entry")
		}
		m.Certificates = append(m.Certificates, der)
	}
	return nil
}

// Marshal implements Message.
func (m *Certificate) Marshal() ([]byte, error) {
	return marshalBody(TypeCertificate, func(b *cryptobyte.Builder) {
		b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, c := range m.Certificates {
				b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(c) })
			}
		})
	})
}
