package tlsprobe

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/netdiag/netdiag/pkg/layers/tlswire"
	"golang.org/x/crypto/cryptobyte"
)

// TestEnumerateCryptoTLS enumerates a crypto/tls server whose suites and
// versions are known, and compares.
func TestEnumerateCryptoTLS(t *testing.T) {
	p := newPKI(t)
	suites := []uint16{
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_128_CBC_SHA,
	}
	addr := serveTLS(t, &tls.Config{
		Certificates: []tls.Certificate{p.leaf(t, leafSpec{})},
		CipherSuites: suites,
		MinVersion:   tls.VersionTLS10,
	})
	var calls, lastTotal int
	e := Enumerate(context.Background(), addr, "server.test", EnumOptions{
		StepTimeout: 2 * time.Second,
		Progress:    func(done, total int) { calls++; lastTotal = total },
	})
	if len(e.Errors) > 0 {
		t.Fatalf("probes without answer: %v", e.Errors)
	}
	wantVersions := []tlswire.Version{tlswire.VersionTLS10, tlswire.VersionTLS11, tlswire.VersionTLS12, tlswire.VersionTLS13}
	if !slices.Equal(e.Versions, wantVersions) {
		t.Errorf("versions %v, want %v", e.Versions, wantVersions)
	}
	got := map[tlswire.Version][]tlswire.CipherSuite{}
	for _, s := range e.Suites {
		got[s.Version] = append(got[s.Version], s.Suite)
	}
	cbc := []tlswire.CipherSuite{0x002F, 0xC013}
	want := map[tlswire.Version][]tlswire.CipherSuite{
		tlswire.VersionTLS10: cbc,
		tlswire.VersionTLS11: cbc,
		tlswire.VersionTLS12: {0x002F, 0xC013, 0xC02F, 0xCCA8},
		tlswire.VersionTLS13: {0x1301, 0x1302, 0x1303},
	}
	for v, w := range want {
		g := slices.Clone(got[v])
		slices.Sort(g)
		if !slices.Equal(g, w) {
			t.Errorf("%v: accepted %v, want %v", v, g, w)
		}
	}
	// crypto/tls imposes its own order: AES-GCM/ChaCha before CBC, and
	// ECDHE before RSA key exchange.
	if !e.ServerOrder[tlswire.VersionTLS12] {
		t.Error("crypto/tls's own order not detected")
	}
	if o := got[tlswire.VersionTLS12]; o[len(o)-1] != 0x002F {
		t.Errorf("TLS 1.2 order %v: RSA key exchange should come last", o)
	}
	if calls != e.Probes || lastTotal < e.Probes || e.Probes < 10 {
		t.Errorf("progress called %d times, last total %d, probes %d", calls, lastTotal, e.Probes)
	}
}

// TestEnumerationHellosAreSafe: every hello the enumeration builds stays
// out of the 256-511 byte range and offers at most 128 suites.
func TestEnumerationHellosAreSafe(t *testing.T) {
	e := newEnumerator(netipAddrPort(), "a-rather-long-server-name.example.test", EnumOptions{ChunkSize: 1000})
	for _, v := range tlswire.Versions() {
		all := candidates(v)
		for n := 1; n <= min(len(all), e.o.ChunkSize); n++ {
			h, raw, err := buildHello(e.hello(v, all[:n]))
			if err != nil {
				t.Fatal(err)
			}
			if l := len(raw); l >= intolerantMin && l <= intolerantMax && v != tlswire.VersionSSL30 {
				t.Fatalf("%v with %d suites: hello of %d bytes", v, n, l)
			}
			if len(h.CipherSuites) > maxChunk {
				t.Fatalf("%d suites in one hello", len(h.CipherSuites))
			}
			exts := wireExtensions(t, raw)
			if v == tlswire.VersionSSL30 && (exts != nil || len(raw) >= intolerantMin) && n <= 100 {
				t.Fatalf("SSL 3.0 hello with %d suites: %d bytes, extensions %v", n, len(raw), exts)
			}
			if v != tlswire.VersionSSL30 && (len(exts) == 0 || len(exts[len(exts)-1].Data) == 0) {
				t.Fatalf("%v with %d suites: last extension empty or none: %v", v, n, exts)
			}
		}
	}
}

// TestHellosEndWithNonEmptyExtension: no hello the probe sends ends with
// an empty extension, which some servers fail on (EMS and session_ticket
// are empty; the wire order must put something else last).
func TestHellosEndWithNonEmptyExtension(t *testing.T) {
	o := (&Options{ServerName: "server.test"}).defaults()
	p := &prober{o: &o, addr: "127.0.0.1:443"}
	main := p.mainHello()
	noTicket := p.mainHello()
	noTicket.offerTicket, noTicket.statusRequest = false, false
	withTicket := noTicket
	withTicket.offerTicket, withTicket.ticket = true, []byte{1, 2, 3}
	noSNI := noTicket
	noSNI.serverName = ""
	bare := helloParams{version: tlswire.VersionTLS12, suites: SupportedSuites(), offerTicket: true}
	tls13 := helloParams{version: tlswire.VersionTLS12, suites: tls13Suites, groups: defaultGroups,
		schemes: defaultSignatureSchemes, tls13: true, tls13Only: true, keyShare: make([]byte, 32)}
	for name, h := range map[string]helloParams{"main": main, "no ticket": noTicket, "ticket": withTicket,
		"no SNI": noSNI, "no lists": bare, "TLS 1.3": tls13} {
		_, raw, err := buildHello(h)
		if err != nil {
			t.Fatal(err)
		}
		exts := wireExtensions(t, raw)
		if len(exts) == 0 || len(exts[len(exts)-1].Data) == 0 {
			t.Errorf("%s: last extension empty or none: %v", name, exts)
		}
		if l := len(raw); l >= intolerantMin && l <= intolerantMax {
			t.Errorf("%s: hello of %d bytes", name, l)
		}
	}
}

