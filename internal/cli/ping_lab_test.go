package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netdiag/netdiag/internal/netlab"
)

// These tests run the netdiag binary inside the lab (root on Linux with ip
// and nft; they skip otherwise).

type cmdResult struct {
	out, err string
	code     int
	took     time.Duration
}

func (r cmdResult) String() string {
	return fmt.Sprintf("exit %d after %v\nstdout:\n%s\nstderr:\n%s", r.code, r.took, r.out, r.err)
}

// netdiag runs the binary in node's namespace, as root or as user.
func netdiag(t *testing.T, node *netlab.Node, user *netlab.User, args ...string) cmdResult {
	t.Helper()
	cmd := netdiagCmd(t, context.Background(), node, user, args...)
	return finish(t, cmd, time.Now(), cmd.Run())
}

func netdiagCmd(t *testing.T, ctx context.Context, node *netlab.Node, user *netlab.User, args ...string) *exec.Cmd {
	t.Helper()
	bin := netlab.Netdiag(t)
	ctx, cancel := context.WithTimeout(ctx, netlab.ExecTimeout)
	t.Cleanup(cancel)
	var cmd *exec.Cmd
	if user != nil {
		cmd = node.CommandAs(ctx, *user, bin, args...)
	} else {
		cmd = node.Command(ctx, bin, args...)
	}
	cmd.Stdout, cmd.Stderr = new(bytes.Buffer), new(bytes.Buffer)
	return cmd
}

func finish(t *testing.T, cmd *exec.Cmd, start time.Time, err error) cmdResult {
	t.Helper()
	r := cmdResult{out: cmd.Stdout.(fmt.Stringer).String(), err: cmd.Stderr.(fmt.Stringer).String(), took: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run netdiag: %v", err)
	}
	return r
}

// summaries returns the summary objects of NDJSON output.
func summaries(t *testing.T, out string) []map[string]any {
	t.Helper()
	var s []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		if m["type"] == "summary" {
			s = append(s, m)
		}
	}
	return s
}

func TestPingLabExitCodesAndOutput(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	lab.Router.AddFault(t, netlab.Fault{Action: netlab.Drop, Dst: srv.Addr6, Proto: netlab.ICMP})
	lab.Router.AddFault(t, netlab.Fault{Action: netlab.RejectAdminProhibited, Dst: netlab.ServerNet4.Addr().Next().Next().Next(), Proto: netlab.ICMP})

	r := netdiag(t, lab.Client, nil, "ping", "-c", "3", "-i", "0.2", srv.Addr4.String())
	if r.code != 0 || r.err != "" || !strings.Contains(r.out, "PING 198.18.1.10 (198.18.1.10) 56(84) bytes of data.") ||
		!strings.Contains(r.out, "64 bytes from 198.18.1.10: icmp_seq=3 ttl=63 time=") ||
		!strings.Contains(r.out, "3 packets transmitted, 3 received, 0% packet loss, time ") ||
		!strings.Contains(r.out, "rtt min/avg/max/mdev = ") || !strings.Contains(r.out, "rtt p50/p95 = ") {
		t.Fatalf("healthy host: %v", r)
	}

	// A host that drops ICMP: each probe lost after 2 s, the run over
	// 2 s after the last one, not 3 x 2 s.
	r = netdiag(t, lab.Client, nil, "ping", "-c", "3", "-i", "0.2", srv.Addr6.String())
	if r.code != 1 || r.took > 4*time.Second || r.took < 2300*time.Millisecond ||
		!strings.Contains(r.out, "diagnosis: no replies and no ICMP errors: packets are dropped silently") {
		t.Fatalf("dropping host: %v", r)
	}

	r = netdiag(t, lab.Client, nil, "ping", "--json", "-c", "2", "-i", "0.2", "198.18.1.3")
	s := summaries(t, r.out)
	if r.code != 1 || len(s) != 1 || s[0]["reason"] != "admin-prohibited" || s[0]["errors"] != 2.0 || s[0]["healthy"] != false ||
		!strings.Contains(r.out, `"type":"icmp_error","target":"198.18.1.3","addr":"198.18.1.3","seq":1,"from":"198.18.0.1","icmp_type":3,"icmp_code":13,"layer":"network","reason":"admin-prohibited"`) {
		t.Fatalf("admin-prohibited: %v", r)
	}

	// Setup errors: exit 4 with one line.
	r = netdiag(t, lab.Client, nil, "ping", "-c", "1", "-I", "nosuch0", srv.Addr4.String())
	if r.code != 4 || r.out != "" || r.err != "netdiag: ping: no such interface \"nosuch0\"\n" {
		t.Fatalf("no such interface: %v", r)
	}
	r = netdiag(t, lab.Client, nil, "ping", "-c", "1", "-I", "198.18.0.77", srv.Addr4.String())
	if r.code != 4 || !strings.Contains(r.err, "198.18.0.77 is not an address of this machine") {
		t.Fatalf("foreign source address: %v", r)
	}
}

