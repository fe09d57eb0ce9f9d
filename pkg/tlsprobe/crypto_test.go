package tlsprobe

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/big"
	"testing"

	"github.com/netdiag/netdiag/pkg/layers/tlswire"
)

// TestProtectionRoundTrip seals and opens records with every kind of
// record protection, and checks that any change is caught.
func TestProtectionRoundTrip(t *testing.T) {
	for _, id := range []tlswire.CipherSuite{0xC02F, 0xC030, 0xCCA8, 0xC013, 0xC027, 0xC028} {
		s := suiteByID(id)
		key := bytes.Repeat([]byte{1}, s.keyLen)
		iv := bytes.Repeat([]byte{2}, s.ivLen)
		mac := bytes.Repeat([]byte{3}, s.macLen)
		for _, n := range []int{0, 1, 15, 16, 17, 1000} {
			w, _ := newProtection(s, key, iv, mac)
			r, _ := newProtection(s, key, iv, mac)
			msg := bytes.Repeat([]byte{'x'}, n)
			body, err := w.seal(tlswire.ContentApplicationData, tlswire.VersionTLS12, msg)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.open(tlswire.ContentApplicationData, tlswire.VersionTLS12, body)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("%v, %d bytes: %v", id, n, err)
			}
			// The sequence numbers moved on together: a replay fails.
			if _, err := r.open(tlswire.ContentApplicationData, tlswire.VersionTLS12, body); !errors.Is(err, errBadRecordMAC) {
				t.Errorf("%v: replayed record accepted", id)
			}
			for i := range body {
				r2, _ := newProtection(s, key, iv, mac)
				bad := bytes.Clone(body)
				bad[i] ^= 0x80
				if _, err := r2.open(tlswire.ContentApplicationData, tlswire.VersionTLS12, bad); !errors.Is(err, errBadRecordMAC) {
					t.Fatalf("%v, %d bytes: flipping byte %d went unnoticed", id, n, i)
				}
			}
		}
	}
}

// TestDHE runs the client side of DHE against a server side computed
// here, and checks the parameter validation.
func TestDHE(t *testing.T) {
	p, err := rand.Prime(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	g := big.NewInt(2)
	y, _ := rand.Int(rand.Reader, p)
	ys := new(big.Int).Exp(g, y, p)
	ske := &tlswire.ServerKeyExchange{KX: tlswire.KXDHE, P: p.Bytes(), G: g.Bytes(), PublicKey: ys.Bytes()}
	kx, err := dheExchange(ske, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	z := new(big.Int).Exp(new(big.Int).SetBytes(kx.public), y, p)
	if !bytes.Equal(z.Bytes(), kx.preMaster) {
		t.Fatal("client and server disagree on the DH secret")
	}
	pm1 := new(big.Int).Sub(p, big.NewInt(1))
	small, _ := rand.Prime(rand.Reader, 256)
	for name, bad := range map[string]*tlswire.ServerKeyExchange{
		"256-bit prime":  {P: small.Bytes(), G: g.Bytes(), PublicKey: []byte{5}},
		"even modulus":   {P: new(big.Int).Lsh(p, 1).Bytes(), G: g.Bytes(), PublicKey: ys.Bytes()},
		"generator 1":    {P: p.Bytes(), G: []byte{1}, PublicKey: ys.Bytes()},
		"public 1":       {P: p.Bytes(), G: g.Bytes(), PublicKey: []byte{1}},
		"public p-1":     {P: p.Bytes(), G: g.Bytes(), PublicKey: pm1.Bytes()},
		"public above p": {P: p.Bytes(), G: g.Bytes(), PublicKey: new(big.Int).Add(p, big.NewInt(5)).Bytes()},
	} {
		if _, err := dheExchange(bad, rand.Reader); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

// TestPRF checks the TLS 1.2 PRF against the SHA-256 test vector
// published on the IETF TLS list (and used by many implementations).
func TestPRF(t *testing.T) {
	secret := unhex(t, "9bbe436ba940f017b17652849a71db35")
	seed := unhex(t, "a0ba9f936cda311827a6f796ffd5198c")
	want := unhex(t, "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa0"+
		"22f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66")
	got := prf12(sha256New, secret, []byte("test label"), seed, len(want))
	if !bytes.Equal(got, want) {
		t.Errorf("PRF output\n%x\nwant\n%x", got, want)
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var sha256New = sha256.New
