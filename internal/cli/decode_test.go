package cli

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netdiag/netdiag/internal/golden"
	"github.com/netdiag/netdiag/pkg/layers"
)

const decodeData = "../../testdata/decode"

// decodeGolden lists the views kept as golden files for each capture.
var decodeGolden = []struct {
	capture string
	views   []string
}{
	{"icmp.pcap", []string{"tree", "summary", "json", "stats", "hexdump"}},
	{"tcp.pcap", []string{"tree", "summary", "json", "stats", "stats.json"}},
	{"ipv6.pcap", []string{"tree", "summary", "json", "stats"}},
	{"dns.pcapng", []string{"tree", "summary", "json", "stats"}},
	{"tls-openssl.pcap", []string{"tree", "summary", "json", "stats", "stats.json"}},
	{"tls-gnutls.pcap", []string{"tree", "summary", "json", "stats"}},
	{"any-sll2.pcap", []string{"tree", "summary", "json"}},
	{"bulk-mss.pcap", []string{"tree", "summary", "json", "stats"}},
}

var viewArgs = map[string][]string{
	"tree":       nil,
	"summary":    {"--summary"},
	"json":       {"--json"},
	"stats":      {"--stats"},
	"stats.json": {"--stats", "--json"},
	"hexdump":    {"-x"},
}

// TestDecodeGolden compares every view of every capture with its golden
// file; go test ./internal/cli -run DecodeGolden -update rewrites them.
func TestDecodeGolden(t *testing.T) {
	for _, g := range decodeGolden {
		for _, view := range g.views {
			t.Run(g.capture+"/"+view, func(t *testing.T) {
				args := append([]string{"decode"}, viewArgs[view]...)
				out, errOut, code := runCLI(t, append(args, filepath.Join(decodeData, g.capture))...)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errOut)
				}
				golden.Check(t, filepath.Join(decodeData, "golden", g.capture+"."+view), []byte(out))
				if strings.HasSuffix(view, "json") {
					checkJSONLines(t, out)
				}
			})
		}
	}
}

// checkJSONLines checks the NDJSON contract: one object per line, "type"
// first, the summary last, and the keys the issue names on packets.
func checkJSONLines(t *testing.T, out string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, `{"type":"`) {
			t.Fatalf("line %d does not start with the type: %.60s", i+1, l)
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(l), &obj); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i+1, err, l)
		}
		if i == len(lines)-1 && obj["type"] != "summary" {
			t.Errorf("the last line is %v, want the summary", obj["type"])
		}
		if obj["type"] != "packet" {
			continue
		}
		for _, k := range []string{"n", "time", "length", "layers"} {
			if _, ok := obj[k]; !ok {
				t.Fatalf("packet line %d lacks %q", i+1, k)
			}
		}
		for _, l := range obj["layers"].([]any) {
			layer := l.(map[string]any)
			need := []string{"name", "pdu", "layer"}
			switch layer["name"] {
			case "ipv4":
				need = append(need, "src", "dst", "ttl", "protocol")
			case "tcp":
				need = append(need, "src_port", "dst_port", "seq", "ack", "flags", "window", "options")
			case "icmp", "icmpv6":
				need = append(need, "type", "code")
			case "tls":
				need = append(need, "records", "messages")
			}
			for _, k := range need {
				if _, ok := layer[k]; !ok {
					t.Fatalf("line %d: layer %v lacks %q", i+1, layer["name"], k)
				}
			}
		}
	}
}

// TestDecodeJSONTLSKeys checks the TLS keys the JSON contract promises on
// a real handshake: ClientHello's server_name and cipher_suites, and
// ServerHello's cipher_suite.
func TestDecodeJSONTLSKeys(t *testing.T) {
	out, _, code := runCLI(t, "decode", "--json", "--proto", "tls", filepath.Join(decodeData, "tls-openssl.pcap"))
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var sawClient, sawServer bool
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var p struct {
			Layers []struct {
				Name     string `json:"name"`
				Records  []map[string]any
				Messages []struct {
					Type         int      `json:"type"`
					Name         string   `json:"name"`
					ServerName   string   `json:"server_name"`
					CipherSuites []string `json:"cipher_suites"`
					CipherSuite  string   `json:"cipher_suite"`
				}
			}
		}
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			t.Fatal(err)
		}
		for _, layer := range p.Layers {
			for _, m := range layer.Messages {
				switch m.Type {
				case 1:
					sawClient = true
					if m.ServerName != "www.lab.test" || len(m.CipherSuites) == 0 {
						t.Errorf("ClientHello: %+v", m)
					}
				case 2:
					sawServer = true
					if !strings.HasPrefix(m.CipherSuite, "TLS_") {
						t.Errorf("ServerHello: %+v", m)
					}
				}
			}
		}
	}
	if !sawClient || !sawServer {
		t.Errorf("ClientHello seen %v, ServerHello seen %v", sawClient, sawServer)
	}
}

