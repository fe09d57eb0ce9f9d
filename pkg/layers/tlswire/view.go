package tlswire

import (
	"encoding/json"
	"math/big"
)

// MessageView is a flat, JSON-ready summary of a handshake message: the
// type as a number and a name, its length, and the fields people look for
// in each message type. Absent fields are omitted from JSON.
type MessageView struct {
	Type   uint8  `json:"type"`
	Name   string `json:"name"`
	Length int    `json:"length"`
	Error  string `json:"error,omitempty"`

	// ClientHello and ServerHello.
	Version           Version           `json:"version,omitempty"`
	SessionIDLen      *int              `json:"session_id_length,omitempty"`
	ServerName        string            `json:"server_name,omitempty"`
	CipherSuites      []CipherSuite     `json:"cipher_suites,omitempty"`
	CipherSuite       *CipherSuite      `json:"cipher_suite,omitempty"`
	Extensions        []string          `json:"extensions,omitempty"`
	SupportedGroups   []Group           `json:"supported_groups,omitempty"`
	SignatureAlgs     []SignatureScheme `json:"signature_algorithms,omitempty"`
	ALPN              []string          `json:"alpn,omitempty"`
	SupportedVersions []Version         `json:"supported_versions,omitempty"`
	SelectedVersion   Version           `json:"selected_version,omitempty"`
	HelloRetryRequest bool              `json:"hello_retry_request,omitempty"`

	// Certificate.
	CertificateLengths []int `json:"certificate_lengths,omitempty"`

	// ServerKeyExchange and ClientKeyExchange.
	KeyExchange        KeyExchange     `json:"key_exchange,omitempty"`
	Group              Group           `json:"group,omitempty"`
	DHPrimeBits        int             `json:"dh_prime_bits,omitempty"`
	SignatureAlgorithm SignatureScheme `json:"signature_algorithm,omitempty"`

	// CertificateRequest.
	CertificateTypes []int `json:"certificate_types,omitempty"`
	CACount          *int  `json:"certificate_authorities,omitempty"`

	// NewSessionTicket.
	TicketLifetimeHint *uint32 `json:"ticket_lifetime_hint_s,omitempty"`
	TicketLength       *int    `json:"ticket_length,omitempty"`

	// CertificateStatus.
	OCSPResponseLength int `json:"ocsp_response_length,omitempty"`
}

// View summarises m for display and JSON.
func (m *HandshakeMessage) View() MessageView {
	v := MessageView{Type: uint8(m.Type), Name: m.Type.String(), Length: m.Len()}
	if m.Err != nil {
		v.Error = m.Err.Error()
	}
	switch x := m.Msg.(type) {
	case *ClientHello:
		n := len(x.SessionID)
		v.Version, v.SessionIDLen, v.ServerName = x.Version, &n, x.ServerName
		v.CipherSuites = x.CipherSuites
		v.Extensions = extensionNamesOf(x.Order)
		v.SupportedGroups, v.SignatureAlgs, v.ALPN = x.SupportedGroups, x.SignatureAlgorithms, x.ALPN
		v.SupportedVersions = x.SupportedVersions
	case *ServerHello:
		n := len(x.SessionID)
		cs := x.CipherSuite
		v.Version, v.SessionIDLen, v.CipherSuite = x.Version, &n, &cs
		v.Extensions = extensionNamesOf(x.Order)
		if x.ALPN != "" {
			v.ALPN = []string{x.ALPN}
		}
		v.SelectedVersion = x.SupportedVersion
		v.HelloRetryRequest = x.IsHelloRetryRequest()
		if v.HelloRetryRequest {
			v.Name = TypeHelloRetryRequest.String()
			v.Group = x.KeyShare.Group
		}
	case *Certificate:
		v.CertificateLengths = make([]int, len(x.Certificates))
		for i, c := range x.Certificates {
			v.CertificateLengths[i] = len(c)
		}
	case *ServerKeyExchange:
		v.KeyExchange, v.Group, v.SignatureAlgorithm = x.KX, x.Group, x.Algorithm
		if len(x.P) > 0 {
			v.DHPrimeBits = new(big.Int).SetBytes(x.P).BitLen()
		}
	case *ClientKeyExchange:
		v.KeyExchange = x.KX
	case *CertificateRequest:
		n := len(x.CertificateAuthorities)
		v.CACount, v.SignatureAlgs = &n, x.SignatureAlgorithms
		for _, t := range x.CertificateTypes {
			v.CertificateTypes = append(v.CertificateTypes, int(t))
		}
	case *NewSessionTicket:
		h, n := x.LifetimeHint, len(x.Ticket)
		v.TicketLifetimeHint, v.TicketLength = &h, &n
	case *CertificateStatus:
		v.OCSPResponseLength = len(x.Response)
	}
	return v
}

func extensionNamesOf(order []ExtensionType) []string {
	if len(order) == 0 {
		return nil
	}
	out := make([]string, len(order))
	for i, t := range order {
		out[i] = t.String()
	}
	return out
}

// MarshalJSON writes an alert with both numbers and names:
// {"level":2,"level_name":"fatal","description":40,"description_name":"handshake_failure"}.
func (a Alert) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Level           uint8  `json:"level"`
		LevelName       string `json:"level_name"`
		Description     uint8  `json:"description"`
		DescriptionName string `json:"description_name"`
	}{uint8(a.Level), a.Level.String(), uint8(a.Description), a.Description.String()})
}