func TestPingLabNamesAndBadInput(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	lab.StartDNS(t, netlab.DNSConfig{Records: map[string][]netip.Addr{
		"web":    {srv.Addr4, srv.Addr6},
		"v4only": {srv.Addr4},
	}})
	r := netdiag(t, lab.Client, nil, "ping", "-c", "1", "-4", "web")
	if r.code != 0 || !strings.Contains(r.out, "PING web (198.18.1.10)") || !strings.Contains(r.out, "--- web ping statistics ---") {
		t.Fatalf("web: %v", r)
	}
	r = netdiag(t, lab.Client, nil, "ping", "-c", "1", "-6", "--json", "web")
	if s := summaries(t, r.out); r.code != 0 || len(s) != 1 || s[0]["addr"] != srv.Addr6.String() || s[0]["target"] != "web" {
		t.Fatalf("web over IPv6: %v", r)
	}
	cases := []struct {
		args []string
		code int
		says string
	}{
		{[]string{"ping", "-c", "1", "nope"}, 3, `netdiag: cannot resolve "nope": the name does not exist (NXDOMAIN)`},
		{[]string{"ping", "-c", "1", "-6", "v4only"}, 3, `netdiag: cannot resolve "v4only": the name exists but has no address of the requested family`},
		{[]string{"ping", "-c", "1", srv.Addr4.String(), "nope.lab.test"}, 3, "NXDOMAIN"},
		{[]string{"ping"}, 2, "netdiag: missing host to ping"},
		{[]string{"ping", "-c", "-3", "web"}, 2, "--count"},
		{[]string{"ping", "198.18.1.0/40"}, 2, "not a CIDR block"},
		{[]string{"ping", "-s", "99999", "web"}, 2, "--size"},
	}
	for _, c := range cases {
		r := netdiag(t, lab.Client, nil, c.args...)
		if r.code != c.code || r.out != "" || !strings.Contains(r.err, c.says) || strings.Count(r.err, "\n") > 3 {
			t.Errorf("%v: want exit %d saying %q, got %v", c.args, c.code, c.says, r)
		}
	}
}

