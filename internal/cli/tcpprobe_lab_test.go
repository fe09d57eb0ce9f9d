package cli_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/netdiag/netdiag/internal/netlab"
)

// runNetdiag runs the built netdiag in node's namespace, as root or as
// user u when u is not nil, and returns stdout, stderr and the exit code.
func runNetdiag(t *testing.T, node *netlab.Node, u *netlab.User, args ...string) (string, string, int) {
	t.Helper()
	bin := netlab.Netdiag(t)
	ctx, cancel := context.WithTimeout(context.Background(), netlab.ExecTimeout)
	defer cancel()
	cmd := node.Command(ctx, bin, args...)
	if u != nil {
		cmd = node.CommandAs(ctx, *u, bin, args...)
	}
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out.String(), errb.String(), 0
	case errors.As(err, &exit):
		return out.String(), errb.String(), exit.ExitCode()
	}
	t.Fatalf("run netdiag %v: %v", args, err)
	return "", "", -1
}

// jsonLines decodes NDJSON output, failing the test on a bad line.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("bad JSON line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	return lines
}

// probesByPort returns the "probe" objects keyed by port.
func probesByPort(t *testing.T, lines []map[string]any) map[int]map[string]any {
	t.Helper()
	out := map[int]map[string]any{}
	for _, l := range lines {
		if l["type"] == "probe" {
			out[int(l["port"].(float64))] = l
		}
	}
	return out
}

// serve accepts connections on addr in node and closes them at once.
func serve(t *testing.T, node *netlab.Node, network, addr string) {
	t.Helper()
	netlab.Serve(node.Listen(t, network, addr), func(net.Conn) {})
}

// TestLabTCPProbeUnprivileged runs connect mode as nobody: no privilege is
// needed to tell open, closed and a firewall's admin-prohibited apart,
// with the firewall's address. The raw modes exit 4 and say how to get
// the permission.
func TestLabTCPProbeUnprivileged(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	serve(t, srv, "tcp", ":8080")
	lab.Router.AddFault(t, netlab.Fault{Action: netlab.RejectAdminProhibited, Proto: netlab.TCP, Port: 8083})
	nobody := netlab.Nobody

	for _, addr := range []netip.Addr{srv.Addr4, srv.Addr6} {
		out, errOut, code := runNetdiag(t, lab.Client, &nobody, "tcpprobe", "--json", "-p", "8080,8081,8083", addr.String())
		if code != 1 {
			t.Fatalf("%s: exit %d, want 1\n%s%s", addr, code, out, errOut)
		}
		lines := jsonLines(t, out)
		probes := probesByPort(t, lines)
		router := netlab.RouterClientSide4.String()
		if addr.Is6() {
			router = netlab.RouterClientSide6.String()
		}
		checks := []struct {
			port                int
			state, reason, from string
		}{
			{8080, "open", "", ""},
			{8081, "closed", "reset", ""},
			{8083, "filtered", "admin-prohibited", router},
		}
		for _, c := range checks {
			p := probes[c.port]
			if p == nil {
				t.Fatalf("%s: no probe of port %d:\n%s", addr, c.port, out)
			}
			reason, _ := p["reason"].(string)
			from, _ := p["from"].(string)
			if p["state"] != c.state || reason != c.reason || from != c.from {
				t.Errorf("%s port %d: %v/%v from %q, want %s/%s from %q", addr, c.port, p["state"], reason, from, c.state, c.reason, c.from)
			}
		}
		if last := lines[len(lines)-1]; last["type"] != "summary" || last["mode"] != "connect" || last["open"] != 1.0 || last["filtered"] != 1.0 {
			t.Errorf("summary %v", last)
		}

		out, _, code = runNetdiag(t, lab.Client, &nobody, "tcpprobe", net.JoinHostPort(addr.String(), "8080"))
		if code != 0 || !strings.Contains(out, " open ") {
			t.Errorf("%s: open port: exit %d\n%s", addr, code, out)
		}
	}

	for _, mode := range []string{"--syn", "--trace"} {
		out, errOut, code := runNetdiag(t, lab.Client, &nobody, "tcpprobe", mode, srv.Addr4.String()+":8080")
		if code != 4 || out != "" || !strings.Contains(errOut, "CAP_NET_RAW") || !strings.Contains(errOut, "setcap cap_net_raw+ep") {
			t.Errorf("%s as nobody: exit %d, stdout %q, stderr %q; want exit 4 saying how to get the permission", mode, code, out, errOut)
		}
	}
}