// wireExtensions lists a marshalled ClientHello's extensions as sent.
func wireExtensions(t *testing.T, raw []byte) []tlswire.Extension {
	t.Helper()
	s := cryptobyte.String(raw[tlswire.HandshakeHeaderLen:])
	var sid, suites, comp, block cryptobyte.String
	if !s.Skip(2+32) || !s.ReadUint8LengthPrefixed(&sid) || !s.ReadUint16LengthPrefixed(&suites) ||
		!s.ReadUint8LengthPrefixed(&comp) {
		t.Fatal("bad ClientHello")
	}
	if s.Empty() {
		return nil
	}
	if !s.ReadUint16LengthPrefixed(&block) || !s.Empty() {
		t.Fatal("bad extensions block")
	}
	var out []tlswire.Extension
	for !block.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !block.ReadUint16(&typ) || !block.ReadUint16LengthPrefixed(&data) {
			t.Fatal("bad extension")
		}
		out = append(out, tlswire.Extension{Type: tlswire.ExtensionType(typ), Data: data})
	}
	return out
}

func netipAddrPort() netip.AddrPort { return netip.MustParseAddrPort("127.0.0.1:443") }

// TestEnumerateOneSuite: with a single accepted suite there is no order
// to tell, and the result says nothing about it.
func TestEnumerateOneSuite(t *testing.T) {
	p := newPKI(t)
	addr := serveTLS(t, &tls.Config{
		Certificates: []tls.Certificate{p.leaf(t, leafSpec{})},
		CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256},
		MinVersion:   tls.VersionTLS12, MaxVersion: tls.VersionTLS12,
	})
	e := Enumerate(context.Background(), addr, "server.test", EnumOptions{StepTimeout: 2 * time.Second})
	if len(e.Suites) != 1 || e.Suites[0].Suite != 0xC02F {
		t.Fatalf("suites %v", e.Suites)
	}
	if so, known := e.ServerOrder[tlswire.VersionTLS12]; known {
		t.Errorf("server order %v claimed for a single suite", so)
	}
}

// TestEnumerateSSL30: a server that speaks only SSL 3.0 (answered here by
// hand, as no library at hand still does) is found with an SSL 3.0 hello
// without extensions, and its three suites in its own order.
func TestEnumerateSSL30(t *testing.T) {
	prefer := []tlswire.CipherSuite{0x000A, 0x0005, 0x002F}
	addr := serveRaw(t, func(c net.Conn) {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		var hdr [5]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
		if _, err := io.ReadFull(c, body); err != nil {
			return
		}
		alert := func(d tlswire.AlertDescription) {
			rec, _ := tlswire.AppendRecord(nil, tlswire.ContentAlert, tlswire.VersionSSL30, tlswire.Alert{Level: tlswire.AlertFatal, Description: d}.Marshal())
			_, _ = c.Write(rec)
		}
		ch, err := tlswire.ParseClientHello(body)
		if err != nil || ch.Version != tlswire.VersionSSL30 {
			alert(tlswire.AlertProtocolVersion)
			return
		}
		if ch.Order != nil {
			t.Errorf("SSL 3.0 hello with extensions %v", ch.Order)
		}
		for _, s := range prefer {
			if slices.Contains(ch.CipherSuites, s) {
				msg, _ := (&tlswire.ServerHello{Version: tlswire.VersionSSL30, CipherSuite: s}).Marshal()
				rec, _ := tlswire.AppendRecord(nil, tlswire.ContentHandshake, tlswire.VersionSSL30, msg)
				_, _ = c.Write(rec)
				_, _ = io.Copy(io.Discard, c)
				return
			}
		}
		alert(tlswire.AlertHandshakeFailure)
	})
	e := Enumerate(context.Background(), addr, "", EnumOptions{StepTimeout: 2 * time.Second})
	if len(e.Errors) > 0 {
		t.Fatalf("probes without answer: %v", e.Errors)
	}
	if !slices.Equal(e.Versions, []tlswire.Version{tlswire.VersionSSL30}) {
		t.Fatalf("versions %v", e.Versions)
	}
	var got []tlswire.CipherSuite
	for _, s := range e.Suites {
		got = append(got, s.Suite)
	}
	if !slices.Equal(got, prefer) || !e.ServerOrder[tlswire.VersionSSL30] {
		t.Errorf("suites %v (server order %v), want %v in the server's order", got, e.ServerOrder, prefer)
	}
}
