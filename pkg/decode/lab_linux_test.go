package decode

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"io"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netdiag/netdiag/internal/netlab"
	"golang.org/x/sys/unix"
)

// recapture makes TestLabCaptures write its captures into testdata/decode,
// replacing the committed ones (testdata/decode/capture.sh). Without it the
// captures go to a temporary directory and are checked against tshark, so
// the comparison also runs on traffic nobody has seen before.
var recapture = flag.Bool("recapture", false, "capture the lab traffic again into testdata/decode")

// A labCapture is one committed capture: the traffic made in a fresh lab
// while tcpdump (or dumpcap) records it on the client.
type labCapture struct {
	name string // file name in captureDir
	// iface is the client interface to capture on ("eth0", or "any" for
	// Linux cooked captures); dumpcap writes pcapng instead of pcap.
	iface   string
	dumpcap bool
	servers int
	run     func(t *testing.T, lab *netlab.Lab, dir string)
}

var labCaptures = []labCapture{
	{name: "icmp.pcap", iface: "eth0", servers: 2, run: trafficICMP},
	{name: "tcp.pcap", iface: "eth0", run: trafficTCP},
	{name: "bulk-mss.pcap", iface: "eth0", run: trafficBulk},
	{name: "ipv6.pcap", iface: "eth0", run: trafficIPv6},
	{name: "dns.pcapng", iface: "eth0", dumpcap: true, run: trafficDNS},
	{name: "tls-openssl.pcap", iface: "eth0", run: trafficTLSOpenSSL},
	{name: "tls-gnutls.pcap", iface: "eth0", run: trafficTLSGnuTLS},
	{name: "any-sll2.pcap", iface: "any", run: trafficAny},
}

func TestLabCaptures(t *testing.T) {
	netlab.Require(t)
	for _, tool := range []string{"tcpdump", "dumpcap", "tshark", "openssl", "gnutls-serv", "ethtool"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (Debian packages tcpdump, tshark, openssl, gnutls-bin, ethtool)", tool)
		}
	}
	dir := t.TempDir()
	if *recapture {
		dir = captureDir
	}
	for _, c := range labCaptures {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path, err := filepath.Abs(filepath.Join(dir, c.name))
			if err != nil {
				t.Fatal(err)
			}
			lab := netlab.New(t, netlab.Config{Servers: c.servers})
			prepareOffloads(t, lab)
			stop := startCapture(t, lab.Client, c, path)
			c.run(t, lab, t.TempDir())
			stop()
			compareWithTshark(t, path)
		})
	}
}

// prepareOffloads makes the captures look like captures on real hosts:
// the client leaves TCP and UDP checksums to its "card" (the kernel's
// partial checksum, which tcpdump shows unfinished), while the servers
// compute theirs in full; neither sends segments larger than the MSS.
func prepareOffloads(t *testing.T, lab *netlab.Lab) {
	lab.Client.Run(t, "ethtool", "-K", "eth0", "tso", "off", "gso", "off")
	for _, s := range lab.Servers {
		s.Run(t, "ethtool", "-K", "eth0", "tx", "off", "tso", "off", "gso", "off")
	}
}

// startCapture starts tcpdump or dumpcap on the client and returns the
// function that ends the capture once every packet has been written.
func startCapture(t *testing.T, n *netlab.Node, c labCapture, path string) func() {
	var p *netlab.Process
	ready := "listening on"
	if c.dumpcap {
		p = n.Start(t, "dumpcap", "-i", c.iface, "-w", path, "-n")
		ready = "Capturing on"
	} else {
		p = n.Start(t, "tcpdump", "-i", c.iface, "--immediate-mode", "-U", "-n", "-s", "0", "-w", path)
	}
	p.WaitReady(t, func() error {
		if !strings.Contains(p.Output(), ready) {
			return errors.New("capture not started yet")
		}
		return nil
	})
	return func() {
		time.Sleep(300 * time.Millisecond)
		p.Stop()
		if fi, err := os.Stat(path); err != nil || fi.Size() <= 24 {
			t.Fatalf("capture %s is empty: %v\n%s", path, err, p.Output())
		}
	}
}

// ping runs ping on the client; a failed ping is the point of most calls.
func ping(n *netlab.Node, args ...string) {
	_, _ = n.Exec("ping", append([]string{"-n", "-W", "1"}, args...)...)
}

