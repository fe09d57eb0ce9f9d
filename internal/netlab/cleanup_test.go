//go:build linux

package netlab_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netdiag/netdiag/internal/netlab"
)

// leftoverEnv switches TestNothingLeftBehind into its child role: build a
// lab with one of everything, print what it consists of, then end as the
// mode says.
const leftoverEnv = "NETLAB_LEFTOVER_CHILD"

// TestNothingLeftBehind runs this test binary as a child that builds a lab
// and then passes, fails, panics or is killed with SIGKILL, and checks
// that afterwards no namespace, /etc/netns directory, registry file or
// process of that lab remains, and no process is left in its namespaces.
// After a kill the cleanup cannot run; the next lab's sweep (SweepStale)
// removes it.
func TestNothingLeftBehind(t *testing.T) {
	if mode := os.Getenv(leftoverEnv); mode != "" {
		leftoverChild(t, mode)
		return
	}
	t.Parallel()
	netlab.Require(t)
	requireTool(t, "dnsmasq")
	for _, mode := range []string{"pass", "fail", "panic", "kill"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			checkLeftovers(t, mode)
		})
	}
}

func leftoverChild(t *testing.T, mode string) {
	lab := netlab.New(t, netlab.Config{})
	srv := lab.Servers[0]
	d := lab.StartDNS(t, netlab.DNSConfig{Records: map[string][]netip.Addr{"web": {srv.Addr4}}})
	srv.StartResponder(t, nil)
	lab.Router.AddFault(t, netlab.Fault{Action: netlab.Drop, Dst: netlab.NoHost4})
	lab.AddRoutingLoop(t)
	sleeper := srv.Start(t, "sleep", "600")
	// A process the lab did not start: only the namespace sweep finds it.
	stray := lab.Client.Command(context.Background(), "sleep", "600")
	if err := stray.Start(); err != nil {
		t.Fatal(err)
	}
	var inodes []string
	for _, n := range lab.Nodes() {
		fi, err := os.Stat("/run/netns/" + n.Name)
		if err != nil {
			t.Fatal(err)
		}
		inodes = append(inodes, strconv.FormatUint(fi.Sys().(*syscall.Stat_t).Ino, 10))
	}
	fmt.Printf("NETLAB-CHILD suffix=%s pids=%d,%d,%d netns=%s\n", lab.Suffix,
		d.Dnsmasq.Cmd.Process.Pid, sleeper.Cmd.Process.Pid, stray.Process.Pid, strings.Join(inodes, ","))
	switch mode {
	case "fail":
		t.Fatal("failing on purpose")
	case "panic":
		panic("panicking on purpose")
	case "kill":
		time.Sleep(time.Minute) // the parent kills us first
	}
}

func checkLeftovers(t *testing.T, mode string) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestNothingLeftBehind$", "-test.v")
	cmd.Env = append(os.Environ(), leftoverEnv+"="+mode)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var suffix string
	var pids, inodes []string
	if mode == "kill" {
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(out.String(), "NETLAB-CHILD") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		_ = cmd.Process.Kill()
	}
	err := cmd.Wait()
	for _, line := range strings.Split(out.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "NETLAB-CHILD "); ok {
			for _, f := range strings.Fields(rest) {
				k, v, _ := strings.Cut(f, "=")
				switch k {
				case "suffix":
					suffix = v
				case "pids":
					pids = strings.Split(v, ",")
				case "netns":
					inodes = strings.Split(v, ",")
				}
			}
		}
	}
	if suffix == "" {
		t.Fatalf("the child printed no lab (%v):\n%s", err, out.String())
	}
	var ee *exec.ExitError
	switch mode {
	case "pass":
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out.String())
		}
	case "fail", "panic":
		if !errors.As(err, &ee) || ee.ExitCode() == 0 {
			t.Fatalf("child should have failed: %v\n%s", err, out.String())
		}
		if mode == "panic" && !strings.Contains(out.String(), "panicking on purpose") {
			t.Fatalf("child did not panic:\n%s", out.String())
		}
	case "kill":
		swept, err := netlab.SweepStale()
		if err != nil {
			t.Errorf("SweepStale: %v", err)
		}
		t.Logf("sweep removed %v (another test process may have swept first)", swept)
	}

	// Processes die asynchronously after SIGKILL: allow them a moment.
	deadline := time.Now().Add(5 * time.Second)
	var problems []string
	for {
		problems = leftovers(suffix, pids, inodes)
		if len(problems) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// leftovers lists what remains of the lab with the given suffix.
func leftovers(suffix string, pids, inodes []string) []string {
	var problems []string
	list, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return []string{err.Error()}
	}
	for _, line := range strings.Split(string(list), "\n") {
		if strings.Contains(line, suffix) {
			problems = append(problems, "namespace left: "+line)
		}
	}
	dirs, _ := filepath.Glob("/etc/netns/*" + suffix)
	for _, d := range dirs {
		problems = append(problems, "directory left: "+d)
	}
	if _, err := os.Stat("/run/netlab/" + suffix); err == nil {
		problems = append(problems, "registry file left: /run/netlab/"+suffix)
	}
	for _, pid := range pids {
		if b, err := os.ReadFile("/proc/" + pid + "/stat"); err == nil {
			if i := strings.LastIndexByte(string(b), ')'); i > 0 && !strings.HasPrefix(string(b[i:]), ") Z") {
				problems = append(problems, "process left: "+pid)
			}
		}
	}
	want := map[string]bool{}
	for _, ino := range inodes {
		want["net:["+ino+"]"] = true
	}
	// The kernel reuses the inode numbers of freed namespaces: a lab that
	// another test package (running at the same time) made after this one
	// was removed may have one of its numbers. A thread in such a lab is
	// not this lab's leftover; netlab names every namespace it makes.
	others, _ := filepath.Glob("/run/netns/*")
	for _, o := range others {
		var st syscall.Stat_t
		if !strings.Contains(filepath.Base(o), suffix) && syscall.Stat(o, &st) == nil {
			delete(want, "net:["+strconv.FormatUint(st.Ino, 10)+"]")
		}
	}
	links, _ := filepath.Glob("/proc/[0-9]*/task/[0-9]*/ns/net")
	for _, l := range links {
		if target, err := os.Readlink(l); err == nil && want[target] {
			problems = append(problems, "thread still in a lab namespace: "+l)
		}
	}
	return problems
}

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
