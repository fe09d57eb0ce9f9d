package tlsprobe

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"

	"github.com/netdiag/netdiag/pkg/layers/tlswire"
)

// defaultSignatureSchemes is what the client offers in
// signature_algorithms and can verify, strongest first.
var defaultSignatureSchemes = []tlswire.SignatureScheme{
	tlswire.ECDSAWithP256, tlswire.ECDSAWithP384, tlswire.ECDSAWithP521, tlswire.Ed25519,
	tlswire.PSSRSAEWithSHA256, tlswire.PSSRSAEWithSHA384, tlswire.PSSRSAEWithSHA512,
	tlswire.PKCS1WithSHA256, tlswire.PKCS1WithSHA384, tlswire.PKCS1WithSHA512,
	tlswire.PKCS1WithSHA1, tlswire.ECDSAWithSHA1,
}

// schemeHash is the digest each scheme signs.
func schemeHash(s tlswire.SignatureScheme) (crypto.Hash, bool) {
	switch s {
	case tlswire.PKCS1WithSHA1, tlswire.ECDSAWithSHA1:
		return crypto.SHA1, true
	case tlswire.PKCS1WithSHA256, tlswire.ECDSAWithP256, tlswire.PSSRSAEWithSHA256:
		return crypto.SHA256, true
	case tlswire.PKCS1WithSHA384, tlswire.ECDSAWithP384, tlswire.PSSRSAEWithSHA384:
		return crypto.SHA384, true
	case tlswire.PKCS1WithSHA512, tlswire.ECDSAWithP521, tlswire.PSSRSAEWithSHA512:
		return crypto.SHA512, true
	case tlswire.Ed25519:
		return 0, true
	}
	return 0, false
}

// errBadSignature is a ServerKeyExchange whose signature does not verify
// under the certificate's key: a broken server or a man in the middle.
var errBadSignature = errors.New("ServerKeyExchange signature does not verify with the certificate's key")

// verifyServerKeyExchange checks the server's signature over both randoms
// and its key exchange parameters (RFC 5246 section 7.4.3).
func verifyServerKeyExchange(leaf *x509.Certificate, ske *tlswire.ServerKeyExchange, clientRandom, serverRandom []byte, offered []tlswire.SignatureScheme) error {
	alg := ske.Algorithm
	if !slices.Contains(offered, alg) {
		return fmt.Errorf("server signed with %v, which we did not offer", alg)
	}
	h, ok := schemeHash(alg)
	if !ok {
		return fmt.Errorf("cannot verify signature algorithm %v", alg)
	}
	signed := make([]byte, 0, 64+len(ske.Params))
	signed = append(append(append(signed, clientRandom...), serverRandom...), ske.Params...)
	var digest []byte
	if h != 0 {
		d := h.New()
		d.Write(signed)
		digest = d.Sum(nil)
	}
	switch alg {
	case tlswire.PKCS1WithSHA1, tlswire.PKCS1WithSHA256, tlswire.PKCS1WithSHA384, tlswire.PKCS1WithSHA512:
		pub, ok := leaf.PublicKey.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("%v signature with a %s certificate", alg, keyType(leaf))
		}
		if rsa.VerifyPKCS1v15(pub, h, digest, ske.Signature) != nil {
			return errBadSignature
		}
	case tlswire.PSSRSAEWithSHA256, tlswire.PSSRSAEWithSHA384, tlswire.PSSRSAEWithSHA512:
		pub, ok := leaf.PublicKey.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("%v signature with a %s certificate", alg, keyType(leaf))
		}
		if rsa.VerifyPSS(pub, h, digest, ske.Signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) != nil {
			return errBadSignature
		}
	case tlswire.ECDSAWithSHA1, tlswire.ECDSAWithP256, tlswire.ECDSAWithP384, tlswire.ECDSAWithP521:
		pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
		if !ok {
			return fmt.Errorf("%v signature with a %s certificate", alg, keyType(leaf))
		}
		if !ecdsa.VerifyASN1(pub, digest, ske.Signature) {
			return errBadSignature
		}
	case tlswire.Ed25519:
		pub, ok := leaf.PublicKey.(ed25519.PublicKey)
		if !ok {
			return fmt.Errorf("%v signature with a %s certificate", alg, keyType(leaf))
		}
		if !ed25519.Verify(pub, signed, ske.Signature) {
			return errBadSignature
		}
	}
	return nil
}
