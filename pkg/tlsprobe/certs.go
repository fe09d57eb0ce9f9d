package tlsprobe

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
	"golang.org/x/crypto/ocsp"
)

// CertInfo describes one certificate as the server sent it.
type CertInfo struct {
	Subject   string
	Issuer    string
	SANs      []string // DNS names, then IP addresses
	NotBefore time.Time
	NotAfter  time.Time
	// DaysLeft is the number of whole days until NotAfter, negative once
	// expired.
	DaysLeft   int
	Key        string // "RSA 2048", "ECDSA P-256", "Ed25519"
	SigAlg     string // e.g. "SHA256-RSA"
	SHA256     string // fingerprint of the DER, lower-case hex
	IsCA       bool
	SelfSigned bool
}

// ChainOrder says how the server ordered its certificates.
type ChainOrder string

// The orders a chain can come in.
const (
	OrderOK ChainOrder = "ok" // each certificate is signed by the next
	// OrderWrong: every certificate is needed, but not in issuing order.
	OrderWrong ChainOrder = "wrong-order"
	// OrderUnrelated: the chain contains certificates that sign nothing in it.
	OrderUnrelated ChainOrder = "unrelated-certificates"
)

// Chain is the analysis of the server's certificate chain.
type Chain struct {
	Certificates []CertInfo
	// Name is the host name (or IP address) the leaf was checked against;
	// empty when there was none to check.
	Name string
	// Verified: the chain leads to a trusted root, every certificate is
	// within its validity period, and the leaf is valid for Name.
	Verified bool
	// NameMatch: the leaf is valid for Name (true when Name is empty).
	NameMatch bool
	Order     ChainOrder
	// MissingIssuer names the certificate the server should have sent when
	// the chain is incomplete.
	MissingIssuer string
	// Path is the verified chain up to the root, by subject.
	Path []string
	// Failure says why the chain is not good; nil when Verified.
	Failure *failure.Failure

	// issuer is the leaf's issuer: from the verified path, else the
	// certificate the server sent that signed the leaf; nil if unknown.
	issuer *x509.Certificate
}

// keyType describes a certificate's public key ("RSA 2048").
func keyType(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return c.PublicKeyAlgorithm.String()
}

func certInfo(c *x509.Certificate, now time.Time) CertInfo {
	sum := sha256.Sum256(c.Raw)
	info := CertInfo{
		Subject:    c.Subject.String(),
		Issuer:     c.Issuer.String(),
		NotBefore:  c.NotBefore,
		NotAfter:   c.NotAfter,
		DaysLeft:   daysLeft(c.NotAfter, now),
		Key:        keyType(c),
		SigAlg:     c.SignatureAlgorithm.String(),
		SHA256:     hex.EncodeToString(sum[:]),
		IsCA:       c.IsCA,
		SelfSigned: selfSigned(c),
	}
	info.SANs = append(info.SANs, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		info.SANs = append(info.SANs, ip.String())
	}
	return info
}

// daysLeft counts whole days until t; a certificate expiring in 36 hours
// has 1 day left, one expired 2 hours ago has -1.
func daysLeft(t, now time.Time) int {
	d := t.Sub(now).Hours() / 24
	return int(math.Floor(d))
}

// selfSigned reports whether c is signed by its own key. CheckSignature
// is used rather than CheckSignatureFrom, which would also demand that c
// be a CA: a self-signed server certificate usually is not.
func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// analyzeChain verifies the chain against roots (nil: the system's) at
// time now and checks the leaf against name, then classifies what is wrong
// in the failure vocabulary.
func analyzeChain(certs []*x509.Certificate, name string, roots *x509.CertPool, now time.Time) *Chain {
	ch := &Chain{Name: name, NameMatch: true, Order: chainOrder(certs)}
	for _, c := range certs {
		ch.Certificates = append(ch.Certificates, certInfo(c, now))
	}
	leaf := certs[0]
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	chains, verr := leaf.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if name != "" {
		ch.NameMatch = leaf.VerifyHostname(name) == nil
	}
	ch.issuer = sentIssuer(leaf, certs[1:])
	if verr == nil {
		for _, c := range chains[0] {
			ch.Path = append(ch.Path, c.Subject.String())
		}
		if len(chains[0]) > 1 {
			ch.issuer = chains[0][1]
		}
		if ch.NameMatch {
			ch.Verified = true
			return ch
		}
	}
	ch.Failure = classifyChain(certs, ch, verr, now)
	return ch
}

