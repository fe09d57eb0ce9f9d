package tlsprobe

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/layers/tlswire"
)

// goSuites are the suites of this client that crypto/tls can serve; the
// others (DHE, the SHA-384 CBC suites, RSA with AES-256-CBC-SHA256) are
// tested against OpenSSL in the lab.
func goSuites() []tlswire.CipherSuite {
	served := map[uint16]bool{}
	for _, s := range tls.CipherSuites() {
		served[s.ID] = true
	}
	for _, s := range tls.InsecureCipherSuites() {
		served[s.ID] = true
	}
	var out []tlswire.CipherSuite
	for _, s := range implemented {
		if served[uint16(s.id)] {
			out = append(out, s.id)
		}
	}
	return out
}

func quickOptions(p *testPKI) Options {
	return Options{ServerName: "server.test", Roots: p.roots, Quick: true, StepTimeout: 2 * time.Second, Timeout: 10 * time.Second}
}

// TestInteropEverySuite completes a full handshake with a crypto/tls
// server for every suite both implement, and checks that the server's
// Finished verified (which needs the key schedule and record protection
// to agree byte for byte).
func TestInteropEverySuite(t *testing.T) {
	p := newPKI(t)
	rsaCert := p.leaf(t, leafSpec{})
	ecCert := p.leaf(t, leafSpec{key: "p256"})
	suites := goSuites()
	if len(suites) < 15 {
		t.Fatalf("only %d suites in common with crypto/tls", len(suites))
	}
	for _, id := range suites {
		t.Run(id.String(), func(t *testing.T) {
			s := suiteByID(id)
			cert := rsaCert
			if s.auth == tlswire.AuthECDSA {
				cert = ecCert
			}
			addr := serveTLS(t, &tls.Config{
				Certificates: []tls.Certificate{cert},
				CipherSuites: []uint16{uint16(id)},
				MinVersion:   tls.VersionTLS12, MaxVersion: tls.VersionTLS12,
			})
			res := Probe(context.Background(), "server.test", addr, quickOptions(p))
			if res.Failure != nil {
				t.Fatalf("failure: %v", res.Failure)
			}
			if !res.Healthy || res.CipherSuite != id || res.Version != tlswire.VersionTLS12 || res.Handshake <= 0 {
				t.Errorf("healthy %v, suite %v, version %v, handshake %v", res.Healthy, res.CipherSuite, res.Version, res.Handshake)
			}
			if res.ForwardSecrecy != (s.kx != tlswire.KXRSA) || res.KeyExchange != s.kx {
				t.Errorf("key exchange %v, forward secrecy %v", res.KeyExchange, res.ForwardSecrecy)
			}
			if !res.ExtendedMasterSecret || !res.SecureRenegotiation {
				t.Errorf("EMS %v, secure renegotiation %v", res.ExtendedMasterSecret, res.SecureRenegotiation)
			}
			want := []string{"ClientHello", "ServerHello", "Certificate", "ServerKeyExchange", "ServerHelloDone",
				"ClientKeyExchange", "ChangeCipherSpec", "Finished", "NewSessionTicket", "ChangeCipherSpec", "Finished"}
			if s.kx == tlswire.KXRSA {
				want = slices.DeleteFunc(want, func(s string) bool { return s == "ServerKeyExchange" })
			}
			if got := eventTypes(res.Messages); !slices.Equal(got, want) {
				t.Errorf("timeline %v\nwant     %v", got, want)
			}
		})
	}
}