// TestLabTCPProbeExitCodes checks the exit codes of the built binary for
// bad input (2) and a name that does not resolve (3), and a name that
// resolves through the lab's DNS.
func TestLabTCPProbeExitCodes(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	serve(t, srv, "tcp", ":8080")
	lab.StartDNS(t, netlab.DNSConfig{Records: map[string][]netip.Addr{"web": {srv.Addr4, srv.Addr6}}})

	for _, args := range [][]string{
		{"tcpprobe", "198.18.1.10"},
		{"tcpprobe", "198.18.1.10:0"},
		{"tcpprobe", "198.18.1.10:99999"},
		{"tcpprobe", "-p", "80-", "198.18.1.10"},
		{"tcpprobe", "-p", "9,x", "198.18.1.10"},
	} {
		out, errOut, code := runNetdiag(t, lab.Client, nil, args...)
		if code != 2 || out != "" || !strings.HasPrefix(errOut, "netdiag: ") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2", args, code, out, errOut)
		}
	}
	out, errOut, code := runNetdiag(t, lab.Client, nil, "tcpprobe", "nope."+netlab.LabDomain+":80")
	if code != 3 || !strings.Contains(errOut, "cannot resolve") {
		t.Errorf("unknown name: exit %d\n%s%s", code, out, errOut)
	}
	for _, fam := range []string{"-4", "-6"} {
		out, errOut, code = runNetdiag(t, lab.Client, nil, "tcpprobe", fam, "web."+netlab.LabDomain+":8080")
		if code != 0 || !strings.Contains(out, "web."+netlab.LabDomain+":8080 (") || !strings.Contains(out, " open ") {
			t.Errorf("%s by name: exit %d\n%s%s", fam, code, out, errOut)
		}
	}
}

// TestLabTCPProbeSlowNeighbour gives the client the kernel's default
// neighbour resolution (three solicitations a second apart), which
// gives up only after the 1 s timeout: a host on the client's own link
// that does not answer ARP or neighbour discovery is still reported as
// an unresolved neighbour, in connect and SYN mode, not as a silent
// drop.
func TestLabTCPProbeSlowNeighbour(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	for _, fam := range []string{"ipv4", "ipv6"} {
		lab.Client.Sysctl(t, "net."+fam+".neigh.eth0.retrans_time_ms", "1000")
		lab.Client.Sysctl(t, "net."+fam+".neigh.eth0.mcast_solicit", "3")
	}
	// Each mode probes addresses of its own: a neighbour entry left
	// failed by an earlier run makes the kernel give up sooner, within
	// the timeout, which is not the case tested here.
	no4, no6 := netlab.NoNeighbor4, netlab.NoNeighbor6
	for _, mode := range []string{"--syn", "--trace", "connect"} {
		no4, no6 = no4.Prev(), no6.Prev()
		args := []string{"tcpprobe", "--json", "--timeout", "1", no4.String() + ":80", "[" + no6.String() + "]:80"}
		if mode != "connect" {
			args = append(args, mode)
		}
		out, errOut, code := runNetdiag(t, lab.Client, nil, args...)
		if code != 1 {
			t.Fatalf("%s: exit %d\n%s%s", mode, code, out, errOut)
		}
		probes := 0
		for _, l := range jsonLines(t, out) {
			if l["type"] != "probe" {
				continue
			}
			probes++
			if l["state"] != "unreachable" || l["reason"] != "neighbor-unresolved" || l["wait_ms"] == nil {
				t.Errorf("%s: %v", mode, l)
			}
		}
		if probes != 2 {
			t.Errorf("%s: %d probes:\n%s", mode, probes, out)
		}
	}
	// A host behind the router that drops the SYN is still filtered by a
	// timeout: the router, the next hop, answers ARP.
	lab.Router.AddFault(t, netlab.Fault{Action: netlab.Drop, Proto: netlab.TCP, Port: 80})
	out, errOut, code := runNetdiag(t, lab.Client, nil, "tcpprobe", "--json", "--timeout", "1", lab.Servers[0].Addr4.String()+":80")
	if p := jsonLines(t, out)[0]; code != 1 || p["state"] != "filtered" || p["reason"] != "timeout" {
		t.Errorf("dropped: exit %d, %v\n%s", code, p, errOut)
	}
}