func TestDecodeUsageErrors(t *testing.T) {
	capture := filepath.Join(decodeData, "icmp.pcap")
	cases := [][]string{
		{"decode"},
		{"decode", capture, capture},
		{"decode", "--hex", "45", capture},
		{"decode", "--link", "ip", capture},
		{"decode", "--hex", "45", "--link", "token-ring"},
		{"decode", "--summary", "--json", capture},
		{"decode", "-x", "--json", capture},
		{"decode", "--stats", "--summary", capture},
		{"decode", "--count", "-1", capture},
		{"decode", "--proto", "carrier-pigeon", capture},
		{"decode", "--host", "not-an-address", capture},
		{"decode", "--port", "70000", capture},
		{"decode", "--conversation", "-2", capture},
	}
	for _, args := range cases {
		checkUsageError(t, args, "")
	}
}

func TestDecodeBadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pcap, err := os.ReadFile(filepath.Join(decodeData, "tcp.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	// The records of the capture, to cut and corrupt them.
	var offs []int
	for off := 24; off < len(pcap); off += 16 + int(binary.LittleEndian.Uint32(pcap[off+8:])) {
		offs = append(offs, off)
	}
	corrupt := bytes.Clone(pcap)
	binary.LittleEndian.PutUint32(corrupt[offs[4]+8:], 0x40000000)
	cut := snapCut(pcap, offs, 60)

	cases := []struct {
		name       string
		path       string
		stdout     int // packets shown
		stderrHas  []string
		exitStatus int
	}{
		{"not a capture", write("notes.txt", []byte("hello, world\n")), 0, []string{"not a pcap or pcapng file"}, 2},
		{"missing", filepath.Join(dir, "nope.pcap"), 0, []string{"open ", "no such file"}, 2},
		{"directory", dir, 0, []string{dir + " is a directory, not a capture file"}, 2},
		{"truncated", write("trunc.pcap", pcap[:offs[6]+30]), 6, []string{"packet 7 at byte offset", "truncated file", "decoded the 6 packets"}, 2},
		{"truncated after one", write("trunc1.pcap", pcap[:offs[1]+30]), 1, []string{"packet 2 at byte offset", "decoded the 1 packet before"}, 2},
		{"corrupt length", write("corrupt.pcap", corrupt), 4, []string{"packet 5 at byte offset", "corrupt capture"}, 2},
		{"snaplen cut", write("cut.pcap", cut), len(offs), []string{"packet 3 at byte offset", "cut by the snap length (60 of 74 bytes captured)"}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, "decode", "--summary", c.path)
			if code != c.exitStatus {
				t.Errorf("exit %d, want %d", code, c.exitStatus)
			}
			if n := strings.Count(out, "\n"); n != c.stdout {
				t.Errorf("%d packets shown, want %d:\n%s", n, c.stdout, out)
			}
			for _, s := range c.stderrHas {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
		})
	}
}

// snapCut rewrites a pcap as if captured with a snap length of snap.
func snapCut(pcap []byte, offs []int, snap int) []byte {
	out := bytes.Clone(pcap[:24])
	binary.LittleEndian.PutUint32(out[16:], uint32(snap))
	for _, off := range offs {
		caplen := int(binary.LittleEndian.Uint32(pcap[off+8:]))
		n := min(caplen, snap)
		hdr := bytes.Clone(pcap[off : off+16])
		binary.LittleEndian.PutUint32(hdr[8:], uint32(n))
		out = append(out, hdr...)
		out = append(out, pcap[off+16:off+16+n]...)
	}
	return out
}

func TestDecodeHex(t *testing.T) {
	// An ICMP echo request in raw IP, written as plain hex.
	ping := "450000540001400040017a5ec6120002c612010a0800f7ff00000000"
	out, errOut, code := runCLI(t, "decode", "--summary", "--link", "ip", "--hex", ping)
	if code != 0 || !strings.Contains(out, "IP 198.18.0.2 > 198.18.1.10: ICMP echo request, id 0, seq 0") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
	dump, err := os.ReadFile(filepath.Join(decodeData, "hex", "tcpdump-xx.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code = Run(context.Background(), []string{"decode", "--hex", "-"}, &Streams{
		In: bytes.NewReader(dump), Out: &stdout, Err: &stderr, Getenv: func(string) string { return "" },
	})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	golden.Check(t, filepath.Join(decodeData, "golden", "hex-tcpdump-xx.tree"), stdout.Bytes())
	if stderr.Len() > 0 {
		t.Errorf("tcpdump -xx frames are Ethernet, yet: %s", stderr.String())
	}
	// tcpdump -x leaves the link layer out: decoding its IP packets as
	// Ethernet gives nonsense, and decode says so.
	dumpx, err := os.ReadFile(filepath.Join(decodeData, "hex", "tcpdump-x.txt"))
	if err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	code = Run(context.Background(), []string{"decode", "--summary", "--hex", "-"}, &Streams{
		In: bytes.NewReader(dumpx), Out: &stdout, Err: &stderr, Getenv: func(string) string { return "" },
	})
	if code != 0 || !strings.Contains(stderr.String(), "frame 3 is an IP packet without a link-layer header") ||
		!strings.Contains(stderr.String(), "--link ip") {
		t.Errorf("tcpdump -x dump as Ethernet: exit %d, stderr %q; want a hint to use --link ip", code, stderr.String())
	}

	_, errOut, code = runCLI(t, "decode", "--hex", "not hex at all")
	if code != 2 || !strings.Contains(errOut, "not a hex dump") {
		t.Errorf("bad hex: exit %d, %q", code, errOut)
	}
}