func eventTypes(evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

// TestInteropGroupsAndSignatures covers every ECDHE group and every
// signature type a crypto/tls server can produce in TLS 1.2.
func TestInteropGroupsAndSignatures(t *testing.T) {
	p := newPKI(t)
	cases := []struct {
		name    string
		key     string
		curve   tls.CurveID
		schemes []tlswire.SignatureScheme
		group   tlswire.Group
		sig     tlswire.SignatureScheme
	}{
		{"x25519 rsa-pss", "rsa", tls.X25519, nil, tlswire.GroupX25519, tlswire.PSSRSAEWithSHA256},
		{"p256 rsa-pkcs1", "rsa", tls.CurveP256, []tlswire.SignatureScheme{tlswire.PKCS1WithSHA256}, tlswire.GroupP256, tlswire.PKCS1WithSHA256},
		{"p384 rsa-pkcs1-sha384", "rsa", tls.CurveP384, []tlswire.SignatureScheme{tlswire.PKCS1WithSHA384}, tlswire.GroupP384, tlswire.PKCS1WithSHA384},
		{"p521 rsa-pss-sha512", "rsa", tls.CurveP521, []tlswire.SignatureScheme{tlswire.PSSRSAEWithSHA512}, tlswire.GroupP521, tlswire.PSSRSAEWithSHA512},
		{"p256 ecdsa", "p256", tls.CurveP256, nil, tlswire.GroupP256, tlswire.ECDSAWithP256},
		{"p384 ecdsa", "p384", tls.CurveP384, nil, tlswire.GroupP384, tlswire.ECDSAWithP256},
		{"p384 ecdsa-sha384", "p384", tls.CurveP384, []tlswire.SignatureScheme{tlswire.ECDSAWithP384}, tlswire.GroupP384, tlswire.ECDSAWithP384},
		{"x25519 ed25519", "ed25519", tls.X25519, nil, tlswire.GroupX25519, tlswire.Ed25519},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr := serveTLS(t, &tls.Config{
				Certificates:     []tls.Certificate{p.leaf(t, leafSpec{key: c.key})},
				CurvePreferences: []tls.CurveID{c.curve},
				MaxVersion:       tls.VersionTLS12,
			})
			qo := quickOptions(p)
			o := qo.defaults()
			pr := &prober{o: &o, addr: addr.String(), deadline: time.Now().Add(10 * time.Second)}
			h := pr.mainHello()
			if c.schemes != nil {
				h.schemes = c.schemes
			}
			st, err := runHandshake(context.Background(), pr.config(h))
			if err != nil {
				t.Fatal(err)
			}
			st.rc.conn.Close()
			if !st.complete || st.ske.Group != c.group || st.ske.Algorithm != c.sig {
				t.Errorf("complete %v, group %v, signature %v", st.complete, st.ske.Group, st.ske.Algorithm)
			}
		})
	}
}

// TestInteropFeatures checks ALPN, OCSP stapling, client certificate
// requests and the HTTP request over our record layer.
func TestInteropFeatures(t *testing.T) {
	p := newPKI(t)
	cert := p.leaf(t, leafSpec{})
	cert.OCSPStaple = []byte{0x30, 0x03, 0x0a, 0x01, 0x06} // an OCSPResponse saying "unauthorized"
	cfg := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MaxVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
		ClientAuth:   tls.RequestClientCert,
		ClientCAs:    p.roots,
	}
	ln := serveHTTP(t, cfg)
	o := quickOptions(p)
	o.HTTP, o.HTTPPath = true, "/health"
	res := Probe(context.Background(), "server.test", ln, o)
	if res.Failure != nil {
		t.Fatal(res.Failure)
	}
	if res.ALPN != "http/1.1" || !res.OCSPStapled || res.OCSP == nil || res.OCSP.Error == "" {
		t.Errorf("ALPN %q, stapled %v, OCSP %+v", res.ALPN, res.OCSPStapled, res.OCSP)
	}
	if !res.ClientCertRequested || len(res.ClientCertCAs) != 1 || res.ClientCertCAs[0] != "CN=netdiag test root" {
		t.Errorf("client cert requested %v, CAs %q", res.ClientCertRequested, res.ClientCertCAs)
	}
	if res.HTTP == nil || res.HTTP.StatusCode != 204 || res.HTTP.Server != "netdiag-test" {
		t.Errorf("HTTP %+v", res.HTTP)
	}
	types := eventTypes(res.Messages)
	if !slices.Contains(types, "ApplicationData") {
		t.Errorf("the HTTP request is not in the timeline: %v", types)
	}
	if !slices.Contains(types, "CertificateStatus") || !slices.Contains(types, "CertificateRequest") ||
		slices.Index(types, "Certificate") == slices.Index(types, "CertificateRequest") {
		t.Errorf("timeline %v", types)
	}
}

// serveHTTP runs an HTTPS server answering 204 with a Server header.
func serveHTTP(t *testing.T, cfg *tls.Config) netip.AddrPort {
	t.Helper()
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Server", "netdiag-test")
			if r.URL.Path != "/health" || r.Method != http.MethodHead || !strings.HasPrefix(r.Host, "server.test") {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}),
		TLSConfig:   cfg,
		ReadTimeout: 5 * time.Second,
	}
	ln := tls.NewListener(mustListen(t), cfg)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return netip.MustParseAddrPort(ln.Addr().String())
}

