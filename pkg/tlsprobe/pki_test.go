package tlsprobe

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// testPKI is a root CA and an intermediate, generated per test run, that
// issue the servers' certificates.
type testPKI struct {
	root, inter       *x509.Certificate
	rootKey, interKey crypto.Signer
	roots             *x509.CertPool
}

var (
	pkiOnce   sync.Once
	sharedPKI *testPKI
	rsaKeys   = map[int]*rsa.PrivateKey{}
	rsaMu     sync.Mutex
)

// rsaKey caches RSA keys by size: generating them dominates test time.
func rsaKey(t testing.TB, bits int) *rsa.PrivateKey {
	rsaMu.Lock()
	defer rsaMu.Unlock()
	if k := rsaKeys[bits]; k != nil {
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	rsaKeys[bits] = k
	return k
}

func newPKI(t testing.TB) *testPKI {
	pkiOnce.Do(func() {
		p := &testPKI{rootKey: rsaKey(t, 2048)}
		ik, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		p.interKey = ik
		now := time.Now()
		p.root = mustCert(t, &x509.Certificate{
			Subject: pkix.Name{CommonName: "netdiag test root"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		}, nil, p.rootKey.Public(), p.rootKey)
		p.inter = mustCert(t, &x509.Certificate{
			Subject: pkix.Name{CommonName: "netdiag test intermediate"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(5 * 365 * 24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		}, p.root, ik.Public(), p.rootKey)
		p.roots = x509.NewCertPool()
		p.roots.AddCert(p.root)
		sharedPKI = p
	})
	return sharedPKI
}

var serial int64 = 100

func mustCert(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) *x509.Certificate {
	t.Helper()
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// leafSpec describes a server certificate to issue.
type leafSpec struct {
	key        string // "rsa" (default), "rsa1024", "p256", "p384", "ed25519"
	names      []string
	notBefore  time.Time
	notAfter   time.Time
	selfSigned bool
	noChain    bool // send the leaf without the intermediate
	fromRoot   bool // issued by the root directly
}

// leaf issues a certificate for 127.0.0.1 and the given names and returns
// it as the server's tls.Certificate with its chain.
func (p *testPKI) leaf(t testing.TB, s leafSpec) tls.Certificate {
	t.Helper()
	var key crypto.Signer
	switch s.key {
	case "", "rsa":
		key = rsaKey(t, 2048)
	case "rsa1024":
		key = rsaKey(t, 1024)
	case "p256":
		key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "p384":
		key, _ = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "ed25519":
		_, key, _ = ed25519.GenerateKey(rand.Reader)
	}
	now := time.Now()
	if s.notBefore.IsZero() {
		s.notBefore = now.Add(-time.Hour)
	}
	if s.notAfter.IsZero() {
		s.notAfter = now.Add(90 * 24 * time.Hour)
	}
	if s.names == nil {
		s.names = []string{"server.test"}
	}
	tmpl := &x509.Certificate{
		Subject: pkix.Name{CommonName: s.names[0]}, DNSNames: s.names,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:   s.notBefore, NotAfter: s.notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		// Where the issuer is published, as public CAs write it.
		IssuingCertificateURL: []string{"http://ca.test/intermediate.crt"},
	}
	parent, signer := p.inter, p.interKey
	switch {
	case s.selfSigned:
		parent, signer = nil, key
	case s.fromRoot:
		parent, signer = p.root, p.rootKey
	}
	c := mustCert(t, tmpl, parent, key.Public(), signer)
	out := tls.Certificate{Certificate: [][]byte{c.Raw}, PrivateKey: key, Leaf: c}
	if !s.selfSigned && !s.noChain && !s.fromRoot {
		out.Certificate = append(out.Certificate, p.inter.Raw)
	}
	return out
}

// serveTLS runs a crypto/tls server on loopback that completes handshakes
// and then reads until the client goes away.
func serveTLS(t testing.TB, cfg *tls.Config) netip.AddrPort {
	t.Helper()
	return serveRaw(t, func(c net.Conn) {
		tc := tls.Server(c, cfg)
		_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
		if tc.Handshake() == nil {
			_, _ = io.Copy(io.Discard, tc)
		}
	})
}

func mustListen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// serveRaw runs handle for every connection to a loopback listener.
func serveRaw(t testing.TB, handle func(net.Conn)) netip.AddrPort {
	t.Helper()
	ln := mustListen(t)
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String())
}
