package netlab

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// init pins the main goroutine to the main thread for the life of the
// test binary, so that no goroutine of Do ever runs on (and changes the
// namespace of) the main thread, which the runtime cannot end.
func init() {
	runtime.LockOSThread()
}

// Do runs fn on an OS thread that has joined the node's network namespace
// and returns fn's error. A panic in fn is re-raised in the caller.
//
// What fn opens stays in the namespace: a socket created inside fn (a
// listener, a raw ICMP socket, a dialled connection) belongs to the
// namespace for its whole life and may be used, served and closed from
// any goroutine afterwards. What fn starts does not: goroutines started
// inside fn run on other threads, in the initial namespace, and so does
// Go's resolver unless it is pointed at a lab server explicitly. The
// thread's mount namespace is not changed, so /etc/netns files do not
// apply either; use Command for programs. Do not start processes from
// inside fn: the thread ends when fn returns.
//
// The thread is never handed back to the Go scheduler: the goroutine exits
// still locked to it, so the runtime destroys the thread instead of
// reusing it somewhere else.
func (n *Node) Do(fn func() error) error {
	type result struct {
		err      error
		panicked bool
		value    any
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		r := result{}
		defer func() {
			if v := recover(); v != nil {
				r = result{panicked: true, value: v}
			}
			done <- r
		}()
		if unix.Gettid() == os.Getpid() {
			// The main thread is never moved: a locked goroutine that
			// exits there parks the thread instead of ending it, and the
			// process as a whole would then appear to live inside the
			// namespace (ip netns pids, /proc/self/ns/net). init keeps the
			// main goroutine on the main thread, so this does not happen.
			r.err = errors.New("netlab: Do was scheduled on the main thread")
			return
		}
		if err := enterNamespace(n.Name); err != nil {
			r.err = err
			return
		}
		r.err = fn()
	}()
	r := <-done
	if r.panicked {
		panic(r.value)
	}
	return r.err
}

// enterNamespace moves the calling thread into the named namespace.
func enterNamespace(name string) error {
	f, err := os.Open(filepath.Join(netnsDir, name))
	if err != nil {
		return fmt.Errorf("netlab: open namespace %s: %w", name, err)
	}
	defer f.Close()
	if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("netlab: setns %s: %w", name, err)
	}
	return nil
}

// serverAttrs makes a long-running child its own process group (so the
// whole group can be signalled) and kills it if the test process dies.
func serverAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

var forker struct {
	once sync.Once
	reqs chan func()
}

// startCmd starts cmd from a thread that lives as long as the process.
// Linux sends the parent-death signal when the thread that forked the
// child ends, not the process, and Do ends threads: a server forked from
// an ordinary goroutine would be killed as soon as a later Do happened to
// run on (and end) that goroutine's thread.
func startCmd(cmd *exec.Cmd) error {
	forker.once.Do(func() {
		forker.reqs = make(chan func())
		go func() {
			runtime.LockOSThread()
			for f := range forker.reqs {
				f()
			}
		}()
	})
	errc := make(chan error, 1)
	forker.reqs <- func() { errc <- cmd.Start() }
	return <-errc
}

// signalGroup signals the process group led by pid.
func signalGroup(pid int, sig syscall.Signal) error {
	return syscall.Kill(-pid, sig)
}

func killPid(pid int) {
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// processStart returns the start time of pid in clock ticks since boot
// (field 22 of /proc/<pid>/stat), which tells a process from a later one
// that reuses its number.
func processStart(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state), so field 22 is f[19].
	if len(f) < 20 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}
