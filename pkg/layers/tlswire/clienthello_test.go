package tlswire

import (
	"errors"
	"reflect"
	"testing"
)

func fullHello() *ClientHello {
	return &ClientHello{
		Version:              VersionTLS12,
		Random:               [32]byte{1, 2, 3},
		SessionID:            []byte{9, 9},
		CipherSuites:         []CipherSuite{0xC02F, 0x009C, TLS_EMPTY_RENEGOTIATION_INFO_SCSV},
		CompressionMethods:   []uint8{0},
		ServerName:           "example.test",
		StatusRequest:        true,
		SupportedGroups:      []Group{GroupX25519, GroupP256},
		ECPointFormats:       []uint8{0},
		SignatureAlgorithms:  []SignatureScheme{PSSRSAEWithSHA256, ECDSAWithP256},
		ALPN:                 []string{"h2", "http/1.1"},
		ExtendedMasterSecret: true,
		TicketSupported:      true,
		SessionTicket:        []byte("ticket"),
		SupportedVersions:    []Version{VersionTLS13, VersionTLS12},
		KeyShares:            []KeyShare{{GroupX25519, make([]byte, 32)}},
		PSKModes:             []uint8{PSKModeDHEKE},
		SecureRenegotiation:  true,
		Other:                []Extension{{Type: 0x4A4A, Data: []byte{0}}},
		Padded:               true,
		PaddingLen:           17,
	}
}

func TestClientHelloMarshalParse(t *testing.T) {
	in := fullHello()
	b, err := in.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	out, err := ParseClientHello(b)
	if err != nil {
		t.Fatal(err)
	}
	if last := out.Order[len(out.Order)-1]; last != ExtPadding {
		t.Errorf("last extension %v, want padding", last)
	}
	out.Order = nil
	if !reflect.DeepEqual(normalize(*in), normalize(*out)) {
		t.Errorf("round trip:\n%+v\n%+v", in, out)
	}
}

// An SSL 3.0 hello carries no extensions block at all.
func TestClientHelloWithoutExtensions(t *testing.T) {
	in := &ClientHello{Version: VersionSSL30, CipherSuites: []CipherSuite{0x000A}, CompressionMethods: []uint8{0}}
	b, err := in.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if want := 4 + 2 + 32 + 1 + 4 + 2; len(b) != want {
		t.Errorf("%d bytes, want %d", len(b), want)
	}
	out, err := ParseClientHello(b)
	if err != nil || out.Order != nil {
		t.Fatalf("%+v, %v", out, err)
	}
}

// Some servers fail on a hello whose last extension is empty; Marshal
// never ends with one when a non-empty extension exists.
func TestClientHelloLastExtensionNotEmpty(t *testing.T) {
	in := &ClientHello{
		Version: VersionTLS12, CipherSuites: []CipherSuite{0xC02F}, CompressionMethods: []uint8{0},
		ServerName: "a.test", ExtendedMasterSecret: true, TicketSupported: true,
		Other: []Extension{{Type: ExtSCT}},
	}
	b, err := in.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	out, err := ParseClientHello(b)
	if err != nil {
		t.Fatal(err)
	}
	if last := out.Order[len(out.Order)-1]; last != ExtServerName {
		t.Errorf("order %v: want the non-empty server_name moved last", out.Order)
	}
}

func TestClientHelloMalformed(t *testing.T) {
	good, err := fullHello().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// Every truncation of a valid hello (with a fixed-up header) fails
	// cleanly, except the one that cuts off exactly the optional
	// extensions block.
	noExt := 4 + 2 + 32 + 1 + 2 + 2 + 6 + 1 + 1
	for n := 4; n < len(good); n++ {
		b := append([]byte(nil), good[:n]...)
		l := n - 4
		b[1], b[2], b[3] = byte(l>>16), byte(l>>8), byte(l)
		if m, err := ParseClientHello(b); err == nil {
			if n != noExt || m.Order != nil {
				t.Fatalf("truncated to %d bytes: parsed", n)
			}
		} else if !errors.Is(err, ErrMalformed) {
			t.Fatalf("truncated to %d bytes: %v", n, err)
		}
	}
	dup := &ClientHello{Version: VersionTLS12, CipherSuites: []CipherSuite{1}, CompressionMethods: []uint8{0},
		Other: []Extension{{Type: 99, Data: []byte{1}}, {Type: 99, Data: []byte{2}}}}
	b, _ := dup.Marshal()
	if _, err := ParseClientHello(b); !errors.Is(err, ErrMalformed) {
		t.Errorf("duplicate extension: %v", err)
	}
}

func TestServerHelloMarshalParse(t *testing.T) {
	in := &ServerHello{
		Version: VersionTLS12, Random: [32]byte{5}, SessionID: []byte{1, 2, 3}, CipherSuite: 0xC030,
		ServerNameAck: true, OCSPStapling: true, ECPointFormats: []uint8{0}, ALPN: "h2",
		ExtendedMasterSecret: true, TicketSupported: true, SecureRenegotiation: true,
		EncryptThenMAC: true, Other: []Extension{{Type: 0xABCD, Data: []byte{1}}},
	}
	copy(in.Random[24:], "DOWNGRD\x01")
	b, err := in.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	out, err := ParseServerHello(b)
	if err != nil {
		t.Fatal(err)
	}
	if !out.DowngradeSentinel() {
		t.Error("downgrade sentinel not seen")
	}
	out.Order = nil
	if !reflect.DeepEqual(normalize(*in), normalize(*out)) {
		t.Errorf("round trip:\n%+v\n%+v", in, out)
	}
}

func TestServerKeyExchangeMarshal(t *testing.T) {
	ske := &ServerKeyExchange{KX: KXECDHE, Group: GroupP256, PublicKey: []byte{4, 1, 2}, Signed: true,
		Algorithm: ECDSAWithP256, Signature: []byte{0x30, 0}}
	b, err := ske.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseServerKeyExchange(b, Context{Version: VersionTLS12, Suite: 0xC02B})
	if err != nil {
		t.Fatal(err)
	}
	if got.Group != GroupP256 || got.Algorithm != ECDSAWithP256 || string(got.Params) != "\x03\x00\x17\x03\x04\x01\x02" {
		t.Errorf("%+v", got)
	}
	// Before TLS 1.2 the signature has no algorithm field.
	ske.Algorithm = 0
	ske.Params = nil
	b, _ = ske.Marshal()
	got, err = ParseServerKeyExchange(b, Context{Version: VersionTLS10, Suite: 0xC009})
	if err != nil || got.Algorithm != 0 || string(got.Signature) != "\x30\x00" {
		t.Errorf("TLS 1.0 form: %+v, %v", got, err)
	}
	// Anonymous DH: no signature at all.
	anon := &ServerKeyExchange{KX: KXDHE, P: []byte{23}, G: []byte{5}, PublicKey: []byte{8}}
	b, _ = anon.Marshal()
	got, err = ParseServerKeyExchange(b, Context{Version: VersionTLS12, Suite: 0x0034})
	if err != nil || got.Signed || string(got.P) != "\x17" {
		t.Errorf("anon DH: %+v, %v", got, err)
	}
}
