package tlswire

import "golang.org/x/crypto/cryptobyte"

// Client certificate types of CertificateRequest (RFC 5246, RFC 8422).
const (
	CertTypeRSASign   uint8 = 1
	CertTypeDSSSign   uint8 = 2
	CertTypeECDSASign uint8 = 64
)

// CertificateRequest asks the client for a certificate (TLS 1.0-1.2 form).
type CertificateRequest struct {
	CertificateTypes []uint8
	// SignatureAlgorithms is sent from TLS 1.2 on.
	SignatureAlgorithms []SignatureScheme
	// CertificateAuthorities are DER-encoded distinguished names of the CAs
	// whose certificates the server accepts; empty means any.
	CertificateAuthorities [][]byte

	tls12 bool
}

// Type implements Message.
func (m *CertificateRequest) Type() HandshakeType { return TypeCertificateRequest }

// ParseCertificateRequest parses a whole CertificateRequest for the
// negotiated version (the signature algorithm list appears in TLS 1.2).
func ParseCertificateRequest(msg []byte, v Version) (*CertificateRequest, error) {
	return parseAs[CertificateRequest](msg, Context{Version: v})
}

func (m *CertificateRequest) unmarshal(msg []byte, ctx Context) error {
	*m = CertificateRequest{tls12: ctx.Version >= VersionTLS12}
	const what = "CertificateRequest"
	s, err := readBody(msg, TypeCertificateRequest)
	if err != nil {
		return err
	}
	var ok bool
	if m.CertificateTypes, ok = readUint8Vector(&s); !ok || len(m.CertificateTypes) == 0 {
		return malformed(what, "bad certificate types")
	}
	if m.tls12 {
		list, ok := readUint16List(&s, 2)
		if !ok || len(list) == 0 {
			return malformed(what, "bad signature algorithms")
		}
		m.SignatureAlgorithms = make([]SignatureScheme, len(list))
		for i, a := range list {
			m.SignatureAlgorithms[i] = SignatureScheme(a)
		}
	}
	var cas cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&cas) || !s.Empty() {
		return malformed(what, "bad certificate authorities")
	}
	for !cas.Empty() {
		var dn cryptobyte.String
		if !cas.ReadUint16LengthPrefixed(&dn) || dn.Empty() {
			return malformed(what, "bad distinguished name")
		}
		m.CertificateAuthorities = append(m.CertificateAuthorities, dn)
	}
	return nil
}

// Marshal implements Message; the signature algorithm list is written when
// it is not empty.
func (m *CertificateRequest) Marshal() ([]byte, error) {
	return marshalBody(TypeCertificateRequest, func(b *cryptobyte.Builder) {
		addUint8Vector(b, m.CertificateTypes)
		if len(m.SignatureAlgorithms) > 0 || m.tls12 {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				for _, a := range m.SignatureAlgorithms {
					b.AddUint16(uint16(a))
				}
			})
		}
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, dn := range m.CertificateAuthorities {
				addUint16Vector(b, dn)
			}
		})
	})
}
