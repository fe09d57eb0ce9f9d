package tlsprobe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"

	"github.com/netdiag/netdiag/pkg/layers/tlswire"
)

// handshake13 completes a TLS 1.3 handshake with crypto/tls, for a server
// that refuses TLS 1.2, so that its certificate can still be checked. The
// chain is analysed by netdiag, not by crypto/tls, which therefore skips
// its own verification. It reports whether the handshake completed.
func (r *Result) handshake13(ctx context.Context, p *prober) (certs []*x509.Certificate, ocsp []byte, ok bool) {
	o := p.o
	ctx, cancel := context.WithDeadline(ctx, stepDeadline(p.deadline, o.Now(), 4*o.StepTimeout))
	defer cancel()
	begin := o.Now()
	conn, err := o.Dial(ctx, "tcp", p.addr)
	if err != nil {
		r.Failure = dialFailure(err)
		return nil, nil, false
	}
	defer conn.Close()
	connected := o.Now()
	c := tls.Client(conn, &tls.Config{
		ServerName:         o.ServerName,
		InsecureSkipVerify: true, // netdiag verifies the chain itself, below
		MinVersion:         tls.VersionTLS13,
		MaxVersion:         tls.VersionTLS13,
		NextProtos:         o.ALPN,
	})
	if err := c.HandshakeContext(ctx); err != nil {
		r.Failure = classify(fmt.Errorf("TLS 1.3 handshake (crypto/tls): %w", err))
		return nil, nil, false
	}
	cs := c.ConnectionState()
	r.TCPConnect = connected.Sub(begin)
	r.Handshake = o.Now().Sub(connected)
	r.Version = tlswire.VersionTLS13
	r.CipherSuite = tlswire.CipherSuite(cs.CipherSuite)
	r.KeyExchange = tlswire.KXECDHE
	r.Group = tlswire.Group(cs.CurveID)
	r.ForwardSecrecy = true
	r.ALPN = cs.NegotiatedProtocol
	r.OCSPStapled = len(cs.OCSPResponse) > 0
	r.ExtendedMasterSecret = true // TLS 1.3's key schedule always binds the transcript
	r.SecureRenegotiation = true  // TLS 1.3 has no renegotiation
	r.ViaTLS13 = true
	_ = c.CloseWrite()
	return cs.PeerCertificates, cs.OCSPResponse, true
}
