package tlswire

import (
	"bytes"
	"testing"
)

// Fuzz targets for every parser. Seeds are the messages of the real
// handshakes under testdata/tls.

func seed(f *testing.F, types ...HandshakeType) {
	for _, name := range transcriptNames(f) {
		for _, m := range messagesOf(f, name) {
			for _, t := range types {
				if m.Type == t {
					f.Add(m.Raw)
				}
			}
		}
	}
}

// roundTrip checks that a message that parsed marshals and parses again
// to the same message.
func roundTrip(t *testing.T, m Message, ctx Context) {
	t.Helper()
	out, err := m.Marshal()
	if err != nil {
		t.Fatalf("parsed %v does not marshal: %v", m.Type(), err)
	}
	again, err := ParseMessage(out, ctx)
	if err != nil {
		t.Fatalf("marshalled %v does not parse: %v", m.Type(), err)
	}
	switch m.(type) {
	case *ClientHello, *ServerHello:
		if !sameHello(m, again) {
			t.Fatalf("%v changed in a round trip:\n%+v\n%+v", m.Type(), m, again)
		}
	default:
		out2, err := again.Marshal()
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("%v marshals differently after a round trip", m.Type())
		}
	}
}

func FuzzParseRecordHeader(f *testing.F) {
	for _, name := range transcriptNames(f) {
		for _, s := range loadTranscript(f, name) {
			f.Add(s.Data[:min(len(s.Data), RecordHeaderLen)])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseRecordHeader(b)
		if err == nil && (h.Length > MaxRecordLen || !h.Type.Known()) {
			t.Fatalf("accepted %+v", h)
		}
	})
}

func FuzzParseAlert(f *testing.F) {
	f.Add([]byte{2, 40})
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseAlert(b)
		if err == nil && !bytes.Equal(a.Marshal(), b) {
			t.Fatal("alert does not round-trip")
		}
	})
}

func FuzzParseClientHello(f *testing.F) {
	seed(f, TypeClientHello)
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := ParseClientHello(b); err == nil {
			roundTrip(t, m, Context{})
		}
	})
}

func FuzzParseServerHello(f *testing.F) {
	seed(f, TypeServerHello)
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := ParseServerHello(b); err == nil {
			roundTrip(t, m, Context{})
		}
	})
}

func FuzzParseCertificate(f *testing.F) {
	seed(f, TypeCertificate)
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := ParseCertificate(b); err == nil {
			roundTrip(t, m, Context{})
		}
	})
}

func FuzzParseServerKeyExchange(f *testing.F) {
	for _, name := range transcriptNames(f) {
		var ctx Context
		for _, m := range messagesOf(f, name) {
			if sh, ok := m.Msg.(*ServerHello); ok {
				ctx = Context{Version: sh.NegotiatedVersion(), Suite: sh.CipherSuite}
			}
			if m.Type == TypeServerKeyExchange {
				f.Add(m.Raw, uint16(ctx.Suite), true)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, suite uint16, tls12 bool) {
		ctx := Context{Version: VersionTLS10, Suite: CipherSuite(suite)}
		if tls12 {
			ctx.Version = VersionTLS12
		}
		if m, err := ParseServerKeyExchange(b, ctx); err == nil {
			roundTrip(t, m, ctx)
		}
	})
}

func FuzzParseClientKeyExchange(f *testing.F) {
	for _, name := range transcriptNames(f) {
		var ctx Context
		for _, m := range messagesOf(f, name) {
			if sh, ok := m.Msg.(*ServerHello); ok {
				ctx = Context{Version: sh.NegotiatedVersion(), Suite: sh.CipherSuite}
			}
			if m.Type == TypeClientKeyExchange {
				f.Add(m.Raw, uint16(ctx.Suite), false)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, suite uint16, ssl3 bool) {
		ctx := Context{Version: VersionTLS12, Suite: CipherSuite(suite)}
		if ssl3 {
			ctx.Version = VersionSSL30
		}
		if m, err := ParseClientKeyExchange(b, ctx); err == nil {
			roundTrip(t, m, ctx)
		}
	})
}

func FuzzParseCertificateRequest(f *testing.F) {
	seed(f, TypeCertificateRequest)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, v := range []Version{VersionTLS11, VersionTLS12} {
			if m, err := ParseCertificateRequest(b, v); err == nil {
				roundTrip(t, m, Context{Version: v})
			}
		}
	})
}

func FuzzParseNewSessionTicket(f *testing.F) {
	seed(f, TypeNewSessionTicket)
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := ParseNewSessionTicket(b); err == nil {
			roundTrip(t, m, Context{})
		}
	})
}

