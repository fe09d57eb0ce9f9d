package tlswire

import "fmt"

// Version is a protocol version as it appears on the wire (major<<8 | minor).
type Version uint16

// The protocol versions netdiag knows by name.
const (
	VersionSSL30 Version = 0x0300
	VersionTLS10 Version = 0x0301
	VersionTLS11 Version = 0x0302
	VersionTLS12 Version = 0x0303
	VersionTLS13 Version = 0x0304
)

// Versions lists SSL 3.0 to TLS 1.3, oldest first.
func Versions() []Version {
	return []Version{VersionSSL30, VersionTLS10, VersionTLS11, VersionTLS12, VersionTLS13}
}

// String names the version the way people say it ("TLS 1.2"); values that
// are not a version are printed in hex.
func (v Version) String() string {
	switch v {
	case VersionSSL30:
		return "SSL 3.0"
	case VersionTLS10:
		return "TLS 1.0"
	case VersionTLS11:
		return "TLS 1.1"
	case VersionTLS12:
		return "TLS 1.2"
	case VersionTLS13:
		return "TLS 1.3"
	}
	if IsGREASE(uint16(v)) {
		return fmt.Sprintf("GREASE 0x%04X", uint16(v))
	}
	return fmt.Sprintf("0x%04X", uint16(v))
}

// MarshalText writes the version as String does, so that JSON carries
// "TLS 1.2" rather than 771.
func (v Version) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// ParseVersion reads a version name as String writes it, also accepting
// the short forms "1.2", "tls1.2", "TLSv1.2" and "ssl3".
func ParseVersion(s string) (Version, error) {
	switch normalizeVersionName(s) {
	case "ssl3", "ssl3.0":
		return VersionSSL30, nil
	case "tls1", "tls1.0", "1.0":
		return VersionTLS10, nil
	case "tls1.1", "1.1":
		return VersionTLS11, nil
	case "tls1.2", "1.2":
		return VersionTLS12, nil
	case "tls1.3", "1.3":
		return VersionTLS13, nil
	}
	return 0, fmt.Errorf("tlswire: unknown protocol version %q (want one of SSL 3.0, TLS 1.0, TLS 1.1, TLS 1.2, TLS 1.3)", s)
}

func normalizeVersionName(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '_' || c == '-':
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	out := string(b)
	if len(out) > 4 && (out[:4] == "tlsv" || out[:4] == "sslv") {
		out = out[:3] + out[4:]
	}
	return out
}

// IsGREASE reports whether v is one of the reserved GREASE values of
// RFC 8701 (0x0A0A, 0x1A1A, ..., 0xFAFA), which clients sprinkle into lists
// to keep servers tolerant of unknown values.
func IsGREASE(v uint16) bool {
	return v&0x0F0F == 0x0A0A && v>>8 == v&0xFF
}
