package netlab

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// registryDir holds one file per live lab: the owning process and every
// namespace the lab created. t.Cleanup removes a lab even
// when its test fails or panics, but not when the test process itself is
// killed (go test -timeout, SIGKILL); the next lab in any process then
// finds the file of the dead owner and removes the namespaces it lists
// (with their /etc/netns directories and the processes inside).
const registryDir = "/run/netlab"

type registry struct {
	mu   sync.Mutex
	path string
}

func newRegistry(suffix string) (*registry, error) {
	if err := os.MkdirAll(registryDir, 0o755); err != nil {
		return nil, fmt.Errorf("lab registry: %w", err)
	}
	pid := os.Getpid()
	start, err := processStart(pid)
	if err != nil {
		return nil, fmt.Errorf("lab registry: %w", err)
	}
	r := &registry{path: filepath.Join(registryDir, suffix)}
	// Written aside and renamed, so that a sweeper never reads a file
	// without its owner line. Sweepers skip names starting with a dot.
	tmp := filepath.Join(registryDir, "."+suffix)
	line := fmt.Sprintf("owner %d %d\n", pid, start)
	if err := os.WriteFile(tmp, []byte(line), 0o644); err != nil {
		return nil, fmt.Errorf("lab registry: %w", err)
	}
	if err := os.Rename(tmp, r.path); err != nil {
		return nil, fmt.Errorf("lab registry: %w", err)
	}
	return r, nil
}

// add records a resource (kind "netns") before it is created.
func (r *registry) add(kind, value string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, err := os.OpenFile(r.path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("lab registry: %w", err)
	}
	_, werr := fmt.Fprintf(f, "%s %s\n", kind, value)
	if err := errors.Join(werr, f.Close()); err != nil {
		return fmt.Errorf("lab registry: %w", err)
	}
	return nil
}

func (r *registry) remove() error {
	if err := os.Remove(r.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("lab registry: %w", err)
	}
	return nil
}

var sweepOnce sync.Once

// sweepStaleOnce removes, once per test process, the labs of test
// processes that died without cleaning up.
func sweepStaleOnce(t testing.TB) {
	sweepOnce.Do(func() {
		swept, err := SweepStale()
		for _, s := range swept {
			t.Logf("netlab: removed the lab %s left behind by a dead test process", s)
		}
		if err != nil {
			t.Logf("netlab: sweeping stale labs: %v", err)
		}
	})
}

// SweepStale removes every lab whose owning process is gone: processes in
// its namespaces, the namespaces, and their /etc/netns directories. It
// returns the suffixes of the labs it removed. Labs of live processes are
// never touched, so it is safe while other tests run. New calls it once
// per test process.
func SweepStale() ([]string, error) {
	entries, err := os.ReadDir(registryDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", registryDir, err)
	}
	var swept []string
	var errs []error
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(registryDir, e.Name())
		rec, err := readRecord(path)
		if errors.Is(err, os.ErrNotExist) {
			continue // swept by another process meanwhile
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if rec.ownerAlive() {
			continue
		}
		if err := removeNamespaces(rec.namespaces); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
		swept = append(swept, e.Name())
	}
	return swept, errors.Join(errs...)
}

type record struct {
	pid        int
	start      uint64
	namespaces []string
}

func readRecord(path string) (record, error) {
	var rec record
	f, err := os.Open(path)
	if err != nil {
		return rec, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		kind, value, _ := strings.Cut(sc.Text(), " ")
		switch kind {
		case "owner":
			p, s, _ := strings.Cut(value, " ")
			rec.pid, _ = strconv.Atoi(p)
			rec.start, _ = strconv.ParseUint(s, 10, 64)
		case "netns":
			if strings.HasPrefix(value, "nd-") && !strings.ContainsAny(value, "/ ") {
				rec.namespaces = append(rec.namespaces, value)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return rec, fmt.Errorf("read %s: %w", path, err)
	}
	if rec.pid <= 0 {
		return rec, fmt.Errorf("%s names no owner", path)
	}
	return rec, nil
}

func (r record) ownerAlive() bool {
	start, err := processStart(r.pid)
	return err == nil && start == r.start
}