func TestPingLabUnprivileged(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	// A new namespace lets nobody open ICMP datagram sockets, and nobody
	// may not open raw ones: exit 4, naming both remedies in one line.
	r := netdiag(t, lab.Client, &netlab.Nobody, "ping", "-c", "1", srv.Addr4.String())
	if r.code != 4 || r.out != "" || strings.Count(r.err, "\n") != 1 ||
		!strings.Contains(r.err, "setcap cap_net_raw+ep") || !strings.Contains(r.err, "net.ipv4.ping_group_range") ||
		strings.Contains(r.err, "operation not permitted") {
		t.Fatalf("closed range: %v", r)
	}
	r = netdiag(t, lab.Client, &netlab.Nobody, "ping", "-c", "1", "--privileged", srv.Addr4.String())
	if r.code != 4 || !strings.Contains(r.err, "setcap") || strings.Contains(r.err, "ping_group_range") {
		t.Fatalf("--privileged as nobody: %v", r)
	}

	lab.Client.Sysctl(t, "net.ipv4.ping_group_range", "0 2147483647")
	lab.Router.AddFault(t, netlab.Fault{Action: netlab.RejectAdminProhibited, Dst: netlab.ServerNet4.Addr().Next().Next().Next(), Proto: netlab.ICMP})
	lab.Router.AddFault(t, netlab.Fault{Action: netlab.RejectAdminProhibited, Dst: netip.MustParseAddr("2001:db8:1::3"), Proto: netlab.ICMP})
	r = netdiag(t, lab.Client, &netlab.Nobody, "ping", "--json", "-c", "2", "-i", "0.2", srv.Addr4.String(), srv.Addr6.String(), "198.18.1.3", "2001:db8:1::3")
	s := summaries(t, r.out)
	if r.code != 1 || len(s) != 5 {
		t.Fatalf("datagram sockets: %v", r)
	}
	for i, want := range []string{"", "", "admin-prohibited", "admin-prohibited"} {
		if got, _ := s[i]["reason"].(string); got != want || (want == "" && s[i]["received"] != 2.0) || (want != "" && s[i]["errors"] != 2.0) {
			t.Errorf("datagram socket, %v: %v", s[i]["target"], s[i])
		}
	}
}

func TestPingLabNoCrosstalk(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	lab.Client.Sysctl(t, "net.ipv4.ping_group_range", "0 2147483647")
	const n = "25"
	runs := []struct {
		user *netlab.User
		args []string
	}{
		{nil, []string{"ping", "--json", "-c", n, "-i", "0.04", srv.Addr4.String()}},
		{nil, []string{"ping", "--json", "-c", n, "-i", "0.04", "--privileged", srv.Addr4.String()}},
		{&netlab.Nobody, []string{"ping", "--json", "-c", n, "-i", "0.04", srv.Addr4.String()}},
	}
	var wg sync.WaitGroup
	results := make([]cmdResult, len(runs))
	for i, run := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = netdiag(t, lab.Client, run.user, run.args...)
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), netlab.ExecTimeout)
	defer cancel()
	// -w: iputils ping waits for all its replies, not one interval after
	// the last request, which a busy machine can overrun.
	iputils, err := lab.Client.Command(ctx, "ping", "-c", n, "-i", "0.04", "-w", "10", srv.Addr4.String()).CombinedOutput()
	wg.Wait()
	if err != nil || !strings.Contains(string(iputils), n+" packets transmitted, "+n+" received, 0% packet loss") || strings.Contains(string(iputils), "DUP") {
		t.Fatalf("iputils ping saw another run's replies: %v\n%s", err, iputils)
	}
	for i, r := range results {
		s := summaries(t, r.out)
		if r.code != 0 || len(s) != 1 || s[0]["transmitted"] != 25.0 || s[0]["received"] != 25.0 ||
			s[0]["duplicates"] != 0.0 || s[0]["late"] != 0.0 || s[0]["corrupt"] != 0.0 {
			t.Errorf("run %d saw crosstalk: %v", i, r)
		}
	}
}

func TestPingLabManyTargetsAndCIDR(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{Servers: 2})
	r := netdiag(t, lab.Client, nil, "ping", "-c", "1", "-q", "198.18.1.10/31")
	if r.code != 0 || !strings.Contains(r.out, "PING 2 targets") || !strings.Contains(r.out, "✓ 2 targets: 2 healthy") ||
		strings.Count(r.out, "ping statistics ---") != 2 {
		t.Fatalf("healthy block: %v", r)
	}
	r = netdiag(t, lab.Client, nil, "ping", "--json", "-c", "2", "-i", "0.2", "198.18.1.8/29", "2001:db8:1::10")
	s := summaries(t, r.out)
	if r.code != 1 || len(s) != 8 {
		t.Fatalf("mixed block: %v", r)
	}
	up := map[string]bool{"198.18.1.10": true, "198.18.1.11": true, "2001:db8:1::10": true}
	for _, m := range s[:7] {
		if m["healthy"] != up[m["target"].(string)] {
			t.Errorf("%v", m)
		}
	}
	if s[7]["targets"] != 7.0 || s[7]["healthy_targets"] != 3.0 || s[7]["healthy"] != false {
		t.Errorf("overall %v", s[7])
	}
}

