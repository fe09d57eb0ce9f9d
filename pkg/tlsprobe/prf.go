package tlsprobe

import (
	"crypto/hmac"
	"hash"
)

// TLS 1.2 key derivation (RFC 5246 section 5 and 8.1, RFC 7627).

const (
	masterSecretLen = 48
	finishedLen     = 12
)

var (
	labelMaster         = []byte("master secret")
	labelExtendedMaster = []byte("extended master secret")
	labelKeyExpansion   = []byte("key expansion")
	labelClientFinished = []byte("client finished")
	labelServerFinished = []byte("server finished")
)

// pHash fills out with P_hash(secret, seed) (RFC 5246 section 5).
func pHash(newHash func() hash.Hash, out, secret, seed []byte) {
	mac := hmac.New(newHash, secret)
	mac.Write(seed)
	a := mac.Sum(nil) // A(1)
	for n := 0; n < len(out); {
		mac.Reset()
		mac.Write(a)
		mac.Write(seed)
		n += copy(out[n:], mac.Sum(nil))
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(a[:0])
	}
}

// prf12 is the TLS 1.2 PRF with the suite's hash.
func prf12(newHash func() hash.Hash, secret, label, seed []byte, n int) []byte {
	out := make([]byte, n)
	ls := make([]byte, 0, len(label)+len(seed))
	ls = append(append(ls, label...), seed...)
	pHash(newHash, out, secret, ls)
	return out
}

// masterSecret derives the master secret. With the extended master secret
// (RFC 7627) the seed is the hash of the handshake up to and including
// ClientKeyExchange, which binds the secret to this very handshake.
func masterSecret(newHash func() hash.Hash, preMaster, clientRandom, serverRandom, sessionHash []byte, extended bool) []byte {
	if extended {
		return prf12(newHash, preMaster, labelExtendedMaster, sessionHash, masterSecretLen)
	}
	seed := append(append([]byte{}, clientRandom...), serverRandom...)
	return prf12(newHash, preMaster, labelMaster, seed, masterSecretLen)
}

// keyBlock derives the connection keys: the MAC keys, the cipher keys and
// the fixed IVs, client's first (RFC 5246 section 6.3).
func keyBlock(newHash func() hash.Hash, master, clientRandom, serverRandom []byte, macLen, keyLen, ivLen int) (cMAC, sMAC, cKey, sKey, cIV, sIV []byte) {
	seed := append(append([]byte{}, serverRandom...), clientRandom...)
	kb := prf12(newHash, master, labelKeyExpansion, seed, 2*(macLen+keyLen+ivLen))
	cMAC, kb = kb[:macLen], kb[macLen:]
	sMAC, kb = kb[:macLen], kb[macLen:]
	cKey, kb = kb[:keyLen], kb[keyLen:]
	sKey, kb = kb[:keyLen], kb[keyLen:]
	cIV, kb = kb[:ivLen], kb[ivLen:]
	sIV = kb[:ivLen]
	return
}

// finishedData computes verify_data over the transcript hash.
func finishedData(newHash func() hash.Hash, master []byte, client bool, transcriptHash []byte) []byte {
	label := labelServerFinished
	if client {
		label = labelClientFinished
	}
	return prf12(newHash, master, label, transcriptHash, finishedLen)
}
