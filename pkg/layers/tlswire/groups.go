package tlswire

import "fmt"

// Group is a named group from the supported_groups extension (called
// elliptic_curves before RFC 7919 added finite-field groups).
type Group uint16

// The groups netdiag's client can compute with, and the finite-field
// groups it recognises in DHE parameters.
const (
	GroupP256      Group = 23
	GroupP384      Group = 24
	GroupP521      Group = 25
	GroupX25519    Group = 29
	GroupX448      Group = 30
	GroupFFDHE2048 Group = 256
	GroupFFDHE3072 Group = 257
	GroupFFDHE4096 Group = 258
	GroupFFDHE6144 Group = 259
	GroupFFDHE8192 Group = 260
)

// groupNames is the IANA "TLS Supported Groups" registry (with the
// hybrid post-quantum groups browsers now send).
var groupNames = map[Group]string{
	1:      "sect163k1",
	2:      "sect163r1",
	3:      "sect163r2",
	4:      "sect193r1",
	5:      "sect193r2",
	6:      "sect233k1",
	7:      "sect233r1",
	8:      "sect239k1",
	9:      "sect283k1",
	10:     "sect283r1",
	11:     "sect409k1",
	12:     "sect409r1",
	13:     "sect571k1",
	14:     "sect571r1",
	15:     "secp160k1",
	16:     "secp160r1",
	17:     "secp160r2",
	18:     "secp192k1",
	19:     "secp192r1",
	20:     "secp224k1",
	21:     "secp224r1",
	22:     "secp256k1",
	23:     "secp256r1",
	24:     "secp384r1",
	25:     "secp521r1",
	26:     "brainpoolP256r1",
	27:     "brainpoolP384r1",
	28:     "brainpoolP512r1",
	29:     "x25519",
	30:     "x448",
	31:     "brainpoolP256r1tls13",
	32:     "brainpoolP384r1tls13",
	33:     "brainpoolP512r1tls13",
	34:     "GC256A",
	35:     "GC256B",
	36:     "GC256C",
	37:     "GC256D",
	38:     "GC512A",
	39:     "GC512B",
	40:     "GC512C",
	41:     "curveSM2",
	256:    "ffdhe2048",
	257:    "ffdhe3072",
	258:    "ffdhe4096",
	259:    "ffdhe6144",
	260:    "ffdhe8192",
	512:    "MLKEM512",
	513:    "MLKEM768",
	514:    "MLKEM1024",
	4587:   "SecP256r1MLKEM768",
	4588:   "X25519MLKEM768",
	4589:   "SecP384r1MLKEM1024",
	0xFF01: "arbitrary_explicit_prime_curves",
	0xFF02: "arbitrary_explicit_char2_curves",
}

// String returns the registry name ("x25519") or "group(N)".
func (g Group) String() string {
	if n, ok := groupNames[g]; ok {
		return n
	}
	if IsGREASE(uint16(g)) {
		return fmt.Sprintf("GREASE 0x%04X", uint16(g))
	}
	return fmt.Sprintf("group(%d)", uint16(g))
}

// MarshalText writes the group's name, for JSON.
func (g Group) MarshalText() ([]byte, error) { return []byte(g.String()), nil }

// Curve types of ServerKeyExchange's ECParameters (RFC 8422 section 5.4).
const CurveTypeNamed uint8 = 3
