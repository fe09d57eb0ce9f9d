package tlsprobe

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"fmt"

	"github.com/netdiag/netdiag/pkg/layers/tlswire"
)

// helloExchange sends one ClientHello and returns the server's first
// handshake message parsed as a ServerHello, then hangs up. Enumeration and
// the TLS 1.3 test need nothing more, so no handshake is completed.
func helloExchange(ctx context.Context, cfg *handshakeConfig) (*tlswire.ServerHello, error) {
	rc, _, stop, err := connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer stop()
	defer rc.conn.Close()
	if _, _, err := sendHello(rc, cfg.hello); err != nil {
		return nil, err
	}
	m, err := rc.readMessage()
	if err != nil {
		return nil, fmt.Errorf("read ServerHello: %w", err)
	}
	if m.ccs || tlswire.HandshakeType(m.raw[0]) != tlswire.TypeServerHello {
		return nil, protocolErrorf("expected ServerHello")
	}
	return tlswire.ParseServerHello(m.raw)
}

// x25519Share returns a fresh X25519 public key for a TLS 1.3 key share.
func x25519Share() ([]byte, error) {
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return k.PublicKey().Bytes(), nil
}

// tls13Suites are the TLS 1.3 suites offered when testing for TLS 1.3.
var tls13Suites = []tlswire.CipherSuite{0x1301, 0x1302, 0x1303, 0x1304, 0x1305}

// tls13Result is the answer to a supported_versions hello.
type tls13Result struct {
	supported bool
	suite     tlswire.CipherSuite
	err       error
}

// tls13Probe asks for TLS 1.3 only. A ServerHello or HelloRetryRequest
// selecting 1.3 proves support; anything else, no support.
func (p *prober) tls13Probe(ctx context.Context) *tls13Result {
	share, err := x25519Share()
	if err != nil {
		return &tls13Result{err: err}
	}
	h := helloParams{
		version: tlswire.VersionTLS12, serverName: p.o.ServerName, suites: tls13Suites,
		groups: defaultGroups, schemes: defaultSignatureSchemes, tls13: true, tls13Only: true, keyShare: share,
	}
	sh, err := helloExchange(ctx, p.config(h))
	if err != nil {
		return &tls13Result{err: err}
	}
	return &tls13Result{supported: sh.SupportedVersion == tlswire.VersionTLS13, suite: sh.CipherSuite}
}
