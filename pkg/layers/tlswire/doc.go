// Package tlswire is the TLS part of netdiag's packet core: it splits a byte
// stream into TLS records, reassembles handshake messages across and within
// records, and parses and builds the TLS 1.2 handshake messages (with the
// parts of TLS 1.3 a client needs to see: supported_versions, key_share and
// HelloRetryRequest). It also holds the IANA registries a prober needs: cipher
// suites, named groups, signature schemes, extensions and alerts.
//
// The package does no cryptography and keeps no secrets. It is shared by the
// tlsprobe handshake client, which frames and parses with it, and by decode,
// which follows both directions of a captured connection with a Conversation.
//
// Everything that parses bytes from the network is bounded: a record longer
// than 2^14+2048 bytes and a handshake message longer than the configured
// limit are rejected as soon as their header is seen, before any body is
// buffered. Parsers use golang.org/x/crypto/cryptobyte and never index by hand.
package tlswire
