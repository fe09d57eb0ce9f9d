package tlswire

import "fmt"

// AlertLevel is the first byte of an alert.
type AlertLevel uint8

// The two alert levels.
const (
	AlertWarning AlertLevel = 1
	AlertFatal   AlertLevel = 2
)

func (l AlertLevel) String() string {
	switch l {
	case AlertWarning:
		return "warning"
	case AlertFatal:
		return "fatal"
	}
	return fmt.Sprintf("level(%d)", uint8(l))
}

// AlertDescription is the second byte of an alert.
type AlertDescription uint8

// Every description of the IANA "TLS Alerts" registry.
const (
	AlertCloseNotify                  AlertDescription = 0
	AlertUnexpectedMessage            AlertDescription = 10
	AlertBadRecordMAC                 AlertDescription = 20
	AlertDecryptionFailed             AlertDescription = 21
	AlertRecordOverflow               AlertDescription = 22
	AlertDecompressionFailure         AlertDescription = 30
	AlertHandshakeFailure             AlertDescription = 40
	AlertNoCertificate                AlertDescription = 41
	AlertBadCertificate               AlertDescription = 42
	AlertUnsupportedCertificate       AlertDescription = 43
	AlertCertificateRevoked           AlertDescription = 44
	AlertCertificateExpired           AlertDescription = 45
	AlertCertificateUnknown           AlertDescription = 46
	AlertIllegalParameter             AlertDescription = 47
	AlertUnknownCA                    AlertDescription = 48
	AlertAccessDenied                 AlertDescription = 49
	AlertDecodeError                  AlertDescription = 50
	AlertDecryptError                 AlertDescription = 51
	AlertTooManyCIDsRequested         AlertDescription = 52
	AlertExportRestriction            AlertDescription = 60
	AlertProtocolVersion              AlertDescription = 70
	AlertInsufficientSecurity         AlertDescription = 71
	AlertInternalError                AlertDescription = 80
	AlertInappropriateFallback        AlertDescription = 86
	AlertUserCanceled                 AlertDescription = 90
	AlertNoRenegotiation              AlertDescription = 100
	AlertMissingExtension             AlertDescription = 109
	AlertUnsupportedExtension         AlertDescription = 110
	AlertCertificateUnobtainable      AlertDescription = 111
	AlertUnrecognizedName             AlertDescription = 112
	AlertBadCertificateStatusResponse AlertDescription = 113
	AlertBadCertificateHashValue      AlertDescription = 114
	AlertUnknownPSKIdentity           AlertDescription = 115
	AlertCertificateRequired          AlertDescription = 116
	AlertGeneralError                 AlertDescription = 117
	AlertNoApplicationProtocol        AlertDescription = 120
	AlertECHRequired                  AlertDescription = 121
)

// alertNames holds the registry's names, which are also what OpenSSL and
// Wireshark print, so users can search for them.
var alertNames = map[AlertDescription]string{
	AlertCloseNotify:                  "close_notify",
	AlertUnexpectedMessage:            "unexpected_message",
	AlertBadRecordMAC:                 "bad_record_mac",
	AlertDecryptionFailed:             "decryption_failed",
	AlertRecordOverflow:               "record_overflow",
	AlertDecompressionFailure:         "decompression_failure",
	AlertHandshakeFailure:             "handshake_failure",
	AlertNoCertificate:                "no_certificate",
	AlertBadCertificate:               "bad_certificate",
	AlertUnsupportedCertificate:       "unsupported_certificate",
	AlertCertificateRevoked:           "certificate_revoked",
	AlertCertificateExpired:           "certificate_expired",
	AlertCertificateUnknown:           "certificate_unknown",
	AlertIllegalParameter:             "illegal_parameter",
	AlertUnknownCA:                    "unknown_ca",
	AlertAccessDenied:                 "access_denied",
	AlertDecodeError:                  "decode_error",
	AlertDecryptError:                 "decrypt_error",
	AlertTooManyCIDsRequested:         "too_many_cids_requested",
	AlertExportRestriction:            "export_restriction",
	AlertProtocolVersion:              "protocol_version",
	AlertInsufficientSecurity:         "insufficient_security",
	AlertInternalError:                "internal_error",
	AlertInappropriateFallback:        "inappropriate_fallback",
	AlertUserCanceled:                 "user_canceled",
	AlertNoRenegotiation:              "no_renegotiation",
	AlertMissingExtension:             "missing_extension",
	AlertUnsupportedExtension:         "unsupported_extension",
	AlertCertificateUnobtainable:      "certificate_unobtainable",
	AlertUnrecognizedName:             "unrecognized_name",
	AlertBadCertificateStatusResponse: "bad_certificate_status_response",
	AlertBadCertificateHashValue:      "bad_certificate_hash_value",
	AlertUnknownPSKIdentity:           "unknown_psk_identity",
	AlertCertificateRequired:          "certificate_required",
	AlertGeneralError:                 "general_error",
	AlertNoApplicationProtocol:        "no_application_protocol",
	AlertECHRequired:                  "ech_required",
}

// String returns the registry name ("handshake_failure"), or
// "alert(N)" for an unassigned value.
func (d AlertDescription) String() string {
	if n, ok := alertNames[d]; ok {
		return n
	}
	return fmt.Sprintf("alert(%d)", uint8(d))
}

// Known reports whether d is in the registry.
func (d AlertDescription) Known() bool { _, ok := alertNames[d]; return ok }

// Alert is the two-byte body of an alert record.
type Alert struct {
	Level       AlertLevel       `json:"level"`
	Description AlertDescription `json:"description"`
}

// ParseAlert decodes an alert record's body. A body of other than two bytes
// is malformed (several alerts in one record do not occur in practice and
// TLS 1.3 forbids them).
func ParseAlert(b []byte) (Alert, error) {
	if len(b) != 2 {
		return Alert{}, malformedf("alert", "%d bytes, want 2", len(b))
	}
	return Alert{Level: AlertLevel(b[0]), Description: AlertDescription(b[1])}, nil
}

// Marshal returns the two-byte body.
func (a Alert) Marshal() []byte { return []byte{byte(a.Level), byte(a.Description)} }

// String reads like "fatal handshake_failure (40)".
func (a Alert) String() string {
	return fmt.Sprintf("%v %v (%d)", a.Level, a.Description, uint8(a.Description))
}

// AlertError is an alert received from the peer, returned as an error.
type AlertError struct{ Alert Alert }

func (e *AlertError) Error() string { return "tls: received alert " + e.Alert.String() }
