package tlswire

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"reflect"
	"sort"
	"testing"
)

// find returns the n-th (0-based) message of type t in msgs.
func find(t *testing.T, msgs []HandshakeMessage, typ HandshakeType, n int) Message {
	t.Helper()
	for _, m := range msgs {
		if m.Type == typ {
			if n == 0 {
				if m.Err != nil {
					t.Fatalf("%v: %v", typ, m.Err)
				}
				return m.Msg
			}
			n--
		}
	}
	t.Fatalf("no %v in transcript", typ)
	return nil
}

func TestCaptureECDHERSA(t *testing.T) {
	msgs := messagesOf(t, "tls12-ecdhe-rsa-gcm")
	ch := find(t, msgs, TypeClientHello, 0).(*ClientHello)
	if ch.ServerName != "localhost" || !ch.StatusRequest || !ch.ExtendedMasterSecret || !ch.TicketSupported {
		t.Errorf("ClientHello extensions: %+v", ch)
	}
	if !reflect.DeepEqual(ch.ALPN, []string{"http/1.1"}) {
		t.Errorf("ALPN %q", ch.ALPN)
	}
	if ch.CipherSuites[0] != 0xC02F || ch.CipherSuites[1] != TLS_EMPTY_RENEGOTIATION_INFO_SCSV {
		t.Errorf("suites %v", ch.CipherSuites)
	}
	sh := find(t, msgs, TypeServerHello, 0).(*ServerHello)
	if sh.CipherSuite != 0xC02F || sh.ALPN != "http/1.1" || !sh.OCSPStapling || !sh.ExtendedMasterSecret ||
		!sh.TicketSupported || !sh.SecureRenegotiation || len(sh.RenegotiationInfo) != 0 {
		t.Errorf("ServerHello: %+v", sh)
	}
	if sh.IsHelloRetryRequest() || sh.NegotiatedVersion() != VersionTLS12 {
		t.Errorf("version %v, HRR %v", sh.NegotiatedVersion(), sh.IsHelloRetryRequest())
	}
	cert := find(t, msgs, TypeCertificate, 0).(*Certificate)
	if len(cert.Certificates) != 2 {
		t.Errorf("%d certificates, want leaf and intermediate", len(cert.Certificates))
	}
	st := find(t, msgs, TypeCertificateStatus, 0).(*CertificateStatus)
	if st.StatusType != StatusTypeOCSP || len(st.Response) < 100 {
		t.Errorf("CertificateStatus type %d, %d bytes", st.StatusType, len(st.Response))
	}
	ske := find(t, msgs, TypeServerKeyExchange, 0).(*ServerKeyExchange)
	if ske.KX != KXECDHE || ske.Group != GroupX25519 || len(ske.PublicKey) != 32 || !ske.Signed ||
		ske.Algorithm != PSSRSAEWithSHA256 || len(ske.Signature) != 256 {
		t.Errorf("ServerKeyExchange: %+v", ske)
	}
	if want := append([]byte{3, 0, 29, 32}, ske.PublicKey...); !bytes.Equal(ske.Params, want) {
		t.Errorf("signed params % x, want % x", ske.Params, want)
	}
	cke := find(t, msgs, TypeClientKeyExchange, 0).(*ClientKeyExchange)
	if cke.KX != KXECDHE || len(cke.Data) != 32 {
		t.Errorf("ClientKeyExchange: %+v", cke)
	}
	nst := find(t, msgs, TypeNewSessionTicket, 0).(*NewSessionTicket)
	if nst.LifetimeHint != 7200 || len(nst.Ticket) == 0 {
		t.Errorf("NewSessionTicket hint %d, %d bytes", nst.LifetimeHint, len(nst.Ticket))
	}
}

func TestCaptureDHE(t *testing.T) {
	msgs := messagesOf(t, "tls12-dhe-rsa")
	ske := find(t, msgs, TypeServerKeyExchange, 0).(*ServerKeyExchange)
	if ske.KX != KXDHE || new(big.Int).SetBytes(ske.P).BitLen() != 2048 || !bytes.Equal(ske.G, []byte{2}) ||
		len(ske.PublicKey) == 0 || !ske.Signed {
		t.Errorf("DHE ServerKeyExchange: KX %v, %d-bit prime, g=% x", ske.KX, new(big.Int).SetBytes(ske.P).BitLen(), ske.G)
	}
	cke := find(t, msgs, TypeClientKeyExchange, 0).(*ClientKeyExchange)
	if cke.KX != KXDHE || len(cke.Data) != 256 {
		t.Errorf("ClientKeyExchange: KX %v, %d bytes", cke.KX, len(cke.Data))
	}
}

