package cli_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netdiag/netdiag/internal/netlab"
)

// labCert writes a root and a leaf for web.lab.test valid until notAfter
// into dir, and returns the paths of the root, the leaf and its key.
func labCert(t *testing.T, dir, name string, notAfter time.Time) (root, cert, key string) {
	t.Helper()
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	rt := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lab root " + name},
		NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(365 * 24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	rootDER, err := x509.CreateCertificate(rand.Reader, rt, rt, rootKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	parent, _ := x509.ParseCertificate(rootDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(2),
		Subject: pkix.Name{CommonName: "web.lab.test"}, DNSNames: []string{"web.lab.test"},
		NotBefore: now.Add(-24 * time.Hour), NotAfter: notAfter,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, parent, leafKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	p8, _ := x509.MarshalPKCS8PrivateKey(leafKey)
	write := func(file, typ string, der []byte) string {
		path := filepath.Join(dir, name+"-"+file)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	return write("root.pem", "CERTIFICATE", rootDER), write("leaf.pem", "CERTIFICATE", leafDER), write("leaf.key", "PRIVATE KEY", p8)
}

// TestLabTLSProbeExitCodes runs the netdiag binary in the client
// namespace against OpenSSL servers on a lab host, found through the lab's
// DNS: exit 0 when healthy, 1 for a bad certificate or a non-TLS service,
// 3 for a name that does not exist.
func TestLabTLSProbeExitCodes(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed")
	}
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	lab.StartDNS(t, netlab.DNSConfig{Records: map[string][]netip.Addr{"web": {srv.Addr4}}})
	dir := t.TempDir()

	start := func(port uint16, cert, key string) {
		p := srv.Start(t, "openssl", "s_server", "-accept", fmt.Sprint(port), "-quiet", "-cert", cert, "-key", key)
		p.WaitListening(t, "tcp", port)
	}
	goodRoot, goodCert, goodKey := labCert(t, dir, "good", time.Now().Add(60*24*time.Hour))
	start(443, goodCert, goodKey)
	expRoot, expCert, expKey := labCert(t, dir, "expired", time.Now().Add(-time.Hour))
	start(8443, expCert, expKey)
	serveGarbage(t, srv, netip.AddrPortFrom(srv.Addr4, 8080).String())

	cases := []struct {
		args   []string
		code   int
		reason string
	}{
		{[]string{"--ca", goodRoot, "web.lab.test"}, 0, ""},
		{[]string{"--ca", goodRoot, "--quick", "--min-days", "90", "web.lab.test:443"}, 1, "cert-expiring-soon"},
		{[]string{"--ca", goodRoot, "--quick", "--expect-version", "TLS1.3", "web.lab.test"}, 1, "tls-protocol-version"},
		{[]string{"--ca", goodRoot, "--quick", "web"}, 1, "cert-name-mismatch"}, // SNI is the name as typed, as curl sends it
		{[]string{"--quick", "web.lab.test"}, 1, "cert-untrusted"},
		{[]string{"--ca", expRoot, "--quick", "web.lab.test:8443"}, 1, "cert-expired"},
		{[]string{"--quick", "web:8080"}, 1, "not-tls"},
		{[]string{"--quick", "--sni", "web.lab.test", srv.Addr4.String() + ":9"}, 1, "refused"},
		{[]string{"--quick", "nope.lab.test"}, 3, ""},
	}
	for _, c := range cases {
		args := append([]string{"tlsprobe", "--json"}, c.args...)
		out, errOut, code := runNetdiag(t, lab.Client, nil, args...)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d\n%s%s", c.args, code, c.code, out, errOut)
			continue
		}
		if c.code == 3 {
			if !strings.Contains(errOut, "NXDOMAIN") || out != "" {
				t.Errorf("%v: stderr %q, stdout %q", c.args, errOut, out)
			}
			continue
		}
		lines := jsonLines(t, out)
		if len(lines) != 1 || lines[0]["type"] != "result" {
			t.Fatalf("%v: %d lines", c.args, len(lines))
		}
		r := lines[0]
		if c.code == 0 {
			if r["healthy"] != true || r["version"] != "TLS 1.2" || r["sni"] != "web.lab.test" || r["resumption"] == nil {
				t.Errorf("%v: %v", c.args, r)
			}
			continue
		}
		f, _ := r["failure"].(map[string]any)
		if r["healthy"] != false || f == nil || f["reason"] != c.reason {
			t.Errorf("%v: failure %v, want %s", c.args, f, c.reason)
		}
	}
}

// serveGarbage answers every connection on addr in node with an HTTP
// error instead of TLS.
func serveGarbage(t *testing.T, node *netlab.Node, addr string) {
	t.Helper()
	netlab.Serve(node.Listen(t, "tcp", addr), func(c net.Conn) {
		_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"))
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, _ = c.Read(make([]byte, 1024))
	})
}
