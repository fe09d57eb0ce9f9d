package tlsprobe

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/layers/tlswire"
)

// readHello consumes the client's ClientHello record.
func readHello(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var hdr [5]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return false
	}
	n := int(hdr[3])<<8 | int(hdr[4])
	_, err := io.CopyN(io.Discard, c, int64(n))
	return err == nil
}

// waitClose blocks until the client hangs up.
func waitClose(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.Copy(io.Discard, c)
}

// serverHelloRecord builds a ServerHello record choosing suite at version v.
func serverHelloRecord(t *testing.T, v tlswire.Version, suite tlswire.CipherSuite) []byte {
	sh := &tlswire.ServerHello{Version: v, CipherSuite: suite, SecureRenegotiation: true, ExtendedMasterSecret: true}
	msg, err := sh.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := tlswire.AppendRecord(nil, tlswire.ContentHandshake, v, msg)
	return rec
}

// TestHostileServers runs the probe against servers that do not play
// by the rules. Each must end quickly with the right reason, never hang.
func TestHostileServers(t *testing.T) {
	cases := []struct {
		name   string
		handle func(t *testing.T, c net.Conn)
		reason failure.Reason
		says   string
	}{
		{"http server", func(t *testing.T, c net.Conn) {
			readHello(c)
			_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
		}, failure.NotTLS, "answered in HTTP"},
		{"ssh banner", func(t *testing.T, c net.Conn) {
			_, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"))
			waitClose(c)
		}, failure.NotTLS, "answered in SSH"},
		{"smtp banner", func(t *testing.T, c net.Conn) {
			_, _ = c.Write([]byte("220 mail.test ESMTP Postfix\r\n"))
			waitClose(c)
		}, failure.NotTLS, "answered in SMTP"},
		{"binary garbage", func(t *testing.T, c net.Conn) {
			readHello(c)
			_, _ = c.Write([]byte{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07})
			waitClose(c)
		}, failure.NotTLS, "first bytes 00 01 02 03 04"},
		{"short answer, then a hang-up", func(t *testing.T, c net.Conn) {
			readHello(c)
			_, _ = c.Write([]byte("OK\r\n"))
		}, failure.NotTLS, "first bytes 4f 4b 0d 0a"},
		{"start of a TLS record, then a hang-up", func(t *testing.T, c net.Conn) {
			readHello(c)
			_, _ = c.Write([]byte{22, 3, 3})
		}, failure.TLSClosed, "read ServerHello"},
		{"16 MB message claim, then a drip", func(t *testing.T, c net.Conn) {
			readHello(c)
			_, _ = c.Write([]byte{22, 3, 3, 0x40, 0x00, byte(tlswire.TypeCertificate), 0xFF, 0xFF, 0xFF})
			for i := 0; i < 50; i++ {
				if _, err := c.Write([]byte{0}); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}, failure.TLSMalformed, "claims 16777215 bytes"},
		{"record length over 2^14+2048", func(t *testing.T, c net.Conn) {
			readHello(c)
			_, _ = c.Write([]byte{22, 3, 3, 0xFF, 0xFF})
			waitClose(c)
		}, failure.TLSMalformed, "record longer than"},
		{"accepts and never speaks", func(t *testing.T, c net.Conn) {
			waitClose(c)
		}, failure.Timeout, "read ServerHello: no answer in "},
		{"valid ServerHello, then a slow drip", func(t *testing.T, c net.Conn) {
			readHello(c)
			_, _ = c.Write(serverHelloRecord(t, tlswire.VersionTLS12, 0xC02F))
			_, _ = c.Write([]byte{22, 3, 3, 0x01, 0x00, byte(tlswire.TypeCertificate), 0, 0, 0xFC})
			for i := 0; i < 50; i++ {
				if _, err := c.Write([]byte{0}); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}, failure.Timeout, "read Certificate"},
		{"fatal alert", func(t *testing.T, c net.Conn) {
			readHello(c)
			_, _ = c.Write([]byte{21, 3, 3, 0, 2, 2, 40})
			waitClose(c)
		}, failure.TLSAlert, "handshake_failure (40): the server accepts none of the cipher suites"},
		{"HelloRequest, then an alert", func(t *testing.T, c net.Conn) {
			readHello(c)
			_, _ = c.Write([]byte{22, 3, 3, 0, 4, 0, 0, 0, 0, 21, 3, 3, 0, 2, 2, 40})
			waitClose(c)
		}, failure.TLSAlert, "handshake_failure (40)"},
		{"protocol_version alert", func(t *testing.T, c net.Conn) {
			readHello(c)
			_, _ = c.Write([]byte{21, 3, 3, 0, 2, 2, 70})
			waitClose(c)
		}, failure.TLSProtocolVersion, "protocol_version"},
		{"hang up after ClientHello", func(t *testing.T, c net.Conn) {
			readHello(c)
		}, failure.TLSClosed, "read ServerHello"},
		{"TLS 1.0 ServerHello", func(t *testing.T, c net.Conn) {
			readHello(c)
			_, _ = c.Write(serverHelloRecord(t, tlswire.VersionTLS10, 0x002F))
			waitClose(c)
		}, failure.TLSProtocolVersion, "server chose TLS 1.0"},
		{"extension never offered", func(t *testing.T, c net.Conn) {
			readHello(c)
			sh := &tlswire.ServerHello{Version: tlswire.VersionTLS12, CipherSuite: 0xC02F, SecureRenegotiation: true, EncryptThenMAC: true}
			msg, _ := sh.Marshal()
			rec, _ := tlswire.AppendRecord(nil, tlswire.ContentHandshake, tlswire.VersionTLS12, msg)
			_, _ = c.Write(rec)
			waitClose(c)
		}, failure.TLSMalformed, "encrypt_then_mac extension, which we did not offer"},
		{"suite never offered", func(t *testing.T, c net.Conn) {
			readHello(c)
			_, _ = c.Write(serverHelloRecord(t, tlswire.VersionTLS12, 0x0005))
			waitClose(c)
		}, failure.TLSMalformed, "did not offer"},
		{"malformed ServerHello", func(t *testing.T, c net.Conn) {
			readHello(c)
			_, _ = c.Write([]byte{22, 3, 3, 0, 6, 2, 0, 0, 2, 3, 3})
			waitClose(c)
		}, failure.TLSMalformed, "malformed ServerHello"},
		{"application data before the handshake", func(t *testing.T, c net.Conn) {
			readHello(c)
			_, _ = c.Write([]byte{23, 3, 3, 0, 1, 0})
			waitClose(c)
		}, failure.TLSMalformed, "unexpected application_data"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := serveRaw(t, func(c net.Conn) { tc.handle(t, c) })
			o := Options{ServerName: "server.test", Quick: true, StepTimeout: 500 * time.Millisecond, Timeout: 5 * time.Second}
			start := time.Now()
			res := Probe(context.Background(), "server.test", addr, o)
			elapsed := time.Since(start)
			if res.Failure == nil {
				t.Fatalf("no failure reported")
			}
			if res.Failure.Reason != tc.reason || !strings.Contains(res.Failure.Detail, tc.says) {
				t.Errorf("failure %v, want reason %s saying %q", res.Failure, tc.reason, tc.says)
			}
			if res.Healthy {
				t.Error("healthy")
			}
			// One step of 500 ms at most, and not the 5 s overall limit.
			if elapsed > 2*time.Second {
				t.Errorf("took %v", elapsed)
			}
		})
	}
}

// TestOverallDeadline: a server that answers every step just in time
// cannot hold the probe beyond its overall timeout.
func TestOverallDeadline(t *testing.T) {
	addr := serveRaw(t, func(c net.Conn) {
		readHello(c)
		_, _ = c.Write(serverHelloRecord(t, tlswire.VersionTLS12, 0xC02F))
		w := bufio.NewWriter(c)
		// A Certificate message of 40000 bytes, one byte every 50 ms.
		_, _ = w.Write([]byte{22, 3, 3, 0x40, 0x00, byte(tlswire.TypeCertificate), 0, 0x9C, 0x40})
		_ = w.Flush()
		for i := 0; i < 200; i++ {
			if _, err := c.Write([]byte{0}); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	start := time.Now()
	res := Probe(context.Background(), "server.test", addr, Options{ServerName: "server.test", Quick: true, StepTimeout: 5 * time.Second, Timeout: 700 * time.Millisecond})
	if res.Failure == nil || res.Failure.Reason != failure.Timeout || !strings.HasPrefix(res.Failure.Detail, "the probe's time limit ran out: read Certificate: no answer in ") {
		t.Errorf("failure %v, want timeout", res.Failure)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v with a 700 ms overall timeout", d)
	}
}

// TestCancel: cancelling the context stops a probe at once.
func TestCancel(t *testing.T) {
	addr := serveRaw(t, waitClose)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	res := Probe(ctx, "server.test", addr, Options{Quick: true, StepTimeout: 10 * time.Second})
	if res.Failure == nil || !strings.HasPrefix(res.Failure.Detail, "interrupted: read ServerHello") || time.Since(start) > 2*time.Second {
		t.Errorf("failure %v after %v", res.Failure, time.Since(start))
	}
}

func TestRefusedAndUnreachable(t *testing.T) {
	ln := mustListen(t)
	addr := ln.Addr().String()
	ln.Close()
	res := Probe(context.Background(), "x", mustAddrPort(t, addr), Options{Quick: true, Enumerate: true})
	if res.Failure == nil || res.Failure.Reason != failure.Refused || res.Failure.Layer != failure.LayerTransport {
		t.Errorf("closed port: %v", res.Failure)
	}
	// In words, and no enumeration of a port that refuses connections.
	if res.Failure.Detail != "TCP connect: connection refused" || res.Enum != nil {
		t.Errorf("detail %q, enumeration %+v", res.Failure.Detail, res.Enum)
	}
}

func mustAddrPort(t *testing.T, s string) netip.AddrPort {
	t.Helper()
	a, err := netip.ParseAddrPort(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestSniff(t *testing.T) {
	for in, want := range map[string]string{
		"HTTP/1.0 400 Bad":            "HTTP",
		"<html><body>":                "HTTP",
		"SSH-2.0-x":                   "SSH",
		"220 ftp.test FTP server":     "FTP",
		"220 mx ESMTP":                "SMTP",
		"+OK POP3 ready":              "POP3",
		"* OK [CAPABILITY IMAP4rev1]": "IMAP",
		"\x16\x03\x01":                "",
	} {
		if got := sniffProtocol([]byte(in)); got != want {
			t.Errorf("sniff(%q) = %q, want %q", in, got, want)
		}
	}
}
