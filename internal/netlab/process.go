package netlab

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ReadyTimeout bounds the WaitListening and WaitReady polls.
const ReadyTimeout = 10 * time.Second

// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
const stopGrace = 2 * time.Second

// maxOutput caps the output a Process keeps; a chatty server in a long
// benchmark must not grow the test's memory without bound.
const maxOutput = 1 << 20

// Process is a long-running program inside a namespace, started with
// Node.Start. It is stopped by the cleanup of the test that started it.
type Process struct {
	// Node is where the process runs.
	Node *Node
	// Cmd is the started command (`ip netns exec <ns> name args...`, which
	// execs name, so Cmd.Process is the program itself).
	Cmd *exec.Cmd

	name     string
	out      *cappedBuffer
	done     chan struct{}
	waitErr  error
	stopOnce sync.Once
}

// Start runs name with args inside the namespace in the background, in a
// process group of its own that is killed if the test process dies, and
// registers Stop with t.Cleanup. Standard output and error are kept (the
// first MiB) for Output. Wait for readiness with WaitListening or
// WaitReady before using the server.
func (n *Node) Start(t testing.TB, name string, args ...string) *Process {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
	cmd.SysProcAttr = serverAttrs()
	buf := &cappedBuffer{max: maxOutput}
	cmd.Stdout, cmd.Stderr = buf, buf
	if err := startCmd(cmd); err != nil {
		t.Fatalf("netlab: %s: start %s: %v", n.Name, name, err)
	}
	p := &Process{Node: n, Cmd: cmd, name: name, out: buf, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.Stop)
	return p
}

// Output returns what the process has written to stdout and stderr so far.
func (p *Process) Output() string { return p.out.String() }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err returns the process's exit error once Done is closed (nil before,
// and nil for a clean exit).
func (p *Process) Err() error {
	select {
	case <-p.done:
		return p.waitErr
	default:
		return nil
	}
}

// Stop ends the process group: SIGTERM, then SIGKILL after two seconds.
// It waits for the exit and may be called more than once.
func (p *Process) Stop() {
	p.stopOnce.Do(func() {
		select {
		case <-p.done:
			return
		default:
		}
		pid := p.Cmd.Process.Pid
		_ = signalGroup(pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopGrace):
			_ = signalGroup(pid, syscall.SIGKILL)
			<-p.done
		}
	})
}

// WaitListening waits until a socket of network "tcp" or "udp" (either
// address family) is bound to port in the process's namespace: a TCP
// socket in LISTEN state, or any UDP socket. Looking at the kernel's socket
// table, rather than connecting, leaves servers that accept only a fixed
// number of connections untouched. It fails the test when the process
// exits first or after ReadyTimeout.
func (p *Process) WaitListening(t testing.TB, network string, port uint16) {
	t.Helper()
	if network != "tcp" && network != "udp" {
		t.Fatalf("netlab: WaitListening: network %q is neither tcp nor udp", network)
	}
	p.WaitReady(t, func() error {
		var ok bool
		err := p.Node.Do(func() error {
			var err error
			ok, err = portBound(network, port)
			return err
		})
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("nothing is bound to %s port %d yet", network, port)
		}
		return nil
	})
}

// WaitReady polls ready every 10 ms until it returns nil. It fails the
// test when the process exits first (showing its output) or after
// ReadyTimeout (showing ready's last error).
func (p *Process) WaitReady(t testing.TB, ready func() error) {
	t.Helper()
	deadline := time.Now().Add(ReadyTimeout)
	for {
		err := ready()
		if err == nil {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("netlab: %s: %s exited before it was ready (%v):\n%s", p.Node.Name, p.name, p.waitErr, p.Output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("netlab: %s: %s not ready after %v: %v\n%s", p.Node.Name, p.name, ReadyTimeout, err, p.Output())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// portBound reads the calling thread's socket tables (proc(5),
// /proc/thread-self/net/{tcp,tcp6,udp,udp6}); it must run inside Do.
func portBound(network string, port uint16) (bool, error) {
	for _, table := range []string{network, network + "6"} {
		f, err := os.Open("/proc/thread-self/net/" + table)
		if errors.Is(err, os.ErrNotExist) {
			continue // IPv6 may be off
		}
		if err != nil {
			return false, err
		}
		found := scanSocketTable(f, network == "tcp", port)
		f.Close()
		if found {
			return true, nil
		}
	}
	return false, nil
}

// tcpListen is the state number of a listening socket in /proc/net/tcp.
const tcpListen = "0A"

func scanSocketTable(f *os.File, listenOnly bool, port uint16) bool {
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 {
			continue
		}
		_, hexPort, ok := strings.Cut(fields[1], ":")
		if !ok {
			continue
		}
		p, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil || uint16(p) != port {
			continue
		}
		if !listenOnly || fields[3] == tcpListen {
			return true
		}
	}
	return false
}

// cappedBuffer is a concurrency-safe buffer that keeps the first max
// bytes written to it and counts the rest.
type cappedBuffer struct {
	mu      sync.Mutex
	max     int
	buf     bytes.Buffer
	dropped int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := b.max - b.buf.Len()
	if room < len(p) {
		b.dropped += len(p) - max(room, 0)
		if room > 0 {
			b.buf.Write(p[:room])
		}
		return len(p), nil
	}
	b.buf.Write(p)
	return len(p), nil
}

func (b *cappedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped > 0 {
		return fmt.Sprintf("%s\n[netlab: %d more bytes not kept]", b.buf.String(), b.dropped)
	}
	return b.buf.String()
}
