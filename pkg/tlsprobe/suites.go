package tlsprobe

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"hash"

	"github.com/netdiag/netdiag/pkg/layers/tlswire"
	"golang.org/x/crypto/chacha20poly1305"
)

// suite is a cipher suite this client can complete a handshake with.
type suite struct {
	id   tlswire.CipherSuite
	kx   tlswire.KeyExchange    // KXECDHE, KXDHE or KXRSA
	auth tlswire.Authentication // AuthRSA or AuthECDSA
	// keyLen is the cipher key size; ivLen the fixed IV taken from the key
	// block (4 for GCM, 12 for ChaCha20-Poly1305, 0 for CBC, whose IV is
	// explicit and random); macLen the HMAC key and tag size (CBC only).
	keyLen, ivLen, macLen int
	aead                  func(key []byte) (cipher.AEAD, error)
	mac                   func() hash.Hash // CBC suites' record MAC
	prf                   func() hash.Hash // PRF and transcript hash
}

func aesGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func chacha(key []byte) (cipher.AEAD, error) { return chacha20poly1305.New(key) }

// implemented lists the suites in the order this client prefers them:
// forward secret AEAD first, then forward secret CBC, then static RSA.
var implemented = []suite{
	{id: 0xC02B, kx: tlswire.KXECDHE, auth: tlswire.AuthECDSA, keyLen: 16, ivLen: 4, aead: aesGCM, prf: sha256.New},
	{id: 0xC02F, kx: tlswire.KXECDHE, auth: tlswire.AuthRSA, keyLen: 16, ivLen: 4, aead: aesGCM, prf: sha256.New},
	{id: 0xC02C, kx: tlswire.KXECDHE, auth: tlswire.AuthECDSA, keyLen: 32, ivLen: 4, aead: aesGCM, prf: sha512.New384},
	{id: 0xC030, kx: tlswire.KXECDHE, auth: tlswire.AuthRSA, keyLen: 32, ivLen: 4, aead: aesGCM, prf: sha512.New384},
	{id: 0xCCA9, kx: tlswire.KXECDHE, auth: tlswire.AuthECDSA, keyLen: 32, ivLen: 12, aead: chacha, prf: sha256.New},
	{id: 0xCCA8, kx: tlswire.KXECDHE, auth: tlswire.AuthRSA, keyLen: 32, ivLen: 12, aead: chacha, prf: sha256.New},
	{id: 0x009E, kx: tlswire.KXDHE, auth: tlswire.AuthRSA, keyLen: 16, ivLen: 4, aead: aesGCM, prf: sha256.New},
	{id: 0x009F, kx: tlswire.KXDHE, auth: tlswire.AuthRSA, keyLen: 32, ivLen: 4, aead: aesGCM, prf: sha512.New384},
	{id: 0xCCAA, kx: tlswire.KXDHE, auth: tlswire.AuthRSA, keyLen: 32, ivLen: 12, aead: chacha, prf: sha256.New},
	{id: 0xC023, kx: tlswire.KXECDHE, auth: tlswire.AuthECDSA, keyLen: 16, macLen: 32, mac: sha256.New, prf: sha256.New},
	{id: 0xC027, kx: tlswire.KXECDHE, auth: tlswire.AuthRSA, keyLen: 16, macLen: 32, mac: sha256.New, prf: sha256.New},
	{id: 0xC024, kx: tlswire.KXECDHE, auth: tlswire.AuthECDSA, keyLen: 32, macLen: 48, mac: sha512.New384, prf: sha512.New384},
	{id: 0xC028, kx: tlswire.KXECDHE, auth: tlswire.AuthRSA, keyLen: 32, macLen: 48, mac: sha512.New384, prf: sha512.New384},
	{id: 0xC009, kx: tlswire.KXECDHE, auth: tlswire.AuthECDSA, keyLen: 16, macLen: 20, mac: sha1.New, prf: sha256.New},
	{id: 0xC013, kx: tlswire.KXECDHE, auth: tlswire.AuthRSA, keyLen: 16, macLen: 20, mac: sha1.New, prf: sha256.New},
	{id: 0xC00A, kx: tlswire.KXECDHE, auth: tlswire.AuthECDSA, keyLen: 32, macLen: 20, mac: sha1.New, prf: sha256.New},
	{id: 0xC014, kx: tlswire.KXECDHE, auth: tlswire.AuthRSA, keyLen: 32, macLen: 20, mac: sha1.New, prf: sha256.New},
	{id: 0x0067, kx: tlswire.KXDHE, auth: tlswire.AuthRSA, keyLen: 16, macLen: 32, mac: sha256.New, prf: sha256.New},
	{id: 0x006B, kx: tlswire.KXDHE, auth: tlswire.AuthRSA, keyLen: 32, macLen: 32, mac: sha256.New, prf: sha256.New},
	{id: 0x0033, kx: tlswire.KXDHE, auth: tlswire.AuthRSA, keyLen: 16, macLen: 20, mac: sha1.New, prf: sha256.New},
	{id: 0x0039, kx: tlswire.KXDHE, auth: tlswire.AuthRSA, keyLen: 32, macLen: 20, mac: sha1.New, prf: sha256.New},
	{id: 0x009C, kx: tlswire.KXRSA, auth: tlswire.AuthRSA, keyLen: 16, ivLen: 4, aead: aesGCM, prf: sha256.New},
	{id: 0x009D, kx: tlswire.KXRSA, auth: tlswire.AuthRSA, keyLen: 32, ivLen: 4, aead: aesGCM, prf: sha512.New384},
	{id: 0x003C, kx: tlswire.KXRSA, auth: tlswire.AuthRSA, keyLen: 16, macLen: 32, mac: sha256.New, prf: sha256.New},
	{id: 0x003D, kx: tlswire.KXRSA, auth: tlswire.AuthRSA, keyLen: 32, macLen: 32, mac: sha256.New, prf: sha256.New},
	{id: 0x002F, kx: tlswire.KXRSA, auth: tlswire.AuthRSA, keyLen: 16, macLen: 20, mac: sha1.New, prf: sha256.New},
	{id: 0x0035, kx: tlswire.KXRSA, auth: tlswire.AuthRSA, keyLen: 32, macLen: 20, mac: sha1.New, prf: sha256.New},
}

// SupportedSuites lists the cipher suites the handshake client implements,
// in its order of preference.
func SupportedSuites() []tlswire.CipherSuite {
	out := make([]tlswire.CipherSuite, len(implemented))
	for i, s := range implemented {
		out[i] = s.id
	}
	return out
}

func suiteByID(id tlswire.CipherSuite) *suite {
	for i := range implemented {
		if implemented[i].id == id {
			return &implemented[i]
		}
	}
	return nil
}

// hmacFor returns a fresh HMAC over the suite's record MAC hash.
func (s *suite) hmacFor(key []byte) hash.Hash { return hmac.New(s.mac, key) }
