package tlswire

import "fmt"

// ExtensionType identifies a hello extension.
type ExtensionType uint16

// The extensions netdiag builds or interprets. Others are kept raw.
const (
	ExtServerName           ExtensionType = 0
	ExtStatusRequest        ExtensionType = 5
	ExtSupportedGroups      ExtensionType = 10
	ExtECPointFormats       ExtensionType = 11
	ExtSignatureAlgorithms  ExtensionType = 13
	ExtALPN                 ExtensionType = 16
	ExtSCT                  ExtensionType = 18
	ExtPadding              ExtensionType = 21
	ExtEncryptThenMAC       ExtensionType = 22
	ExtExtendedMasterSecret ExtensionType = 23
	ExtSessionTicket        ExtensionType = 35
	ExtPreSharedKey         ExtensionType = 41
	ExtSupportedVersions    ExtensionType = 43
	ExtCookie               ExtensionType = 44
	ExtPSKKeyExchangeModes  ExtensionType = 45
	ExtKeyShare             ExtensionType = 51
	ExtRenegotiationInfo    ExtensionType = 0xFF01
)

// extensionNames covers the IANA "TLS ExtensionType Values" registry, plus
// NPN and ALPS, which browsers send without a registered code point.
var extensionNames = map[ExtensionType]string{
	0:      "server_name",
	1:      "max_fragment_length",
	2:      "client_certificate_url",
	3:      "trusted_ca_keys",
	4:      "truncated_hmac",
	5:      "status_request",
	6:      "user_mapping",
	7:      "client_authz",
	8:      "server_authz",
	9:      "cert_type",
	10:     "supported_groups",
	11:     "ec_point_formats",
	12:     "srp",
	13:     "signature_algorithms",
	14:     "use_srtp",
	15:     "heartbeat",
	16:     "application_layer_protocol_negotiation",
	17:     "status_request_v2",
	18:     "signed_certificate_timestamp",
	19:     "client_certificate_type",
	20:     "server_certificate_type",
	21:     "padding",
	22:     "encrypt_then_mac",
	23:     "extended_master_secret",
	24:     "token_binding",
	25:     "cached_info",
	26:     "tls_lts",
	27:     "compress_certificate",
	28:     "record_size_limit",
	29:     "pwd_protect",
	30:     "pwd_clear",
	31:     "password_salt",
	32:     "ticket_pinning",
	33:     "tls_cert_with_extern_psk",
	34:     "delegated_credential",
	35:     "session_ticket",
	36:     "TLMSP",
	37:     "TLMSP_proxying",
	38:     "TLMSP_delegate",
	39:     "supported_ekt_ciphers",
	41:     "pre_shared_key",
	42:     "early_data",
	43:     "supported_versions",
	44:     "cookie",
	45:     "psk_key_exchange_modes",
	47:     "certificate_authorities",
	48:     "oid_filters",
	49:     "post_handshake_auth",
	50:     "signature_algorithms_cert",
	51:     "key_share",
	52:     "transparency_info",
	53:     "connection_id_deprecated",
	54:     "connection_id",
	55:     "external_id_hash",
	56:     "external_session_id",
	57:     "quic_transport_parameters",
	58:     "ticket_request",
	59:     "dnssec_chain",
	60:     "sequence_number_encryption_algorithms",
	61:     "rrc",
	62:     "tls_flags",
	13172:  "next_protocol_negotiation",
	17513:  "application_settings",
	0xFD00: "ech_outer_extensions",
	0xFE0D: "encrypted_client_hello",
	0xFF01: "renegotiation_info",
}

// String returns the registry name or "extension(N)".
func (t ExtensionType) String() string {
	if n, ok := extensionNames[t]; ok {
		return n
	}
	if IsGREASE(uint16(t)) {
		return fmt.Sprintf("GREASE 0x%04X", uint16(t))
	}
	return fmt.Sprintf("extension(%d)", uint16(t))
}

// Extension is one extension as it appears on the wire. Hello messages keep
// extensions they do not interpret in this form, so nothing is lost.
type Extension struct {
	Type ExtensionType
	Data []byte
}

// KeyShare is one entry of a key_share extension (RFC 8446 section 4.2.8).
// In a HelloRetryRequest only Group is set.
type KeyShare struct {
	Group Group
	Data  []byte
}

// Values of the status_request extension and of CertificateStatus.
const StatusTypeOCSP uint8 = 1

// The EC point formats of RFC 8422; only uncompressed is still in use.
const PointFormatUncompressed uint8 = 0

// The psk_key_exchange_modes of RFC 8446.
const (
	PSKModeKE    uint8 = 0
	PSKModeDHEKE uint8 = 1
)
