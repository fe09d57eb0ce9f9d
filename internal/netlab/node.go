package netlab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Node is one network namespace of a lab: a host or a router.
type Node struct {
	// Name is the namespace name, nd-<Role>-<suffix>; it is what
	// `ip netns exec` and `ip -n` take.
	Name string
	// Role says what the node is: client, router, r2, srv0, srv1, dns.
	Role string
	// Addr4 and Addr6 are the node's addresses on its subnet; the
	// router's are its client-side addresses.
	Addr4, Addr6 netip.Addr

	lab    *Lab
	router bool

	faultMu    sync.Mutex
	faultTable bool
	faults     []*Rule
}

// String returns the namespace name.
func (n *Node) String() string { return n.Name }

// ExecTimeout bounds Exec, ExecAs and Run: a command that has not ended by
// then is killed.
const ExecTimeout = 30 * time.Second

// User is the identity a command runs as inside a namespace.
type User struct{ UID, GID uint32 }

// Nobody is the unprivileged user (nobody/nogroup on Debian).
var Nobody = User{UID: 65534, GID: 65534}

// Command returns a command that runs name with args inside the node's
// namespace through `ip netns exec`, which also bind-mounts the files of
// /etc/netns/<namespace>/ (the lab's resolv.conf) over /etc. It runs as
// root.
func (n *Node) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// CommandAs is Command for an unprivileged user: entering a namespace
// needs root, so `ip netns exec` runs as root and setpriv(1) (util-linux)
// switches to u's user and group, with no supplementary groups and no
// capabilities, just before name runs.
func (n *Node) CommandAs(ctx context.Context, u User, name string, args ...string) *exec.Cmd {
	a := []string{"netns", "exec", n.Name, "setpriv",
		"--reuid=" + strconv.FormatUint(uint64(u.UID), 10),
		"--regid=" + strconv.FormatUint(uint64(u.GID), 10),
		"--clear-groups", "--", name}
	return exec.CommandContext(ctx, "ip", append(a, args...)...)
}

// Exec runs name with args in the namespace as root, waits at most
// ExecTimeout and returns the combined output. A non-zero exit is an
// error that carries the command line and its output.
func (n *Node) Exec(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ExecTimeout)
	defer cancel()
	return combined(n.Command(ctx, name, args...))
}

// ExecAs is Exec as user u (see CommandAs).
func (n *Node) ExecAs(u User, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ExecTimeout)
	defer cancel()
	return combined(n.CommandAs(ctx, u, name, args...))
}

// Run is Exec that fails the test when the command fails.
func (n *Node) Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := n.Exec(name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func combined(cmd *exec.Cmd) (string, error) {
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("netlab: %s: %w: %s", strings.Join(cmd.Args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// IP runs `ip -n <namespace> args...` and fails the test on error.
func (n *Node) IP(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ExecTimeout)
	defer cancel()
	out, err := combined(exec.CommandContext(ctx, "ip", append([]string{"-n", n.Name}, args...)...))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Nft feeds script to `nft -f -` inside the namespace and returns nft's
// output; it fails the test on error.
func (n *Node) Nft(t testing.TB, script string) string {
	t.Helper()
	out, err := n.nft(script)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (n *Node) nft(script string, flags ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ExecTimeout)
	defer cancel()
	args := append(append([]string{}, flags...), "-f", "-")
	cmd := n.Command(ctx, "nft", args...)
	cmd.Stdin = strings.NewReader(script)
	return combined(cmd)
}

// Sysctl sets a kernel parameter of the node's namespace, for example
// Sysctl(t, "net.ipv4.icmp_echo_ignore_all", "1") or
// Sysctl(t, "net.ipv4.ping_group_range", "0 2147483647"). Keys use dots,
// or slashes when a part contains a dot.
func (n *Node) Sysctl(t testing.TB, key, value string) {
	t.Helper()
	if err := n.setSysctls([][2]string{{key, value}}); err != nil {
		t.Fatal(err)
	}
}

// ReadSysctl returns a kernel parameter of the node's namespace, without
// the trailing newline.
func (n *Node) ReadSysctl(t testing.TB, key string) string {
	t.Helper()
	var v []byte
	err := n.Do(func() error {
		var err error
		v, err = os.ReadFile(sysctlPath(key))
		return err
	})
	if err != nil {
		t.Fatalf("netlab: %s: read sysctl %s: %v", n.Name, key, err)
	}
	return strings.TrimRight(string(v), "\n")
}

// setSysctls writes kernel parameters from a thread inside the namespace:
// /proc/sys/net shows the network namespace of the thread that opens it.
func (n *Node) setSysctls(kv [][2]string) error {
	return n.Do(func() error {
		var errs []error
		for _, p := range kv {
			if err := os.WriteFile(sysctlPath(p[0]), []byte(p[1]), 0); err != nil {
				errs = append(errs, fmt.Errorf("netlab: %s: sysctl %s=%s: %w", n.Name, p[0], p[1], err))
			}
		}
		return errors.Join(errs...)
	})
}

func sysctlPath(key string) string {
	if !strings.Contains(key, "/") {
		key = strings.ReplaceAll(key, ".", "/")
	}
	return "/proc/sys/" + strings.TrimPrefix(key, "/")
}

// AddLocalPrefix makes the host answer for every address of p (a route of
// type local on its loopback) and routes p to the host on the router, so
// one host can stand for a whole block, for example a sweep of 1,000
// addresses. The kernel answers pings and TCP for each of them. p must lie
// in the lab's ranges; FreeNet4 and FreeNet6 are meant for this.
func (n *Node) AddLocalPrefix(t testing.TB, p netip.Prefix) {
	t.Helper()
	p = p.Masked()
	if !inLab(p) {
		t.Fatalf("netlab: %s is outside the lab ranges %s and %s", p, LabNet4, LabNet6)
	}
	if n.router {
		t.Fatalf("netlab: AddLocalPrefix needs a host, not the router %s", n.Name)
	}
	gw := n.Addr4
	if p.Addr().Is6() {
		gw = n.Addr6
	}
	n.IP(t, "route", "add", "local", p.String(), "dev", "lo")
	n.lab.Router.IP(t, "route", "add", p.String(), "via", gw.String())
}
