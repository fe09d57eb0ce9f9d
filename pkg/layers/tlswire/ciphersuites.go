package tlswire

import (
	"fmt"
	"strconv"
	"strings"
)

// CipherSuite is a cipher suite value as it appears on the wire.
type CipherSuite uint16

// KeyExchange is how a suite agrees on the pre-master secret.
type KeyExchange string

// The key exchange methods of the registry's suites. Ephemeral
// Diffie-Hellman without authentication (DH_anon, ECDH_anon) counts as
// DHE/ECDHE with AuthAnon.
const (
	KXNull     KeyExchange = "NULL"
	KXRSA      KeyExchange = "RSA"
	KXDH       KeyExchange = "DH"
	KXDHE      KeyExchange = "DHE"
	KXECDH     KeyExchange = "ECDH"
	KXECDHE    KeyExchange = "ECDHE"
	KXPSK      KeyExchange = "PSK"
	KXKerberos KeyExchange = "KRB5"
	KXSRP      KeyExchange = "SRP"
	KXECCPWD   KeyExchange = "ECCPWD"
	KXGOST     KeyExchange = "GOST"
	KXFortezza KeyExchange = "FORTEZZA"
	// KXAny marks TLS 1.3 suites, which leave key exchange to extensions.
	KXAny KeyExchange = "any"
	// KXNone marks signalling values, which are not suites.
	KXNone KeyExchange = "none"
)

// ForwardSecret reports whether the key exchange uses ephemeral keys, so
// that a stolen server key does not decrypt recorded sessions.
func (k KeyExchange) ForwardSecret() bool {
	return k == KXDHE || k == KXECDHE || k == KXAny || k == KXECCPWD
}

// Authentication is how a suite authenticates the server.
type Authentication string

// The authentication methods of the registry's suites.
const (
	AuthNull     Authentication = "NULL"
	AuthRSA      Authentication = "RSA"
	AuthDSS      Authentication = "DSS"
	AuthECDSA    Authentication = "ECDSA"
	AuthAnon     Authentication = "anon"
	AuthPSK      Authentication = "PSK"
	AuthKerberos Authentication = "KRB5"
	AuthSRP      Authentication = "SRP"
	AuthECCPWD   Authentication = "ECCPWD"
	AuthGOST     Authentication = "GOST"
	AuthFortezza Authentication = "FORTEZZA"
	AuthAny      Authentication = "any"
	AuthNone     Authentication = "none"
)

// SuiteInfo describes one cipher suite.
type SuiteInfo struct {
	ID   CipherSuite
	Name string // the IANA name, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
	KX   KeyExchange
	Auth Authentication
	// Cipher is the bulk cipher as the name spells it ("AES_128_GCM",
	// "3DES_EDE_CBC", "NULL").
	Cipher string
	// MAC is the record MAC ("SHA", "SHA256", "MD5"), "AEAD" when the
	// cipher authenticates itself, or empty for signalling values.
	MAC string
	// MinVersion is the oldest protocol version the suite is defined for.
	MinVersion Version
	Export     bool // an export-grade suite (40- or 56-bit keys, 512-bit RSA)
	// Signaling marks the two values that are flags, not suites:
	// TLS_EMPTY_RENEGOTIATION_INFO_SCSV and TLS_FALLBACK_SCSV.
	Signaling bool
	// Registered is false for the few widely deployed values that the
	// IANA registry never assigned.
	Registered bool
}

// TLS13 reports whether the suite is a TLS 1.3 suite, usable only there.
func (s *SuiteInfo) TLS13() bool { return s.KX == KXAny }

// Suite values used by name in netdiag.
const (
	TLS_EMPTY_RENEGOTIATION_INFO_SCSV CipherSuite = 0x00FF
	TLS_FALLBACK_SCSV                 CipherSuite = 0x5600
)

var (
	suiteByID   map[CipherSuite]*SuiteInfo
	suiteByName map[string]*SuiteInfo
)

func init() {
	suiteByID = make(map[CipherSuite]*SuiteInfo, len(suiteTable))
	suiteByName = make(map[string]*SuiteInfo, len(suiteTable))
	for i := range suiteTable {
		s := &suiteTable[i]
		suiteByID[s.ID] = s
		suiteByName[s.Name] = s
	}
}

// Info returns the suite's registry entry, or nil for an unknown value.
func (c CipherSuite) Info() *SuiteInfo { return suiteByID[c] }

// String returns the IANA name, or the value in hex when it is unknown.
func (c CipherSuite) String() string {
	if s := suiteByID[c]; s != nil {
		return s.Name
	}
	if IsGREASE(uint16(c)) {
		return fmt.Sprintf("GREASE 0x%04X", uint16(c))
	}
	return fmt.Sprintf("0x%04X", uint16(c))
}

// MarshalText writes the suite's IANA name, for JSON.
func (c CipherSuite) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// SuiteByName looks a suite up by its IANA name; it also accepts a hex
// value such as "0xC02F".
func SuiteByName(name string) (*SuiteInfo, bool) {
	if s, ok := suiteByName[name]; ok {
		return s, true
	}
	if strings.HasPrefix(name, "0x") || strings.HasPrefix(name, "0X") {
		v, err := strconv.ParseUint(name[2:], 16, 16)
		if err == nil {
			s, ok := suiteByID[CipherSuite(v)]
			return s, ok
		}
	}
	return nil, false
}

// Suites returns every suite of the table that can be negotiated (not the
// signalling values), ordered by value. The slice is a fresh copy.
func Suites() []SuiteInfo {
	out := make([]SuiteInfo, 0, len(suiteTable))
	for _, s := range suiteTable {
		if !s.Signaling {
			out = append(out, s)
		}
	}
	return out
}
