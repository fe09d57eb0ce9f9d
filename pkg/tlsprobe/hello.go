package tlsprobe

import (
	"crypto/rand"
	"strings"

	"github.com/netdiag/netdiag/pkg/layers/tlswire"
)

// helloParams is what one ClientHello offers.
type helloParams struct {
	version       tlswire.Version // legacy_version
	serverName    string
	suites        []tlswire.CipherSuite
	groups        []tlswire.Group
	schemes       []tlswire.SignatureScheme
	alpn          []string
	sessionID     []byte
	offerTicket   bool
	ticket        []byte
	statusRequest bool
	// noExtensions builds an SSL 3.0 style hello without an extensions
	// block, for servers that predate extensions.
	noExtensions bool
	// tls13 adds supported_versions and an X25519 key share, so that a
	// TLS 1.3 server can answer with its own ServerHello.
	tls13     bool
	keyShare  []byte
	tls13Only bool
}

// Hello sizes some servers mishandle: F5 BIG-IP and others hang on a
// ClientHello record whose length is 256 to 511 bytes (the padding
// extension of RFC 7685 was created for this).
const (
	intolerantMin = 256
	intolerantMax = 511
)

// buildHello marshals the ClientHello, padded out of the intolerant
// length range when it has extensions to pad with.
func buildHello(p helloParams) (*tlswire.ClientHello, []byte, error) {
	h := &tlswire.ClientHello{
		Version:            p.version,
		SessionID:          p.sessionID,
		CipherSuites:       p.suites,
		CompressionMethods: []uint8{0},
	}
	if _, err := rand.Read(h.Random[:]); err != nil {
		return nil, nil, err
	}
	if !p.noExtensions {
		// RFC 6066 section 3: the host name goes without a trailing dot.
		h.ServerName = strings.TrimSuffix(p.serverName, ".")
		h.ExtendedMasterSecret = true
		h.SecureRenegotiation = true
		h.SupportedGroups = p.groups
		h.ECPointFormats = []uint8{tlswire.PointFormatUncompressed}
		h.SignatureAlgorithms = p.schemes
		h.StatusRequest = p.statusRequest
		h.ALPN = p.alpn
		h.TicketSupported, h.SessionTicket = p.offerTicket, p.ticket
		if p.tls13 {
			h.SupportedVersions = []tlswire.Version{tlswire.VersionTLS13}
			if !p.tls13Only {
				h.SupportedVersions = append(h.SupportedVersions, tlswire.VersionTLS12)
			}
			h.KeyShares = []tlswire.KeyShare{{Group: tlswire.GroupX25519, Data: p.keyShare}}
			h.PSKModes = []uint8{tlswire.PSKModeDHEKE}
		}
	}
	raw, err := h.Marshal()
	if err != nil {
		return nil, nil, err
	}
	if n := len(raw); !p.noExtensions && n >= intolerantMin && n <= intolerantMax {
		// The padding extension's own header takes four bytes; never
		// send it empty.
		h.Padded, h.PaddingLen = true, max(1, intolerantMax+1-n-4)
		if raw, err = h.Marshal(); err != nil {
			return nil, nil, err
		}
	}
	return h, raw, nil
}