func TestDecodeFiltersAndCount(t *testing.T) {
	capture := filepath.Join(decodeData, "tcp.pcap")
	count := func(args ...string) int {
		out, errOut, code := runCLI(t, append(append([]string{"decode", "--summary"}, args...), capture)...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, errOut)
		}
		return strings.Count(out, "\n")
	}
	all := count()
	if n := count("--proto", "arp"); n != 2 {
		t.Errorf("--proto arp: %d packets, want 2", n)
	}
	if n := count("--port", "7001"); n != 8 {
		t.Errorf("--port 7001: %d packets, want 8", n)
	}
	if n := count("--conversation", "1"); n != 10 {
		t.Errorf("--conversation 1: %d packets, want 10", n)
	}
	if n := count("--host", "198.18.1.10", "--proto", "tcp"); n != 22 {
		t.Errorf("--host --proto: %d packets, want 22", n)
	}
	if n := count("-c", "3"); n != 3 || all < 3 {
		t.Errorf("-c 3: %d packets of %d", n, all)
	}
	// --stats counts what passes the filters: the refused connection to
	// port 7002 is a SYN and a reset, and the only conversation listed.
	out, _, _ := runCLI(t, "decode", "--stats", "--port", "7002", capture)
	if !strings.Contains(out, "2 of 28 packets pass the filters") {
		t.Errorf("--stats with a filter should say how many packets it counts:\n%s", out)
	}
	for _, want := range []string{"\n  eth                                  2          128\n", "#3 tcp", "refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("--stats --port 7002 lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "#1 tcp") || strings.Contains(out, "arp") {
		t.Errorf("--stats --port 7002 counts packets the filter drops:\n%s", out)
	}
}

// TestDecodeFCS decodes frames whose capture keeps the Ethernet frame
// check sequence (the pcap header's FCS bits): the FCS is checked, a frame
// cut by the snap length has lost its FCS and shows none, and no FCS is
// taken for padding.
func TestDecodeFCS(t *testing.T) {
	arp := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x06,
		0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 198, 18, 0, 2, 0, 0, 0, 0, 0, 0, 198, 18, 0, 1}
	good := layers.AppendFCS(bytes.Clone(arp))
	bad := bytes.Clone(good)
	bad[len(bad)-1] ^= 0xff
	pcap := binary.LittleEndian.AppendUint32(nil, 0xa1b2c3d4)
	pcap = binary.LittleEndian.AppendUint16(pcap, 2)
	pcap = binary.LittleEndian.AppendUint16(pcap, 4)
	pcap = append(pcap, make([]byte, 8)...)
	pcap = binary.LittleEndian.AppendUint32(pcap, 65535)
	pcap = binary.LittleEndian.AppendUint32(pcap, uint32(layers.LinkTypeEthernet)|0x10000000|2<<29)
	for i, frame := range [][]byte{good, bad, good[:30]} {
		pcap = binary.LittleEndian.AppendUint32(pcap, uint32(1_700_000_000+i))
		pcap = binary.LittleEndian.AppendUint32(pcap, 0)
		pcap = binary.LittleEndian.AppendUint32(pcap, uint32(len(frame)))
		pcap = binary.LittleEndian.AppendUint32(pcap, uint32(len(good)))
		pcap = append(pcap, frame...)
	}
	path := filepath.Join(t.TempDir(), "fcs.pcap")
	if err := os.WriteFile(path, pcap, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, code := runCLI(t, "decode", path)
	if code != 2 {
		t.Errorf("exit %d, want 2 for the cut packet", code)
	}
	packets := strings.Split(out, "\nPacket ")
	if len(packets) != 3 {
		t.Fatalf("%d packets shown:\n%s", len(packets), out)
	}
	fcs := hexBytes(good[len(good)-4:])
	for i, want := range []string{"frame check sequence " + fcs + " good", "frame check sequence " + hexBytes(bad[len(bad)-4:]) + " bad"} {
		if !strings.Contains(packets[i], want) {
			t.Errorf("packet %d lacks %q:\n%s", i+1, want, packets[i])
		}
	}
	if strings.Contains(packets[2], "frame check sequence") || strings.Contains(out, "trailer") {
		t.Errorf("a cut frame has no FCS, and an FCS is no trailer:\n%s", out)
	}
	js, _, _ := runCLI(t, "decode", "--json", path)
	if !strings.Contains(js, `"fcs_status":"good"`) || !strings.Contains(js, `"fcs_status":"bad"`) {
		t.Errorf("JSON lacks the FCS checks:\n%s", js)
	}
}

