package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netdiag/netdiag/internal/netlab"
)

func TestTLSProbeBadInput(t *testing.T) {
	cases := []struct {
		args []string
		says string
	}{
		{[]string{"tlsprobe"}, "missing target"},
		{[]string{"tlsprobe", "a.test", "b.test"}, "too many arguments"},
		{[]string{"tlsprobe", "127.0.0.1:99999"}, "out of range"},
		{[]string{"tlsprobe", "--expect-version", "TLS9", "127.0.0.1"}, "not a TLS version"},
		{[]string{"tlsprobe", "--require-resumption", "both", "127.0.0.1"}, "id or ticket"},
		{[]string{"tlsprobe", "--require-resumption", "id", "--quick", "127.0.0.1"}, "--quick"},
		{[]string{"tlsprobe", "--sni", "a.test", "--no-sni", "127.0.0.1"}, "cannot be used together"},
		{[]string{"tlsprobe", "--min-days", "-3", "127.0.0.1"}, "--min-days"},
		{[]string{"tlsprobe", "--http=health", "127.0.0.1"}, "must start with /"},
		{[]string{"tlsprobe", "--http=/a\tb", "127.0.0.1"}, "must not contain spaces"},
		{[]string{"tlsprobe", "--max-time", "0", "127.0.0.1"}, "--max-time"},
		{[]string{"tlsprobe", "--ca", "/nonexistent/ca.pem", "127.0.0.1"}, "--ca: cannot read /nonexistent/ca.pem: no such file or directory"},
		{[]string{"tlsprobe", "--ca", os.TempDir(), "127.0.0.1"}, "is a directory"},
		{[]string{"tlsprobe", "https://a.test/health"}, "not HOST[:PORT]"},
		{[]string{"tlsprobe", "a.test/health"}, "--http PATH"},
		{[]string{"tlsprobe", "-6", "127.0.0.1"}, "not an IPv6 address"},
	}
	for _, c := range cases {
		checkUsageError(t, c.args, c.says)
	}
}

func TestTLSProbeHelp(t *testing.T) {
	checkHelp(t, []string{"tlsprobe"}, "Examples:", "--sni", "--ca", "--quick", "--http", "--enum", "--min-days", "--expect-version",
		"--require-resumption", "--max-handshake", "cert-chain-incomplete", "ServerHelloDone")
}

// testServer serves TLS 1.2 on loopback with a certificate for
// server.test issued by a fresh CA, written to a PEM file for --ca.
func testServer(t *testing.T, notAfter time.Time) (addr, caFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cli test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(2),
		Subject: pkix.Name{CommonName: "server.test"}, DNSNames: []string{"server.test"},
		NotBefore: now.Add(-2 * time.Hour), NotAfter: notAfter, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: key}}, MaxVersion: tls.VersionTLS12}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	netlab.Serve(ln, func(c net.Conn) {
		tc := tls.Server(c, cfg)
		if tc.Handshake() == nil {
			_, _ = io.Copy(io.Discard, tc)
		}
	})
	return ln.Addr().String(), caFile
}

func TestTLSProbeLoopback(t *testing.T) {
	addr, ca := testServer(t, time.Now().Add(20*24*time.Hour))
	out, errOut, code := runCLI(t, "tlsprobe", "--json", "--quick", "--ca", ca, "--sni", "server.test", addr)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one JSON line, got %d", len(lines))
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"type", "target", "addr", "sni", "version", "cipher_suite", "key_exchange", "group", "forward_secrecy",
		"tcp_connect_ms", "handshake_ms", "messages", "certificates", "verify", "resumption", "client_cert_requested",
		"client_cert_cas", "alpn", "ocsp_stapled", "extended_master_secret", "secure_renegotiation", "tls13_supported", "healthy"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if m["type"] != "result" || m["version"] != "TLS 1.2" || m["healthy"] != true || m["sni"] != "server.test" {
		t.Errorf("JSON %v", m)
	}
	msgs := m["messages"].([]any)
	first := msgs[0].(map[string]any)
	if first["dir"] != "sent" || first["type"] != "ClientHello" || first["bytes"].(float64) < 100 {
		t.Errorf("first message %v", first)
	}
	certs := m["certificates"].([]any)
	if c := certs[0].(map[string]any); c["subject"] != "CN=server.test" || c["days_left"].(float64) != 19 || len(c["sha256"].(string)) != 64 {
		t.Errorf("certificate %v", c)
	}

	// The same server in text mode, and with a threshold that fails.
	out, _, code = runCLI(t, "tlsprobe", "--quick", "--ca", ca, "--sni", "server.test", addr)
	if code != 0 || !strings.Contains(out, "→ ClientHello") || !strings.Contains(out, "✓ healthy: TLS 1.2") {
		t.Errorf("exit %d, text:\n%s", code, out)
	}
	out, _, code = runCLI(t, "tlsprobe", "--quick", "--min-days", "30", "--ca", ca, "--sni", "server.test", addr)
	if code != 1 || !strings.Contains(out, "[cert-expiring-soon]") || !strings.Contains(out, "✗ min-days") {
		t.Errorf("--min-days 30: exit %d, text:\n%s", code, out)
	}
	// Without --ca the private CA is not trusted.
	out, _, code = runCLI(t, "tlsprobe", "--quick", "-q", "--sni", "server.test", addr)
	if code != 1 || !strings.Contains(out, "[cert-untrusted]") || strings.Contains(out, "ClientHello") {
		t.Errorf("untrusted, quiet: exit %d, text:\n%s", code, out)
	}
}

func TestTLSProbeNotTLS(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	netlab.Serve(ln, func(c net.Conn) {
		_, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n"))
		_, _ = io.Copy(io.Discard, c)
	})
	out, _, code := runCLI(t, "tlsprobe", "--json", "--quick", ln.Addr().String())
	var m struct {
		Failure struct{ Layer, Reason, Detail string }
		Healthy bool
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if code != 1 || m.Healthy || m.Failure.Reason != "not-tls" || !strings.Contains(m.Failure.Detail, "SSH") {
		t.Errorf("exit %d, %+v", code, m)
	}
}
