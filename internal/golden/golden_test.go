package golden

import (
	"fmt"
	"go/build"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps the failure instead of failing.
type recorder struct {
	testing.TB
	msg   string
	fatal bool
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.msg, r.fatal = fmt.Sprintf(format, args...), true
	runtime.Goexit()
}

// check runs Check on its own goroutine, which Fatalf ends as it ends a
// test's.
func check(t *testing.T, path, got string) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Check(r, path, []byte(got))
	}()
	<-done
	return r
}

func TestCheck(t *testing.T) {
	if Update() {
		t.Skip("-update writes instead of comparing")
	}
	path := filepath.Join(t.TempDir(), "out.golden")
	if err := os.WriteFile(path, []byte("one\ntwo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		got, want string
	}{
		{"one\ntwo\n", ""},
		{"one\nTWO\n", `differs at line 2 (go test -update rewrites it):` + "\n" + ` got "TWO"` + "\n" + `want "two"`},
		{"one\ntwo\nthree\n", "differs at line 3"},
		{"one\n", "differs at line 2"},
		{"one\ntwo", "got 2 lines, want 3"},
	}
	for _, c := range cases {
		r := check(t, path, c.got)
		if c.want == "" && r.msg != "" || c.want != "" && (!strings.Contains(r.msg, c.want) || r.fatal) {
			t.Errorf("Check(%q): %q, want %q", c.got, r.msg, c.want)
		}
	}
	r := check(t, path+".missing", "x")
	if !r.fatal || !strings.Contains(r.msg, "go test -update writes it") {
		t.Errorf("missing golden file: %q", r.msg)
	}
}

// TestEveryPackageImportsGolden: `go test ./... -update` fails in any
// package whose test binary does not define -update, so every package
// with tests must import this one, on every GOOS netdiag is built for.
func TestEveryPackageImportsGolden(t *testing.T) {
	const self = "github.com/netdiag/netdiag/internal/golden"
	root := filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	here, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		switch {
		case d.IsDir() && path != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")):
			return filepath.SkipDir
		case !d.IsDir() && strings.HasSuffix(name, "_test.go"):
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, goos := range []string{"linux", "darwin", "windows"} {
		ctx := build.Default
		ctx.GOOS = goos
		tested := map[string]bool{} // directory -> a test file imports this package
		for _, path := range files {
			dir, name := filepath.Split(path)
			if ok, err := ctx.MatchFile(dir, name); err != nil || !ok {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			tested[dir] = tested[dir] || false
			for _, imp := range f.Imports {
				if p, _ := strconv.Unquote(imp.Path.Value); p == self {
					tested[dir] = true
				}
			}
		}
		if len(tested) < 2 {
			t.Fatalf("%s: found tests in %d directories only", goos, len(tested))
		}
		for dir, ok := range tested {
			if abs, _ := filepath.Abs(dir); !ok && abs != here {
				t.Errorf("%s: the tests in %s do not import %s: go test ./... -update fails there", goos, dir, self)
			}
		}
	}
}