// classifyChain turns a verification error into a failure reason. The
// order matters: a certificate out of its validity period is reported
// before trust problems, and trust problems before the name.
func classifyChain(certs []*x509.Certificate, ch *Chain, verr error, now time.Time) *failure.Failure {
	for _, c := range certs {
		switch {
		case now.After(c.NotAfter):
			return failure.New(failure.CertExpired, fmt.Sprintf("%q expired %s (%d days ago)",
				c.Subject.String(), c.NotAfter.UTC().Format(time.RFC3339), -daysLeft(c.NotAfter, now)))
		case now.Before(c.NotBefore):
			return failure.New(failure.CertNotYetValid, fmt.Sprintf("%q is valid from %s",
				c.Subject.String(), c.NotBefore.UTC().Format(time.RFC3339)))
		}
	}
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	switch {
	case verr == nil:
	case errors.As(verr, &unknown):
		top := topOfChain(certs)
		switch {
		case selfSigned(certs[0]):
			return failure.New(failure.CertUntrusted, "the certificate is self-signed")
		case selfSigned(top):
			return failure.New(failure.CertUntrusted, fmt.Sprintf("the root %q is not trusted", top.Subject.String()))
		case !top.IsCA && len(top.IssuingCertificateURL) > 0:
			// The leaf came without the certificate that issued it, and
			// says where that intermediate is published: the server
			// should have sent it.
			ch.MissingIssuer = top.Issuer.String()
			return failure.New(failure.CertChainIncomplete, fmt.Sprintf("the server does not send the intermediate %q (published at %s)",
				ch.MissingIssuer, top.IssuingCertificateURL[0]))
		case !top.IsCA:
			return failure.New(failure.CertUntrusted, fmt.Sprintf("issued by %q, which the server did not send and no trusted root matches: an unknown CA or a missing intermediate",
				top.Issuer.String()))
		default:
			return failure.New(failure.CertUntrusted, fmt.Sprintf("issued by %q, which is not a trusted CA", top.Issuer.String()))
		}
	case errors.As(verr, &invalid):
		return failure.New(failure.CertUntrusted, invalid.Error())
	default:
		return failure.New(failure.CertUntrusted, verr.Error())
	}
	if !ch.NameMatch {
		leaf := certs[0]
		names := append([]string(nil), leaf.DNSNames...)
		for _, ip := range leaf.IPAddresses {
			names = append(names, ip.String())
		}
		if len(names) == 0 {
			names = []string{"CN=" + leaf.Subject.CommonName + " (no SANs)"}
		}
		return failure.New(failure.CertNameMismatch, fmt.Sprintf("%q is not among %s", ch.Name, strings.Join(names, ", ")))
	}
	return nil
}

// sentIssuer returns the certificate among others that signed c.
func sentIssuer(c *x509.Certificate, others []*x509.Certificate) *x509.Certificate {
	for _, o := range others {
		if bytes.Equal(c.RawIssuer, o.RawSubject) && c.CheckSignatureFrom(o) == nil {
			return o
		}
	}
	return nil
}

// topOfChain follows the chain from the leaf through the certificates the
// server sent and returns the last one reached.
func topOfChain(certs []*x509.Certificate) *x509.Certificate {
	cur := certs[0]
	used := map[*x509.Certificate]bool{cur: true}
	for {
		var next *x509.Certificate
		for _, c := range certs {
			if !used[c] && bytes.Equal(cur.RawIssuer, c.RawSubject) && cur.CheckSignatureFrom(c) == nil {
				next = c
				break
			}
		}
		if next == nil || selfSigned(cur) {
			return cur
		}
		used[next] = true
		cur = next
	}
}

// chainOrder checks that each certificate is signed by the next one.
func chainOrder(certs []*x509.Certificate) ChainOrder {
	ordered := true
	for i := 1; i < len(certs); i++ {
		if certs[i-1].CheckSignatureFrom(certs[i]) != nil {
			ordered = false
			break
		}
	}
	if ordered {
		return OrderOK
	}
	// Out of order is forgivable if every extra certificate issues some
	// other certificate of the chain.
	for i, c := range certs[1:] {
		issues := false
		for j, d := range certs {
			if j != i+1 && d.CheckSignatureFrom(c) == nil {
				issues = true
				break
			}
		}
		if !issues {
			return OrderUnrelated
		}
	}
	return OrderWrong
}

// OCSPStatus is a stapled OCSP response, decoded.
type OCSPStatus struct {
	Status     string // "good", "revoked" or "unknown"
	ProducedAt time.Time
	ThisUpdate time.Time
	NextUpdate time.Time // zero when the responder gave none
	// Fresh: now lies between ThisUpdate and NextUpdate.
	Fresh bool
	// Error is set when the response could not be parsed, its signature
	// did not verify against the issuer, or the issuer is unknown.
	Error string
}

// ocspStatus decodes a stapled response for leaf and checks its signature
// with issuer, the leaf's issuer (nil when it is unknown: the response is
// then decoded but not trusted).
func ocspStatus(der []byte, leaf, issuer *x509.Certificate, now time.Time) *OCSPStatus {
	resp, err := ocsp.ParseResponseForCert(der, leaf, issuer)
	if err != nil {
		return &OCSPStatus{Error: err.Error()}
	}
	st := &OCSPStatus{ProducedAt: resp.ProducedAt, ThisUpdate: resp.ThisUpdate, NextUpdate: resp.NextUpdate}
	if issuer == nil {
		st.Error = "the leaf's issuer is unknown, so the response's signature cannot be checked"
	}
	switch resp.Status {
	case ocsp.Good:
		st.Status = "good"
	case ocsp.Revoked:
		st.Status = "revoked"
	default:
		st.Status = "unknown"
	}
	st.Fresh = !now.Before(resp.ThisUpdate) && (resp.NextUpdate.IsZero() || now.Before(resp.NextUpdate))
	return st
}