func TestCaptureStaticRSA(t *testing.T) {
	msgs := messagesOf(t, "tls12-rsa-cbc")
	for _, m := range msgs {
		if m.Type == TypeServerKeyExchange {
			t.Error("static RSA handshake has a ServerKeyExchange")
		}
	}
	cke := find(t, msgs, TypeClientKeyExchange, 0).(*ClientKeyExchange)
	if cke.KX != KXRSA || len(cke.Data) != 256 {
		t.Errorf("ClientKeyExchange: KX %v, %d bytes, want 256 bytes of encrypted secret", cke.KX, len(cke.Data))
	}
	sh := find(t, msgs, TypeServerHello, 0).(*ServerHello)
	if sh.CipherSuite.String() != "TLS_RSA_WITH_AES_128_CBC_SHA" || !sh.EncryptThenMAC {
		t.Errorf("suite %v, encrypt_then_mac %v", sh.CipherSuite, sh.EncryptThenMAC)
	}
}

func TestCaptureECDSAP384(t *testing.T) {
	msgs := messagesOf(t, "tls12-ecdhe-ecdsa-chacha")
	ske := find(t, msgs, TypeServerKeyExchange, 0).(*ServerKeyExchange)
	if ske.Group != GroupP384 || len(ske.PublicKey) != 97 || ske.PublicKey[0] != 4 || ske.Algorithm != ECDSAWithP256 {
		t.Errorf("ServerKeyExchange: group %v, %d-byte point, %v", ske.Group, len(ske.PublicKey), ske.Algorithm)
	}
}

func TestCaptureCertificateRequest(t *testing.T) {
	msgs := messagesOf(t, "tls12-client-cert-request")
	cr := find(t, msgs, TypeCertificateRequest, 0).(*CertificateRequest)
	if !reflect.DeepEqual(cr.CertificateTypes, []uint8{CertTypeRSASign, CertTypeECDSASign}) {
		t.Errorf("types %v", cr.CertificateTypes)
	}
	if !reflect.DeepEqual(cr.SignatureAlgorithms, []SignatureScheme{PKCS1WithSHA256, ECDSAWithP256}) {
		t.Errorf("algorithms %v", cr.SignatureAlgorithms)
	}
	if len(cr.CertificateAuthorities) != 1 {
		t.Fatalf("%d CA names", len(cr.CertificateAuthorities))
	}
	var rdn pkix.RDNSequence
	if _, err := asn1.Unmarshal(cr.CertificateAuthorities[0], &rdn); err != nil {
		t.Fatal(err)
	}
	var name pkix.Name
	name.FillFromRDNSequence(&rdn)
	if name.CommonName != "netdiag client CA" {
		t.Errorf("CA name %v", name)
	}
	// The client has no certificate and answers with an empty list.
	empty := find(t, msgs, TypeCertificate, 1).(*Certificate)
	if len(empty.Certificates) != 0 {
		t.Errorf("client sent %d certificates", len(empty.Certificates))
	}
}

func TestCaptureResumptionByID(t *testing.T) {
	msgs := messagesOf(t, "tls12-resume-id")
	first := find(t, msgs, TypeServerHello, 0).(*ServerHello)
	second := find(t, msgs, TypeServerHello, 1).(*ServerHello)
	hello2 := find(t, msgs, TypeClientHello, 1).(*ClientHello)
	if len(first.SessionID) != 32 || !bytes.Equal(first.SessionID, hello2.SessionID) || !bytes.Equal(first.SessionID, second.SessionID) {
		t.Errorf("session IDs: first %x, offered %x, second %x", first.SessionID, hello2.SessionID, second.SessionID)
	}
	certs := 0
	for _, m := range msgs {
		if m.Type == TypeCertificate {
			certs++
		}
	}
	if certs != 1 {
		t.Errorf("%d Certificate messages; the abbreviated handshake sends none", certs)
	}
}

func TestCaptureHelloRetryRequest(t *testing.T) {
	msgs := messagesOf(t, "tls13-hrr")
	hrr := find(t, msgs, TypeServerHello, 0).(*ServerHello)
	if !hrr.IsHelloRetryRequest() || hrr.KeyShare.Group != GroupP256 || hrr.NegotiatedVersion() != VersionTLS13 {
		t.Errorf("HelloRetryRequest: HRR %v, group %v, version %v", hrr.IsHelloRetryRequest(), hrr.KeyShare.Group, hrr.NegotiatedVersion())
	}
	ch2 := find(t, msgs, TypeClientHello, 1).(*ClientHello)
	if len(ch2.KeyShares) != 1 || ch2.KeyShares[0].Group != GroupP256 || len(ch2.KeyShares[0].Data) != 65 {
		t.Errorf("second ClientHello key shares %+v", ch2.KeyShares)
	}
	sh := find(t, msgs, TypeServerHello, 1).(*ServerHello)
	if sh.IsHelloRetryRequest() || sh.SupportedVersion != VersionTLS13 || sh.KeyShare.Group != GroupP256 {
		t.Errorf("ServerHello %+v", sh)
	}
	if got := sha256.Sum256([]byte("HelloRetryRequest")); got != helloRetryRandom {
		t.Error("helloRetryRandom is not SHA-256(\"HelloRetryRequest\")")
	}
}

