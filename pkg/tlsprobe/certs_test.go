package tlsprobe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
	"golang.org/x/crypto/ocsp"
)

// TestCertificateProblems serves certificates with one defect each and
// checks that the probe names it. The handshake itself completes every
// time: the certificate verdict is separate from the handshake.
func TestCertificateProblems(t *testing.T) {
	p := newPKI(t)
	now := time.Now()
	cases := []struct {
		name    string
		spec    leafSpec
		sni     string
		minDays int
		reason  failure.Reason
		says    string
	}{
		{"good", leafSpec{}, "server.test", 0, "", ""},
		{"expired", leafSpec{notBefore: now.Add(-400 * 24 * time.Hour), notAfter: now.Add(-3 * 24 * time.Hour)}, "server.test", 0,
			failure.CertExpired, "days ago"},
		{"not yet valid", leafSpec{notBefore: now.Add(48 * time.Hour), notAfter: now.Add(400 * 24 * time.Hour)}, "server.test", 0,
			failure.CertNotYetValid, "is valid from"},
		{"self-signed", leafSpec{selfSigned: true}, "server.test", 0, failure.CertUntrusted, "self-signed"},
		{"wrong host", leafSpec{names: []string{"other.test"}}, "server.test", 0, failure.CertNameMismatch, `"server.test" is not among other.test`},
		{"missing intermediate", leafSpec{noChain: true}, "server.test", 0, failure.CertChainIncomplete,
			`intermediate "CN=netdiag test intermediate" (published at http://ca.test/intermediate.crt)`},
		{"5 days left, --min-days 10", leafSpec{notAfter: now.Add(5*24*time.Hour + time.Hour)}, "server.test", 10,
			failure.CertExpiringSoon, "expires in 5 days, fewer than 10"},
		{"5 days left, no limit", leafSpec{notAfter: now.Add(5*24*time.Hour + time.Hour)}, "server.test", 0, "", ""},
		{"IP address without SNI", leafSpec{}, "", 0, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{p.leaf(t, c.spec)}, MaxVersion: tls.VersionTLS12})
			o := quickOptions(p)
			o.ServerName = c.sni
			o.Checks.MinDays = c.minDays
			res := Probe(context.Background(), "server.test", addr, o)
			if res.Handshake <= 0 {
				t.Fatalf("handshake did not complete: %v", res.Failure)
			}
			if c.reason == "" {
				if !res.Healthy || res.Failure != nil {
					t.Fatalf("healthy %v, failure %v", res.Healthy, res.Failure)
				}
				return
			}
			if res.Healthy || res.Failure == nil || res.Failure.Reason != c.reason || !strings.Contains(res.Failure.Detail, c.says) {
				t.Errorf("failure %v, want %s saying %q", res.Failure, c.reason, c.says)
			}
		})
	}
}