func TestPingLabThresholdsAndUntilUp(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{Servers: 2})
	slow, lossy := lab.Servers[0], lab.Servers[1]
	slow.StartResponder(t, netlab.Always(netlab.Reply{Delay: 30 * time.Millisecond}))
	lossy.StartResponder(t, netlab.DropSeqs(netlab.Reply{}, 2))

	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"-c", "3", "-i", "0.2", "--max-rtt", "20ms", slow.Addr4.String()}, 1, "above the 20.000 ms allowed"},
		{[]string{"-c", "3", "-i", "0.2", "--max-rtt", "1s", slow.Addr4.String()}, 0, ""},
		{[]string{"-c", "4", "-i", "0.2", "-W", "0.5", "--max-loss", "10", lossy.Addr4.String()}, 1, "1 of 4 probes lost (25%)"},
		{[]string{"-c", "4", "-i", "0.2", "-W", "0.5", "--max-loss", "30", lossy.Addr4.String()}, 0, ""},
		{[]string{"-c", "4", "-i", "0.2", "-W", "0.5", lossy.Addr4.String()}, 0, ""},
	} {
		r := netdiag(t, lab.Client, nil, append([]string{"ping"}, c.args...)...)
		if r.code != c.code || !strings.Contains(r.out, c.says) {
			t.Errorf("%v: want exit %d saying %q: %v", c.args, c.code, c.says, r)
		}
	}

	// --until-up: the host comes up (the router stops dropping) after a
	// second; the run ends at the first reply.
	target := lab.Servers[0].Addr6
	rule := lab.Router.AddFault(t, netlab.Fault{Action: netlab.Drop, Dst: target, Proto: netlab.ICMP})
	cmd := netdiagCmd(t, context.Background(), lab.Client, nil, "ping", "--until-up", "-i", "0.2", "-W", "0.5", target.String())
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	rule.Remove(t)
	r := finish(t, cmd, start, cmd.Wait())
	if r.code != 0 || r.took > 3*time.Second || !strings.Contains(r.out, "bytes from "+target.String()) {
		t.Fatalf("--until-up: %v", r)
	}
	lab.Router.AddFault(t, netlab.Fault{Action: netlab.Drop, Dst: target, Proto: netlab.ICMP})
	r = netdiag(t, lab.Client, nil, "ping", "--until-up", "-i", "0.2", "-w", "1", target.String())
	if r.code != 1 || r.took > 2500*time.Millisecond || r.took < 900*time.Millisecond {
		t.Fatalf("--until-up with a deadline: %v", r)
	}
}

func TestPingLabInterrupt(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	cmd := netdiagCmd(t, context.Background(), lab.Client, nil, "ping", "-c", "0", "-i", "0.2", lab.Servers[0].Addr4.String())
	// Ctrl-C once the run is under way (its first replies printed), not
	// after a guessed start-up time.
	out := &watchedBuffer{want: "icmp_seq=3 ", seen: make(chan struct{})}
	cmd.Stdout = out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-out.seen:
	case <-time.After(netlab.ExecTimeout):
		t.Fatalf("no third reply after %v:\n%s", netlab.ExecTimeout, out.String())
	}
	// ip netns exec passes the signal on to netdiag, as a terminal's
	// Ctrl-C would reach it.
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	r := finish(t, cmd, start, cmd.Wait())
	if r.code != 0 || !strings.Contains(r.out, "packets transmitted, ") || !strings.Contains(r.out, "rtt min/avg/max/mdev") {
		t.Fatalf("Ctrl-C: %v", r)
	}
}

// watchedBuffer keeps a command's output and closes seen once the output
// contains want. The command's copying goroutine writes while the test
// waits, hence the lock.
type watchedBuffer struct {
	mu   sync.Mutex
	b    bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *watchedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.b.Write(p)
	if strings.Contains(w.b.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return n, err
}

func (w *watchedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
