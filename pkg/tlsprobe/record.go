package tlsprobe

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"

	"github.com/netdiag/netdiag/pkg/layers/tlswire"
)

// errBadRecordMAC is a record that fails authentication: a wrong key, a
// corrupted record, or a server that computed its keys differently.
var errBadRecordMAC = errors.New("record failed authentication (bad_record_mac)")

// protection is one direction's record protection after ChangeCipherSpec
// (RFC 5246 section 6.2.3): an AEAD with a fixed IV, or AES-CBC with an
// explicit IV and HMAC (MAC-then-encrypt).
type protection struct {
	seq uint64

	aead    cipher.AEAD
	fixedIV []byte // GCM: 4-byte salt; ChaCha20-Poly1305: 12-byte IV
	chacha  bool   // nonce is fixedIV XOR seq, with no explicit part

	block cipher.Block // CBC
	mac   hash.Hash
}

func newProtection(s *suite, key, iv, macKey []byte) (*protection, error) {
	p := &protection{}
	if s.aead != nil {
		a, err := s.aead(key)
		if err != nil {
			return nil, err
		}
		p.aead, p.fixedIV, p.chacha = a, iv, len(iv) == 12
		return p, nil
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	p.block, p.mac = b, s.hmacFor(macKey)
	return p, nil
}

// additionalData is the MAC and AEAD header: seq_num, type, version and
// the plaintext length.
func (p *protection) additionalData(t tlswire.ContentType, v tlswire.Version, n int) []byte {
	var ad [13]byte
	binary.BigEndian.PutUint64(ad[:8], p.seq)
	ad[8] = byte(t)
	binary.BigEndian.PutUint16(ad[9:], uint16(v))
	binary.BigEndian.PutUint16(ad[11:], uint16(n))
	return ad[:]
}

func (p *protection) nonce() []byte {
	if p.chacha {
		n := append([]byte(nil), p.fixedIV...)
		var s [8]byte
		binary.BigEndian.PutUint64(s[:], p.seq)
		for i := range s {
			n[4+i] ^= s[i]
		}
		return n
	}
	n := make([]byte, 12)
	copy(n, p.fixedIV)
	binary.BigEndian.PutUint64(n[4:], p.seq)
	return n
}

// seal protects one record's plaintext and returns the record body.
func (p *protection) seal(t tlswire.ContentType, v tlswire.Version, plaintext []byte) ([]byte, error) {
	defer func() { p.seq++ }()
	ad := p.additionalData(t, v, len(plaintext))
	if p.aead != nil {
		nonce := p.nonce()
		var out []byte
		if !p.chacha {
			out = append(out, nonce[4:]...) // the explicit part: the sequence number
		}
		return p.aead.Seal(out, nonce, plaintext, ad), nil
	}
	p.mac.Reset()
	p.mac.Write(ad)
	p.mac.Write(plaintext)
	data := p.mac.Sum(append([]byte(nil), plaintext...))
	padLen := aes.BlockSize - 1 - len(data)%aes.BlockSize
	for i := 0; i <= padLen; i++ {
		data = append(data, byte(padLen))
	}
	out := make([]byte, aes.BlockSize+len(data))
	if _, err := rand.Read(out[:aes.BlockSize]); err != nil {
		return nil, err
	}
	cipher.NewCBCEncrypter(p.block, out[:aes.BlockSize]).CryptBlocks(out[aes.BlockSize:], data)
	return out, nil
}

// open authenticates and decrypts one record body.
func (p *protection) open(t tlswire.ContentType, v tlswire.Version, body []byte) ([]byte, error) {
	defer func() { p.seq++ }()
	if p.aead != nil {
		nonce := p.nonce()
		if !p.chacha {
			if len(body) < 8 {
				return nil, errBadRecordMAC
			}
			copy(nonce[4:], body[:8])
			body = body[8:]
		}
		if len(body) < p.aead.Overhead() {
			return nil, errBadRecordMAC
		}
		ad := p.additionalData(t, v, len(body)-p.aead.Overhead())
		out, err := p.aead.Open(nil, nonce, body, ad)
		if err != nil {
			return nil, errBadRecordMAC
		}
		return out, nil
	}
	macLen := p.mac.Size()
	if len(body) < 2*aes.BlockSize || len(body)%aes.BlockSize != 0 || len(body)-aes.BlockSize < macLen+1 {
		return nil, errBadRecordMAC
	}
	data := make([]byte, len(body)-aes.BlockSize)
	cipher.NewCBCDecrypter(p.block, body[:aes.BlockSize]).CryptBlocks(data, body[aes.BlockSize:])
	padLen := int(data[len(data)-1])
	if padLen+1+macLen > len(data) {
		return nil, errBadRecordMAC
	}
	good := byte(0)
	for _, b := range data[len(data)-1-padLen:] {
		good |= b ^ byte(padLen)
	}
	data = data[:len(data)-1-padLen]
	plain, tag := data[:len(data)-macLen], data[len(data)-macLen:]
	p.mac.Reset()
	p.mac.Write(p.additionalData(t, v, len(plain)))
	p.mac.Write(plain)
	if !hmac.Equal(p.mac.Sum(nil), tag) || good != 0 {
		return nil, errBadRecordMAC
	}
	return plain, nil
}

// errRecordTooLong is a decrypted record above 2^14 bytes.
var errRecordTooLong = fmt.Errorf("decrypted record longer than %d bytes (record_overflow)", tlswire.MaxPlaintext)