func trafficICMP(t *testing.T, lab *netlab.Lab, _ string) {
	srv := lab.Servers[0]
	ping(lab.Client, "-c", "2", "-i", "0.2", srv.Addr4.String())
	// Host unreachable from the router after its ARP fails.
	ping(lab.Client, "-c", "1", netlab.NoHost4.String())
	// Time exceeded from the router.
	ping(lab.Client, "-c", "1", "-t", "1", srv.Addr4.String())
	// A firewall on the router rejects ICMP and TCP to the second server
	// as administratively prohibited.
	fw := lab.Servers[1]
	lab.Router.AddFault(t, netlab.Fault{Action: netlab.RejectAdminProhibited, Dst: fw.Addr4, Proto: netlab.ICMP})
	lab.Router.AddFault(t, netlab.Fault{Action: netlab.RejectAdminProhibited, Dst: fw.Addr4, Proto: netlab.TCP, Port: 80})
	ping(lab.Client, "-c", "1", fw.Addr4.String())
	dialTCP(t, lab.Client, netip.AddrPortFrom(fw.Addr4, 80))
	// Port unreachable from the server itself, quoting the UDP datagram.
	sendUDP(t, lab.Client, netip.AddrPortFrom(srv.Addr4, 7), []byte("anyone there?"))
	time.Sleep(100 * time.Millisecond)
}

// dialTCP opens a TCP connection from n and returns it, or nil when the
// handshake failed (which is what some captures want).
func dialTCP(t *testing.T, n *netlab.Node, to netip.AddrPort) net.Conn {
	return dialTCPTimeout(t, n, to, 2*time.Second)
}

func dialTCPTimeout(t *testing.T, n *netlab.Node, to netip.AddrPort, timeout time.Duration) net.Conn {
	t.Helper()
	var c net.Conn
	err := n.Do(func() error {
		var err error
		c, err = net.DialTimeout("tcp", to.String(), timeout)
		return err
	})
	if err != nil {
		return nil
	}
	return c
}

func sendUDP(t *testing.T, n *netlab.Node, to netip.AddrPort, payload []byte) {
	t.Helper()
	err := n.Do(func() error {
		c, err := net.Dial("udp", to.String())
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write(payload)
		return err
	})
	if err != nil {
		t.Fatalf("send UDP to %v: %v", to, err)
	}
}

// serveTCP accepts connections on srv at port and hands each to handle.
func serveTCP(t *testing.T, srv *netlab.Node, addr netip.Addr, port uint16, handle func(net.Conn)) {
	ln := srv.Listen(t, "tcp", netip.AddrPortFrom(addr, port).String())
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				handle(c)
			}()
		}
	}()
}

// echoUntilEOF answers each line with its upper-case form and closes when
// the peer has closed: the client's FIN comes first.
func echoUntilEOF(c net.Conn) {
	buf := make([]byte, 512)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			c.Write([]byte(strings.ToUpper(string(buf[:n]))))
		}
		if err != nil {
			return
		}
	}
}

func trafficTCP(t *testing.T, lab *netlab.Lab, _ string) {
	srv := lab.Servers[0]
	// The client closes first.
	serveTCP(t, srv, srv.Addr4, 7000, echoUntilEOF)
	if c := dialTCP(t, lab.Client, netip.AddrPortFrom(srv.Addr4, 7000)); c != nil {
		c.Write([]byte("hello\n"))
		buf := make([]byte, 64)
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		c.Read(buf)
		c.Close()
	} else {
		t.Fatal("connection to the echo server failed")
	}
	time.Sleep(100 * time.Millisecond)
	// The server closes first.
	serveTCP(t, srv, srv.Addr4, 7001, func(c net.Conn) { c.Write([]byte("bye\n")) })
	if c := dialTCP(t, lab.Client, netip.AddrPortFrom(srv.Addr4, 7001)); c != nil {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		io.Copy(io.Discard, c)
		c.Close()
	} else {
		t.Fatal("connection to the closing server failed")
	}
	time.Sleep(100 * time.Millisecond)
	// Refused: nothing listens on port 7002.
	if c := dialTCP(t, lab.Client, netip.AddrPortFrom(srv.Addr4, 7002)); c != nil {
		t.Fatal("port 7002 should refuse")
	}
	// Unanswered: the router drops SYNs to port 7003; the client tries
	// again after a second and gives up.
	lab.Router.AddFault(t, netlab.Fault{Action: netlab.Drop, Dst: srv.Addr4, Proto: netlab.TCP, Port: 7003})
	if c := dialTCPTimeout(t, lab.Client, netip.AddrPortFrom(srv.Addr4, 7003), 1500*time.Millisecond); c != nil {
		t.Fatal("port 7003 should be dropped")
	}
}