// failingWriter fails every write, as a full disk does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// TestDecodeWriteError: output that cannot be written is a local error
// (exit 4) in every view, not a silent success.
func TestDecodeWriteError(t *testing.T) {
	capture := filepath.Join(decodeData, "tcp.pcap")
	for _, view := range []string{"tree", "summary", "json", "stats", "stats.json", "hexdump"} {
		var stderr bytes.Buffer
		args := append(append([]string{"decode"}, viewArgs[view]...), capture)
		code := Run(context.Background(), args, &Streams{Out: failingWriter{}, Err: &stderr, Getenv: func(string) string { return "" }})
		if code != 4 || !strings.Contains(stderr.String(), "write the output") {
			t.Errorf("%s: exit %d, stderr %q; want exit 4 and the write error", view, code, stderr.String())
		}
	}
}

// TestDecodeHexLinkTypes decodes one ICMP echo request given as hex in
// every --link framing: each names its link layer and finds the packet.
func TestDecodeHexLinkTypes(t *testing.T) {
	ping := "450000540001400040017a5ec6120002c612010a0800f7ff00000000"
	cases := []struct{ link, head, title, field string }{
		{"eth", "02000000000102000000000208 00", "Ethernet II", "type IPv4 (0x0800)"},
		{"ip", "", "IPv4", "198.18.0.2 → 198.18.1.10"},
		{"null", "02000000", "BSD loopback", "address family 2 (IPv4)"},
		{"ppp", "ff030021", "PPP", "protocol IPv4 (0x0021)"},
		{"chdlc", "0f000800", "Cisco HDLC", "address 0x0f  type IPv4 (0x0800)"},
		{"sll", "0000000100060200000000010000 0800", "Linux cooked capture (SLL)", "direction in (to us)"},
		{"sll2", "0800000000000003000104060200000000010000", "Linux cooked capture v2 (SLL2)", "direction out (sent by us)  interface index 3"},
	}
	for _, c := range cases {
		out, errOut, code := runCLI(t, "decode", "--link", c.link, "--hex", c.head+ping)
		if code != 0 {
			t.Errorf("--link %s: exit %d: %s", c.link, code, errOut)
			continue
		}
		for _, want := range []string{c.title, c.field, "echo request (type 8, code 0)"} {
			if !strings.Contains(out, want) {
				t.Errorf("--link %s: output lacks %q:\n%s", c.link, want, out)
			}
		}
	}
}

// TestDecodeInterruptedPipe: reading a capture from a pipe that goes
// quiet, an interrupt ends decode at once, with what was decoded shown,
// whether the quiet comes after some packets or before the file header.
func TestDecodeInterruptedPipe(t *testing.T) {
	pcap, err := os.ReadFile(filepath.Join(decodeData, "tcp.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	recs := 24 + 16 + int(binary.LittleEndian.Uint32(pcap[24+8:])) // the header and the first packet
	for _, c := range []struct {
		name    string
		send    []byte
		packets int
	}{{"after a packet", pcap[:recs], 1}, {"before the header", nil, 0}} {
		t.Run(c.name, func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			defer w.Close()
			if _, err := w.Write(c.send); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			var stdout, stderr bytes.Buffer
			done := make(chan int)
			go func() {
				done <- Run(ctx, []string{"decode", "--summary", "-"}, &Streams{In: r, Out: &stdout, Err: &stderr, Getenv: func(string) string { return "" }})
			}()
			time.Sleep(200 * time.Millisecond)
			cancel()
			select {
			case code := <-done:
				if code != 1 || !strings.Contains(stderr.String(), "interrupted") || strings.Count(stdout.String(), "\n") != c.packets {
					t.Errorf("exit %d, %d packets shown, stderr %q; want exit 1, %d packets, interrupted", code, strings.Count(stdout.String(), "\n"), stderr.String(), c.packets)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("decode still waits for the quiet pipe 5 s after the interrupt")
			}
		})
	}
}