// TestChainDetails checks the per-certificate report and the order check.
func TestChainDetails(t *testing.T) {
	p := newPKI(t)
	leaf := p.leaf(t, leafSpec{key: "p384", notAfter: time.Now().Add(30*24*time.Hour + time.Hour)})
	addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{leaf}, MaxVersion: tls.VersionTLS12})
	res := Probe(context.Background(), "server.test", addr, quickOptions(p))
	ch := res.Chain
	if ch == nil || !ch.Verified || ch.Order != OrderOK || len(ch.Certificates) != 2 || len(ch.Path) != 3 {
		t.Fatalf("chain %+v", ch)
	}
	c := ch.Certificates[0]
	if c.Subject != "CN=server.test" || c.Issuer != "CN=netdiag test intermediate" || c.Key != "ECDSA P-384" ||
		c.DaysLeft != 30 || len(c.SHA256) != 64 || strings.Join(c.SANs, ",") != "server.test,127.0.0.1" || c.SigAlg != "ECDSA-SHA256" {
		t.Errorf("leaf %+v", c)
	}
	if !ch.Certificates[1].IsCA || ch.Certificates[1].Key != "ECDSA P-256" {
		t.Errorf("intermediate %+v", ch.Certificates[1])
	}

	// The intermediate first and the leaf second: still verifiable, but
	// out of order; an unrelated certificate in the chain is named too.
	swapped := leaf
	swapped.Certificate = [][]byte{leaf.Certificate[0], p.root.Raw, leaf.Certificate[1]}
	addr = serveTLS(t, &tls.Config{Certificates: []tls.Certificate{swapped}, MaxVersion: tls.VersionTLS12})
	res = Probe(context.Background(), "server.test", addr, quickOptions(p))
	if res.Chain.Order != OrderWrong || !res.Healthy {
		t.Errorf("order %v, healthy %v", res.Chain.Order, res.Healthy)
	}
	other := p.leaf(t, leafSpec{names: []string{"other.test"}})
	extra := leaf
	extra.Certificate = [][]byte{leaf.Certificate[0], leaf.Certificate[1], other.Certificate[0]}
	addr = serveTLS(t, &tls.Config{Certificates: []tls.Certificate{extra}, MaxVersion: tls.VersionTLS12})
	res = Probe(context.Background(), "server.test", addr, quickOptions(p))
	if res.Chain.Order != OrderUnrelated {
		t.Errorf("order %v", res.Chain.Order)
	}
}

// TestInjectedClock: the clock decides validity; a year from now the
// 90-day certificate has expired.
func TestInjectedClock(t *testing.T) {
	p := newPKI(t)
	addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{p.leaf(t, leafSpec{})}, MaxVersion: tls.VersionTLS12})
	o := quickOptions(p)
	o.Now = func() time.Time { return time.Now().Add(365 * 24 * time.Hour) }
	res := Probe(context.Background(), "server.test", addr, o)
	if res.Failure == nil || res.Failure.Reason != failure.CertExpired {
		t.Fatalf("failure %v", res.Failure)
	}
	if d := res.Chain.Certificates[0].DaysLeft; d > -270 || d < -280 {
		t.Errorf("days left %d", d)
	}
}

// TestOCSPStapleIssuer: a stapled response is trusted only when its
// signature verifies with the leaf's issuer, found on the verified path
// (also when the server does not send it) or among the certificates sent.
func TestOCSPStapleIssuer(t *testing.T) {
	p := newPKI(t)
	leaf := p.leaf(t, leafSpec{}).Leaf
	now := time.Now()
	resp := ocsp.Response{Status: ocsp.Good, SerialNumber: leaf.SerialNumber, ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(time.Hour)}
	good, err := ocsp.CreateResponse(p.inter, p.inter, resp, p.interKey)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := ocsp.CreateResponse(p.inter, p.inter, resp, p.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	interAsRoot := x509.NewCertPool()
	interAsRoot.AddCert(p.inter)
	cases := []struct {
		name  string
		sent  []*x509.Certificate
		roots *x509.CertPool
		der   []byte
		error string // "" when the staple must be good and fresh
	}{
		{"issuer sent", []*x509.Certificate{leaf, p.inter}, p.roots, good, ""},
		{"issuer is the trust anchor, not sent", []*x509.Certificate{leaf}, interAsRoot, good, ""},
		{"issuer unknown", []*x509.Certificate{leaf}, p.roots, good, "issuer is unknown"},
		{"signed by another key", []*x509.Certificate{leaf, p.inter}, p.roots, forged, "signature"},
	}
	for _, c := range cases {
		ch := analyzeChain(c.sent, "server.test", c.roots, now)
		st := ocspStatus(c.der, leaf, ch.issuer, now)
		switch {
		case c.error == "" && (st.Error != "" || st.Status != "good" || !st.Fresh):
			t.Errorf("%s: %+v", c.name, st)
		case c.error != "" && !strings.Contains(st.Error, c.error):
			t.Errorf("%s: error %q, want %q", c.name, st.Error, c.error)
		}
	}
}