func trafficBulk(t *testing.T, lab *netlab.Lab, _ string) {
	srv := lab.Servers[0]
	// The router drops the 6th full-size segment from the server once, so
	// the capture shows duplicate ACKs with SACK and a retransmission.
	lab.Router.Nft(t, `table inet decodetest {
	chain forward {
		type filter hook forward priority -10;
		ip saddr `+srv.Addr4.String()+` tcp sport 7100 meta length > 500 numgen inc mod 1000000 == 5 drop
	}
}`)
	serveTCP(t, srv, srv.Addr4, 7100, func(c net.Conn) {
		c.Write(make([]byte, bulkSize))
	})
	var c net.Conn
	err := lab.Client.Do(func() error {
		d := net.Dialer{Timeout: 2 * time.Second, Control: setMSS(536)}
		var err error
		c, err = d.Dial("tcp", netip.AddrPortFrom(srv.Addr4, 7100).String())
		return err
	})
	if err != nil {
		t.Fatalf("bulk connection: %v", err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := io.Copy(io.Discard, c)
	c.Close()
	if n != bulkSize {
		t.Fatalf("bulk transfer got %d bytes, want %d: %v", n, bulkSize, err)
	}
}

func trafficIPv6(t *testing.T, lab *netlab.Lab, _ string) {
	srv := lab.Servers[0]
	ping(lab.Client, "-6", "-c", "2", "-i", "0.2", srv.Addr6.String())
	ping(lab.Client, "-6", "-c", "1", netlab.NoHost6.String())
	ping(lab.Client, "-6", "-c", "1", "-t", "1", srv.Addr6.String())
	serveTCP(t, srv, srv.Addr6, 7200, echoUntilEOF)
	if c := dialTCP(t, lab.Client, netip.AddrPortFrom(srv.Addr6, 7200)); c != nil {
		c.Write([]byte("hello over IPv6\n"))
		buf := make([]byte, 64)
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		c.Read(buf)
		c.Close()
	} else {
		t.Fatal("IPv6 connection failed")
	}
	dialTCP(t, lab.Client, netip.AddrPortFrom(srv.Addr6, 7201))
	sendUDP(t, lab.Client, netip.AddrPortFrom(srv.Addr6, 7), []byte("anyone there?"))
	time.Sleep(100 * time.Millisecond)
}

func trafficDNS(t *testing.T, lab *netlab.Lab, _ string) {
	srv := lab.Servers[0]
	lab.StartDNS(t, netlab.DNSConfig{Records: map[string][]netip.Addr{
		"www": {srv.Addr4, srv.Addr6},
		"v4":  {srv.Addr4},
	}})
	for _, name := range []string{"www.lab.test", "v4.lab.test", "nonexistent.lab.test"} {
		_, _ = lab.Client.Exec("getent", "ahosts", name)
	}
	ping(lab.Client, "-c", "1", "www.lab.test")
}

func trafficAny(t *testing.T, lab *netlab.Lab, _ string) {
	srv := lab.Servers[0]
	ping(lab.Client, "-c", "1", srv.Addr4.String())
	ping(lab.Client, "-6", "-c", "1", srv.Addr6.String())
	serveTCP(t, srv, srv.Addr4, 7300, func(c net.Conn) { c.Write([]byte("bye\n")) })
	if c := dialTCP(t, lab.Client, netip.AddrPortFrom(srv.Addr4, 7300)); c != nil {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		io.Copy(io.Discard, c)
		c.Close()
	}
}

// tlsServerName is the name the TLS clients ask for (SNI) and the
// certificates are made for.
const tlsServerName = "www.lab.test"

// writeChain writes a three-certificate RSA chain for tlsServerName into
// dir and returns their paths: the chain (leaf, then intermediate), the
// leaf alone, the intermediate alone, the leaf's key and the root. A chain of three makes the Certificate message span several
// TCP segments, which is what reassembly must handle.
func writeChain(t *testing.T, dir string) (chain, leaf, inter, key, root string) {
	t.Helper()
	now := time.Now()
	newKey := func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	rootKey, interKey, leafKey := newKey(), newKey(), newKey()
	mk := func(tmpl, parent *x509.Certificate, pub *rsa.PublicKey, signer *rsa.PrivateKey) *x509.Certificate {
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ca := func(serial int64, cn string) *x509.Certificate {
		return &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, Organization: []string{"netdiag lab"}},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		}
	}
	rootCert := mk(ca(1, "netdiag lab root"), ca(1, "netdiag lab root"), &rootKey.PublicKey, rootKey)
	interCert := mk(ca(2, "netdiag lab intermediate"), rootCert, &interKey.PublicKey, rootKey)
	leafCert := mk(&x509.Certificate{
		SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: tlsServerName},
		DNSNames: []string{tlsServerName}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, interCert, &leafKey.PublicKey, interKey)

	write := func(name string, blocks ...*pem.Block) string {
		var b []byte
		for _, blk := range blocks {
			b = append(b, pem.EncodeToMemory(blk)...)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	leafBlock := &pem.Block{Type: "CERTIFICATE", Bytes: leafCert.Raw}
	interBlock := &pem.Block{Type: "CERTIFICATE", Bytes: interCert.Raw}
	chain = write("chain.pem", leafBlock, interBlock)
	leaf = write("leaf.pem", leafBlock)
	inter = write("inter.pem", interBlock)
	key = write("key.pem", &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(leafKey)})
	root = write("root.pem", &pem.Block{Type: "CERTIFICATE", Bytes: rootCert.Raw})
	return chain, leaf, inter, key, root
}

// sClient runs one openssl s_client TLS 1.2 session against addr:port with
// the given cipher: it sends an HTTP request and reads the answer. sessOut
// and sessIn save and resume the session (its ticket).
func sClient(t *testing.T, n *netlab.Node, addr netip.Addr, port uint16, cipher, root string, extra ...string) string {
	t.Helper()
	args := append([]string{"s_client", "-connect", netip.AddrPortFrom(addr, port).String(),
		"-tls1_2", "-cipher", cipher, "-servername", tlsServerName, "-CAfile", root, "-ign_eof", "-quiet"}, extra...)
	cmd := n.Command(t.Context(), "openssl", args...)
	cmd.Stdin = strings.NewReader("GET / HTTP/1.0\r\n\r\n")
	out, _ := cmd.CombinedOutput()
	return string(out)
}

func trafficTLSOpenSSL(t *testing.T, lab *netlab.Lab, dir string) {
	srv := lab.Servers[0]
	_, leaf, inter, key, root := writeChain(t, dir)
	p := srv.Start(t, "openssl", "s_server", "-accept", "4433", "-cert", leaf, "-cert_chain", inter, "-key", key,
		"-www", "-tls1_2", "-cipher", "ALL")
	p.WaitListening(t, "tcp", 4433)
	sess := filepath.Join(dir, "sess.pem")
	// ECDHE with RSA signatures, saving the session ticket...
	out := sClient(t, lab.Client, srv.Addr4, 4433, "ECDHE-RSA-AES128-GCM-SHA256", root, "-sess_out", sess)
	if !strings.Contains(out, "HTTP/1.0 200") {
		t.Fatalf("ECDHE session failed:\n%s", out)
	}
	// ...and resuming with it: an abbreviated handshake.
	sClient(t, lab.Client, srv.Addr4, 4433, "ECDHE-RSA-AES128-GCM-SHA256", root, "-sess_in", sess)
	// RSA key exchange.
	out = sClient(t, lab.Client, srv.Addr4, 4433, "AES256-SHA256", root)
	if !strings.Contains(out, "HTTP/1.0 200") {
		t.Fatalf("RSA session failed:\n%s", out)
	}
}

func trafficTLSGnuTLS(t *testing.T, lab *netlab.Lab, dir string) {
	srv := lab.Servers[0]
	chain, _, _, key, root := writeChain(t, dir)
	p := srv.Start(t, "gnutls-serv", "--http", "--port", "4433", "--x509certfile", chain, "--x509keyfile", key,
		"--priority", "NORMAL:+RSA:-VERS-TLS1.3")
	p.WaitListening(t, "tcp", 4433)
	sess := filepath.Join(dir, "sess.pem")
	out := sClient(t, lab.Client, srv.Addr4, 4433, "ECDHE-RSA-AES256-GCM-SHA384", root, "-sess_out", sess)
	if !strings.Contains(out, "HTTP/1.0 200") {
		t.Fatalf("ECDHE session failed:\n%s", out)
	}
	sClient(t, lab.Client, srv.Addr4, 4433, "ECDHE-RSA-AES256-GCM-SHA384", root, "-sess_in", sess)
	out = sClient(t, lab.Client, srv.Addr4, 4433, "AES128-GCM-SHA256", root)
	if !strings.Contains(out, "HTTP/1.0 200") {
		t.Fatalf("RSA session failed:\n%s", out)
	}
	// A cipher GnuTLS does not offer: the handshake ends in an alert.
	sClient(t, lab.Client, srv.Addr4, 4433, "CAMELLIA128-SHA", root)
}

// setMSS makes a dialer advertise mss in its SYN (TCP_MAXSEG before
// connect), so that the peer sends segments of that size.
func setMSS(mss int) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_MAXSEG, mss)
		})
		if err != nil {
			return err
		}
		return serr
	}
}
