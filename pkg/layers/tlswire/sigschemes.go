package tlswire

import "fmt"

// SignatureScheme is a TLS 1.3 SignatureScheme, which is also, byte for
// byte, TLS 1.2's SignatureAndHashAlgorithm pair (hash in the high byte,
// signature in the low byte) for the pairs that TLS 1.2 defines.
type SignatureScheme uint16

// The schemes tlsprobe can verify in a ServerKeyExchange.
const (
	PKCS1WithSHA1     SignatureScheme = 0x0201
	PKCS1WithSHA256   SignatureScheme = 0x0401
	PKCS1WithSHA384   SignatureScheme = 0x0501
	PKCS1WithSHA512   SignatureScheme = 0x0601
	ECDSAWithSHA1     SignatureScheme = 0x0203
	ECDSAWithP256     SignatureScheme = 0x0403
	ECDSAWithP384     SignatureScheme = 0x0503
	ECDSAWithP521     SignatureScheme = 0x0603
	PSSRSAEWithSHA256 SignatureScheme = 0x0804
	PSSRSAEWithSHA384 SignatureScheme = 0x0805
	PSSRSAEWithSHA512 SignatureScheme = 0x0806
	Ed25519           SignatureScheme = 0x0807
	Ed448             SignatureScheme = 0x0808
	PSSPSSWithSHA256  SignatureScheme = 0x0809
	PSSPSSWithSHA384  SignatureScheme = 0x080A
	PSSPSSWithSHA512  SignatureScheme = 0x080B
)

// schemeNames is the IANA "TLS SignatureScheme" registry.
var schemeNames = map[SignatureScheme]string{
	0x0201: "rsa_pkcs1_sha1",
	0x0203: "ecdsa_sha1",
	0x0401: "rsa_pkcs1_sha256",
	0x0403: "ecdsa_secp256r1_sha256",
	0x0420: "rsa_pkcs1_sha256_legacy",
	0x0501: "rsa_pkcs1_sha384",
	0x0503: "ecdsa_secp384r1_sha384",
	0x0520: "rsa_pkcs1_sha384_legacy",
	0x0601: "rsa_pkcs1_sha512",
	0x0603: "ecdsa_secp521r1_sha512",
	0x0620: "rsa_pkcs1_sha512_legacy",
	0x0704: "eccsi_sha256",
	0x0705: "iso_ibs1",
	0x0706: "iso_ibs2",
	0x0707: "iso_chinese_ibs",
	0x0708: "sm2sig_sm3",
	0x0709: "gostr34102012_256a",
	0x070A: "gostr34102012_256b",
	0x070B: "gostr34102012_256c",
	0x070C: "gostr34102012_256d",
	0x070D: "gostr34102012_512a",
	0x070E: "gostr34102012_512b",
	0x070F: "gostr34102012_512c",
	0x0804: "rsa_pss_rsae_sha256",
	0x0805: "rsa_pss_rsae_sha384",
	0x0806: "rsa_pss_rsae_sha512",
	0x0807: "ed25519",
	0x0808: "ed448",
	0x0809: "rsa_pss_pss_sha256",
	0x080A: "rsa_pss_pss_sha384",
	0x080B: "rsa_pss_pss_sha512",
	0x081A: "ecdsa_brainpoolP256r1tls13_sha256",
	0x081B: "ecdsa_brainpoolP384r1tls13_sha384",
	0x081C: "ecdsa_brainpoolP512r1tls13_sha512",
	0x0904: "mldsa44",
	0x0905: "mldsa65",
	0x0906: "mldsa87",
}

// TLS 1.2 hash and signature codes (RFC 5246 section 7.4.1.4.1), used to
// name pairs that never became TLS 1.3 schemes ("dsa_sha256").
var (
	legacyHashes = [...]string{"none", "md5", "sha1", "sha224", "sha256", "sha384", "sha512"}
	legacySigs   = [...]string{"anonymous", "rsa", "dsa", "ecdsa"}
)

// String returns the registry name, a TLS 1.2 pair name such as
// "dsa_sha256", or the value in hex.
func (s SignatureScheme) String() string {
	if n, ok := schemeNames[s]; ok {
		return n
	}
	h, sig := int(s>>8), int(s&0xFF)
	if h < len(legacyHashes) && sig < len(legacySigs) {
		return legacySigs[sig] + "_" + legacyHashes[h]
	}
	if IsGREASE(uint16(s)) {
		return fmt.Sprintf("GREASE 0x%04X", uint16(s))
	}
	return fmt.Sprintf("0x%04X", uint16(s))
}

// MarshalText writes the scheme's name, for JSON.
func (s SignatureScheme) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
