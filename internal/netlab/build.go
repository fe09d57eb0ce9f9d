package netlab

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var builds = struct {
	mu sync.Mutex
	m  map[string]*build
}{m: map[string]*build{}}

type build struct {
	once sync.Once
	path string
	err  error
}

// Netdiag returns the path of the netdiag binary, built from ./cmd/netdiag
// once per test process (see Build). End-to-end tests run it inside the
// lab: lab.Client.Exec(netlab.Netdiag(t), "ping", "198.18.1.10").
func Netdiag(t testing.TB) string {
	t.Helper()
	return Build(t, "./cmd/netdiag")
}

// Build compiles the main package pkg, a path relative to the module root
// such as "./cmd/netdiag", once per test process, and returns the path of
// the binary. The module root is found by asking `go env GOMOD` from the
// test's working directory (its package directory). Binaries are static
// (CGO_ENABLED=0), world-executable so that tests can run them as Nobody,
// and kept in a directory per user and module under the system's temporary
// directory; each build removes the binaries of test processes that have
// ended.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	builds.mu.Lock()
	b, ok := builds.m[pkg]
	if !ok {
		b = &build{}
		builds.m[pkg] = b
	}
	builds.mu.Unlock()
	b.once.Do(func() { b.path, b.err = buildBinary(pkg) })
	if b.err != nil {
		t.Fatalf("netlab: build %s: %v", pkg, b.err)
	}
	return b.path
}

func buildBinary(pkg string) (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is not on PATH: %w", err)
	}
	root, err := moduleRoot(goTool)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(root))
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("netlab-bin-%d-%s", os.Getuid(), hex.EncodeToString(sum[:6])))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", err
	}
	removeEndedBuilds(dir)
	start, _ := processStart(os.Getpid())
	out := filepath.Join(dir, fmt.Sprintf("%s-%d-%d", filepath.Base(pkg), os.Getpid(), start))
	cmd := exec.Command(goTool, "build", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build -o %s %s: %w: %s", out, pkg, err, strings.TrimSpace(string(msg)))
	}
	return out, nil
}

// moduleRoot returns the directory of the go.mod governing the current
// directory.
func moduleRoot(goTool string) (string, error) {
	out, err := exec.Command(goTool, "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("the working directory is not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}

// removeEndedBuilds deletes binaries (named <pkg>-<pid>-<start>) whose
// test process is gone. Process start times are only known on Linux;
// elsewhere binaries stay.
func removeEndedBuilds(dir string) {
	if runtime.GOOS != "linux" {
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		f := strings.Split(e.Name(), "-")
		if len(f) < 3 {
			continue
		}
		pid, err1 := strconv.Atoi(f[len(f)-2])
		start, err2 := strconv.ParseUint(f[len(f)-1], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		if now, err := processStart(pid); err != nil || now != start {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