// TestInteropResumption: crypto/tls resumes TLS 1.2 sessions by ticket
// only, which the probe must tell apart.
func TestInteropResumption(t *testing.T) {
	p := newPKI(t)
	addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{p.leaf(t, leafSpec{})}, MaxVersion: tls.VersionTLS12})
	o := quickOptions(p)
	o.Quick = false
	o.Checks.RequireResumption = "ticket"
	res := Probe(context.Background(), "server.test", addr, o)
	if res.Failure != nil {
		t.Fatal(res.Failure)
	}
	// crypto/tls gives no session ID without a ticket and leaves the
	// ticket's lifetime hint unspecified (0).
	r := res.Resumption
	if r == nil || !r.TicketIssued || !r.Ticket.Resumed || r.SessionID.Resumed || r.SessionID.Tried ||
		r.SessionID.Detail != "the server assigned no session ID" || r.TicketLifetime != 0 {
		t.Fatalf("resumption %+v", r)
	}
	if res.TLS13Supported == nil || *res.TLS13Supported {
		t.Errorf("TLS 1.3 supported: %v", res.TLS13Supported)
	}
	if res.SNICheck == nil || !res.SNICheck.SameCertificate {
		t.Errorf("SNI check %+v", res.SNICheck)
	}
	if !res.Healthy {
		t.Errorf("unhealthy: %+v", res.Checks)
	}
	o.Checks.RequireResumption = "id"
	res = Probe(context.Background(), "server.test", addr, o)
	if res.Healthy || res.Failure == nil || res.Failure.Reason != "threshold" {
		t.Errorf("--require-resumption id against crypto/tls: healthy %v, failure %v", res.Healthy, res.Failure)
	}
}

// TestInteropTLS13Only: a server that refuses TLS 1.2 is reported as
// such, and its certificate is still checked over TLS 1.3.
func TestInteropTLS13Only(t *testing.T) {
	p := newPKI(t)
	addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{p.leaf(t, leafSpec{})}, MinVersion: tls.VersionTLS13})
	res := Probe(context.Background(), "server.test", addr, quickOptions(p))
	if res.Failure != nil {
		t.Fatal(res.Failure)
	}
	if !res.ViaTLS13 || res.Version != tlswire.VersionTLS13 || res.TLS13Supported == nil || !*res.TLS13Supported || !res.Healthy {
		t.Errorf("via 1.3 %v, version %v, healthy %v", res.ViaTLS13, res.Version, res.Healthy)
	}
	if res.Chain == nil || !res.Chain.Verified {
		t.Errorf("chain %+v", res.Chain)
	}
	o := quickOptions(p)
	o.Checks.ExpectVersion = tlswire.VersionTLS12
	res = Probe(context.Background(), "server.test", addr, o)
	if res.Failure == nil || res.Failure.Reason != "tls-protocol-version" {
		t.Errorf("--expect-version 1.2: %v", res.Failure)
	}
}

// TestHTTPFailuresInWords: a server that never answers the HEAD request
// and one that hangs up instead are told in words, not as socket errors.
func TestHTTPFailuresInWords(t *testing.T) {
	p := newPKI(t)
	cfg := &tls.Config{Certificates: []tls.Certificate{p.leaf(t, leafSpec{})}, MaxVersion: tls.VersionTLS12}
	silent := serveTLS(t, cfg)
	hangsUp := serveRaw(t, func(c net.Conn) {
		tc := tls.Server(c, cfg)
		_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
		if tc.Handshake() == nil {
			_ = tc.Close()
		}
	})
	banner := serveRaw(t, func(c net.Conn) {
		tc := tls.Server(c, cfg)
		_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
		if tc.Handshake() == nil {
			_, _ = tc.Write([]byte("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"))
			_, _ = io.Copy(io.Discard, tc)
		}
	})
	cases := []struct {
		addr   netip.AddrPort
		reason failure.Reason
		detail string
	}{
		{silent, failure.NoResponse, "no answer within 300ms"},
		{hangsUp, failure.NoResponse, "the server closed the connection without an answer"},
		{banner, failure.NotHTTP, `it answers "SSH-2.0-OpenSSH_9.2p1 Debian-2"`},
	}
	for _, c := range cases {
		o := quickOptions(p)
		o.HTTP, o.StepTimeout = true, 300*time.Millisecond
		res := Probe(context.Background(), "server.test", c.addr, o)
		if f := res.HTTP.Failure(); f == nil || f.Reason != c.reason || f.Detail != c.detail {
			t.Errorf("HTTP %+v: %v, want %s %q", res.HTTP, f, c.reason, c.detail)
		}
		if res.Healthy || res.Failure == nil || res.Failure.Reason != c.reason || res.Failure.Detail != "HTTP: "+c.detail {
			t.Errorf("failure %v", res.Failure)
		}
	}
}