func FuzzParseCertificateStatus(f *testing.F) {
	seed(f, TypeCertificateStatus)
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := ParseCertificateStatus(b); err == nil {
			roundTrip(t, m, Context{})
		}
	})
}

func FuzzParseFinished(f *testing.F) {
	f.Add(AppendHandshake(nil, TypeFinished, make([]byte, 12)))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := ParseFinished(b); err == nil {
			roundTrip(t, m, Context{})
		}
	})
}

func FuzzParseServerHelloDone(f *testing.F) {
	seed(f, TypeServerHelloDone)
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := ParseServerHelloDone(b); err == nil && !bytes.Equal(b, emptyMessage(TypeServerHelloDone)) {
			t.Fatalf("accepted % x", b)
		}
	})
}

func FuzzParseHelloRequest(f *testing.F) {
	f.Add(emptyMessage(TypeHelloRequest))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := ParseHelloRequest(b); err == nil && !bytes.Equal(b, emptyMessage(TypeHelloRequest)) {
			t.Fatalf("accepted % x", b)
		}
	})
}

// FuzzParseMessage drives the dispatcher with every context a decoder can
// be in.
func FuzzParseMessage(f *testing.F) {
	seed(f, TypeClientHello, TypeServerHello, TypeCertificate, TypeServerKeyExchange, TypeCertificateRequest,
		TypeServerHelloDone, TypeClientKeyExchange, TypeNewSessionTicket, TypeCertificateStatus)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, ctx := range []Context{{}, {VersionTLS12, 0xC02F}, {VersionTLS12, 0x009E}, {VersionTLS13, 0x1301}} {
			if m, err := ParseMessage(b, ctx); err == nil {
				roundTrip(t, m, ctx)
			}
		}
	})
}

// FuzzConversation feeds arbitrary bytes, in chunks of a fuzzed size, to
// both directions and checks that buffering stays bounded, and that the
// records and messages do not depend on the chunk size: a second
// Conversation gets the same bytes in whole, per direction.
func FuzzConversation(f *testing.F) {
	for _, name := range transcriptNames(f) {
		var client, server []byte
		for _, s := range loadTranscript(f, name) {
			if s.Conn != 0 {
				break
			}
			if s.FromClient {
				client = append(client, s.Data...)
			} else {
				server = append(server, s.Data...)
			}
		}
		f.Add(client, server, uint16(7))
	}
	f.Fuzz(func(t *testing.T, client, server []byte, chunk uint16) {
		c := Conversation{MaxMessage: 4096}
		step := int(chunk)%2048 + 1
		serverStream := server
		for len(client) > 0 || len(server) > 0 {
			for dir, p := range []*[]byte{&client, &server} {
				n := min(step, len(*p))
				c.Feed(dir, (*p)[:n])
				*p = (*p)[n:]
				fl := &c.dirs[dir]
				if len(fl.buf) > RecordHeaderLen+MaxRecordLen || fl.hs.Buffered() > 4096+HandshakeHeaderLen+MaxRecordLen {
					t.Fatalf("buffered %d record bytes, %d message bytes", len(fl.buf), fl.hs.Buffered())
				}
				if fl.skip > 0 && len(fl.buf) != RecordHeaderLen {
					t.Fatalf("skipping a body with %d bytes buffered", len(fl.buf))
				}
			}
		}
		// One direction alone, in chunks and whole, must give the same
		// records and messages.
		var chunked, whole Conversation
		var recs []Record
		var msgs []HandshakeMessage
		for b := serverStream; len(b) > 0; {
			n := min(step, len(b))
			recs, msgs, _ = chunked.AppendFeed(recs, msgs, 1, b[:n])
			b = b[n:]
		}
		wrecs, wmsgs, _ := whole.Feed(1, serverStream)
		if len(wrecs) != len(recs) || len(wmsgs) != len(msgs) {
			t.Fatalf("chunks of %d: %d records, %d messages; whole: %d, %d", step, len(recs), len(msgs), len(wrecs), len(wmsgs))
		}
		for i := range wrecs {
			if wrecs[i].RecordHeader != recs[i].RecordHeader || wrecs[i].Offset != recs[i].Offset || wrecs[i].Encrypted != recs[i].Encrypted {
				t.Fatalf("record %d: chunked %+v, whole %+v", i, recs[i], wrecs[i])
			}
		}
		for i := range wmsgs {
			if !bytes.Equal(wmsgs[i].Raw, msgs[i].Raw) {
				t.Fatalf("message %d differs", i)
			}
		}
	})
}
