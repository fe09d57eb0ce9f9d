// Package golden compares test output with golden files under testdata,
// and defines the -update flag that rewrites them instead.
//
// A test binary accepts only the flags some package in it defines, so
// `go test ./... -update` stops with "flag provided but not defined" in
// every package whose tests do not link this one. Every package with
// tests therefore imports it, blankly where it keeps no golden files;
// TestEveryPackageImportsGolden keeps it so.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata with the output the tests produce")

// Update reports whether the tests run with -update.
func Update() bool { return *update }

// Check compares got with the golden file at path and fails t where they
// differ, naming the first differing line. With -update it writes got to
// path instead, creating the directories, and compares nothing.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := range min(len(gl), len(wl)) {
		if !bytes.Equal(gl[i], wl[i]) {
			t.Errorf("%s differs at line %d (go test -update rewrites it):\n got %q\nwant %q", path, i+1, gl[i], wl[i])
			return
		}
	}
	t.Errorf("%s: got %d lines, want %d (go test -update rewrites it)", path, len(gl), len(wl))
}
