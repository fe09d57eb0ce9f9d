package tlswire

import (
	"strings"
	"testing"
)

func TestSuiteTable(t *testing.T) {
	ids := map[CipherSuite]bool{}
	names := map[string]bool{}
	registered := 0
	for _, s := range suiteTable {
		if ids[s.ID] || names[s.Name] {
			t.Errorf("duplicate %04x %s", uint16(s.ID), s.Name)
		}
		ids[s.ID], names[s.Name] = true, true
		if s.Registered {
			registered++
			if !strings.HasPrefix(s.Name, "TLS_") {
				t.Errorf("%s: registry names start with TLS_", s.Name)
			}
		}
		if !s.Signaling && (s.Cipher == "" || s.MAC == "") {
			t.Errorf("%s: cipher %q MAC %q", s.Name, s.Cipher, s.MAC)
		}
		if s.TLS13() != (s.MinVersion == VersionTLS13) {
			t.Errorf("%s: TLS13 %v but MinVersion %v", s.Name, s.TLS13(), s.MinVersion)
		}
		// The name spells the key exchange and authentication.
		if !s.TLS13() && !s.Signaling && !strings.Contains(s.Name, "_WITH_") {
			t.Errorf("%s: no _WITH_", s.Name)
		}
		if strings.Contains(s.Name, "EXPORT") != s.Export {
			t.Errorf("%s: Export %v", s.Name, s.Export)
		}
		if (s.MAC == "AEAD") != (strings.Contains(s.Name, "GCM") || strings.Contains(s.Name, "CCM") ||
			strings.Contains(s.Name, "POLY1305") || strings.Contains(s.Name, "MGM") || strings.Contains(s.Name, "AEGIS")) {
			t.Errorf("%s: MAC %q", s.Name, s.MAC)
		}
	}
	// The IANA registry assigns 352 values (suites and the two signalling
	// values) as of 2025.
	if registered != 352 {
		t.Errorf("%d registered values, want 352", registered)
	}
	if n := len(Suites()); n != len(suiteTable)-2 {
		t.Errorf("Suites() has %d entries, want all but the 2 signalling values", n)
	}
}

func TestSuiteLookups(t *testing.T) {
	tests := []struct {
		id   CipherSuite
		name string
		kx   KeyExchange
		auth Authentication
		ciph string
		mac  string
		min  Version
		fs   bool
	}{
		{0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", KXECDHE, AuthRSA, "AES_128_GCM", "AEAD", VersionTLS12, true},
		{0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", KXRSA, AuthRSA, "AES_128_CBC", "SHA", VersionTLS10, false},
		{0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5", KXRSA, AuthRSA, "RC4_40", "MD5", VersionSSL30, false},
		{0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", KXDHE, AuthRSA, "AES_256_CBC", "SHA", VersionTLS10, true},
		{0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", KXECDHE, AuthRSA, "AES_256_CBC", "SHA384", VersionTLS12, true},
		{0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", KXECDHE, AuthECDSA, "CHACHA20_POLY1305", "AEAD", VersionTLS12, true},
		{0x1301, "TLS_AES_128_GCM_SHA256", KXAny, AuthAny, "AES_128_GCM", "AEAD", VersionTLS13, true},
		{0x0018, "TLS_DH_anon_WITH_RC4_128_MD5", KXDHE, AuthAnon, "RC4_128", "MD5", VersionSSL30, true},
		{0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", KXRSA, AuthRSA, "3DES_EDE_CBC", "SHA", VersionSSL30, false},
	}
	for _, tt := range tests {
		s := tt.id.Info()
		if s == nil {
			t.Errorf("%04x missing", uint16(tt.id))
			continue
		}
		if s.Name != tt.name || s.KX != tt.kx || s.Auth != tt.auth || s.Cipher != tt.ciph || s.MAC != tt.mac ||
			s.MinVersion != tt.min || s.KX.ForwardSecret() != tt.fs {
			t.Errorf("%04x: %+v", uint16(tt.id), *s)
		}
		if byName, ok := SuiteByName(tt.name); !ok || byName.ID != tt.id {
			t.Errorf("SuiteByName(%s)", tt.name)
		}
		if tt.id.String() != tt.name {
			t.Errorf("String() = %s", tt.id.String())
		}
	}
	if s, ok := SuiteByName("0xc02f"); !ok || s.ID != 0xC02F {
		t.Error("SuiteByName hex")
	}
	if CipherSuite(0x1A1A).String() != "GREASE 0x1A1A" || CipherSuite(0x0070).String() != "0x0070" {
		t.Error("unknown suite names")
	}
	if !TLS_EMPTY_RENEGOTIATION_INFO_SCSV.Info().Signaling || !TLS_FALLBACK_SCSV.Info().Signaling {
		t.Error("signalling values")
	}
}

func TestRegistryNames(t *testing.T) {
	checks := map[string]string{
		GroupX25519.String():             "x25519",
		GroupP256.String():               "secp256r1",
		GroupFFDHE2048.String():          "ffdhe2048",
		Group(4588).String():             "X25519MLKEM768",
		Group(0x2A2A).String():           "GREASE 0x2A2A",
		PSSRSAEWithSHA256.String():       "rsa_pss_rsae_sha256",
		SignatureScheme(0x0402).String(): "dsa_sha256",
		SignatureScheme(0x0303).String(): "ecdsa_sha224",
		ExtALPN.String():                 "application_layer_protocol_negotiation",
		ExtRenegotiationInfo.String():    "renegotiation_info",
		ExtensionType(0x4A4A).String():   "GREASE 0x4A4A",
		ExtensionType(9999).String():     "extension(9999)",
		TypeServerHelloDone.String():     "ServerHelloDone",
		HandshakeType(99).String():       "handshake(99)",
		ContentHandshake.String():        "handshake",
		ContentType(99).String():         "content_type(99)",
	}
	for got, want := range checks {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
