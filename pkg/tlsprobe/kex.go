package tlsprobe

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"

	"github.com/netdiag/netdiag/pkg/layers/tlswire"
)

// curves are the ECDHE groups this client computes with.
var curves = map[tlswire.Group]ecdh.Curve{
	tlswire.GroupX25519: ecdh.X25519(),
	tlswire.GroupP256:   ecdh.P256(),
	tlswire.GroupP384:   ecdh.P384(),
	tlswire.GroupP521:   ecdh.P521(),
}

// defaultGroups is the supported_groups list: X25519 first, as every
// modern client does, then the NIST curves.
var defaultGroups = []tlswire.Group{tlswire.GroupX25519, tlswire.GroupP256, tlswire.GroupP384, tlswire.GroupP521}

// keyExchange is the client's side of the key agreement: the value it
// sends in ClientKeyExchange and the pre-master secret.
type keyExchange struct {
	public    []byte
	preMaster []byte
}

// ecdheExchange completes ECDHE with the server's point.
func ecdheExchange(ske *tlswire.ServerKeyExchange, offered []tlswire.Group) (*keyExchange, error) {
	curve, ok := curves[ske.Group]
	if !ok || !slices.Contains(offered, ske.Group) {
		return nil, fmt.Errorf("server chose group %v, which we did not offer", ske.Group)
	}
	peer, err := curve.NewPublicKey(ske.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("server's %v public key is invalid: %w", ske.Group, err)
	}
	priv, err := curve.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	shared, err := priv.ECDH(peer)
	if err != nil {
		return nil, fmt.Errorf("%v key agreement: %w", ske.Group, err)
	}
	return &keyExchange{public: priv.PublicKey().Bytes(), preMaster: shared}, nil
}

// Limits on the DH parameters a server may send: a prime below 512 bits
// is broken by anyone (Logjam), and one above 8192 bits would only make
// the probe slow.
const (
	minDHBits = 512
	maxDHBits = 8192
)

// dheExchange completes finite-field DHE after checking the parameters:
// an odd prime of sane size, 1 < g < p-1 and 1 < Ys < p-1 (values 0, 1
// and p-1 would force a known shared secret).
func dheExchange(ske *tlswire.ServerKeyExchange, random io.Reader) (*keyExchange, error) {
	p := new(big.Int).SetBytes(ske.P)
	g := new(big.Int).SetBytes(ske.G)
	ys := new(big.Int).SetBytes(ske.PublicKey)
	bits := p.BitLen()
	if bits < minDHBits || bits > maxDHBits {
		return nil, fmt.Errorf("server's DH prime has %d bits, outside %d-%d", bits, minDHBits, maxDHBits)
	}
	if p.Bit(0) == 0 {
		return nil, errors.New("server's DH modulus is even")
	}
	pMinus1 := new(big.Int).Sub(p, big.NewInt(1))
	one := big.NewInt(1)
	if g.Cmp(one) <= 0 || g.Cmp(pMinus1) >= 0 {
		return nil, errors.New("server's DH generator is out of range")
	}
	if ys.Cmp(one) <= 0 || ys.Cmp(pMinus1) >= 0 {
		return nil, errors.New("server's DH public value is out of range")
	}
	// A private exponent as long as the prime; 2 <= x <= p-2.
	x, err := rand.Int(random, new(big.Int).Sub(p, big.NewInt(3)))
	if err != nil {
		return nil, err
	}
	x.Add(x, big.NewInt(2))
	yc := new(big.Int).Exp(g, x, p)
	z := new(big.Int).Exp(ys, x, p)
	// RFC 5246 section 8.1.2: leading zero bytes of Z are stripped.
	return &keyExchange{public: yc.Bytes(), preMaster: z.Bytes()}, nil
}

// rsaExchange is the classic RSA key transport: the client's random
// pre-master secret, its version first, encrypted under the server
// certificate's key (RFC 5246 section 7.4.7.1).
func rsaExchange(leaf *x509.Certificate, helloVersion tlswire.Version) (*keyExchange, error) {
	pub, ok := leaf.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("RSA key exchange with a %s certificate", keyType(leaf))
	}
	pms := make([]byte, 48)
	pms[0], pms[1] = byte(helloVersion>>8), byte(helloVersion)
	if _, err := rand.Read(pms[2:]); err != nil {
		return nil, err
	}
	//lint:ignore SA1019 RSA key exchange is PKCS #1 v1.5 encryption by definition; probing it is the point.
	enc, err := rsa.EncryptPKCS1v15(rand.Reader, pub, pms)
	if err != nil {
		return nil, fmt.Errorf("encrypt the pre-master secret: %w", err)
	}
	return &keyExchange{public: enc, preMaster: pms}, nil
}