func TestCaptureAlert(t *testing.T) {
	obs := replay(t, loadTranscript(t, "tls12-handshake-failure"))
	var alert *Alert
	for _, o := range obs {
		for _, r := range o.records {
			if r.Alert != nil {
				alert = r.Alert
			}
		}
	}
	if alert == nil || *alert != (Alert{AlertFatal, AlertHandshakeFailure}) {
		t.Errorf("alert %v, want fatal handshake_failure", alert)
	}
}

// TestRoundTrip marshals every message of every capture again. Messages
// without extensions must come back byte for byte; hellos (whose extension
// order Marshal normalises) must parse to the same struct.
func TestRoundTrip(t *testing.T) {
	for _, name := range transcriptNames(t) {
		var ctx Context
		for _, m := range messagesOf(t, name) {
			if m.Err != nil {
				t.Errorf("%s: %v: %v", name, m.Type, m.Err)
				continue
			}
			if sh, ok := m.Msg.(*ServerHello); ok {
				ctx = Context{Version: sh.NegotiatedVersion(), Suite: sh.CipherSuite}
			}
			out, err := m.Msg.Marshal()
			if err != nil {
				t.Errorf("%s: marshal %v: %v", name, m.Type, err)
				continue
			}
			again, err := ParseMessage(out, ctx)
			if err != nil {
				t.Errorf("%s: reparse %v: %v", name, m.Type, err)
				continue
			}
			switch m.Msg.(type) {
			case *ClientHello, *ServerHello:
				if !sameHello(m.Msg, again) {
					t.Errorf("%s: %v differs after round trip:\n%+v\n%+v", name, m.Type, m.Msg, again)
				}
			default:
				if !bytes.Equal(out, m.Raw) {
					t.Errorf("%s: %v marshals to different bytes", name, m.Type)
				}
			}
		}
	}
}

// sameHello compares two hellos ignoring extension order, which Marshal
// normalises.
func sameHello(a, b Message) bool {
	switch x := a.(type) {
	case *ClientHello:
		y := *b.(*ClientHello)
		xc := *x
		xc.Order, y.Order = nil, nil
		xc.Other, y.Other = sortedExtensions(xc.Other), sortedExtensions(y.Other)
		return reflect.DeepEqual(normalize(xc), normalize(y))
	case *ServerHello:
		y := *b.(*ServerHello)
		xc := *x
		xc.Order, y.Order = nil, nil
		xc.Other, y.Other = sortedExtensions(xc.Other), sortedExtensions(y.Other)
		return reflect.DeepEqual(normalize(xc), normalize(y))
	}
	return false
}

func sortedExtensions(in []Extension) []Extension {
	out := make([]Extension, len(in))
	for i, e := range in {
		if len(e.Data) == 0 {
			e.Data = nil
		}
		out[i] = e
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// normalize maps empty byte slices to nil so that "absent" and "present
// but empty" slices parsed from different buffers compare equal where the
// struct's flags already say which one it is.
func normalize[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	for i := 0; i < rv.NumField(); i++ {
		f := rv.Field(i)
		if f.Kind() == reflect.Slice && f.Len() == 0 && f.Type().Elem().Kind() == reflect.Uint8 {
			f.Set(reflect.Zero(f.Type()))
		}
	}
	return v
}

func TestParseMessageDispatch(t *testing.T) {
	m, err := ParseMessage([]byte{byte(TypeCertificateVerify), 0, 0, 2, 1, 2}, Context{})
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := m.(*OpaqueMessage); !ok || o.MsgType != TypeCertificateVerify || !bytes.Equal(o.Body, []byte{1, 2}) {
		t.Errorf("got %#v", m)
	}
	if _, err := ParseMessage([]byte{1, 0}, Context{}); !errors.Is(err, ErrMalformed) {
		t.Errorf("short message: %v", err)
	}
	// A message whose header claims more than it holds, and one with
	// bytes after its body.
	for _, b := range [][]byte{{14, 0, 0, 1}, {14, 0, 0, 0, 9}} {
		var pe *ParseError
		if _, err := ParseMessage(b, Context{}); !errors.As(err, &pe) {
			t.Errorf("% x: err %v, want *ParseError", b, err)
		}
	}
	// ServerKeyExchange needs the suite.
	if _, err := ParseServerKeyExchange([]byte{12, 0, 0, 1, 3}, Context{}); !errors.Is(err, ErrMalformed) {
		t.Errorf("ServerKeyExchange without suite: %v", err)
	}
}
